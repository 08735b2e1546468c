// The reading workflow of the workstation: a reader's own timepoint on the right with the
// lesion panel, calipers that become lesion values, autosave to the reading queue, jump to a
// lesion, and the signature that locks the timepoint and writes its TID 1500 report.
#include "ReadingController.h"

#include "Common.h"
#include "Internal.h"
#include "viewergui/Shell.h"
#include "viewergui/ReadingPanel.h"
#include "viewergui/SliceView.h"
#include "viewergui/ViewerPane.h"

#include "viewerreading/MeasurementReport.h"

#include <QFile>

#include <QFutureWatcher>
#include <QtConcurrent>
#include <QAction>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QLineEdit>
#include <QMainWindow>
#include <QStatusBar>

#include <algorithm>
#include <set>

namespace vg {

ReadingController::ReadingController(Shell& shell) : shell_(shell) {}
ReadingController::~ReadingController() {
    for (QFuture<void>& f : registrations_) f.waitForFinished();
}

QString ReadingController::subject() const { return state_ ? state_->subject : QString(); }
int ReadingController::ordinal() const { return state_ ? state_->ordinal : 0; }
bool ReadingController::editable() const { return state_ && state_->editable; }

QString ReadingController::reportsFolder() const {
    if (!reports_.isEmpty()) return reports_;
    if (!shell_.store().isEmpty()) return QDir::cleanPath(QDir(shell_.store()).absoluteFilePath("../reports"));
    // a DICOMweb store: the reader's machine keeps nothing after sign-out; the report reaches the
    // PACS through the queue's outbox
    if (!shell_.webCache().empty()) return QString::fromStdString((shell_.webCache() / "reports").string());
    return QDir::current().absoluteFilePath("reports");
}

void ReadingController::end() {
    state_.reset();
    if (shell_.currentScreen() == Screen::Reading) shell_.setScreen(Screen::Images);
    if (panel_) panel_->clear();
    for (ViewerPane* p : {shell_.prior(), shell_.current()}) p->view()->setMeasurementsEditable(true);
}

void ReadingController::start(QString subject, int ordinal) {
    end();
    if (!shell_.signedIn() || shell_.signedIn()->session.role != workflow::Role::Reader) return;
    if (!panel_) {
        panel_ = new ReadingPanel;
        dock_ = shell_.addPanel(tr("Lesions and response"), "reading", panel_, Qt::RightDockWidgetArea, 470);
        // no wider than it needs: the images keep ~2 px per mm beside it on a 1920-pixel screen
        shell_.mainWindow()->resizeDocks({dock_}, {560}, Qt::Horizontal);
        connect(panel_, &ReadingPanel::edited, this, [this] {
            syncCaliperLabels();
            saveDraft();
        });
        connect(panel_, &ReadingPanel::lesionActivated, this, [this](const QString& id) {
            jumpToLesion(id);
            armToolFor(id);
        });
        connect(panel_, &ReadingPanel::useCaliperRequested, this, [this] {
            QString why;
            if (!useSelectedCaliper(&why) && !why.isEmpty()) panel_->setSaveState(why, true);
        });
        connect(panel_, &ReadingPanel::signRequested, this, [this] { askSign(); });
        connect(panel_, &ReadingPanel::targetAdded, this, [this](const QString&) {
            // drawn first, named second: a selected caliper that measures nothing yet measures the new target
            const vc::Measurement* m = shell_.current()->view()->measurements().find(shell_.current()->view()->selectedMeasurement());
            if (m && m->label.empty()) useSelectedCaliper();
        });
        connect(shell_.current()->view(), &SliceView::measurementsChanged, this, [this] { calipersChanged(); });
        for (ViewerPane* p : {shell_.prior(), shell_.current()}) connect(p, &ViewerPane::loaded, this, [this] { registerPrior(); });
    }
    dock_->show();
    rq::Queue& q = *shell_.signedIn()->queue;
    const rq::Session& s = shell_.signedIn()->session;
    auto state = std::make_unique<ReadingState>();
    state->subject = subject;
    state->ordinal = ordinal;
    try {
        const auto own = q.ownRead(s, subject.toStdString());
        std::vector<rq::TimepointRead> earlier;
        const rq::Queue::OwnTimepoint* tp = nullptr;
        for (const auto& t : own.timepoints) {
            if (t.ordinal < ordinal && t.state == "signed") earlier.push_back({t.ordinal, t.studyDate, t.payload, t.visitNum, t.visit});
            if (t.ordinal == ordinal) tp = &t;
        }
        if (!tp) return;
        state->editable = tp->state == "open" || tp->state == "draft";
        state->visit = QString::fromStdString(tp->visit);
        for (const auto& item : q.worklist(s))
            if (item.subject == subject.toStdString()) state->slot = item.slot;
        // a signed timepoint is shown as signed: the earlier ones before it, its own payload
        if (!state->editable) {
            earlier.erase(std::remove_if(earlier.begin(), earlier.end(), [&](const rq::TimepointRead& e) { return e.ordinal >= ordinal; }),
                          earlier.end());
        }
        state->model = std::make_shared<vr::ReadModel>(q.charter(), subject.toStdString(), own.dates, std::move(earlier), ordinal,
                                                       tp->studyDate, tp->payload, tp->visitNum, tp->visit);
    } catch (const std::exception& e) {
        shell_.say(tr("%1: %2").arg(subject, QString::fromStdString(e.what())), 10000);
        return;
    }
    // a read is only ever shown beside its own visit's images: the queue's timepoint by identity
    if (shell_.current()->ordinal() != ordinal) {
        shell_.say(tr("The images on the right are not timepoint %1: its read is not opened beside them").arg(ordinal), 10000);
        return;
    }
    if (const Subject* onScreen = shell_.subject()) {
        const Timepoint& shown = onScreen->timepoints[static_cast<std::size_t>(shell_.current()->timepoint())];
        if (const QString why = shown.visitMismatch(); !why.isEmpty()) {
            shell_.say(tr("Timepoint %1 is not read here: %2. Tell the trial manager.").arg(ordinal).arg(why), 15000);
            shell_.current()->view()->setMeasurementsEditable(false);
            return;
        }
    }
    state_ = std::move(state);
    shell_.setScreen(Screen::Reading);
    const QString title = tr("%1 - timepoint %2 (%3)%4")
                              .arg(shell_.shownName(subject))
                              .arg(ordinal)
                              .arg(state_->visit, state_->editable ? QString() : tr(" - signed"));
    panel_->setRead(state_->model, title, state_->editable);
    shell_.current()->view()->setMeasurementsEditable(state_->editable);
    // left-drag windows: the caliper is taken up only while a selected lesion waits for it
    armToolFor(panel_->selectedLesion());
    shell_.prior()->view()->setMeasurementsEditable(false);
    showCalipers(shell_.current());
    showCalipers(shell_.prior());
    registerPrior();
}

void ReadingController::registerPrior() {
    if (!state_ || !state_->editable || state_->ordinal < 2) return;
    ViewerPane* prior = shell_.prior();
    ViewerPane* current = shell_.current();
    // only the reader's own previous timepoint, of the same modality, both fully loaded
    if (prior->ordinal() != state_->ordinal - 1 || current->ordinal() != state_->ordinal || !prior->view()->complete() ||
        !current->view()->complete() || prior->modality() != current->modality())
        return;
    auto pv = prior->view()->volume();
    auto cv = current->view()->volume();
    if (!pv || !cv) return;
    if (state_->registration && state_->registration->prior == pv && state_->registration->current == cv) return; // this pair runs or ran
    auto reg = std::make_shared<ReadingState::Registration>();
    reg->prior = pv;
    reg->current = cv;
    state_->registration = reg;
    auto* watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcher<void>::finished, this, [this, watcher, reg] {
        watcher->deleteLater();
        if (!state_ || state_->registration != reg) return; // another read or another pair since
        if (reg->done)
            shell_.say(tr("The new scan is registered to your previous timepoint (%1 s): a lesion's row jumps to where it is now.")
                           .arg(reg->seconds, 0, 'f', 1),
                       8000);
        else
            shell_.say(tr("The new scan could not be registered to your previous timepoint: %1").arg(reg->failed), 10000);
    });
    registrations_.removeIf([](const QFuture<void>& f) { return f.isFinished(); });
    QFuture<void> future = QtConcurrent::run([reg] {
        try {
            auto r = std::make_shared<assist::Registration>(assist::Registration::global(*reg->prior, *reg->current));
            reg->seconds = r->globalMillis() / 1000;
            reg->done = std::move(r);
        } catch (const std::exception& e) {
            reg->failed = QString::fromStdString(e.what());
        }
    });
    registrations_.push_back(future);
    watcher->setFuture(future);
}

