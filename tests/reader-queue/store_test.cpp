// The visit and the store's layout, owned by reader-queue/store: the charter's schedule decides
// which timepoint a study belongs to (a CT and an MR of one visit on different days are one
// timepoint, an unscheduled assessment its own), and the queue registers exactly that - end to
// end from phantom images de-identified by the anonymizer (phantom --mr-offset-days,
// --unscheduled), with and without the randomization date known to the queue.
#include "Backend.h"
#include "Fixtures.h"
#include "charter/Charter.h"
#include "readerqueue/Database.h"
#include "readerqueue/Queue.h"
#include "store/Layout.h"
#include "store/Quarantine.h"
#include "store/Visit.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace rqtest;

namespace {

const std::string kBin = std::string(RELUTH_BINARY_DIR) + "/bin/";

charter::Charter reluth() { return charter::loadCharter(kCharter); }

std::vector<std::string> folders(const std::vector<store::Assessment>& a, std::size_t i) { return a.at(i).folders; }

} // namespace

TEST(Visit, TheScheduleNamesEachDayAndUnscheduledDaysFallBetweenVisits) {
    const auto s = reluth().visits; // baseline V1, every 56 days +-7 from randomization, V2 = week 8
    EXPECT_EQ(store::visitOfDay(s, -12).label, "BASELINE");
    EXPECT_EQ(store::visitOfDay(s, -12).visitNum, "1");
    const auto w8 = store::visitOfDay(s, 58);
    EXPECT_EQ(w8.label, "WEEK 8");
    EXPECT_EQ(w8.id, "V2");
    EXPECT_EQ(w8.visitNum, "2");
    EXPECT_EQ(store::visitOfDay(s, 49).label, "WEEK 8"); // the window's edges
    EXPECT_EQ(store::visitOfDay(s, 63).label, "WEEK 8");
    const auto un = store::visitOfDay(s, 84); // four weeks after week 8: no window
    EXPECT_EQ(un.kind, store::Visit::Kind::Unscheduled);
    EXPECT_EQ(un.label, "UNSCHEDULED");
    EXPECT_EQ(un.id, "V2.U");
    EXPECT_EQ(store::visitOfDay(s, 40).id, "V1.U"); // before the first window: after the baseline
    EXPECT_EQ(store::visitOfDay(s, 112).label, "WEEK 16");
    // the time point IDs the anonymizer writes read back as the same visits
    for (int day : {-12, 58, 84, 112, 170})
        EXPECT_EQ(store::visitOfId(s, store::visitOfDay(s, day).id)->label, store::visitOfDay(s, day).label) << day;
    EXPECT_FALSE(store::visitOfId(s, "WEEK 8"));
    EXPECT_FALSE(store::visitOfId(s, "V"));
    EXPECT_FALSE(store::visitOfId(s, "V0"));
    EXPECT_EQ(store::visitOfNum(s, "2.1")->label, "UNSCHEDULED");
    EXPECT_EQ(store::visitOfNum(s, "3")->label, "WEEK 16");
}

