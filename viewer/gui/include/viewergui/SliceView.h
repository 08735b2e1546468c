#pragma once
// One image view: a plane of a loaded volume drawn by VTK (a vtkGenericOpenGLRenderWindow we
// drive ourselves: Debian's VTK Qt module is Qt 5 only) into a native OpenGL window
// (QOpenGLWindow in a window container). Not a QOpenGLWidget: Qt composes every QOpenGLWidget
// frame into the top-level window, which alone cost 18 ms per 1024x1024 frame on Mesa's
// llvmpipe (measured with an empty paintGL) - the slice-change goal of 60 per second could not
// be met through it; a native window presents VTK's frame with one blit and a swap. The slice is windowed to 8-bit grey by viewer::core and uploaded as one
// texture; VTK draws it with the overlay (pseudonym and timepoint only, slice position and
// thickness, W/L, zoom, HU under the cursor, orientation labels). VTK stays out of this header.
#include "viewercore/Display.h"
#include "viewercore/Measure.h"

#include <QImage>
#include <QRect>
#include <QWidget>

class QWindow;
#include <QPointF>
#include <QString>

#include <array>
#include <memory>
#include <vector>

namespace vg {

class GlWindow;

class SliceView : public QWidget {
    Q_OBJECT
public:
    explicit SliceView(QWidget* parent = nullptr);
    ~SliceView() override;

    /// Shows a volume. While it is still loading only `readySlice` can be shown (the middle
    /// slice); call volumeComplete() when every slice is in.
    void setVolume(std::shared_ptr<const vc::Volume> volume, const QString& caption, double sliceThickness, int readySlice = -1);
    void volumeComplete();
    std::shared_ptr<const vc::Volume> volume() const; ///< the volume shown (null when none)
    void clearVolume();
    bool hasVolume() const;
    bool complete() const;

    void setPlane(vc::Plane plane);
    vc::Plane plane() const;
    const vc::SliceFrame& frame() const;

    void setSlice(int k);
    int slice() const;
    int sliceCount() const;
    double slicePosition() const;
    void setSlicePosition(double mm);

    /// The unit of the value under the cursor: "HU" for CT, empty for MR and others.
    void setValueUnit(const QString& unit);
    void setWindowLevel(vc::WindowLevel wl);
    vc::WindowLevel windowLevel() const;

    void fit();
    void zoomBy(double factor);
    double zoom() const; ///< screen pixels per image mm, relative to the fitted view
    /// The patient position (mm, LPS) at the centre of the view.
    std::array<double, 3> centre() const;
    /// Half the view's height in mm (the zoom in absolute terms).
    double halfHeightMm() const;
    /// Screen pixels (logical) per mm of the patient; linked views share it.
    double pixelsPerMm() const;
    void setPixelsPerMm(double ppm);
    /// Takes another view's zoom and puts its centre's height (S-I, for coronal and sagittal
    /// views of two timepoints) at this view's centre; the horizontal pan stays.
    void alignVertically(double patientZ, double halfHeightMm);

    /// Where the centre of image pixel (u, v) of the current plane is drawn, in widget
    /// coordinates (logical pixels), and the inverse (false outside the image).
    QPointF widgetPointOf(double u, double v) const;
    bool pixelAt(QPointF widgetPoint, double& u, double& v) const;

    std::array<QString, 4> edgeLabels() const; ///< left, right, top, bottom
    QString overlayText() const;               ///< every overlay line, for tests and accessibility
    /// Where the four corner texts and the top and bottom orientation letters are (display
    /// pixels; empty texts left out): they never overlap, a narrow view stacks them instead.
    std::vector<QRect> cornerTextBoxes() const;
    /// A newly shown series opens magnified to at least this many screen pixels per mm (0: the
    /// whole image fitted): fitted to the body when that is enough, else at this magnification
    /// about the body's centre. F (fit) still shows the whole image.
    void setOpeningMagnification(double pixelsPerMm);

