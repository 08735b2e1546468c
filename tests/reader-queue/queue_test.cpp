// The reading queue on SQLite and on PostgreSQL: users and Argon2id logins with lockout,
// the role x operation checks (each refusal audited), import of a store, QC, balanced
// assignment, reading in order, drafts and signatures, the backlog, and an intact audit trail.
#include "Backend.h"
#include "readerqueue/Queue.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

namespace fs = std::filesystem;
using namespace rq;
using rqtest::Backend;
using workflow::Role;

namespace {

const std::string kPw = "correct horse battery";
const fs::path kCharter = fs::path(RELUTH_SOURCE_DIR) / "assets/charters/reluth.json";

/// A baseline with one liver target of `mm` and one non-target; a follow-up measuring it.
std::string baseline(const std::string& mm = "32.0") {
    return R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"},{"id":"NT01","role":"NON-TARGET","location":"LUNG"}],)"
           R"("assessments":[{"id":"T01","result":")" + mm + R"("},{"id":"NT01","result":"PRESENT"}]})";
}
std::string followup(const std::string& mm, const std::string& nonTarget = "PRESENT", const std::string& extra = {}) {
    return R"({"assessments":[{"id":"T01","result":")" + mm + R"("},{"id":"NT01","result":")" + nonTarget + R"("})" + extra + "]}";
}
/// A follow-up with an unequivocal new liver lesion.
std::string followupWithNewLesion(const std::string& mm) {
    return R"({"lesions":[{"id":"NEW01","role":"NEW","location":"LIVER"}],)"
           R"("assessments":[{"id":"T01","result":")" + mm + R"("},{"id":"NT01","result":"PRESENT"},{"id":"NEW01","result":"UNEQUIVOCAL"}]})";
}

/// SUBJ.csv with the randomization date of subjects RELUTH-01-001.. (a week before the first scan).
fs::path subjectDates(const fs::path& dir, int subjects) {
    const fs::path f = dir / "SUBJ.csv";
    std::ofstream out(f);
    out << "STUDYID,USUBJID,RANDDT\n";
    for (int s = 1; s <= subjects; ++s) out << "RELUTH,RELUTH-01-00" << s << ",2024-01-03\n";
    return f;
}

/// A store laid out as the anonymizer writes it (folders only: the queue reads no pixels).
void makeStore(const fs::path& store, int subjects, int timepoints) {
    for (int s = 1; s <= subjects; ++s) {
        for (int t = 0; t < timepoints; ++t) {
            char date[16];
            std::snprintf(date, sizeof date, "2024%02d10", 1 + 2 * t);
            const fs::path series = store / ("RELUTH-01-00" + std::to_string(s)) / (std::string(date) + "_1234567" + std::to_string(t)) /
                                    ("CT_2_8765432" + std::to_string(t));
            fs::create_directories(series);
            std::ofstream(series / "2.25.1.dcm") << "x";
        }
    }
}

template <class F>
std::string refusal(F f) {
    try {
        f();
    } catch (const Refused& r) {
        return r.rule;
    }
    return "not refused";
}

} // namespace

class ReadingQueue : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        backend = std::make_unique<Backend>(GetParam());
        if (!backend->available()) GTEST_SKIP() << "RELUTH_PG_URL_FILE not set: run under ctest for PostgreSQL";
        queue = std::make_unique<Queue>(Database::open(backend->url()), kCharter);
        queue->addUser(nullptr, "admin", Role::Administrator, kPw);
        admin = queue->login("admin", kPw);
        for (const char* r : {"reader1", "reader2", "reader3"}) queue->addUser(&admin, r, Role::Reader, kPw);
        queue->addUser(&admin, "adjudicator", Role::Adjudicator, kPw);
        queue->addUser(&admin, "manager", Role::Manager, kPw);
        manager = queue->login("manager", kPw);
    }
    std::size_t auditCount(const std::string& action) {
        std::size_t n = 0;
        for (const auto& e : queue->db().readAudit()) n += e.action == action;
        return n;
    }
    std::unique_ptr<Backend> backend;
    std::unique_ptr<Queue> queue;
    Session admin, manager;
};

TEST_P(ReadingQueue, UsersLoginsAndLockout) {
    EXPECT_EQ(refusal([&] { queue->addUser(&manager, "x", Role::Reader, kPw); }), "ROLE");
    EXPECT_EQ(refusal([&] { queue->addUser(nullptr, "y", Role::Reader, kPw); }), "ROLE");
    EXPECT_EQ(refusal([&] { queue->addUser(&admin, "reader1", Role::Reader, kPw); }), "USER_EXISTS");
    EXPECT_EQ(refusal([&] { queue->addUser(&admin, "z", Role::Reader, "short"); }), "WEAK_PASSWORD");
    const auto hash = queue->db().query("SELECT password_hash FROM users WHERE name = 'reader1'")[0][0];
    EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
    EXPECT_EQ(refusal([&] { queue->login("reader1", "wrong password"); }), "LOGIN_FAILED");
    EXPECT_EQ(queue->login("reader1", kPw).role, Role::Reader);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(refusal([&] { queue->login("reader2", "guess " + std::to_string(i)); }), "LOGIN_FAILED");
    EXPECT_EQ(refusal([&] { queue->login("reader2", kPw); }), "LOCKED"); // locked even with the right password
    EXPECT_EQ(auditCount("login.failed"), 7u);
    EXPECT_EQ(auditCount("refused.add users"), 1u);
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}

