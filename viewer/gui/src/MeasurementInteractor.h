#pragma once
// The slice view's calipers, split as MITK splits planar figures: the data is the view's
// vc::MeasurementSet (core, no Qt widgets), MeasurementMapper draws it, and this interactor turns
// mouse presses, drags and releases into new or edited calipers - which end a press grips, the
// caliper being drawn, the selection, undo-able commits to the set. It knows the slice only
// through SliceProjection (widget point <-> patient point, the slice shown).
#include "viewercore/Measure.h"
#include "viewergui/SliceView.h"

#include <QPointF>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vg {

/// What the interactor needs to know of the slice on screen.
class SliceProjection {
public:
    virtual ~SliceProjection() = default;
    virtual vc::Point3 patientAt(QPointF widget) const = 0;
    virtual QPointF widgetOf(const vc::Point3& patient) const = 0;
    /// Whether a widget point lies on the image (a new caliper starts only there).
    virtual bool onImage(QPointF widget) const = 0;
    /// The index along the volume's normal of the slice shown; -1 when calipers cannot be drawn
    /// (a reformatted plane: calipers are measured on acquired slices only).
    virtual int acquiredSlice() const = 0;
    virtual vc::Point3 normal() const = 0;
};

class MeasurementInteractor {
public:
    enum class Grip { None, New, A, B, C, D, Move };
    explicit MeasurementInteractor(vc::MeasurementSet& data) : data_(data) {}

    void setTool(SliceView::Tool tool) { tool_ = tool; }
    SliceView::Tool tool() const { return tool_; }
    void setEditable(bool editable);
    bool editable() const { return editable_; }
    void setImageReferences(std::string seriesUid, std::vector<std::string> sopBySlice);
    std::pair<std::string, std::vector<std::string>> imageReferences() const { return {seriesUid_, sopBySlice_}; }

    int selected() const { return selected_; }
    /// Selects a caliper of the set (0: none); false when there is no such caliper.
    bool select(int id);
    /// The caliper being drawn or edited, or null.
    const vc::Measurement* editing() const { return grip_ != Grip::None ? &editing_ : nullptr; }
    bool dragging() const { return grip_ != Grip::None; }
    /// Drops what is being drawn and a selection the data no longer has (after reset, undo...).
    void forgetStale();

    /// The calipers on the slice shown, the one being edited in place of its stored self.
    std::vector<const vc::Measurement*> onSlice(const SliceProjection& slice) const;
    /// What a press at w grabs: an end point within 8 px, else a line within 5 px.
    std::pair<int, Grip> hit(QPointF w, const SliceProjection& slice) const;
    /// A left press: grips a caliper, or starts one with a tool on the image. False when the
    /// press is not the interactor's (it then clears the selection: the press windows or pans).
    bool press(QPointF w, const SliceProjection& slice);
    void move(QPointF w, const SliceProjection& slice);
    /// Ends a drag: a new caliper of at least 1 mm is added (a click is not a measurement), an
    /// edited one updated. True when a drag ended (the data may have changed).
    bool release();
    /// With the one-click tool, a press and release on the image is a request (the two ends of
    /// the drag; equal for a click), not a caliper: taken once.
    std::optional<std::pair<vc::Point3, vc::Point3>> takeAssistRequest();

private:
    vc::MeasurementSet& data_;
    SliceView::Tool tool_ = SliceView::Tool::None;
    bool editable_ = true;
    std::string seriesUid_;
    std::vector<std::string> sopBySlice_;
    int selected_ = 0;
    Grip grip_ = Grip::None;
    vc::Measurement editing_;
    vc::Point3 gripStart_{};
    std::optional<std::pair<vc::Point3, vc::Point3>> assistRequest_;
};

} // namespace vg