    // ---- measurements (on the acquired slices: not in a reformat)
    enum class Tool { None, LongAxis, Bidimensional, Point, Assist };
    /// The tool a left drag on empty image uses (a drag on an existing measurement edits it).
    void setTool(Tool tool);
    Tool tool() const;
    /// The series shown and its images' SOP instance UIDs by index along the normal: what
    /// each measurement refers to.
    void setImageReferences(const std::string& seriesUid, std::vector<std::string> sopBySlice);
    const vc::MeasurementSet& measurements() const;
    /// Shows a read's calipers on this series (no undo history); new ones get ids >= firstFreeId.
    void setMeasurements(std::vector<vc::Measurement> items, int firstFreeId = 1);
    /// Names the lesion a caliper measures (drawn beside its length); not an undoable edit.
    void labelMeasurement(int id, const std::string& label);
    void selectMeasurement(int id);
    /// False: calipers are shown but cannot be drawn, edited or deleted (a signed timepoint, the prior).
    void setMeasurementsEditable(bool editable);
    bool measurementsEditable() const;
    int selectedMeasurement() const; ///< id, 0 when none
    bool undoMeasurement();
    bool redoMeasurement();
    bool deleteSelectedMeasurement();
    /// One-click measurement (Tool::Assist, or called directly): segments the lesion around p
    /// (a rough line a-b when the reader dragged one), and on success adds the proposed long and
    /// short axes as a caliper that is *pending*: shown with the faint outline, editable, but
    /// not part of the read until acceptProposal() (Enter); discardProposal() (Esc) removes it.
    /// Emits assistMessage with the result or why nothing is proposed. Returns the pending id or 0.
    int proposeAt(const vc::Point3& a, const vc::Point3& b, bool node = false);
    int pendingProposal() const; ///< the pending caliper's id, 0 when none
    /// What the one-click tool measures: a lymph node (the slice where the short axis is longest).
    void setAssistNodal(bool nodal);
    bool acceptProposal();
    bool discardProposal();
    /// Scrolls to the slice through p and pans so that p is at the centre (a lesion's last
    /// known position).
    void centreOn(const vc::Point3& p);
    /// Where a patient point of the current slice is drawn (widget coordinates).
    QPointF widgetPointOfPatient(const vc::Point3& p) const;
    /// Whether this plane steps through the acquired images (measuring is allowed).
    bool acquisitionPlane() const;

    /// For the benchmark: VTK's multisampling (off by default: it costs a resolve per frame).
    void setMultiSamples(int samples);
    /// Draws and presents the frame now (changes otherwise draw at the next event loop pass).
    void renderNow();
    /// Draws the frame and returns exactly what is presented (device pixels).
    QImage grabFrame();
    /// Schedules a redraw.
    void requestRender();
    /// The native window the frame is drawn into (it receives the mouse; tests drive it).
    QWindow* surface() const;
    /// Waits until OpenGL has finished every command (benchmarks).
    void finish();
    /// The OpenGL renderer's name (benchmarks print it), empty before the window is shown.
    QString renderer();

signals:
    void sliceChanged(int k, double position);
    void windowLevelChanged(vc::WindowLevel wl);
    void planeChanged(vc::Plane plane);
    void viewChanged(); ///< zoom or pan changed by the user
    void measurementsChanged();
    void assistMessage(const QString& text);
    void focused();

protected:
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void mouseDoubleClickEvent(QMouseEvent* e) override;
    void wheelEvent(QWheelEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void leaveEvent(QEvent* e) override;
    void focusInEvent(QFocusEvent* e) override;

private:
    friend class GlWindow;
    void initializeGL();
    void resizeGL();
    void paintGL();
    struct Impl;
    std::unique_ptr<Impl> d;
};

/// Sets the default surface format (OpenGL 3.2 core, depth 24, stencil 8) and context
/// sharing VTK needs; call before constructing QApplication.
void prepareOpenGL();

} // namespace vg
