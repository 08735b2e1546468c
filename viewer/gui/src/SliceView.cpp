#include "viewergui/SliceView.h"

#include <QGuiApplication>
#include <QKeyEvent>
#include <QLineF>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QOpenGLFunctions>
#include <QOpenGLWindow>
#include <QOpenGLShaderProgram>
#include <QPainter>
#include <QFontMetrics>
#include <QVBoxLayout>
#include <QSurfaceFormat>
#include <QTimer>
#include <QWheelEvent>

#include <vtkActor2D.h>
#include <vtkCallbackCommand.h>
#include <vtkProperty2D.h>
#include <vtkCamera.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkCellArray.h>
#include <vtkFloatArray.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper2D.h>
#include <vtkTexture.h>
#include <vtkTexturedActor2D.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkOpenGLFramebufferObject.h>
#include <vtkOpenGLState.h>
#include <vtkRenderer.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>

namespace vg {

void prepareOpenGL() {
    QSurfaceFormat f;
    f.setRenderableType(QSurfaceFormat::OpenGL);
    f.setVersion(3, 2);
    f.setProfile(QSurfaceFormat::CoreProfile);
    f.setDepthBufferSize(24);
    f.setStencilBufferSize(8);
    f.setSamples(0);
    f.setSwapInterval(0); // a slice change is drawn at once, not at the next vertical retrace
    QSurfaceFormat::setDefaultFormat(f);
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
}

namespace {

enum class Drag { None, WindowLevel, Zoom, Pan };

QString mm(double v, int decimals = 1) { return QString::number(v, 'f', decimals); }

} // namespace

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
            std::memcpy(dst + static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width()) * 4, img.constScanLine(y), static_cast<std::size_t>(img.width()) * 4);
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

/// The native OpenGL window the view draws into. It never takes the keyboard focus (the
/// SliceView widget does, so the workstation's shortcuts work as for any widget) and hands
/// its mouse and wheel events to the SliceView.
class GlWindow : public QOpenGLWindow {
public:
    explicit GlWindow(SliceView* owner) : QOpenGLWindow(QOpenGLWindow::NoPartialUpdate), owner_(owner) {
        setFlag(Qt::WindowDoesNotAcceptFocus);
    }

protected:
    void initializeGL() override { owner_->initializeGL(); }
    void resizeGL(int, int) override { owner_->resizeGL(); }
    void paintGL() override { owner_->paintGL(); }
    bool event(QEvent* e) override {
        switch (e->type()) {
        case QEvent::MouseButtonPress:
        case QEvent::MouseButtonRelease:
        case QEvent::MouseButtonDblClick:
        case QEvent::MouseMove:
        case QEvent::Wheel:
        case QEvent::Leave:
            QCoreApplication::sendEvent(owner_, e);
            return true;
        default: return QOpenGLWindow::event(e);
        }
    }

private:
    SliceView* owner_;
};

struct SliceView::Impl {
    SliceView* self;
    GlWindow* gl = nullptr;
    bool renderPending = false;
    vtkNew<vtkGenericOpenGLRenderWindow> window;
    vtkNew<vtkRenderer> renderer;
    // The slice is drawn by us, straight into VTK's framebuffer before VTK renders the rest
    // (text, later measurements) over it with its colour and depth buffers preserved: one
    // clear, one textured quad without blending or depth test. VTK's own image actors cost
    // 15-20 ms (vtkImageActor) or ~6 ms plus a second clear (2D textured actor) per
    // 1024x1024 frame on a software rasteriser.
    std::vector<std::uint8_t> pixels; ///< the windowed slice, row 0 at the top
    bool pixelsDirty = true;
    bool frameComplete = false; ///< the last frame had the slice in it (not a framebuffer's first)
    QOpenGLShaderProgram* program = nullptr;
    GLuint texture = 0, vao = 0;
    int textureWidth = 0, textureHeight = 0;
    std::array<float, 4> quadNdc{}; ///< left, bottom, right, top in normalised device coordinates
    OverlayText caption, info, values, cursor;
    std::array<OverlayText, 4> labels; // left, right, top, bottom

    // measurements: lines in display coordinates over the image, a length label each
    vc::MeasurementSet measures;
    bool editable = true;
    SliceView::Tool tool = SliceView::Tool::None;
    std::string seriesUid;
    std::vector<std::string> sopBySlice;
    int selected = 0;
    enum class Grip { None, New, A, B, C, D, Move };
    Grip grip = Grip::None;
    vc::Measurement editing; ///< the measurement being drawn or edited
    vc::Point3 gripStart{};
    vtkNew<vtkPoints> linePoints;
    vtkNew<vtkCellArray> lineCells;
    vtkNew<vtkPolyData> lines;
    vtkNew<vtkPolyDataMapper2D> lineMapper;
    vtkNew<vtkActor2D> lineActor;
    vtkNew<vtkPoints> selPoints;
    vtkNew<vtkCellArray> selCells;
    vtkNew<vtkPolyData> selLines;
    vtkNew<vtkPolyDataMapper2D> selMapper;
    vtkNew<vtkActor2D> selActor;
    std::vector<std::unique_ptr<OverlayText>> lengthLabels;
    vtkNew<vtkCallbackCommand> glCallback;
    bool glReady = false;

    std::shared_ptr<const vc::Volume> volume;
    bool complete = false;
    int readyZ = -1;     ///< while loading: the one slice (index along the normal) already in
    int readySlice = -1; ///< the same slice in this plane, or -1 (a reformat needs them all)
    QString captionText;
    double thickness = 0;
    vc::Plane plane = vc::Plane::Axial;
    vc::SliceFrame frame;
    int k = 0;
    vc::GreyTable grey;
    vc::WindowLevel wl{400, 40};
    bool imageDirty = true;

