#include "viewergui/SliceView.h"

#include <QGuiApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageMapper3D.h>
#include <vtkImageProperty.h>
#include <vtkNew.h>
#include <vtkOpenGLState.h>
#include <vtkRenderer.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

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

struct SliceView::Impl {
    SliceView* self;
    vtkNew<vtkGenericOpenGLRenderWindow> window;
    vtkNew<vtkRenderer> renderer;
    vtkNew<vtkImageData> image;
    vtkNew<vtkImageActor> actor;
    vtkNew<vtkTextActor> caption, info, values, cursor;
    std::array<vtkNew<vtkTextActor>, 4> labels; // left, right, top, bottom
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

    explicit Impl(SliceView* s) : self(s) {}

    double dpr() const { return self->devicePixelRatioF(); }
    int deviceWidth() const { return std::max(1, static_cast<int>(std::lround(self->width() * dpr()))); }
    int deviceHeight() const { return std::max(1, static_cast<int>(std::lround(self->height() * dpr()))); }
    double pixelsPerMm() const { return deviceHeight() / 2.0 / scale; }

    void setupScene() {
        window->SetMultiSamples(0);
        window->AddRenderer(renderer);
        renderer->SetBackground(0, 0, 0);
        renderer->SetBackgroundAlpha(1);
        actor->GetMapper()->SetInputData(image);
        actor->GetProperty()->SetColorWindow(255);
        actor->GetProperty()->SetColorLevel(127.5);
        actor->GetProperty()->SetInterpolationTypeToLinear();
        actor->VisibilityOff();
        renderer->AddViewProp(actor);
        vtkCamera* cam = renderer->GetActiveCamera();
        cam->ParallelProjectionOn();
        auto text = [&](vtkTextActor* a, bool right, bool top, bool bold) {
            vtkTextProperty* p = a->GetTextProperty();
            p->SetFontFamilyToArial();
            p->SetColor(0.95, 0.9, 0.55);
            p->SetBold(bold);
            p->SetShadow(1);
            p->SetJustification(right ? VTK_TEXT_RIGHT : VTK_TEXT_LEFT);
            p->SetVerticalJustification(top ? VTK_TEXT_TOP : VTK_TEXT_BOTTOM);
            a->SetTextScaleModeToNone();
            renderer->AddViewProp(a);
        };
        text(caption, false, true, true);
        text(info, false, false, false);
        text(values, true, false, false);
        text(cursor, true, true, false);
        for (std::size_t i = 0; i < 4; ++i) {
            text(labels[i], i == 1, i != 3, true);
            labels[i]->GetTextProperty()->SetColor(0.55, 0.85, 1.0);
            labels[i]->GetTextProperty()->SetJustification(i == 0 ? VTK_TEXT_LEFT : i == 1 ? VTK_TEXT_RIGHT : VTK_TEXT_CENTERED);
            labels[i]->GetTextProperty()->SetVerticalJustification(i == 2 ? VTK_TEXT_TOP : i == 3 ? VTK_TEXT_BOTTOM : VTK_TEXT_CENTERED);
        }
        layoutText();
    }

    void layoutText() {
        const int w = deviceWidth(), h = deviceHeight(), m = static_cast<int>(8 * dpr());
        const int size = static_cast<int>(std::lround(14 * dpr())), big = static_cast<int>(std::lround(18 * dpr()));
        for (vtkTextActor* a : {caption.Get(), info.Get(), values.Get(), cursor.Get()}) a->GetTextProperty()->SetFontSize(size);
        caption->GetTextProperty()->SetFontSize(size + 2);
        caption->SetDisplayPosition(m, h - m);
        info->SetDisplayPosition(m, m);
        values->SetDisplayPosition(w - m, m);
        cursor->SetDisplayPosition(w - m, h - m);
        for (auto& l : labels) l->GetTextProperty()->SetFontSize(big);
        labels[0]->SetDisplayPosition(m, h / 2);
        labels[1]->SetDisplayPosition(w - m, h / 2);
        labels[2]->SetDisplayPosition(w / 2, h - m - static_cast<int>(22 * dpr()));
        labels[3]->SetDisplayPosition(w / 2, m + static_cast<int>(22 * dpr()));
    }

    bool canShow(int slice) const { return volume && (complete || slice == readySlice); }

