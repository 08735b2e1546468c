#pragma once
// Types the workstation's source files share (kept out of the public headers: the queue and
// the reading model stay out of the widgets' interface).
#include "readerqueue/Queue.h"
#include "viewerreading/ReadModel.h"

#include <QString>

#include <memory>

namespace vg {

struct SignedIn {
    std::unique_ptr<rq::Queue> queue;
    rq::Session session;
};

/// The read open on the right: the reader's own timepoint.
struct ReadingState {
    QString subject;
    int ordinal = 0;        ///< 1 = baseline
    int slot = 0;           ///< the reader's slot on the subject (Reader 1 / 2), 0 when unknown
    bool editable = false;  ///< open or draft (a signed timepoint is shown read-only)
    QString visit;          ///< BASELINE, WEEK 8 ...
    std::shared_ptr<vr::ReadModel> model;
};

} // namespace vg
