#include "SliceViewImpl.h"

#include "assist/Assist.h"

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
    if (d->volume && d->fitted) { // keep the user's zoom and pan (a view not yet shown opens at the first frame)
        const double zoom = d->zoomFactor();
        const double fx = d->focalX, fy = d->focalY;
        d->doFit();
        d->scale = d->fitScale / zoom;
        d->focalX = fx, d->focalY = fy;
    }
}

void SliceView::paintGL() {
    // RELUTH_VIEWER_TIMING=1 prints where a frame's time goes (with glFinish between the parts)
    static const bool timing = std::getenv("RELUTH_VIEWER_TIMING") != nullptr;
    auto now = [] { return std::chrono::steady_clock::now(); };
    const auto t0 = now();
    if (!d->glReady) return;
    if (d->deviceWidth() != d->laidOutWidth || d->deviceHeight() != d->laidOutHeight) resizeGL(); // in case no resize event came
    if (d->volume && !d->fitted) d->openingView();
    d->updateImage();
    const auto t1 = now();
    d->updateText();
    d->separateCorners();
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
        d->interactor.forgetStale();
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
    d->interactor.forgetStale();
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
    if (!d->fitted) d->openingView();
    d->scale = std::clamp(d->scale / factor, d->fitScale / 20, d->fitScale * 4);
    requestRender();
    emit viewChanged();
}

std::array<double, 3> SliceView::centre() const {
    if (!d->volume) return {};
    if (!d->fitted) d->openingView();
    return d->frame.patient(d->focalX / d->frame.du, d->focalY / d->frame.dv, d->k);
}

double SliceView::halfHeightMm() const {
    if (d->volume && !d->fitted) d->openingView();
    return d->scale;
}

void SliceView::alignVertically(double patientZ, double halfHeight) {
    if (!d->volume) return;
    if (!d->fitted) d->openingView();
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
    if (d->volume && !d->fitted) d->openingView();
    return d->pixelsPerMm() / d->dpr();
}

void SliceView::setPixelsPerMm(double ppm) {
    if (!d->volume || ppm <= 0) return;
    if (!d->fitted) d->openingView();
    d->scale = std::clamp(d->deviceHeight() / 2.0 / (ppm * d->dpr()), d->fitScale / 20, d->fitScale * 4);
    requestRender();
}

QPointF SliceView::widgetPointOf(double u, double v) const {
    if (!d->fitted) d->openingView();
    const double ppm = d->pixelsPerMm();
    const double x = d->deviceWidth() / 2.0 + (u * d->frame.du - d->focalX) * ppm;
    const double y = d->deviceHeight() / 2.0 + (v * d->frame.dv - d->focalY) * ppm;
    return {x / d->dpr(), y / d->dpr()};
}

bool SliceView::pixelAt(QPointF p, double& u, double& v) const {
    if (!d->volume) return false;
    if (!d->fitted) d->openingView();
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
    for (const OverlayText* t : {&d->caption, &d->info, &d->values, &d->cursor, &d->labels[2], &d->labels[3]})
        if (!t->text().isEmpty()) lines << t->text();
    return lines.join('\n');
}

void SliceView::centreOn(const vc::Point3& p) {
    if (!d->volume) return;
    if (!d->fitted) d->openingView();
    const auto& f = d->frame;
    const auto uv = f.pixelOf(p);
    d->focalX = uv[0] * f.du, d->focalY = uv[1] * f.dv;
    setSlicePosition(p[static_cast<std::size_t>(f.axisK)]);
    requestRender();
    emit viewChanged();
}

void SliceView::setTool(Tool tool) {
    d->interactor.setTool(tool);
    d->gl->setCursor(tool == Tool::None ? Qt::ArrowCursor : Qt::CrossCursor);
}
SliceView::Tool SliceView::tool() const { return d->interactor.tool(); }
void SliceView::setImageReferences(const std::string& seriesUid, std::vector<std::string> sopBySlice) {
    d->interactor.setImageReferences(seriesUid, std::move(sopBySlice));
}
const vc::MeasurementSet& SliceView::measurements() const { return d->measures; }
void SliceView::setMeasurements(std::vector<vc::Measurement> items, int firstFreeId) {
    d->pending = 0;
    d->pendingOutline.clear();
    d->measures.reset(std::move(items), firstFreeId);
    d->interactor.forgetStale();
    requestRender();
}
void SliceView::labelMeasurement(int id, const std::string& label) {
    if (d->measures.setLabel(id, label)) requestRender();
}
void SliceView::selectMeasurement(int id) {
    d->interactor.select(id);
    requestRender();
}
void SliceView::setMeasurementsEditable(bool editable) {
    d->interactor.setEditable(editable);
    d->gl->setCursor(d->interactor.tool() == Tool::None || !editable ? Qt::ArrowCursor : Qt::CrossCursor);
}
bool SliceView::measurementsEditable() const { return d->interactor.editable(); }
int SliceView::selectedMeasurement() const { return d->interactor.selected(); }
bool SliceView::acquisitionPlane() const { return d->acquisition(); }

