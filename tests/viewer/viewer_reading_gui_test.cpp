// The reading workflow under a real X server, driven through the real widgets: a reader reads
// the phantom subject from baseline to the last timepoint by measuring its ground-truth
// lesions with the calipers, answers every lesion in the lesion panel, signs each timepoint
// in the signing dialog, and the results the queue stored are the phantom's expected course;
// each signed timepoint has a TID 1500 report dciodvfy accepts. A reader never sees another
// reader's read, a reader who does not read the subject is refused, and a timepoint cannot
// be read out of order.
#include "GuiFixture.h"
#include "../common/Gate.h"
#include "../common/Orthanc.h"

#include "readerqueue/Queue.h"
#include "viewergui/AdjudicationPanel.h"
#include "viewergui/Dashboard.h"
#include "viewergui/ReadingPanel.h"
#include "viewerreading/ReadModel.h"
#include "viewergui/Workstation.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QRadioButton>
#include <QScrollArea>
#include <QTableWidget>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>
#include <QTreeWidget>

#include <QRegularExpression>

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

using namespace guitest;

namespace {
/// The TEXT content items of a DICOM SR file (DCMTK's SR classes), in tree order.
std::vector<std::string> reportTexts(const std::string& file) {
    std::vector<std::string> out;
    DcmFileFormat ff;
    DSRDocument doc;
    if (ff.loadFile(file.c_str()).bad() || doc.read(*ff.getDataset()).bad()) {
        ADD_FAILURE() << file << ": not a readable SR";
        return out;
    }
    DSRDocumentTree& tree = doc.getTree();
    if (tree.gotoRoot() > 0) do {
            DSRContentItem& item = tree.getCurrentContentItem();
            if (item.getValueType() == DSRTypes::VT_Text) out.push_back(item.getStringValue().c_str());
        } while (tree.iterate() > 0);
    return out;
}
/// How many SCOORD POINTs the SR holds (a reader's marker on a non-target or new lesion).
int reportPoints(const std::string& file) {
    DcmFileFormat ff;
    DSRDocument doc;
    if (ff.loadFile(file.c_str()).bad() || doc.read(*ff.getDataset()).bad()) return -1;
    int n = 0;
    DSRDocumentTree& tree = doc.getTree();
    if (tree.gotoRoot() > 0) do {
            DSRContentItem& item = tree.getCurrentContentItem();
            if (item.getValueType() == DSRTypes::VT_SCoord && item.getSpatialCoordinatesPtr() &&
                item.getSpatialCoordinatesPtr()->getGraphicType() == DSRTypes::GT_Point)
                ++n;
        } while (tree.iterate() > 0);
    return n;
}
} // namespace

namespace {

constexpr double kPixel = 0.78125; // the phantom's pixel spacing (mm)

QString organOf(const nlohmann::json& lesion) {
    const std::string l = lesion["location"];
    return QString::fromStdString(l == "LYMPH NODE" ? "LYMPH NODE, MESENTERIC" : l);
}

/// Measures a ground-truth lesion on the current view as a reader does: the caliper (or, for a
/// node, the long + short axis tool) from edge to edge through the largest cross-section.
void measureLesion(vg::Workstation& w, const nlohmann::json& lesion, int tp) {
    vg::SliceView& v = *w.current()->view();
    QWindow* surface = v.surface();
    const auto& at = lesion["timepoints"][tp];
    const double cx = lesion["center_mm"][0], cy = lesion["center_mm"][1], z = at["largest_cross_section"]["z_mm"];
    const double angle = lesion["angle_deg"].get<double>() * M_PI / 180, longMm = at["long_axis_mm"], shortMm = at["short_axis_mm"];
    const bool nodal = lesion["nodal"];
    w.findChild<QAction*>(nodal ? "toolBidimensional" : "toolLongAxis")->setChecked(true);
    v.setFocus();
    const double c = std::cos(angle), s = std::sin(angle);
    const vc::Point3 a{cx - longMm / 2 * c, cy - longMm / 2 * s, z}, b{cx + longMm / 2 * c, cy + longMm / 2 * s, z};
    QTest::mousePress(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(a).toPoint());
    QTest::mouseMove(surface, v.widgetPointOfPatient(b).toPoint());
    QTest::mouseRelease(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(b).toPoint());
    if (!nodal) return;
    const vc::Point3 c2{cx + shortMm / 2 * s, cy - shortMm / 2 * c, z}, d2{cx - shortMm / 2 * s, cy + shortMm / 2 * c, z};
    for (const vc::Point3& target : {c2, d2}) {
        const vc::Measurement& m = v.measurements().all().back();
        const vc::Point3 nearer = vc::distanceMm(m.c, target) < vc::distanceMm(m.d, target) ? m.c : m.d;
        QTest::mousePress(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(nearer).toPoint());
        QTest::mouseMove(surface, v.widgetPointOfPatient(target).toPoint());
        QTest::mouseRelease(surface, Qt::LeftButton, {}, v.widgetPointOfPatient(target).toPoint());
    }
}

/// Signs through the signing dialog, typing the password as the reader does.
bool signWithDialog(vg::Workstation& w, const QString& password, QString* error = nullptr) {
    bool typed = false;
    std::function<void()> typeIn = [&] {
        auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!dialog || dialog->objectName() != "signDialog") {
            QTimer::singleShot(20, typeIn);
            return;
        }
        auto* field = dialog->findChild<QLineEdit*>("signPassword");
        if (typed) { // the first try was refused: say why, and give up
            if (error) *error = dialog->findChild<QLabel*>("signError")->text();
            dialog->reject();
            return;
        }
        typed = true;
        QTest::keyClicks(field, password);
        QTest::keyClick(field, Qt::Key_Return);
        if (dialog->isVisible()) QTimer::singleShot(20, typeIn);
    };
    QTimer::singleShot(0, typeIn);
    return w.askSignRead();
}

void waitForCurrent(vg::Workstation& w) {
    ASSERT_TRUE(waitFor([&] { return w.idle() && w.current()->view()->complete() && !w.current()->seriesUid().empty(); }));
    QApplication::processEvents();
}

/// reader1 at a reading room's screen (1920 x 1080): the phantom's store open, their signed
/// reports written to `reports`, signed in, the first worklist item open.
void readerOneAtWork(vg::Workstation& w, const TrialQueue& tq, const fs::path& reports) {
    w.resize(1920, 1080);
    shown(w);
    w.openStore(QString::fromStdString((phantom().root() / "store").string()));
    w.setReportsFolder(QString::fromStdString(reports.string()));
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "reader1", kPassword, &why)) << why.toStdString();
    ASSERT_TRUE(w.openFirstHomeItem());
}

/// What the queue stored of reader1's read of the subject: every timepoint signed, with the
/// phantom's expected sums (within 4 pixel spacings), responses, best response and progression
/// date. Returns the signed timepoints' payloads.
std::vector<std::string> expectStoredCourse(const TrialQueue& tq, const nlohmann::json& subject) {
    rq::Queue q(rq::Database::open(tq.db));
    const rq::Session s = q.login("reader1", kPassword);
    const auto own = q.ownRead(s, subject["pseudonym"].get<std::string>());
    const int timepoints = static_cast<int>(subject["timepoints"].size());
    std::vector<std::string> payloads;
    EXPECT_EQ(static_cast<int>(own.timepoints.size()), timepoints);
    if (static_cast<int>(own.timepoints.size()) != timepoints) return payloads;
    const auto result = nlohmann::json::parse(own.timepoints.back().result);
    for (int tp = 0; tp < timepoints; ++tp) {
        SCOPED_TRACE("timepoint " + std::to_string(tp + 1));
        EXPECT_EQ(own.timepoints[static_cast<std::size_t>(tp)].state, "signed");
        payloads.push_back(own.timepoints[static_cast<std::size_t>(tp)].payload);
        const auto& expected = subject["timepoints"][tp]["expected"];
        const auto& visit = result["visits"][tp];
        EXPECT_NEAR(std::stod(visit["sum_mm"].get<std::string>()), expected["sum_of_diameters_mm"].get<double>(), 4 * kPixel);
        if (tp == 0) continue;
        EXPECT_EQ(visit["target"]["response"], expected["target_response"]);
        EXPECT_EQ(visit["non_target"]["response"], expected["non_target_response"]);
        EXPECT_EQ(visit["overall"]["response"], expected["overall_response"]);
    }
    EXPECT_EQ(result["best_response"]["response"], subject["expected"]["best_overall_response"]);
    EXPECT_EQ(result["progression"]["date"], subject["expected"]["progression_date"]);
    return payloads;
}

} // namespace