    // view: focal point in image mm, half the viewport height in mm
    double focalX = 0, focalY = 0, scale = 1, fitScale = 1;
    bool fitted = false;

    Drag drag = Drag::None;
    QPointF dragStart;
    vc::WindowLevel dragWl;
    double dragScale = 1, dragFocalX = 0, dragFocalY = 0;
    QString cursorText;
    QString unit = QStringLiteral("HU");

    explicit Impl(SliceView* s) : self(s) {}

    double dpr() const { return gl->devicePixelRatio(); }
    // the size of the surface VTK draws into (the native window, which the layout keeps at the
    // widget's size)
    int deviceWidth() const { return std::max(1, static_cast<int>(std::lround(gl->width() * dpr()))); }
    int deviceHeight() const { return std::max(1, static_cast<int>(std::lround(gl->height() * dpr()))); }
    int laidOutWidth = 0, laidOutHeight = 0;
    double pixelsPerMm() const { return deviceHeight() / 2.0 / scale; }
    /// A new scale that keeps the image point under widget point p where it is (zoom about the
    /// cursor), starting from the given scale and focal point.
    void zoomAbout(QPointF p, double fromScale, double fromFocalX, double fromFocalY, double toScale) {
        const double ox = p.x() * dpr() - deviceWidth() / 2.0, oy = p.y() * dpr() - deviceHeight() / 2.0;
        const double fromPpm = deviceHeight() / 2.0 / fromScale, toPpm = deviceHeight() / 2.0 / toScale;
        const double mx = ox / fromPpm + fromFocalX, my = oy / fromPpm + fromFocalY;
        scale = toScale;
        focalX = mx - ox / toPpm;
        focalY = my - oy / toPpm;
    }

    void setupScene() {
        window->SetMultiSamples(0);
        window->AddRenderer(renderer);
        renderer->SetBackground(0, 0, 0);
        renderer->SetBackgroundAlpha(1);
        vtkCamera* cam = renderer->GetActiveCamera();
        cam->ParallelProjectionOn();
        for (OverlayText* t : {&caption, &info, &values, &cursor, &labels[0], &labels[1], &labels[2], &labels[3]}) renderer->AddViewProp(t->prop());
        for (auto [pts, cells, poly, mapper, actor, r, g, b] :
             {std::tuple{linePoints.Get(), lineCells.Get(), lines.Get(), lineMapper.Get(), lineActor.Get(), 1.0, 0.85, 0.1},
              std::tuple{selPoints.Get(), selCells.Get(), selLines.Get(), selMapper.Get(), selActor.Get(), 0.3, 1.0, 0.4}}) {
            poly->SetPoints(pts);
            poly->SetLines(cells);
            mapper->SetInputData(poly);
            actor->SetMapper(mapper);
            actor->GetProperty()->SetColor(r, g, b);
            actor->GetProperty()->SetLineWidth(static_cast<float>(std::max(1.0, 1.5 * dpr())));
            renderer->AddViewProp(actor);
        }
        layoutText();
    }

    void layoutText() {
        const int w = deviceWidth(), h = deviceHeight(), m = static_cast<int>(8 * dpr());
        laidOutWidth = w, laidOutHeight = h;
        const int size = static_cast<int>(std::lround(14 * dpr())), big = static_cast<int>(std::lround(18 * dpr()));
        const QColor text(242, 230, 140), label(140, 217, 255);
        caption.setStyle(text, size + 2, true);
        for (OverlayText* t : {&info, &values, &cursor}) t->setStyle(text, size, false);
        for (auto& l : labels) l.setStyle(label, big, true);
        caption.place(OverlayText::TopLeft, m, h - m);
        info.place(OverlayText::BottomLeft, m, m);
        values.place(OverlayText::BottomRight, w - m, m);
        cursor.place(OverlayText::TopRight, w - m, h - m);
        labels[0].place(OverlayText::Left, m, h / 2);
        labels[1].place(OverlayText::Right, w - m, h / 2);
        labels[2].place(OverlayText::Top, w / 2, h - m - static_cast<int>(22 * dpr()));
        labels[3].place(OverlayText::Bottom, w / 2, m + static_cast<int>(22 * dpr()));
    }

    bool canShow(int slice) const { return volume && (complete || slice == readySlice); }

    void rebuildFrame() {
        if (!volume) return;
        frame = vc::sliceFrame(volume->geometry, plane);
        pixels.assign(static_cast<std::size_t>(frame.width) * static_cast<std::size_t>(frame.height), 0);
        const auto l = vc::edgeLabels(frame);
        for (std::size_t i = 0; i < 4; ++i) labels[i].setText(QString::fromStdString(l[i]));
        readySlice = -1;
        const std::ptrdiff_t sliceStride = static_cast<std::ptrdiff_t>(volume->geometry.nx) * volume->geometry.ny;
        if (!complete && readyZ >= 0 && std::abs(frame.strideK) == sliceStride) // this plane steps through the acquired slices
            readySlice = frame.strideK > 0 ? readyZ : frame.count - 1 - readyZ;
        fitted = false;
        imageDirty = true;
    }

    void updateImage() {
        if (!volume || !imageDirty) return;
        imageDirty = false;
        if (!canShow(k)) return;
        grey.set(wl);
        vc::renderSlice(*volume, frame, k, grey, pixels.data());
        pixelsDirty = true;
    }

