// The reading workflow of the workstation: a reader's own timepoint on the right with the
// lesion panel, calipers that become lesion values, autosave to the reading queue, jump to a
// lesion, and the signature that locks the timepoint and writes its TID 1500 report.
#include "Common.h"
#include "Internal.h"
#include "viewergui/ReadingPanel.h"
#include "viewergui/SliceView.h"
#include "viewergui/Workstation.h"

#include "viewerreading/MeasurementReport.h"

#include <QAction>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QLineEdit>
#include <QStatusBar>

#include <set>

namespace vg {

QString Workstation::readSubject() const { return reading_ ? reading_->subject : QString(); }
int Workstation::readOrdinal() const { return reading_ ? reading_->ordinal : 0; }
bool Workstation::readEditable() const { return reading_ && reading_->editable; }

QString Workstation::reportsFolder() const {
    if (!reports_.isEmpty()) return reports_;
    if (!store_.isEmpty()) return QDir::cleanPath(QDir(store_).absoluteFilePath("../reports"));
    return QDir::current().absoluteFilePath("reports");
}

void Workstation::endRead() {
    reading_.reset();
    if (mode_.current() == Screen::Reading) setScreen(Screen::Images);
    if (panel_) panel_->clear();
    for (ViewerPane* p : {prior_, current_}) p->view()->setMeasurementsEditable(true);
}

void Workstation::startRead(QString subject, int ordinal) {
    endRead();
    if (!signedIn_ || signedIn_->session.role != workflow::Role::Reader) return;
    if (!panel_) {
        panel_ = new ReadingPanel;
        readDock_ = addPanel(tr("Lesions and response"), "reading", panel_, Qt::RightDockWidgetArea, 470);
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
        connect(panel_, &ReadingPanel::signRequested, this, [this] { askSignRead(); });
        connect(panel_, &ReadingPanel::targetAdded, this, [this](const QString&) {
            // drawn first, named second: a selected caliper that measures nothing yet measures the new target
            const vc::Measurement* m = current_->view()->measurements().find(current_->view()->selectedMeasurement());
            if (m && m->label.empty()) useSelectedCaliper();
        });
        connect(current_->view(), &SliceView::measurementsChanged, this, [this] { calipersChanged(); });
    }
    readDock_->show();
    rq::Queue& q = *signedIn_->queue;
    const rq::Session& s = signedIn_->session;
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
        say(tr("%1: %2").arg(subject, QString::fromStdString(e.what())), 10000);
        return;
    }
    // a read is only ever shown beside its own visit's images: the queue's timepoint by identity
    if (current_->ordinal() != ordinal) {
        say(tr("The images on the right are not timepoint %1: its read is not opened beside them").arg(ordinal), 10000);
        return;
    }
    if (subject_) {
        const Timepoint& shown = subject_->timepoints[static_cast<std::size_t>(current_->timepoint())];
        if (const QString why = shown.visitMismatch(); !why.isEmpty()) {
            say(tr("Timepoint %1 is not read here: %2. Tell the trial manager.").arg(ordinal).arg(why), 15000);
            current_->view()->setMeasurementsEditable(false);
            return;
        }
    }
    reading_ = std::move(state);
    setScreen(Screen::Reading);
    const QString title = tr("%1 - timepoint %2 (%3)%4")
                              .arg(shownName(subject))
                              .arg(ordinal)
                              .arg(reading_->visit, reading_->editable ? QString() : tr(" - signed"));
    panel_->setRead(reading_->model, title, reading_->editable);
    current_->view()->setMeasurementsEditable(reading_->editable);
    // left-drag windows: the caliper is taken up only while a selected lesion waits for it
    armToolFor(panel_->selectedLesion());
    prior_->view()->setMeasurementsEditable(false);
    showReadCalipers(current_);
    showReadCalipers(prior_);
}

