#include "viewergui/Workstation.h"

#include "WebStore.h"

#include "viewergui/SliceView.h"

#include "AdjudicationController.h"
#include "Common.h"
#include "DashboardController.h"
#include "Internal.h"
#include "QuarantineController.h"
#include "ReadingController.h"
#include "viewergui/ReadingPanel.h"

#include <QAbstractSpinBox>
#include <QAction>
#include <QKeyEvent>
#include <QActionGroup>
#include <QApplication>
#include <QComboBox>
#include <QDate>
#include <QDir>
#include <QDockWidget>
#include <QLineEdit>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QSlider>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <map>
#include <set>

namespace vg {

// ---------------------------------------------------------------- the workstation window

Workstation::Workstation(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("ReLUTH central review workstation"));
    tree_ = new QTreeWidget;
    tree_->setHeaderLabels({tr("Subject / timepoint")});
    tree_->header()->setStretchLastSection(true);
    addPanel(tr("Trial"), "trial", tree_, Qt::LeftDockWidgetArea);
    connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) { subjectChosen(item); });
    connect(tree_, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) { subjectChosen(item); });

    auto* split = new QSplitter(Qt::Horizontal);
    prior_ = new ViewerPane(tr("Prior"));
    current_ = new ViewerPane(tr("Current"));
    split->addWidget(prior_);
    split->addWidget(current_);
    split->setChildrenCollapsible(false);
    centralStack_ = new QStackedWidget;
    centralStack_->addWidget(split);
    setCentralWidget(centralStack_);
    lastActive_ = current_;
    Shell& shell = *this; // the role screens see the window only through its Shell interface
    reading_ = std::make_unique<ReadingController>(shell);
    adjudication_ = std::make_unique<AdjudicationController>(shell);
    dashboardScreen_ = std::make_unique<DashboardController>(shell, centralStack_);
    quarantineScreen_ = std::make_unique<QuarantineController>(shell);

    for (ViewerPane* pane : {prior_, current_}) {
        SliceView* v = pane->view();
        // a reading room's screen: at least ~2 screen pixels per mm when a series opens (issue 19)
        v->setOpeningMagnification(2.0);
        connect(v, &SliceView::sliceChanged, this, [this, pane](int, double) { syncFrom(pane, false); });
        connect(v, &SliceView::windowLevelChanged, this, [this, pane](vc::WindowLevel) { syncFrom(pane, true); });
        connect(v, &SliceView::focused, this, [this, pane] { lastActive_ = pane; });
        connect(v, &SliceView::viewChanged, this, [this, pane] { alignFrom(pane); });
        connect(v, &SliceView::assistMessage, this, [this](const QString& text) { say(text, 15000); });
        connect(pane, &ViewerPane::timepointChanged, this, [this, pane](int) {
            // a reader who picks another of their timepoints on the right reads that one
            if (pane == current_ && reading_->open() && current_->ordinal() != reading_->ordinal())
                reading_->start(reading_->subject(), current_->ordinal());
        });
        connect(pane, &ViewerPane::loaded, this, [this, pane] {
            // a newly loaded side follows the other one (same position, same W/L)
            ViewerPane* other = pane == prior_ ? current_ : prior_;
            if (!pane->showsImage()) return;
            reading_->showCalipers(pane);
            adjudication_->showCalipers(pane);
            pane->view()->setPlane(other->view()->plane());
            if (other->showsImage() && other->modality() == pane->modality()) pane->view()->setWindowLevel(other->view()->windowLevel());
            if (linked_ && other->view()->complete()) {
                syncing_ = true;
                const double pos = other->view()->slicePosition();
                pane->view()->setSlicePosition(pane == current_ ? pos + offset_ : pos - offset_);
                syncing_ = false;
                alignFrom(other);
            }
        });
    }
    buildActions();
    // what a new reader needs to know, always in sight
    auto* hints = new QLabel(
        tr("Wheel or Up/Down: slice  ·  left-drag: window/level  ·  1, 2...: the trial's presets  ·  right-drag or +/-: zoom  ·  "
           "middle or Shift-drag: pan  ·  double-click or F: fit  ·  A/C/S: plane  ·  L: link  ·  F1: help"));
    hints->setObjectName("hints");
    qApp->installEventFilter(this); // image keys reach the images wherever the focus is
    statusBar()->addPermanentWidget(hints);
    // a message (why nothing was proposed, what was saved) takes the whole bar while it shows:
    // beside the hints it was cut off after ~90 characters on a 1700-pixel window
    connect(statusBar(), &QStatusBar::messageChanged, hints, [hints](const QString& m) { hints->setVisible(m.isEmpty()); });
    resize(1600, 900);
}