    void updateText() {
        if (!volume) {
            for (OverlayText* t : {&caption, &info, &values, &cursor}) t->setText({});
            for (auto& l : labels) l.setText({});
            return;
        }
        caption.setText(captionText);
        const char axis = "XYZ"[frame.axisK];
        QString s = QStringLiteral("%1  %2/%3  %4 %5 mm").arg(QString::fromLatin1(vc::planeName(plane))).arg(k + 1).arg(frame.count).arg(QChar::fromLatin1(axis)).arg(mm(frame.position(k)));
        // short enough not to run into the window/zoom corner: the spacing only when it differs
        QString t;
        if (plane == vc::Plane::Axial && thickness > 0) {
            t = std::abs(thickness - frame.dk) < 0.01 ? QStringLiteral("%1 mm slices").arg(mm(thickness))
                                                      : QStringLiteral("%1 mm slices, %2 apart").arg(mm(thickness), mm(frame.dk, 2));
        } else {
            t = QStringLiteral("reformat, %1 mm apart").arg(mm(frame.dk, 2));
        }
        if (!complete) t += QStringLiteral("  (loading)");
        info.setText(s + "\n" + t);
        values.setText(QStringLiteral("W %1  L %2\nZoom %3x").arg(std::lround(wl.window)).arg(std::lround(wl.level)).arg(mm(zoomFactor(), 2)));
        cursor.setText(cursorText);
    }

    double zoomFactor() const { return fitScale / scale; }

    /// The slice's corners (the outer edges of its pixels) in normalised device coordinates.
    void placeQuad() {
        const double ppm = pixelsPerMm(), W = deviceWidth(), H = deviceHeight();
        auto x = [&](double u) { return W / 2.0 + (u * frame.du - focalX) * ppm; };
        auto y = [&](double v) { return H - (H / 2.0 + (v * frame.dv - focalY) * ppm); };
        const double left = x(-0.5), right = x(frame.width - 0.5), top = y(-0.5), bottom = y(frame.height - 0.5);
        quadNdc = {static_cast<float>(left / W * 2 - 1), static_cast<float>(bottom / H * 2 - 1), static_cast<float>(right / W * 2 - 1),
                   static_cast<float>(top / H * 2 - 1)};
    }

    void applyCamera() {
        placeQuad();
        vtkCamera* cam = renderer->GetActiveCamera();
        cam->SetFocalPoint(focalX, focalY, 0);
        cam->SetPosition(focalX, focalY, -1000);
        cam->SetViewUp(0, -1, 0);
        cam->SetParallelScale(scale);
        renderer->ResetCameraClippingRange(); // image at z = 0, camera 1000 mm away
        cam->SetClippingRange(1, 2000);
    }

    void doFit() {
        if (!volume) return;
        const double wMm = frame.width * frame.du, hMm = frame.height * frame.dv;
        const double aspect = static_cast<double>(deviceWidth()) / deviceHeight();
        fitScale = std::max(hMm / 2.0, wMm / 2.0 / aspect) * 1.02;
        scale = fitScale;
        focalX = (frame.width - 1) / 2.0 * frame.du;
        focalY = (frame.height - 1) / 2.0 * frame.dv;
        fitted = true;
    }