TEST(Visit, ACtAndAnMrTwoDaysApartAreOneTimepointAndAnUnscheduledScanIsItsOwn) {
    const auto s = reluth().visits;
    // randomization 2024-01-10; CT baseline 01-02, MR baseline 01-04; week 8 CT 03-06 (day 56),
    // MR 03-08; unscheduled CT 04-03 (day 84); week 16 CT 05-01 (day 112)
    const std::vector<store::StudyRef> studies{{"S/20240102_a", "20240102", ""}, {"S/20240104_b", "20240104", ""},
                                               {"S/20240306_c", "20240306", ""}, {"S/20240308_d", "20240308", ""},
                                               {"S/20240403_e", "20240403", ""}, {"S/20240501_f", "20240501", ""}};
    std::vector<std::string> notes;
    const auto a = store::assessments(s, studies, "2024-01-10", &notes);
    EXPECT_TRUE(notes.empty());
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a[0].visit.label, "BASELINE");
    EXPECT_EQ(folders(a, 0), (std::vector<std::string>{"S/20240102_a", "S/20240104_b"}));
    EXPECT_EQ(a[0].date, "20240102") << "a timepoint is dated by its earliest scan";
    EXPECT_EQ(a[1].visit.label, "WEEK 8");
    EXPECT_EQ(folders(a, 1), (std::vector<std::string>{"S/20240306_c", "S/20240308_d"}));
    EXPECT_EQ(a[2].visit.label, "UNSCHEDULED");
    EXPECT_EQ(a[2].visit.visitNum, "2.1");
    EXPECT_EQ(a[2].date, "20240403");
    EXPECT_EQ(a[3].visit.label, "WEEK 16");
    EXPECT_EQ(a[3].visit.visitNum, "3");

    // the same studies without the randomization date, with the time point IDs the anonymizer
    // wrote: the same timepoints
    std::vector<store::StudyRef> tagged = studies;
    const char* ids[] = {"V1", "V1", "V2", "V2", "V2.U", "V3"};
    for (std::size_t i = 0; i < tagged.size(); ++i) tagged[i].timePointId = ids[i];
    const auto b = store::assessments(s, tagged, "", &notes);
    ASSERT_EQ(b.size(), a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(b[i].visit.label, a[i].visit.label) << i;
        EXPECT_EQ(b[i].folders, a[i].folders) << i;
    }
    EXPECT_TRUE(notes.empty());

    // neither known: by date order, with a note saying so; a study without a date is named
    std::vector<store::StudyRef> bare = studies;
    bare.push_back({"S/nodate_g", "", ""});
    const auto c = store::assessments(s, bare, "", &notes);
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_NE(notes[0].find("S/nodate_g"), std::string::npos) << notes[0];
    EXPECT_NE(notes[1].find("date order"), std::string::npos) << notes[1];
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[1].folders.size(), 2u) << "a CT and an MR two days apart stay one timepoint";
}

TEST(Store, TheLayoutIsWrittenAndReadByOneOwner) {
    testutil::TempDir dir("store-layout");
    const auto series = store::seriesFolder(dir.path(), "RELUTH-01-001", "20240306", "1.2.3.45678901234", "CT", "2", "1.2.3.99887766");
    EXPECT_EQ(series, dir.path() / "RELUTH-01-001" / "20240306_78901234" / "CT_2_99887766");
    fs::create_directories(series);
    fs::create_directories(dir.path() / "RELUTH-01-001" / ".tmp-x");
    fs::create_directories(dir.path() / "RELUTH-01-001" / "not-a-study");
    fs::create_directories(dir.path() / ".hidden");
    const auto subjects = store::subjects(dir.path());
    ASSERT_EQ(subjects.size(), 1u);
    ASSERT_EQ(subjects[0].studies.size(), 1u);
    EXPECT_EQ(subjects[0].studies[0].relative, "RELUTH-01-001/20240306_78901234");
    EXPECT_EQ(subjects[0].studies[0].date, "20240306");
    EXPECT_EQ(subjects[0].studies[0].series, 1);
    EXPECT_THROW(store::subjects(dir.path() / "absent"), std::runtime_error);
    EXPECT_EQ(store::safeName("a/b c"), "a_b_c");
}

TEST(Store, QuarantineRecordsRoundTripAndAMissingRecordIsAReason) {
    testutil::TempDir dir("store-quarantine");
    const fs::path q = dir.path() / "quarantine";
    fs::create_directories(q / "site");
    std::ofstream(q / "site" / "a.dcm") << "bytes";
    std::ofstream(q / "site" / "b.dcm") << "bytes";
    store::QuarantineRecord r;
    r.input = "/in/site/a.dcm";
    r.inputHash = "abc";
    r.time = "2026-12-06T00:00:00Z";
    r.reasons = {{"arm-series", "NM with Lu-177"}, {"burned-in", "YES"}};
    ASSERT_TRUE(store::writeRecord(q / "site" / "a.dcm", r));
    const auto all = store::listQuarantine(q);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].relative, "site/a.dcm");
    EXPECT_EQ(all[0].inputHash, "abc");
    ASSERT_EQ(all[0].reasons.size(), 2u);
    EXPECT_EQ(all[0].reasons[1].text(), "burned-in: YES");
    EXPECT_EQ(all[1].reasons.at(0).category, "unknown") << "a file without its record is listed, not lost";
    const auto counts = store::countsByCategory(q);
    EXPECT_EQ(counts.at("arm-series"), 1);
    EXPECT_EQ(counts.at("unknown"), 1);
    store::removeRecord(q / "site" / "a.dcm");
    EXPECT_FALSE(fs::exists(q / "site" / "a.dcm.reason.json"));
}

