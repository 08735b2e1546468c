// The slice view's mouse and keyboard: the mouse modes (window/level, zoom, pan, scroll) and the
// measuring tools' drawing and editing of calipers, the keys of the view.
#include "SliceViewImpl.h"

namespace vg {

void SliceView::mousePressEvent(QMouseEvent* e) {
    setFocus();
    // a caliper under the cursor is edited; with a tool, empty image starts a new one
    if (e->button() == Qt::LeftButton && !(e->modifiers() & Qt::ShiftModifier) && d->interactor.press(e->position(), *d)) {
        d->drag = Drag::None;
        requestRender();
        return;
    }
    d->dragStart = e->position();
    d->dragWl = d->wl;
    d->dragScale = d->scale;
    d->dragFocalX = d->focalX;
    d->dragFocalY = d->focalY;
    if (e->button() == Qt::LeftButton)
        d->drag = (e->modifiers() & Qt::ShiftModifier) ? Drag::Pan : Drag::WindowLevel;
    else if (e->button() == Qt::RightButton)
        d->drag = Drag::Zoom;
    else if (e->button() == Qt::MiddleButton)
        d->drag = Drag::Pan;
    if (d->drag == Drag::WindowLevel)
        d->gl->setCursor(Qt::SizeAllCursor);
    else if (d->drag == Drag::Pan)
        d->gl->setCursor(Qt::ClosedHandCursor);
    else if (d->drag == Drag::Zoom)
        d->gl->setCursor(Qt::SizeVerCursor);
}

void SliceView::mouseMoveEvent(QMouseEvent* e) {
    if (d->interactor.dragging()) {
        d->interactor.move(e->position(), *d);
        d->updateCursor(e->position());
        requestRender();
        return;
    }
    const QPointF delta = e->position() - d->dragStart;
    switch (d->drag) {
    case Drag::WindowLevel: {
        // right widens the window, down raises the level; faster for wide windows
        const double step = std::max(1.0, d->dragWl.window / 250.0);
        setWindowLevel({d->dragWl.window + delta.x() * step, d->dragWl.level + delta.y() * step});
        break;
    }
    case Drag::Zoom:
        // dragging down magnifies, up reduces (as OHIF and most PACS), about where the drag began
        if (!d->fitted) d->openingView();
        d->zoomAbout(d->dragStart, d->dragScale, d->dragFocalX, d->dragFocalY,
                     std::clamp(d->dragScale * std::exp(-delta.y() * 0.01), d->fitScale / 20, d->fitScale * 4));
        requestRender();
        emit viewChanged();
        break;
    case Drag::Pan: {
        const double ppm = d->pixelsPerMm() / d->dpr();
        d->focalX = d->dragFocalX - delta.x() / ppm;
        d->focalY = d->dragFocalY - delta.y() / ppm;
        requestRender();
        emit viewChanged();
        break;
    }
    case Drag::None: break;
    }
    d->updateCursor(e->position());
    requestRender();
}

void SliceView::mouseReleaseEvent(QMouseEvent*) {
    if (d->interactor.release()) {
        if (const auto request = d->interactor.takeAssistRequest()) {
            proposeAt(request->first, request->second, d->assistNodal);
            return;
        }
        requestRender();
        emit measurementsChanged();
        return;
    }
    d->drag = Drag::None;
    d->gl->setCursor(d->interactor.tool() == Tool::None ? Qt::ArrowCursor : Qt::CrossCursor);
}

void SliceView::mouseDoubleClickEvent(QMouseEvent* e) {
    // with a measuring tool, or on a measurement, a quick second press is a press, not "fit"
    if (d->interactor.editable() &&
        (d->interactor.tool() != Tool::None || d->interactor.hit(e->position(), *d).second != MeasurementInteractor::Grip::None)) {
        mousePressEvent(e);
        return;
    }
    fit();
}

void SliceView::wheelEvent(QWheelEvent* e) {
    const int notches = e->angleDelta().y() / 120;
    if (notches == 0) return;
    if (e->modifiers() & Qt::ControlModifier) { // about the cursor: the lesion under it stays under it
        if (!d->volume) return;
        if (!d->fitted) d->openingView();
        d->zoomAbout(e->position(), d->scale, d->focalX, d->focalY,
                     std::clamp(d->scale / std::pow(1.15, notches), d->fitScale / 20, d->fitScale * 4));
        requestRender();
        emit viewChanged();
    } else
        setSlice(d->k - notches); // wheel towards the user goes down through the patient
    d->updateCursor(e->position());
    e->accept();
}

void SliceView::keyPressEvent(QKeyEvent* e) {
    switch (e->key()) {
    case Qt::Key_Up: setSlice(d->k - 1); return;
    case Qt::Key_Down: setSlice(d->k + 1); return;
    case Qt::Key_PageUp: setSlice(d->k - 10); return;
    case Qt::Key_PageDown: setSlice(d->k + 10); return;
    case Qt::Key_Home: setSlice(0); return;
    case Qt::Key_End: setSlice(sliceCount() - 1); return;
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomBy(1.25); return;
    case Qt::Key_Minus: zoomBy(0.8); return;
    case Qt::Key_Delete:
    case Qt::Key_Backspace:
        if (deleteSelectedMeasurement()) return;
        break;
    case Qt::Key_Return:
    case Qt::Key_Enter:
        if (acceptProposal()) return;
        break;
    case Qt::Key_Escape:
        if (discardProposal()) return;
        if (d->interactor.selected()) {
            d->interactor.select(0);
            requestRender();
            return;
        }
        break;
    default: break;
    }
    if (e->matches(QKeySequence::Undo) && undoMeasurement()) return;
    if (e->matches(QKeySequence::Redo) && redoMeasurement()) return;
    QWidget::keyPressEvent(e);
}

void SliceView::leaveEvent(QEvent* e) {
    d->cursorText.clear();
    requestRender();
    QWidget::leaveEvent(e);
}

void SliceView::focusInEvent(QFocusEvent* e) {
    emit focused();
    QWidget::focusInEvent(e);
}

} // namespace vg