    /// Clears VTK's framebuffer and draws the slice into it (raw OpenGL, before VTK renders:
    /// VTK re-reads the GL state when it starts a frame in a context it does not own).
    void drawSlice(GLuint framebuffer, bool showImage) {
        QOpenGLExtraFunctions* f = gl->context()->extraFunctions();
        if (!program) {
            program = new QOpenGLShaderProgram;
            program->addShaderFromSourceCode(QOpenGLShader::Vertex,
                                             "#version 150\n"
                                             "uniform vec4 rect; out vec2 uv;\n"
                                             "void main() {\n"
                                             "  vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1);\n"
                                             "  uv = vec2(corner.x, 1.0 - corner.y);\n" // texture row 0 (the top) at the quad's top
                                             "  gl_Position = vec4(mix(rect.xy, rect.zw, corner), 0.0, 1.0);\n"
                                             "}\n");
            program->addShaderFromSourceCode(QOpenGLShader::Fragment,
                                             "#version 150\n"
                                             "uniform sampler2D slice; in vec2 uv; out vec4 colour;\n"
                                             "void main() { float g = texture(slice, uv).r; colour = vec4(g, g, g, 1.0); }\n");
            program->link();
            f->glGenVertexArrays(1, &vao);
            f->glGenTextures(1, &texture);
        }
        f->glBindFramebuffer(GL_FRAMEBUFFER, framebuffer);
        f->glViewport(0, 0, deviceWidth(), deviceHeight());
        f->glDisable(GL_SCISSOR_TEST);
        f->glDisable(GL_BLEND);
        f->glDisable(GL_DEPTH_TEST);
        f->glDepthMask(GL_TRUE);
        f->glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
        f->glClearColor(0, 0, 0, 1);
        f->glClearDepthf(1);
        f->glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
        if (showImage) {
            f->glActiveTexture(GL_TEXTURE0);
            f->glBindTexture(GL_TEXTURE_2D, texture);
            f->glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
            f->glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
            if (textureWidth != frame.width || textureHeight != frame.height) {
                f->glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, frame.width, frame.height, 0, GL_RED, GL_UNSIGNED_BYTE, pixels.data());
                f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
                f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
                f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
                f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
                textureWidth = frame.width, textureHeight = frame.height;
            } else if (pixelsDirty) {
                f->glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, frame.width, frame.height, GL_RED, GL_UNSIGNED_BYTE, pixels.data());
            }
            pixelsDirty = false;
            program->bind();
            program->setUniformValue("rect", quadNdc[0], quadNdc[1], quadNdc[2], quadNdc[3]);
            program->setUniformValue("slice", 0);
            f->glBindVertexArray(vao);
            f->glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
            f->glBindVertexArray(0);
            program->release();
            f->glBindTexture(GL_TEXTURE_2D, 0);
        }
        f->glEnable(GL_DEPTH_TEST);
        f->glBindFramebuffer(GL_FRAMEBUFFER, gl->defaultFramebufferObject());
    }

    void releaseGl() {
        if (!program) return;
        QOpenGLExtraFunctions* f = gl->context()->extraFunctions();
        f->glDeleteVertexArrays(1, &vao);
        f->glDeleteTextures(1, &texture);
        delete program;
        program = nullptr;
    }

    bool acquisition() const {
        return volume && std::abs(frame.strideK) == static_cast<std::ptrdiff_t>(volume->geometry.nx) * volume->geometry.ny;
    }
    int volumeSlice() const { return frame.strideK > 0 ? k : frame.count - 1 - k; } ///< index along the normal
    vc::Point3 patientAt(QPointF w) const {
        double u = 0, v = 0;
        self->pixelAt(w, u, v);
        return frame.patient(u, v, k);
    }
    /// display pixels (origin bottom left) of a patient point on the current slice
    std::array<double, 2> display(const vc::Point3& p) const {
        const QPointF w = self->widgetPointOfPatient(p);
        return {w.x() * dpr(), deviceHeight() - w.y() * dpr()};
    }
    std::vector<const vc::Measurement*> onSlice() const {
        std::vector<const vc::Measurement*> out;
        if (!acquisition()) return out;
        const int z = volumeSlice();
        for (const auto& m : measures.all())
            if (m.slice == z && (grip == Grip::None || m.id != editing.id)) out.push_back(&m);
        if (grip != Grip::None && editing.slice == z) out.push_back(&editing);
        return out;
    }
    /// Rebuilds the measurement lines and labels for this frame (cheap: a few points).
    void placeMeasurements() {
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
    /// What a press at w grabs: an end point within 8 px, else a line within 5 px.
    std::pair<int, Grip> hit(QPointF w) const {
        const double pick = 8, line = 5;
        std::pair<int, Grip> best{0, Grip::None};
        double bestDistance = pick;
        for (const vc::Measurement* m : onSlice()) {
            const std::vector<std::pair<Grip, vc::Point3>> ends = m->kind == vc::Measurement::Kind::Bidimensional
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

    void updateCursor(QPointF p) {
        double u, v;
        std::int16_t hu;
        if (volume && canShow(k) && self->pixelAt(p, u, v) &&
            vc::valueAt(*volume, frame, k, static_cast<int>(std::lround(u)), static_cast<int>(std::lround(v)), hu)) {
            const auto pt = frame.patient(std::lround(u), std::lround(v), k);
            cursorText = QStringLiteral("%1%2\n(%3, %4, %5) mm").arg(hu).arg(unit.isEmpty() ? QString() : " " + unit).arg(mm(pt[0])).arg(mm(pt[1])).arg(mm(pt[2]));
        } else {
            cursorText.clear();
        }
    }
};

SliceView::SliceView(QWidget* parent) : QWidget(parent), d(std::make_unique<Impl>(this)) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true); // the HU under the cursor, without a button held
    setMinimumSize(200, 200);
    d->gl = new GlWindow(this);
    QWidget* container = QWidget::createWindowContainer(d->gl, this);
    container->setFocusPolicy(Qt::NoFocus);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(container);
    d->setupScene();
    // VTK asks whether its context is current and to make it current; the answer is Qt's
    d->glCallback->SetClientData(this);
    d->glCallback->SetCallback([](vtkObject*, unsigned long event, void* client, void* callData) {
        auto* view = static_cast<SliceView*>(client);
        if (event == vtkCommand::WindowMakeCurrentEvent) {
            // VTK asks many times per frame; making a window's context current again costs a
            // round trip to the X server (and Mesa's software rasteriser re-reads the drawable)
            if (QOpenGLContext::currentContext() != view->d->gl->context()) view->d->gl->makeCurrent();
        } else if (event == vtkCommand::WindowIsCurrentEvent) {
            *static_cast<bool*>(callData) = QOpenGLContext::currentContext() && QOpenGLContext::currentContext() == view->d->gl->context();
        }
    });
    d->window->AddObserver(vtkCommand::WindowMakeCurrentEvent, d->glCallback);
    d->window->AddObserver(vtkCommand::WindowIsCurrentEvent, d->glCallback);
}

SliceView::~SliceView() {
    if (d->gl->isValid()) {
        d->gl->makeCurrent();
        d->releaseGl();
        d->window->Finalize();
        d->gl->doneCurrent();
    }
}

void SliceView::requestRender() {
    // coalesced: however many changes arrive before the event loop runs, one frame is drawn
    if (d->renderPending) return;
    d->renderPending = true;
    QTimer::singleShot(0, this, [this] {
        if (d->renderPending) renderNow();
    });
}

QWindow* SliceView::surface() const { return d->gl; }

void SliceView::finish() {
    if (!d->glReady) return;
    d->gl->makeCurrent();
    d->gl->context()->functions()->glFinish();
}

QString SliceView::renderer() {
    if (!d->glReady) return {};
    d->gl->makeCurrent();
    return QString::fromLatin1(reinterpret_cast<const char*>(d->gl->context()->functions()->glGetString(GL_RENDERER)));
}

void SliceView::renderNow() {
    d->renderPending = false;
    if (!d->gl->isExposed()) return;
    if (!d->glReady) {
        d->gl->update();
        return;
    }
    d->gl->makeCurrent();
    paintGL();
    d->gl->context()->swapBuffers(d->gl);
}

