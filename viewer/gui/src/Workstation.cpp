#include "viewergui/Workstation.h"

#include "viewergui/SliceView.h"

#include "Common.h"
#include "Internal.h"
#include "viewergui/AdjudicationPanel.h"
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

// ---------------------------------------------------------------- subjects and timepoints

QString Timepoint::label() const {
    // an unscheduled visit's ID ("V2.U": after visit 2) says nothing a reader needs: its label does
    QString s = id.isEmpty() || id.endsWith(".U") ? QString() : id;
    if (!description.isEmpty()) s += (s.isEmpty() ? "" : " ") + description;
    if (s.isEmpty()) s = date;
    return s;
}

QString Timepoint::visitMismatch() const {
    if (id.isEmpty()) return {};
    for (const vc::Series& s : series)
        if (!s.timepointId.empty() && QString::fromStdString(s.timepointId) != id)
            return QObject::tr("series %1 belongs to visit %2, not to this timepoint's visit %3").arg(s.seriesNumber).arg(QString::fromStdString(s.timepointId), id);
    return {};
}

std::vector<Subject> subjectsIn(const vc::Scan& scan) {
    std::map<std::string, Subject> byPatient;
    std::map<std::string, std::map<std::string, Timepoint>> timepoints; // patient -> key -> timepoint
    for (const vc::Series& s : scan.series) {
        Subject& subject = byPatient[s.patientId];
        subject.pseudonym = QString::fromStdString(s.patientId);
        // a timepoint is the trial's time point when the files carry it, else the study date
        const std::string key = s.studyDate + "|" + (s.timepointId.empty() ? s.studyDate : s.timepointId);
        Timepoint& t = timepoints[s.patientId][key];
        t.id = QString::fromStdString(s.timepointId);
        t.description = QString::fromStdString(s.timepointDescription);
        t.date = QString::fromStdString(s.studyDate);
        t.series.push_back(s);
    }
    std::vector<Subject> out;
    int unmarked = 0;
    for (auto& [patient, subject] : byPatient) {
        // only a de-identified file's patient ID (our anonymizer puts the pseudonym there) is
        // ever shown: files not marked PatientIdentityRemoved YES get a neutral label
        bool deidentified = true;
        for (const auto& [key, t] : timepoints[patient])
            for (const vc::Series& s : t.series) deidentified = deidentified && s.identityRemoved;
        subject.deidentified = deidentified;
        if (!deidentified) subject.pseudonym = QObject::tr("Not de-identified %1").arg(++unmarked);
        for (auto& [key, t] : timepoints[patient]) {
            std::sort(t.series.begin(), t.series.end(), [](const vc::Series& a, const vc::Series& b) {
                return a.seriesNumber != b.seriesNumber ? a.seriesNumber < b.seriesNumber : a.uid < b.uid;
            });
            subject.timepoints.push_back(std::move(t));
        }
        out.push_back(std::move(subject));
    }
    return out;
}

QString seriesLabel(const vc::Series& s) {
    QString label = QStringLiteral("Series %1 · %2 · %3 images").arg(s.seriesNumber).arg(QString::fromStdString(s.modality)).arg(s.slices.size());
    if (s.sliceThickness > 0) label += QStringLiteral(" · %1 mm").arg(s.sliceThickness, 0, 'g', 3);
    return label;
}

int preferredSeries(const Timepoint& t) {
    int best = -1;
    auto score = [](const vc::Series& s) { return (s.modality == "CT" ? 100000 : 0) + static_cast<int>(s.slices.size()); };
    for (std::size_t i = 0; i < t.series.size(); ++i)
        if (best < 0 || score(t.series[i]) > score(t.series[static_cast<std::size_t>(best)])) best = static_cast<int>(i);
    return best;
}

// ---------------------------------------------------------------- one side of the comparison

