#pragma once
// The lesion panel: what the reader records for the timepoint being read. Lesions with their
// role, organ and nodal flag; one answer per lesion (a caliper's value, or a state); the queue's
// checks that keep the timepoint from being signed, explained; the engine's results with their
// reasons; and the sum of diameters over time with the baseline, nadir, -30 % and +20 % lines.
// Every decision is made by vr::ReadModel (the queue's checks and the recist engine).
#include <QString>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;
class QChartView;

namespace vr {
class ReadModel;
}

namespace vg {

class SumPlot;

class ReadingPanel : public QWidget {
    Q_OBJECT
public:
    explicit ReadingPanel(QWidget* parent = nullptr);
    ~ReadingPanel() override;

    /// Shows a read; editable: the timepoint is the reader's open one (else signed, read-only).
    void setRead(std::shared_ptr<vr::ReadModel> model, const QString& title, bool editable);
    void clear();
    vr::ReadModel* model() const { return model_.get(); }
    bool editable() const { return editable_; }
    /// Rebuilds everything from the model (after calipers changed it).
    void refresh();
    void setSaveState(const QString& text, bool error);

    QString selectedLesion() const;
    void selectLesion(const QString& id);
    /// The answer choices a lesion's row offers, as shown.
    QStringList choices(const QString& id) const;
    /// Picks an answer the way the row's list does (for keyboard users and tests); false if not offered.
    bool choose(const QString& id, const QString& choice);
    /// Adds a lesion of the role with the organ chosen in the organ list (as the buttons do).
    QString addLesion(const QString& role);
    /// The organ the next lesion is added in.
    void setOrgan(const QString& organ);
    /// Changes the organ of a lesion identified at this timepoint (as its row's list does).
    bool setLesionOrgan(const QString& id, const QString& organ);

    QTreeWidget* lesionTable() const { return table_; }
    QPushButton* signButton() const { return sign_; }
    QString problemsText() const;
    QString resultsText() const;
    QString saveStateText() const;
    SumPlot* plot() const { return plot_; }

signals:
    void edited();                           ///< the reader changed the read: autosave
    void lesionActivated(const QString& id); ///< jump to it
    void useCaliperRequested();              ///< give the selected caliper to the selected lesion
    void targetAdded(const QString& id);     ///< a new target: the selected caliper, if free, measures it
    void signRequested();

private:
    void answerChosen(const QString& id, const QString& choice);
    void rebuildTable();
    void rebuildResults();

    std::shared_ptr<vr::ReadModel> model_;
    bool editable_ = false;
    QLabel* title_;
    QLabel* saveState_;
    QComboBox* organ_;
    QTreeWidget* table_;
    QPushButton* addTarget_;
    QPushButton* addNonTarget_;
    QPushButton* addNew_;
    QPushButton* useCaliper_;
    QPushButton* remove_;
    QLabel* problems_;
    QLabel* results_;
    SumPlot* plot_;
    QPushButton* sign_;
    bool rebuilding_ = false;
};

/// The sum of diameters over time (Qt Charts), with the baseline, nadir, -30 % and +20 % lines.
class SumPlot : public QWidget {
    Q_OBJECT
public:
    explicit SumPlot(QWidget* parent = nullptr);
    struct Point {
        double day = 0; ///< days from the baseline scan
        double sum = 0;
        QString label;
    };
    /// baseline and nadir: the reference sums (nadir <= 0: none yet).
    void setData(const std::vector<Point>& points, double baseline, double nadir);
    int pointCount() const { return count_; }
    /// The reference lines drawn, by name ("baseline", "nadir", "-30 %", "+20 %") and value.
    QStringList lines() const { return lines_; }

private:
    QChartView* view_;
    int count_ = 0;
    QStringList lines_;
};

} // namespace vg
