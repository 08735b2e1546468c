#include "viewergui/ReadingPanel.h"

#include "Common.h"

#include "viewerreading/ReadModel.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QScrollArea>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QValueAxis>

namespace vg {

namespace {

const QString kUnanswered = QObject::tr("Unanswered - draw a caliper");
const QString kAbsent = QObject::tr("Absent (0 mm)");
const QString kTooSmall = QObject::tr("Too small to measure");
const QString kNotEvaluable = QObject::tr("Not evaluable");
const QString kSplit = QObject::tr("Split into fragments…");
const QString kMerged = QObject::tr("Merged with…");

QString caliperChoice(const std::string& mm) { return QObject::tr("Caliper: %1 mm").arg(QString::fromStdString(mm)); }

/// The row's answer as the reader's words.
QString shown(const vr::AnswerEntry* a, bool target) {
    if (!a) return target ? kUnanswered : QObject::tr("Unanswered");
    if (target) {
        if (a->result == "NOT DONE" && a->reason == "TUMOR MERGED") return QObject::tr("Merged");
        if (a->result == "NOT DONE") return kNotEvaluable;
        if (a->result == "TOO SMALL TO MEASURE") return kTooSmall;
        if (a->result == "0" || a->result == "0.0") return kAbsent;
        if (a->measurement) return caliperChoice(a->result);
        return QObject::tr("%1 mm").arg(QString::fromStdString(a->result));
    }
    static const std::map<std::string, QString> words{{"PRESENT", QObject::tr("Present")},
                                                      {"ABSENT", QObject::tr("Absent")},
                                                      {"UNEQUIVOCAL PROGRESSION", QObject::tr("Unequivocal progression")},
                                                      {"NOT EVALUABLE", QObject::tr("Not evaluable")},
                                                      {"UNEQUIVOCAL", QObject::tr("Unequivocal")},
                                                      {"EQUIVOCAL", QObject::tr("Equivocal")}};
    const auto it = words.find(a->result);
    return it != words.end() ? it->second : QString::fromStdString(a->result);
}

QString esc(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }

} // namespace

ReadingPanel::ReadingPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("readingPanel");
    auto* layout = new QVBoxLayout(this);
    title_ = new QLabel;
    title_->setObjectName("readTitle");
    title_->setStyleSheet("font-weight: bold;");
    title_->setWordWrap(true);
    saveState_ = new QLabel;
    saveState_->setObjectName("saveState");
    layout->addWidget(title_);
    layout->addWidget(saveState_);

    auto* organRow = new QHBoxLayout;
    organRow->addWidget(new QLabel(tr("Next lesion in")));
    organ_ = new QComboBox;
    organ_->setObjectName("organ");
    for (const std::string& o : vr::organs()) organ_->addItem(QString::fromStdString(o));
    organ_->setToolTip(tr("The organ of the next lesion you add (a lesion's own organ is changed in its row). "
                          "Lymph node locations are nodal: their short axis counts."));
    organRow->addWidget(organ_, 1);
    layout->addLayout(organRow);

