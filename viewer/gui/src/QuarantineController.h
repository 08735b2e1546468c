#pragma once
// The data manager's screen (issue 14): the quarantined files with their reasons in the home
// list, a preview of each, and the decision - release (the original re-run through the whole
// anonymizer) or discard - with a required reason and the password again, recorded in the
// reading queue's hash-chained audit trail. Only a data manager (unblinded, like the key's
// owner) sees it. Owns the decision panel; reaches the window through Shell.
#include <QObject>
#include <QString>
#include <QStringList>

class QDockWidget;
class QTreeWidget;
class QWidget;

namespace vg {

class Shell;

class QuarantineController : public QObject {
    Q_OBJECT
public:
    explicit QuarantineController(Shell& shell);

    /// Fills the home list with the quarantined files and shows the decision panel.
    void fillHome(QTreeWidget* home, QDockWidget* homeDock);
    /// The quarantined files as the list shows them (path inside the quarantine); empty for other roles.
    QStringList files() const;
    /// Shows a quarantined file: its reasons, whether it can be released, and the image itself.
    bool select(const QString& file);
    bool decide(const QString& file, bool release, const QString& reason, const QString& password, QString* why);
    bool askDecide(bool release);
    /// The enrolment list a release needs (default: beside the store, enrolment.csv).
    void setEnrolmentFile(const QString& csv) { enrolment_ = csv; }
    /// Nothing selected, panel hidden (signing out).
    void close();

private:
    Shell& shell_;
    QString enrolment_;
    QString selected_;
    QWidget* panel_ = nullptr;
    QDockWidget* dock_ = nullptr;
};

} // namespace vg
