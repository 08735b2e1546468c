#include "viewercore/Measure.h"

#include <algorithm>
#include <cmath>

namespace vc {

namespace {

Point3 sub(const Point3& a, const Point3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const Point3& a, const Point3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Point3 cross(const Point3& a, const Point3& b) { return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]}; }
Point3 scaled(const Point3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
Point3 added(const Point3& a, const Point3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Point3 unit(const Point3& a) {
    const double n = std::sqrt(dot(a, a));
    return n > 0 ? scaled(a, 1 / n) : Point3{0, 0, 0};
}

} // namespace

std::array<Point3, 2> perpendicularAxis(const Point3& a, const Point3& b, const Point3& normal, double length) {
    const Point3 mid = scaled(added(a, b), 0.5);
    const Point3 across = unit(cross(normal, sub(b, a)));
    return {added(mid, scaled(across, -length / 2)), added(mid, scaled(across, length / 2))};
}

Point3 projectOnShortAxis(const Measurement& m, const Point3& dragged) {
    const Point3 mid = scaled(added(m.a, m.b), 0.5);
    const Point3 across = unit(sub(m.d, m.c));
    return added(mid, scaled(across, dot(sub(dragged, mid), across)));
}

std::vector<Measurement>::iterator MeasurementSet::at(int id) {
    return std::find_if(items_.begin(), items_.end(), [&](const Measurement& x) { return x.id == id; });
}

const Measurement* MeasurementSet::find(int id) const {
    for (const auto& m : items_)
        if (m.id == id) return &m;
    return nullptr;
}

namespace {

/// One step back (or forward): the current list goes onto the other stack.
bool step(std::vector<std::vector<Measurement>>& from, std::vector<std::vector<Measurement>>& to, std::vector<Measurement>& items) {
    if (from.empty()) return false;
    to.push_back(std::move(items));
    items = std::move(from.back());
    from.pop_back();
    return true;
}

} // namespace

void MeasurementSet::remember() {
    undo_.push_back(items_);
    redo_.clear();
}

int MeasurementSet::add(Measurement m) {
    remember();
    m.id = nextId_++;
    items_.push_back(m);
    return m.id;
}

void MeasurementSet::reset(std::vector<Measurement> items, int firstFreeId) {
    items_ = std::move(items);
    undo_.clear();
    redo_.clear();
    nextId_ = firstFreeId;
    for (const Measurement& m : items_) nextId_ = std::max(nextId_, m.id + 1);
}

bool MeasurementSet::setLabel(int id, const std::string& label) {
    const auto it = at(id);
    if (it == items_.end()) return false;
    it->label = label;
    return true;
}

bool MeasurementSet::update(const Measurement& m) {
    const auto it = at(m.id);
    if (it == items_.end()) return false;
    remember();
    *it = m;
    return true;
}

bool MeasurementSet::remove(int id) {
    const auto it = at(id);
    if (it == items_.end()) return false;
    remember();
    items_.erase(it);
    return true;
}

bool MeasurementSet::undo() { return step(undo_, redo_, items_); }

bool MeasurementSet::redo() { return step(redo_, undo_, items_); }

} // namespace vc