    table_ = new QTreeWidget;
    table_->setObjectName("lesions");
    table_->setRootIsDecorated(false);
    table_->setHeaderLabels({tr("Lesion"), tr("Role"), tr("Organ"), tr("Node"), tr("Answer"), tr("Before")});
    table_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->header()->setStretchLastSection(false);
    table_->setMinimumHeight(170);
    layout->addWidget(table_, 2);
    connect(table_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (rebuilding_ || !item) return;
        emit lesionActivated(item->text(0));
    });
    connect(table_, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
        if (item) emit lesionActivated(item->text(0)); // a second click jumps again
    });

    auto* buttons = new QHBoxLayout;
    addTarget_ = new QPushButton(tr("+ Target"));
    addTarget_->setObjectName("addTarget");
    addTarget_->setToolTip(tr("A new target lesion in the chosen organ (the selected caliper becomes its measurement)"));
    addNonTarget_ = new QPushButton(tr("+ Non-target"));
    addNonTarget_->setObjectName("addNonTarget");
    addNew_ = new QPushButton(tr("+ New lesion"));
    addNew_->setObjectName("addNew");
    useCaliper_ = new QPushButton(tr("Use caliper (U)"));
    useCaliper_->setObjectName("useCaliper");
    useCaliper_->setShortcut(QKeySequence(Qt::Key_U));
    useCaliper_->setToolTip(tr("The caliper selected in the current view measures the selected target (U)"));
    remove_ = new QPushButton(tr("Remove"));
    remove_->setObjectName("removeLesion");
    for (QPushButton* b : {addTarget_, addNonTarget_, addNew_, useCaliper_, remove_}) buttons->addWidget(b);
    layout->addLayout(buttons);
    connect(addTarget_, &QPushButton::clicked, this, [this] {
        const QString id = addLesion("TARGET");
        if (!id.isEmpty()) emit targetAdded(id);
    });
    connect(addNonTarget_, &QPushButton::clicked, this, [this] { addLesion("NON-TARGET"); });
    connect(addNew_, &QPushButton::clicked, this, [this] { addLesion("NEW"); });
    connect(useCaliper_, &QPushButton::clicked, this, [this] { emit useCaliperRequested(); });
    connect(remove_, &QPushButton::clicked, this, [this] {
        std::string why;
        if (!model_ || !model_->removeLesion(selectedLesion().toStdString(), &why)) {
            setSaveState(QString::fromStdString(why), true);
            return;
        }
        refresh();
        emit edited();
    });

    problems_ = new QLabel;
    problems_->setObjectName("problems");
    problems_->setWordWrap(true);
    problems_->setTextFormat(Qt::RichText);
    layout->addWidget(problems_);

    results_ = new QLabel;
    results_->setObjectName("results");
    results_->setWordWrap(true);
    results_->setTextFormat(Qt::RichText);
    results_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* scroll = new QScrollArea;
    scroll->setWidget(results_);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    layout->addWidget(scroll, 2);

    plot_ = new SumPlot;
    plot_->setMinimumHeight(190);
    layout->addWidget(plot_, 2);

    sign_ = new QPushButton(tr("Sign timepoint…"));
    sign_->setObjectName("sign");
    sign_->setToolTip(tr("Sign this timepoint: your password again and the meaning of the signature; the timepoint is then locked"));
    layout->addWidget(sign_);
    connect(sign_, &QPushButton::clicked, this, [this] { emit signRequested(); });
    clear();
}

ReadingPanel::~ReadingPanel() = default;

void ReadingPanel::clear() {
    model_.reset();
    editable_ = false;
    title_->setText(tr("No read open"));
    saveState_->clear();
    table_->clear();
    problems_->clear();
    results_->clear();
    plot_->setData({}, 0, 0);
    for (QPushButton* b : {addTarget_, addNonTarget_, addNew_, useCaliper_, remove_, sign_}) b->setEnabled(false);
}

void ReadingPanel::setRead(std::shared_ptr<vr::ReadModel> model, const QString& title, bool editable) {
    model_ = std::move(model);
    editable_ = editable;
    title_->setText(title);
    saveState_->setText(editable ? tr("Draft: saved as you go") : tr("Signed: read only"));
    saveState_->setStyleSheet({});
    refresh();
}

void ReadingPanel::setSaveState(const QString& text, bool error) {
    saveState_->setText(text);
    saveState_->setStyleSheet(error ? "color: #b00020;" : "color: #1b5e20;");
}

QString ReadingPanel::saveStateText() const { return saveState_->text(); }
QString ReadingPanel::problemsText() const { return problems_->text(); }
QString ReadingPanel::resultsText() const { return results_->text(); }

QString ReadingPanel::selectedLesion() const {
    const QTreeWidgetItem* item = table_->currentItem();
    return item ? item->text(0) : QString();
}

void ReadingPanel::selectLesion(const QString& id) {
    for (int i = 0; i < table_->topLevelItemCount(); ++i)
        if (table_->topLevelItem(i)->text(0) == id) {
            table_->setCurrentItem(table_->topLevelItem(i));
            return;
        }
}

QString ReadingPanel::addLesion(const QString& role) {
    if (!model_ || !editable_) return {};
    const std::string id = model_->addLesion(role.toStdString(), organ_->currentText().toStdString());
    refresh();
    selectLesion(QString::fromStdString(id));
    emit edited();
    return QString::fromStdString(id);
}

void ReadingPanel::setOrgan(const QString& organ) {
    const int at = organ_->findText(organ);
    if (at >= 0) organ_->setCurrentIndex(at);
}

