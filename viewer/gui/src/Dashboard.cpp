#include "viewergui/Dashboard.h"

#include "Common.h"
#include "Internal.h"

#include "recist/Statistics.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QDateTimeAxis>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLineEdit>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <set>

namespace vg {

namespace {

QTableWidget* makeTable(const QString& name) {
    auto* t = new QTableWidget;
    t->setObjectName(name);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->horizontalHeader()->setStretchLastSection(true);
    t->setMinimumHeight(120);
    return t;
}

void fill(QTableWidget* t, const QStringList& header, const std::vector<QStringList>& rows) {
    t->clear();
    t->setColumnCount(static_cast<int>(header.size()));
    t->setHorizontalHeaderLabels(header);
    t->setRowCount(static_cast<int>(rows.size()));
    for (int r = 0; r < static_cast<int>(rows.size()); ++r)
        for (int c = 0; c < rows[static_cast<std::size_t>(r)].size(); ++c)
            t->setItem(r, c, new QTableWidgetItem(rows[static_cast<std::size_t>(r)][c]));
}

QChartView* chartView(const QString& name) {
    auto* v = new QChartView;
    v->setObjectName(name);
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumHeight(260);
    return v;
}

void replaceChart(QChartView* view, QChart* chart) {
    QChart* old = view->chart();
    view->setChart(chart);
    delete old;
}

QString n(int v) { return QString::number(v); }

/// The % change axis of the waterfall and the spider plot.
QValueAxis* percentAxis(double lo, double hi) {
    auto* y = new QValueAxis;
    y->setRange(lo, hi);
    y->applyNiceNumbers();
    y->setTitleText("%");
    return y;
}
QString hours(double h) { return QString::number(h, 'f', h < 10 ? 2 : 1); }

} // namespace

Dashboard::Dashboard(QWidget* parent) : QWidget(parent) {
    setObjectName("dashboard");
    auto* outer = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    summary_ = new QLabel;
    summary_->setObjectName("summary");
    summary_->setTextFormat(Qt::RichText);
    top->addWidget(summary_, 1);
    refresh_ = new QPushButton(tr("Refresh"));
    refresh_->setObjectName("refreshDashboard");
    export_ = new QPushButton(tr("Export SDTM…"));
    export_->setObjectName("exportSdtm");
    export_->setToolTip(tr("TU, TR, RS of both readers, the accepted reads, SUBJ, ADJ and the engine's config, to a folder"));
    close_ = new QPushButton(tr("Close a subject's reading…"));
    close_->setObjectName("closeReading");
    close_->setToolTip(tr("End of imaging follow-up: the subject's adjudication triggers are evaluated once both readers "
                          "have signed every timepoint"));
    top->addWidget(refresh_);
    top->addWidget(close_);
    top->addWidget(export_);
    outer->addLayout(top);
    message_ = new QLabel;
    message_->setObjectName("dashboardMessage");
    message_->setWordWrap(true);
    outer->addWidget(message_);
    connect(export_, &QPushButton::clicked, this, [this] { emit exportRequested(); });
    connect(refresh_, &QPushButton::clicked, this, [this] { emit refreshRequested(); });
    connect(close_, &QPushButton::clicked, this, [this] { emit closeRequested(); });

    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    auto* body = new QWidget;
    auto* grid = new QGridLayout(body);
    scroll->setWidget(body);
    outer->addWidget(scroll, 1);
    const struct {
        const char* name;
        const char* title;
        int row, col;
    } tables[] = {{"backlog", "Backlog by state", 0, 0},
                  {"timepoints", "Reads by timepoint", 0, 1},
                  {"readers", "Readers: workload, adjudication and selection", 0, 2},
                  {"turnaround", "Turnaround (hours)", 2, 0},
                  {"quarantine", "Quarantined files waiting for a decision", 2, 1}};
    for (const auto& t : tables) {
        auto* label = new QLabel(QStringLiteral("<b>%1</b>").arg(tr(t.title)));
        grid->addWidget(label, t.row, t.col);
        QTableWidget* w = makeTable(t.name);
        tables_[t.name] = w;
        grid->addWidget(w, t.row + 1, t.col);
    }
    backlogChart_ = chartView("backlogChart");
    waterfall_ = chartView("waterfall");
    spider_ = chartView("spider");
    grid->addWidget(backlogChart_, 4, 0);
    grid->addWidget(waterfall_, 4, 1);
    grid->addWidget(spider_, 4, 2);
    // the endpoints, pooled: figures, the Kaplan-Meier curve and the number at risk under it
    auto* endpointsTitle = new QLabel(QStringLiteral("<b>%1</b>").arg(tr("Endpoints by central review, pooled over all subjects")));
    grid->addWidget(endpointsTitle, 5, 0, 1, 3);
    endpoints_ = new QLabel;
    endpoints_->setObjectName("endpoints");
    endpoints_->setTextFormat(Qt::RichText);
    endpoints_->setWordWrap(true);
    endpoints_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    grid->addWidget(endpoints_, 6, 2, 2, 1);
    km_ = chartView("km");
    km_->setMinimumHeight(320);
    grid->addWidget(km_, 6, 0, 1, 2);
    QTableWidget* atRisk = makeTable("atRisk");
    atRisk->setMinimumHeight(70);
    atRisk->setMaximumHeight(80);
    tables_["atRisk"] = atRisk;
    grid->addWidget(atRisk, 7, 0, 1, 2);
    for (int c = 0; c < 3; ++c) grid->setColumnStretch(c, 1);
    setData({});
}

QTableWidget* Dashboard::table(const QString& name) const {
    const auto it = tables_.find(name);
    return it == tables_.end() ? nullptr : it->second;
}

QStringList Dashboard::chartTitles() const {
    QStringList out;
    for (QChartView* v : {backlogChart_, waterfall_, spider_, km_}) out << (v->chart() ? v->chart()->title() : QString());
    return out;
}

QList<QPointF> Dashboard::kmCurve() const {
    if (!km_->chart()) return {};
    for (QAbstractSeries* s : km_->chart()->series())
        if (s->objectName() == "kmCurve") return static_cast<QLineSeries*>(s)->points();
    return {};
}

QList<QPointF> Dashboard::kmCensored() const {
    if (!km_->chart()) return {};
    for (QAbstractSeries* s : km_->chart()->series())
        if (s->objectName() == "kmCensored") return static_cast<QScatterSeries*>(s)->points();
    return {};
}

void Dashboard::setMessage(const QString& text, bool error) {
    message_->setText(text);
    message_->setStyleSheet(error ? "color: #b00020;" : "color: #1b5e20;");
}

void Dashboard::setData(const DashboardData& d) {
    data_ = d;
    auto count = [](const std::map<std::string, int>& m, const char* k) {
        const auto it = m.find(k);
        return it == m.end() ? 0 : it->second;
    };
    int quarantined = 0;
    for (const auto& [k, v] : d.quarantine) quarantined += v;
    // the same counts as the backlog and readers tables: due = open, draft or reopen requested (a
    // reader can act on it); not yet readable = waiting for QC or for the reader's earlier timepoint
    const int readsDue = count(d.reads, "open") + count(d.reads, "draft") + count(d.reads, "reopen_requested");
    summary_->setText(tr("<b>%1</b> timepoints received &nbsp; <b>%2</b> reads due (%6 not yet readable) &nbsp; <b>%3</b> signed &nbsp; "
                         "<b>%4</b> adjudications open &nbsp; <b>%5</b> files wait for the data manager")
                          .arg([&] {
                              int t = 0;
                              for (const auto& [k, v] : d.timepoints) t += v;
                              return t;
                          }())
                          .arg(readsDue)
                          .arg(count(d.reads, "signed"))
                          .arg(count(d.adjudications, "open"))
                          .arg(quarantined)
                          .arg(count(d.reads, "waiting")));

    std::vector<QStringList> rows;
    for (const auto& [k, v] : d.timepoints) rows.push_back({tr("timepoints"), QString::fromStdString(k), n(v)});
    for (const auto& [k, v] : d.reads) rows.push_back({tr("reads"), QString::fromStdString(k), n(v)});
    for (const auto& [k, v] : d.adjudications) rows.push_back({tr("adjudications"), QString::fromStdString(k), n(v)});
    fill(table("backlog"), {tr("What"), tr("State"), tr("Count")}, rows);

    std::set<std::string> states;
    for (const auto& [o, m] : d.byTimepoint)
        for (const auto& [k, v] : m) states.insert(k);
    QStringList header{tr("Timepoint")};
    for (const auto& s : states) header << QString::fromStdString(s);
    rows.clear();
    for (const auto& [o, m] : d.byTimepoint) {
        QStringList r{o == 1 ? tr("1 (baseline)") : n(o)};
        for (const auto& s : states) r << n(count(m, s.c_str()));
        rows.push_back(r);
    }
    fill(table("timepoints"), header, rows);

    rows.clear();
    for (const auto& r : d.readers)
        rows.push_back({QString::fromStdString(r.name), n(r.subjects), n(r.signedReads), n(r.pendingReads), n(r.adjudicated),
                        QString::number(100 * r.adjudicationRate, 'f', 0) + " %",
                        r.adjudicated ? QString::number(100 * r.selectionRate, 'f', 0) + " %" : QStringLiteral("-"),
                        // one-click proposals accepted unchanged, of all proposals accepted (and of all calipers)
                        r.proposalsAccepted + r.proposalsEdited
                            ? tr("%1/%2 (%3 %)")
                                  .arg(r.proposalsAccepted)
                                  .arg(r.proposalsAccepted + r.proposalsEdited)
                                  .arg(100.0 * r.proposalsAccepted / (r.proposalsAccepted + r.proposalsEdited), 0, 'f', 0)
                            : QStringLiteral("-"),
                        n(r.manualCalipers)});
    fill(table("readers"),
         {tr("Reader"), tr("Subjects"), tr("Signed"), tr("Waiting"), tr("Adjudicated"), tr("Adjudication rate"), tr("Selected"),
          tr("1-click kept"), tr("By hand")},
         rows);

    rows.clear();
    for (const auto& s : d.turnaround)
        rows.push_back({QString::fromStdString(s.name), n(s.count), hours(s.medianHours), hours(s.p90Hours)});
    fill(table("turnaround"), {tr("Stage"), tr("Done"), tr("Median"), tr("90th pct")}, rows);

    rows.clear();
    for (const auto& [k, v] : d.quarantine) rows.push_back({QString::fromStdString(k), n(v)});
    fill(table("quarantine"), {tr("Reason"), tr("Files")}, rows);

    // backlog over time
    {
        auto* chart = new QChart;
        chart->setTitle(tr("Backlog over time"));
        auto* waiting = new QLineSeries;
        waiting->setName(tr("reads waiting"));
        auto* open = new QLineSeries;
        open->setName(tr("adjudications open"));
        QDateTime first, last;
        for (const auto& p : d.history) {
            const double ms = static_cast<double>(p.at.toMSecsSinceEpoch());
            waiting->append(ms, p.readsWaiting);
            open->append(ms, p.adjudicationsOpen);
            if (!first.isValid()) first = p.at;
            last = p.at;
        }
        chart->addSeries(waiting);
        chart->addSeries(open);
        auto* x = new QDateTimeAxis;
        x->setFormat(first.isValid() && first.daysTo(last) > 2 ? "dd MMM" : "HH:mm");
        if (first.isValid()) x->setRange(first, last > first ? last : first.addSecs(60));
        auto* y = new QValueAxis;
        int maxY = 1;
        for (const auto& p : d.history) maxY = std::max({maxY, p.readsWaiting, p.adjudicationsOpen});
        y->setRange(0, maxY * 1.1);
        y->setLabelFormat("%d");
        attachAxes(chart, x, y);
        replaceChart(backlogChart_, chart);
    }
    // waterfall of the best % change (accepted results), largest growth first
    {
        std::vector<const DashboardData::Accepted*> order;
        for (const auto& a : d.accepted) order.push_back(&a);
        std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->bestChange > b->bestChange; });
        auto* chart = new QChart;
        chart->setTitle(tr("Best %% change from baseline (accepted reads)").replace("%%", "%"));
        auto* series = new QBarSeries;
        auto* set = new QBarSet(tr("best % change"));
        QStringList subjects;
        double lo = -40, hi = 30;
        for (auto* a : order) {
            *set << a->bestChange;
            subjects << QString::fromStdString(a->subject) + " " + QString::fromStdString(a->best);
            lo = std::min(lo, a->bestChange - 5);
            hi = std::max(hi, a->bestChange + 5);
        }
        series->append(set);
        chart->addSeries(series);
        waterfallBars_ = static_cast<int>(order.size());
        auto* x = new QBarCategoryAxis;
        x->append(subjects.isEmpty() ? QStringList{tr("no accepted results yet")} : subjects);
        x->setLabelsAngle(-60);
        QValueAxis* y = percentAxis(lo, hi);
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        auto line = [&](double v, QColor c, const QString& name) {
            auto* l = new QLineSeries;
            l->setName(name);
            l->append(-0.5, v);
            l->append(std::max(0.5, waterfallBars_ - 0.5), v);
            QPen pen(c);
            pen.setStyle(Qt::DashLine);
            l->setPen(pen);
            chart->addSeries(l);
            l->attachAxis(y);
            auto* lx = new QValueAxis;
            lx->setRange(-0.5, std::max(0.5, waterfallBars_ - 0.5));
            lx->setVisible(false);
            chart->addAxis(lx, Qt::AlignTop);
            l->attachAxis(lx);
        };
        line(-30, QColor(0, 140, 70), tr("-30 % (PR)"));
        line(20, QColor(200, 40, 40), tr("+20 % (PD)"));
        replaceChart(waterfall_, chart);
    }
    // spider plot: % change over time per accepted subject
    {
        auto* chart = new QChart;
        chart->setTitle(tr("Change from baseline over time (accepted reads)"));
        chart->legend()->setVisible(d.accepted.size() <= 8);
        double maxDay = 60, lo = -40, hi = 30;
        spiderLines_ = 0;
        for (const auto& a : d.accepted) {
            auto* l = new QLineSeries;
            l->setName(QString::fromStdString(a.subject));
            l->append(0, 0);
            for (const auto& [day, pct] : a.changes) {
                l->append(day, pct);
                maxDay = std::max(maxDay, day);
                lo = std::min(lo, pct - 5);
                hi = std::max(hi, pct + 5);
            }
            chart->addSeries(l);
            ++spiderLines_;
        }
        auto* x = new QValueAxis;
        x->setRange(0, maxDay * 1.05);
        x->setTitleText(tr("days from baseline"));
        x->setLabelFormat("%d");
        QValueAxis* y = percentAxis(lo, hi);
        attachAxes(chart, x, y);
        replaceChart(spider_, chart);
    }
    showEndpoints(d.endpoints);
}