Workstation::~Workstation() = default;

bool Workstation::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() != QEvent::KeyPress && event->type() != QEvent::ShortcutOverride) return QMainWindow::eventFilter(watched, event);
    auto* key = static_cast<QKeyEvent*>(event);
    static const std::set<int> imageKeys{Qt::Key_Up,  Qt::Key_Down, Qt::Key_PageUp, Qt::Key_PageDown, Qt::Key_Home,
                                         Qt::Key_End, Qt::Key_Plus, Qt::Key_Equal,  Qt::Key_Minus};
    // Enter / Esc decide a pending one-click proposal wherever the focus is (after a click on
    // the lesion's row, the proposal is waiting on the right)
    const bool proposalKey = (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter || key->key() == Qt::Key_Escape) &&
                             current_->view()->pendingProposal() != 0;
    if ((!imageKeys.count(key->key()) && !proposalKey) || (key->modifiers() & (Qt::ControlModifier | Qt::AltModifier))) return false;
    auto* target = qobject_cast<QWidget*>(watched);
    if (!target || target->window() != this || QApplication::activeModalWidget() || QApplication::activePopupWidget()) return false;
    // the widget the key was delivered to: this window's focus widget, whether or not the window
    // is the active one (a key a text field ignores, Up in a line edit, reaches its parents too)
    QWidget* focus = focusWidget() ? focusWidget() : target;
    // text fields keep their keys; the views handle their own
    if (focus && (qobject_cast<QLineEdit*>(focus) || qobject_cast<QAbstractSpinBox*>(focus) || focus->inherits("QTextEdit") ||
                  focus->inherits("QPlainTextEdit") || (qobject_cast<QComboBox*>(focus) && qobject_cast<QComboBox*>(focus)->isEditable())))
        return false;
    for (ViewerPane* p : {prior_, current_}) {
        if (focus && (focus == p->view() || p->view()->isAncestorOf(focus))) return false;
        if (target == p->view() || p->view()->isAncestorOf(target)) return false; // the views' own (and what we forward)
    }
    if (event->type() == QEvent::ShortcutOverride) {
        event->accept(); // no shortcut takes it: it goes to the image
        return false;
    }
    ViewerPane* pane = proposalKey ? current_ : activePane();
    if (!pane->isVisible()) pane = current_;
    QKeyEvent copy(QEvent::KeyPress, key->key(), key->modifiers(), key->text());
    QApplication::sendEvent(pane->view(), &copy);
    return true;
}

void Workstation::openStore(const QString& folder) {
    store_ = folder;
    folderSubjects_.clear();
    tree_->clear();
    if (!trialVisible()) {
        say(tr("Signed out: sign in to see the trial"), 6000);
        return;
    }
    QDir dir(folder);
    for (const QString& name : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        auto* item = new QTreeWidgetItem(tree_, {name});
        item->setData(0, Qt::UserRole, name);
        item->setData(0, Qt::UserRole + 1, -1);
        item->setChildIndicatorPolicy(QTreeWidgetItem::ShowIndicator);
    }
    const int n = tree_->topLevelItemCount();
    say(n == 1 ? tr("1 subject in the store") : tr("%1 subjects in the store").arg(n), 4000);
}