TEST_P(ReadingQueue, ASubjectIsReadInOrderBlindedAndSigned) {
    testutil::TempDir dir("queue-store");
    makeStore(dir.path(), 3, 3);
    const auto imported = queue->importStore(manager, dir.path());
    EXPECT_EQ(imported.subjects, 3);
    EXPECT_EQ(imported.timepoints, 9);
    EXPECT_EQ(queue->loadSubjectDates(manager, subjectDates(dir.path(), 3)), 3);
    EXPECT_EQ(queue->importStore(manager, dir.path()).timepoints, 0); // idempotent
    EXPECT_EQ(queue->assignReaders(manager), 3);
    // balanced: 3 subjects x 2 reads over 3 readers -> 2 subjects each
    for (const auto& row : queue->db().query("SELECT reader, COUNT(*) FROM assignments GROUP BY reader")) EXPECT_EQ(row[1], "2") << row[0];

    const std::string subject = "RELUTH-01-001";
    const auto readers = queue->db().query("SELECT reader FROM assignments WHERE subject = ? ORDER BY slot", {subject});
    const Session r1 = queue->login(readers[0][0], kPw), r2 = queue->login(readers[1][0], kPw);
    const std::string other = queue->db().query(
        "SELECT name FROM users WHERE role = 'reader' AND name NOT IN (SELECT reader FROM assignments WHERE subject = ?)", {subject})[0][0];
    const Session outsider = queue->login(other, kPw);

    // nothing is offered before QC
    EXPECT_TRUE(queue->worklist(r1).empty());
    EXPECT_EQ(refusal([&] { queue->qc(r1, subject, 1, true, ""); }), "ROLE");
    EXPECT_EQ(refusal([&] { queue->qc(manager, subject, 1, false, " "); }), "REASON_REQUIRED");
    queue->qc(manager, subject, 1, true, "");
    queue->qc(manager, subject, 2, true, "");
    // the baseline opens for both readers; week 8 waits for the baseline's signature
    auto w = queue->worklist(r1);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].ordinal, 1);
    EXPECT_EQ(queue->worklist(r2).size(), 1u);
    // a reader sees only their own reads; another reader's subject is refused
    for (const auto& item : queue->worklist(outsider)) EXPECT_NE(item.subject, subject);
    EXPECT_EQ(refusal([&] { queue->saveDraft(outsider, subject, 1, "{}"); }), "ROLE");
    EXPECT_EQ(refusal([&] { queue->worklist(manager); }), "ROLE");

    EXPECT_EQ(refusal([&] { queue->sign(r1, subject, 1, kPw, "I confirm"); }), "NOTHING_TO_SIGN");
    queue->saveDraft(r1, subject, 1, baseline());
    EXPECT_EQ(refusal([&] { queue->sign(r1, subject, 1, "not my password", "I confirm"); }), "LOGIN_FAILED");
    EXPECT_EQ(refusal([&] { queue->sign(r1, subject, 1, kPw, " "); }), "MEANING_REQUIRED");
    queue->sign(r1, subject, 1, kPw, "I am the author of this assessment");
    EXPECT_EQ(refusal([&] { queue->saveDraft(r1, subject, 1, "{}"); }), "LOCKED");
    const auto signedRow = queue->db().query("SELECT signed_by, signed_hash, signature_meaning FROM reads WHERE subject = ? AND slot = 1 AND ordinal = 1", {subject});
    EXPECT_EQ(signedRow[0][0], r1.user);
    EXPECT_EQ(signedRow[0][1], sha256Hex(baseline()));
    // week 8 opens for reader 1 only (reader 2 has not signed the baseline)
    w = queue->worklist(r1);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].ordinal, 2);
    w = queue->worklist(r2);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].ordinal, 1);
    // week 16 is not QC'd yet
    queue->saveDraft(r1, subject, 2, "{}");
    EXPECT_EQ(refusal([&] { queue->sign(r1, subject, 2, kPw, "I am the author of this assessment"); }), "INCOMPLETE");
    queue->saveDraft(r1, subject, 2, followup("30.0"));
    queue->sign(r1, subject, 2, kPw, "I am the author of this assessment");
    EXPECT_TRUE(queue->worklist(r1).empty() || queue->worklist(r1)[0].subject != subject);

    const auto b = queue->backlog(manager);
    EXPECT_EQ(b.timepoints.at("accepted"), 2);
    EXPECT_EQ(b.timepoints.at("registered"), 7);
    EXPECT_EQ(b.reads.at("signed"), 2);
    EXPECT_EQ(b.byReader.at(r1.user).at("signed"), 2);
    EXPECT_EQ(refusal([&] { queue->backlog(r1); }), "ROLE");
    EXPECT_GE(auditCount("refused.have a worklist"), 1u);
    EXPECT_GE(auditCount("refused.qc"), 2u);          // the reader's QC and the reason-less rejection
    EXPECT_GE(auditCount("refused.sign"), 3u);        // nothing to sign, no meaning, incomplete
    EXPECT_GE(auditCount("refused.save a draft"), 2u); // another reader's subject, a locked read
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}

