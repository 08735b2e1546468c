#pragma once
// The workstation's imaging screens: a trial browser (subjects and their timepoints, from the
// de-identified store or any folder), and the comparison hanging protocol - the prior (or
// baseline) timepoint on the left, the current one on the right, synchronised by patient
// position and window/level until the user unlinks them; each side has a timepoint and a
// series picker and loads in the background with a progress bar.
#include "viewercore/Display.h"
#include "viewercore/Series.h"
#include "viewergui/ScreenMode.h"
#include "viewergui/ViewerPane.h"

#include <QMainWindow>
#include <QString>
#include <QWidget>

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

class QComboBox;
class QLabel;
class QProgressBar;
class QSlider;
class QStackedWidget;
class QTreeWidget;
class QTreeWidgetItem;
class QAction;
class QDockWidget;
class QActionGroup;

namespace vg {

class SliceView;
class ReadingPanel;
struct ReadingState;
class AdjudicationPanel;
struct AdjudicationState;
class Dashboard;

class Workstation : public QMainWindow {
    Q_OBJECT
public:
    explicit Workstation(QWidget* parent = nullptr);
    ~Workstation() override;
    /// Image keys (slices, zoom) reach the active view wherever the focus is, except in text fields.
    bool eventFilter(QObject* watched, QEvent* event) override;

    /// The de-identified store: one folder per subject (scanned when the subject is opened).
    void openStore(const QString& folder);
    /// Any folder of DICOM files: grouped by patient and timepoint.
    void openFolder(const QString& folder);
    /// Shows a subject's timepoint on the right and its prior (or baseline) on the left.
    /// By value on purpose: callers pass names held by the subject or read this call replaces.
    bool openSubject(QString pseudonym, int timepoint = -1);

    ViewerPane* prior() const { return prior_; }
    ViewerPane* current() const { return current_; }
    void setLinked(bool linked);
    bool linked() const { return linked_; }
    void setPlane(vc::Plane plane);
    void setCompareWithBaseline(bool baseline);
    void setSingleView(bool single);
    void applyPreset(int index);
    /// The presets offered (names as on the toolbar, in key order).
    QStringList presetNames() const;
    QStringList subjects() const;
    bool idle() const; ///< nothing loading

    /// Signs in against the reading queue (e.g. "sqlite:demo-trial/queue.db") and shows the
    /// role's home: a reader's worklist (their own open reads only; the Trial list keeps only
    /// their subjects), an adjudicator's queue, a manager's backlog. False with the reason.
    bool signIn(const QString& database, const QString& user, const QString& password, QString* why);
    QString signedInUser() const;
    QString signedInRole() const; ///< reader, adjudicator, manager, administrator; empty when nobody
    /// What the screen calls a subject: its reading ID for a reader or an adjudicator (the
    /// subject ID carries the site number), the subject ID for a manager.
    QString shownName(const QString& subject) const;
    /// A text for the screen with every subject ID the queue knows replaced by shownName().
    QString blinded(QString text) const;
    QStringList homeItems() const; ///< the role home's rows as shown
    /// Opens the role home's first row (a reader's next read); false when there is none.
    bool openFirstHomeItem();

    /// A line the sign-in dialog shows under the queue's name (e.g. the demo's accounts).
    void setSignInHint(const QString& hint) { signInHint_ = hint; }
    /// Signs the user out: their screens close, the Trial list shows the whole store again.
    void signOut();
    /// The sign-in dialog (user and password); true once signed in, false when cancelled.
    bool askSignIn(const QString& database);
    /// The reading queue this workstation belongs to: from then on nothing of the trial is
    /// shown unless someone is signed in (the Trial list is empty, no subject opens).
    void setQueue(const QString& database);
    /// The screen up (an explicit state machine, ScreenMode: which screens each role may have).
    Screen currentScreen() const { return mode_.current(); }
    /// Whether the trial may be shown: a signed-in user, or no reading queue at all (a plain viewer).
    bool trialVisible() const { return database_.isEmpty() || signedIn_ != nullptr; }

    // ---- reading (a reader's own timepoint on the right; Reading.cpp)
    ReadingPanel* readingPanel() const { return panel_; }
    /// The open read's subject and timepoint ordinal (1 = baseline); empty / 0 when none.
    QString readSubject() const;
    int readOrdinal() const;
    bool readEditable() const;
    /// The selected caliper of the current view measures the panel's selected target.
    bool useSelectedCaliper(QString* why = nullptr);
    /// Both views go to the lesion's last known caliper (this timepoint's on the right, the
    /// prior's on the left); false when the lesion has none yet.
    bool jumpToLesion(const QString& id);
    /// Signs the open timepoint (password again, meaning), writes its TID 1500 report, and
    /// opens the reader's next timepoint. False with the queue's reason.
    bool signRead(const QString& password, const QString& meaning, QString* why);
    /// Where signed timepoints' reports go: <folder>/<subject>/reader<N>/ (default: beside the store).
    void setReportsFolder(const QString& folder) { reports_ = folder; }
    QString reportsFolder() const;
    /// The path of the last report written, empty when none.
    QString lastReport() const { return lastReport_; }
    /// The signing dialog (password and meaning); true once signed.
    bool askSignRead();