bool Workstation::openWebStore(const QString& url, const QString& configFile) {
    try {
        const vw::Endpoint credentials = vw::Endpoint::fromConfig(configFile.toStdString());
        web_ = std::make_unique<WebStore>(url, credentials);
    } catch (const std::exception& e) {
        web_.reset();
        say(tr("The trial's image server cannot be used: %1").arg(QString::fromStdString(e.what())));
        return false;
    }
    store_.clear();
    folderSubjects_.clear();
    // series the store decoded while they streamed in are shown from memory
    for (ViewerPane* pane : {prior_, current_})
        pane->setVolumeSource([this](const vc::Series& series, const vc::Geometry& geometry) {
            return web_ ? web_->volume(series, geometry) : nullptr;
        });
    listWebSubjects();
    return true;
}

std::filesystem::path Workstation::webCache() const { return web_ ? web_->cacheFolder() : std::filesystem::path(); }

QImage Workstation::webFetchPreview(double* firstImageSeconds, std::size_t* arrivedAtFirstImage, std::size_t* instances) const {
    if (!web_) return {};
    const auto& r = web_->lastFetch();
    if (firstImageSeconds) *firstImageSeconds = r.firstImageSeconds;
    if (arrivedAtFirstImage) *arrivedAtFirstImage = r.arrivedAtFirstImage;
    if (instances) *instances = r.instances;
    return r.preview;
}

void Workstation::listWebSubjects() {
    tree_->clear();
    if (!web_) return;
    if (!trialVisible() || !signedIn_) {
        say(tr("Signed out: sign in to see the trial"), 6000);
        return;
    }
    // the subjects are the queue's (those this user may see), not the server's: a reader's
    // account may not search the server at large (reader-queue/gate)
    QStringList names;
    try {
        for (const auto& [subject, readingId] : signedIn_->queue->readingIds(signedIn_->session)) names << QString::fromStdString(subject);
    } catch (const std::exception& e) {
        say(tr("The reading queue: %1").arg(QString::fromStdString(e.what())), 15000);
        return;
    }
    for (const QString& name : names) {
        auto* item = new QTreeWidgetItem(tree_, {name});
        item->setData(0, Qt::UserRole, name);
        item->setData(0, Qt::UserRole + 1, -1);
        item->setChildIndicatorPolicy(QTreeWidgetItem::ShowIndicator);
    }
    say(names.size() == 1 ? tr("1 subject on the trial's image server") : tr("%1 subjects on the trial's image server").arg(names.size()),
        4000);
}

void Workstation::openFolder(const QString& folder) {
    if (!database_.isEmpty() && !signedIn_) {
        say(tr("Signed out: sign in first"), 6000);
        return;
    }
    store_.clear();
    folderSubjects_.clear();
    tree_->clear();
    const vc::Scan scan = vc::scanFolder(folder.toStdString());
    reportSkipped(scan);
    for (Subject& s : subjectsIn(scan)) folderSubjects_.push_back(std::make_shared<const Subject>(std::move(s)));
    for (const auto& s : folderSubjects_) {
        auto* item = new QTreeWidgetItem(tree_, {s->pseudonym.isEmpty() ? tr("(no patient ID)") : s->pseudonym});
        item->setData(0, Qt::UserRole, s->pseudonym);
        item->setData(0, Qt::UserRole + 1, -1);
    }
    int unmarked = 0;
    for (const auto& subject : folderSubjects_) unmarked += !subject->deidentified;
    if (unmarked > 0)
        say(tr("%1 of %2 subjects in files not marked de-identified: their patient IDs are not shown")
                .arg(unmarked)
                .arg(folderSubjects_.size()));
    if (folderSubjects_.size() == 1) openSubject(folderSubjects_.front()->pseudonym);
    if (folderSubjects_.empty()) current_->showSeries(-1, -1), say(tr("No DICOM images in %1").arg(folder));
}