/// The read's calipers on the series a pane shows: the timepoint being read on the right,
/// the reader's own signed calipers of the prior timepoint on the left (read only).
void Workstation::showReadCalipers(ViewerPane* pane) {
    if (!reading_ || !pane->showsImage() || pane->seriesUid().empty()) return;
    const int ordinal = pane->ordinal();
    const vr::Draft* draft = nullptr;
    if (ordinal == reading_->ordinal && pane == current_)
        draft = &reading_->model->draft();
    else
        for (std::size_t i = 0; i < reading_->model->earlier().size(); ++i)
            if (static_cast<int>(i) + 1 == ordinal) draft = &reading_->model->earlier()[i];
    std::vector<vc::Measurement> mine;
    if (draft)
        for (const vc::Measurement& m : draft->measurements)
            if (m.seriesUid == pane->seriesUid()) mine.push_back(m);
    pane->view()->setMeasurements(std::move(mine), draft ? draft->nextMeasurementId() : 1);
    pane->view()->setMeasurementsEditable(pane == current_ && ordinal == reading_->ordinal && reading_->editable);
}

void Workstation::syncCaliperLabels() {
    if (!reading_ || current_->seriesUid().empty()) return;
    const vr::Draft& d = reading_->model->draft();
    for (const vc::Measurement& m : current_->view()->measurements().all()) {
        std::string label;
        for (const vc::Measurement& dm : d.measurements)
            if (dm.id == m.id && dm.seriesUid == m.seriesUid) label = dm.label;
        if (label != m.label) current_->view()->labelMeasurement(m.id, label);
    }
}

void Workstation::calipersChanged() {
    if (!reading_ || !reading_->editable || current_->ordinal() != reading_->ordinal) return;
    const std::string series = current_->seriesUid();
    if (series.empty()) return;
    vr::ReadModel& model = *reading_->model;
    std::set<int> before;
    for (const vc::Measurement& m : model.draft().measurements)
        if (m.seriesUid == series) before.insert(m.id);
    std::vector<vc::Measurement> now = current_->view()->measurements().all();
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
        if (k && k->role == "TARGET" && k->answerable && !(a && a->measurement)) {
            std::string why;
            if (!model.measure(k->id, *fresh, current_->sliceThickness(), &why)) panel_->setSaveState(QString::fromStdString(why), true);
        }
    }
    syncCaliperLabels();
    panel_->refresh();
    armToolFor(panel_->selectedLesion()); // measured: the caliper is put down again
    saveDraft();
}

bool Workstation::useSelectedCaliper(QString* why) {
    if (!reading_ || !reading_->editable) {
        if (why) *why = tr("No timepoint of yours is open for reading.");
        return false;
    }
    const int id = current_->view()->selectedMeasurement();
    const vc::Measurement* m = current_->view()->measurements().find(id);
    const QString lesion = panel_->selectedLesion();
    if (!m || lesion.isEmpty()) {
        if (why) *why = tr("Select a caliper in the current view and a target in the list.");
        return false;
    }
    vc::Measurement copy = *m;
    copy.seriesUid = current_->seriesUid();
    std::string reason;
    if (!reading_->model->measure(lesion.toStdString(), copy, current_->sliceThickness(), &reason)) {
        if (why) *why = QString::fromStdString(reason);
        return false;
    }
    syncCaliperLabels();
    panel_->refresh();
    saveDraft();
    return true;
}

bool Workstation::jumpToLesion(const QString& id) {
    if (!reading_) return false;
    const std::string lesion = id.toStdString();
    auto centre = [](const vc::Measurement& m) { return vc::Point3{(m.a[0] + m.b[0]) / 2, (m.a[1] + m.b[1]) / 2, (m.a[2] + m.b[2]) / 2}; };
    const auto here = reading_->model->lastMeasurement(lesion, current_->ordinal());
    const auto before = reading_->model->lastMeasurement(lesion, prior_->ordinal());
    if (!here && !before) return false;
    syncing_ = true; // each side goes to its own caliper, not to the other's position
    if (prior_->showsImage() && before && prior_->timepoint() >= 0) prior_->view()->centreOn(centre(*before));
    if (current_->showsImage() && here) {
        current_->view()->centreOn(centre(*here));
        if (here->seriesUid == current_->seriesUid()) current_->view()->selectMeasurement(here->id);
    }
    syncing_ = false;
    if (linked_ && prior_->view()->complete() && current_->view()->complete())
        offset_ = current_->view()->slicePosition() - prior_->view()->slicePosition();
    return true;
}

