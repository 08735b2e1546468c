// The adjudicator's panel: both reads side by side, the discordance highlighted, the sums'
// chart, choice, rationale and signature (AdjudicationController puts it on the screen).
#include "viewergui/AdjudicationPanel.h"

#include "Common.h"

#include <QButtonGroup>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDockWidget>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QScatterSeries>
#include <QStatusBar>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include <nlohmann/json.hpp>

namespace vg {

using nlohmann::json;

namespace {

json parsed(const std::string& text) {
    try {
        return text.empty() ? json::object() : json::parse(text);
    } catch (const json::exception&) {
        return json::object();
    }
}

QString str(const json& j, const char* a, const char* b = nullptr) {
    if (!j.is_object() || !j.contains(a)) return {};
    const json& v = b ? j[a] : j;
    const char* key = b ? b : a;
    if (!v.is_object() || !v.contains(key) || !v[key].is_string()) return {};
    return QString::fromStdString(v[key].get<std::string>());
}

} // namespace

AdjudicationPanel::AdjudicationPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("adjudicationPanel");
    auto* layout = new QVBoxLayout(this);
    title_ = new QLabel;
    title_->setStyleSheet("font-weight: bold;");
    title_->setWordWrap(true);
    layout->addWidget(title_);
    triggerText_ = new QLabel;
    triggerText_->setObjectName("triggers");
    triggerText_->setWordWrap(true);
    triggerText_->setTextFormat(Qt::RichText);
    layout->addWidget(triggerText_);

    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Images of")));
    timepoint_ = new QComboBox;
    timepoint_->setObjectName("caseTimepoint");
    row->addWidget(timepoint_, 1);
    layout->addLayout(row);
    connect(timepoint_, &QComboBox::activated, this, [this](int i) { emit timepointChosen(i + 1); });

    table_ = new QTableWidget;
    table_->setObjectName("comparison");
    table_->setColumnCount(3);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->setVisible(true);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table_->setMinimumHeight(180);
    layout->addWidget(table_, 2);

    lesions_ = new QTreeWidget;
    lesions_->setObjectName("caseLesions");
    lesions_->setHeaderLabels({tr("Read / lesion"), tr("Role, organ"), tr("Answers by timepoint")});
    lesions_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    lesions_->setMinimumHeight(150);
    layout->addWidget(lesions_, 2);

    chart_ = new QChartView;
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(170);
    layout->addWidget(chart_, 2);

    auto* choiceRow = new QHBoxLayout;
    choiceRow->addWidget(new QLabel(tr("Accept")));
    choice_ = new QButtonGroup(this);
    for (int r = 1; r <= 2; ++r) {
        auto* b = new QRadioButton(tr("Reader %1").arg(r));
        b->setObjectName(QStringLiteral("choose%1").arg(r));
        choice_->addButton(b, r);
        choiceRow->addWidget(b);
    }
    choiceRow->addStretch();
    layout->addLayout(choiceRow);
    rationale_ = new QPlainTextEdit;
    rationale_->setObjectName("rationale");
    rationale_->setPlaceholderText(tr("Rationale (required): why this read is the right one"));
    rationale_->setMaximumHeight(80);
    layout->addWidget(rationale_);
    message_ = new QLabel;
    message_->setObjectName("adjudicationMessage");
    message_->setWordWrap(true);
    layout->addWidget(message_);
    decide_ = new QPushButton(tr("Sign decision…"));
    decide_->setObjectName("decide");
    layout->addWidget(decide_);
    connect(choice_, &QButtonGroup::idClicked, this, [this] { updateDecide(); });
    connect(rationale_, &QPlainTextEdit::textChanged, this, [this] { updateDecide(); });
    connect(decide_, &QPushButton::clicked, this, [this] { emit decideRequested(); });
    clear();
}

void AdjudicationPanel::clear() {
    title_->setText(tr("No adjudication open"));
    triggerText_->clear();
    timepoint_->clear();
    table_->clear();
    table_->setRowCount(0);
    lesions_->clear();
    triggers_.clear();
    rationale_->clear();
    message_->clear();
    decided_ = true;
    updateDecide();
}

