// The slice view's measurement layer: which calipers lie on the slice shown, their lines and
// length labels in display coordinates, and which end point (or body) a click grips.
#include "SliceViewImpl.h"

namespace vg {

bool SliceView::Impl::acquisition() const {
    return volume && std::abs(frame.strideK) == static_cast<std::ptrdiff_t>(volume->geometry.nx) * volume->geometry.ny;
}

vc::Point3 SliceView::Impl::patientAt(QPointF w) const {
    double u = 0, v = 0;
    self->pixelAt(w, u, v);
    return frame.patient(u, v, k);
}

std::array<double, 2> SliceView::Impl::display(const vc::Point3& p) const {
    const QPointF w = self->widgetPointOfPatient(p);
    return {w.x() * dpr(), deviceHeight() - w.y() * dpr()};
}

std::vector<const vc::Measurement*> SliceView::Impl::onSlice() const {
    std::vector<const vc::Measurement*> out;
    if (!acquisition()) return out;
    const int z = volumeSlice();
    for (const auto& m : measures.all())
        if (m.slice == z && (grip == Grip::None || m.id != editing.id)) out.push_back(&m);
    if (grip != Grip::None && editing.slice == z) out.push_back(&editing);
    return out;
}

void SliceView::Impl::placeMeasurements() {
    linePoints->Reset();
    lineCells->Reset();
    selPoints->Reset();
    selCells->Reset();
    std::size_t label = 0;
    for (const vc::Measurement* m : onSlice()) {
        const bool sel = m->id == selected || (grip != Grip::None && m == &editing);
        vtkPoints* pts = sel ? selPoints.Get() : linePoints.Get();
        vtkCellArray* cells = sel ? selCells.Get() : lineCells.Get();
        auto segment = [&](const vc::Point3& p, const vc::Point3& q) {
            const auto a = display(p), b = display(q);
            const vtkIdType i = pts->InsertNextPoint(a[0], a[1], 0);
            const vtkIdType j = pts->InsertNextPoint(b[0], b[1], 0);
            const vtkIdType ids[2] = {i, j};
            cells->InsertNextCell(2, ids);
        };
        segment(m->a, m->b);
        if (m->kind == vc::Measurement::Kind::Bidimensional) segment(m->c, m->d);
        if (sel) { // small squares on the ends that can be dragged
            const double h = 3.5 * dpr();
            std::vector<vc::Point3> ends{m->a, m->b};
            if (m->kind == vc::Measurement::Kind::Bidimensional) ends.insert(ends.end(), {m->c, m->d});
            for (const vc::Point3& e : ends) {
                const auto c = display(e);
                const double corners[5][2] = {{-h, -h}, {h, -h}, {h, h}, {-h, h}, {-h, -h}};
                for (int i = 0; i < 4; ++i) {
                    const vtkIdType p0 = pts->InsertNextPoint(c[0] + corners[i][0], c[1] + corners[i][1], 0);
                    const vtkIdType p1 = pts->InsertNextPoint(c[0] + corners[i + 1][0], c[1] + corners[i + 1][1], 0);
                    const vtkIdType ids[2] = {p0, p1};
                    cells->InsertNextCell(2, ids);
                }
            }
        }
        if (label >= lengthLabels.size()) {
            lengthLabels.push_back(std::make_unique<OverlayText>());
            renderer->AddViewProp(lengthLabels.back()->prop());
            lengthLabels.back()->setStyle(QColor(255, 220, 40), static_cast<int>(std::lround(13 * dpr())), true);
        }
        OverlayText& t = *lengthLabels[label++];
        const QString length = m->kind == vc::Measurement::Kind::Bidimensional
                                   ? QStringLiteral("%1 x %2 mm").arg(m->longMm(), 0, 'f', 1).arg(m->shortMm(), 0, 'f', 1)
                                   : QStringLiteral("%1 mm").arg(m->longMm(), 0, 'f', 1);
        t.setText(m->label.empty() ? length : QString::fromStdString(m->label) + QStringLiteral("  ") + length);
        // the label beside the end further right, away from the lines
        const auto ea = display(m->a), eb = display(m->b);
        const auto at = ea[0] > eb[0] ? ea : eb;
        t.place(OverlayText::Left, static_cast<int>(at[0] + 10 * dpr()), static_cast<int>(at[1]));
    }
    for (std::size_t i = label; i < lengthLabels.size(); ++i) lengthLabels[i]->setText({});
    for (vtkPoints* p : {linePoints.Get(), selPoints.Get()}) p->Modified();
    for (vtkCellArray* c : {lineCells.Get(), selCells.Get()}) c->Modified();
    lines->Modified();
    selLines->Modified();
}

std::pair<int, SliceView::Impl::Grip> SliceView::Impl::hit(QPointF w) const {
    const double pick = 8, line = 5;
    std::pair<int, Grip> best{0, Grip::None};
    double bestDistance = pick;
    for (const vc::Measurement* m : onSlice()) {
        const std::vector<std::pair<Grip, vc::Point3>> ends =
            m->kind == vc::Measurement::Kind::Bidimensional
                ? std::vector<std::pair<Grip, vc::Point3>>{{Grip::A, m->a}, {Grip::B, m->b}, {Grip::C, m->c}, {Grip::D, m->d}}
                : std::vector<std::pair<Grip, vc::Point3>>{{Grip::A, m->a}, {Grip::B, m->b}};
        for (const auto& [g, p] : ends) {
            const double dist = QLineF(self->widgetPointOfPatient(p), w).length();
            if (dist < bestDistance) bestDistance = dist, best = {m->id, g};
        }
    }
    if (best.second != Grip::None) return best;
    for (const vc::Measurement* m : onSlice()) {
        const QPointF p = self->widgetPointOfPatient(m->a), q = self->widgetPointOfPatient(m->b);
        const QPointF pq = q - p;
        const double len2 = QPointF::dotProduct(pq, pq);
        const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(w - p, pq) / len2, 0.0, 1.0) : 0;
        if (QLineF(p + t * pq, w).length() < line) return {m->id, Grip::Move};
    }
    return {0, Grip::None};
}

} // namespace vg
