// The data manager's screen (see QuarantineController.h).
#include "QuarantineController.h"

#include "Common.h"
#include "Internal.h"
#include "viewergui/Shell.h"
#include "viewergui/SliceView.h"
#include "viewergui/ViewerPane.h"

#include "anonymizer/Decisions.h"

#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimgle/dcmimage.h>

#include <QDir>
#include <QImage>
#include <QPixmap>
#include <QDockWidget>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QPushButton>
#include <QStatusBar>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace vg {

namespace {

std::vector<anon::QuarantinedFile> quarantined(const QString& folder) {
    return folder.isEmpty() ? std::vector<anon::QuarantinedFile>{} : anon::listQuarantine(folder.toStdString());
}

/// A 2-D preview of a file the volume loader cannot place (a secondary capture, one NM frame):
/// its first frame, windowed by DCMTK, scaled to fit; null when DCMTK cannot render it.
QImage previewOf(const std::filesystem::path& file) {
    DicomImage image(file.c_str(), CIF_UsePartialAccessToPixelData, 0, 1);
    if (image.getStatus() != EIS_Normal || !image.isMonochrome()) return {};
    image.setMinMaxWindow();
    const int w = static_cast<int>(image.getWidth()), h = static_cast<int>(image.getHeight());
    const void* px = image.getOutputData(8);
    if (!px || w <= 0 || h <= 0) return {};
    return QImage(static_cast<const uchar*>(px), w, h, w, QImage::Format_Grayscale8).copy();
}

const anon::QuarantinedFile* findFile(const std::vector<anon::QuarantinedFile>& files, const QString& relative) {
    for (const auto& f : files)
        if (QString::fromStdString(f.relative) == relative) return &f;
    return nullptr;
}

} // namespace

QuarantineController::QuarantineController(Shell& shell) : shell_(shell) {}

void QuarantineController::close() {
    selected_.clear();
    if (dock_) dock_->hide();
}

void QuarantineController::fillHome(QTreeWidget* home, QDockWidget* homeDock) {
    shell_.setScreen(Screen::Quarantine);
    homeDock->setWindowTitle(tr("Quarantine - %1 (data manager)").arg(shell_.signedInUser()));
    home->setColumnCount(2);
    home->setHeaderLabels({tr("Quarantined file"), tr("Why")});
    for (const auto& f : quarantined(shell_.quarantineFolder())) {
        QString why;
        for (const auto& r : f.reasons) why += (why.isEmpty() ? "" : "; ") + QString::fromStdString(r.category);
        // the file's folder and name (the whole path in the tool tip): the list stays readable
        const QString rel = QString::fromStdString(f.relative);
        const QString shortName = rel.section('/', -2);
        auto* item = new QTreeWidgetItem(home, {shortName, why});
        item->setToolTip(0, rel);
        QString detail;
        for (const auto& r : f.reasons) detail += QString::fromStdString(r.text()) + "\n";
        item->setToolTip(1, detail.trimmed());
        item->setData(0, Qt::UserRole + 2, QString::fromStdString(f.relative));
    }
    if (!panel_) {
        panel_ = new QWidget;
        auto* layout = new QVBoxLayout(panel_);
        auto* details = new QLabel(tr("Choose a file in the list."));
        details->setObjectName("quarantineDetails");
        details->setWordWrap(true);
        details->setTextInteractionFlags(Qt::TextSelectableByMouse);
        auto* release = new QPushButton(tr("Release…"));
        release->setObjectName("releaseQuarantined");
        release->setToolTip(tr("Run the original through the whole de-identification again, without the rule that held it"));
        auto* discard = new QPushButton(tr("Discard…"));
        discard->setObjectName("discardQuarantined");
        discard->setToolTip(tr("Delete the quarantined original"));
        auto* preview = new QLabel;
        preview->setObjectName("quarantinePreview");
        preview->setAlignment(Qt::AlignCenter);
        preview->setMinimumHeight(200);
        layout->addWidget(details);
        layout->addWidget(preview);
        layout->addWidget(release);
        layout->addWidget(discard);
        layout->addStretch(1);
        connect(release, &QPushButton::clicked, this, [this] { askDecide(true); });
        connect(discard, &QPushButton::clicked, this, [this] { askDecide(false); });
        dock_ = shell_.addPanel(tr("Decision"), "quarantineDecision", panel_, Qt::RightDockWidgetArea, 380);
        connect(home, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
            if (item && shell_.signedIn() && shell_.signedIn()->session.role == workflow::Role::DataManager)
                select(item->data(0, Qt::UserRole + 2).toString());
        });
    }
    for (const char* name : {"releaseQuarantined", "discardQuarantined"}) panel_->findChild<QPushButton*>(name)->setEnabled(false);
    panel_->findChild<QLabel*>("quarantineDetails")
        ->setText(home->topLevelItemCount() == 0 ? tr("Nothing is waiting for a decision.") : tr("Choose a file in the list."));
    dock_->show();
    for (ViewerPane* p : {shell_.prior(), shell_.current()}) p->clear(tr("Choose a quarantined file to see it."));
    shell_.prior()->setVisible(false);
}