ViewerPane::ViewerPane(const QString& role, QWidget* parent) : QWidget(parent), role_(role) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->setSpacing(2);
    auto* header = new QHBoxLayout;
    title_ = new QLabel(QStringLiteral("<b>%1</b>").arg(role));
    timepointBox_ = new QComboBox;
    timepointBox_->setObjectName("timepointPicker");
    timepointBox_->setToolTip(tr("Timepoint shown on this side"));
    timepointBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    seriesBox_ = new QComboBox;
    seriesBox_->setObjectName("seriesPicker");
    seriesBox_->setToolTip(tr("Series of this timepoint"));
    seriesBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    header->addWidget(title_);
    header->addWidget(timepointBox_);
    header->addWidget(seriesBox_);
    header->addStretch(1);
    layout->addLayout(header);

    auto* body = new QHBoxLayout;
    stack_ = new QStackedWidget;
    view_ = new SliceView;
    message_ = new QLabel;
    message_->setAlignment(Qt::AlignCenter);
    message_->setWordWrap(true);
    message_->setMargin(24);
    message_->setStyleSheet("QLabel { background: #101418; color: #f0c060; font-size: 15px; }");
    stack_->addWidget(view_);
    stack_->addWidget(message_);
    slider_ = new QSlider(Qt::Vertical);
    slider_->setInvertedAppearance(true); // the top of the slider is the first (head) slice
    slider_->setEnabled(false);
    slider_->setToolTip(tr("Slice (wheel, arrow keys, Page Up/Down)"));
    body->addWidget(stack_, 1);
    body->addWidget(slider_);
    layout->addLayout(body, 1);

    progress_ = new QProgressBar;
    progress_->setMaximumHeight(14);
    progress_->setTextVisible(true);
    progress_->setFormat(tr("loading %p%"));
    progress_->hide();
    layout->addWidget(progress_);

    showMessage(tr("No series loaded.\nChoose a subject in the trial list, or open a folder."));

    connect(view_, &SliceView::sliceChanged, this, [this](int k, double) {
        const QSignalBlocker block(slider_);
        slider_->setValue(k);
    });
    connect(slider_, &QSlider::valueChanged, view_, &SliceView::setSlice);
    connect(timepointBox_, &QComboBox::currentIndexChanged, this, [this](int t) {
        if (filling_ || t < 0 || !subject_) return;
        fillSeries(t);
        showSeries(t, seriesBox_->currentIndex());
        emit timepointChanged(t);
    });
    connect(seriesBox_, &QComboBox::currentIndexChanged, this, [this](int s) {
        if (filling_ || s < 0 || !subject_) return;
        showSeries(timepointBox_->currentIndex(), s);
    });
}

ViewerPane::~ViewerPane() { stopLoad(); }

void ViewerPane::stopLoad() {
    if (cancel_) cancel_->store(true);
    if (worker_.joinable()) worker_.join();
    cancel_.reset();
    ++generation_;
    loading_ = false;
    progress_->hide();
}

void ViewerPane::showMessage(const QString& text) {
    seriesUid_.clear();
    message_->setText(text);
    stack_->setCurrentWidget(message_);
}

void ViewerPane::setTitle(const QString& title) { title_->setText(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped())); }

QString ViewerPane::message() const { return stack_->currentWidget() == message_ ? message_->text() : QString(); }
bool ViewerPane::showsImage() const { return stack_->currentWidget() == view_ && view_->hasVolume(); }
int ViewerPane::timepoint() const { return timepointBox_->currentIndex(); }
int ViewerPane::ordinal() const {
    const int t = timepoint();
    if (!subject_ || t < 0 || t >= static_cast<int>(subject_->timepoints.size())) return 0;
    const int o = subject_->timepoints[static_cast<std::size_t>(t)].ordinal;
    return o > 0 ? o : t + 1;
}

void ViewerPane::fillSeries(int t) {
    filling_ = true;
    seriesBox_->clear();
    if (subject_ && t >= 0 && t < static_cast<int>(subject_->timepoints.size())) {
        const Timepoint& tp = subject_->timepoints[static_cast<std::size_t>(t)];
        for (const vc::Series& s : tp.series) seriesBox_->addItem(seriesLabel(s));
        seriesBox_->setCurrentIndex(preferredSeries(tp));
    }
    filling_ = false;
}

void ViewerPane::clear(const QString& message) {
    stopLoad();
    subject_.reset();
    filling_ = true;
    timepointBox_->clear();
    seriesBox_->clear();
    filling_ = false;
    view_->clearVolume();
    slider_->setEnabled(false);
    showMessage(message);
}

void ViewerPane::setSubject(std::shared_ptr<const Subject> subject, int t) {
    subject_ = std::move(subject);
    filling_ = true;
    timepointBox_->clear();
    if (subject_)
        for (const Timepoint& tp : subject_->timepoints) timepointBox_->addItem(tp.label());
    timepointBox_->setCurrentIndex(t);
    filling_ = false;
    fillSeries(t);
    showSeries(t, seriesBox_->currentIndex());
}

void ViewerPane::showSeries(int t, int s) {
    stopLoad();
    if (!subject_ || t < 0 || t >= static_cast<int>(subject_->timepoints.size())) {
        view_->clearVolume();
        showMessage(t < 0 && subject_ ? tr("Nothing earlier: the timepoint on the right is the baseline.") : tr("No timepoint to show on this side."));
        emit loaded();
        return;
    }
    const Timepoint& tp = subject_->timepoints[static_cast<std::size_t>(t)];
    if (s < 0 || s >= static_cast<int>(tp.series.size())) {
        view_->clearVolume();
        showMessage(tr("This timepoint has no images."));
        emit loaded();
        return;
    }
    showSeries(tp.series[static_cast<std::size_t>(s)], (subject_->shownAs.isEmpty() ? subject_->pseudonym : subject_->shownAs) + "  " + tp.label());
}

