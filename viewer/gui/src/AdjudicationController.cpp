// The adjudicator's screen (see AdjudicationController.h).
#include "AdjudicationController.h"

#include "Common.h"
#include "Internal.h"
#include "viewergui/Shell.h"
#include "viewergui/AdjudicationPanel.h"
#include "viewergui/SliceView.h"
#include "viewergui/ViewerPane.h"

#include <QComboBox>
#include <QDockWidget>
#include <QLineEdit>
#include <QMainWindow>

#include <algorithm>

namespace vg {

AdjudicationController::AdjudicationController(Shell& shell) : shell_(shell) {}
AdjudicationController::~AdjudicationController() = default;

void AdjudicationController::close() {
    state_.reset();
    if (panel_) panel_->clear();
}

QString AdjudicationController::subject() const { return state_ ? state_->subject : QString(); }

bool AdjudicationController::start(QString subject, QString* why) {
    if (!shell_.signedIn() || shell_.signedIn()->session.role != workflow::Role::Adjudicator) {
        if (why) *why = tr("Only an adjudicator adjudicates.");
        return false;
    }
    if (!panel_) {
        panel_ = new AdjudicationPanel;
        dock_ = shell_.addPanel(tr("Adjudication"), "adjudication", panel_, Qt::RightDockWidgetArea, 480);
        connect(panel_, &AdjudicationPanel::timepointChosen, this, [this](int ordinal) { showTimepoint(ordinal); });
        connect(panel_, &AdjudicationPanel::decideRequested, this, [this] { askDecide(); });
    }
    rq::Queue& q = *shell_.signedIn()->queue;
    const rq::Session& s = shell_.signedIn()->session;
    auto state = std::make_unique<AdjudicationState>();
    state->subject = subject;
    try {
        // take it (a task goes to one adjudicator only), then read both reads
        bool mine = false;
        for (const auto& item : q.adjudicationQueue(s))
            if (item.subject == subject.toStdString() && item.adjudicator == s.user) mine = true;
        if (!mine && !q.claimAdjudication(s, subject.toStdString())) {
            if (why) *why = tr("%1 has no adjudication to take").arg(subject);
            return false;
        }
        state->item = q.adjudicationCase(s, subject.toStdString());
    } catch (const std::exception& e) {
        if (why) *why = QString::fromStdString(e.what());
        shell_.say(tr("%1: %2").arg(subject, QString::fromStdString(e.what())), 10000);
        return false;
    }
    const auto& c = state->item;
    std::vector<CaseSide> sides;
    for (const auto& r : c.reads) {
        CaseSide side{QString::fromStdString(r.label), {}, r.result};
        std::vector<vr::Draft> drafts;
        for (const auto& tp : r.timepoints) {
            side.payloads.push_back({tp.ordinal, tp.payload});
            vr::Draft d;
            vr::Draft::parse(tp.payload, d);
            drafts.push_back(std::move(d));
        }
        state->drafts.push_back(std::move(drafts));
        sides.push_back(std::move(side));
    }
    QStringList visits;
    for (int i = 1; i <= c.item.throughOrdinal; ++i) {
        std::string label = rq::visitLabelOf(q.charter(), i); // the stored visit when the reads carry it
        for (const auto& read : c.reads)
            for (const auto& tp : read.timepoints)
                if (tp.ordinal == i && !tp.visit.empty()) label = tp.visit;
        visits << QString::fromStdString(label);
    }
    // the images: every timepoint through the round's, both sides at the same one
    auto subjectData = shell_.loadSubject(subject);
    if (!subjectData || subjectData->timepoints.empty()) {
        if (why) *why = tr("No images for %1").arg(subject);
        return false;
    }
    {
        // through the round's timepoint; named by the reading ID, without scan dates (blinded)
        auto trimmed = std::make_shared<Subject>(*subjectData);
        if (static_cast<int>(trimmed->timepoints.size()) > c.item.throughOrdinal)
            trimmed->timepoints.resize(static_cast<std::size_t>(c.item.throughOrdinal));
        trimmed->shownAs = shell_.shownName(subject);
        for (Timepoint& tp : trimmed->timepoints) tp.date.clear();
        subjectData = trimmed;
    }
    state->images = subjectData;
    state->sides = sides;
    state->visits = visits;
    state_ = std::move(state);
    shell_.setScreen(Screen::Adjudication);
    panel_->setCase(shell_.shownName(subject), c.item.round, c.item.throughOrdinal, c.item.triggers, sides, visits,
                    c.item.state == "decided");
    dock_->show();
    shell_.prior()->setTitle(tr("Reader 1"));
    shell_.current()->setTitle(tr("Reader 2"));
    shell_.setSubject(subjectData);
    showTimepoint(c.item.throughOrdinal);
    shell_.mainWindow()->setWindowTitle(tr("ReLUTH central review workstation - adjudication of %1").arg(shell_.shownName(subject)));
    return true;
}

void AdjudicationController::showTimepoint(int ordinal) {
    if (!state_) return;
    const int t = std::clamp(ordinal, 1, static_cast<int>(state_->images->timepoints.size())) - 1;
    shell_.resetOffset();
    shell_.prior()->setSubject(state_->images, t);
    shell_.current()->setSubject(state_->images, t);
    if (panel_ && panel_->timepointPicker()->currentIndex() != t) panel_->timepointPicker()->setCurrentIndex(t);
}

/// Reader 1's calipers on the left, Reader 2's on the right, on the series each side shows.
void AdjudicationController::showCalipers(ViewerPane* pane) {
    if (!state_ || !pane->subject() || pane->subject()->pseudonym != state_->subject || pane->seriesUid().empty()) return;
    const std::size_t side = pane == shell_.prior() ? 0 : 1;
    const int ordinal = pane->ordinal();
    std::vector<vc::Measurement> shown;
    if (side < state_->drafts.size() && ordinal >= 1 && ordinal <= static_cast<int>(state_->drafts[side].size()))
        for (const vc::Measurement& m : state_->drafts[side][static_cast<std::size_t>(ordinal - 1)].measurements)
            if (m.seriesUid == pane->seriesUid()) shown.push_back(m);
    pane->view()->setMeasurements(std::move(shown));
    pane->view()->setMeasurementsEditable(false);
}

bool AdjudicationController::decide(int reader, const QString& rationale, const QString& password, const QString& meaning, QString* why) {
    if (!state_ || !shell_.signedIn()) {
        if (why) *why = tr("No adjudication is open.");
        return false;
    }
    try {
        shell_.signedIn()->queue->decide(shell_.signedIn()->session, state_->subject.toStdString(), reader,
                                         rationale.trimmed().toStdString(), password.toStdString(), meaning.toStdString());
    } catch (const std::exception& e) {
        if (why) *why = QString::fromStdString(e.what());
        return false;
    }
    const QString subject = state_->subject;
    shell_.say(tr("%1: Reader %2 accepted, decision signed").arg(subject).arg(reader), 15000);
    shell_.buildHome();
    if (panel_) { // shown as decided, with the images as they are
        const auto& item = state_->item.item;
        const int shownTimepoint = panel_->timepointPicker()->currentIndex();
        panel_->setCase(shell_.shownName(subject), item.round, item.throughOrdinal, item.triggers, state_->sides, state_->visits, true);
        panel_->timepointPicker()->setCurrentIndex(shownTimepoint);
        panel_->setMessage(tr("Decided: Reader %1 accepted.").arg(reader), false);
    }
    return true;
}

bool AdjudicationController::askDecide() {
    if (!state_ || !panel_) return false;
    const int reader = panel_->chosenReader();
    const QString rationale = panel_->rationale();
    if (reader == 0 || rationale.isEmpty()) {
        panel_->setMessage(tr("Choose a read and write the rationale first."), true);
        return false;
    }
    FormDialog dialog(shell_.mainWindow(), "decideDialog", tr("Sign the adjudication of %1").arg(state_->subject), tr("Sign"),
                      "decideError");
    dialog.addText(tr("Accept Reader %1's read of %2.\nRationale: %3").arg(reader).arg(state_->subject, rationale));
    QComboBox* meaning = dialog.addMeaning({tr("I am the adjudicator of this subject and accept the chosen read")});
    QLineEdit* password = dialog.addPassword(tr("Password (%1)").arg(shell_.signedInUser()), "decidePassword");
    return dialog.run([&](QString* why) { return decide(reader, rationale, password->text(), meaning->currentText(), why); });
}

} // namespace vg