void Dashboard::showEndpoints(const DashboardData::Endpoints& e) {
    namespace st = recist::stats;
    auto pct = [](double v) { return QString::number(100 * v, 'f', 1); };
    auto rate = [&](int k, int n) {
        if (n == 0) return tr("no accepted result yet");
        const auto [lo, hi] = st::clopperPearson(k, n);
        return tr("%1/%2 = %3 % (95 % CI %4-%5 %, Clopper-Pearson)").arg(k).arg(n).arg(pct(static_cast<double>(k) / n), pct(lo), pct(hi));
    };
    const st::KaplanMeier km = st::kaplanMeier(e.rpfs);
    const auto median = km.median();
    const auto [lo, hi] = km.medianInterval();
    auto day = [](const std::optional<double>& d) { return d ? QString::number(*d, 'f', 0) : QStringLiteral("not reached"); };
    QString text = tr("Based on <b>%1</b> subject(s) with an accepted result; <b>%2</b> still being read. Never by arm or site.")
                       .arg(e.accepted)
                       .arg(e.stillReading);
    text += "<br><br>" + tr("<b>Disease control at 6 months</b> (%1 subjects): %2").arg(e.dcrEvaluated).arg(rate(e.dcrYes, e.dcrEvaluated));
    text += "<br>" + tr("<b>Objective response</b> (CR or PR, %1 subjects): %2").arg(e.accepted).arg(rate(e.responders, e.accepted));
    text += "<br>" + tr("<b>rPFS</b> (%1 subjects, %2 events): median %3 days (95 % CI %4 to %5, Brookmeyer-Crowley)")
                         .arg(km.subjects)
                         .arg(km.events)
                         .arg(day(median), day(lo), day(hi));
    endpoints_->setText(text);

    // the Kaplan-Meier step curve, censoring marks, and the number at risk every 8 weeks
    auto* chart = new QChart;
    chart->setTitle(tr("rPFS by central review (Kaplan-Meier, accepted results, pooled)"));
    auto* curve = new QLineSeries;
    curve->setObjectName("kmCurve");
    curve->setName(tr("rPFS"));
    auto* marks = new QScatterSeries;
    marks->setObjectName("kmCensored");
    marks->setName(tr("censored"));
    marks->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    marks->setMarkerSize(7);
    double s = 1, last = 0;
    curve->append(0, 1);
    for (const auto& step : km.steps) {
        if (step.events > 0) {
            curve->append(step.time, s);
            s = step.survival;
            curve->append(step.time, s);
        }
        if (step.censored > 0) marks->append(step.time, step.survival);
        last = step.time;
    }
    curve->append(last, s);
    chart->addSeries(curve);
    chart->addSeries(marks);
    const double span = std::max(56.0, std::ceil(last / 56.0) * 56.0);
    auto* x = new QValueAxis;
    x->setRange(0, span);
    x->setTickCount(static_cast<int>(span / 56.0) + 1);
    x->setLabelFormat("%d");
    x->setTitleText(tr("days from randomization"));
    auto* y = new QValueAxis;
    y->setRange(0, 1.0);
    y->setTickCount(6);
    y->setLabelFormat("%.1f");
    y->setTitleText(tr("progression-free"));
    attachAxes(chart, x, y);
    replaceChart(km_, chart);
    QStringList header{tr("")};
    QStringList row{tr("At risk")};
    for (double t = 0; t <= span + 0.5; t += 56) {
        header << tr("day %1").arg(t, 0, 'f', 0);
        row << QString::number(km.atRisk(t));
    }
    fill(table("atRisk"), header, {row});
    table("atRisk")->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
}

} // namespace vg