bool ReadingPanel::setLesionOrgan(const QString& id, const QString& organ) {
    std::string why;
    if (!model_ || !editable_ || !model_->setLocation(id.toStdString(), organ.toStdString(), &why)) {
        if (!why.empty()) setSaveState(QString::fromStdString(why), true);
        return false;
    }
    refresh();
    selectLesion(id);
    emit edited();
    return true;
}

QStringList ReadingPanel::choices(const QString& id) const {
    QStringList out;
    if (!model_) return out;
    const auto k = model_->lesion(id.toStdString());
    if (!k) return out;
    const vr::AnswerEntry* a = model_->draft().answer(k->id);
    const bool baseline = model_->baseline();
    if (k->role == "TARGET") {
        out << (a && a->measurement ? caliperChoice(a->result) : kUnanswered);
        if (!baseline) {
            out << kAbsent << kTooSmall << kNotEvaluable;
            if (k->id.find_first_of("./") == std::string::npos) out << kSplit << kMerged;
        }
    } else if (k->role == "NON-TARGET") {
        out << tr("Present");
        if (!baseline) out << tr("Absent") << tr("Unequivocal progression") << tr("Not evaluable");
    } else {
        out << tr("Unequivocal") << tr("Equivocal");
        if (k->identifiedAt < model_->ordinal()) out << tr("Absent");
        out << tr("Not evaluable");
    }
    if (!a && k->role != "TARGET") out.prepend(tr("Unanswered"));
    return out;
}

bool ReadingPanel::choose(const QString& id, const QString& choice) {
    if (!choices(id).contains(choice)) return false;
    answerChosen(id, choice);
    return true;
}

void ReadingPanel::answerChosen(const QString& id, const QString& choice) {
    if (!model_ || !editable_) return;
    const std::string lesion = id.toStdString();
    std::string why;
    bool ok = true;
    static const std::map<QString, std::string> states{{QObject::tr("Present"), "PRESENT"},
                                                       {QObject::tr("Absent"), "ABSENT"},
                                                       {QObject::tr("Unequivocal progression"), "UNEQUIVOCAL PROGRESSION"},
                                                       {QObject::tr("Not evaluable"), "NOT EVALUABLE"},
                                                       {QObject::tr("Unequivocal"), "UNEQUIVOCAL"},
                                                       {QObject::tr("Equivocal"), "EQUIVOCAL"}};
    const auto k = model_->lesion(lesion);
    if (!k) return;
    if (choice == kUnanswered || choice == tr("Unanswered") || choice.startsWith(tr("Caliper:"))) return;
    if (k->role == "TARGET") {
        if (choice == kAbsent)
            ok = model_->setAnswer(lesion, "0", {}, &why);
        else if (choice == kTooSmall)
            ok = model_->setAnswer(lesion, "TOO SMALL TO MEASURE", {}, &why);
        else if (choice == kNotEvaluable)
            ok = model_->setAnswer(lesion, "NOT DONE", "NOT EVALUABLE", &why);
        else if (choice == kSplit) {
            bool accepted = false;
            const int n =
                QInputDialog::getInt(this, tr("Split target"), tr("%1 split into how many fragments?").arg(id), 2, 2, 9, 1, &accepted);
            if (!accepted) return refresh();
            ok = model_->split(lesion, n, &why);
        } else if (choice == kMerged) {
            QStringList others;
            for (const auto& o : model_->lesions())
                if (o.role == "TARGET" && o.answerable && o.id != lesion && o.id.find_first_of("./") == std::string::npos)
                    others << QString::fromStdString(o.id);
            bool accepted = false;
            const QString other = others.size() == 1 ? others.front()
                                                     : QInputDialog::getItem(this, tr("Merged targets"), tr("%1 merged with").arg(id),
                                                                             others, 0, false, &accepted);
            if (other.isEmpty() || (others.size() > 1 && !accepted)) return refresh();
            ok = model_->merge(lesion, other.toStdString(), &why);
        }
    } else {
        const auto it = states.find(choice);
        if (it == states.end()) return;
        ok = model_->setAnswer(lesion, it->second, {}, &why);
    }
    if (!ok) setSaveState(QString::fromStdString(why), true);
    refresh();
    selectLesion(id);
    if (ok) emit edited();
}

void ReadingPanel::refresh() {
    rebuildTable();
    rebuildResults();
}