bool ReadingController::registrationReady() const { return state_ && state_->registration && state_->registration->done; }

std::optional<vc::Point3> ReadingController::proposedLocation(const QString& id) const {
    if (!registrationReady()) return std::nullopt;
    const auto before = state_->model->lastMeasurement(id.toStdString(), state_->ordinal - 1);
    if (!before) return std::nullopt;
    const vc::Point3 c{(before->a[0] + before->b[0]) / 2, (before->a[1] + before->b[1]) / 2, (before->a[2] + before->b[2]) / 2};
    const double radius = std::clamp(before->longMm() + 10.0, 20.0, 40.0);
    return state_->registration->done->mapLocal(c, radius);
}

/// The read's calipers on the series a pane shows: the timepoint being read on the right,
/// the reader's own signed calipers of the prior timepoint on the left (read only).
void ReadingController::showCalipers(ViewerPane* pane) {
    if (!state_ || !pane->showsImage() || pane->seriesUid().empty()) return;
    const int ordinal = pane->ordinal();
    const vr::Draft* draft = nullptr;
    if (ordinal == state_->ordinal && pane == shell_.current())
        draft = &state_->model->draft();
    else
        for (std::size_t i = 0; i < state_->model->earlier().size(); ++i)
            if (static_cast<int>(i) + 1 == ordinal) draft = &state_->model->earlier()[i];
    std::vector<vc::Measurement> mine;
    if (draft)
        for (const vc::Measurement& m : draft->measurements)
            if (m.seriesUid == pane->seriesUid()) mine.push_back(m);
    pane->view()->setMeasurements(std::move(mine), draft ? draft->nextMeasurementId() : 1);
    pane->view()->setMeasurementsEditable(pane == shell_.current() && ordinal == state_->ordinal && state_->editable);
}