bool SliceView::undoMeasurement() {
    if (!d->interactor.editable() || !d->measures.undo()) return false;
    d->interactor.forgetStale();
    requestRender();
    emit measurementsChanged();
    return true;
}
bool SliceView::redoMeasurement() {
    if (!d->interactor.editable() || !d->measures.redo()) return false;
    requestRender();
    emit measurementsChanged();
    return true;
}
bool SliceView::deleteSelectedMeasurement() {
    const int id = d->interactor.selected();
    if (!d->interactor.editable() || !id || !d->measures.remove(id)) return false;
    d->interactor.select(0);
    requestRender();
    emit measurementsChanged();
    return true;
}

int SliceView::proposeAt(const vc::Point3& a, const vc::Point3& b, bool node) {
    discardProposal();
    if (!d->volume || !d->complete || !d->interactor.editable()) {
        requestRender(); // the click's rubber band goes
        emit assistMessage(tr("One-click measurement needs the whole series loaded and a timepoint open for reading."));
        return 0;
    }
    assist::MeasureOptions options;
    options.node = node;
    const bool line = vc::distanceMm(a, b) >= 2.0;
    const assist::Proposal p = line ? assist::measureAlong(*d->volume, a, b, options) : assist::measureAt(*d->volume, a, options);
    if (!p.confident) {
        requestRender(); // the click's rubber band ("0.0 mm") goes
        emit assistMessage(tr("No proposal: %1.").arg(QString::fromStdString(p.why)));
        return 0;
    }
    vc::Measurement m;
    m.kind = vc::Measurement::Kind::Bidimensional;
    m.origin = vc::Measurement::Origin::Proposed;
    m.a = p.longAxis[0];
    m.b = p.longAxis[1];
    m.c = p.shortAxis[0];
    m.d = p.shortAxis[1];
    m.slice = p.slice;
    m.label = "proposed";
    const auto refs = d->interactor.imageReferences();
    m.seriesUid = refs.first;
    if (p.slice >= 0 && p.slice < static_cast<int>(refs.second.size())) m.sopUid = refs.second[static_cast<std::size_t>(p.slice)];
    d->pending = d->measures.add(m);
    d->pendingOutline = p.outline;
    d->interactor.select(d->pending);
    // show the slice where the lesion is longest (the view is not panned)
    setSlicePosition(m.a[static_cast<std::size_t>(d->frame.axisK)]);
    requestRender();
    emit assistMessage(tr("Proposed %1 x %2 mm (%3 slices searched, %4 ms): Enter accepts, drag an end to edit, Esc discards.")
                           .arg(p.longMm, 0, 'f', 1)
                           .arg(p.shortMm, 0, 'f', 1)
                           .arg(p.slicesSearched)
                           .arg(p.millis, 0, 'f', 0));
    return d->pending;
}

std::shared_ptr<const vc::Volume> SliceView::volume() const { return d->volume; }

void SliceView::setAssistNodal(bool nodal) { d->assistNodal = nodal; }

int SliceView::pendingProposal() const { return d->pending && d->measures.find(d->pending) ? d->pending : 0; }

bool SliceView::acceptProposal() {
    const int id = pendingProposal();
    d->pending = 0;
    d->pendingOutline.clear();
    if (!id) return false;
    d->measures.setLabel(id, "");
    requestRender();
    const vc::Measurement* m = d->measures.find(id);
    emit assistMessage(m && m->origin == vc::Measurement::Origin::ProposedEdited ? tr("Proposal accepted as you edited it.")
                                                                                 : tr("Proposal accepted."));
    emit measurementsChanged(); // now it is part of the read
    return true;
}

bool SliceView::discardProposal() {
    const int id = pendingProposal();
    d->pending = 0;
    d->pendingOutline.clear();
    if (!id) return false;
    d->measures.remove(id);
    d->interactor.select(0);
    d->interactor.forgetStale();
    requestRender();
    emit assistMessage(tr("Proposal discarded."));
    return true;
}

std::vector<QRect> SliceView::cornerTextBoxes() const {
    std::vector<QRect> out;
    for (const OverlayText* t : {&d->caption, &d->info, &d->values, &d->cursor, &d->labels[2], &d->labels[3]})
        if (!t->rect().isEmpty()) out.push_back(t->rect());
    return out;
}

void SliceView::setOpeningMagnification(double pixelsPerMm) { d->openingPpm = pixelsPerMm; }

QPointF SliceView::widgetPointOfPatient(const vc::Point3& p) const {
    const auto uv = d->frame.pixelOf(p);
    return widgetPointOf(uv[0], uv[1]);
}

} // namespace vg
