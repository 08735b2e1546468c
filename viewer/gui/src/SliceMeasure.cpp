// The slice as the calipers see it: patient <-> widget <-> display points, the acquired slice
// shown (MeasurementInteractor's SliceProjection), and the mapper called for each frame.
#include "SliceViewImpl.h"

namespace vg {

bool SliceView::Impl::acquisition() const {
    return volume && std::abs(frame.strideK) == static_cast<std::ptrdiff_t>(volume->geometry.nx) * volume->geometry.ny;
}

vc::Point3 SliceView::Impl::patientAt(QPointF w) const {
    double u = 0, v = 0;
    self->pixelAt(w, u, v);
    return frame.patient(u, v, k);
}

std::array<double, 2> SliceView::Impl::display(const vc::Point3& p) const {
    const QPointF w = self->widgetPointOfPatient(p);
    return {w.x() * dpr(), deviceHeight() - w.y() * dpr()};
}

void SliceView::Impl::placeMeasurements() {
    auto toDisplay = [this](const vc::Point3& p) { return display(p); };
    mapper.place(interactor.onSlice(*this), interactor.selected(), interactor.editing(), toDisplay, dpr());
    const vc::Measurement* prop = pending ? measures.find(pending) : nullptr;
    mapper.placeOutline(prop && prop->slice == acquiredSlice() ? pendingOutline : std::vector<vc::Point3>{}, toDisplay);
}

} // namespace vg
