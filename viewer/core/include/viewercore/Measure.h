#pragma once
// Lesion measurements on a slice, without a GUI: a long-axis caliper and the bidimensional
// measurement (long axis and the perpendicular short axis, for lymph nodes). End points are
// kept in patient coordinates (mm, LPS), so lengths are right for non-square pixels and any
// orientation; each measurement keeps its image reference (series, SOP instance, slice).
// MeasurementSet holds a slice's or a read's measurements with undo and redo.
#include "read/Payload.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vc {

// The caliper's data type is the read payload's (reader-queue/read): one type from the
// screen to the queue; the geometry that edits it lives here.
using Point3 = rq::Point3;
using rq::distanceMm;
using Measurement = rq::Caliper;

/// The short axis of a bidimensional measurement: through the long axis' midpoint,
/// perpendicular to it in the slice plane (normal n), `length` mm long.
std::array<Point3, 2> perpendicularAxis(const Point3& a, const Point3& b, const Point3& normal, double length);

/// Moves one short-axis end point to where the user dragged it, kept on the line
/// perpendicular to the long axis through its midpoint (the other end stays).
Point3 projectOnShortAxis(const Measurement& m, const Point3& dragged);

class MeasurementSet {
public:
    const std::vector<Measurement>& all() const { return items_; }
    const Measurement* find(int id) const;
    int add(Measurement m); ///< returns the new id
    /// Replaces the whole set (no undo history); new ids start at firstFreeId or above.
    void reset(std::vector<Measurement> items, int firstFreeId = 1);
    bool update(const Measurement& m);               ///< by id; false when unknown
    bool setLabel(int id, const std::string& label); ///< not recorded for undo
    bool remove(int id);
    bool undo();
    bool redo();
    bool canUndo() const { return !undo_.empty(); }
    bool canRedo() const { return !redo_.empty(); }

private:
    void remember();
    std::vector<Measurement>::iterator at(int id);
    std::vector<Measurement> items_;
    std::vector<std::vector<Measurement>> undo_, redo_;
    int nextId_ = 1;
};

} // namespace vc