void ReadingPanel::rebuildTable() {
    const QString keep = selectedLesion();
    rebuilding_ = true;
    table_->clear();
    if (model_) {
        // the value each lesion had at the timepoint before
        const auto& earlier = model_->earlier();
        for (const vr::KnownLesion& k : model_->lesions()) {
            const vr::AnswerEntry* a = model_->draft().answer(k.id);
            QString before;
            if (!earlier.empty())
                if (const vr::AnswerEntry* p = earlier.back().answer(k.id)) before = shown(p, k.role == "TARGET");
            auto* item = new QTreeWidgetItem(table_, {QString::fromStdString(k.id), QString::fromStdString(k.role),
                                                      QString::fromStdString(k.location), k.nodal ? tr("yes") : QString(),
                                                      k.answerable ? shown(a, k.role == "TARGET") : tr("(split / merged)"), before});
            if (!k.answerable) {
                for (int c = 0; c < 6; ++c) item->setForeground(c, QColor(140, 140, 140));
                continue;
            }
            if (!a) item->setForeground(4, QColor(176, 0, 32));
            if (editable_) {
                auto* box = new QComboBox;
                box->setObjectName("answer-" + QString::fromStdString(k.id));
                const QStringList list = choices(QString::fromStdString(k.id));
                box->addItems(list);
                const int at = list.indexOf(shown(a, k.role == "TARGET"));
                box->setCurrentIndex(at >= 0 ? at : 0);
                const QString id = QString::fromStdString(k.id);
                connect(box, &QComboBox::activated, this, [this, id, box](int i) { answerChosen(id, box->itemText(i)); });
                table_->setItemWidget(item, 4, box);
                if (k.identifiedAt == model_->ordinal()) { // identified here: its organ can still change
                    auto* organ = new QComboBox;
                    organ->setObjectName("organ-" + id);
                    for (const std::string& o : vr::organs()) organ->addItem(QString::fromStdString(o));
                    if (organ->findText(QString::fromStdString(k.location)) < 0) organ->addItem(QString::fromStdString(k.location));
                    organ->setCurrentText(QString::fromStdString(k.location));
                    connect(organ, &QComboBox::activated, this, [this, id, organ](int i) { setLesionOrgan(id, organ->itemText(i)); });
                    table_->setItemWidget(item, 2, organ);
                }
            }
        }
    }
    rebuilding_ = false;
    if (!keep.isEmpty()) selectLesion(keep);
    const bool baseline = model_ && model_->baseline();
    addTarget_->setEnabled(editable_ && baseline);
    addNonTarget_->setEnabled(editable_ && baseline);
    addNew_->setEnabled(editable_ && model_ && !baseline);
    useCaliper_->setEnabled(editable_);
    remove_->setEnabled(editable_);
    addTarget_->setVisible(!model_ || baseline);
    addNonTarget_->setVisible(!model_ || baseline);
    addNew_->setVisible(!model_ || !baseline);
}

