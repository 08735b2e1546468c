// The workstation shows the queue's timepoints by identity (issue 15): phantom images where each
// visit's MR was scanned two days after its CT and an unscheduled CT lies between week 8 and
// week 16 (phantom --mr-offset-days 2 --unscheduled), de-identified by the anonymizer and
// registered by the queue. The reader's timepoint is one visit with both its scans, the read
// open on the right is always the queue's timepoint shown there, and an unscheduled assessment
// is read as its own timepoint, in date order.
#include "GuiFixture.h"
#include "readerqueue/Queue.h"
#include "viewergui/Workstation.h"

#include <QComboBox>

using namespace guitest;

namespace {

const char* const kBaseline =
    R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"},{"id":"NT01","role":"NON-TARGET","location":"BONE"}],)"
    R"("assessments":[{"id":"T01","result":"35"},{"id":"NT01","result":"PRESENT"}]})";
const char* const kFollowup = R"({"assessments":[{"id":"T01","result":"34"},{"id":"NT01","result":"PRESENT"}]})";

struct VisitTrial {
    testutil::TempDir dir{"viewer-visits"};
    nlohmann::json truth;
    std::string db;
    fs::path store() const { return dir.path() / "store"; }
    std::string mrSubject; ///< the phantom subject with MR
};

const VisitTrial& visitTrial() {
    static VisitTrial t;
    static const bool made = [] {
        const fs::path trial = t.dir.path() / "trial";
        std::string out;
        EXPECT_EQ(testutil::run(kBin + "phantom --out " + trial.string() +
                                    " --seed 9 --subjects 2 --timepoints 3 --slices 23 --thickness 10 --mr-offset-days 2 --unscheduled",
                                &out),
                  0)
            << out;
        EXPECT_EQ(testutil::run(kBin + "anonymize --in " + (trial / "incoming").string() + " --out " + t.store().string() +
                                    " --quarantine " + (t.dir.path() / "quarantine").string() + " --enrolment " +
                                    (trial / "enrolment.csv").string() + " --charter " + RELUTH_SOURCE_DIR + "/assets/charters/reluth.json",
                                &out),
                  0)
            << out;
        std::ifstream in(trial / "ground-truth.json");
        t.truth = nlohmann::json::parse(in);
        for (const auto& s : t.truth["subjects"])
            if (s["has_mr"].get<bool>()) t.mrSubject = s["pseudonym"];
        t.db = "sqlite:" + (t.dir.path() / "queue.db").string();
        rq::Queue q(rq::Database::open(t.db), fs::path(RELUTH_SOURCE_DIR) / "assets/charters/reluth.json");
        q.addUser(nullptr, "admin", workflow::Role::Administrator, kPassword);
        const rq::Session admin = q.login("admin", kPassword);
        for (const char* r : {"reader1", "reader2"}) q.addUser(&admin, r, workflow::Role::Reader, kPassword);
        q.addUser(&admin, "manager", workflow::Role::Manager, kPassword);
        const rq::Session mgr = q.login("manager", kPassword);
        const auto imported = q.importStore(mgr, t.store());
        EXPECT_TRUE(imported.problems.empty()) << imported.problems.front();
        {
            std::ofstream subj(t.dir.path() / "SUBJ.csv");
            subj << "STUDYID,USUBJID,RANDDT\n";
            for (const auto& s : t.truth["subjects"])
                subj << "RELUTH," << s["pseudonym"].get<std::string>() << "," << s["randomization_date"].get<std::string>() << "\n";
        }
        EXPECT_EQ(q.loadSubjectDates(mgr, t.dir.path() / "SUBJ.csv"), 2);
        q.assignReaders(mgr);
        for (int tp = 1; tp <= 4; ++tp) q.qc(mgr, t.mrSubject, tp, true, "");
        return true;
    }();
    (void)made;
    return t;
}

QStringList pickerItems(vg::ViewerPane* pane, const char* name) {
    QStringList out;
    auto* box = pane->findChild<QComboBox*>(name);
    if (!box) return {"no " + QString(name)};
    for (int i = 0; i < box->count(); ++i) out << box->itemText(i);
    return out;
}

void sign(const VisitTrial& t, int ordinal, const char* payload) {
    rq::Queue q(rq::Database::open(t.db));
    const rq::Session r = q.login("reader1", kPassword);
    q.saveDraft(r, t.mrSubject, ordinal, payload);
    q.sign(r, t.mrSubject, ordinal, kPassword, "I am the author");
}

} // namespace