QImage SliceView::grabFrame() {
    if (!d->glReady || !d->gl->isExposed()) return {};
    d->gl->makeCurrent();
    paintGL();
    if (!d->frameComplete) paintGL();
    const int w = d->deviceWidth(), h = d->deviceHeight();
    QImage img(w, h, QImage::Format_RGBA8888);
    auto* f = d->gl->context()->functions();
    f->glBindFramebuffer(GL_FRAMEBUFFER, d->gl->defaultFramebufferObject());
    f->glPixelStorei(GL_PACK_ALIGNMENT, 4);
    f->glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, img.bits());
    d->gl->context()->swapBuffers(d->gl);
    return img.mirrored().convertToFormat(QImage::Format_RGB32);
}

void SliceView::setMultiSamples(int samples) {
    d->window->SetMultiSamples(samples);
    requestRender();
}

void SliceView::initializeGL() {
    d->window->SetOwnContext(0); // Qt's context: VTK re-reads the GL state each frame
    d->window->SetFrameBlitModeToNoBlit();
    d->window->SwapBuffersOff();
    d->window->SetReadyForRendering(false);
    d->window->SetMapped(1);
    d->window->SetSize(d->deviceWidth(), d->deviceHeight());
    d->window->OpenGLInitContext();
    d->glReady = true;
}

void SliceView::resizeGL() {
    d->window->SetSize(d->deviceWidth(), d->deviceHeight());
    d->layoutText();
    if (d->volume) {
        const double zoom = d->zoomFactor();
        const double fx = d->focalX, fy = d->focalY;
        const bool wasFitted = d->fitted;
        d->doFit();
        if (wasFitted) { // keep the user's zoom and pan
            d->scale = d->fitScale / zoom;
            d->focalX = fx, d->focalY = fy;
        }
    }
}

void SliceView::paintGL() {
    // RELUTH_VIEWER_TIMING=1 prints where a frame's time goes (with glFinish between the parts)
    static const bool timing = std::getenv("RELUTH_VIEWER_TIMING") != nullptr;
    auto now = [] { return std::chrono::steady_clock::now(); };
    const auto t0 = now();
    if (!d->glReady) return;
    if (d->deviceWidth() != d->laidOutWidth || d->deviceHeight() != d->laidOutHeight) resizeGL(); // in case no resize event came
    if (d->volume && !d->fitted) d->doFit();
    d->updateImage();
    const auto t1 = now();
    d->updateText();
    d->applyCamera();
    d->placeMeasurements();
    const auto t2 = now();
    // the slice goes into VTK's framebuffer first; on the first frame, or after a resize, that
    // framebuffer is (re)made by VTK's Render: VTK clears it, draws the text, and we go again
    vtkOpenGLFramebufferObject* fbo = d->window->GetRenderFramebuffer();
    const int* fbSize = fbo ? fbo->GetLastSize() : nullptr;
    const bool ours = fbo && fbSize[0] == d->deviceWidth() && fbSize[1] == d->deviceHeight();
    if (ours) d->drawSlice(fbo->GetFBOIndex(), d->canShow(d->k));
    d->renderer->SetPreserveColorBuffer(ours);
    d->renderer->SetPreserveDepthBuffer(ours);
    vtkOpenGLState* state = d->window->GetState();
    state->Reset();
    state->Push();
    d->window->SetReadyForRendering(true);
    d->window->Render();
    d->window->SetReadyForRendering(false);
    state->Pop();
    if (timing) glFinish();
    const auto t3 = now();
    // VTK renders into its own framebuffer: copy it into the one Qt composes the widget from
    const int w = d->deviceWidth(), h = d->deviceHeight();
    // straight from the framebuffer VTK rendered into (SwapBuffers off: VTK does not first copy
    // it into its display framebuffer - one full-viewport pass less per frame)
    state->PushFramebufferBindings();
    state->vtkglBindFramebuffer(GL_READ_FRAMEBUFFER, d->window->GetRenderFramebuffer()->GetFBOIndex());
    state->vtkglBindFramebuffer(GL_DRAW_FRAMEBUFFER, d->gl->defaultFramebufferObject());
    state->vtkglViewport(0, 0, w, h);
    state->vtkglScissor(0, 0, w, h);
    d->gl->context()->extraFunctions()->glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
    state->PopFramebufferBindings();
    d->frameComplete = ours;
    if (!ours) requestRender(); // the slice was not drawn into the new framebuffer: once more
    if (timing) {
        glFinish();
        const auto t4 = now();
        auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
        std::fprintf(stderr, "paintGL: image %.2f text %.2f render %.2f blit %.2f ms\n", ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4));
    }
}

void SliceView::setVolume(std::shared_ptr<const vc::Volume> volume, const QString& caption, double sliceThickness, int readySlice) {
    if (volume != d->volume) { // another series: its measurements are not these
        d->measures = vc::MeasurementSet();
        d->selected = 0;
        d->grip = Impl::Grip::None;
    }
    d->volume = std::move(volume);
    d->complete = readySlice < 0;
    d->readyZ = readySlice;
    d->captionText = caption;
    d->thickness = sliceThickness;
    d->rebuildFrame();
    if (d->volume) d->k = d->readySlice >= 0 ? d->readySlice : d->frame.count / 2;
    d->imageDirty = true;
    requestRender();
    if (d->volume) emit sliceChanged(d->k, d->frame.position(d->k));
}

void SliceView::volumeComplete() {
    d->complete = true;
    d->imageDirty = true;
    requestRender();
}