void ReadingController::syncCaliperLabels() {
    if (!state_ || shell_.current()->seriesUid().empty()) return;
    const vr::Draft& d = state_->model->draft();
    const int pending = shell_.current()->view()->pendingProposal();
    for (const vc::Measurement& m : shell_.current()->view()->measurements().all()) {
        if (m.id == pending) continue; // a one-click proposal is not part of the read yet
        std::string label;
        for (const vc::Measurement& dm : d.measurements)
            if (dm.id == m.id && dm.seriesUid == m.seriesUid) label = dm.label;
        if (label != m.label) shell_.current()->view()->labelMeasurement(m.id, label);
    }
}

void ReadingController::calipersChanged() {
    if (!state_ || !state_->editable || shell_.current()->ordinal() != state_->ordinal) return;
    const std::string series = shell_.current()->seriesUid();
    if (series.empty()) return;
    vr::ReadModel& model = *state_->model;
    std::set<int> before;
    for (const vc::Measurement& m : model.draft().measurements)
        if (m.seriesUid == series) before.insert(m.id);
    std::vector<vc::Measurement> now = shell_.current()->view()->measurements().all();
    // a one-click proposal stays out of the read until the reader accepts it (Enter)
    const int pending = shell_.current()->view()->pendingProposal();
    now.erase(std::remove_if(now.begin(), now.end(), [pending](const vc::Measurement& m) { return m.id == pending; }), now.end());
    for (vc::Measurement& m : now) m.seriesUid = series;
    model.syncMeasurements(series, now);
    // a caliper just drawn measures the selected target that has no caliper here yet
    const vc::Measurement* fresh = nullptr;
    int count = 0;
    for (const vc::Measurement& m : now)
        if (!before.count(m.id)) {
            fresh = &m;
            ++count;
        }
    const QString lesion = panel_->selectedLesion();
    if (count == 1 && fresh && fresh->label.empty() && !lesion.isEmpty()) {
        const auto k = model.lesion(lesion.toStdString());
        const vr::AnswerEntry* a = model.draft().answer(lesion.toStdString());
        const bool point = fresh->kind == vc::Measurement::Kind::Point;
        // a caliper measures the selected target waiting for one; a point placed while a
        // non-target or new lesion is selected says where that lesion is
        if (k && ((k->role == "TARGET" && k->answerable && !(a && a->measurement) && !point) || (k->role != "TARGET" && point))) {
            std::string why;
            if (!model.measure(k->id, *fresh, shell_.current()->sliceThickness(), &why))
                panel_->setSaveState(QString::fromStdString(why), true);
        }
    }
    syncCaliperLabels();
    panel_->refresh();
    armToolFor(panel_->selectedLesion()); // measured: the caliper is put down again
    saveDraft();
}

