#pragma once
// The trial manager's screen: the dashboard (backlog, turnaround, reader agreement, the
// accepted results' charts, the quarantine's counts), closing a subject's reading with
// confirmation, and the SDTM export. Owns the dashboard widget; reaches the window through Shell.
#include <QObject>
#include <QString>

class QStackedWidget;

namespace vg {

class Shell;
class Dashboard;

class DashboardController : public QObject {
    Q_OBJECT
public:
    /// The dashboard goes into `central` (the window's central stack) when first shown.
    DashboardController(Shell& shell, QStackedWidget* central);

    Dashboard* dashboard() const { return dashboard_; }
    /// Fills the dashboard from the queue (and the quarantine folder); false with why.
    bool refresh(QString* why = nullptr);
    bool exportResults(const QString& folder, QString* why = nullptr);
    /// End of a subject's imaging follow-up: the per-subject adjudication triggers are evaluated.
    bool closeReading(const QString& subject, const QString& reason, QString* why = nullptr);
    bool askCloseReading();
    void show();

private:
    Shell& shell_;
    QStackedWidget* central_;
    Dashboard* dashboard_ = nullptr;
};

} // namespace vg