/// Phantom images of one visit on two days and an unscheduled scan, de-identified by the
/// anonymizer, imported by the queue: the timepoints are the visits.
class Visits : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir = new testutil::TempDir("visits");
        const fs::path trial = dir->path() / "trial";
        std::string out;
        ASSERT_EQ(testutil::run(kBin + "phantom --out " + trial.string() +
                                    " --seed 9 --subjects 2 --timepoints 3 --slices 23 --thickness 10 --mr-offset-days 2 --unscheduled",
                                &out),
                  0)
            << out;
        ASSERT_EQ(testutil::run(kBin + "anonymize --in " + (trial / "incoming").string() + " --out " + (dir->path() / "store").string() +
                                    " --quarantine " + (dir->path() / "quarantine").string() + " --enrolment " +
                                    (trial / "enrolment.csv").string() + " --charter " + kCharter.string(),
                                &out),
                  0)
            << out;
        std::ifstream in(trial / "ground-truth.json");
        truth = new nlohmann::json(nlohmann::json::parse(in));
    }
    static void TearDownTestSuite() {
        delete truth;
        delete dir;
    }
    static testutil::TempDir* dir;
    static nlohmann::json* truth;

    static std::string compact(std::string iso) {
        iso.erase(std::remove(iso.begin(), iso.end(), '-'), iso.end());
        return iso;
    }
    /// SUBJ.csv from the phantom's randomization dates.
    static fs::path dates() {
        const fs::path f = dir->path() / "SUBJ.csv";
        std::ofstream o(f);
        o << "STUDYID,USUBJID,RANDDT\n";
        for (const auto& s : (*truth)["subjects"])
            o << "RELUTH," << s["pseudonym"].get<std::string>() << "," << s["randomization_date"].get<std::string>() << "\n";
        return f;
    }
    /// Checks the registered timepoints of every subject against the phantom's plan.
    static void expectVisits(rq::Queue& q) {
        for (const auto& s : (*truth)["subjects"]) {
            const std::string subject = s["pseudonym"];
            const bool mr = s["has_mr"].get<bool>();
            const auto rows =
                q.db().query("SELECT ordinal, visit_label, visit_num, study_date, "
                             "(SELECT COUNT(*) FROM timepoint_studies ts WHERE ts.subject = t.subject AND ts.ordinal = t.ordinal) "
                             "FROM timepoints t WHERE subject = ? ORDER BY ordinal",
                             {subject});
            // baseline, week 8, the unscheduled CT, week 16
            ASSERT_EQ(rows.size(), 4u) << subject;
            const auto& tps = s["timepoints"];
            const std::vector<std::pair<std::string, std::string>> visits{
                {"BASELINE", "1"}, {"WEEK 8", "2"}, {"UNSCHEDULED", "2.1"}, {"WEEK 16", "3"}};
            for (std::size_t i = 0; i < 4; ++i) {
                EXPECT_EQ(rows[i][0], std::to_string(i + 1));
                EXPECT_EQ(rows[i][1], visits[i].first) << subject << " T" << i + 1;
                EXPECT_EQ(rows[i][2], visits[i].second) << subject << " T" << i + 1;
                const bool unscheduled = i == 2;
                // one study per timepoint, two (CT and MR two days later) for a subject with MR
                EXPECT_EQ(rows[i][4], unscheduled || !mr ? "1" : "2") << subject << " T" << i + 1;
                const std::string expectedDate =
                    unscheduled ? compact(s["unscheduled"][0]["scan_date"]) : compact(tps[i < 2 ? i : i - 1]["scan_date"]);
                EXPECT_EQ(rows[i][3], expectedDate) << subject << " T" << i + 1 << ": dated by its earliest scan (the CT)";
            }
        }
    }
};
testutil::TempDir* Visits::dir = nullptr;
nlohmann::json* Visits::truth = nullptr;