    void rebuildFrame() {
        if (!volume) return;
        frame = vc::sliceFrame(volume->geometry, plane);
        image->SetDimensions(frame.width, frame.height, 1);
        image->SetSpacing(frame.du, frame.dv, 1);
        image->SetOrigin(0, 0, 0);
        image->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
        const auto l = vc::edgeLabels(frame);
        for (std::size_t i = 0; i < 4; ++i) labels[i]->SetInput(l[i].c_str());
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
        vc::renderSlice(*volume, frame, k, grey, static_cast<std::uint8_t*>(image->GetScalarPointer()));
        image->Modified();
    }

    void updateText() {
        if (!volume) {
            for (vtkTextActor* a : {caption.Get(), info.Get(), values.Get(), cursor.Get()}) a->SetInput("");
            for (auto& l : labels) l->SetInput("");
            return;
        }
        caption->SetInput(captionText.toUtf8().constData());
        const char axis = "XYZ"[frame.axisK];
        QString s = QStringLiteral("%1  %2/%3  %4 %5 mm").arg(QString::fromLatin1(vc::planeName(plane))).arg(k + 1).arg(frame.count).arg(QChar::fromLatin1(axis)).arg(mm(frame.position(k)));
        QString t = plane == vc::Plane::Axial && thickness > 0 ? QStringLiteral("Thickness %1 mm").arg(mm(thickness)) : QStringLiteral("Reformat");
        t += QStringLiteral("  spacing %1 mm").arg(mm(frame.dk, 2));
        if (!complete) t += QStringLiteral("  (loading)");
        info->SetInput((s + "\n" + t).toUtf8().constData());
        values->SetInput(QStringLiteral("W %1  L %2\nZoom %3x").arg(std::lround(wl.window)).arg(std::lround(wl.level)).arg(mm(zoomFactor(), 2)).toUtf8().constData());
        cursor->SetInput(cursorText.toUtf8().constData());
    }

    double zoomFactor() const { return fitScale / scale; }

    void applyCamera() {
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

    void updateCursor(QPointF p) {
        double u, v;
        std::int16_t hu;
        if (volume && canShow(k) && self->pixelAt(p, u, v) &&
            vc::valueAt(*volume, frame, k, static_cast<int>(std::lround(u)), static_cast<int>(std::lround(v)), hu)) {
            const auto pt = frame.patient(std::lround(u), std::lround(v), k);
            cursorText = QStringLiteral("%1 HU\n(%2, %3, %4) mm").arg(hu).arg(mm(pt[0])).arg(mm(pt[1])).arg(mm(pt[2]));
        } else {
            cursorText.clear();
        }
    }
};

SliceView::SliceView(QWidget* parent) : QOpenGLWidget(parent), d(std::make_unique<Impl>(this)) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setMinimumSize(200, 200);
    d->setupScene();
    // VTK asks whether its context is current and to make it current; the answer is Qt's
    d->glCallback->SetClientData(this);
    d->glCallback->SetCallback([](vtkObject*, unsigned long event, void* client, void* callData) {
        auto* view = static_cast<SliceView*>(client);
        if (event == vtkCommand::WindowMakeCurrentEvent) {
            view->makeCurrent();
        } else if (event == vtkCommand::WindowIsCurrentEvent) {
            *static_cast<bool*>(callData) = QOpenGLContext::currentContext() == view->context();
        }
    });
    d->window->AddObserver(vtkCommand::WindowMakeCurrentEvent, d->glCallback);
    d->window->AddObserver(vtkCommand::WindowIsCurrentEvent, d->glCallback);
}

SliceView::~SliceView() {
    makeCurrent();
    d->window->Finalize();
    doneCurrent();
}

void SliceView::setMultiSamples(int samples) {
    d->window->SetMultiSamples(samples);
    update();
}

void SliceView::initializeGL() {
    d->window->SetOwnContext(0);
    d->window->SetFrameBlitModeToNoBlit();
    d->window->SetReadyForRendering(false);
    d->window->SetMapped(1);
    d->window->SetSize(d->deviceWidth(), d->deviceHeight());
    d->window->OpenGLInitContext();
    d->glReady = true;
}