void ViewerPane::showSeries(const vc::Series& series, const QString& caption) {
    stopLoad();
    vc::Geometry g = vc::analyze(series);
    if (!g.ok) {
        view_->clearVolume();
        slider_->setEnabled(false);
        showMessage(tr("This series cannot be shown as a volume:\n%1").arg(QString::fromStdString(g.problem)));
        emit loaded();
        return;
    }
    startLoad(series, std::move(g), caption);
}

void ViewerPane::startLoad(const vc::Series& series, vc::Geometry geometry, const QString& caption) {
    auto volume = std::make_shared<vc::Volume>();
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    cancel_ = cancel;
    const int generation = ++generation_;
    loading_ = true;
    slider_->setEnabled(false);
    progress_->setRange(0, 100);
    progress_->setValue(0);
    progress_->show();
    view_->clearVolume();
    stack_->setCurrentWidget(view_);
    seriesUid_.clear();
    const double thickness = series.sliceThickness;
    modality_ = QString::fromStdString(series.modality);
    const bool hounsfield = modality_ == "CT";
    view_->setValueUnit(hounsfield ? QStringLiteral("HU") : QString());
    worker_ = std::thread([=, this, series = series, geometry = std::move(geometry)]() mutable {
        auto lastPercent = std::make_shared<std::atomic<int>>(-1);
        vc::LoadCallbacks cb;
        cb.cancel = cancel.get();
        cb.middleReady = [&](int z) {
            QMetaObject::invokeMethod(this, [=, this] {
                if (generation != generation_) return;
                view_->setVolume(volume, caption, thickness, z);
            }, Qt::QueuedConnection);
        };
        cb.progress = [&](int done, int total) {
            const int percent = done * 100 / std::max(1, total);
            if (lastPercent->exchange(percent) == percent) return;
            QMetaObject::invokeMethod(this, [=, this] {
                if (generation != generation_) return;
                progress_->setValue(percent);
            }, Qt::QueuedConnection);
        };
        std::string error;
        try {
            vc::loadInto(*volume, series, geometry, cb);
        } catch (const std::exception& e) {
            error = e.what();
        }
        QMetaObject::invokeMethod(this, [=, this] {
            if (generation != generation_) return;
            loading_ = false;
            progress_->hide();
            if (!error.empty()) {
                view_->clearVolume();
                showMessage(tr("This series could not be loaded:\n%1").arg(QString::fromStdString(error)));
            } else {
                if (!view_->hasVolume()) view_->setVolume(volume, caption, thickness);
                view_->volumeComplete();
                std::vector<std::string> sops;
                for (std::size_t z : volume->geometry.order) sops.push_back(series.slices[z].sopUid);
                view_->setImageReferences(series.uid, std::move(sops));
                seriesUid_ = series.uid;
                thickness_ = thickness;
                // MR values are not Hounsfield units: the window comes from the image itself
                if (!hounsfield) view_->setWindowLevel(vc::automaticWindow(*volume, volume->geometry.nz / 2));
                slider_->setRange(0, view_->sliceCount() - 1);
                slider_->setValue(view_->slice());
                slider_->setEnabled(true);
            }
            emit loaded();
        }, Qt::QueuedConnection);
    });
}

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

    for (ViewerPane* pane : {prior_, current_}) {
        SliceView* v = pane->view();
        connect(v, &SliceView::sliceChanged, this, [this, pane](int, double) { syncFrom(pane, false); });
        connect(v, &SliceView::windowLevelChanged, this, [this, pane](vc::WindowLevel) { syncFrom(pane, true); });
        connect(v, &SliceView::focused, this, [this, pane] { lastActive_ = pane; });
        connect(v, &SliceView::viewChanged, this, [this, pane] { alignFrom(pane); });
        connect(pane, &ViewerPane::timepointChanged, this, [this, pane](int) {
            // a reader who picks another of their timepoints on the right reads that one
            if (pane == current_ && reading_ && current_->ordinal() != reading_->ordinal) startRead(reading_->subject, current_->ordinal());
        });
        connect(pane, &ViewerPane::loaded, this, [this, pane] {
            // a newly loaded side follows the other one (same position, same W/L)
            ViewerPane* other = pane == prior_ ? current_ : prior_;
            if (!pane->showsImage()) return;
            showReadCalipers(pane);
            showCaseCalipers(pane);
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
    auto* hints = new QLabel(tr("Wheel or Up/Down: slice  ·  left-drag: window/level  ·  1, 2...: the trial's presets  ·  right-drag or +/-: zoom  ·  "
                                "middle or Shift-drag: pan  ·  double-click or F: fit  ·  A/C/S: plane  ·  L: link  ·  F1: help"));
    hints->setObjectName("hints");
    qApp->installEventFilter(this); // image keys reach the images wherever the focus is
    statusBar()->addPermanentWidget(hints);
    resize(1600, 900);
}

Workstation::~Workstation() = default;

bool Workstation::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() != QEvent::KeyPress && event->type() != QEvent::ShortcutOverride) return QMainWindow::eventFilter(watched, event);
    auto* key = static_cast<QKeyEvent*>(event);
    static const std::set<int> imageKeys{Qt::Key_Up, Qt::Key_Down, Qt::Key_PageUp, Qt::Key_PageDown, Qt::Key_Home,
                                         Qt::Key_End, Qt::Key_Plus, Qt::Key_Equal, Qt::Key_Minus};
    if (!imageKeys.count(key->key()) || (key->modifiers() & (Qt::ControlModifier | Qt::AltModifier))) return false;
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
    ViewerPane* pane = activePane();
    if (!pane->isVisible()) pane = current_;
    QKeyEvent copy(QEvent::KeyPress, key->key(), key->modifiers(), key->text());
    QApplication::sendEvent(pane->view(), &copy);
    return true;
}

