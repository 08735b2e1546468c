// Drawing and editing calipers with the mouse (see MeasurementInteractor.h).
#include "MeasurementInteractor.h"

#include <QLineF>

#include <algorithm>

namespace vg {

void MeasurementInteractor::setEditable(bool editable) {
    editable_ = editable;
    if (!editable) grip_ = Grip::None;
}

void MeasurementInteractor::setImageReferences(std::string seriesUid, std::vector<std::string> sopBySlice) {
    seriesUid_ = std::move(seriesUid);
    sopBySlice_ = std::move(sopBySlice);
}

bool MeasurementInteractor::select(int id) {
    selected_ = data_.find(id) ? id : 0;
    return selected_ != 0 || id == 0;
}

void MeasurementInteractor::forgetStale() {
    grip_ = Grip::None;
    if (!data_.find(selected_)) selected_ = 0;
}

std::vector<const vc::Measurement*> MeasurementInteractor::onSlice(const SliceProjection& slice) const {
    std::vector<const vc::Measurement*> out;
    const int z = slice.acquiredSlice();
    if (z < 0) return out;
    for (const auto& m : data_.all())
        if (m.slice == z && (grip_ == Grip::None || m.id != editing_.id)) out.push_back(&m);
    if (grip_ != Grip::None && editing_.slice == z) out.push_back(&editing_);
    return out;
}

std::pair<int, MeasurementInteractor::Grip> MeasurementInteractor::hit(QPointF w, const SliceProjection& slice) const {
    const double pick = 8, line = 5;
    std::pair<int, Grip> best{0, Grip::None};
    double bestDistance = pick;
    const auto shown = onSlice(slice);
    for (const vc::Measurement* m : shown) {
        const std::vector<std::pair<Grip, vc::Point3>> ends =
            m->kind == vc::Measurement::Kind::Bidimensional
                ? std::vector<std::pair<Grip, vc::Point3>>{{Grip::A, m->a}, {Grip::B, m->b}, {Grip::C, m->c}, {Grip::D, m->d}}
            : m->kind == vc::Measurement::Kind::Point ? std::vector<std::pair<Grip, vc::Point3>>{{Grip::Move, m->a}}
                                                      : std::vector<std::pair<Grip, vc::Point3>>{{Grip::A, m->a}, {Grip::B, m->b}};
        for (const auto& [g, p] : ends) {
            const double dist = QLineF(slice.widgetOf(p), w).length();
            if (dist < bestDistance) bestDistance = dist, best = {m->id, g};
        }
    }
    if (best.second != Grip::None) return best;
    for (const vc::Measurement* m : shown) {
        if (m->kind == vc::Measurement::Kind::Point) continue; // a point is gripped at itself (above)
        const QPointF p = slice.widgetOf(m->a), q = slice.widgetOf(m->b);
        const QPointF pq = q - p;
        const double len2 = QPointF::dotProduct(pq, pq);
        const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(w - p, pq) / len2, 0.0, 1.0) : 0;
        if (QLineF(p + t * pq, w).length() < line) return {m->id, Grip::Move};
    }
    return {0, Grip::None};
}

bool MeasurementInteractor::press(QPointF w, const SliceProjection& slice) {
    if (!editable_ || slice.acquiredSlice() < 0) return false;
    // a measurement under the cursor is edited; with a tool, empty image starts a new one
    const auto [id, grip] = hit(w, slice);
    if (grip != Grip::None) {
        selected_ = id;
        editing_ = *data_.find(id);
        grip_ = grip;
        gripStart_ = slice.patientAt(w);
        return true;
    }
    if (tool_ != SliceView::Tool::None && slice.onImage(w)) {
        vc::Measurement m;
        m.kind = tool_ == SliceView::Tool::Bidimensional ? vc::Measurement::Kind::Bidimensional
                 : tool_ == SliceView::Tool::Point       ? vc::Measurement::Kind::Point
                                                         : vc::Measurement::Kind::LongAxis;
        m.seriesUid = seriesUid_;
        m.slice = slice.acquiredSlice();
        if (m.slice < static_cast<int>(sopBySlice_.size())) m.sopUid = sopBySlice_[static_cast<std::size_t>(m.slice)];
        m.a = m.b = slice.patientAt(w);
        m.id = -1;
        editing_ = m;
        grip_ = Grip::New;
        selected_ = 0;
        return true;
    }
    selected_ = 0;
    return false;
}

