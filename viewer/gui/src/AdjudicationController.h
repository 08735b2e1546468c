#pragma once
// The adjudicator's screen: takes a subject's open adjudication, shows both reads in the
// adjudication panel and the same timepoint of the subject twice - Reader 1's calipers on the
// left, Reader 2's on the right - and signs the decision. Owns the panel and the open case;
// reaches the window through Shell.
#include <QObject>
#include <QString>

#include <memory>

class QDockWidget;

namespace vg {

class Shell;
class AdjudicationPanel;
class ViewerPane;
struct AdjudicationState;

class AdjudicationController : public QObject {
    Q_OBJECT
public:
    explicit AdjudicationController(Shell& shell);
    ~AdjudicationController() override;

    bool open() const { return state_ != nullptr; }
    QString subject() const;
    AdjudicationPanel* panel() const { return panel_; }
    QDockWidget* dock() const { return dock_; }

    /// Takes the subject's open adjudication (or shows the one held) and shows both reads.
    bool start(QString subject, QString* why = nullptr);
    /// Leaves the case (browsing, signing out): the panel is cleared.
    void close();
    void showTimepoint(int ordinal);
    /// Reader 1's calipers on the left, Reader 2's on the right, on the series each side shows.
    void showCalipers(ViewerPane* pane);
    bool decide(int reader, const QString& rationale, const QString& password, const QString& meaning, QString* why);
    bool askDecide();

private:
    Shell& shell_;
    std::unique_ptr<AdjudicationState> state_;
    AdjudicationPanel* panel_ = nullptr;
    QDockWidget* dock_ = nullptr;
};

} // namespace vg