std::shared_ptr<const Subject> Workstation::loadSubject(const QString& pseudonym) {
    for (const auto& s : folderSubjects_)
        if (s->pseudonym == pseudonym) return s;
    if (store_.isEmpty() && !web_) return nullptr;
    if (web_ && !signedIn_) return nullptr; // a DICOMweb store is a trial's: nothing without the queue
    if (signedIn_) {
        // the queue decides which timepoints this role may see and which study folders they are
        // (reader-queue/store assigned the studies to visits); the workstation only loads them
        std::vector<rq::Queue::VisibleTimepoint> visible;
        try {
            visible = signedIn_->queue->visibleTimepoints(signedIn_->session, pseudonym.toStdString());
        } catch (const std::exception& e) {
            say(tr("%1: %2").arg(shownName(pseudonym), QString::fromStdString(e.what())), 8000);
            return nullptr;
        }
        auto subject = std::make_shared<Subject>();
        subject->pseudonym = pseudonym;
        std::size_t fetchedImages = 0;
        double fetchedSeconds = 0;
        if (web_) { // the session cache keeps this subject's studies whatever its budget
            std::set<std::string> folders;
            for (const auto& v : visible) folders.insert(v.folders.begin(), v.folders.end());
            web_->pin(std::move(folders));
        }
        for (const auto& v : visible) {
            Timepoint tp;
            tp.ordinal = v.ordinal;
            tp.id = QString::fromStdString(v.visitId);
            tp.description = QString::fromStdString(v.visit);
            tp.date = QString::fromStdString(v.studyDate);
            for (const std::string& folder : v.folders) {
                std::filesystem::path local;
                if (web_) {
                    try {
                        // only what the queue opened for this user, with its token for the gate
                        // (a token only when there is something to fetch)
                        const bool inCache = web_->cached(folder);
                        const std::string token = inCache ? std::string() : signedIn_->queue->issueImageToken(signedIn_->session, folder);
                        local = web_->fetch(folder, token, this);
                        if (!inCache) {
                            fetchedImages += web_->lastFetch().instances;
                            fetchedSeconds += web_->lastFetch().seconds;
                        }
                    } catch (const std::exception& e) {
                        say(tr("%1: the trial's image server: %2").arg(shownName(pseudonym), blinded(QString::fromStdString(e.what()))),
                            15000);
                        return nullptr;
                    }
                } else {
                    local = QDir(store_).filePath(QString::fromStdString(folder)).toStdString();
                }
                const vc::Scan scan = vc::scanFolder(local);
                reportSkipped(scan);
                for (const vc::Series& s : scan.series) {
                    subject->deidentified = subject->deidentified && s.identityRemoved;
                    tp.series.push_back(s);
                }
            }
            std::sort(tp.series.begin(), tp.series.end(), [](const vc::Series& a, const vc::Series& b) {
                return a.seriesNumber != b.seriesNumber ? a.seriesNumber < b.seriesNumber : a.uid < b.uid;
            });
            subject->timepoints.push_back(std::move(tp));
        }
        // what was fetched now, in place of a message about an earlier fetch that was cancelled
        // or failed (any other message - "signed", "queued for the PACS" - stays)
        if (fetchedImages > 0 && statusBar()->currentMessage().contains(tr("the trial's image server")))
            say(tr("%1 images from the trial's server in %2 s").arg(fetchedImages).arg(fetchedSeconds, 0, 'f', 1), 6000);
        return subject;
    }
    const vc::Scan scan = vc::scanFolder(QDir(store_).filePath(pseudonym).toStdString());
    reportSkipped(scan);
    auto subjects = subjectsIn(scan);
    for (Subject& s : subjects)
        if (s.pseudonym == pseudonym) return std::make_shared<const Subject>(std::move(s));
    return nullptr;
}

void Workstation::reportSkipped(const vc::Scan& scan) {
    if (scan.skipped.empty()) return;
    const auto& [path, why] = scan.skipped.front();
    const int n = static_cast<int>(scan.skipped.size());
    // a blinded reader is told why, not where: the store's paths carry the subject ID and the scan dates
    const QString where =
        blindedRole() ? QString::fromStdString(std::filesystem::path(path).filename().string()) : QString::fromStdString(path);
    say((n == 1 ? tr("1 file is not shown") : tr("%1 files are not shown").arg(n)) +
            tr(" - %1: %2").arg(where, QString::fromStdString(why)),
        15000);
}