TEST_F(Visits, TheQueueRegistersVisitsFromTheFilesTimePointsWhenItHasNoDatesYet) {
    ASSERT_TRUE(truth && (*truth)["subjects"].size() == 2u);
    ASSERT_TRUE((*truth)["subjects"][1]["has_mr"].get<bool>()) << "the second phantom subject has MR";
    rq::Queue q(rq::Database::open("sqlite:" + (dir->path() / "a.db").string()), kCharter);
    q.addUser(nullptr, "admin", workflow::Role::Administrator, kPw);
    const rq::Session admin = q.login("admin", kPw);
    q.addUser(&admin, "mgr", workflow::Role::Manager, kPw);
    const rq::Session mgr = q.login("mgr", kPw);
    const auto r = q.importStore(mgr, dir->path() / "store");
    EXPECT_TRUE(r.problems.empty()) << r.problems.front();
    EXPECT_TRUE(r.notes.empty()) << r.notes.front();
    expectVisits(q);
    EXPECT_EQ(q.importStore(mgr, dir->path() / "store").timepoints, 0) << "idempotent";
}

TEST_F(Visits, TheQueueRegistersTheSameVisitsFromItsRandomizationDates) {
    rq::Queue q(rq::Database::open("sqlite:" + (dir->path() / "b.db").string()), kCharter);
    q.addUser(nullptr, "admin", workflow::Role::Administrator, kPw);
    const rq::Session admin = q.login("admin", kPw);
    q.addUser(&admin, "mgr", workflow::Role::Manager, kPw);
    q.addUser(&admin, "r1", workflow::Role::Reader, kPw);
    q.addUser(&admin, "r2", workflow::Role::Reader, kPw);
    const rq::Session mgr = q.login("mgr", kPw);
    // the subjects are known before their images: dates first, then the import
    const auto first = q.importStore(mgr, dir->path() / "store");
    ASSERT_EQ(first.timepoints, 8);
    rq::Queue fresh(rq::Database::open("sqlite:" + (dir->path() / "c.db").string()), kCharter);
    fresh.addUser(nullptr, "admin", workflow::Role::Administrator, kPw);
    const rq::Session a2 = fresh.login("admin", kPw);
    fresh.addUser(&a2, "mgr", workflow::Role::Manager, kPw);
    const rq::Session m2 = fresh.login("mgr", kPw);
    // subjects registered without studies, then the dates, then the studies: the schedule decides
    // (the files' time points are ignored when the queue knows the randomization date)
    testutil::TempDir empty("visits-empty");
    for (const auto& s : (*truth)["subjects"]) fs::create_directories(empty.path() / s["pseudonym"].get<std::string>());
    fresh.importStore(m2, empty.path());
    EXPECT_EQ(fresh.loadSubjectDates(m2, dates()), 2);
    const auto r = fresh.importStore(m2, dir->path() / "store");
    EXPECT_TRUE(r.problems.empty()) << r.problems.front();
    expectVisits(fresh);

    // the queue says which timepoints a reader may see: up to the one they read next
    q.assignReaders(mgr);
    const std::string subject = (*truth)["subjects"][1]["pseudonym"];
    for (int t = 1; t <= 4; ++t) q.qc(mgr, subject, t, true, "");
    const auto slot1 = q.db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = 1", {subject})[0][0];
    const rq::Session reader = q.login(slot1, kPw);
    auto seen = q.visibleTimepoints(reader, subject);
    ASSERT_EQ(seen.size(), 1u) << "the baseline only, until it is signed";
    EXPECT_EQ(seen[0].visit, "BASELINE");
    EXPECT_EQ(seen[0].folders.size(), 2u) << "the CT and the MR of the baseline visit";
    EXPECT_EQ(q.visibleTimepoints(mgr, subject).size(), 4u);
    const rq::Session slot2 = q.login(slot1 == "r1" ? "r2" : "r1", kPw);
    EXPECT_EQ(q.visibleTimepoints(slot2, subject).size(), 1u) << "the second reader: their own baseline only";
    q.addUser(&admin, "adj", workflow::Role::Adjudicator, kPw);
    EXPECT_EQ(refusal([&] { q.visibleTimepoints(q.login("adj", kPw), subject); }), "ROLE") << "no adjudication held: nothing";
}