TEST(ViewerReadingGui, AReaderReadsThePhantomSubjectEndToEndAndTheSignedResultsAreItsExpectedCourse) {
    app();
    const TrialQueue tq;
    const auto& subject = phantom().truth["subjects"][0];
    testutil::TempDir reports("viewer-reports");
    vg::Workstation w;
    readerOneAtWork(w, tq, reports.path());
    if (HasFatalFailure()) return;
    QString why;
    vg::ReadingPanel* panel = w.readingPanel();
    ASSERT_NE(panel, nullptr);
    const int timepoints = static_cast<int>(subject["timepoints"].size());
    for (int tp = 0; tp < timepoints; ++tp) {
        SCOPED_TRACE("timepoint " + std::to_string(tp + 1));
        waitForCurrent(w);
        ASSERT_EQ(w.readOrdinal(), tp + 1);
        ASSERT_TRUE(w.readEditable());
        EXPECT_EQ(w.current()->timepoint(), tp);
        vg::SliceView& v = *w.current()->view();
        // at least ~2 screen pixels per mm as the timepoint opens, beside the prior and the lesion
        // panel too (issue 19: a fitted 1920x1080 two-view screen gave about 1.3), corner texts apart
        for (vg::ViewerPane* pane : {w.prior(), w.current()}) {
            if (!pane->isVisible()) continue;
            QApplication::processEvents();
            EXPECT_GE(pane->view()->pixelsPerMm(), 1.99) << (pane == w.prior() ? "prior" : "current");
            EXPECT_GT(pane->view()->width(), 400) << "a view too narrow to read";
            const auto boxes = pane->view()->cornerTextBoxes();
            EXPECT_GE(boxes.size(), 3u);
            for (std::size_t i = 0; i < boxes.size(); ++i)
                for (std::size_t j = i + 1; j < boxes.size(); ++j) EXPECT_FALSE(boxes[i].intersects(boxes[j])) << "corner texts overlap";
        }
        v.fit();
        v.zoomBy(2.0);
        for (const auto& lesion : subject["lesions"]) {
            const QString id = QString::fromStdString(lesion["id"].get<std::string>());
            const std::string role = lesion["role"];
            ASSERT_TRUE(role == "TARGET" || role == "NON-TARGET") << "the phantom course has no new lesion";
            const auto& at = lesion["timepoints"][tp];
            const double z = at.contains("largest_cross_section") ? at["largest_cross_section"]["z_mm"].get<double>() : 0.0;
            if (tp == 0) {
                // baseline: the organ, then + Target / + Non-target; the panel numbers lesions as the phantom does
                panel->setOrgan(organOf(lesion));
                QTest::mouseClick(panel->findChild<QPushButton*>(role == "TARGET" ? "addTarget" : "addNonTarget"), Qt::LeftButton);
                ASSERT_EQ(panel->selectedLesion(), id);
                if (role == "TARGET") v.centreOn({lesion["center_mm"][0], lesion["center_mm"][1], z}); // the reader scrolls to it
            } else {
                // follow-up: clicking the lesion jumps to its last known caliper, or a non-target's point
                const auto before = panel->model()->lastMeasurement(id.toStdString(), tp);
                panel->selectLesion(id);
                if (role == "TARGET") {
                    EXPECT_NEAR(v.slicePosition(), z, 2.5) << id.toStdString() << ": the jump goes to its last caliper";
                } else if (before) {
                    EXPECT_NEAR(v.slicePosition(), before->a[2], 2.6) << id.toStdString() << ": the jump goes to its last point";
                }
            }
            if (role == "NON-TARGET" && at["present"].get<bool>()) {
                // the reader points at it (P, a click where it is): the point is the lesion's, not a stray caliper
                const vc::Point3 centre{lesion["center_mm"][0], lesion["center_mm"][1], z};
                v.centreOn(centre);
                w.findChild<QAction*>("toolPoint")->setChecked(true);
                const QPoint where = v.widgetPointOfPatient(centre).toPoint();
                QTest::mousePress(v.surface(), Qt::LeftButton, {}, where);
                QTest::mouseRelease(v.surface(), Qt::LeftButton, {}, where);
                w.findChild<QAction*>("toolPoint")->setChecked(false);
                const auto mark = panel->model()->lastMeasurement(id.toStdString(), tp + 1);
                ASSERT_TRUE(mark.has_value()) << id.toStdString() << ": no point";
                EXPECT_EQ(mark->kind, vc::Measurement::Kind::Point);
                EXPECT_NEAR(mark->a[0], centre[0], 2.0);
                EXPECT_NEAR(mark->a[1], centre[1], 2.0);
                EXPECT_NEAR(mark->a[2], centre[2], 2.6);
            }
            if (role == "TARGET" && at["present"].get<bool>()) {
                measureLesion(w, lesion, tp);
                const vr::AnswerEntry* a = panel->model()->draft().answer(id.toStdString());
                ASSERT_NE(a, nullptr) << id.toStdString() << " was not given the caliper";
                const double truth = lesion["nodal"].get<bool>() ? at["short_axis_mm"].get<double>() : at["long_axis_mm"].get<double>();
                EXPECT_NEAR(std::stod(a->result), truth, kPixel) << id.toStdString() << ": within one pixel spacing of the ground truth";
                EXPECT_GT(a->sliceThickness, 0);
            } else if (role == "TARGET") {
                ASSERT_TRUE(panel->choose(id, "Absent (0 mm)"));
            } else {
                ASSERT_TRUE(panel->choose(id, at["present"].get<bool>() ? "Present" : "Absent"));
            }
        }
        EXPECT_TRUE(panel->problemsText().contains("ready to sign")) << panel->problemsText().toStdString() << "\n"
                                                                     << panel->model()->payload();
        EXPECT_TRUE(panel->signButton()->isEnabled());
        EXPECT_TRUE(panel->saveStateText().startsWith("Draft saved")) << panel->saveStateText().toStdString();
        // the live results: this timepoint's sum and, after baseline, the response with its reason
        EXPECT_EQ(panel->plot()->pointCount(), tp + 1);
        if (tp > 0) {
            EXPECT_TRUE(panel->resultsText().contains(
                QString::fromStdString(subject["timepoints"][tp]["expected"]["overall_response"].get<std::string>())));
            EXPECT_TRUE(panel->plot()->lines().join(" ").contains("-30 %"));
        }
        screenshot(w, "reading-tp" + std::to_string(tp + 1) + ".png");
        // a wrong password is refused and nothing is signed; then the right one
        QString refusal;
        EXPECT_FALSE(signWithDialog(w, "not-my-password", &refusal));
        EXPECT_TRUE(refusal.contains("password")) << refusal.toStdString();
        ASSERT_TRUE(signWithDialog(w, kPassword));
        // the signed timepoint's TID 1500 report
        const std::string report = w.lastReport().toStdString();
        ASSERT_TRUE(fs::exists(report)) << report;
        std::string check;
        testutil::run("dciodvfy '" + report + "'", &check);
        EXPECT_EQ(check.find("Error"), std::string::npos) << check;
        // the report's visible text (its TEXT content items) holds no calendar date, no site and
        // no subject ID: what a reader wrote there is as blinded as the screen
        int pointed = 0; // the non-targets present at this timepoint, each pointed at above
        for (const auto& lesion : subject["lesions"])
            pointed += lesion["role"] == "NON-TARGET" && lesion["timepoints"][tp]["present"].get<bool>();
        EXPECT_GT(pointed, 0) << "the phantom subject has a non-target";
        EXPECT_EQ(reportPoints(report), pointed) << "each non-target's point is in the TID 1500 report";
        const std::vector<std::string> texts = reportTexts(report);
        ASSERT_FALSE(texts.empty()) << "the report has its findings as text";
        static const QRegularExpression date("(19|20)\\d\\d-?[01]\\d-?[0-3]\\d");
        for (const std::string& t : texts) {
            EXPECT_FALSE(QString::fromStdString(t).contains(date)) << t;
            EXPECT_EQ(t.find("RELUTH-"), std::string::npos) << t;
        }
        if (tp + 1 < timepoints) {
            EXPECT_EQ(w.readOrdinal(), tp + 2) << "the next timepoint opens after signing";
        }
    }
    // what the queue stored: the phantom's expected course
    expectStoredCourse(tq, subject);
    // the last timepoint stays on screen, signed and read only
    EXPECT_FALSE(w.readEditable());
    EXPECT_FALSE(panel->signButton()->isEnabled());
    EXPECT_FALSE(w.findChild<QAction*>("openFolder")->isEnabled()) << "a reader reads the store only";

    // the next user at the same workstation (Switch user): nothing of reader1's read stays on screen
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "reader2", kPassword, &why)) << why.toStdString();
    EXPECT_EQ(w.signedInUser(), "reader2");
    EXPECT_EQ(w.readOrdinal(), 0);
    EXPECT_FALSE(w.current()->showsImage());
    EXPECT_TRUE(w.current()->view()->measurements().all().empty());
    EXPECT_EQ(panel->lesionTable()->topLevelItemCount(), 0);
    ASSERT_TRUE(w.openFirstHomeItem());
    waitForCurrent(w);
    EXPECT_EQ(w.readOrdinal(), 1);
    EXPECT_EQ(panel->lesionTable()->topLevelItemCount(), 0) << "reader2 starts from an empty baseline";
    EXPECT_TRUE(w.current()->view()->measurements().all().empty());
}

