#pragma once
// Types the workstation's source files share (kept out of the public headers: the queue and
// the reading model stay out of the widgets' interface).
#include "readerqueue/Queue.h"
#include "viewergui/AdjudicationPanel.h"
#include "assist/Assist.h"
#include "viewerreading/ReadModel.h"

#include <QString>
#include <QStringList>

#include <memory>

namespace vg {

struct SignedIn {
    std::unique_ptr<rq::Queue> queue;
    rq::Session session;
};

/// The read open on the right: the reader's own timepoint.
struct ReadingState {
    QString subject;
    int ordinal = 0;       ///< 1 = baseline
    int slot = 0;          ///< the reader's slot on the subject (Reader 1 / 2), 0 when unknown
    bool editable = false; ///< open or draft (a signed timepoint is shown read-only)
    QString visit;         ///< BASELINE, WEEK 8 ...
    std::shared_ptr<vr::ReadModel> model;
    /// The current scan registered to the reader's own previous timepoint (the prior pane), in the
    /// background: the lesions found on the new scan. The volumes are held while it lives.
    struct Registration {
        std::shared_ptr<const vc::Volume> prior, current;
        std::shared_ptr<assist::Registration> done; ///< null while running or when it failed
        QString failed;
        double seconds = 0;
    };
    std::shared_ptr<Registration> registration;
};

/// The adjudication open in the workstation: both reads and the subject's images through the round.
struct Subject;
struct AdjudicationState {
    QString subject;
    rq::Queue::AdjudicationCase item;
    std::vector<std::vector<vr::Draft>> drafts; ///< by side (Reader 1, Reader 2), then timepoint
    std::shared_ptr<const Subject> images;
    std::vector<CaseSide> sides;
    QStringList visits;
};

} // namespace vg