bool ReadingController::useSelectedCaliper(QString* why) {
    if (!state_ || !state_->editable) {
        if (why) *why = tr("No timepoint of yours is open for reading.");
        return false;
    }
    const int id = shell_.current()->view()->selectedMeasurement();
    const vc::Measurement* m = shell_.current()->view()->measurements().find(id);
    const QString lesion = panel_->selectedLesion();
    if (!m || lesion.isEmpty()) {
        if (why) *why = tr("Select a caliper in the current view and a target in the list.");
        return false;
    }
    vc::Measurement copy = *m;
    copy.seriesUid = shell_.current()->seriesUid();
    std::string reason;
    if (!state_->model->measure(lesion.toStdString(), copy, shell_.current()->sliceThickness(), &reason)) {
        if (why) *why = QString::fromStdString(reason);
        return false;
    }
    syncCaliperLabels();
    panel_->refresh();
    saveDraft();
    return true;
}

bool ReadingController::jumpToLesion(const QString& id) {
    if (!state_) return false;
    const std::string lesion = id.toStdString();
    auto centre = [](const vc::Measurement& m) { return vc::Point3{(m.a[0] + m.b[0]) / 2, (m.a[1] + m.b[1]) / 2, (m.a[2] + m.b[2]) / 2}; };
    const auto here = state_->model->lastMeasurement(lesion, shell_.current()->ordinal());
    const auto before = state_->model->lastMeasurement(lesion, shell_.prior()->ordinal());
    if (!here && !before) return false;
    // not measured here yet: the prior's lesion found on the new scan (the registration to the
    // reader's own previous timepoint), and the one-click measurement offered there as a proposal
    bool measuredHere = false;
    for (const vc::Measurement& m : state_->model->draft().measurements) measuredHere = measuredHere || m.label == lesion;
    if (!measuredHere && before && state_->editable && shell_.prior()->ordinal() == state_->ordinal - 1) {
        if (const auto at = proposedLocation(id)) {
            shell_.moveIndependently([&] {
                if (shell_.prior()->showsImage()) shell_.prior()->view()->centreOn(centre(*before));
                shell_.current()->view()->centreOn(*at);
            });
            const auto k = state_->model->lesion(lesion);
            const bool node = k && k->nodal;
            if (before->kind != vc::Measurement::Kind::Point && k && k->role == "TARGET" && !shell_.current()->view()->pendingProposal())
                shell_.current()->view()->proposeAt(*at, *at, node);
            return true;
        }
        if (state_->registration && !state_->registration->done && state_->registration->failed.isEmpty())
            shell_.say(tr("Still registering the new scan to your previous timepoint: the lesion is shown at the same position."), 5000);
    }
    shell_.moveIndependently([&] { // each side goes to its own caliper, not to the other's position
        ViewerPane* prior = shell_.prior();
        ViewerPane* current = shell_.current();
        if (prior->showsImage() && before && prior->timepoint() >= 0) prior->view()->centreOn(centre(*before));
        if (current->showsImage() && here) {
            current->view()->centreOn(centre(*here));
            if (here->seriesUid == current->seriesUid()) current->view()->selectMeasurement(here->id);
        }
    });
    return true;
}