TEST(ViewerReadingGui, AReaderSeesOnlyTheirOwnReadInOrderAndNobodyElsesSubject) {
    app();
    const TrialQueue tq;
    const std::string pseudonym = phantom().truth["subjects"][0]["pseudonym"];
    {
        // reader1 has read the baseline: two targets and a non-target, signed
        rq::Queue q(rq::Database::open(tq.db));
        const rq::Session r1 = q.login("reader1", kPassword);
        q.saveDraft(r1, pseudonym, 1,
                    R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"},{"id":"NT01","role":"NON-TARGET","location":"BONE"}],)"
                    R"("assessments":[{"id":"T01","result":"35"},{"id":"NT01","result":"PRESENT"}]})");
        q.sign(r1, pseudonym, 1, kPassword, "I am the author");
    }
    vg::Workstation w;
    w.resize(1500, 900);
    shown(w);
    w.openStore(QString::fromStdString((phantom().root() / "store").string()));
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "reader2", kPassword, &why)) << why.toStdString();
    ASSERT_TRUE(w.openFirstHomeItem());
    waitForCurrent(w);
    // reader2 starts from an empty baseline: nothing of reader1's read reaches them
    ASSERT_EQ(w.readOrdinal(), 1);
    EXPECT_EQ(w.readingPanel()->lesionTable()->topLevelItemCount(), 0);
    EXPECT_TRUE(w.readingPanel()->model()->lesions().empty());
    EXPECT_TRUE(w.current()->view()->measurements().all().empty());
    EXPECT_FALSE(w.readingPanel()->resultsText().contains("35"));
    // the week-8 timepoint cannot be opened before the baseline is signed
    EXPECT_EQ(w.current()->timepointPicker()->count(), 1);
    EXPECT_FALSE(w.openSubject(QString::fromStdString(pseudonym), 1) && w.readOrdinal() == 2);
    EXPECT_EQ(w.readOrdinal(), 1);
    // ...and the queue refuses a draft for it, whatever the screen did
    rq::Queue q(rq::Database::open(tq.db));
    const rq::Session r2 = q.login("reader2", kPassword);
    try {
        q.saveDraft(r2, pseudonym, 2, "{}");
        ADD_FAILURE() << "a draft out of order was accepted";
    } catch (const rq::Refused& e) {
        EXPECT_FALSE(e.rule.empty());
    }

    // a reader who does not read this subject cannot open it at all
    vg::Workstation other;
    other.resize(1200, 800);
    shown(other);
    other.openStore(QString::fromStdString((phantom().root() / "store").string()));
    ASSERT_TRUE(other.signIn(QString::fromStdString(tq.db), "reader3", kPassword, &why)) << why.toStdString();
    EXPECT_TRUE(other.homeItems().isEmpty());
    { // the empty worklist says so, in a row that opens nothing
        auto* list = other.findChild<QTreeWidget*>("homeList");
        ASSERT_NE(list, nullptr);
        ASSERT_EQ(list->topLevelItemCount(), 1);
        EXPECT_EQ(list->topLevelItem(0)->text(0), "No read waits for you.");
        EXPECT_FALSE(list->topLevelItem(0)->flags() & Qt::ItemIsEnabled);
        emit list->itemClicked(list->topLevelItem(0), 0);
        EXPECT_EQ(other.current()->view()->volume(), nullptr);
    }
    EXPECT_TRUE(other.subjects().isEmpty()) << "the Trial list keeps only the reader's own subjects";
    EXPECT_FALSE(other.openSubject(QString::fromStdString(pseudonym), 0));
    EXPECT_EQ(other.readOrdinal(), 0);
    EXPECT_FALSE(other.current()->showsImage());
    EXPECT_TRUE(other.statusBar()->currentMessage().contains("ROLE") || other.statusBar()->currentMessage().contains("not"))
        << other.statusBar()->currentMessage().toStdString();
}

namespace {

/// The store's CT series of a timepoint (0-based) of the phantom subject: uid, middle SOP, its z.
struct StoreImage {
    std::string series, sop;
    double z = 0;
};
StoreImage storeImage(int timepoint) {
    const auto scan = vc::scanFolder(phantom().root() / "store");
    std::vector<const vc::Series*> cts;
    for (const auto& s : scan.series)
        if (s.modality == "CT" && s.slices.size() > 1) cts.push_back(&s);
    std::sort(cts.begin(), cts.end(), [](const vc::Series* a, const vc::Series* b) { return a->studyDate < b->studyDate; });
    EXPECT_GT(cts.size(), static_cast<std::size_t>(timepoint));
    const vc::Series& s = *cts[static_cast<std::size_t>(timepoint)];
    const auto& slice = s.slices[s.slices.size() / 2];
    return {s.uid, slice.sopUid, slice.position[2]};
}

/// A signed payload: T01 (liver) measured by a caliper on the store's image, NT01 present,
/// and - if newLesion - an unequivocal new lesion.
std::string payload(int timepoint, double t01, bool newLesion) {
    const StoreImage img = storeImage(timepoint);
    nlohmann::json p;
    p["lesions"] = nlohmann::json::array();
    if (timepoint == 0) {
        p["lesions"].push_back({{"id", "T01"}, {"role", "TARGET"}, {"location", "LIVER"}});
        p["lesions"].push_back({{"id", "NT01"}, {"role", "NON-TARGET"}, {"location", "BONE"}});
    }
    if (newLesion) p["lesions"].push_back({{"id", "NEW01"}, {"role", "NEW"}, {"location", "LIVER"}});
    char mm[32];
    std::snprintf(mm, sizeof mm, "%.1f", t01);
    p["assessments"] = {{{"id", "T01"}, {"result", mm}, {"measurement", 1}}, {{"id", "NT01"}, {"result", "PRESENT"}}};
    if (newLesion) p["assessments"].push_back({{"id", "NEW01"}, {"result", "UNEQUIVOCAL"}});
    p["measurements"] = {{{"id", 1},
                          {"lesion", "T01"},
                          {"kind", "LONG_AXIS"},
                          {"series_uid", img.series},
                          {"sop_instance_uid", img.sop},
                          {"slice", 24},
                          {"a", {-60.0, -20.0, img.z}},
                          {"b", {-60.0 + t01, -20.0, img.z}}}};
    return p.dump();
}

} // namespace

