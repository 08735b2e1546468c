// The workstation's session: signing in and out against the reading queue, what a blinded role
// sees of a subject's name, and each role's home list (worklist, adjudications, backlog, quarantine).
#include "viewergui/Workstation.h"

#include "WebStore.h"

#include "viewergui/SliceView.h"

#include "AdjudicationController.h"
#include "Common.h"
#include "Internal.h"
#include "QuarantineController.h"
#include "ReadingController.h"

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
#include <cstdio>
#include <map>
#include <set>

namespace vg {

namespace {
/// Marks the home list's "nothing waits for you" row.
constexpr int kPlaceholderRole = Qt::UserRole + 7;
} // namespace

void Workstation::signOut() {
    reading_->end();
    adjudication_->close();
    quarantineScreen_->close();
    if (signedIn_ && web_) {
        try { // the images fetched with this session's tokens are gone; so are the tokens
            signedIn_->queue->revokeImageTokens(signedIn_->session);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "reluth-workstation: the image tokens could not be revoked (they expire in %d h): %s\n",
                         rq::Queue::kImageTokenHours, e.what());
        }
    }
    signedIn_.reset();
    readingIds_.clear();
    for (QDockWidget* d : {homeDock_, reading_->dock(), adjudication_->dock()})
        if (d) d->hide();
    showImages();
    mode_.enter(database_.isEmpty() ? Screen::Images : Screen::SignedOut, std::nullopt, !database_.isEmpty());
    subject_.reset();
    folderSubjects_.clear();
    const QString why =
        database_.isEmpty() ? tr("No series loaded.") : tr("Signed out: nothing of the trial is shown.\nSign in (toolbar) to read.");
    for (ViewerPane* p : {prior_, current_}) p->clear(why);
    if (web_) {
        web_->clear(); // the session cache: nothing fetched for the last user stays on this machine
        listWebSubjects();
    } else if (!store_.isEmpty()) {
        openStore(store_); // the whole store again without a queue; nothing while signed out of one
    } else {
        tree_->clear();
    }
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
    if (web_) listWebSubjects();
    buildHome();
    if (mode_.current() == Screen::SignedOut) setScreen(ScreenMode::home(signedIn_->session.role, true));
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
        if (home_->topLevelItem(i)->data(0, kPlaceholderRole).toBool()) continue;
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
        home_->setObjectName("homeList");
        home_->setRootIsDecorated(false);
        homeDock_ = addPanel(QString(), "home", home_, Qt::LeftDockWidgetArea);
        // one click opens an item (as in a PACS worklist); Enter or a double click too
        auto open = [this](QTreeWidgetItem* item) {
            const QString subject = item->data(0, Qt::UserRole).toString();
            const int ordinal = item->data(0, Qt::UserRole + 1).toInt();
            if (subject.isEmpty()) return;
            if (signedIn_ && signedIn_->session.role == workflow::Role::Adjudicator) {
                if (!(adjudication_->open() && adjudication_->subject() == subject)) openAdjudication(subject);
            } else if (!(reading_->open() && reading_->subject() == subject && reading_->ordinal() == ordinal)) {
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
                                        : days > 1     ? tr("in %1 days").arg(days)
                                        : days == 1    ? tr("tomorrow")
                                        : days == 0    ? tr("today")
                                        : days == -1   ? tr("overdue 1 day")
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
            break;
        }
        case workflow::Role::DataManager: quarantineScreen_->fillHome(home_, homeDock_); break;
        case workflow::Role::Adjudicator: {
            homeDock_->setWindowTitle(tr("Adjudications - %1").arg(QString::fromStdString(s.user)));
            home_->setColumnCount(1);
            home_->setHeaderLabels({tr("Subject / round / state")});
            for (const auto& a : q.adjudicationQueue(s)) {
                auto* item = new QTreeWidgetItem(
                    home_, {tr("%1  round %2  through timepoint %3  %4")
                                .arg(shownName(QString::fromStdString(a.subject)))
                                .arg(a.round)
                                .arg(a.throughOrdinal)
                                .arg(QString::fromStdString(a.state == "open" && a.adjudicator.empty() ? "to take" : a.state))});
                item->setData(0, Qt::UserRole, QString::fromStdString(a.subject));
                item->setData(0, Qt::UserRole + 1, a.throughOrdinal);
                if (!mine.contains(QString::fromStdString(a.subject))) mine << QString::fromStdString(a.subject);
            }
            break;
        }
        default: {
            if (s.role == workflow::Role::Manager) showDashboard();
            homeDock_->setWindowTitle(tr("Backlog - %1").arg(QString::fromStdString(s.user)));
            home_->setColumnCount(1);
            home_->setHeaderLabels({tr("State: count")});
            const auto b = q.backlog(s);
            for (const auto& [state, n] : b.timepoints)
                new QTreeWidgetItem(home_, {tr("timepoints %1: %2").arg(QString::fromStdString(state)).arg(n)});
            for (const auto& [state, n] : b.reads)
                new QTreeWidgetItem(home_, {tr("reads %1: %2").arg(QString::fromStdString(state)).arg(n)});
            for (const auto& [state, n] : b.adjudications)
                new QTreeWidgetItem(home_, {tr("adjudications %1: %2").arg(QString::fromStdString(state)).arg(n)});
            break;
        }
        }
    } catch (const std::exception& e) {
        new QTreeWidgetItem(home_, {tr("The reading queue refused: %1").arg(QString::fromStdString(e.what()))});
    }
    // an empty list says so (found driving the demo as the adjudicator: an empty list beside
    // two "No series loaded - choose an item of your list" views); the row opens nothing and is
    // not one of homeItems()
    if (home_->topLevelItemCount() == 0 && blindedRole()) {
        auto* none = new QTreeWidgetItem(home_, {s.role == workflow::Role::Adjudicator
                                                     ? tr("No adjudication waits for you.")
                                                     : tr("No read waits for you.")});
        none->setFlags(Qt::NoItemFlags);
        none->setData(0, kPlaceholderRole, true);
        none->setFirstColumnSpanned(true);
    }
    // a blinded role (reader, adjudicator) browses only the subjects of its own list, by their
    // reading IDs (found driving the demo: an adjudicator's Trial list showed every subject ID)
    if (blindedRole()) {
        for (int i = tree_->topLevelItemCount() - 1; i >= 0; --i) {
            QTreeWidgetItem* item = tree_->topLevelItem(i);
            const QString subject = item->data(0, Qt::UserRole).toString();
            if (!mine.contains(subject))
                delete tree_->takeTopLevelItem(i);
            else
                item->setText(0, shownName(subject));
        }
    }
    for (int c = 0; c < home_->columnCount(); ++c) home_->resizeColumnToContents(c);
    homeDock_->show();
    setWindowTitle(tr("ReLUTH central review workstation - %1 (%2)").arg(signedInUser(), signedInRole()));
}

} // namespace vg