void Workstation::armToolFor(const QString& id) {
    QAction* caliper = findChild<QAction*>("toolLongAxis");
    QAction* bidimensional = findChild<QAction*>("toolBidimensional");
    if (!caliper || !bidimensional) return;
    bool waits = false, nodal = false;
    if (reading_ && reading_->editable && current_->ordinal() == reading_->ordinal && !id.isEmpty()) {
        const auto k = reading_->model->lesion(id.toStdString());
        waits = k && k->role == "TARGET" && k->answerable && !reading_->model->draft().answer(id.toStdString());
        nodal = k && k->nodal;
    }
    arming_ = true;
    if (waits && !(caliper->isChecked() || bidimensional->isChecked())) {
        (nodal ? bidimensional : caliper)->setChecked(true);
        autoTool_ = true;
    } else if (!waits && autoTool_) {
        caliper->setChecked(false);
        bidimensional->setChecked(false);
        autoTool_ = false;
    }
    arming_ = false;
}

void Workstation::signOut() {
    endRead();
    adjudication_.reset();
    signedIn_.reset();
    readingIds_.clear();
    for (QDockWidget* d : {homeDock_, readDock_, adjDock_, quarantineDock_})
        if (d) d->hide();
    selectedQuarantined_.clear();
    if (adjPanel_) adjPanel_->clear();
    showImages();
    subject_.reset();
    folderSubjects_.clear();
    const QString why = database_.isEmpty() ? tr("No series loaded.") : tr("Signed out: nothing of the trial is shown.\nSign in (toolbar) to read.");
    for (ViewerPane* p : {prior_, current_}) p->clear(why);
    if (!store_.isEmpty()) openStore(store_); // the whole store again without a queue; nothing while signed out of one
    else tree_->clear();
    // a signed-out workstation of a trial opens nothing: no folder, no subject
    if (QAction* open = findChild<QAction*>("openFolder")) open->setEnabled(database_.isEmpty());
    if (QAction* sw = findChild<QAction*>("switchUser")) {
        sw->setText(tr("Sign in…"));
        sw->setToolTip(tr("Sign in to the reading queue"));
        sw->setVisible(!database_.isEmpty());
    }
    setWindowTitle(tr("ReLUTH central review workstation"));
}

void Workstation::setQueue(const QString& database) {
    if (signedIn_ && database != database_) signOut();
    database_ = database;
    if (!signedIn_) signOut(); // the signed-out state of a trial's workstation
}

bool Workstation::signIn(const QString& database, const QString& user, const QString& password, QString* why) {
    if (signedIn_) signOut();
    database_ = database;
    try {
        auto queue = std::make_unique<rq::Queue>(rq::Database::open(database.toStdString()));
        const rq::Session session = queue->login(user.toStdString(), password.toStdString());
        signedIn_ = std::make_unique<SignedIn>(SignedIn{std::move(queue), session});
    } catch (const rq::Refused& e) {
        if (why) *why = QString::fromStdString(e.what());
        signOut(); // refused: the workstation stays signed out, showing nothing of the trial
        return false;
    } catch (const std::exception& e) {
        if (why) *why = tr("Cannot open the reading queue %1: %2").arg(database, QString::fromStdString(e.what()));
        signOut();
        return false;
    }
    // readers and adjudicators read the trial's de-identified store, nothing else
    if (QAction* open = findChild<QAction*>("openFolder"))
        open->setEnabled(signedIn_->session.role != workflow::Role::Reader && signedIn_->session.role != workflow::Role::Adjudicator);
    if (QAction* sw = findChild<QAction*>("switchUser")) {
        sw->setText(tr("Switch user…"));
        sw->setToolTip(tr("Sign out and let another user sign in"));
        sw->setVisible(true);
    }
    readingIds_.clear();
    try {
        for (const auto& [subject, id] : signedIn_->queue->readingIds(signedIn_->session))
            readingIds_[QString::fromStdString(subject)] = QString::fromStdString(id);
    } catch (const std::exception& e) {
        say(tr("The reading queue refused the subjects' reading IDs: %1").arg(QString::fromStdString(e.what())), 10000);
    }
    for (ViewerPane* p : {prior_, current_}) p->clear(tr("No series loaded.\nChoose an item of your list."));
    applyCharterPresets(signedIn_->queue->charter().reading.windowPresets);
    if (!store_.isEmpty()) openStore(store_); // the Trial list, now that someone may see it (trimmed to a reader's subjects below)
    buildHome();
    return true;
}

