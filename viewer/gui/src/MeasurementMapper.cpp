// Drawing calipers over the slice (see MeasurementMapper.h).
#include "MeasurementMapper.h"

#include "OverlayText.h"

#include <vtkActor2D.h>
#include <vtkCellArray.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper2D.h>
#include <vtkProperty2D.h>
#include <vtkRenderer.h>

#include <QColor>
#include <QString>

#include <algorithm>
#include <cmath>

namespace vg {

struct MeasurementMapper::Layer {
    vtkNew<vtkPoints> points;
    vtkNew<vtkCellArray> cells;
    vtkNew<vtkPolyData> poly;
    vtkNew<vtkPolyDataMapper2D> mapper;
    vtkNew<vtkActor2D> actor;
    Layer(double r, double g, double b) {
        poly->SetPoints(points);
        poly->SetLines(cells);
        mapper->SetInputData(poly);
        actor->SetMapper(mapper);
        actor->GetProperty()->SetColor(r, g, b);
    }
    void reset() {
        points->Reset();
        cells->Reset();
    }
    void segment(const std::array<double, 2>& a, const std::array<double, 2>& b) {
        const vtkIdType i = points->InsertNextPoint(a[0], a[1], 0);
        const vtkIdType j = points->InsertNextPoint(b[0], b[1], 0);
        const vtkIdType ids[2] = {i, j};
        cells->InsertNextCell(2, ids);
    }
    void modified() {
        points->Modified();
        cells->Modified();
        poly->Modified();
    }
};

MeasurementMapper::MeasurementMapper()
    : lines_(std::make_unique<Layer>(1.0, 0.85, 0.1)), selected_(std::make_unique<Layer>(0.3, 1.0, 0.4)),
      outline_(std::make_unique<Layer>(0.35, 0.75, 1.0)) {
    outline_->actor->GetProperty()->SetOpacity(0.55);
}

MeasurementMapper::~MeasurementMapper() = default;

void MeasurementMapper::attach(vtkRenderer* renderer, double dpr) {
    renderer_ = renderer;
    outline_->actor->GetProperty()->SetLineWidth(static_cast<float>(std::max(1.0, dpr)));
    renderer->AddViewProp(outline_->actor);
    for (Layer* l : {lines_.get(), selected_.get()}) {
        l->actor->GetProperty()->SetLineWidth(static_cast<float>(std::max(1.0, 1.5 * dpr)));
        renderer->AddViewProp(l->actor);
    }
}

void MeasurementMapper::place(const std::vector<const vc::Measurement*>& shown, int selectedId, const vc::Measurement* editing,
                              const Display& display, double dpr) {
    lines_->reset();
    selected_->reset();
    std::size_t label = 0;
    for (const vc::Measurement* m : shown) {
        const bool sel = m->id == selectedId || m == editing;
        Layer& layer = sel ? *selected_ : *lines_;
        if (m->kind == vc::Measurement::Kind::Point) {
            // an arrow pointing at the lesion from the upper left, its head at the point
            const auto tip = display(m->a);
            const double l = 22 * dpr, h = 7 * dpr;
            layer.segment({tip[0] - l, tip[1] + l}, tip);
            layer.segment({tip[0] - h, tip[1]}, tip);
            layer.segment({tip[0], tip[1] + h}, tip);
        } else {
            layer.segment(display(m->a), display(m->b));
        }
        if (m->kind == vc::Measurement::Kind::Bidimensional) layer.segment(display(m->c), display(m->d));
        if (sel && m->kind != vc::Measurement::Kind::Point) { // small squares on the ends that can be dragged
            const double h = 3.5 * dpr;
            std::vector<vc::Point3> ends{m->a, m->b};
            if (m->kind == vc::Measurement::Kind::Bidimensional) ends.insert(ends.end(), {m->c, m->d});
            for (const vc::Point3& e : ends) {
                const auto c = display(e);
                const double corners[5][2] = {{-h, -h}, {h, -h}, {h, h}, {-h, h}, {-h, -h}};
                for (int i = 0; i < 4; ++i)
                    layer.segment({c[0] + corners[i][0], c[1] + corners[i][1]}, {c[0] + corners[i + 1][0], c[1] + corners[i + 1][1]});
            }
        }
        if (label >= labels_.size()) {
            labels_.push_back(std::make_unique<OverlayText>());
            if (renderer_) renderer_->AddViewProp(labels_.back()->prop());
            labels_.back()->setStyle(QColor(255, 220, 40), static_cast<int>(std::lround(13 * dpr)), true);
        }
        OverlayText& t = *labels_[label++];
        const QString length = m->kind == vc::Measurement::Kind::Bidimensional
                                   ? QStringLiteral("%1 x %2 mm").arg(m->longMm(), 0, 'f', 1).arg(m->shortMm(), 0, 'f', 1)
                               : m->kind == vc::Measurement::Kind::Point ? QString()
                                                                         : QStringLiteral("%1 mm").arg(m->longMm(), 0, 'f', 1);
        const QString name =
            m->label.empty() && m->kind == vc::Measurement::Kind::Point ? QStringLiteral("?") : QString::fromStdString(m->label);
        t.setText(name.isEmpty() ? length : length.isEmpty() ? name : name + QStringLiteral("  ") + length);
        // the label beside the end further right, away from the lines
        const auto ea = display(m->a), eb = display(m->b);
        const auto at = ea[0] > eb[0] ? ea : eb;
        t.place(OverlayText::Left, static_cast<int>(at[0] + 10 * dpr), static_cast<int>(at[1]));
    }
    for (std::size_t i = label; i < labels_.size(); ++i) labels_[i]->setText({});
    lines_->modified();
    selected_->modified();
}

void MeasurementMapper::placeOutline(const std::vector<vc::Point3>& outline, const Display& display) {
    outline_->reset();
    for (std::size_t i = 0; i + 1 < outline.size(); ++i) outline_->segment(display(outline[i]), display(outline[i + 1]));
    if (outline.size() > 2) outline_->segment(display(outline.back()), display(outline.front()));
    outline_->modified();
}

} // namespace vg
