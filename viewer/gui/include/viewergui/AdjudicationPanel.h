#pragma once
// The adjudication screen's panel: the two reads of a subject side by side - labelled Reader 1
// and Reader 2, never by name - with the triggering discordance highlighted: per-timepoint
// sums and responses, best response, progression date and disease control, each reader's
// lesions, the sums over time of both; the adjudicator chooses one read with a written
// rationale and signs. The images with each reader's calipers are in the workstation's views.
#include <QString>
#include <QStringList>
#include <QWidget>

#include <string>
#include <utility>
#include <vector>

class QButtonGroup;
class QChartView;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTreeWidget;

namespace vg {

struct CaseSide {
    QString label;                                     ///< "Reader 1" / "Reader 2"
    std::vector<std::pair<int, std::string>> payloads; ///< ordinal, read payload (JSON)
    std::string resultJson;                            ///< the engine's results for the read
};

class AdjudicationPanel : public QWidget {
    Q_OBJECT
public:
    explicit AdjudicationPanel(QWidget* parent = nullptr);
    /// visits: the label of each timepoint ordinal (index 0 = baseline).
    void setCase(const QString& subject, int round, int throughOrdinal, const std::string& triggersJson, const std::vector<CaseSide>& sides,
                 const QStringList& visits, bool decided);
    void clear();

    int chosenReader() const; ///< 1, 2, or 0 when none chosen
    void choose(int reader);
    QString rationale() const;
    void setRationale(const QString& text);
    void setMessage(const QString& text, bool error);

    QStringList triggers() const { return triggers_; } ///< as shown
    QStringList discordantRows() const;                ///< the comparison rows highlighted
    QTableWidget* comparison() const { return table_; }
    QPushButton* decideButton() const { return decide_; }
    QComboBox* timepointPicker() const { return timepoint_; }

signals:
    void timepointChosen(int ordinal); ///< show both reads' images of this timepoint
    void decideRequested();

private:
    void updateDecide();

    QLabel* title_;
    QLabel* triggerText_;
    QComboBox* timepoint_;
    QTableWidget* table_;
    QTreeWidget* lesions_;
    QChartView* chart_;
    QButtonGroup* choice_;
    QPlainTextEdit* rationale_;
    QPushButton* decide_;
    QLabel* message_;
    QStringList triggers_;
    bool decided_ = false;
};

} // namespace vg