QStringList QuarantineController::files() const {
    QStringList out;
    if (!shell_.signedIn() || shell_.signedIn()->session.role != workflow::Role::DataManager) return out; // nobody else sees the list
    for (const auto& f : quarantined(shell_.quarantineFolder())) out << QString::fromStdString(f.relative);
    return out;
}

bool QuarantineController::select(const QString& relative) {
    if (!shell_.signedIn() || shell_.signedIn()->session.role != workflow::Role::DataManager || !panel_) return false;
    const auto files = quarantined(shell_.quarantineFolder());
    const anon::QuarantinedFile* f = findFile(files, relative);
    if (!f) return false;
    selected_ = relative;
    std::string whyNot;
    const bool releasable = !anon::releasableOverrides(*f, &whyNot).empty();
    QString html = QStringLiteral("<b>%1</b><br>%2 bytes<br>SHA-256 %3<ul>")
                       .arg(relative.toHtmlEscaped())
                       .arg(static_cast<qulonglong>(f->bytes))
                       .arg(QString::fromStdString(f->inputHash.substr(0, 16)) + "…");
    for (const auto& r : f->reasons)
        html += QStringLiteral("<li><b>%1</b>: %2</li>")
                    .arg(QString::fromStdString(r.category).toHtmlEscaped(), QString::fromStdString(r.detail).toHtmlEscaped());
    html += "</ul>";
    html += releasable ? tr("It can be released: the original goes through the whole de-identification again, without the rule "
                            "that held it; text is rebuilt and the leak scan runs as for any file.")
                       : tr("It cannot be released (%1). It can be discarded.").arg(QString::fromStdString(whyNot).toHtmlEscaped());
    // said once, whichever of the two rules held it (found driving the data manager's screen by hand)
    if (std::any_of(f->reasons.begin(), f->reasons.end(),
                    [](const auto& r) { return r.category == "burned-in" || r.category == "secondary-capture"; }))
        html += tr("<p style='color:#b00020'><b>The pixels are copied as they are</b>: de-identification cleans the header, "
                   "not text drawn into the image. Release only if the preview shows nothing that identifies the patient, "
                   "the site or the arm.</p>");
    panel_->findChild<QLabel*>("quarantineDetails")->setText(html);
    panel_->findChild<QPushButton*>("releaseQuarantined")->setEnabled(releasable);
    panel_->findChild<QPushButton*>("discardQuarantined")->setEnabled(true);
    // the preview: the file's series from the quarantine folder (the data manager is unblinded)
    // the preview: the file itself, drawn by DCMTK (a 2-D frame), and its series in the viewer when
    // it is a volume (the data manager is unblinded: the original is what they decide about)
    auto* preview = panel_->findChild<QLabel*>("quarantinePreview");
    const QImage image = previewOf(f->file);
    if (image.isNull())
        preview->setText(tr("(no image to preview)"));
    else
        preview->setPixmap(QPixmap::fromImage(image.scaled(360, 360, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
    // the decision is about this file alone: no subject beside it
    shell_.prior()->clear(tr("Quarantine: the file is on the right."));
    shell_.prior()->setVisible(false);
    const vc::Scan scan = vc::scanFolder(f->file.parent_path());
    for (const vc::Series& s : scan.series)
        for (const vc::SliceHeader& h : s.slices)
            if (h.path == f->file && vc::analyze(s).ok) {
                shell_.current()->showSeries(s, QStringLiteral("quarantine: %1").arg(QString::fromStdString(s.modality)));
                return true;
            }
    shell_.current()->clear(image.isNull() ? tr("This file is not an image.")
                                           : tr("A single image: see the preview in the decision panel."));
    return true;
}

bool QuarantineController::decide(const QString& relative, bool release, const QString& reason, const QString& password, QString* why) {
    auto fail = [&](const QString& text) {
        if (why) *why = text;
        return false;
    };
    if (!shell_.signedIn()) return fail(tr("Nobody is signed in."));
    const auto files = quarantined(shell_.quarantineFolder());
    const anon::QuarantinedFile* f = findFile(files, relative);
    if (!f) return fail(tr("%1 is no longer in the quarantine.").arg(relative));
    rq::Queue& q = *shell_.signedIn()->queue;
    try {
        q.login(shell_.signedInUser().toStdString(), password.toStdString()); // the password again, as for a signature
        if (!release) {
            anon::discard(q, shell_.signedIn()->session, *f, reason.toStdString());
            shell_.say(tr("%1 discarded").arg(relative), 10000);
        } else {
            if (shell_.store().isEmpty()) return fail(tr("No store is open: a released file would have nowhere to go."));
            const QString enrolment = !enrolment_.isEmpty() ? enrolment_ : QDir(shell_.store()).absoluteFilePath("../enrolment.csv");
            if (!QFileInfo::exists(enrolment)) return fail(tr("The enrolment list %1 is missing: a release needs it.").arg(enrolment));
            anon::Config cfg;
            auto key = anon::configureRelease(cfg, q.charter(), shell_.store().toStdString(), shell_.quarantineFolder().toStdString(),
                                              enrolment.toStdString());
            anon::Anonymizer anonymizer(std::move(cfg), *key);
            anon::release(q, shell_.signedIn()->session, anonymizer, *f, reason.toStdString());
            key->save();
            shell_.say(tr("%1 released into the store").arg(relative), 10000);
        }
    } catch (const std::exception& e) {
        return fail(QString::fromStdString(e.what()));
    }
    selected_.clear();
    shell_.buildHome(); // the list without it
    return true;
}

bool QuarantineController::askDecide(bool release) {
    if (selected_.isEmpty()) return false;
    const QString file = selected_;
    FormDialog dialog(shell_.mainWindow(), release ? "releaseDialog" : "discardDialog",
                      release ? tr("Release a quarantined file") : tr("Discard a quarantined file"),
                      release ? tr("Release") : tr("Discard"), "decisionError");
    dialog.addText(release ? tr("%1 goes through the whole de-identification again and, if it comes out clean, into the store.").arg(file)
                           : tr("%1 is deleted from the quarantine. Its SHA-256 stays in the audit trail.").arg(file));
    QLineEdit* reason = dialog.addLine(tr("Reason (required)"), "decisionReason");
    QLineEdit* password = dialog.addPassword(tr("Password (%1)").arg(shell_.signedInUser()), "decisionPassword");
    return dialog.run([&](QString* why) { return decide(file, release, reason->text(), password->text(), why); });
}

} // namespace vg