bool Workstation::blindedRole() const {
    return signedIn_ && (signedIn_->session.role == workflow::Role::Reader || signedIn_->session.role == workflow::Role::Adjudicator);
}

QString Workstation::shownName(const QString& subject) const {
    if (!blindedRole()) return subject;
    const auto it = readingIds_.find(subject);
    return it != readingIds_.end() && !it->second.isEmpty() ? it->second : tr("(subject without a reading ID)");
}

QString Workstation::blinded(QString text) const {
    if (!blindedRole()) return text;
    // longest first: a subject ID that is a prefix of another is replaced after it
    std::vector<std::pair<QString, QString>> ids(readingIds_.begin(), readingIds_.end());
    std::sort(ids.begin(), ids.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    for (const auto& [subject, id] : ids)
        if (!subject.isEmpty()) text.replace(subject, shownName(subject));
    return text;
}

void Workstation::say(const QString& text, int ms) { statusBar()->showMessage(blinded(text), ms); }

QString Workstation::signedInUser() const { return signedIn_ ? QString::fromStdString(signedIn_->session.user) : QString(); }
QString Workstation::signedInRole() const { return signedIn_ ? QString::fromStdString(rq::roleKey(signedIn_->session.role)) : QString(); }

QStringList Workstation::homeItems() const {
    QStringList out;
    if (!home_) return out;
    for (int i = 0; i < home_->topLevelItemCount(); ++i) {
        QStringList columns;
        for (int c = 0; c < home_->columnCount(); ++c)
            if (!home_->topLevelItem(i)->text(c).isEmpty()) columns << home_->topLevelItem(i)->text(c);
        out << columns.join("  ");
    }
    return out;
}

bool Workstation::openFirstHomeItem() {
    if (!home_ || home_->topLevelItemCount() == 0) return false;
    QTreeWidgetItem* item = home_->topLevelItem(0);
    const QString subject = item->data(0, Qt::UserRole).toString();
    if (subject.isEmpty()) return false;
    home_->setCurrentItem(item);
    if (signedIn_ && signedIn_->session.role == workflow::Role::Adjudicator) return openAdjudication(subject);
    return openSubject(subject, item->data(0, Qt::UserRole + 1).toInt() - 1);
}

bool Workstation::askSignIn(const QString& database) {
    FormDialog dialog(this, "signInDialog", tr("Sign in - ReLUTH central review"), tr("Sign in"), "error");
    dialog.addText(tr("Reading queue: %1").arg(database));
    if (!signInHint_.isEmpty()) dialog.addText(signInHint_);
    QLineEdit* user = dialog.addLine(tr("User"), "user");
    QLineEdit* password = dialog.addPassword(tr("Password"), "password");
    // a refusal shows the queue's own words: wrong password, locked account...
    return dialog.run([&](QString* why) { return signIn(database, user->text(), password->text(), why); });
}

QDockWidget* Workstation::addPanel(const QString& title, const QString& name, QWidget* panel, Qt::DockWidgetArea area, int minimumWidth) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setWidget(panel);
    dock->setFeatures(QDockWidget::DockWidgetMovable);
    if (minimumWidth > 0) dock->setMinimumWidth(minimumWidth);
    addDockWidget(area, dock);
    return dock;
}