TEST(ViewerReadingGui, AnAdjudicatorComparesTwoDiscordantReadsChoosesOneWithARationaleAndSigns) {
    app();
    const TrialQueue tq;
    const std::string pseudonym = phantom().truth["subjects"][0]["pseudonym"];
    {
        // Reader 1: a partial response; Reader 2: progression by a new lesion at week 8
        rq::Queue q(rq::Database::open(tq.db));
        const rq::Session r1 = q.login("reader1", kPassword), r2 = q.login("reader2", kPassword);
        for (const auto& [session, week8, fresh] : {std::tuple{r1, 20.0, false}, std::tuple{r2, 38.0, true}}) {
            q.saveDraft(session, pseudonym, 1, payload(0, 40.0, false));
            q.sign(session, pseudonym, 1, kPassword, "I am the author");
            q.saveDraft(session, pseudonym, 2, payload(1, week8, fresh));
            q.sign(session, pseudonym, 2, kPassword, "I am the author");
        }
        const rq::Session m = q.login("manager", kPassword);
        q.closeSubject(m, pseudonym, "end of imaging follow-up");
    }
    vg::Workstation w;
    w.resize(1800, 1000);
    shown(w);
    w.openStore(QString::fromStdString((phantom().root() / "store").string()));
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "adjudicator", kPassword, &why)) << why.toStdString();
    ASSERT_EQ(w.homeItems().size(), 1);
    EXPECT_TRUE(w.homeItems().front().contains("to take")) << w.homeItems().front().toStdString();
    ASSERT_TRUE(w.openFirstHomeItem());
    vg::AdjudicationPanel* panel = w.adjudicationPanel();
    ASSERT_NE(panel, nullptr);
    EXPECT_EQ(w.adjudicationSubject(), QString::fromStdString(pseudonym));
    // the adjudicator is blinded too: the reading ID, never the subject ID (it carries the site)
    const QString readingId = QString::fromStdString(readingIdOf(pseudonym));
    EXPECT_TRUE(w.windowTitle().contains(readingId)) << w.windowTitle().toStdString();
    EXPECT_FALSE(w.windowTitle().contains(QString::fromStdString(pseudonym)));
    for (const QString& item : w.homeItems()) EXPECT_FALSE(item.contains("RELUTH-")) << item.toStdString();
    int named = 0;
    for (QLabel* l : w.adjudicationPanel()->findChildren<QLabel*>()) {
        EXPECT_FALSE(l->text().contains("RELUTH-")) << l->text().toStdString();
        named += l->text().contains(readingId);
    }
    EXPECT_GT(named, 0) << "the case is named by its reading ID";
    // the discordance, highlighted: the week-8 responses and the best responses differ
    EXPECT_FALSE(panel->triggers().isEmpty());
    EXPECT_TRUE(panel->triggers().join(" ").contains("progression_in_one_read_only") &&
                panel->triggers().join(" ").contains("different_best_overall_response"))
        << panel->triggers().join(" | ").toStdString();
    EXPECT_TRUE(panel->discordantRows().contains("WEEK 8")) << panel->discordantRows().join(",").toStdString();
    EXPECT_TRUE(panel->discordantRows().contains("Best overall response"));
    EXPECT_FALSE(panel->discordantRows().contains("BASELINE"));
    // blinded: Reader 1 and Reader 2, never the readers' user names
    const QString everything = panel->comparison()->horizontalHeaderItem(0)->text() + panel->comparison()->horizontalHeaderItem(1)->text() +
                               panel->triggers().join(" ");
    EXPECT_TRUE(everything.contains("Reader 1") && everything.contains("Reader 2"));
    EXPECT_FALSE(everything.contains("reader1") || everything.contains("reader2"));
    // the images: the same timepoint on both sides, each with its own reader's calipers
    ASSERT_TRUE(waitFor([&] {
        return w.idle() && w.prior()->view()->complete() && w.current()->view()->complete() && !w.prior()->seriesUid().empty() &&
               !w.current()->seriesUid().empty();
    }));
    QApplication::processEvents();
    EXPECT_EQ(w.prior()->timepoint(), 1);
    EXPECT_EQ(w.current()->timepoint(), 1);
    ASSERT_EQ(w.prior()->view()->measurements().all().size(), 1u);
    ASSERT_EQ(w.current()->view()->measurements().all().size(), 1u);
    EXPECT_NEAR(w.prior()->view()->measurements().all().front().longMm(), 20.0, 1e-6);   // Reader 1's
    EXPECT_NEAR(w.current()->view()->measurements().all().front().longMm(), 38.0, 1e-6); // Reader 2's
    EXPECT_FALSE(w.current()->view()->measurementsEditable());
    // the baseline's images on request, both sides
    panel->timepointPicker()->setCurrentIndex(0);
    emit panel->timepointPicker()->activated(0);
    ASSERT_TRUE(waitFor(
        [&] { return w.idle() && w.prior()->timepoint() == 0 && w.current()->timepoint() == 0 && w.current()->view()->complete(); }));
    panel->timepointPicker()->setCurrentIndex(1);
    emit panel->timepointPicker()->activated(1);
    ASSERT_TRUE(waitFor([&] { return w.idle() && w.current()->timepoint() == 1 && w.current()->view()->complete(); }));
    // the decision needs a choice and a rationale
    EXPECT_FALSE(panel->decideButton()->isEnabled());
    QTest::mouseClick(panel->findChild<QRadioButton*>("choose2"), Qt::LeftButton);
    EXPECT_FALSE(panel->decideButton()->isEnabled());
    QTest::keyClicks(panel->findChild<QPlainTextEdit*>("rationale"), "NEW01 is a new liver lesion, unequivocal on the portal phase");
    ASSERT_TRUE(panel->decideButton()->isEnabled());
    screenshot(w, "adjudication.png");
    std::function<void()> typeIn = [&] {
        auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!dialog || dialog->objectName() != "decideDialog") {
            QTimer::singleShot(20, typeIn);
            return;
        }
        auto* field = dialog->findChild<QLineEdit*>("decidePassword");
        QTest::keyClicks(field, kPassword);
        QTest::keyClick(field, Qt::Key_Return);
    };
    QTimer::singleShot(0, typeIn);
    QTest::mouseClick(panel->decideButton(), Qt::LeftButton);
    ASSERT_TRUE(waitFor([&] { return QApplication::activeModalWidget() == nullptr; }));
    // the queue has the decision; the adjudicator's list no longer offers it
    rq::Queue q(rq::Database::open(tq.db));
    const auto b = q.backlog(q.login("manager", kPassword));
    EXPECT_EQ(b.adjudications.count("decided") ? b.adjudications.at("decided") : 0, 1);
    const auto readers = q.readers(q.login("manager", kPassword));
    int chosen = 0;
    for (const auto& r : readers) chosen += r.chosen;
    EXPECT_EQ(chosen, 1);
    EXPECT_FALSE(panel->decideButton()->isEnabled()) << "a decided adjudication is not decided twice";
}

