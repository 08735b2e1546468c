// The trial manager's screen (see DashboardController.h).
#include "DashboardController.h"

#include "Common.h"
#include "Internal.h"
#include "viewergui/Shell.h"
#include "viewergui/Dashboard.h"
#include "store/Quarantine.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QStackedWidget>

#include <tuple>

namespace vg {

DashboardController::DashboardController(Shell& shell, QStackedWidget* central) : shell_(shell), central_(central) {}

namespace {

/// Quarantined files waiting for a decision, by reason category (never by subject or file).
std::map<std::string, int> quarantineCounts(const QString& folder) {
    if (folder.isEmpty()) return {};
    return store::countsByCategory(folder.toStdString());
}

} // namespace

bool DashboardController::refresh(QString* why) {
    if (!shell_.signedIn() || shell_.signedIn()->session.role != workflow::Role::Manager || !dashboard_) {
        if (why) *why = tr("The dashboard is the trial manager's.");
        return false;
    }
    rq::Queue& q = *shell_.signedIn()->queue;
    const rq::Session& s = shell_.signedIn()->session;
    DashboardData d;
    try {
        const auto b = q.backlog(s);
        d.timepoints = b.timepoints;
        d.reads = b.reads;
        d.adjudications = b.adjudications;
        d.byReader = b.byReader;
        d.byTimepoint = b.byTimepoint;
        for (const auto& st : q.turnaround(s)) d.turnaround.push_back({st.name, st.count, st.medianHours, st.p90Hours});
        for (const auto& r : q.readers(s))
            d.readers.push_back({r.reader, r.subjects, r.signedReads, r.pendingReads, r.adjudicatedSubjects, r.chosen, r.adjudicationRate,
                                 r.selectionRate, r.manualCalipers, r.proposalsAccepted, r.proposalsEdited});
        for (const auto& p : q.backlogHistory(s)) {
            QDateTime at = QDateTime::fromString(QString::fromStdString(p.at), Qt::ISODateWithMs);
            if (!at.isValid()) at = QDateTime::fromString(QString::fromStdString(p.at), Qt::ISODate);
            if (at.isValid()) d.history.push_back({at, p.readsDue - p.readsSigned, p.adjudicationsOpen});
        }
        const auto acceptedResults = q.acceptedResults(s);
        d.endpoints.accepted = static_cast<int>(acceptedResults.size());
        d.endpoints.stillReading = std::max(0, q.randomizedSubjects(s) - d.endpoints.accepted);
        for (const auto& a : acceptedResults) {
            d.endpoints.dcrEvaluated += 1;
            d.endpoints.dcrYes += a.result.diseaseControl == recist::DiseaseControl::Yes;
            d.endpoints.responders += a.result.best == recist::Response::CR || a.result.best == recist::Response::PR;
            if (a.rpfs) d.endpoints.rpfs.push_back({static_cast<double>(a.rpfs->days()), !a.rpfs->censored});
        }
        for (const auto& a : acceptedResults) {
            DashboardData::Accepted acc;
            acc.subject = a.subject;
            acc.best = std::string(recist::toString(a.result.best));
            std::optional<recist::Length> base;
            std::optional<recist::Date> baseDate;
            bool any = false;
            for (const auto& v : a.result.visits) {
                if (v.baseline) {
                    base = v.sum;
                    baseDate = v.date;
                    continue;
                }
                if (!v.sum || !base || base->um <= 0 || !v.date || !baseDate) continue;
                const double pct = static_cast<double>(recist::percentChangeTenths(*v.sum, *base)) / 10.0;
                acc.changes.push_back({static_cast<double>(*v.date - *baseDate), pct});
                acc.bestChange = any ? std::min(acc.bestChange, pct) : pct;
                any = true;
            }
            if (any) d.accepted.push_back(std::move(acc));
        }
    } catch (const std::exception& e) {
        if (why) *why = QString::fromStdString(e.what());
        dashboard_->setMessage(QString::fromStdString(e.what()), true);
        return false;
    }
    d.quarantine = quarantineCounts(shell_.quarantineFolder());
    dashboard_->setData(d);
    return true;
}

bool DashboardController::closeReading(const QString& subject, const QString& reason, QString* why) {
    if (!shell_.signedIn() || shell_.signedIn()->session.role != workflow::Role::Manager) {
        if (why) *why = tr("Closing a subject's reading is the trial manager's.");
        return false;
    }
    try {
        shell_.signedIn()->queue->closeSubject(shell_.signedIn()->session, subject.toStdString(), reason.toStdString());
    } catch (const std::exception& e) {
        if (why) *why = QString::fromStdString(e.what());
        if (dashboard_) dashboard_->setMessage(tr("%1: %2").arg(subject, QString::fromStdString(e.what())), true);
        return false;
    }
    shell_.buildHome(); // the counts, the home list and the charts again
    if (dashboard_) dashboard_->setMessage(tr("%1: reading closed (%2)").arg(subject, reason), false);
    return true;
}

bool DashboardController::askCloseReading() {
    FormDialog dialog(shell_.mainWindow(), "closeDialog", tr("Close a subject's reading"), tr("Close reading"), "closeError");
    dialog.addText(tr("Once both readers have signed every timepoint, the subject's adjudication triggers "
                      "(best response, progression, disease control) are evaluated."));
    auto* subject = new QComboBox;
    subject->setObjectName("closeSubject");
    subject->addItems(shell_.subjects());
    dialog.form()->addRow(tr("Subject"), subject);
    // what is still open for the chosen subject, said before anything closes
    auto* open = new QLabel;
    open->setObjectName("closeOpenReads");
    open->setWordWrap(true);
    dialog.form()->addRow(tr("Reads"), open);
    auto* confirm = new QCheckBox(tr("Close it although reads are still open (they will not be read)"));
    confirm->setObjectName("closeConfirm");
    dialog.form()->addRow(QString(), confirm);
    auto openReads = [this](const QString& s) {
        QStringList waiting;
        int done = 0, all = 0;
        try {
            for (const auto& r : shell_.signedIn()->queue->subjectReads(shell_.signedIn()->session, s.toStdString())) {
                ++all;
                if (r.state == "signed")
                    ++done;
                else
                    waiting << tr("Reader %1 timepoint %2 (%3)")
                                   .arg(r.slot)
                                   .arg(r.ordinal)
                                   .arg(QString::fromStdString(r.state).replace('_', ' '));
            }
        } catch (const std::exception& e) {
            waiting << QString::fromStdString(e.what());
        }
        return std::make_tuple(done, all, waiting);
    };
    auto describe = [=](const QString& s) {
        const auto [done, all, waiting] = openReads(s);
        open->setText(waiting.isEmpty() ? tr("All %1 reads signed.").arg(all)
                                        : tr("%1 of %2 reads signed; still open: %3").arg(done).arg(all).arg(waiting.join(", ")));
        confirm->setVisible(!waiting.isEmpty());
        confirm->setChecked(false);
    };
    connect(subject, &QComboBox::currentTextChanged, open, describe);
    describe(subject->currentText());
    QLineEdit* reason = dialog.addLine(tr("Reason"), "closeReason", tr("end of imaging follow-up"));
    return dialog.run([&](QString* why) {
        const auto [done, all, waiting] = openReads(subject->currentText());
        if (!waiting.isEmpty() && !confirm->isChecked()) {
            if (why) *why = tr("%1 reads are still open: confirm to close the reading anyway.").arg(waiting.size());
            return false;
        }
        return closeReading(subject->currentText(), reason->text(), why);
    });
}

bool DashboardController::exportResults(const QString& folder, QString* why) {
    if (!shell_.signedIn() || shell_.signedIn()->session.role != workflow::Role::Manager) {
        if (why) *why = tr("Exports are the trial manager's.");
        return false;
    }
    try {
        const int n = shell_.signedIn()->queue->exportSdtm(shell_.signedIn()->session, folder.toStdString());
        if (dashboard_)
            dashboard_->setMessage(tr("%1 subjects exported to %2 (TU, TR, RS, accepted/, SUBJ, ADJ, config.json)").arg(n).arg(folder),
                                   false);
        return true;
    } catch (const std::exception& e) {
        if (why) *why = QString::fromStdString(e.what());
        if (dashboard_) dashboard_->setMessage(tr("Export failed: %1").arg(QString::fromStdString(e.what())), true);
        return false;
    }
}

void DashboardController::show() {
    if (!shell_.setScreen(Screen::Dashboard)) {
        shell_.say(tr("The dashboard is the trial manager's"), 6000);
        return;
    }
    if (!dashboard_) {
        dashboard_ = new Dashboard;
        central_->addWidget(dashboard_);
        connect(dashboard_, &Dashboard::refreshRequested, this, [this] { shell_.buildHome(); }); // the home list and the dashboard
        connect(dashboard_, &Dashboard::closeRequested, this, [this] { askCloseReading(); });
        connect(dashboard_, &Dashboard::exportRequested, this, [this] {
            const QString dir = QFileDialog::getExistingDirectory(shell_.mainWindow(), tr("Folder for the SDTM export"));
            if (!dir.isEmpty()) exportResults(dir);
        });
    }
    refresh();
    central_->setCurrentWidget(dashboard_);
}

} // namespace vg