void ReadingController::saveDraft() {
    if (!state_ || !state_->editable || !shell_.signedIn()) return;
    try {
        shell_.signedIn()->queue->saveDraft(shell_.signedIn()->session, state_->subject.toStdString(), state_->ordinal,
                                            state_->model->payload());
        panel_->setSaveState(tr("Draft saved %1").arg(QDateTime::currentDateTime().toString("HH:mm:ss")), false);
    } catch (const std::exception& e) {
        panel_->setSaveState(tr("The draft could not be saved: %1").arg(QString::fromStdString(e.what())), true);
    }
}

bool ReadingController::sign(const QString& password, const QString& meaning, QString* why) {
    if (!state_ || !state_->editable || !shell_.signedIn()) {
        if (why) *why = tr("No timepoint of yours is open for signing.");
        return false;
    }
    const QString subject = state_->subject;
    const int ordinal = state_->ordinal;
    saveDraft();
    try {
        shell_.signedIn()->queue->sign(shell_.signedIn()->session, subject.toStdString(), ordinal, password.toStdString(),
                                       meaning.toStdString());
    } catch (const std::exception& e) {
        if (why) *why = QString::fromStdString(e.what());
        return false;
    }
    // the signed timepoint as a DICOM TID 1500 Measurement Report
    QString reportNote;
    const Subject* shown = shell_.current()->subject();
    if (shown && ordinal - 1 < static_cast<int>(shown->timepoints.size())) {
        const Timepoint& tp = shown->timepoints[static_cast<std::size_t>(ordinal - 1)];
        vr::ReportInput in;
        in.subject = subject.toStdString();
        in.reader = state_->slot == 2 ? "Reader 2" : "Reader 1";
        in.ordinal = ordinal;
        in.visit = state_->visit.toStdString();
        in.model = state_->model.get();
        for (const vc::Series& s : tp.series)
            if (!s.slices.empty() && in.anyImage.empty()) in.anyImage = s.slices.front().path;
        in.fileOf = [&tp](const std::string& sop) -> std::filesystem::path {
            for (const vc::Series& s : tp.series)
                for (const vc::SliceHeader& h : s.slices)
                    if (h.sopUid == sop) return h.path;
            return {};
        };
        const QString out = QDir(reportsFolder())
                                .absoluteFilePath(QStringLiteral("%1/reader%2/%3_%4.dcm")
                                                      .arg(subject)
                                                      .arg(state_->slot == 2 ? 2 : 1)
                                                      .arg(ordinal, 2, 10, QLatin1Char('0'))
                                                      .arg(QString(state_->visit).replace(' ', '_')));
        std::string error;
        if (vr::writeMeasurementReport(in, out.toStdString(), &error)) {
            lastReport_ = out;
            reportNote = tr("; its DICOM report is written"); // not where: the path names the subject
            // and put in the queue's outbox, from which report-push stores it on the trial's PACS
            try {
                QFile f(out);
                if (!f.open(QIODevice::ReadOnly)) throw std::runtime_error("cannot read it back");
                shell_.signedIn()->queue->queueReport(shell_.signedIn()->session, subject.toStdString(), ordinal,
                                                      f.readAll().toStdString());
                reportNote = tr("; its DICOM report is written and queued for the PACS");
            } catch (const std::exception& e) {
                reportNote = tr("; its DICOM report is written but not queued for the PACS: %1").arg(QString::fromStdString(e.what()));
            }
        } else {
            reportNote = tr("; the DICOM report could not be written: %1").arg(QString::fromStdString(error));
        }
    }
    shell_.say(tr("%1 timepoint %2 signed%3").arg(shell_.shownName(subject)).arg(ordinal).arg(reportNote), 15000);
    shell_.buildHome();
    // the reader goes on with the next timepoint of the subject, if there is one to read
    shell_.openSubject(subject, ordinal); // 0-based index of the next timepoint
    return true;
}