TEST(ViewerReadingGui, TheManagersDashboardCountsWhatTheQueueHoldsAndChartsTheAcceptedResults) {
    app();
    const TrialQueue tq;
    const std::string pseudonym = phantom().truth["subjects"][0]["pseudonym"];
    {
        // both readers read the subject alike (a partial response); reader2 has one draft left... none: reading closes
        rq::Queue q(rq::Database::open(tq.db));
        const rq::Session r1 = q.login("reader1", kPassword), r2 = q.login("reader2", kPassword);
        q.saveDraft(r1, pseudonym, 1, payload(0, 40.0, false));
        q.sign(r1, pseudonym, 1, kPassword, "I am the author");
        q.saveDraft(r1, pseudonym, 2, payload(1, 24.0, false));
        q.sign(r1, pseudonym, 2, kPassword, "I am the author");
        q.saveDraft(r2, pseudonym, 1, payload(0, 41.0, false));
        q.sign(r2, pseudonym, 1, kPassword, "I am the author");
        q.saveDraft(r2, pseudonym, 2, payload(1, 25.0, false)); // a draft: waiting
    }
    vg::Workstation w;
    w.resize(1800, 1000);
    shown(w);
    w.openStore(QString::fromStdString((phantom().root() / "store").string()));
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "manager", kPassword, &why)) << why.toStdString();
    vg::Dashboard* d = w.dashboard();
    ASSERT_NE(d, nullptr) << "a manager lands on the dashboard";
    EXPECT_TRUE(d->isVisible());
    // the tables hold the queue's own counts
    rq::Queue q(rq::Database::open(tq.db));
    const rq::Session m = q.login("manager", kPassword);
    const auto b = q.backlog(m);
    QTableWidget* backlog = d->table("backlog");
    std::map<std::string, int> shownReads;
    for (int r = 0; r < backlog->rowCount(); ++r)
        if (backlog->item(r, 0)->text() == "reads")
            shownReads[backlog->item(r, 1)->text().toStdString()] = backlog->item(r, 2)->text().toInt();
    EXPECT_EQ(shownReads, b.reads);
    EXPECT_EQ(b.reads.at("signed"), 3);
    EXPECT_EQ(b.reads.at("draft"), 1);
    QTableWidget* readers = d->table("readers");
    const auto readerStats = q.readers(m);
    ASSERT_EQ(readers->rowCount(), static_cast<int>(readerStats.size()));
    for (int r = 0; r < readers->rowCount(); ++r) {
        const auto& stats = readerStats[static_cast<std::size_t>(r)];
        EXPECT_EQ(readers->item(r, 0)->text().toStdString(), stats.reader);
        EXPECT_EQ(readers->item(r, 2)->text().toInt(), stats.signedReads);
        EXPECT_EQ(readers->item(r, 3)->text().toInt(), stats.pendingReads);
        // how their signed calipers were made: the queue's counts, as the manager reads them
        EXPECT_EQ(readers->horizontalHeaderItem(7)->text(), "1-click kept");
        EXPECT_EQ(readers->item(r, 8)->text().toInt(), stats.manualCalipers);
        const int proposals = stats.proposalsAccepted + stats.proposalsEdited;
        EXPECT_EQ(readers->item(r, 7)->text(), proposals ? QString("%1/%2 (%3 %)")
                                                               .arg(stats.proposalsAccepted)
                                                               .arg(proposals)
                                                               .arg(100.0 * stats.proposalsAccepted / proposals, 0, 'f', 0)
                                                         : QString("-"));
    }
    EXPECT_EQ(d->table("timepoints")->rowCount(), static_cast<int>(b.byTimepoint.size()));
    EXPECT_EQ(d->table("turnaround")->rowCount(), static_cast<int>(q.turnaround(m).size()));
    // quarantined files by reason, as many as the anonymizer left with a reason
    int reasons = 0;
    for (const auto& e : fs::recursive_directory_iterator(phantom().root() / "quarantine"))
        reasons += e.path().string().ends_with(".reason.json");
    int shownQuarantine = 0;
    for (int r = 0; r < d->table("quarantine")->rowCount(); ++r) shownQuarantine += d->table("quarantine")->item(r, 1)->text().toInt();
    EXPECT_EQ(shownQuarantine, reasons);
    EXPECT_GT(reasons, 0) << "the phantom's site drops include files the anonymizer quarantines";
    // nothing accepted yet: no bars, no lines
    EXPECT_EQ(d->waterfallBars(), 0);
    EXPECT_EQ(d->spiderLines(), 0);
    EXPECT_TRUE(d->chartTitles().join(" ").contains("Backlog over time"));

    // closing while Reader 2's week 8 is still a draft: the dialog says so and asks to confirm;
    // OK without the confirmation is refused, Cancel closes nothing
    QString openReads, refusal;
    const auto adjudicationsBefore = q.backlog(m).adjudications;
    std::function<void()> look = [&] {
        auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!dialog || dialog->objectName() != "closeDialog") {
            QTimer::singleShot(20, look);
            return;
        }
        openReads = dialog->findChild<QLabel*>("closeOpenReads")->text();
        EXPECT_TRUE(dialog->findChild<QCheckBox*>("closeConfirm")->isVisible());
        QTest::keyClick(dialog->findChild<QLineEdit*>("closeReason"), Qt::Key_Return);
        refusal = dialog->findChild<QLabel*>("closeError")->text();
        dialog->reject();
    };
    QTimer::singleShot(0, look);
    EXPECT_FALSE(w.askCloseReading());
    EXPECT_TRUE(openReads.contains("3 of 4 reads signed")) << openReads.toStdString();
    EXPECT_TRUE(openReads.contains("Reader 2 timepoint 2 (draft)")) << openReads.toStdString();
    EXPECT_FALSE(openReads.contains("reader2")) << "readers by slot, never by name";
    EXPECT_TRUE(refusal.contains("confirm")) << refusal.toStdString();
    EXPECT_EQ(q.backlog(m).adjudications, adjudicationsBefore) << "nothing was closed";

    // Reader 2 signs, the reading closes, the reads agree: the result is accepted and charted
    const rq::Session r2 = q.login("reader2", kPassword);
    q.sign(r2, pseudonym, 2, kPassword, "I am the author");
    EXPECT_FALSE(w.closeReading(QString::fromStdString(pseudonym), "", &why)) << "a reason is required";
    EXPECT_TRUE(why.contains("reason")) << why.toStdString();
    // the dashboard's button: the dialog proposes the subject and the reason; OK closes the reading
    std::function<void()> confirm = [&] {
        auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!dialog || dialog->objectName() != "closeDialog") {
            QTimer::singleShot(20, confirm);
            return;
        }
        EXPECT_EQ(dialog->findChild<QComboBox*>("closeSubject")->currentText().toStdString(), pseudonym);
        QTest::keyClick(dialog->findChild<QLineEdit*>("closeReason"), Qt::Key_Return);
    };
    QTimer::singleShot(0, confirm);
    QTest::mouseClick(d->closeButton(), Qt::LeftButton);
    ASSERT_TRUE(waitFor([&] { return QApplication::activeModalWidget() == nullptr; }));
    EXPECT_EQ(q.backlog(m).adjudications.count("not_needed"), 1u) << "the reads agree: nothing to adjudicate";
    QTest::mouseClick(d->refreshButton(), Qt::LeftButton);
    EXPECT_EQ(d->waterfallBars(), 1);
    EXPECT_EQ(d->spiderLines(), 1);
    ASSERT_EQ(d->data().accepted.size(), 1u);
    EXPECT_NEAR(d->data().accepted[0].bestChange, -40.0, 0.05); // Reader 1's: 24 vs 40 mm
    EXPECT_EQ(d->data().accepted[0].best, "PR");
    EXPECT_FALSE(d->data().history.empty());
    EXPECT_EQ(d->data().history.back().readsWaiting, 0);
    screenshot(w, "dashboard.png");
    // the export button's work: the SDTM files
    testutil::TempDir out("viewer-export");
    ASSERT_TRUE(w.exportResults(QString::fromStdString(out.path().string()), &why)) << why.toStdString();
    for (const char* f : {"TU.csv", "TR.csv", "RS.csv", "SUBJ.csv", "ADJ.csv", "config.json", "accepted/RS.csv", "accepted/ADTTE.csv",
                          "accepted/ADTTE.xpt", "accepted/ADRS.csv", "accepted/define.json"})
        EXPECT_TRUE(fs::exists(out.path() / f)) << f;
    // the dashboard's pooled endpoints are the export's: the accepted ADTTE row, the BOR, DCR6M
    {
        std::ifstream in(out.path() / "accepted/ADTTE.csv");
        std::string header, row;
        std::getline(in, header);
        ASSERT_TRUE(std::getline(in, row)) << "no accepted rPFS row";
        std::vector<std::string> f;
        std::stringstream ss(row);
        for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
        ASSERT_GE(f.size(), 8u) << row;
        const double aval = std::stod(f[6]);
        const bool event = f[7] == "0";
        const auto& e = d->data().endpoints;
        EXPECT_EQ(e.accepted, 1);
        EXPECT_EQ(e.stillReading, 0);
        ASSERT_EQ(e.rpfs.size(), 1u);
        EXPECT_EQ(e.rpfs[0].first, aval);
        EXPECT_EQ(e.rpfs[0].second, event);
        EXPECT_FALSE(event) << "a partial response without progression is censored";
        EXPECT_EQ(e.responders, 1) << "PR";
        // censored: the curve stays at 1 and the mark sits at the censoring day
        ASSERT_EQ(d->kmCensored().size(), 1);
        EXPECT_EQ(d->kmCensored()[0], QPointF(aval, 1.0));
        for (const QPointF& p : d->kmCurve()) EXPECT_EQ(p.y(), 1.0);
        QTableWidget* risk = d->table("atRisk");
        ASSERT_NE(risk, nullptr);
        EXPECT_EQ(risk->item(0, 1)->text(), "1") << "day 0";
        EXPECT_EQ(risk->item(0, 2)->text(), aval >= 56 ? "1" : "0") << "day 56";
        const QString text = d->findChild<QLabel*>("endpoints")->text();
        EXPECT_TRUE(text.contains("<b>1</b> subject(s) with an accepted result; <b>0</b> still being read")) << text.toStdString();
        EXPECT_TRUE(text.contains("1/1 = 100.0 %")) << text.toStdString();
    }
    // a reader signed in never gets a dashboard
    vg::Workstation r;
    ASSERT_TRUE(r.signIn(QString::fromStdString(tq.db), "reader1", kPassword, &why));
    EXPECT_EQ(r.dashboard(), nullptr);
    EXPECT_FALSE(r.refreshDashboard());
}

