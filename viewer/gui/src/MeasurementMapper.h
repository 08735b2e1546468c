#pragma once
// Draws calipers (see MeasurementInteractor.h for the split): their lines in display
// coordinates over the slice, the selected one in another colour with grips on its ends, and a
// length label beside each ("T01  43.2 mm", "N01  21.0 x 12.5 mm"). Owns its VTK props.
#include "viewercore/Measure.h"

#include <vtkNew.h>

#include <array>
#include <functional>
#include <memory>
#include <vector>

class vtkActor2D;
class vtkCellArray;
class vtkPoints;
class vtkPolyData;
class vtkPolyDataMapper2D;
class vtkRenderer;

namespace vg {

class OverlayText;

class MeasurementMapper {
public:
    MeasurementMapper();
    ~MeasurementMapper();
    /// Adds the lines to a renderer (once), with line widths for the device pixel ratio.
    void attach(vtkRenderer* renderer, double dpr);
    /// Display pixels (origin bottom left) of a patient point on the slice shown.
    using Display = std::function<std::array<double, 2>(const vc::Point3&)>;
    /// Rebuilds the lines and labels for this frame (cheap: a few points).
    void place(const std::vector<const vc::Measurement*>& shown, int selectedId, const vc::Measurement* editing, const Display& display,
               double dpr);
    /// The segmented outline behind a one-click proposal (faint), empty for none.
    void placeOutline(const std::vector<vc::Point3>& outline, const Display& display);

private:
    struct Layer;
    std::unique_ptr<Layer> lines_, selected_, outline_;
    vtkRenderer* renderer_ = nullptr;
    std::vector<std::unique_ptr<OverlayText>> labels_;
};

} // namespace vg