void SliceView::clearVolume() {
    d->volume.reset();
    d->complete = false;
    d->measures = vc::MeasurementSet(); // no image, no calipers: nothing of a read outlives its images
    d->selected = 0;
    d->grip = Impl::Grip::None;
    d->cursorText.clear();
    requestRender();
}

bool SliceView::hasVolume() const { return d->volume != nullptr; }
bool SliceView::complete() const { return d->volume && d->complete; }

void SliceView::setPlane(vc::Plane plane) {
    if (plane == d->plane) return;
    d->plane = plane;
    if (d->volume) {
        d->rebuildFrame();
        // a new plane starts in the middle of the volume (the old position is along another axis)
        d->k = d->readySlice >= 0 ? d->readySlice : d->frame.count / 2;
        d->imageDirty = true;
        emit sliceChanged(d->k, d->frame.position(d->k));
    }
    emit planeChanged(plane);
    requestRender();
}

vc::Plane SliceView::plane() const { return d->plane; }
const vc::SliceFrame& SliceView::frame() const { return d->frame; }

void SliceView::setSlice(int k) {
    if (!d->volume || !d->complete) return;
    k = std::clamp(k, 0, d->frame.count - 1);
    if (k == d->k) return;
    d->k = k;
    d->imageDirty = true;
    d->cursorText.clear();
    requestRender();
    emit sliceChanged(k, d->frame.position(k));
}

int SliceView::slice() const { return d->k; }
int SliceView::sliceCount() const { return d->volume ? d->frame.count : 0; }
double SliceView::slicePosition() const { return d->volume ? d->frame.position(d->k) : 0; }
void SliceView::setSlicePosition(double mm) {
    if (d->volume) setSlice(d->frame.nearest(mm));
}

void SliceView::setWindowLevel(vc::WindowLevel wl) {
    wl.window = std::clamp(wl.window, 1.0, 8000.0);
    wl.level = std::clamp(wl.level, -2000.0, 4000.0);
    if (wl.window == d->wl.window && wl.level == d->wl.level) return;
    d->wl = wl;
    d->imageDirty = true;
    requestRender();
    emit windowLevelChanged(wl);
}

vc::WindowLevel SliceView::windowLevel() const { return d->wl; }

void SliceView::setValueUnit(const QString& unit) { d->unit = unit; }

void SliceView::fit() {
    d->doFit();
    requestRender();
    emit viewChanged();
}

void SliceView::zoomBy(double factor) {
    if (!d->volume) return;
    if (!d->fitted) d->doFit();
    d->scale = std::clamp(d->scale / factor, d->fitScale / 20, d->fitScale * 4);
    requestRender();
    emit viewChanged();
}

std::array<double, 3> SliceView::centre() const {
    if (!d->volume) return {};
    if (!d->fitted) d->doFit();
    return d->frame.patient(d->focalX / d->frame.du, d->focalY / d->frame.dv, d->k);
}

double SliceView::halfHeightMm() const {
    if (d->volume && !d->fitted) d->doFit();
    return d->scale;
}

void SliceView::alignVertically(double patientZ, double halfHeight) {
    if (!d->volume) return;
    if (!d->fitted) d->doFit();
    const auto& f = d->frame;
    if (std::abs(f.down[2]) < 0.5) return; // the screen's vertical is not along the body's axis
    std::array<double, 3> p = centre();
    p[2] = patientZ;
    d->focalY = f.pixelOf(p)[1] * f.dv; // mm along the screen's vertical from the first row
    d->scale = halfHeight;
    requestRender();
}

double SliceView::zoom() const { return d->zoomFactor(); }

double SliceView::pixelsPerMm() const {
    if (d->volume && !d->fitted) d->doFit();
    return d->pixelsPerMm() / d->dpr();
}

void SliceView::setPixelsPerMm(double ppm) {
    if (!d->volume || ppm <= 0) return;
    if (!d->fitted) d->doFit();
    d->scale = std::clamp(d->deviceHeight() / 2.0 / (ppm * d->dpr()), d->fitScale / 20, d->fitScale * 4);
    requestRender();
}

QPointF SliceView::widgetPointOf(double u, double v) const {
    if (!d->fitted) d->doFit();
    const double ppm = d->pixelsPerMm();
    const double x = d->deviceWidth() / 2.0 + (u * d->frame.du - d->focalX) * ppm;
    const double y = d->deviceHeight() / 2.0 + (v * d->frame.dv - d->focalY) * ppm;
    return {x / d->dpr(), y / d->dpr()};
}

bool SliceView::pixelAt(QPointF p, double& u, double& v) const {
    if (!d->volume) return false;
    if (!d->fitted) d->doFit();
    const double ppm = d->pixelsPerMm();
    u = ((p.x() * d->dpr() - d->deviceWidth() / 2.0) / ppm + d->focalX) / d->frame.du;
    v = ((p.y() * d->dpr() - d->deviceHeight() / 2.0) / ppm + d->focalY) / d->frame.dv;
    return u > -0.5 && v > -0.5 && u < d->frame.width - 0.5 && v < d->frame.height - 0.5;
}

std::array<QString, 4> SliceView::edgeLabels() const {
    std::array<QString, 4> out;
    if (!d->volume) return out;
    const auto l = vc::edgeLabels(d->frame);
    for (std::size_t i = 0; i < 4; ++i) out[i] = QString::fromStdString(l[i]);
    return out;
}

QString SliceView::overlayText() const {
    d->updateText();
    QStringList lines;
    for (const OverlayText* t : {&d->caption, &d->info, &d->values, &d->cursor})
        if (!t->text().isEmpty()) lines << t->text();
    return lines.join('\n');
}

