#pragma once
// The workstation's main window, kept thin: the docks, the toolbar, the session (sign-in, the
// role's home list, blinding of names) and the imaging screen - a trial browser (subjects and
// their timepoints, as the queue lets the role see them) and the comparison hanging protocol:
// the prior (or baseline) timepoint on the left, the current one on the right, synchronised by
// patient position and window/level until the user unlinks them. Each role's screen is its own
// controller owning its panel and state (ReadingController, AdjudicationController,
// DashboardController, QuarantineController, in src/); they reach the window through the
// internal Shell interface, and the public methods below that belong to a role forward to it.
#include "viewercore/Display.h"
#include "viewercore/Measure.h"
#include "viewercore/Series.h"
#include "viewergui/ScreenMode.h"
#include "viewergui/Shell.h"
#include "viewergui/ViewerPane.h"

#include <QImage>
#include <QMainWindow>
#include <QString>
#include <QWidget>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
class ReadingController;
class AdjudicationController;
class DashboardController;
class QuarantineController;

class Workstation : public QMainWindow, private Shell {
    Q_OBJECT
public:
    explicit Workstation(QWidget* parent = nullptr);
    ~Workstation() override;
    /// Image keys (slices, zoom) reach the active view wherever the focus is, except in text fields.
    bool eventFilter(QObject* watched, QEvent* event) override;

    /// The de-identified store: one folder per subject (scanned when the subject is opened).
    void openStore(const QString& folder);
    /// The trial's store on a DICOMweb server ("dicomweb+https://HOST/dicom-web"), with the
    /// account and CA of a 0600 configuration file (JSON: url, user, password, ca). Like the
    /// local store, nothing shows until someone signs in to the queue, and only the studies the
    /// queue opens for them are fetched, into a session cache emptied at sign-out. False with
    /// the reason said when the configuration or the server refuses.
    bool openWebStore(const QString& url, const QString& configFile);
    /// The session cache of a DICOMweb store (empty path without one).
    std::filesystem::path webCache() const override;
    /// The last DICOMweb fetch: the image its dialog showed first (null: none), when (seconds
    /// from the start of the fetch) and how many of its instances had arrived by then (tests).
    QImage webFetchPreview(double* firstImageSeconds = nullptr, std::size_t* arrivedAtFirstImage = nullptr,
                           std::size_t* instances = nullptr) const;
    /// Any folder of DICOM files: grouped by patient and timepoint.
    void openFolder(const QString& folder);
    /// Shows a subject's timepoint on the right and its prior (or baseline) on the left.
    /// By value on purpose: callers pass names held by the subject or read this call replaces.
    bool openSubject(QString pseudonym, int timepoint = -1) override;

    ViewerPane* prior() const override { return prior_; }
    ViewerPane* current() const override { return current_; }
    void setLinked(bool linked);
    bool linked() const { return linked_; }
    void setPlane(vc::Plane plane);
    void setCompareWithBaseline(bool baseline);
    void setSingleView(bool single);
    void applyPreset(int index);
    /// The presets offered (names as on the toolbar, in key order).
    QStringList presetNames() const;
    QStringList subjects() const override;
    bool idle() const; ///< nothing loading

    /// Signs in against the reading queue (e.g. "sqlite:demo-trial/queue.db") and shows the
    /// role's home: a reader's worklist (their own open reads only; the Trial list keeps only
    /// their subjects), an adjudicator's queue, a manager's backlog. False with the reason.
    bool signIn(const QString& database, const QString& user, const QString& password, QString* why);
    QString signedInUser() const override;
    QString signedInRole() const; ///< reader, adjudicator, manager, administrator; empty when nobody
    /// What the screen calls a subject: its reading ID for a reader or an adjudicator (the
    /// subject ID carries the site number), the subject ID for a manager.
    QString shownName(const QString& subject) const override;
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
    Screen currentScreen() const override { return mode_.current(); }
    /// Whether the trial may be shown: a signed-in user, or no reading queue at all (a plain viewer).
    bool trialVisible() const { return database_.isEmpty() || signedIn_ != nullptr; }

