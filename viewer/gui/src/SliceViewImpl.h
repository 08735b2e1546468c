#pragma once
// Internal to the slice view (SliceView*.cpp): the native GL window it draws into and its
// state (SliceView::Impl). The drawing and the camera are in SliceRender.cpp, the text overlays
// in OverlayText.h, the mouse and keys in SliceInput.cpp. Calipers are split as MITK splits
// planar figures: the data (vc::MeasurementSet), MeasurementMapper (drawing) and
// MeasurementInteractor (drawing and editing with the mouse); SliceMeasure.cpp gives them the
// slice's projection. SliceView.cpp has the widget's interface.
#include "viewergui/SliceView.h"
#include "MeasurementInteractor.h"
#include "MeasurementMapper.h"
#include "OverlayText.h"

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

namespace slice {

enum class Drag { None, WindowLevel, Zoom, Pan };

inline QString mm(double v, int decimals = 1) { return QString::number(v, 'f', decimals); }

} // namespace slice
using slice::Drag;
using slice::mm;

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
        case QEvent::Leave: QCoreApplication::sendEvent(owner_, e); return true;
        default: return QOpenGLWindow::event(e);
        }
    }

private:
    SliceView* owner_;
};
struct SliceView::Impl final : SliceProjection {
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

    // the calipers: data, interaction, drawing
    vc::MeasurementSet measures;
    MeasurementInteractor interactor{measures};
    MeasurementMapper mapper;
    int pending = 0;                        ///< a one-click proposal not yet accepted (caliper id)
    bool assistNodal = false;               ///< the one-click tool measures a lymph node
    std::vector<vc::Point3> pendingOutline; ///< its segmented outline, drawn faintly
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
    void zoomAbout(QPointF p, double fromScale, double fromFocalX, double fromFocalY, double toScale);

    void setupScene();

    void layoutText();

    bool canShow(int slice) const { return volume && (complete || slice == readySlice); }

    void rebuildFrame();

    void updateImage();

    void updateText();

    double zoomFactor() const { return fitScale / scale; }

    /// The slice's corners (the outer edges of its pixels) in normalised device coordinates.
    void placeQuad();

    void applyCamera();

    void doFit();
    /// The view a newly shown series opens with: doFit(), then magnified to the body or to
    /// openingPpm about the body's centre (SliceView::setOpeningMagnification).
    void openingView();
    double openingPpm = 0;
    /// Corner texts that would overlap are stacked (a narrow view): placed every frame.
    void separateCorners();

    /// Clears VTK's framebuffer and draws the slice into it (raw OpenGL, before VTK renders:
    /// VTK re-reads the GL state when it starts a frame in a context it does not own).
    void drawSlice(GLuint framebuffer, bool showImage);

    void releaseGl();

    bool acquisition() const;
    int volumeSlice() const { return frame.strideK > 0 ? k : frame.count - 1 - k; } ///< index along the normal
    /// display pixels (origin bottom left) of a patient point on the current slice
    std::array<double, 2> display(const vc::Point3& p) const;
    /// Rebuilds the measurement lines and labels for this frame (cheap: a few points).
    void placeMeasurements();

    // SliceProjection: the slice as the caliper interactor sees it
    vc::Point3 patientAt(QPointF w) const override;
    QPointF widgetOf(const vc::Point3& p) const override { return self->widgetPointOfPatient(p); }
    bool onImage(QPointF w) const override {
        double u = 0, v = 0;
        return self->pixelAt(w, u, v);
    }
    int acquiredSlice() const override { return volume && complete && acquisition() ? volumeSlice() : -1; }
    vc::Point3 normal() const override { return frame.through; }

    void updateCursor(QPointF p);
};

} // namespace vg