void Workstation::saveDraft() {
    if (!reading_ || !reading_->editable || !signedIn_) return;
    try {
        signedIn_->queue->saveDraft(signedIn_->session, reading_->subject.toStdString(), reading_->ordinal, reading_->model->payload());
        panel_->setSaveState(tr("Draft saved %1").arg(QDateTime::currentDateTime().toString("HH:mm:ss")), false);
    } catch (const std::exception& e) {
        panel_->setSaveState(tr("The draft could not be saved: %1").arg(QString::fromStdString(e.what())), true);
    }
}

bool Workstation::signRead(const QString& password, const QString& meaning, QString* why) {
    if (!reading_ || !reading_->editable || !signedIn_) {
        if (why) *why = tr("No timepoint of yours is open for signing.");
        return false;
    }
    const QString subject = reading_->subject;
    const int ordinal = reading_->ordinal;
    saveDraft();
    try {
        signedIn_->queue->sign(signedIn_->session, subject.toStdString(), ordinal, password.toStdString(), meaning.toStdString());
    } catch (const std::exception& e) {
        if (why) *why = QString::fromStdString(e.what());
        return false;
    }
    // the signed timepoint as a DICOM TID 1500 Measurement Report
    QString reportNote;
    const Subject* shown = current_->subject();
    if (shown && ordinal - 1 < static_cast<int>(shown->timepoints.size())) {
        const Timepoint& tp = shown->timepoints[static_cast<std::size_t>(ordinal - 1)];
        vr::ReportInput in;
        in.subject = subject.toStdString();
        in.reader = reading_->slot == 2 ? "Reader 2" : "Reader 1";
        in.ordinal = ordinal;
        in.visit = reading_->visit.toStdString();
        in.model = reading_->model.get();
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
                                                      .arg(reading_->slot == 2 ? 2 : 1)
                                                      .arg(ordinal, 2, 10, QLatin1Char('0'))
                                                      .arg(QString(reading_->visit).replace(' ', '_')));
        std::string error;
        if (vr::writeMeasurementReport(in, out.toStdString(), &error)) {
            lastReport_ = out;
            reportNote = tr("; its DICOM report is written"); // not where: the path names the subject
        } else {
            reportNote = tr("; the DICOM report could not be written: %1").arg(QString::fromStdString(error));
        }
    }
    say(tr("%1 timepoint %2 signed%3").arg(shownName(subject)).arg(ordinal).arg(reportNote), 15000);
    buildHome();
    // the reader goes on with the next timepoint of the subject, if there is one to read
    openSubject(subject, ordinal); // 0-based index of the next timepoint
    return true;
}

bool Workstation::askSignRead() {
    if (!reading_ || !reading_->editable) return false;
    const QString who = shownName(reading_->subject);
    FormDialog dialog(this, "signDialog", tr("Sign %1 timepoint %2").arg(who).arg(reading_->ordinal), tr("Sign"), "signError");
    const auto& ev = reading_->model->evaluation();
    // what is being signed, as the adjudicator's dialog says it: the lesions and the responses
    QString summary = tr("Signing locks %1 timepoint %2 (%3).").arg(who).arg(reading_->ordinal).arg(reading_->visit);
    int targets = 0, nonTargets = 0, newLesions = 0;
    for (const auto& l : reading_->model->lesions()) {
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
    QLineEdit* password = dialog.addPassword(tr("Password (%1)").arg(signedInUser()), "signPassword");
    return dialog.run([&](QString* why) { return signRead(password->text(), meaning->currentText(), why); });
}

} // namespace vg