TEST(ViewerReadingGui, ADraftSurvivesTheWorkstationClosingWithItsCalipers) {
    app();
    const TrialQueue tq;
    const auto& lesion = phantom().truth["subjects"][0]["lesions"][0]; // T01, liver
    const std::string store = (phantom().root() / "store").string();
    QString why;
    double measured = 0;
    {
        auto w = std::make_unique<vg::Workstation>();
        w->resize(1600, 900);
        shown(*w);
        w->openStore(QString::fromStdString(store));
        ASSERT_TRUE(w->signIn(QString::fromStdString(tq.db), "reader1", kPassword, &why)) << why.toStdString();
        ASSERT_TRUE(w->openFirstHomeItem());
        waitForCurrent(*w);
        vg::ReadingPanel* panel = w->readingPanel();
        panel->setOrgan("LIVER");
        QTest::mouseClick(panel->findChild<QPushButton*>("addTarget"), Qt::LeftButton);
        vg::SliceView& v = *w->current()->view();
        v.fit();
        v.zoomBy(2.0);
        const double z = lesion["timepoints"][0]["largest_cross_section"]["z_mm"];
        v.centreOn({lesion["center_mm"][0], lesion["center_mm"][1], z});
        measureLesion(*w, lesion, 0);
        ASSERT_NE(panel->model()->draft().answer("T01"), nullptr);
        measured = std::stod(panel->model()->draft().answer("T01")->result);
        // the workstation goes away without signing (closed, or the machine stops)
    }
    vg::Workstation again;
    again.resize(1600, 900);
    shown(again);
    again.openStore(QString::fromStdString(store));
    ASSERT_TRUE(again.signIn(QString::fromStdString(tq.db), "reader1", kPassword, &why)) << why.toStdString();
    ASSERT_TRUE(again.openFirstHomeItem());
    waitForCurrent(again);
    vg::ReadingPanel* panel = again.readingPanel();
    ASSERT_EQ(panel->lesionTable()->topLevelItemCount(), 1);
    ASSERT_NE(panel->model()->draft().answer("T01"), nullptr);
    EXPECT_NEAR(std::stod(panel->model()->draft().answer("T01")->result), measured, 1e-9);
    // the caliper is back on its image, labelled, and still edits the lesion's value
    const auto& calipers = again.current()->view()->measurements().all();
    ASSERT_EQ(calipers.size(), 1u);
    EXPECT_EQ(calipers.front().label, "T01");
    EXPECT_TRUE(again.jumpToLesion("T01"));
    EXPECT_NEAR(again.current()->view()->slicePosition(), lesion["timepoints"][0]["largest_cross_section"]["z_mm"].get<double>(), 2.5);
    again.current()->view()->selectMeasurement(calipers.front().id);
    QTest::keyClick(again.current()->view(), Qt::Key_Delete);
    EXPECT_EQ(panel->model()->draft().answer("T01"), nullptr) << "deleting the caliper unanswers its lesion";
    QTest::keyClick(again.current()->view(), Qt::Key_Z, Qt::ControlModifier);
    ASSERT_NE(panel->model()->draft().answer("T01"), nullptr) << "undo brings the caliper and the value back";
    EXPECT_NEAR(std::stod(panel->model()->draft().answer("T01")->result), measured, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Two readers at two workstations (two processes) read the same subject at the same time from
// the trial's Orthanc (DICOMweb through nginx's TLS and the gate, each with their own Orthanc
// account) with the queue on PostgreSQL over verified TLS; each signs the baseline; the
// workstations put their TID 1500 reports in the queue's outbox and report-push stores them on
// Orthanc, once, recorded in the audit trail.

namespace {

const char* const kTwoReadersUser = "RELUTH_TWO_READERS_USER";

/// The queue's PostgreSQL (the postgres fixture's server): a new database, over TLS verified against its CA.
std::string freshPostgresQueue(const std::string& name) {
    const fs::path urlFile = fs::path(RELUTH_BINARY_DIR) / "test-tmp/postgres.url";
    std::ifstream in(urlFile);
    std::string admin;
    std::getline(in, admin);
    if (admin.empty()) return {};
    std::string out;
    const std::string psql = "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql";
    EXPECT_EQ(testutil::run(psql + " -q '" + admin + "' -c 'DROP DATABASE IF EXISTS " + name + " WITH (FORCE)' -c 'CREATE DATABASE " + name + "'",
                            &out),
              0)
        << out;
    return admin.substr(0, admin.rfind('/') + 1) + name + "?sslmode=verify-full&sslrootcert=" + urlFile.string() + ".ca";
}

fs::path pacsConfig(testutil::Orthanc& o, const fs::path& dir, const std::string& account) {
    const fs::path f = dir / (account + ".json");
    std::ofstream(f) << nlohmann::json{{"url", "dicomweb+" + o.v["ORTHANC_DICOMWEB"]},
                                       {"user", account},
                                       {"password", o.passwordOf(account)},
                                       {"ca", o.v["ORTHANC_CA"]}}
                            .dump();
    fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write);
    return f;
}

} // namespace

TEST(TwoReaders, ReadTheSameSubjectFromOrthancAtOnceSignAndTheirReportsReachThePacsOnce) {
    testutil::Orthanc orthanc;
    if (!orthanc.load()) GTEST_SKIP() << "RELUTH_ORTHANC_STATE not set: run under ctest (tests/servers/orthanc.sh)";
    app();
    const std::string url = freshPostgresQueue("two_readers");
    ASSERT_FALSE(url.empty()) << "no PostgreSQL fixture";
    const TrialQueue tq(url);
    const fs::path store = phantom().root() / "store";
    testutil::TempDir dir("two-readers");
    std::string out;
    ASSERT_EQ(testutil::run(kBin + "anonymize-deliver --quiet --store " + store.string() + " --audit " + (dir.path() / "audit.jsonl").string() +
                                " --to " + orthanc.peer(),
                            &out),
              0)
        << out;
    testutil::Gate gate(orthanc, tq.db, dir.path() / "gate.log");
    // the two workstations: this test program again, each running TwoReaders.OneReader as one reader
    struct Child {
        pid_t pid = -1;
        fs::path log;
    };
    std::vector<Child> children;
    for (const std::string reader : {"reader1", "reader2"}) {
        Child c;
        c.log = dir.path() / (reader + ".log");
        const std::string cmd = "exec env " + std::string(kTwoReadersUser) + "=" + reader + " RELUTH_TWO_READERS_DB='" + tq.db +
                                "' RELUTH_TWO_READERS_PACS=" + pacsConfig(orthanc, dir.path(), reader).string() +
                                " RELUTH_TWO_READERS_STORE=dicomweb+" + orthanc.v["ORTHANC_DICOMWEB"] + " RELUTH_TWO_READERS_TRUTH=" +
                                (phantom().root() / "ground-truth.json").string() + " /proc/" + std::to_string(::getpid()) +
                                "/exe --gtest_filter=TwoReaders.OneReader > " + c.log.string() + " 2>&1";
        c.pid = ::fork();
        ASSERT_GE(c.pid, 0);
        if (c.pid == 0) {
            ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        children.push_back(c);
    }
    for (const Child& c : children) {
        int st = 0;
        ASSERT_EQ(::waitpid(c.pid, &st, 0), c.pid);
        std::ifstream log(c.log);
        std::stringstream text;
        text << log.rdbuf();
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << c.log.filename() << ":\n" << text.str();
        EXPECT_NE(text.str().find("[  PASSED  ] 1 test"), std::string::npos) << text.str();
    }
    rq::Queue q(rq::Database::open(tq.db));
    // both baselines signed, each report in the outbox once, not stored yet
    const auto reads = q.db().query("SELECT slot, state FROM reads WHERE subject = 'RELUTH-03-001' AND ordinal = 1 ORDER BY slot");
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_EQ(reads[0][1], "signed");
    EXPECT_EQ(reads[1][1], "signed");
    auto outbox = q.db().query("SELECT sop_uid, slot, stored_at FROM report_outbox ORDER BY slot");
    ASSERT_EQ(outbox.size(), 2u);
    EXPECT_EQ(outbox[0][1], "1");
    EXPECT_EQ(outbox[1][1], "2");
    EXPECT_NE(outbox[0][0], outbox[1][0]);
    for (const auto& r : outbox) EXPECT_EQ(r[2], "") << "stored before report-push ran";
    // the site's report-push (the manager's account) stores both on Orthanc, then nothing more
    const std::string push = kBin + "report-push --from-queue --db '" + tq.db + "' --pacs " + pacsConfig(orthanc, dir.path(), "manager").string();
    ASSERT_EQ(testutil::run(push, &out), 0) << out;
    EXPECT_NE(out.find("stored now: 2\n"), std::string::npos) << out;
    ASSERT_EQ(testutil::run(push, &out), 0) << out;
    EXPECT_NE(out.find("reports: 0\n"), std::string::npos) << out;
    for (const auto& r : outbox) {
        const auto found = orthanc.lookup(r[0]);
        ASSERT_EQ(found.size(), 1u) << r[0] << " is not on Orthanc";
        EXPECT_EQ(found[0]["Type"], "Instance");
        EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM audit WHERE action = 'report.stored' AND new_value LIKE ?", {r[0] + " %"})[0][0], "1");
        EXPECT_FALSE(q.db().query("SELECT stored_at FROM report_outbox WHERE sop_uid = ?", {r[0]})[0][0].empty());
    }
    // each reader fetched through the gate with their own tokens: the baseline, and week 8 only
    // once their baseline was signed (the workstation goes on to it); sign-out revoked them all
    const auto all = q.visibleTimepoints(q.login("manager", kPassword), "RELUTH-03-001");
    ASSERT_EQ(all.size(), 2u);
    for (const std::string reader : {"reader1", "reader2"}) {
        const auto tokens = q.db().query("SELECT folder, issued_at, revoked_at FROM image_tokens WHERE user_name = ? ORDER BY issued_at", {reader});
        ASSERT_EQ(tokens.size(), 2u) << reader;
        EXPECT_EQ(tokens[0][0], all[0].folders.at(0));
        EXPECT_EQ(tokens[1][0], all[1].folders.at(0));
        const std::string signedAt =
            q.db().query("SELECT r.signed_at FROM reads r JOIN assignments a ON a.subject = r.subject AND a.slot = r.slot "
                         "WHERE r.subject = 'RELUTH-03-001' AND r.ordinal = 1 AND a.reader = ?",
                         {reader})[0][0];
        EXPECT_GT(tokens[1][1], signedAt) << reader << ": week 8's images were fetched before the baseline was signed";
        EXPECT_FALSE(tokens[0][2].empty());
        EXPECT_FALSE(tokens[1][2].empty());
    }
    ASSERT_EQ(testutil::run(kBin + "reader-queue audit verify --db '" + tq.db + "'", &out), 0) << out;
}

TEST(TwoReaders, OneReader) {
    const char* user = std::getenv(kTwoReadersUser);
    if (!user) GTEST_SKIP() << "one of the two workstations of TwoReaders.ReadTheSameSubject...: run by it, in its own process";
    app();
    std::ifstream in(std::getenv("RELUTH_TWO_READERS_TRUTH"));
    const nlohmann::json truth = nlohmann::json::parse(in);
    const auto& subject = truth["subjects"][0];
    vg::Workstation w;
    w.resize(1600, 1000);
    shown(w);
    ASSERT_TRUE(w.openWebStore(QString::fromUtf8(std::getenv("RELUTH_TWO_READERS_STORE")),
                               QString::fromUtf8(std::getenv("RELUTH_TWO_READERS_PACS"))))
        << w.statusBar()->currentMessage().toStdString();
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromUtf8(std::getenv("RELUTH_TWO_READERS_DB")), user, kPassword, &why)) << why.toStdString();
    ASSERT_TRUE(w.openFirstHomeItem()) << w.statusBar()->currentMessage().toStdString();
    waitForCurrent(w);
    ASSERT_EQ(w.readOrdinal(), 1);
    vg::ReadingPanel* panel = w.readingPanel();
    ASSERT_NE(panel, nullptr);
    vg::SliceView& v = *w.current()->view();
    v.fit();
    v.zoomBy(2.0);
    for (const auto& lesion : subject["lesions"]) {
        const std::string role = lesion["role"];
        const auto& at = lesion["timepoints"][0];
        panel->setOrgan(organOf(lesion));
        QTest::mouseClick(panel->findChild<QPushButton*>(role == "TARGET" ? "addTarget" : "addNonTarget"), Qt::LeftButton);
        if (role == "TARGET") {
            v.centreOn({lesion["center_mm"][0], lesion["center_mm"][1], at["largest_cross_section"]["z_mm"].get<double>()});
            measureLesion(w, lesion, 0);
        } else {
            ASSERT_TRUE(panel->choose(QString::fromStdString(lesion["id"].get<std::string>()), "Present"));
        }
    }
    ASSERT_TRUE(panel->problemsText().contains("ready to sign")) << panel->problemsText().toStdString();
    QString error;
    ASSERT_TRUE(signWithDialog(w, kPassword, &error)) << error.toStdString();
    EXPECT_TRUE(w.statusBar()->currentMessage().contains("queued for the PACS")) << w.statusBar()->currentMessage().toStdString();
    w.signOut(); // (no screenshot: the two workstations' windows overlap on one X display)
}