void SliceView::resizeGL(int, int) {
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
    if (!d->glReady) return;
    if (d->volume && !d->fitted) d->doFit();
    d->updateImage();
    d->actor->SetVisibility(d->canShow(d->k));
    d->updateText();
    d->applyCamera();
    vtkOpenGLState* state = d->window->GetState();
    state->Reset();
    state->Push();
    d->window->SetReadyForRendering(true);
    d->window->Render();
    d->window->SetReadyForRendering(false);
    state->Pop();
    // VTK renders into its own framebuffer: copy it into the one Qt composes the widget from
    const int w = d->deviceWidth(), h = d->deviceHeight();
    state->PushFramebufferBindings();
    state->vtkglBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
    state->vtkglViewport(0, 0, w, h);
    state->vtkglScissor(0, 0, w, h);
    d->window->BlitDisplayFramebuffer(0, 0, 0, w, h, 0, 0, w, h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
    state->PopFramebufferBindings();
}

void SliceView::setVolume(std::shared_ptr<const vc::Volume> volume, const QString& caption, double sliceThickness, int readySlice) {
    d->volume = std::move(volume);
    d->complete = readySlice < 0;
    d->readyZ = readySlice;
    d->captionText = caption;
    d->thickness = sliceThickness;
    d->rebuildFrame();
    if (d->volume) d->k = d->readySlice >= 0 ? d->readySlice : d->frame.count / 2;
    d->imageDirty = true;
    update();
    if (d->volume) emit sliceChanged(d->k, d->frame.position(d->k));
}

void SliceView::volumeComplete() {
    d->complete = true;
    d->imageDirty = true;
    update();
}

void SliceView::clearVolume() {
    d->volume.reset();
    d->complete = false;
    d->cursorText.clear();
    update();
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
    update();
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
    update();
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
    update();
    emit windowLevelChanged(wl);
}

vc::WindowLevel SliceView::windowLevel() const { return d->wl; }

void SliceView::fit() {
    d->doFit();
    update();
}

void SliceView::zoomBy(double factor) {
    if (!d->volume) return;
    if (!d->fitted) d->doFit();
    d->scale = std::clamp(d->scale / factor, d->fitScale / 20, d->fitScale * 4);
    update();
}

double SliceView::zoom() const { return d->zoomFactor(); }

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
    for (vtkTextActor* a : {d->caption.Get(), d->info.Get(), d->values.Get(), d->cursor.Get()})
        if (a->GetInput() && *a->GetInput()) lines << QString::fromUtf8(a->GetInput());
    return lines.join('\n');
}

void SliceView::mousePressEvent(QMouseEvent* e) {
    setFocus();
    d->dragStart = e->position();
    d->dragWl = d->wl;
    d->dragScale = d->scale;
    d->dragFocalX = d->focalX;
    d->dragFocalY = d->focalY;
    if (e->button() == Qt::LeftButton) d->drag = (e->modifiers() & Qt::ShiftModifier) ? Drag::Pan : Drag::WindowLevel;
    else if (e->button() == Qt::RightButton) d->drag = Drag::Zoom;
    else if (e->button() == Qt::MiddleButton) d->drag = Drag::Pan;
    if (d->drag == Drag::WindowLevel) setCursor(Qt::SizeAllCursor);
    else if (d->drag == Drag::Pan) setCursor(Qt::ClosedHandCursor);
    else if (d->drag == Drag::Zoom) setCursor(Qt::SizeVerCursor);
}

void SliceView::mouseMoveEvent(QMouseEvent* e) {
    const QPointF delta = e->position() - d->dragStart;
    switch (d->drag) {
    case Drag::WindowLevel: {
        // right widens the window, down raises the level; faster for wide windows
        const double step = std::max(1.0, d->dragWl.window / 250.0);
        setWindowLevel({d->dragWl.window + delta.x() * step, d->dragWl.level + delta.y() * step});
        break;
    }
    case Drag::Zoom:
        if (!d->fitted) d->doFit();
        d->scale = std::clamp(d->dragScale * std::exp(delta.y() * 0.01), d->fitScale / 20, d->fitScale * 4);
        update();
        break;
    case Drag::Pan: {
        const double ppm = d->pixelsPerMm() / d->dpr();
        d->focalX = d->dragFocalX - delta.x() / ppm;
        d->focalY = d->dragFocalY - delta.y() / ppm;
        update();
        break;
    }
    case Drag::None: break;
    }
    d->updateCursor(e->position());
    update();
}

void SliceView::mouseReleaseEvent(QMouseEvent*) {
    d->drag = Drag::None;
    unsetCursor();
}

void SliceView::mouseDoubleClickEvent(QMouseEvent*) { fit(); }

void SliceView::wheelEvent(QWheelEvent* e) {
    const int notches = e->angleDelta().y() / 120;
    if (notches == 0) return;
    if (e->modifiers() & Qt::ControlModifier) zoomBy(std::pow(1.15, notches));
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
    default: break;
    }
    QOpenGLWidget::keyPressEvent(e);
}

void SliceView::leaveEvent(QEvent* e) {
    d->cursorText.clear();
    update();
    QOpenGLWidget::leaveEvent(e);
}

void SliceView::focusInEvent(QFocusEvent* e) {
    emit focused();
    QOpenGLWidget::focusInEvent(e);
}

} // namespace vg