void Workstation::buildHome() {
    if (!homeDock_) {
        home_ = new QTreeWidget;
        home_->setRootIsDecorated(false);
        homeDock_ = addPanel(QString(), "home", home_, Qt::LeftDockWidgetArea);
        // one click opens an item (as in a PACS worklist); Enter or a double click too
        auto open = [this](QTreeWidgetItem* item) {
            const QString subject = item->data(0, Qt::UserRole).toString();
            const int ordinal = item->data(0, Qt::UserRole + 1).toInt();
            if (subject.isEmpty()) return;
            if (signedIn_ && signedIn_->session.role == workflow::Role::Adjudicator) {
                if (!(adjudication_ && adjudication_->subject == subject)) openAdjudication(subject);
            } else if (!(reading_ && reading_->subject == subject && reading_->ordinal == ordinal)) {
                openSubject(subject, ordinal - 1);
            }
        };
        connect(home_, &QTreeWidget::itemActivated, this, open);
        connect(home_, &QTreeWidget::itemClicked, this, open);
    }
    home_->clear();
    rq::Queue& q = *signedIn_->queue;
    const rq::Session& s = signedIn_->session;
    QStringList mine;
    try {
        switch (s.role) {
        case workflow::Role::Reader: {
            homeDock_->setWindowTitle(tr("Worklist - %1").arg(QString::fromStdString(s.user)));
            home_->setColumnCount(4);
            home_->setHeaderLabels({tr("Subject"), tr("Timepoint"), tr("State"), tr("Due")});
            const QDate today = QDate::currentDate();
            for (const auto& r : q.worklist(s)) {
                const QString subject = QString::fromStdString(r.subject);
                // due in days, not as a date: a reader's screen shows no calendar date at all
                const QDate due = QDate::fromString(QString::fromStdString(r.dueDate), Qt::ISODate);
                const qint64 days = due.isValid() ? today.daysTo(due) : 0;
                const QString dueText = !due.isValid() ? QString()
                                        : days > 1    ? tr("in %1 days").arg(days)
                                        : days == 1   ? tr("tomorrow")
                                        : days == 0   ? tr("today")
                                        : days == -1  ? tr("overdue 1 day")
                                                      : tr("overdue %1 days").arg(-days);
                QString state = QString::fromStdString(r.state);
                state.replace('_', ' ');
                auto* item = new QTreeWidgetItem(home_, {shownName(subject), tr("timepoint %1").arg(r.ordinal), state, dueText});
                if (due.isValid() && days < 0) { // overdue
                    for (int c = 0; c < 4; ++c) item->setForeground(c, QColor(176, 0, 32));
                    item->setToolTip(3, tr("The charter's turnaround has passed"));
                }
                item->setData(0, Qt::UserRole, subject);
                item->setData(0, Qt::UserRole + 1, r.ordinal);
                if (!mine.contains(subject)) mine << subject;
            }
            // a reader browses only the subjects they read, by their reading IDs
            for (int i = tree_->topLevelItemCount() - 1; i >= 0; --i) {
                QTreeWidgetItem* item = tree_->topLevelItem(i);
                const QString subject = item->data(0, Qt::UserRole).toString();
                if (!mine.contains(subject)) delete tree_->takeTopLevelItem(i);
                else item->setText(0, shownName(subject));
            }
            break;
        }
        case workflow::Role::DataManager:
            buildQuarantineHome();
            break;
        case workflow::Role::Adjudicator: {
            homeDock_->setWindowTitle(tr("Adjudications - %1").arg(QString::fromStdString(s.user)));
            home_->setColumnCount(1);
            home_->setHeaderLabels({tr("Subject / round / state")});
            for (const auto& a : q.adjudicationQueue(s)) {
                auto* item = new QTreeWidgetItem(home_, {tr("%1  round %2  through timepoint %3  %4")
                                                             .arg(shownName(QString::fromStdString(a.subject)))
                                                             .arg(a.round)
                                                             .arg(a.throughOrdinal)
                                                             .arg(QString::fromStdString(a.state == "open" && a.adjudicator.empty() ? "to take" : a.state))});
                item->setData(0, Qt::UserRole, QString::fromStdString(a.subject));
                item->setData(0, Qt::UserRole + 1, a.throughOrdinal);
            }
            break;
        }
        default: {
            if (s.role == workflow::Role::Manager) showDashboard();
            homeDock_->setWindowTitle(tr("Backlog - %1").arg(QString::fromStdString(s.user)));
            home_->setColumnCount(1);
            home_->setHeaderLabels({tr("State: count")});
            const auto b = q.backlog(s);
            for (const auto& [state, n] : b.timepoints) new QTreeWidgetItem(home_, {tr("timepoints %1: %2").arg(QString::fromStdString(state)).arg(n)});
            for (const auto& [state, n] : b.reads) new QTreeWidgetItem(home_, {tr("reads %1: %2").arg(QString::fromStdString(state)).arg(n)});
            for (const auto& [state, n] : b.adjudications) new QTreeWidgetItem(home_, {tr("adjudications %1: %2").arg(QString::fromStdString(state)).arg(n)});
            break;
        }
        }
    } catch (const std::exception& e) {
        new QTreeWidgetItem(home_, {tr("The reading queue refused: %1").arg(QString::fromStdString(e.what()))});
    }
    for (int c = 0; c < home_->columnCount(); ++c) home_->resizeColumnToContents(c);
    homeDock_->show();
    setWindowTitle(tr("ReLUTH central review workstation - %1 (%2)").arg(signedInUser(), signedInRole()));
}