bool Workstation::openSubject(QString pseudonym, int timepoint) {
    if (!trialVisible()) { // signed out of the trial's queue: nothing opens
        say(tr("Signed out: sign in to open a subject"), 6000);
        return false;
    }
    // what may be seen is the queue's answer (Queue::visibleTimepoints), asked again each time:
    // a reader's list grows as they sign
    auto subject = subject_ && subject_->pseudonym == pseudonym && !signedIn_ ? subject_ : loadSubject(pseudonym);
    if (!subject || subject->timepoints.empty()) {
        // a refusal by the queue was said by loadSubject(): it stays on the status bar
        if (subject || !signedIn_ || (store_.isEmpty() && !web_)) say(tr("No images for %1").arg(shownName(pseudonym)), 6000);
        return false;
    }
    if (blindedRole()) { // the reading ID instead of the subject ID, and no scan dates
        auto visible = std::make_shared<Subject>(*subject);
        visible->shownAs = shownName(pseudonym);
        for (std::size_t i = 0; i < visible->timepoints.size(); ++i) {
            Timepoint& tp = visible->timepoints[i];
            tp.date.clear();
            if (tp.id.isEmpty() && tp.description.isEmpty()) tp.description = tr("timepoint %1").arg(i + 1);
        }
        subject = visible;
    }
    subject_ = subject;
    if (adjudication_->open()) { // browsing leaves the adjudication (the home list opens it again)
        adjudication_->close();
        setScreen(Screen::Images);
    }
    prior_->setTitle(tr("Prior"));
    current_->setTitle(tr("Current"));
    showImages();
    const int n = static_cast<int>(subject->timepoints.size());
    const int t = timepoint < 0 || timepoint >= n ? n - 1 : timepoint;
    // fill the tree item with the timepoints
    for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = tree_->topLevelItem(i);
        if (item->data(0, Qt::UserRole).toString() != pseudonym) continue;
        if (item->childCount() != n) {
            qDeleteAll(item->takeChildren()); // a reader's list grows as they sign
            for (int j = 0; j < n; ++j) {
                auto* child = new QTreeWidgetItem(item, {subject->timepoints[static_cast<std::size_t>(j)].label()});
                child->setData(0, Qt::UserRole, pseudonym);
                child->setData(0, Qt::UserRole + 1, j);
            }
        }
        item->setExpanded(true);
    }
    offset_ = 0;
    current_->setSubject(subject, t);
    const int left = baseline_ ? 0 : std::max(0, t - 1);
    // the left side is always earlier: a baseline has nothing beside it (a later scan shown
    // while the baseline is read would tell the reader what comes next)
    prior_->setSubject(subject, t > 0 ? left : -1);
    // a baseline has nothing earlier: one large view instead of half the screen saying so
    prior_->setVisible(!single_ && t > 0);
    setWindowTitle(tr("ReLUTH central review workstation - %1").arg(shownName(pseudonym)));
    if (signedIn_ && signedIn_->session.role == workflow::Role::Reader)
        reading_->start(pseudonym, current_->ordinal());
    else
        reading_->end();
    return true;
}

void Workstation::subjectChosen(QTreeWidgetItem* item) {
    if (!item) return;
    const QString pseudonym = item->data(0, Qt::UserRole).toString();
    const int t = item->data(0, Qt::UserRole + 1).toInt();
    if (subject_ && subject_->pseudonym == pseudonym && t < 0) return; // the open subject's row: nothing new
    openSubject(pseudonym, t);
}

QStringList Workstation::subjects() const {
    QStringList out;
    for (int i = 0; i < tree_->topLevelItemCount(); ++i) out << tree_->topLevelItem(i)->data(0, Qt::UserRole).toString();
    return out;
}

bool Workstation::idle() const { return !prior_->loading() && !current_->loading(); }

ViewerPane* Workstation::activePane() const { return lastActive_ ? lastActive_ : current_; }

void Workstation::setLinked(bool linked) {
    linked_ = linked;
    if (linkAction_ && linkAction_->isChecked() != linked) linkAction_->setChecked(linked);
    // linking again keeps the offset the user set up while unlinked
    if (linked && prior_->view()->complete() && current_->view()->complete())
        offset_ = current_->view()->slicePosition() - prior_->view()->slicePosition();
    if (linked) {
        syncFrom(activePane(), true);
        alignFrom(activePane());
    }
}