void SliceView::centreOn(const vc::Point3& p) {
    if (!d->volume) return;
    if (!d->fitted) d->doFit();
    const auto& f = d->frame;
    const auto uv = f.pixelOf(p);
    d->focalX = uv[0] * f.du, d->focalY = uv[1] * f.dv;
    setSlicePosition(p[static_cast<std::size_t>(f.axisK)]);
    requestRender();
    emit viewChanged();
}

void SliceView::setTool(Tool tool) {
    d->tool = tool;
    d->gl->setCursor(tool == Tool::None ? Qt::ArrowCursor : Qt::CrossCursor);
}
SliceView::Tool SliceView::tool() const { return d->tool; }
void SliceView::setImageReferences(const std::string& seriesUid, std::vector<std::string> sopBySlice) {
    d->seriesUid = seriesUid;
    d->sopBySlice = std::move(sopBySlice);
}
const vc::MeasurementSet& SliceView::measurements() const { return d->measures; }
void SliceView::setMeasurements(std::vector<vc::Measurement> items, int firstFreeId) {
    d->measures.reset(std::move(items), firstFreeId);
    if (!d->measures.find(d->selected)) d->selected = 0;
    d->grip = Impl::Grip::None;
    requestRender();
}
void SliceView::labelMeasurement(int id, const std::string& label) {
    if (d->measures.setLabel(id, label)) requestRender();
}
void SliceView::selectMeasurement(int id) {
    d->selected = d->measures.find(id) ? id : 0;
    requestRender();
}
void SliceView::setMeasurementsEditable(bool editable) {
    d->editable = editable;
    if (!editable) d->grip = Impl::Grip::None;
    d->gl->setCursor(d->tool == Tool::None || !editable ? Qt::ArrowCursor : Qt::CrossCursor);
}
bool SliceView::measurementsEditable() const { return d->editable; }
int SliceView::selectedMeasurement() const { return d->selected; }
bool SliceView::acquisitionPlane() const { return d->acquisition(); }

bool SliceView::undoMeasurement() {
    if (!d->editable || !d->measures.undo()) return false;
    if (!d->measures.find(d->selected)) d->selected = 0;
    requestRender();
    emit measurementsChanged();
    return true;
}
bool SliceView::redoMeasurement() {
    if (!d->editable || !d->measures.redo()) return false;
    requestRender();
    emit measurementsChanged();
    return true;
}
bool SliceView::deleteSelectedMeasurement() {
    if (!d->editable || !d->selected || !d->measures.remove(d->selected)) return false;
    d->selected = 0;
    requestRender();
    emit measurementsChanged();
    return true;
}

QPointF SliceView::widgetPointOfPatient(const vc::Point3& p) const {
    const auto uv = d->frame.pixelOf(p);
    return widgetPointOf(uv[0], uv[1]);
}

void SliceView::mousePressEvent(QMouseEvent* e) {
    setFocus();
    if (e->button() == Qt::LeftButton && !(e->modifiers() & Qt::ShiftModifier) && d->volume && d->complete && d->acquisition() &&
        d->editable) {
        // a measurement under the cursor is edited; with a tool, empty image starts a new one
        const auto [id, grip] = d->hit(e->position());
        double u = 0, v = 0;
        if (grip != Impl::Grip::None) {
            d->selected = id;
            d->editing = *d->measures.find(id);
            d->grip = grip;
            d->gripStart = d->patientAt(e->position());
            d->drag = Drag::None;
            requestRender();
            return;
        }
        if (d->tool != Tool::None && pixelAt(e->position(), u, v)) {
            vc::Measurement m;
            m.kind = d->tool == Tool::Bidimensional ? vc::Measurement::Kind::Bidimensional : vc::Measurement::Kind::LongAxis;
            m.seriesUid = d->seriesUid;
            m.slice = d->volumeSlice();
            if (m.slice >= 0 && m.slice < static_cast<int>(d->sopBySlice.size())) m.sopUid = d->sopBySlice[static_cast<std::size_t>(m.slice)];
            m.a = m.b = d->frame.patient(u, v, d->k);
            m.id = -1;
            d->editing = m;
            d->grip = Impl::Grip::New;
            d->selected = 0;
            d->drag = Drag::None;
            requestRender();
            return;
        }
        d->selected = 0;
    }
    d->dragStart = e->position();
    d->dragWl = d->wl;
    d->dragScale = d->scale;
    d->dragFocalX = d->focalX;
    d->dragFocalY = d->focalY;
    if (e->button() == Qt::LeftButton) d->drag = (e->modifiers() & Qt::ShiftModifier) ? Drag::Pan : Drag::WindowLevel;
    else if (e->button() == Qt::RightButton) d->drag = Drag::Zoom;
    else if (e->button() == Qt::MiddleButton) d->drag = Drag::Pan;
    if (d->drag == Drag::WindowLevel) d->gl->setCursor(Qt::SizeAllCursor);
    else if (d->drag == Drag::Pan) d->gl->setCursor(Qt::ClosedHandCursor);
    else if (d->drag == Drag::Zoom) d->gl->setCursor(Qt::SizeVerCursor);
}