void MeasurementInteractor::move(QPointF w, const SliceProjection& slice) {
    if (grip_ == Grip::None) return;
    const vc::Point3 p = slice.patientAt(w);
    vc::Measurement& m = editing_;
    const vc::Point3 normal = slice.normal();
    auto keepShortAxis = [&] {
        if (m.kind == vc::Measurement::Kind::Bidimensional) {
            const auto axis = vc::perpendicularAxis(m.a, m.b, normal, m.shortMm());
            m.c = axis[0], m.d = axis[1];
        }
    };
    if (m.kind == vc::Measurement::Kind::Point) { // a point follows the mouse while it is placed or moved
        m.a = m.b = p;
        return;
    }
    switch (grip_) {
    case Grip::New:
        m.b = p;
        if (m.kind == vc::Measurement::Kind::Bidimensional) {
            const auto axis = vc::perpendicularAxis(m.a, m.b, normal, m.longMm() * 0.6); // adjusted by its ends afterwards
            m.c = axis[0], m.d = axis[1];
        }
        break;
    case Grip::A:
        m.a = p;
        keepShortAxis();
        break;
    case Grip::B:
        m.b = p;
        keepShortAxis();
        break;
    case Grip::C: m.c = vc::projectOnShortAxis(m, p); break;
    case Grip::D: m.d = vc::projectOnShortAxis(m, p); break;
    case Grip::Move: {
        const vc::Measurement* before = data_.find(m.id);
        if (!before) break;
        vc::Point3 shift{};
        for (std::size_t i = 0; i < 3; ++i) shift[i] = p[i] - gripStart_[i];
        for (auto [to, from] : {std::pair{&m.a, &before->a}, {&m.b, &before->b}, {&m.c, &before->c}, {&m.d, &before->d}})
            for (std::size_t i = 0; i < 3; ++i) (*to)[i] = (*from)[i] + shift[i];
        break;
    }
    case Grip::None: break;
    }
}

bool MeasurementInteractor::release() {
    if (grip_ == Grip::None) return false;
    const Grip grip = grip_;
    grip_ = Grip::None;
    if (grip == Grip::New && tool_ == SliceView::Tool::Assist) {
        assistRequest_ = std::make_pair(editing_.a, editing_.b);
        return true;
    }
    if (grip == Grip::New) {
        // a click is not a measurement (a point is: it says where a lesion is)
        if (editing_.kind == vc::Measurement::Kind::Point || editing_.longMm() >= 1.0) selected_ = data_.add(editing_);
        return true;
    }
    // a proposal the reader changes is theirs, edited (a click on it without moving is not)
    if (const vc::Measurement* before = data_.find(editing_.id);
        before && editing_.origin == vc::Measurement::Origin::Proposed &&
        (vc::distanceMm(before->a, editing_.a) > 1e-6 || vc::distanceMm(before->b, editing_.b) > 1e-6 ||
         vc::distanceMm(before->c, editing_.c) > 1e-6 || vc::distanceMm(before->d, editing_.d) > 1e-6))
        editing_.origin = vc::Measurement::Origin::ProposedEdited;
    data_.update(editing_);
    return true;
}

std::optional<std::pair<vc::Point3, vc::Point3>> MeasurementInteractor::takeAssistRequest() {
    auto r = assistRequest_;
    assistRequest_.reset();
    return r;
}

} // namespace vg
