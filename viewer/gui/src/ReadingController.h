#pragma once
// The reader's screen: their own timepoint on the right with the lesion panel, calipers that
// become lesion values, autosave to the reading queue, jump to a lesion, the measuring tool taken
// up while a lesion waits for its caliper, and the signature that locks the timepoint and writes
// its TID 1500 report. Owns the reading panel and the open read; reaches the window through Shell.
#include "viewercore/Measure.h"

#include <QFuture>
#include <QList>
#include <QObject>

#include <optional>
#include <QString>

#include <memory>

class QDockWidget;

namespace vg {

class Shell;
class ReadingPanel;
class ViewerPane;
struct ReadingState;

class ReadingController : public QObject {
    Q_OBJECT
public:
    explicit ReadingController(Shell& shell);
    ~ReadingController() override;

    bool open() const { return state_ != nullptr; }
    QString subject() const;
    int ordinal() const;
    bool editable() const;
    ReadingPanel* panel() const { return panel_; }
    QDockWidget* dock() const { return dock_; }

    /// Opens the reader's own timepoint `ordinal` of `subject` beside the images on the right,
    /// refused (with a message) when they are another visit's. By value: callers pass subject().
    void start(QString subject, int ordinal);
    void end();
    /// The read's calipers on the series a pane shows (read-only but on the right's open timepoint).
    void showCalipers(ViewerPane* pane);
    bool useSelectedCaliper(QString* why = nullptr);
    bool jumpToLesion(const QString& id);
    bool sign(const QString& password, const QString& meaning, QString* why);
    bool askSign();
    /// Takes up the caliper (a node's long + short axis) while the lesion waits for its
    /// measurement, and puts it down afterwards; otherwise left-drag windows.
    void armToolFor(const QString& lesion);
    /// The reader picked a tool themselves: it stays until they put it down.
    void toolChosen() {
        if (!arming_) autoTool_ = false;
    }
    void setReportsFolder(const QString& folder) { reports_ = folder; }
    QString reportsFolder() const;
    QString lastReport() const { return lastReport_; }

    /// The new scan registered to the reader's own previous timepoint (background); for tests.
    bool registrationReady() const;
    /// Where a lesion measured on the prior timepoint is proposed on the current scan (patient
    /// mm), when the registration is ready and the prior has a caliper for it.
    std::optional<vc::Point3> proposedLocation(const QString& id) const;

private:
    void registerPrior();
    void saveDraft();
    void calipersChanged();
    void syncCaliperLabels();

    Shell& shell_;
    std::unique_ptr<ReadingState> state_;
    ReadingPanel* panel_ = nullptr;
    QDockWidget* dock_ = nullptr;
    QString reports_;
    QString lastReport_;
    bool autoTool_ = false; ///< the measuring tool was taken up for a lesion waiting for its caliper
    /// Registrations still running on the thread pool (also of reads closed since): waited for
    /// when the controller goes, so that none runs on while the program ends.
    QList<QFuture<void>> registrations_;
    bool arming_ = false;
};

} // namespace vg