void Workstation::syncFrom(ViewerPane* from, bool windowLevel) {
    if (!linked_ || syncing_) return;
    ViewerPane* to = from == prior_ ? current_ : prior_;
    if (!to->view()->complete() || !from->view()->complete()) return;
    syncing_ = true;
    if (windowLevel) {
        if (to->modality() == from->modality()) to->view()->setWindowLevel(from->view()->windowLevel()); // CT HU mean nothing on MR
    } else {
        const double pos = from->view()->slicePosition();
        to->view()->setSlicePosition(from == prior_ ? pos + offset_ : pos - offset_);
    }
    syncing_ = false;
}

void Workstation::setPlane(vc::Plane plane) {
    offset_ = 0;
    for (ViewerPane* p : {prior_, current_}) p->view()->setPlane(plane);
    for (QAction* a : planeGroup_->actions())
        if (a->data().toInt() == static_cast<int>(plane)) a->setChecked(true);
    if (linked_) {
        syncFrom(current_, false);
        alignFrom(current_);
    }
    // coronal and sagittal through the lesion the reader is on
    if (reading_->open() && !reading_->panel()->selectedLesion().isEmpty()) reading_->jumpToLesion(reading_->panel()->selectedLesion());
}

void Workstation::moveIndependently(const std::function<void()>& move) {
    syncing_ = true;
    move();
    syncing_ = false;
    if (linked_ && prior_->view()->complete() && current_->view()->complete())
        offset_ = current_->view()->slicePosition() - prior_->view()->slicePosition();
}

void Workstation::alignFrom(ViewerPane* from) {
    if (!linked_ || syncing_) return;
    ViewerPane* to = from == prior_ ? current_ : prior_;
    SliceView* a = from->view();
    SliceView* b = to->view();
    if (!a->complete() || !b->complete() || a->plane() != b->plane()) return;
    syncing_ = true;
    // linked sides share the magnification (a lesion looks the same size on both); coronal and
    // sagittal also show the same body height at the centre
    if (a->plane() == vc::Plane::Axial)
        b->setPixelsPerMm(a->pixelsPerMm());
    else
        b->alignVertically(a->centre()[2], a->halfHeightMm());
    syncing_ = false;
}

void Workstation::applyCharterPresets(const std::vector<std::string>& names) {
    static const char* const keys[] = {"soft_tissue", "liver", "lung", "bone", "brain"};
    int key = 1;
    auto offer = [&](std::size_t i) {
        presetActions_[i]->setVisible(true);
        presetActions_[i]->setShortcut(QKeySequence(QString::number(key++)));
    };
    for (QAction* a : presetActions_) {
        a->setVisible(false);
        a->setShortcut({});
    }
    if (names.empty()) {
        for (std::size_t i = 0; i < presetActions_.size(); ++i) offer(i);
        return;
    }
    for (const std::string& n : names)
        for (std::size_t i = 0; i < presetActions_.size() && i < std::size(keys); ++i)
            if (n == keys[i]) offer(i);
}

QStringList Workstation::presetNames() const {
    std::vector<std::pair<QString, QString>> shown; // key, name
    for (QAction* a : presetActions_)
        if (a->isVisible()) shown.push_back({a->shortcut().toString(), a->text()});
    std::sort(shown.begin(), shown.end());
    QStringList out;
    for (const auto& s : shown) out << s.second;
    return out;
}

void Workstation::applyPreset(int index) {
    const auto& p = vc::presets();
    if (index < 0 || index >= static_cast<int>(p.size())) return;
    activePane()->view()->setWindowLevel(p[static_cast<std::size_t>(index)].wl);
}

void Workstation::setCompareWithBaseline(bool baseline) {
    baseline_ = baseline;
    if (baselineAction_ && baselineAction_->isChecked() != baseline) baselineAction_->setChecked(baseline);
    if (subject_) openSubject(subject_->pseudonym, current_->timepoint());
}

void Workstation::setSingleView(bool single) {
    single_ = single;
    if (singleAction_ && singleAction_->isChecked() != single) singleAction_->setChecked(single);
    prior_->setVisible(!single && current_->timepoint() > 0);
}

} // namespace vg