void Workstation::buildActions() {
    QToolBar* bar = addToolBar(tr("View"));
    bar->setObjectName("view");
    bar->setMovable(false);
    QAction* open = bar->addAction(tr("Open folder…"));
    open->setObjectName("openFolder");
    open->setShortcut(QKeySequence::Open);
    open->setToolTip(tr("Any folder of DICOM files (not for readers and adjudicators: they read the trial's de-identified store only)"));
    connect(open, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of DICOM files"));
        if (!dir.isEmpty()) openFolder(dir);
    });
    bar->addSeparator();
    planeGroup_ = new QActionGroup(this);
    const struct {
        const char* name;
        const char* key;
        vc::Plane plane;
    } planes[] = {{"Axial", "A", vc::Plane::Axial}, {"Coronal", "C", vc::Plane::Coronal}, {"Sagittal", "S", vc::Plane::Sagittal}};
    for (const auto& p : planes) {
        QAction* a = bar->addAction(tr(p.name));
        a->setCheckable(true);
        a->setChecked(p.plane == vc::Plane::Axial);
        a->setShortcut(QKeySequence(QString::fromLatin1(p.key)));
        a->setToolTip(tr("%1 plane (%2)").arg(tr(p.name), p.key));
        a->setData(static_cast<int>(p.plane));
        planeGroup_->addAction(a);
        const vc::Plane plane = p.plane;
        connect(a, &QAction::triggered, this, [this, plane] { setPlane(plane); });
    }
    bar->addSeparator();
    int i = 0;
    for (const vc::Preset& p : vc::presets()) {
        QAction* a = bar->addAction(tr(p.name));
        a->setShortcut(QKeySequence(QString::fromLatin1(p.shortcut)));
        a->setToolTip(tr("%1: W %2 L %3 (key %4)").arg(tr(p.name)).arg(p.wl.window).arg(p.wl.level).arg(p.shortcut));
        const int index = i++;
        connect(a, &QAction::triggered, this, [this, index] { applyPreset(index); });
        presetActions_.push_back(a);
    }
    bar->addSeparator();
    // measuring tools (a drag on empty image draws; a drag on a measurement edits or moves it;
    // Delete removes the selected one; Ctrl+Z / Ctrl+Shift+Z undo and redo; Esc: no tool)
    auto* tools = new QActionGroup(this);
    tools->setExclusionPolicy(QActionGroup::ExclusionPolicy::ExclusiveOptional);
    const struct {
        const char* name;
        const char* key;
        SliceView::Tool tool;
        const char* tip;
    } toolList[] = {{"Caliper", "M", SliceView::Tool::LongAxis, "Long axis: drag across the lesion (M)"},
                    {"Long + short axis", "N", SliceView::Tool::Bidimensional,
                     "Bidimensional (lymph nodes): drag the long axis, then drag the short axis' ends (N)"}};
    for (const auto& t : toolList) {
        QAction* a = bar->addAction(tr(t.name));
        a->setObjectName(t.tool == SliceView::Tool::LongAxis ? "toolLongAxis" : "toolBidimensional");
        a->setCheckable(true);
        a->setShortcut(QKeySequence(QString::fromLatin1(t.key)));
        a->setToolTip(tr(t.tip));
        tools->addAction(a);
        const SliceView::Tool tool = t.tool;
        connect(a, &QAction::toggled, this, [this, tool](bool on) {
            if (!arming_) autoTool_ = false; // the reader chose: the tool stays until they put it down
            for (ViewerPane* p : {prior_, current_}) p->view()->setTool(on ? tool : SliceView::Tool::None);
        });
    }
    bar->addSeparator();
    QAction* fit = bar->addAction(tr("Fit"));
    fit->setShortcut(QKeySequence("F"));
    fit->setToolTip(tr("Fit the images to the views (F)"));
    connect(fit, &QAction::triggered, this, [this] {
        prior_->view()->fit();
        current_->view()->fit();
    });
    linkAction_ = bar->addAction(tr("Link"));
    linkAction_->setCheckable(true);
    linkAction_->setChecked(true);
    linkAction_->setShortcut(QKeySequence("L"));
    linkAction_->setToolTip(tr("Scroll and window both sides together (L)"));
    connect(linkAction_, &QAction::toggled, this, [this](bool on) { setLinked(on); });
    baselineAction_ = bar->addAction(tr("Compare with baseline"));
    baselineAction_->setCheckable(true);
    baselineAction_->setShortcut(QKeySequence("B"));
    baselineAction_->setToolTip(tr("Left side: the baseline instead of the prior timepoint (B)"));
    connect(baselineAction_, &QAction::toggled, this, [this](bool on) { setCompareWithBaseline(on); });
    QAction* help = new QAction(tr("Help"), this);
    help->setShortcut(QKeySequence::HelpContents);
    addAction(help);
    connect(help, &QAction::triggered, this, [this] {
        QMessageBox::information(this, tr("Reading images"),
                                 tr("<p><b>Open</b> a subject in the Trial list: its latest timepoint shows on the right, the one before "
                                    "(or the baseline, <b>B</b>) on the left.</p>"
                                    "<p><b>Slices</b>: mouse wheel, Up/Down, Page Up/Down, Home/End, or the slider - the keys reach the images "
                                    "wherever you clicked last, except in a text field.<br>"
                                    "<b>Window/level</b>: drag with the left button (right: wider window, down: higher level), "
                                    "or keys 1, 2...: the trial's presets, in the toolbar's order (the charter chooses them).<br>"
                                    "<b>Zoom</b>: drag down with the right button to come closer, up to step back (about where you pressed), "
                                    "Ctrl+wheel (about the cursor) or +/-; <b>pan</b>: middle button or Shift+left drag; "
                                    "<b>fit</b>: double-click or F.<br>"
                                    "<b>Planes</b>: A axial, C coronal, S sagittal.</p>"
                                    "<p>While <b>Link</b> (L) is on, both sides follow each other by patient position and window; "
                                    "turn it off to move one side alone - linking again keeps the offset you set.</p>"
                                    "<p>The pixel value under the cursor (HU) shows at the top right of each image.</p>"
                                    "<p><b>Reading</b> (readers): your worklist opens your next timepoint. At the baseline choose the organ "
                                    "(<i>Next lesion in</i>), press <b>+ Target</b> and draw across the lesion with the caliper (<b>M</b>; "
                                    "lymph nodes: long + short axis, <b>N</b>, then drag the short axis' ends); <b>+ Non-target</b> for the "
                                    "others. At a follow-up click each lesion: both sides jump to it; draw its caliper, or pick its answer "
                                    "(absent, too small, not evaluable, split, merged; non-targets present/absent/progression). "
                                    "<b>U</b> gives the selected caliper to the selected lesion; Delete and Ctrl+Z edit calipers. The panel "
                                    "says what is missing and shows the responses with their reasons; everything is saved as you go. "
                                    "<b>Sign timepoint</b> asks for your password and the meaning of the signature, then opens the next one.</p>"
                                    "<p><b>Adjudicating</b>: open a subject of your list; Reader 1 is on the left, Reader 2 on the right, "
                                    "the differences are highlighted; choose one, write why, sign.</p>"
                                    "<p><b>Switch user</b> (toolbar) signs you out and asks who signs in next.</p>"));
    });
    QAction* switchUser = bar->addAction(tr("Switch user…"));
    switchUser->setObjectName("switchUser");
    switchUser->setToolTip(tr("Sign out and let another user sign in"));
    switchUser->setVisible(false);
    connect(switchUser, &QAction::triggered, this, [this] {
        const QString db = database_;
        if (signedIn_) signOut();
        // the next user's home opens by itself: a reader's next read, an adjudicator's first case
        if (askSignIn(db)) openFirstHomeItem();
    });
    singleAction_ = bar->addAction(tr("Single view"));
    singleAction_->setCheckable(true);
    singleAction_->setShortcut(QKeySequence("V"));
    singleAction_->setToolTip(tr("Show only the current timepoint (V)"));
    connect(singleAction_, &QAction::toggled, this, [this](bool on) { setSingleView(on); });
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
        say(tr("%1 of %2 subjects in files not marked de-identified: their patient IDs are not shown").arg(unmarked).arg(folderSubjects_.size()));
    if (folderSubjects_.size() == 1) openSubject(folderSubjects_.front()->pseudonym);
    if (folderSubjects_.empty())
        current_->showSeries(-1, -1), say(tr("No DICOM images in %1").arg(folder));
}

