// Plane geometry on a lesion's outline (mm, in the slice's row/column axes): the maximum
// Feret diameter, the longest chord perpendicular to it, polygon area and convex hull.
#pragma once

#include <array>
#include <vector>

namespace assist::plane {

using V2 = std::array<double, 2>;

struct Axes {
    double longMm = 0, shortMm = 0;
    V2 longA{}, longB{}, shortA{}, shortB{};
};

/// Shoelace area (absolute) of a closed polygon.
double area(const std::vector<V2>& polygon);
/// Convex hull (monotone chain), counter-clockwise.
std::vector<V2> convexHull(std::vector<V2> points);
/// Polygon contains the point (even-odd rule).
bool contains(const std::vector<V2>& polygon, const V2& p);
/// The maximum Feret diameter of the outline and the longest chord of the outline perpendicular
/// to it (RECIST: the long axis, and the longest diameter perpendicular to it).
Axes recistAxes(const std::vector<V2>& polygon);

} // namespace assist::plane