TEST(ViewerReadingGui, TheDashboardDrawsTheKaplanMeierCurveAndTheNumbersAtRiskOfTheAcceptedResults) {
    app();
    // the Kaplan-Meier table worked by hand in recist's Statistics test, times x 10 days:
    // events at 30, 60, 60, 100; censored at 50, 80, 120, 150.
    //   S: 1 -> 0.875 at 30 -> 0.583333 at 60 -> 0.388889 at 100; median 100, 95 % CI 60 to not reached.
    //   At risk every 56 days: day 0 8, day 56 6 (60, 60, 80, 100, 120, 150), day 112 2 (120, 150), day 168 0.
    // DCR 3 of 8: Clopper-Pearson 8.5-75.5 % (3/8: 0.0852 and 0.7551 by the beta quantiles);
    // ORR 2 of 8 (3.2-65.1 %).
    vg::Dashboard d;
    d.resize(1500, 950);
    vg::DashboardData data;
    data.endpoints.accepted = 8;
    data.endpoints.stillReading = 3;
    data.endpoints.dcrEvaluated = 8;
    data.endpoints.dcrYes = 3;
    data.endpoints.responders = 2;
    data.endpoints.rpfs = {{30, true}, {50, false}, {60, true}, {60, true}, {80, false}, {100, true}, {120, false}, {150, false}};
    d.setData(data);
    d.show();
    ASSERT_TRUE(waitFor([&] { return d.windowHandle() && d.windowHandle()->isExposed(); }));
    const QList<QPointF> expected{{0, 1},          {30, 1},          {30, 0.875},      {60, 0.875}, {60, 7.0 / 12},
                                  {100, 7.0 / 12}, {100, 7.0 / 18},  {150, 7.0 / 18}};
    const QList<QPointF> curve = d.kmCurve();
    ASSERT_EQ(curve.size(), expected.size());
    for (int i = 0; i < curve.size(); ++i) {
        EXPECT_DOUBLE_EQ(curve[i].x(), expected[i].x()) << i;
        EXPECT_NEAR(curve[i].y(), expected[i].y(), 1e-12) << i;
    }
    const QList<QPointF> censored = d.kmCensored();
    ASSERT_EQ(censored.size(), 4);
    EXPECT_EQ(censored[0], QPointF(50, 0.875));
    EXPECT_NEAR(censored[1].y(), 7.0 / 12, 1e-12);
    EXPECT_NEAR(censored[3].y(), 7.0 / 18, 1e-12);
    QTableWidget* risk = d.table("atRisk");
    ASSERT_EQ(risk->columnCount(), 5);
    const QStringList days{"day 0", "day 56", "day 112", "day 168"}, counts{"8", "6", "2", "0"};
    for (int c = 0; c < 4; ++c) {
        EXPECT_EQ(risk->horizontalHeaderItem(c + 1)->text(), days[c]);
        EXPECT_EQ(risk->item(0, c + 1)->text(), counts[c]) << days[c].toStdString();
    }
    const QString text = d.findChild<QLabel*>("endpoints")->text();
    EXPECT_TRUE(text.contains("<b>8</b> subject(s) with an accepted result; <b>3</b> still being read")) << text.toStdString();
    EXPECT_TRUE(text.contains("3/8 = 37.5 % (95 % CI 8.5-75.5 %")) << text.toStdString();
    EXPECT_TRUE(text.contains("2/8 = 25.0 % (95 % CI 3.2-65.1 %")) << text.toStdString();
    EXPECT_TRUE(text.contains("median 100 days (95 % CI 60 to not reached")) << text.toStdString();
    EXPECT_TRUE(d.chartTitles().join(" ").contains("Kaplan-Meier"));
    // what the manager sees when scrolled down to the endpoints
    auto* scroll = d.findChild<QScrollArea*>();
    ASSERT_NE(scroll, nullptr);
    scroll->ensureWidgetVisible(d.findChild<QWidget*>("atRisk"), 10, 10);
    screenshot(d, "dashboard-endpoints.png");
}

// ---------------------------------------------------------------- reading with one click per lesion

namespace {
/// A click with the current tool at a point of the current view (centred on it first, as the
/// reader scrolls there).
void clickAt(vg::SliceView& v, const vc::Point3& p) {
    v.centreOn(p);
    for (int i = 0; i < 5; ++i) QApplication::processEvents(QEventLoop::AllEvents, 10);
    const QPoint at = v.widgetPointOfPatient(p).toPoint();
    QTest::mousePress(v.surface(), Qt::LeftButton, {}, at);
    QTest::mouseRelease(v.surface(), Qt::LeftButton, {}, at);
    for (int i = 0; i < 5; ++i) QApplication::processEvents(QEventLoop::AllEvents, 10);
}

/// What a target measures at a timepoint on the CT slice nearest its centre (the slice the
/// one-click search should find): its long axis, a node's short axis.
double targetTruth(const nlohmann::json& lesion, int tp) {
    const auto& at = lesion["timepoints"][tp];
    const bool nodal = lesion["nodal"];
    const char* axis = nodal ? "short_axis_mm" : "long_axis_mm";
    if (at.contains("largest_cross_section") && at["largest_cross_section"].contains("ct") &&
        at["largest_cross_section"]["ct"].contains(axis))
        return at["largest_cross_section"]["ct"][axis].get<double>();
    return at[axis].get<double>();
}
} // namespace

