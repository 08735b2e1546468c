// The reader's plot of the sum of diameters by visit (days from baseline on the axis, never a
// date), with the baseline and the nadir the next response is measured against.
#include "viewergui/ReadingPanel.h"

#include "Common.h"

#include <QChart>
#include <QChartView>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

namespace vg {

SumPlot::SumPlot(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    view_ = new QChartView;
    view_->setObjectName("sumPlot");
    view_->setRenderHint(QPainter::Antialiasing);
    layout->addWidget(view_);
    setData({}, 0, 0);
}

void SumPlot::setData(const std::vector<Point>& points, double baseline, double nadir) {
    auto* chart = new QChart;
    chart->setTitle(tr("Sum of diameters (mm)"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(2, 2, 2, 2));
    count_ = static_cast<int>(points.size());
    lines_.clear();
    double maxDay = 60, maxSum = 10;
    for (const Point& p : points) {
        maxDay = std::max(maxDay, p.day);
        maxSum = std::max(maxSum, p.sum);
    }
    auto* sums = new QLineSeries;
    sums->setName(tr("sum"));
    auto* dots = new QScatterSeries;
    dots->setMarkerSize(8);
    for (const Point& p : points) {
        sums->append(p.day, p.sum);
        dots->append(p.day, p.sum);
    }
    QPen sumPen(QColor(20, 90, 200));
    sumPen.setWidth(2);
    sums->setPen(sumPen);
    dots->setColor(QColor(20, 90, 200));
    chart->addSeries(sums);
    chart->addSeries(dots);
    auto reference = [&](const QString& name, double value, QColor colour, Qt::PenStyle style) {
        if (value <= 0) return;
        auto* line = new QLineSeries;
        line->setName(QStringLiteral("%1 %2").arg(name).arg(value, 0, 'f', 1));
        line->append(0, value);
        line->append(maxDay * 1.05, value);
        QPen pen(colour);
        pen.setStyle(style);
        pen.setWidth(1);
        line->setPen(pen);
        chart->addSeries(line);
        lines_ << line->name();
        maxSum = std::max(maxSum, value);
    };
    reference(tr("baseline"), baseline, QColor(90, 90, 90), Qt::SolidLine);
    reference(tr("-30 %"), baseline * 0.7, QColor(0, 140, 70), Qt::DashLine);
    reference(tr("nadir"), nadir, QColor(130, 60, 170), Qt::DotLine);
    reference(tr("+20 %"), nadir * 1.2, QColor(200, 40, 40), Qt::DashLine);
    auto* x = new QValueAxis;
    x->setTitleText(tr("days from baseline"));
    x->setRange(0, maxDay * 1.05);
    x->setLabelFormat("%d");
    auto* y = new QValueAxis;
    y->setRange(0, maxSum * 1.15);
    y->setLabelFormat("%d");
    attachAxes(chart, x, y);
    chart->legend()->markers(dots).front()->setVisible(false);
    QChart* old = view_->chart();
    view_->setChart(chart);
    delete old;
}

} // namespace vg