TEST(ViewerVisitsGui, AVisitOnTwoDaysIsOneTimepointAndAnUnscheduledScanIsReadAsItsOwn) {
    app();
    const VisitTrial& t = visitTrial();
    ASSERT_FALSE(t.mrSubject.empty());
    vg::Workstation w;
    w.resize(1600, 1000);
    shown(w);
    w.openStore(QString::fromStdString(t.store().string()));
    QString why;
    w.setQueue(QString::fromStdString(t.db));
    EXPECT_EQ(w.currentScreen(), vg::Screen::SignedOut);
    ASSERT_TRUE(w.signIn(QString::fromStdString(t.db), "reader1", kPassword, &why)) << why.toStdString();
    EXPECT_EQ(w.currentScreen(), vg::Screen::Images) << "a reader starts on the images with their worklist";
    const QString subject = QString::fromStdString(t.mrSubject);
    auto open = [&] {
        ASSERT_TRUE(w.openSubject(subject));
        ASSERT_TRUE(waitFor([&] { return w.idle(); }));
    };
    open();
    // the baseline: one timepoint holding the CT and the MR two days later
    EXPECT_EQ(pickerItems(w.current(), "timepointPicker"), QStringList({"V1 BASELINE"}));
    EXPECT_EQ(pickerItems(w.current(), "seriesPicker").size(), 2) << pickerItems(w.current(), "seriesPicker").join(" | ").toStdString();
    EXPECT_EQ(w.current()->ordinal(), 1);
    EXPECT_EQ(w.readOrdinal(), 1);
    EXPECT_EQ(w.currentScreen(), vg::Screen::Reading);
    w.showDashboard();
    EXPECT_EQ(w.currentScreen(), vg::Screen::Reading) << "a reader has no dashboard: the switch is refused";

    sign(t, 1, kBaseline);
    open();
    EXPECT_EQ(pickerItems(w.current(), "timepointPicker"), QStringList({"V1 BASELINE", "V2 WEEK 8"}));
    EXPECT_EQ(pickerItems(w.current(), "seriesPicker").size(), 2);
    EXPECT_EQ(w.current()->ordinal(), 2);
    EXPECT_EQ(w.readOrdinal(), 2) << "the read beside week 8's images is week 8's";

    sign(t, 2, kFollowup);
    open();
    EXPECT_EQ(pickerItems(w.current(), "timepointPicker"), QStringList({"V1 BASELINE", "V2 WEEK 8", "UNSCHEDULED"}));
    EXPECT_EQ(pickerItems(w.current(), "seriesPicker").size(), 1) << "the unscheduled assessment: its CT only";
    EXPECT_EQ(w.current()->ordinal(), 3);
    EXPECT_EQ(w.readOrdinal(), 3);
    screenshot(w, "visits-unscheduled.png");

    // picking the earlier visit on the right opens that visit's own (signed) read, never another's
    auto* box = w.current()->findChild<QComboBox*>("timepointPicker");
    ASSERT_NE(box, nullptr);
    box->setCurrentIndex(1);
    ASSERT_TRUE(waitFor([&] { return w.idle(); }));
    EXPECT_EQ(w.current()->ordinal(), 2);
    EXPECT_EQ(w.readOrdinal(), 2);
    EXPECT_FALSE(w.readEditable()) << "week 8 is signed";

    // the manager sees every registered timepoint, in date order, by visit
    w.signOut();
    EXPECT_EQ(w.currentScreen(), vg::Screen::SignedOut);
    ASSERT_TRUE(w.signIn(QString::fromStdString(t.db), "manager", kPassword, &why)) << why.toStdString();
    EXPECT_EQ(w.currentScreen(), vg::Screen::Dashboard) << "a manager starts on the dashboard";
    open();
    EXPECT_EQ(pickerItems(w.current(), "timepointPicker"), QStringList({"V1 BASELINE", "V2 WEEK 8", "UNSCHEDULED", "V3 WEEK 16"}));
    EXPECT_EQ(w.readOrdinal(), 0) << "a manager reads nothing";
    EXPECT_EQ(w.currentScreen(), vg::Screen::Images);
}

TEST(ScreenMode, EachRoleHasItsScreensAndNothingElse) {
    using vg::Screen;
    using vg::ScreenMode;
    using workflow::Role;
    const Screen all[] = {Screen::SignedOut, Screen::Images, Screen::Reading, Screen::Adjudication, Screen::Dashboard, Screen::Quarantine};
    auto screensOf = [&](ScreenMode::Role role, bool queue) {
        std::string out;
        for (Screen s : all)
            if (ScreenMode::allowed(s, role, queue)) out += std::string(out.empty() ? "" : " ") + std::string(vg::screenName(s));
        return out;
    };
    EXPECT_EQ(screensOf(std::nullopt, true), "signed-out") << "a trial's workstation with nobody signed in shows nothing";
    EXPECT_EQ(screensOf(std::nullopt, false), "images") << "a plain viewer";
    EXPECT_EQ(screensOf(Role::Reader, true), "signed-out images reading");
    EXPECT_EQ(screensOf(Role::Adjudicator, true), "signed-out images adjudication");
    EXPECT_EQ(screensOf(Role::Manager, true), "signed-out images dashboard");
    EXPECT_EQ(screensOf(Role::DataManager, true), "signed-out images quarantine");
    EXPECT_EQ(ScreenMode::home(Role::Manager, true), Screen::Dashboard);
    EXPECT_EQ(ScreenMode::home(Role::DataManager, true), Screen::Quarantine);
    EXPECT_EQ(ScreenMode::home(std::nullopt, true), Screen::SignedOut);
    ScreenMode m;
    EXPECT_TRUE(m.enter(Screen::Reading, Role::Reader, true));
    EXPECT_FALSE(m.enter(Screen::Dashboard, Role::Reader, true));
    EXPECT_EQ(m.current(), Screen::Reading) << "a refused switch changes nothing";
    EXPECT_FALSE(m.enter(Screen::Images, std::nullopt, true));
    EXPECT_TRUE(m.enter(Screen::SignedOut, std::nullopt, true));
}