TEST(ViewerAssistGui, AReaderReadsTheSubjectWithOneClickPerTargetAndTheStoredResultsAreItsExpectedCourse) {
    // reader1 reads the phantom subject from baseline to its follow-up without drawing a caliper:
    // at baseline one click in each target (tool O) and Enter; at the follow-up the lesion's row
    // jumps to where the registration to the baseline puts it, the proposal is offered there, and
    // Enter takes it. What the queue stores is the phantom's expected course.
    app();
    const TrialQueue tq;
    const auto& subject = phantom().truth["subjects"][0];
    testutil::TempDir reports("viewer-reports");
    vg::Workstation w;
    readerOneAtWork(w, tq, reports.path());
    if (HasFatalFailure()) return;
    vg::ReadingPanel* panel = w.readingPanel();
    const int timepoints = static_cast<int>(subject["timepoints"].size());
    ASSERT_GE(timepoints, 2);
    int accepted = 0; // targets measured by an accepted proposal, over the whole read
    for (int tp = 0; tp < timepoints; ++tp) {
        SCOPED_TRACE("timepoint " + std::to_string(tp + 1));
        waitForCurrent(w);
        ASSERT_EQ(w.readOrdinal(), tp + 1);
        vg::SliceView& v = *w.current()->view();
        if (tp > 0) {
            ASSERT_TRUE(waitFor([&] { return w.priorRegistered(); }, 60000)) << w.statusBar()->currentMessage().toStdString();
        }
        for (const auto& lesion : subject["lesions"]) {
            const std::string id = lesion["id"];
            const std::string role = lesion["role"];
            const auto& at = lesion["timepoints"][tp];
            if (tp == 0) {
                panel->setOrgan(organOf(lesion));
                QTest::mouseClick(panel->findChild<QPushButton*>(role == "TARGET" ? "addTarget" : "addNonTarget"), Qt::LeftButton);
                ASSERT_EQ(panel->selectedLesion().toStdString(), id);
            } else {
                panel->selectLesion(QString::fromStdString(id));
            }
            if (role != "TARGET") {
                ASSERT_TRUE(panel->choose(QString::fromStdString(id), at["present"].get<bool>() ? "Present" : "Absent"));
                continue;
            }
            if (!at["present"].get<bool>()) {
                ASSERT_TRUE(panel->choose(QString::fromStdString(id), "Absent (0 mm)"));
                continue;
            }
            if (tp == 0) {
                // one click at the lesion, on the slice the reader scrolled to
                w.findChild<QAction*>("toolAssist")->setChecked(true); // O
                const vc::Point3 centre{lesion["center_mm"][0], lesion["center_mm"][1], at["largest_cross_section"]["z_mm"]};
                clickAt(v, centre);
            } else {
                // the row's jump: the proposal waits where the lesion was found on the new scan
                ASSERT_TRUE(w.jumpToLesion(QString::fromStdString(id))) << id;
            }
            const int pending = v.pendingProposal();
            ASSERT_NE(pending, 0) << id << ": no proposal - " << w.statusBar()->currentMessage().toStdString();
            EXPECT_EQ(panel->model()->draft().answer(id), nullptr) << id << ": entered before Enter";
            v.setFocus();
            QTest::keyClick(&v, Qt::Key_Return);
            for (int i = 0; i < 5; ++i) QApplication::processEvents(QEventLoop::AllEvents, 10);
            EXPECT_EQ(v.pendingProposal(), 0);
            const vr::AnswerEntry* a = panel->model()->draft().answer(id);
            ASSERT_NE(a, nullptr) << id << ": Enter did not give it the proposal";
            EXPECT_NEAR(std::stod(a->result), targetTruth(lesion, tp), 1.0) << id;
            ++accepted;
        }
        EXPECT_TRUE(panel->problemsText().contains("ready to sign")) << panel->problemsText().toStdString();
        // every caliper of this timepoint is a proposal accepted unchanged
        const auto& ms = panel->model()->draft().measurements;
        ASSERT_FALSE(ms.empty());
        for (const vc::Measurement& m : ms) EXPECT_EQ(m.origin, vc::Measurement::Origin::Proposed) << m.label;
        screenshot(w, "one-click-read-tp" + std::to_string(tp + 1) + ".png");
        ASSERT_TRUE(signWithDialog(w, kPassword));
    }
    EXPECT_GE(accepted, 2 * timepoints - 1) << "the subject's targets were measured by one click";
    // what the queue stored: the phantom's expected course; the signed reads say how each caliper was made
    for (const std::string& payload : expectStoredCourse(tq, subject))
        EXPECT_NE(payload.find("\"origin\":\"PROPOSED\""), std::string::npos);
}

TEST(ViewerAssistGui, AFaintLesionOnANoisyScanGetsAWarningAndNoProposal) {
    // The same subject on a low-dose CT (noise 30 HU) with the hard lesions: NT04 lies 17 HU
    // under the liver, which this noise hides (about 2x the smoothed noise). One click on it:
    // nothing proposed, and the status bar says why. A clear lesion on the same scan (T01, 60 HU)
    // still gets its proposal: the warning is the lesion's, not the scan's.
    app();
    const TrialQueue tq({}, noisyPhantom());
    const auto& subject = noisyPhantom().truth["subjects"][0];
    EXPECT_EQ(noisyPhantom().truth["trial"]["hu"]["noise_sigma"].get<int>(), 30);
    nlohmann::json faint, t01;
    for (const auto& l : subject["lesions"]) {
        if (l.value("kind", "") == "low_contrast") faint = l;
        if (l["id"] == "T01") t01 = l;
    }
    ASSERT_FALSE(faint.is_null()) << "the phantom has no low-contrast lesion";
    ASSERT_FALSE(t01.is_null());
    ASSERT_TRUE(faint["timepoints"][0]["present"].get<bool>());
    vg::Workstation w;
    w.resize(1700, 950);
    shown(w);
    w.openStore(QString::fromStdString((noisyPhantom().root() / "store").string()));
    QString why;
    ASSERT_TRUE(w.signIn(QString::fromStdString(tq.db), "reader1", kPassword, &why)) << why.toStdString();
    ASSERT_TRUE(w.openFirstHomeItem());
    waitForCurrent(w);
    vg::SliceView& v = *w.current()->view();
    vg::ReadingPanel* panel = w.readingPanel();
    w.findChild<QAction*>("toolAssist")->trigger();
    ASSERT_TRUE(w.findChild<QAction*>("toolAssist")->isChecked());

    const vc::Point3 faintCentre{faint["center_mm"][0], faint["center_mm"][1], faint["timepoints"][0]["largest_cross_section"]["z_mm"]};
    clickAt(v, faintCentre);
    const QString message = w.statusBar()->currentMessage();
    EXPECT_EQ(v.pendingProposal(), 0) << "a proposal on a lesion the noise hides";
    // the reason: at this noise the lesion's edge is lost (its outline runs out into the liver);
    // the message names the lesion as too faint for this image, with about how faint (17 HU)
    EXPECT_TRUE(message.startsWith("No proposal: too faint to outline on this noisy image: it differs from its surroundings by about "))
        << message.toStdString();
    const QString afterAbout = message.section("by about ", 1);
    bool isNumber = false;
    const double hu = afterAbout.section(' ', 0, 0).toDouble(&isNumber);
    EXPECT_TRUE(isNumber && hu >= 10 && hu <= 22) << message.toStdString();
    EXPECT_TRUE(message.contains("an edge weaker than")) << message.toStdString();
    EXPECT_TRUE(v.measurements().all().empty());
    EXPECT_TRUE(panel->model()->draft().measurements.empty());
    screenshot(w, "one-click-low-contrast.png");

    const vc::Point3 clearCentre{t01["center_mm"][0], t01["center_mm"][1], t01["timepoints"][0]["largest_cross_section"]["z_mm"]};
    clickAt(v, clearCentre);
    const int pending = v.pendingProposal();
    ASSERT_NE(pending, 0) << w.statusBar()->currentMessage().toStdString();
    EXPECT_NEAR(v.measurements().find(pending)->longMm(), targetTruth(t01, 0), 1.5);
    // on the ordinary phantom CT (6 HU noise) a refusal carries no such note: a click in air
    vg::Workstation plain;
    plain.resize(1700, 950);
    shown(plain);
    const TrialQueue tq2;
    plain.openStore(QString::fromStdString((phantom().root() / "store").string()));
    ASSERT_TRUE(plain.signIn(QString::fromStdString(tq2.db), "reader1", kPassword, &why)) << why.toStdString();
    ASSERT_TRUE(plain.openFirstHomeItem());
    waitForCurrent(plain);
    plain.findChild<QAction*>("toolAssist")->setChecked(true);
    clickAt(*plain.current()->view(), {40, -60, faintCentre[2]});
    const QString plainMessage = plain.statusBar()->currentMessage();
    EXPECT_TRUE(plainMessage.startsWith("No proposal: ")) << plainMessage.toStdString();
    EXPECT_FALSE(plainMessage.contains("noisy")) << plainMessage.toStdString();
    EXPECT_FALSE(plainMessage.contains("faint")) << plainMessage.toStdString();
}
