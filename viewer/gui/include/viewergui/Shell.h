#pragma once
// What the workstation's main window offers its role screens (ReadingController,
// AdjudicationController, DashboardController, QuarantineController): the signed-in session,
// the two image panes and their linking, the status bar, docks, the screen state machine and
// the subject on screen. A controller owns its panel and its state and reaches the window only
// through this interface - never another controller's state.
#include "viewergui/ScreenMode.h"

#include <QString>

#include <filesystem>
#include <functional>
#include <memory>

class QDockWidget;
class QMainWindow;
class QWidget;

namespace vg {

struct SignedIn;
struct Subject;
class ViewerPane;

class Shell {
public:
    virtual ~Shell() = default;
    virtual QMainWindow* mainWindow() = 0;
    /// The signed-in user's queue and session; null when nobody is signed in.
    virtual SignedIn* signedIn() const = 0;
    virtual QString signedInUser() const = 0;
    virtual ViewerPane* prior() const = 0;
    virtual ViewerPane* current() const = 0;
    /// The status bar, blinded for readers and adjudicators.
    virtual void say(const QString& text, int ms = 0) = 0;
    /// A subject as the signed-in role may see it named (a reading ID for blinded roles).
    virtual QString shownName(const QString& subject) const = 0;
    virtual QDockWidget* addPanel(const QString& title, const QString& name, QWidget* panel, Qt::DockWidgetArea area,
                                  int minimumWidth = 0) = 0;
    virtual bool setScreen(Screen to) = 0;
    virtual Screen currentScreen() const = 0;
    /// The timepoints of a subject the signed-in role may see (the queue's answer), loaded.
    virtual std::shared_ptr<const Subject> loadSubject(const QString& subject) = 0;
    virtual const Subject* subject() const = 0;
    /// The subject on screen becomes this one (the panes are set by the caller).
    virtual void setSubject(std::shared_ptr<const Subject> subject) = 0;
    virtual bool openSubject(QString subject, int timepoint) = 0;
    /// The role's home list again (after a signature, a decision...).
    virtual void buildHome() = 0;
    virtual QString store() const = 0;
    /// The private session cache of a DICOMweb store (emptied at sign-out); empty otherwise.
    virtual std::filesystem::path webCache() const = 0;
    virtual QString quarantineFolder() const = 0;
    virtual QStringList subjects() const = 0;
    /// Moves the panes without either following the other, then keeps their new offset while linked.
    virtual void moveIndependently(const std::function<void()>& move) = 0;
    /// Forgets the offset between the linked sides (both show the same patient position).
    virtual void resetOffset() = 0;
};

} // namespace vg