    // ---- reading (a reader's own timepoint on the right; Reading.cpp)
    ReadingPanel* readingPanel() const;
    /// The open read's subject and timepoint ordinal (1 = baseline); empty / 0 when none.
    QString readSubject() const;
    int readOrdinal() const;
    bool readEditable() const;
    /// The selected caliper of the current view measures the panel's selected target.
    bool useSelectedCaliper(QString* why = nullptr);
    /// Both views go to the lesion's last known caliper (this timepoint's on the right, the
    /// prior's on the left); false when the lesion has none yet.
    bool jumpToLesion(const QString& id);
    /// At a follow-up: the new scan registered (in the background) to the reader's own previous
    /// timepoint, and where a lesion measured there is proposed on the new scan.
    bool priorRegistered() const;
    std::optional<vc::Point3> proposedLocation(const QString& id) const;
    /// Signs the open timepoint (password again, meaning), writes its TID 1500 report, and
    /// opens the reader's next timepoint. False with the queue's reason.
    bool signRead(const QString& password, const QString& meaning, QString* why);
    /// Where signed timepoints' reports go: <folder>/<subject>/reader<N>/ (default: beside the store).
    void setReportsFolder(const QString& folder);
    QString reportsFolder() const;
    /// The path of the last report written, empty when none.
    QString lastReport() const;
    /// The signing dialog (password and meaning); true once signed.
    bool askSignRead();

    // ---- the manager's dashboard (Dashboard.cpp)
    Dashboard* dashboard() const;
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
    QString quarantineFolder() const override;

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
    void setEnrolmentFile(const QString& csv);

    // ---- adjudication (Adjudication.cpp)
    AdjudicationPanel* adjudicationPanel() const;
    /// Takes the subject's open adjudication (or shows the one held) and shows both reads.
    bool openAdjudication(QString subject, QString* why = nullptr);
    QString adjudicationSubject() const;
    /// The decision: Reader 1 or 2, the rationale, signed (password and meaning).
    bool decideAdjudication(int reader, const QString& rationale, const QString& password, const QString& meaning, QString* why);
    bool askDecide();

private:
    // ---- Shell: what the role controllers reach of the window
    QMainWindow* mainWindow() override { return this; }
    SignedIn* signedIn() const override { return signedIn_.get(); }
    void say(const QString& text, int ms = 0) override;
    QDockWidget* addPanel(const QString& title, const QString& name, QWidget* panel, Qt::DockWidgetArea area,
                          int minimumWidth = 0) override;
    /// Switches the screen if the signed-in role may have it; false (nothing changes) otherwise.
    bool setScreen(Screen to) override;
    std::shared_ptr<const Subject> loadSubject(const QString& pseudonym) override;
    const Subject* subject() const override { return subject_.get(); }
    void setSubject(std::shared_ptr<const Subject> subject) override { subject_ = std::move(subject); }
    void buildHome() override;
    QString store() const override { return store_; }
    void moveIndependently(const std::function<void()>& move) override;
    void resetOffset() override { offset_ = 0; }

    void buildActions();
    void subjectChosen(QTreeWidgetItem* item);
    void syncFrom(ViewerPane* from, bool windowLevel);
    /// Coronal and sagittal: the other side at the same zoom with the same body height at the centre.
    void alignFrom(ViewerPane* from);
    ViewerPane* activePane() const;
    /// Says in the status bar which files of a scan were not images, and why (first one named).
    void reportSkipped(const vc::Scan& scan);
    bool blindedRole() const;
    /// Shows the charter's presets only, keys 1..n in the charter's order (all of them without one).
    void applyCharterPresets(const std::vector<std::string>& names);

    std::map<QString, QString> readingIds_;  ///< subject -> reading ID, of the subjects the signed-in user sees
    QStackedWidget* centralStack_ = nullptr; ///< the images, or the manager's dashboard
    QString quarantine_;
    QString store_;
    std::unique_ptr<class WebStore> web_; ///< the DICOMweb store, when the store is one
    /// The Trial list of a DICOMweb store (nothing while signed out).
    void listWebSubjects();
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
    ScreenMode mode_;
    bool linked_ = true;
    bool syncing_ = false;
    double offset_ = 0; ///< current minus prior slice position kept while linked
    bool baseline_ = false;
    bool single_ = false; ///< Single view chosen by the user
    ViewerPane* lastActive_ = nullptr;

    // ---- the role screens (each owns its panel and state)
    std::unique_ptr<ReadingController> reading_;
    std::unique_ptr<AdjudicationController> adjudication_;
    std::unique_ptr<DashboardController> dashboardScreen_;
    std::unique_ptr<QuarantineController> quarantineScreen_;
};

} // namespace vg
