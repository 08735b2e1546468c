#pragma once
// The trial manager's dashboard: the backlog by state, by timepoint and by reader, turnaround
// times, each reader's workload, adjudication rate and selection rate, the files the
// anonymizer quarantined waiting for a decision (counted by reason category only: which
// subject had an arm-revealing series would itself reveal the arm), charts - the backlog over
// time, a waterfall of the best % change and a spider plot of the % change over time of the
// subjects whose results are accepted - the endpoints pooled over all subjects (DCR at the
// landmark and ORR with Clopper-Pearson intervals, the Kaplan-Meier curve of rPFS with the
// number at risk and the median with its Brookmeyer-Crowley interval) - and the SDTM export.
#include <QDateTime>
#include <QList>
#include <QPointF>
#include <QString>
#include <QWidget>

#include <map>
#include <string>
#include <utility>
#include <vector>

class QChartView;
class QLabel;
class QPushButton;
class QTableWidget;

namespace vg {

struct DashboardData {
    std::map<std::string, int> timepoints, reads, adjudications; ///< by state
    std::map<std::string, std::map<std::string, int>> byReader;  ///< reader -> read state -> count
    std::map<int, std::map<std::string, int>> byTimepoint;       ///< ordinal -> read state -> count
    struct Stage {
        std::string name;
        int count = 0;
        double medianHours = 0, p90Hours = 0;
    };
    std::vector<Stage> turnaround;
    struct Reader {
        std::string name;
        int subjects = 0, signedReads = 0, pendingReads = 0, adjudicated = 0, chosen = 0;
        double adjudicationRate = 0, selectionRate = 0;
        int manualCalipers = 0, proposalsAccepted = 0, proposalsEdited = 0; ///< signed calipers by origin
    };
    std::vector<Reader> readers;
    std::map<std::string, int> quarantine; ///< files waiting, by reason category
    struct Point {
        QDateTime at;
        int readsWaiting = 0, adjudicationsOpen = 0;
    };
    std::vector<Point> history;
    struct Accepted {
        std::string subject;
        std::string best;                               ///< best overall response
        double bestChange = 0;                          ///< smallest % change of the sum from baseline
        std::vector<std::pair<double, double>> changes; ///< days from baseline, % change
    };
    std::vector<Accepted> accepted;
    /// The endpoints, pooled over every subject with an accepted result (never by arm or site).
    struct Endpoints {
        int accepted = 0, stillReading = 0; ///< subjects with an accepted result; randomized ones without one yet
        int dcrYes = 0, dcrEvaluated = 0;   ///< disease control at the landmark (DCR6M Y) of accepted results
        int responders = 0;                 ///< BOR CR or PR
        std::vector<std::pair<double, bool>> rpfs; ///< accepted rPFS: AVAL (days), event (CNSR 0)
    };
    Endpoints endpoints;
};

class Dashboard : public QWidget {
    Q_OBJECT
public:
    explicit Dashboard(QWidget* parent = nullptr);
    void setData(const DashboardData& data);
    const DashboardData& data() const { return data_; }
    /// A table's cell text, for tests and screen readers: "backlog", "timepoints", "readers", "turnaround", "quarantine".
    QTableWidget* table(const QString& name) const;
    QStringList chartTitles() const;
    int waterfallBars() const { return waterfallBars_; }
    /// The Kaplan-Meier chart's step curve as drawn (days, S) and its censoring marks.
    QList<QPointF> kmCurve() const;
    QList<QPointF> kmCensored() const;
    int spiderLines() const { return spiderLines_; }
    QPushButton* exportButton() const { return export_; }
    QPushButton* refreshButton() const { return refresh_; }
    QPushButton* closeButton() const { return close_; }
    void setMessage(const QString& text, bool error);

signals:
    void exportRequested();
    void refreshRequested();
    void closeRequested(); ///< end a subject's reading (end of imaging follow-up)

private:
    void showEndpoints(const DashboardData::Endpoints& e);
    DashboardData data_;
    QLabel* summary_;
    QLabel* message_;
    std::map<QString, QTableWidget*> tables_;
    QChartView* backlogChart_;
    QChartView* waterfall_;
    QChartView* spider_;
    QChartView* km_;
    QLabel* endpoints_;
    QPushButton* export_;
    QPushButton* refresh_;
    QPushButton* close_;
    int waterfallBars_ = 0, spiderLines_ = 0;
};

} // namespace vg