    // ---- the manager's dashboard (Dashboard.cpp)
    Dashboard* dashboard() const { return dashboard_; }
    /// Fills the dashboard from the queue (and the quarantine folder); false with why.
    bool refreshDashboard(QString* why = nullptr);
    /// The SDTM export to a folder (the dashboard's button asks for it).
    bool exportResults(const QString& folder, QString* why = nullptr);
    void showDashboard();
    void showImages();
    /// End of a subject's imaging follow-up (the manager): the per-subject adjudication triggers
    /// are evaluated once both readers have signed every timepoint.
    bool closeReading(const QString& subject, const QString& reason, QString* why = nullptr);
    bool askCloseReading();
    /// The anonymizer's quarantine (default: beside the store).
    void setQuarantineFolder(const QString& folder) { quarantine_ = folder; }
    QString quarantineFolder() const;

    // ---- the data manager's quarantine screen (Quarantine.cpp)
    /// The quarantined files as the data manager's list shows them (path inside the quarantine).
    QStringList quarantinedFiles() const;
    /// Shows a quarantined file: its reasons, whether it can be released, and the image itself.
    bool selectQuarantined(const QString& file);
    /// Release (re-run through the anonymizer) or discard, with a reason and the password again;
    /// recorded in the queue's audit trail. False with the refusal.
    bool decideQuarantined(const QString& file, bool release, const QString& reason, const QString& password, QString* why);
    /// The decision dialog (reason, password) for the selected file; true once decided.
    bool askDecideQuarantined(bool release);
    /// The enrolment list a release needs (default: beside the store, enrolment.csv).
    void setEnrolmentFile(const QString& csv) { enrolment_ = csv; }

    // ---- adjudication (Adjudication.cpp)
    AdjudicationPanel* adjudicationPanel() const { return adjPanel_; }
    /// Takes the subject's open adjudication (or shows the one held) and shows both reads.
    bool openAdjudication(QString subject, QString* why = nullptr);
    QString adjudicationSubject() const;
    /// The decision: Reader 1 or 2, the rationale, signed (password and meaning).
    bool decideAdjudication(int reader, const QString& rationale, const QString& password, const QString& meaning, QString* why);
    bool askDecide();

private:
    void buildActions();
    void subjectChosen(QTreeWidgetItem* item);
    void syncFrom(ViewerPane* from, bool windowLevel);
    /// Coronal and sagittal: the other side at the same zoom with the same body height at the centre.
    void alignFrom(ViewerPane* from);
    ViewerPane* activePane() const;
    std::shared_ptr<const Subject> loadSubject(const QString& pseudonym);
    /// Says in the status bar which files of a scan were not images, and why (first one named).
    void reportSkipped(const vc::Scan& scan);

    void buildHome();
    /// The status bar, blinded (queue refusals name subjects by their IDs).
    void say(const QString& text, int ms = 0);
    bool blindedRole() const;
    std::map<QString, QString> readingIds_; ///< subject -> reading ID, of the subjects the signed-in user sees
    /// A movable dock holding one of the role screens' panels.
    QDockWidget* addPanel(const QString& title, const QString& name, QWidget* panel, Qt::DockWidgetArea area, int minimumWidth = 0);
    void startRead(QString subject, int ordinal); ///< by value: callers pass reading_->subject, which endRead() frees
    void endRead();
    void saveDraft();
    void showReadCalipers(ViewerPane* pane);
    void calipersChanged();
    void syncCaliperLabels();
    void showAdjudicationTimepoint(int ordinal);
    void showCaseCalipers(ViewerPane* pane);
    std::unique_ptr<AdjudicationState> adjudication_;
    void buildQuarantineHome();
    QString enrolment_;
    QString selectedQuarantined_;
    QWidget* quarantinePanel_ = nullptr;
    QDockWidget* quarantineDock_ = nullptr;
    QStackedWidget* centralStack_ = nullptr; ///< the images, or the manager's dashboard
    Dashboard* dashboard_ = nullptr;
    QString quarantine_;
    AdjudicationPanel* adjPanel_ = nullptr;
    QDockWidget* adjDock_ = nullptr;
    std::unique_ptr<ReadingState> reading_;
    ReadingPanel* panel_ = nullptr;
    QDockWidget* readDock_ = nullptr;
    QString reports_;
    QString lastReport_;

    QString store_;
    QString database_;
    QString signInHint_;
    std::unique_ptr<SignedIn> signedIn_;
    QTreeWidget* home_ = nullptr;
    QDockWidget* homeDock_ = nullptr;
    std::vector<std::shared_ptr<const Subject>> folderSubjects_;
    std::shared_ptr<const Subject> subject_;
    QTreeWidget* tree_;
    ViewerPane* prior_;
    ViewerPane* current_;
    QAction* linkAction_ = nullptr;
    QAction* baselineAction_ = nullptr;
    QAction* singleAction_ = nullptr;
    QActionGroup* planeGroup_ = nullptr;
    std::vector<QAction*> presetActions_; ///< in vc::presets() order
    /// Shows the charter's presets only, keys 1..n in the charter's order (all of them without one).
    void applyCharterPresets(const std::vector<std::string>& names);
    ScreenMode mode_;
    /// Switches the screen if the signed-in role may have it; false (nothing changes) otherwise.
    bool setScreen(Screen to);
    bool linked_ = true;
    bool syncing_ = false;
    double offset_ = 0; ///< current minus prior slice position kept while linked
    bool baseline_ = false;
    bool single_ = false;   ///< Single view chosen by the user
    bool autoTool_ = false; ///< the measuring tool was taken up for a lesion waiting for its caliper
    bool arming_ = false;
    /// Takes up the caliper (a node's long + short axis) while the selected lesion waits for its
    /// measurement, and puts it down afterwards; otherwise left-drag windows.
    void armToolFor(const QString& lesion);
    ViewerPane* lastActive_ = nullptr;
};

} // namespace vg