TEST_P(ReadingQueue, ReopeningASignedReadNeedsAReasonAndAManager) {
    testutil::TempDir dir("queue-reopen");
    makeStore(dir.path(), 1, 3);
    queue->importStore(manager, dir.path());
    queue->loadSubjectDates(manager, subjectDates(dir.path(), 1));
    queue->assignReaders(manager);
    const std::string subject = "RELUTH-01-001";
    for (int t = 1; t <= 3; ++t) queue->qc(manager, subject, t, true, "");
    const Session r = queue->login(queue->db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = 1", {subject})[0][0], kPw);
    for (int t = 1; t <= 2; ++t) {
        queue->saveDraft(r, subject, t, t == 1 ? baseline() : followup("31.0"));
        queue->sign(r, subject, t, kPw, "I am the author of this assessment");
    }
    queue->saveDraft(r, subject, 3, "{}"); // week 16 in draft
    EXPECT_EQ(refusal([&] { queue->requestReopen(r, subject, 1, "mis-measured T02"); }), "LATER_SIGNED");
    EXPECT_EQ(refusal([&] { queue->requestReopen(r, subject, 2, ""); }), "REASON_REQUIRED");
    queue->requestReopen(r, subject, 2, "T02 measured on the wrong slice");
    EXPECT_EQ(refusal([&] { queue->decideReopen(r, subject, 1, 2, true, "ok"); }), "ROLE");
    EXPECT_EQ(refusal([&] { queue->decideReopen(manager, subject, 1, 2, true, ""); }), "REASON_REQUIRED");
    queue->decideReopen(manager, subject, 1, 2, true, "slice reference checked");
    auto state = [&](int t) {
        return queue->db().query("SELECT state FROM reads WHERE subject = ? AND slot = 1 AND ordinal = ?", {subject, std::to_string(t)})[0][0];
    };
    EXPECT_EQ(state(2), "draft");
    EXPECT_EQ(state(3), "waiting"); // week 16 waits for week 8 again
    queue->sign(r, subject, 2, kPw, "I am the author of this assessment");
    EXPECT_EQ(state(3), "open");
    EXPECT_EQ(auditCount("read.reopen_request"), 1u);
    EXPECT_EQ(auditCount("read.reopen_approve"), 1u);
    EXPECT_EQ(auditCount("read.withdraw"), 1u);
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadingQueue, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST(ReaderQueueTool, AManagerSetsUpATrialFromTheCommandLine) {
    testutil::TempDir dir("queue-cli");
    makeStore(dir.path() / "store", 4, 2);
    const std::string env = "RELUTH_QUEUE_PASSWORD='" + kPw + "' RELUTH_QUEUE_NEW_PASSWORD='" + kPw + "' ";
    const std::string q = env + std::string(RELUTH_BINARY_DIR) + "/bin/reader-queue --db sqlite:" + (dir.path() / "q.db").string();
    std::string out;
    ASSERT_EQ(rqtest::run(q + " init --admin admin", &out), 0) << out;
    ASSERT_EQ(rqtest::run(q + " --user admin users add mgr manager", &out), 0) << out;
    for (const char* r : {"r1", "r2"}) ASSERT_EQ(rqtest::run(q + " --user admin users add " + r + " reader", &out), 0) << out;
    EXPECT_EQ(rqtest::run(q + " --user r1 users add r3 reader", &out), 3) << out; // refused: not an administrator
    EXPECT_NE(out.find("refused (ROLE)"), std::string::npos) << out;
    ASSERT_EQ(rqtest::run(q + " --user mgr import " + (dir.path() / "store").string(), &out), 0) << out;
    EXPECT_NE(out.find("4 subject(s), 8 timepoint(s)"), std::string::npos) << out;
    ASSERT_EQ(rqtest::run(q + " --user mgr assign", &out), 0) << out;
    ASSERT_EQ(rqtest::run(q + " --user mgr qc RELUTH-01-001 1 accept", &out), 0) << out;
    EXPECT_EQ(rqtest::run(q + " --user mgr qc RELUTH-01-001 2 reject", &out), 3) << out; // no reason
    ASSERT_EQ(rqtest::run(q + " --user mgr qc RELUTH-01-001 2 reject --reason 'portal phase missing'", &out), 0) << out;
    ASSERT_EQ(rqtest::run(q + " --user mgr backlog --json", &out), 0) << out;
    const auto j = nlohmann::json::parse(out);
    EXPECT_EQ(j["timepoints"]["accepted"], 1);
    EXPECT_EQ(j["timepoints"]["rejected"], 1);
    EXPECT_EQ(j["reads"]["open"], 2);
    ASSERT_EQ(rqtest::run(q + " audit verify", &out), 0) << out;
}