void SliceView::mouseMoveEvent(QMouseEvent* e) {
    if (d->grip != Impl::Grip::None) {
        const vc::Point3 p = d->patientAt(e->position());
        vc::Measurement& m = d->editing;
        const vc::Point3 normal = d->frame.through;
        auto keepShortAxis = [&] {
            if (m.kind == vc::Measurement::Kind::Bidimensional) {
                const auto axis = vc::perpendicularAxis(m.a, m.b, normal, m.shortMm());
                m.c = axis[0], m.d = axis[1];
            }
        };
        switch (d->grip) {
        case Impl::Grip::New:
            m.b = p;
            if (m.kind == vc::Measurement::Kind::Bidimensional) {
                const auto axis = vc::perpendicularAxis(m.a, m.b, normal, m.longMm() * 0.6); // adjusted by its ends afterwards
                m.c = axis[0], m.d = axis[1];
            }
            break;
        case Impl::Grip::A: m.a = p; keepShortAxis(); break;
        case Impl::Grip::B: m.b = p; keepShortAxis(); break;
        case Impl::Grip::C: m.c = vc::projectOnShortAxis(m, p); break;
        case Impl::Grip::D: m.d = vc::projectOnShortAxis(m, p); break;
        case Impl::Grip::Move: {
            const vc::Measurement* before = d->measures.find(m.id);
            if (!before) break;
            vc::Point3 shift{};
            for (std::size_t i = 0; i < 3; ++i) shift[i] = p[i] - d->gripStart[i];
            for (auto [to, from] : {std::pair{&m.a, &before->a}, {&m.b, &before->b}, {&m.c, &before->c}, {&m.d, &before->d}})
                for (std::size_t i = 0; i < 3; ++i) (*to)[i] = (*from)[i] + shift[i];
            break;
        }
        case Impl::Grip::None: break;
        }
        d->updateCursor(e->position());
        requestRender();
        return;
    }
    const QPointF delta = e->position() - d->dragStart;
    switch (d->drag) {
    case Drag::WindowLevel: {
        // right widens the window, down raises the level; faster for wide windows
        const double step = std::max(1.0, d->dragWl.window / 250.0);
        setWindowLevel({d->dragWl.window + delta.x() * step, d->dragWl.level + delta.y() * step});
        break;
    }
    case Drag::Zoom:
        // dragging down magnifies, up reduces (as OHIF and most PACS), about where the drag began
        if (!d->fitted) d->doFit();
        d->zoomAbout(d->dragStart, d->dragScale, d->dragFocalX, d->dragFocalY,
                     std::clamp(d->dragScale * std::exp(-delta.y() * 0.01), d->fitScale / 20, d->fitScale * 4));
        requestRender();
        emit viewChanged();
        break;
    case Drag::Pan: {
        const double ppm = d->pixelsPerMm() / d->dpr();
        d->focalX = d->dragFocalX - delta.x() / ppm;
        d->focalY = d->dragFocalY - delta.y() / ppm;
        requestRender();
        emit viewChanged();
        break;
    }
    case Drag::None: break;
    }
    d->updateCursor(e->position());
    requestRender();
}

void SliceView::mouseReleaseEvent(QMouseEvent*) {
    if (d->grip != Impl::Grip::None) {
        const Impl::Grip grip = d->grip;
        d->grip = Impl::Grip::None;
        if (grip == Impl::Grip::New) {
            if (d->editing.longMm() >= 1.0) d->selected = d->measures.add(d->editing); // a click is not a measurement
        } else {
            d->measures.update(d->editing);
        }
        requestRender();
        emit measurementsChanged();
        return;
    }
    d->drag = Drag::None;
    d->gl->setCursor(d->tool == Tool::None ? Qt::ArrowCursor : Qt::CrossCursor);
}

void SliceView::mouseDoubleClickEvent(QMouseEvent* e) {
    // with a measuring tool, or on a measurement, a quick second press is a press, not "fit"
    if (d->editable && (d->tool != Tool::None || d->hit(e->position()).second != Impl::Grip::None)) {
        mousePressEvent(e);
        return;
    }
    fit();
}

void SliceView::wheelEvent(QWheelEvent* e) {
    const int notches = e->angleDelta().y() / 120;
    if (notches == 0) return;
    if (e->modifiers() & Qt::ControlModifier) { // about the cursor: the lesion under it stays under it
        if (!d->volume) return;
        if (!d->fitted) d->doFit();
        d->zoomAbout(e->position(), d->scale, d->focalX, d->focalY,
                     std::clamp(d->scale / std::pow(1.15, notches), d->fitScale / 20, d->fitScale * 4));
        requestRender();
        emit viewChanged();
    }
    else setSlice(d->k - notches); // wheel towards the user goes down through the patient
    d->updateCursor(e->position());
    e->accept();
}

void SliceView::keyPressEvent(QKeyEvent* e) {
    switch (e->key()) {
    case Qt::Key_Up: setSlice(d->k - 1); return;
    case Qt::Key_Down: setSlice(d->k + 1); return;
    case Qt::Key_PageUp: setSlice(d->k - 10); return;
    case Qt::Key_PageDown: setSlice(d->k + 10); return;
    case Qt::Key_Home: setSlice(0); return;
    case Qt::Key_End: setSlice(sliceCount() - 1); return;
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomBy(1.25); return;
    case Qt::Key_Minus: zoomBy(0.8); return;
    case Qt::Key_Delete:
    case Qt::Key_Backspace:
        if (deleteSelectedMeasurement()) return;
        break;
    case Qt::Key_Escape:
        if (d->selected) {
            d->selected = 0;
            requestRender();
            return;
        }
        break;
    default: break;
    }
    if (e->matches(QKeySequence::Undo) && undoMeasurement()) return;
    if (e->matches(QKeySequence::Redo) && redoMeasurement()) return;
    QWidget::keyPressEvent(e);
}

void SliceView::leaveEvent(QEvent* e) {
    d->cursorText.clear();
    requestRender();
    QWidget::leaveEvent(e);
}

void SliceView::focusInEvent(QFocusEvent* e) {
    emit focused();
    QWidget::focusInEvent(e);
}

} // namespace vg