void ReadingPanel::rebuildResults() {
    if (!model_) return;
    const auto& ev = model_->evaluation();
    if (!editable_) {
        problems_->setText(tr("<span style='color:#1b5e20'>Signed.</span>"));
    } else if (ev.problems.empty()) {
        problems_->setText(tr("<span style='color:#1b5e20'><b>Complete:</b> ready to sign.</span>"));
    } else {
        QString html = tr("<span style='color:#b00020'><b>Before this timepoint can be signed:</b></span><ul style='margin:0'>");
        // the rule's words, not its code (the codes are for the core lab's exports and the audit)
        for (const auto& p : ev.problems) html += QStringLiteral("<li>%1</li>").arg(esc(p.message));
        problems_->setText(html + "</ul>");
    }
    sign_->setEnabled(editable_ && model_->signable());

    std::vector<SumPlot::Point> points;
    double baselineSum = 0, nadir = 0;
    if (!ev.result) {
        results_->setText(tr("<i>The engine's results appear as soon as the read is consistent.</i>"));
        plot_->setData({}, 0, 0);
        return;
    }
    const recist::SubjectResult& r = *ev.result;
    // a reason that begins with the value it explains ("SD: SD at ...") is shown without the repetition
    auto reasonOf = [](const std::string& value, const std::string& reason) {
        const std::string prefix = value + ": ";
        return reason.rfind(prefix, 0) == 0 ? reason.substr(prefix.size()) : reason;
    };
    QString html = tr("<table cellspacing='0' cellpadding='2' border='1' style='border-collapse:collapse'>"
                      "<tr><th>Visit</th><th>Sum mm</th><th>vs base</th><th>vs nadir</th><th>Target</th><th>Non-target</th>"
                      "<th>New</th><th>Overall</th></tr>");
    std::optional<recist::Length> base;
    std::optional<recist::Date> baseDate;
    for (std::size_t i = 0; i < r.visits.size(); ++i) {
        const recist::VisitResult& v = r.visits[i];
        const QString label = QString::fromStdString(model_->visitLabelAt(static_cast<int>(i) + 1));
        if (v.baseline) {
            base = v.sum;
            baseDate = v.date;
        }
        QString vsBase, vsNadir;
        if (v.sum && base && base->um > 0 && !v.baseline)
            vsBase = QString::fromStdString(recist::formatPercentChange(*v.sum, *base)) + " %";
        if (v.sum && v.nadir && v.nadir->um > 0 && !v.baseline)
            vsNadir = QString::fromStdString(recist::formatPercentChange(*v.sum, *v.nadir)) + " %";
        auto cell = [](const std::optional<recist::Response>& resp, const std::string& reason) {
            if (!resp) return QStringLiteral("<td></td>");
            return QStringLiteral("<td title='%1'>%2</td>").arg(esc(reason), esc(std::string(recist::toString(*resp))));
        };
        html += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td>")
                    .arg(label, v.sum ? QString::fromStdString(v.sum->formatMm()) : QString(), vsBase, vsNadir);
        html += cell(v.target, v.targetReason) + cell(v.nonTarget, v.nonTargetReason);
        html += v.newLesion
                    ? QStringLiteral("<td title='%1'>%2</td>").arg(esc(v.newLesionReason), esc(std::string(recist::toString(*v.newLesion))))
                    : QStringLiteral("<td></td>");
        html += cell(v.overall, v.overallReason) + "</tr>";
        if (v.sum && v.date && baseDate) points.push_back({static_cast<double>(*v.date - *baseDate), v.sum->mm(), label});
        if (v.sum && (nadir <= 0 || v.sum->mm() < nadir)) nadir = v.sum->mm();
    }
    html += "</table>";
    if (base) baselineSum = base->mm();
    // the timepoint being read, in words
    const recist::VisitResult& now = r.visits.back();
    html += QStringLiteral("<p><b>%1</b><br>").arg(tr("This timepoint"));
    auto why = [&](const QString& what, const std::optional<recist::Response>& resp, const std::string& reason) {
        if (resp) {
            const std::string value(recist::toString(*resp));
            html += QStringLiteral("%1: <b>%2</b> - %3<br>").arg(what, esc(value), esc(reasonOf(value, reason)));
        }
    };
    if (now.baseline)
        html += tr("Baseline sum of diameters: <b>%1 mm</b> - the reference of every response that follows.<br>")
                    .arg(now.sum ? QString::fromStdString(now.sum->formatMm()) : tr("none (no measured target)"));
    why(tr("Target"), now.target, now.targetReason);
    why(tr("Non-target"), now.nonTarget, now.nonTargetReason);
    if (now.newLesion)
        html += QStringLiteral("%1: <b>%2</b> - %3<br>")
                    .arg(tr("New lesions"), esc(std::string(recist::toString(*now.newLesion))), esc(now.newLesionReason));
    why(tr("Overall"), now.overall, now.overallReason);
    // the reader sees days from baseline, never a date (the charter's reader-visible fields)
    const QString progression = !r.progression ? tr("none")
                                : baseDate     ? tr("day %1 from baseline").arg(*r.progression - *baseDate)
                                               : tr("yes");
    const std::string best(recist::toString(r.best)), control(recist::toString(r.diseaseControl));
    html += QStringLiteral("</p><p><b>%1</b> %2 - %3<br><b>%4</b> %5 - %6<br><b>%7</b> %8 - %9</p>")
                .arg(tr("Best overall response:"), esc(best), esc(reasonOf(best, r.bestReason)), tr("Progression:"), progression,
                     esc(r.progressionReason), tr("Disease control at 6 months:"), esc(control),
                     esc(reasonOf(control, r.diseaseControlReason)));
    results_->setText(html);
    // nadir for the +20 % line: the smallest sum before the timepoint being read
    double nadirBefore = 0;
    if (now.nadir)
        nadirBefore = now.nadir->mm();
    else
        nadirBefore = nadir;
    plot_->setData(points, baselineSum, nadirBefore);
}

} // namespace vg
