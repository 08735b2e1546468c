#pragma once
#include <QFont>
#include <QFontMetrics>
#include <QImage>
#include <QPainter>
#include <QRect>
#include <QString>

#include <vtkActor2D.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkProperty2D.h>
#include <vtkRenderer.h>
#include <vtkTexture.h>
#include <vtkTexturedActor2D.h>
#include <vtkCellArray.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper2D.h>

#include <algorithm>
#include <cstring>

namespace vg {

/// A text overlay: QPainter draws the text into a small RGBA image, which VTK shows as a
/// textured screen-space quad. Redrawn only when the text changes. (vtkTextActor re-rendered
/// the slice line through VTK's text pipeline on every slice change: ~3 ms a frame on llvmpipe.)
class OverlayText {
public:
    enum Anchor { TopLeft, TopRight, BottomLeft, BottomRight, Left, Right, Top, Bottom };

    OverlayText() {
        texture_->SetInputData(image_);
        texture_->InterpolateOff();
        texture_->SetColorModeToDirectScalars();
        points_->SetNumberOfPoints(4);
        for (vtkIdType i = 0; i < 4; ++i) points_->SetPoint(i, 0, 0, 0);
        quad_->SetPoints(points_);
        vtkNew<vtkCellArray> cells;
        const vtkIdType corners[4] = {0, 1, 2, 3};
        cells->InsertNextCell(4, corners);
        quad_->SetPolys(cells);
        vtkNew<vtkFloatArray> tcoords;
        tcoords->SetNumberOfComponents(2);
        const float tc[4][2] = {{0, 1}, {1, 1}, {1, 0}, {0, 0}}; // image row 0 at the top
        for (const auto& t : tc) tcoords->InsertNextTuple(t);
        quad_->GetPointData()->SetTCoords(tcoords);
        mapper_->SetInputData(quad_);
        actor_->SetMapper(mapper_);
        actor_->SetTexture(texture_);
        actor_->VisibilityOff();
    }
    vtkProp* prop() { return actor_; }
    const QString& text() const { return text_; }

    void setStyle(QColor colour, int pixelSize, bool bold) {
        if (colour == colour_ && pixelSize == pixelSize_ && bold == bold_) return;
        colour_ = colour, pixelSize_ = pixelSize, bold_ = bold;
        redraw();
    }
    void setText(const QString& text) {
        if (text == text_) return;
        text_ = text;
        redraw();
    }
    /// Where the text is drawn (display pixels, origin bottom left); empty when there is no text.
    QRect rect() const {
        if (text_.isEmpty()) return {};
        const auto* p = points_->GetPoint(0);
        return QRect(static_cast<int>(p[0]), static_cast<int>(p[1]), w_, h_);
    }
    /// Where the anchor point is, in display pixels (origin bottom left).
    void place(Anchor anchor, int x, int y) {
        anchor_ = anchor, x_ = x, y_ = y;
        updateQuad();
    }

private:
    void redraw() {
        if (text_.isEmpty()) {
            actor_->VisibilityOff();
            return;
        }
        QFont font(QStringLiteral("DejaVu Sans"));
        font.setPixelSize(pixelSize_);
        font.setBold(bold_);
        const QFontMetrics fm(font);
        const QStringList lines = text_.split('\n');
        int width = 1;
        for (const QString& l : lines) width = std::max(width, fm.horizontalAdvance(l));
        const int lineHeight = fm.height();
        const bool right = anchor_ == TopRight || anchor_ == BottomRight || anchor_ == Right;
        QImage img(width + 2, lineHeight * static_cast<int>(lines.size()) + 2, QImage::Format_RGBA8888);
        img.fill(Qt::transparent);
        {
            QPainter p(&img);
            p.setFont(font);
            p.setRenderHint(QPainter::TextAntialiasing);
            for (int pass = 0; pass < 2; ++pass) { // a dark shadow first: readable on any grey
                p.setPen(pass == 0 ? QColor(0, 0, 0, 220) : colour_);
                for (int i = 0; i < lines.size(); ++i) {
                    const int x = right ? width - fm.horizontalAdvance(lines[i]) : 0;
                    p.drawText(x + (pass == 0 ? 1 : 0), i * lineHeight + fm.ascent() + (pass == 0 ? 1 : 0), lines[i]);
                }
            }
        }
        // QImage's RGBA8888 is premultiplied only in its _Premultiplied format: this one is straight
        // alpha, as VTK's blending (SRC_ALPHA, ONE_MINUS_SRC_ALPHA) expects
        image_->SetDimensions(img.width(), img.height(), 1);
        image_->AllocateScalars(VTK_UNSIGNED_CHAR, 4);
        auto* dst = static_cast<unsigned char*>(image_->GetScalarPointer());
        for (int y = 0; y < img.height(); ++y)
            std::memcpy(dst + static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width()) * 4, img.constScanLine(y),
                        static_cast<std::size_t>(img.width()) * 4);
        image_->Modified();
        w_ = img.width(), h_ = img.height();
        actor_->VisibilityOn();
        updateQuad();
    }
    void updateQuad() {
        double left = x_, bottom = y_;
        switch (anchor_) {
        case TopLeft: bottom = y_ - h_; break;
        case TopRight: left = x_ - w_, bottom = y_ - h_; break;
        case BottomLeft: break;
        case BottomRight: left = x_ - w_; break;
        case Left: bottom = y_ - h_ / 2.0; break;
        case Right: left = x_ - w_, bottom = y_ - h_ / 2.0; break;
        case Top: left = x_ - w_ / 2.0, bottom = y_ - h_; break;
        case Bottom: left = x_ - w_ / 2.0; break;
        }
        left = std::round(left), bottom = std::round(bottom); // texels on pixels: crisp text
        points_->SetPoint(0, left, bottom, 0);
        points_->SetPoint(1, left + w_, bottom, 0);
        points_->SetPoint(2, left + w_, bottom + h_, 0);
        points_->SetPoint(3, left, bottom + h_, 0);
        points_->Modified();
    }

    vtkNew<vtkImageData> image_;
    vtkNew<vtkTexture> texture_;
    vtkNew<vtkPoints> points_;
    vtkNew<vtkPolyData> quad_;
    vtkNew<vtkPolyDataMapper2D> mapper_;
    vtkNew<vtkTexturedActor2D> actor_;
    QString text_;
    QColor colour_{Qt::white};
    int pixelSize_ = 14;
    bool bold_ = false;
    Anchor anchor_ = TopLeft;
    int x_ = 0, y_ = 0, w_ = 0, h_ = 0;
};

} // namespace vg