bool ReadingController::askSign() {
    if (!state_ || !state_->editable) return false;
    const QString who = shell_.shownName(state_->subject);
    FormDialog dialog(shell_.mainWindow(), "signDialog", tr("Sign %1 timepoint %2").arg(who).arg(state_->ordinal), tr("Sign"), "signError");
    const auto& ev = state_->model->evaluation();
    // what is being signed, as the adjudicator's dialog says it: the lesions and the responses
    QString summary = tr("Signing locks %1 timepoint %2 (%3).").arg(who).arg(state_->ordinal).arg(state_->visit);
    int targets = 0, nonTargets = 0, newLesions = 0;
    for (const auto& l : state_->model->lesions()) {
        targets += l.role == "TARGET";
        nonTargets += l.role == "NON-TARGET";
        newLesions += l.role == "NEW";
    }
    summary += tr("\nLesions: %1 target, %2 non-target, %3 new.").arg(targets).arg(nonTargets).arg(newLesions);
    if (ev.result && !ev.result->visits.empty()) {
        const recist::VisitResult& now = ev.result->visits.back();
        if (now.sum) summary += tr("\nSum of diameters: %1 mm.").arg(QString::fromStdString(now.sum->formatMm()));
        auto part = [](const char* what, const std::optional<recist::Response>& r) {
            return r ? QStringLiteral("%1 %2").arg(QString::fromLatin1(what), QString::fromStdString(std::string(recist::toString(*r))))
                     : QString();
        };
        QStringList parts;
        for (const QString& p : {part("target", now.target), part("non-target", now.nonTarget), part("overall", now.overall)})
            if (!p.isEmpty()) parts << p;
        if (!parts.isEmpty()) summary += tr("\nResponses at this timepoint: %1.").arg(parts.join(", "));
    }
    dialog.addText(summary);
    QComboBox* meaning = dialog.addMeaning(
        {tr("I am the author of this read and approve its measurements and responses"), tr("I have reviewed this read and confirm it")});
    QLineEdit* password = dialog.addPassword(tr("Password (%1)").arg(shell_.signedInUser()), "signPassword");
    return dialog.run([&](QString* why) { return sign(password->text(), meaning->currentText(), why); });
}

void ReadingController::armToolFor(const QString& id) {
    QAction* caliper = shell_.mainWindow()->findChild<QAction*>("toolLongAxis");
    QAction* bidimensional = shell_.mainWindow()->findChild<QAction*>("toolBidimensional");
    QAction* assist = shell_.mainWindow()->findChild<QAction*>("toolAssist");
    if (!caliper || !bidimensional) return;
    bool waits = false, nodal = false;
    if (state_ && state_->editable && shell_.current()->ordinal() == state_->ordinal && !id.isEmpty()) {
        const auto k = state_->model->lesion(id.toStdString());
        waits = k && k->role == "TARGET" && k->answerable && !state_->model->draft().answer(id.toStdString());
        nodal = k && k->nodal;
    }
    // a one-click proposal for a node chooses the slice where its short axis is longest
    shell_.current()->view()->setAssistNodal(nodal);
    arming_ = true;
    // the reader who took up the one-click tool keeps it
    if (waits && !(caliper->isChecked() || bidimensional->isChecked() || (assist && assist->isChecked()))) {
        (nodal ? bidimensional : caliper)->setChecked(true);
        autoTool_ = true;
    } else if (!waits && autoTool_) {
        caliper->setChecked(false);
        bidimensional->setChecked(false);
        autoTool_ = false;
    }
    arming_ = false;
}

} // namespace vg