std::shared_ptr<const Subject> Workstation::loadSubject(const QString& pseudonym) {
    for (const auto& s : folderSubjects_)
        if (s->pseudonym == pseudonym) return s;
    if (store_.isEmpty()) return nullptr;
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
        for (const auto& v : visible) {
            Timepoint tp;
            tp.ordinal = v.ordinal;
            tp.id = QString::fromStdString(v.visitId);
            tp.description = QString::fromStdString(v.visit);
            tp.date = QString::fromStdString(v.studyDate);
            for (const std::string& folder : v.folders) {
                const vc::Scan scan = vc::scanFolder(QDir(store_).filePath(QString::fromStdString(folder)).toStdString());
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
    const QString where = blindedRole() ? QString::fromStdString(std::filesystem::path(path).filename().string()) : QString::fromStdString(path);
    say((n == 1 ? tr("1 file is not shown") : tr("%1 files are not shown").arg(n)) + tr(" - %1: %2").arg(where, QString::fromStdString(why)), 15000);
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
        if (subject || !signedIn_ || store_.isEmpty()) say(tr("No images for %1").arg(shownName(pseudonym)), 6000);
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
    if (adjudication_) { // browsing leaves the adjudication (the home list opens it again)
        adjudication_.reset();
        if (adjPanel_) adjPanel_->clear();
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
    if (signedIn_ && signedIn_->session.role == workflow::Role::Reader) startRead(pseudonym, current_->ordinal());
    else endRead();
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
    }
    else {
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
    if (reading_ && panel_ && !panel_->selectedLesion().isEmpty()) jumpToLesion(panel_->selectedLesion());
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
    if (a->plane() == vc::Plane::Axial) b->setPixelsPerMm(a->pixelsPerMm());
    else b->alignVertically(a->centre()[2], a->halfHeightMm());
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