int AdjudicationPanel::chosenReader() const { return std::max(0, choice_->checkedId()); }
void AdjudicationPanel::choose(int reader) {
    if (QAbstractButton* b = choice_->button(reader)) b->click();
}
QString AdjudicationPanel::rationale() const { return rationale_->toPlainText().trimmed(); }
void AdjudicationPanel::setRationale(const QString& text) { rationale_->setPlainText(text); }
void AdjudicationPanel::setMessage(const QString& text, bool error) {
    message_->setText(text);
    message_->setStyleSheet(error ? "color: #b00020;" : "color: #1b5e20;");
}

void AdjudicationPanel::updateDecide() {
    decide_->setEnabled(!decided_ && chosenReader() > 0 && !rationale().isEmpty());
    decide_->setToolTip(chosenReader() == 0     ? tr("Choose Reader 1 or Reader 2")
                        : rationale().isEmpty() ? tr("Write the rationale")
                                                : QString());
}

QStringList AdjudicationPanel::discordantRows() const {
    QStringList out;
    for (int r = 0; r < table_->rowCount(); ++r)
        if (table_->item(r, 2) && table_->item(r, 2)->text() == tr("differs")) out << table_->verticalHeaderItem(r)->text();
    return out;
}

void AdjudicationPanel::setCase(const QString& subject, int round, int throughOrdinal, const std::string& triggersJson,
                                const std::vector<CaseSide>& sides, const QStringList& visits, bool decided) {
    clear();
    decided_ = decided;
    title_->setText(tr("%1 - adjudication round %2, through timepoint %3%4")
                        .arg(subject)
                        .arg(round)
                        .arg(throughOrdinal)
                        .arg(decided ? tr(" - decided") : QString()));
    // the discordance that triggered it
    const json t = parsed(triggersJson);
    QString html = tr("<span style='color:#b00020'><b>Why the reads need adjudication:</b></span><ul style='margin:0'>");
    if (t.is_array())
        for (const json& e : t) {
            const QString line = str(e, "trigger") + ": " + str(e, "detail");
            triggers_ << line;
            html += QStringLiteral("<li>%1</li>").arg(line.toHtmlEscaped());
        }
    triggerText_->setText(html + "</ul>");
    for (int i = 0; i < throughOrdinal && i < visits.size(); ++i) timepoint_->addItem(visits[i]);

    // the comparison: one row per timepoint, then the subject's results
    std::vector<json> results;
    for (const CaseSide& s : sides) results.push_back(parsed(s.resultJson));
    table_->setColumnCount(3);
    table_->setHorizontalHeaderLabels(
        {sides.size() > 0 ? sides[0].label : tr("Reader 1"), sides.size() > 1 ? sides[1].label : tr("Reader 2"), QString()});
    struct Row {
        QString name, a, b;
    };
    std::vector<Row> rows;
    auto visitText = [](const json& v) {
        QString s = str(v, "overall", "response");
        if (v.is_object() && v.contains("sum_mm"))
            s += QStringLiteral("  (%1 mm)").arg(QString::fromStdString(v["sum_mm"].get<std::string>()));
        return s;
    };
    for (int i = 0; i < throughOrdinal; ++i) {
        Row r{i < visits.size() ? visits[i] : tr("Timepoint %1").arg(i + 1), {}, {}};
        for (std::size_t s = 0; s < results.size() && s < 2; ++s) {
            const json& v = results[s].contains("visits") && results[s]["visits"].size() > static_cast<std::size_t>(i)
                                ? results[s]["visits"][i]
                                : json();
            (s == 0 ? r.a : r.b) = visitText(v);
        }
        rows.push_back(r);
    }
    auto subjectRow = [&](const QString& name, const char* a, const char* b) {
        Row r{name, {}, {}};
        if (results.size() > 0) r.a = str(results[0], a, b);
        if (results.size() > 1) r.b = str(results[1], a, b);
        rows.push_back(r);
    };
    subjectRow(tr("Best overall response"), "best_response", "response");
    subjectRow(tr("Progression date"), "progression", "date");
    subjectRow(tr("Disease control at 6 months"), "disease_control", "value");
    table_->setRowCount(static_cast<int>(rows.size()));
    for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
        table_->setVerticalHeaderItem(r, new QTableWidgetItem(rows[static_cast<std::size_t>(r)].name));
        const Row& row = rows[static_cast<std::size_t>(r)];
        // responses differ (sums alone are measurement noise): highlighted
        const QString ra = row.a.section("  ", 0, 0), rb = row.b.section("  ", 0, 0);
        const bool differs = ra != rb;
        table_->setItem(r, 0, new QTableWidgetItem(row.a));
        table_->setItem(r, 1, new QTableWidgetItem(row.b));
        table_->setItem(r, 2, new QTableWidgetItem(differs ? tr("differs") : QString()));
        if (differs)
            for (int c = 0; c < 3; ++c) table_->item(r, c)->setBackground(QColor(255, 214, 214));
    }
    table_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);

    // each reader's lesions with their answers over time
    for (const CaseSide& s : sides) {
        auto* top = new QTreeWidgetItem(lesions_, {s.label});
        std::map<std::string, std::pair<QString, QStringList>> byLesion;
        std::vector<std::string> order;
        for (const auto& [ordinal, payload] : s.payloads) {
            const json p = parsed(payload);
            if (p.contains("lesions") && p["lesions"].is_array())
                for (const json& l : p["lesions"]) {
                    const std::string id = l.value("id", "");
                    if (!byLesion.count(id)) order.push_back(id);
                    byLesion[id].first = QString::fromStdString(l.value("role", "") + ", " + l.value("location", ""));
                }
            if (p.contains("assessments") && p["assessments"].is_array())
                for (const json& a : p["assessments"]) {
                    const std::string id = a.value("id", "");
                    auto& answers = byLesion[id].second;
                    while (answers.size() < ordinal - 1) answers << "-";
                    answers << QString::fromStdString(a.value("result", ""));
                }
        }
        for (const std::string& id : order)
            new QTreeWidgetItem(top, {QString::fromStdString(id), byLesion[id].first, byLesion[id].second.join(" / ")});
        top->setExpanded(true);
    }

    // both sums over time
    auto* chart = new QChart;
    chart->setTitle(tr("Sum of diameters (mm) by timepoint"));
    chart->setMargins(QMargins(2, 2, 2, 2));
    double maxSum = 10;
    const QColor colours[2] = {QColor(20, 90, 200), QColor(220, 120, 0)};
    for (std::size_t s = 0; s < results.size() && s < 2; ++s) {
        auto* line = new QLineSeries;
        line->setName(sides[s].label);
        QPen pen(colours[s]);
        pen.setWidth(2);
        line->setPen(pen);
        if (results[s].contains("visits"))
            for (std::size_t i = 0; i < results[s]["visits"].size(); ++i) {
                const json& v = results[s]["visits"][i];
                if (!v.contains("sum_mm")) continue;
                const double mm = std::stod(v["sum_mm"].get<std::string>());
                line->append(static_cast<double>(i + 1), mm);
                maxSum = std::max(maxSum, mm);
            }
        chart->addSeries(line);
    }
    auto* x = new QValueAxis;
    x->setRange(1, std::max(2, throughOrdinal));
    x->setTickCount(std::max(2, throughOrdinal));
    x->setLabelFormat("%d");
    x->setTitleText(tr("timepoint"));
    auto* y = new QValueAxis;
    y->setRange(0, maxSum * 1.15);
    y->setLabelFormat("%d");
    attachAxes(chart, x, y);
    QChart* old = chart_->chart();
    chart_->setChart(chart);
    delete old;
    if (throughOrdinal > 0) timepoint_->setCurrentIndex(throughOrdinal - 1);
    updateDecide();
}

} // namespace vg
