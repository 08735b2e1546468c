// The reading queue on SQLite and on PostgreSQL: users and Argon2id logins with lockout,
// the role x operation checks (each refusal audited), import of a store, QC, balanced
// assignment, reading in order, drafts and signatures, the backlog, and an intact audit trail.
#include "Backend.h"
#include "Fixtures.h"
#include "readerqueue/Audit.h"
#include "readerqueue/Queue.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>

namespace fs = std::filesystem;
using namespace rq;
using rqtest::Backend;
using workflow::Role;

using namespace rqtest;

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
    // due the charter's read_turnaround_days after it was offered (today)
    {
        const std::string today = rq::utcNow().substr(0, 10);
        recist::Date d;
        ASSERT_TRUE(recist::Date::parse(today, d));
        EXPECT_EQ(w[0].dueDate, d.plusDays(queue->charter().reading.readTurnaroundDays).iso());
        EXPECT_GT(queue->charter().reading.readTurnaroundDays, 0);
    }
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
    const auto signedRow = queue->db().query(
        "SELECT signed_by, signed_hash, signature_meaning FROM reads WHERE subject = ? AND slot = 1 AND ordinal = 1", {subject});
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
    EXPECT_GE(auditCount("refused.qc"), 2u);           // the reader's QC and the reason-less rejection
    EXPECT_GE(auditCount("refused.sign"), 3u);         // nothing to sign, no meaning, incomplete
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
    const Session r =
        queue->login(queue->db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = 1", {subject})[0][0], kPw);
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
        return queue->db().query("SELECT state FROM reads WHERE subject = ? AND slot = 1 AND ordinal = ?",
                                 {subject, std::to_string(t)})[0][0];
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

TEST_P(ReadingQueue, PayloadsAreCheckedBeforeSigning) {
    testutil::TempDir dir("queue-payload");
    makeStore(dir.path(), 1, 2);
    queue->importStore(manager, dir.path());
    queue->assignReaders(manager);
    const std::string subject = "RELUTH-01-001";
    for (int t = 1; t <= 2; ++t) queue->qc(manager, subject, t, true, "");
    const Session r =
        queue->login(queue->db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = 1", {subject})[0][0], kPw);
    auto signRule = [&](int t, const std::string& payload) {
        queue->saveDraft(r, subject, t, payload);
        return refusal([&] { queue->sign(r, subject, t, kPw, "I am the author of this assessment"); });
    };
    // the engine needs the randomization date
    EXPECT_EQ(signRule(1, baseline()), "NO_RANDOMIZATION_DATE");
    queue->loadSubjectDates(manager, subjectDates(dir.path(), 1));
    EXPECT_EQ(signRule(1, "not json"), "BAD_PAYLOAD");
    EXPECT_EQ(signRule(1, R"({"lesions":[]})"), "INCOMPLETE");
    // RECIST 1.1 baseline rules come from the engine: measurability, at most 2 per organ
    EXPECT_EQ(signRule(1, baseline("8.0")), "TGT_NOT_MEASURABLE");
    EXPECT_EQ(signRule(1, R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"},{"id":"T02","role":"TARGET","location":"LIVER"},)"
                          R"({"id":"T03","role":"TARGET","location":"LIVER"}],"assessments":[{"id":"T01","result":"20"},)"
                          R"({"id":"T02","result":"20"},{"id":"T03","result":"20"}]})"),
              "TGT_MAX_PER_ORGAN");
    EXPECT_EQ(signRule(1, R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"}],"assessments":[]})"), "INCOMPLETE");
    EXPECT_EQ(signRule(1, baseline("twelve")), "BAD_VALUE");
    EXPECT_EQ(signRule(1, baseline()), "not refused");
    // a follow-up answers every lesion known so far
    EXPECT_EQ(signRule(2, R"({"assessments":[{"id":"T01","result":"20"}]})"), "INCOMPLETE");
    EXPECT_EQ(signRule(2, followup("20", "GONE")), "BAD_VALUE");
    EXPECT_EQ(signRule(2, R"({"lesions":[{"id":"T02","role":"TARGET","location":"LUNG"}],"assessments":[]})"), "BAD_PAYLOAD");
    EXPECT_EQ(signRule(2, followup("20", "PRESENT", R"(,{"id":"NEW09","result":"PRESENT"})")), "UNKNOWN_LESION");
    EXPECT_EQ(signRule(2, followup("20")), "not refused");
    // the engine's results are kept with the signed read, with their reasons
    const auto own = queue->ownRead(r, subject);
    ASSERT_EQ(own.timepoints.size(), 2u);
    const auto result = nlohmann::json::parse(own.timepoints[1].result);
    EXPECT_EQ(result["visits"][1]["overall"]["response"], "PR") << result.dump(1); // 32 -> 20 mm: -37.5 %
    EXPECT_EQ(result["visits"][1]["sum_mm"], "20.0");
    EXPECT_FALSE(result["visits"][1]["overall"]["reason"].get<std::string>().empty());
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}

TEST_P(ReadingQueue, AMalformedSubjectFileIsRefusedWholeNamingEveryBadRow) {
    testutil::TempDir dir("queue-subj");
    const fs::path f = dir.path() / "SUBJ.csv";
    std::ofstream(f) << "STUDYID,USUBJID,RANDDT,DTHDT\n"
                        "RELUTH,RELUTH-01-001,2024-01-03,\n"
                        "RELUTH,RELUTH-01-002,2024-02-30,\n" // no such day
                        "OTHER,RELUTH-01-003,2024-01-03,\n"  // another trial
                        "RELUTH,RELUTH-01-001,2024-01-04,\n" // twice
                        "RELUTH,RELUTH-01-004,2024-01-03,soon\n";
    try {
        queue->loadSubjectDates(manager, f);
        FAIL() << "loaded";
    } catch (const Refused& r) {
        EXPECT_EQ(r.rule, "BAD_CSV");
        const std::string m = r.what();
        for (const char* where : {"SUBJ.csv:3:", "SUBJ.csv:4:", "SUBJ.csv:5:", "SUBJ.csv:6:"})
            EXPECT_NE(m.find(where), std::string::npos) << m;
        EXPECT_NE(m.find("4 problems"), std::string::npos) << m;
    }
    // all or nothing: the good row was not loaded either
    EXPECT_TRUE(queue->db().query("SELECT pseudonym FROM subjects").empty());
    std::ofstream(f) << "USUBJID\nRELUTH-01-001\n";
    EXPECT_EQ(refusal([&] { queue->loadSubjectDates(manager, f); }), "BAD_CSV"); // no RANDDT column
    EXPECT_EQ(auditCount("refused.load subject dates"), 2u);
}

TEST_P(ReadingQueue, DiscordantReadsAreAdjudicatedAndTheAcceptedReadIsExported) {
    testutil::TempDir dir("queue-adjudication");
    makeStore(dir.path(), 2, 3);
    queue->importStore(manager, dir.path());
    queue->loadSubjectDates(manager, subjectDates(dir.path(), 2));
    queue->assignReaders(manager);
    queue->addUser(&admin, "adjudicator2", Role::Adjudicator, kPw);
    const Session adj1 = queue->login("adjudicator", kPw), adj2 = queue->login("adjudicator2", kPw);
    const std::string concordant = "RELUTH-01-001", discordant = "RELUTH-01-002";
    auto reader = [&](const std::string& subject, int slot) {
        return queue->login(
            queue->db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = ?", {subject, std::to_string(slot)})[0][0], kPw);
    };
    auto read = [&](const std::string& subject, int slot, const std::vector<std::string>& payloads) {
        const Session r = reader(subject, slot);
        for (std::size_t t = 0; t < payloads.size(); ++t) {
            queue->saveDraft(r, subject, static_cast<int>(t) + 1, payloads[t]);
            queue->sign(r, subject, static_cast<int>(t) + 1, kPw, "I am the author of this assessment");
        }
    };
    auto latest = [&](const std::string& subject) {
        const auto rows = queue->db().query(
            "SELECT state, through_ordinal, triggers FROM adjudications WHERE subject = ? ORDER BY round DESC LIMIT 1", {subject});
        return rows.empty() ? std::vector<std::string>{"none", "0", ""} : rows[0];
    };
    for (const auto& s : {concordant, discordant})
        for (int t = 1; t <= 3; ++t) queue->qc(manager, s, t, true, "");
    read(concordant, 1, {baseline("32.0"), followup("20.0"), followup("19.0")});
    read(concordant, 2, {baseline("33.0"), followup("21.0"), followup("20.0")});
    read(discordant, 1, {baseline("40.0"), followup("27.0"), followup("26.0")});
    EXPECT_EQ(latest(discordant)[0], "none"); // Reader 2 has not read yet
    read(discordant, 2, {baseline("40.0"), followup("27.0"), followupWithNewLesion("27.0")});
    // both reads are level at week 16, but the subject's reading goes on: per-subject triggers wait
    EXPECT_EQ(latest(discordant)[0], "not_needed");
    EXPECT_EQ(latest(discordant)[1], "3");
    EXPECT_TRUE(queue->adjudicationQueue(adj1).empty());
    // an interim "not needed" accepts nothing: the dashboard must not list these as accepted yet
    EXPECT_TRUE(queue->acceptedResults(manager).empty());
    // what the manager sees before closing: every read, by slot, with its state
    const auto reads = queue->subjectReads(manager, discordant);
    ASSERT_EQ(reads.size(), 6u);
    EXPECT_TRUE(std::all_of(reads.begin(), reads.end(), [](const auto& r) { return r.state == "signed" && (r.slot == 1 || r.slot == 2); }));
    EXPECT_EQ(refusal([&] { queue->subjectReads(reader(discordant, 1), discordant); }), "ROLE");
    EXPECT_EQ(refusal([&] { queue->closeSubject(manager, discordant, ""); }), "REASON_REQUIRED");
    queue->closeSubject(manager, concordant, "end of imaging follow-up");
    queue->closeSubject(manager, discordant, "end of imaging follow-up");
    EXPECT_EQ(latest(concordant)[0], "not_needed");
    const auto round = latest(discordant);
    ASSERT_EQ(round[0], "open");
    EXPECT_NE(round[2].find("progression_in_one_read_only"), std::string::npos) << round[2];
    EXPECT_NE(round[2].find("different_disease_control_at_landmark"), std::string::npos) << round[2];

    // one adjudicator takes it; the other can neither take nor see it
    ASSERT_EQ(queue->adjudicationQueue(adj1).size(), 1u);
    const auto claimed = queue->claimAdjudication(adj2);
    ASSERT_TRUE(claimed.has_value());
    EXPECT_EQ(claimed->subject, discordant);
    EXPECT_FALSE(queue->claimAdjudication(adj1).has_value());
    EXPECT_EQ(refusal([&] { queue->claimAdjudication(adj1, discordant); }), "NOT_AVAILABLE");
    EXPECT_EQ(refusal([&] { queue->adjudicationCase(adj1, discordant); }), "NOT_ASSIGNED");
    EXPECT_EQ(refusal([&] { queue->adjudicationCase(reader(discordant, 1), discordant); }), "ROLE");
    EXPECT_TRUE(queue->adjudicationQueue(adj1).empty());
    // the case shows Reader 1 / Reader 2, never who they are
    const auto c = queue->adjudicationCase(adj2, discordant);
    ASSERT_EQ(c.reads.size(), 2u);
    EXPECT_EQ(c.reads[0].label, "Reader 1");
    EXPECT_EQ(c.reads[1].label, "Reader 2");
    EXPECT_EQ(c.reads[1].timepoints.size(), 3u);
    for (const auto& r : c.reads) {
        for (int slot = 1; slot <= 2; ++slot) EXPECT_EQ(r.result.find(reader(discordant, slot).user), std::string::npos);
        for (const auto& t : r.timepoints)
            for (int slot = 1; slot <= 2; ++slot) EXPECT_EQ(t.payload.find(reader(discordant, slot).user), std::string::npos);
    }
    EXPECT_EQ(nlohmann::json::parse(c.reads[1].result)["progression"]["date"], "2024-05-10");
    EXPECT_EQ(refusal([&] { queue->decide(adj2, discordant, 2, " ", kPw, "I am the adjudicator"); }), "RATIONALE_REQUIRED");
    EXPECT_EQ(refusal([&] { queue->decide(adj2, discordant, 3, "why", kPw, "I am the adjudicator"); }), "CHOICE");
    EXPECT_EQ(refusal([&] { queue->decide(adj2, discordant, 2, "why", "wrong password", "I am the adjudicator"); }), "LOGIN_FAILED");
    EXPECT_EQ(refusal([&] { queue->decide(adj1, discordant, 1, "why", kPw, "I am the adjudicator"); }), "ROLE");
    queue->decide(adj2, discordant, 2, "NEW01 in segment 6 is unequivocal on the portal phase", kPw, "I am the adjudicator");
    EXPECT_EQ(latest(discordant)[0], "decided");
    // decided reads are final
    EXPECT_EQ(refusal([&] { queue->requestReopen(reader(discordant, 2), discordant, 3, "second thoughts"); }), "ADJUDICATED");

    // the dashboard's figures: both subjects accepted (one adjudicated: Reader 2's, with its progression), the backlog over time
    const auto acceptedReads = queue->acceptedResults(manager);
    ASSERT_EQ(acceptedReads.size(), 2u);
    EXPECT_EQ(acceptedReads[0].subject, concordant);
    EXPECT_FALSE(acceptedReads[0].adjudicated);
    EXPECT_EQ(acceptedReads[0].result.best, recist::Response::PR);
    EXPECT_EQ(acceptedReads[1].subject, discordant);
    EXPECT_TRUE(acceptedReads[1].adjudicated);
    ASSERT_TRUE(acceptedReads[1].result.progression.has_value()); // Reader 2's: the new lesion at week 16
    EXPECT_EQ(acceptedReads[1].result.progression->iso(), "2024-05-10");
    EXPECT_EQ(refusal([&] { queue->acceptedResults(reader(discordant, 1)); }), "ROLE");
    const auto history = queue->backlogHistory(manager);
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back().readsDue, 2 * 3 * 2); // 2 subjects x 3 timepoints x 2 readers
    EXPECT_EQ(history.back().readsSigned, 12);
    EXPECT_EQ(history.back().adjudicationsOpen, 0);
    EXPECT_TRUE(std::is_sorted(history.begin(), history.end(), [](const auto& a, const auto& b) { return a.at < b.at; }));
    EXPECT_TRUE(std::any_of(history.begin(), history.end(), [](const auto& p) { return p.adjudicationsOpen == 1; }));

    // export: the accepted RS is what the engine gives for the accepted reads
    const fs::path out = dir.path() / "export";
    EXPECT_EQ(queue->exportSdtm(manager, out), 2);
    std::string log;
    ASSERT_EQ(rqtest::run(std::string(RELUTH_BINARY_DIR) + "/bin/recist evaluate --tu " + (out / "accepted/TU.csv").string() + " --tr " +
                              (out / "accepted/TR.csv").string() + " --subjects " + (out / "SUBJ.csv").string() + " --config " +
                              (out / "config.json").string() + " --out " + (out / "engine-RS.csv").string(),
                          &log),
              0)
        << log;
    auto sortedLines = [](const fs::path& f) {
        std::ifstream in(f);
        std::vector<std::string> lines;
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        std::sort(lines.begin(), lines.end());
        return lines;
    };
    const auto accepted = sortedLines(out / "accepted/RS.csv");
    EXPECT_EQ(accepted, sortedLines(out / "engine-RS.csv"));
    auto has = [&](const std::vector<std::string>& lines, const std::string& text) {
        return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
    };
    EXPECT_TRUE(has(accepted, "RELUTH,RELUTH-01-002,ADJUDICATOR,,PDDT,2024-05-10"));
    EXPECT_TRUE(has(accepted, "RELUTH,RELUTH-01-001,RADIOLOGIST 1,,BESTRESP,PR"));
    const auto all = sortedLines(out / "RS.csv");
    EXPECT_TRUE(has(all, "RELUTH,RELUTH-01-002,RADIOLOGIST 1,,BESTRESP,PR,,N"));
    EXPECT_TRUE(has(all, "RELUTH,RELUTH-01-002,ADJUDICATOR,,PDDT,2024-05-10,,Y"));
    EXPECT_TRUE(has(all, "RELUTH,RELUTH-01-001,RADIOLOGIST 1,,BESTRESP,PR,,Y"));
    EXPECT_TRUE(has(sortedLines(out / "TR.csv"), "RELUTH,TR,RELUTH-01-002,")); // both readers' rows
    EXPECT_TRUE(has(sortedLines(out / "ADJ.csv"), "NEW01 in segment 6 is unequivocal"));

    // reports: the chosen reader, the adjudication rate, turnaround stages
    const std::string chosen = reader(discordant, 2).user;
    for (const auto& r : queue->readers(manager)) {
        if (r.reader == chosen) {
            EXPECT_EQ(r.chosen, 1);
        } else if (r.reader == reader(discordant, 1).user) {
            EXPECT_EQ(r.chosen, 0);
        }
    }
    const auto stages = queue->turnaround(manager);
    ASSERT_EQ(stages.size(), 5u);
    EXPECT_EQ(stages[0].count, 6);  // six timepoints QC'd
    EXPECT_EQ(stages[1].count, 12); // twelve reads signed
    EXPECT_EQ(stages[2].count, 6);  // both reads signed on all six timepoints (was 0: SQLite compared 2 with '2')
    EXPECT_EQ(stages[3].count, 6);
    EXPECT_EQ(stages[4].count, 1); // one adjudication decided
    EXPECT_EQ(queue->backlog(manager).adjudications.at("decided"), 1);
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}

TEST_P(ReadingQueue, AReadCorrectedBeforeAdjudicationWithdrawsTheTask) {
    testutil::TempDir dir("queue-correction");
    makeStore(dir.path(), 1, 3);
    queue->importStore(manager, dir.path());
    queue->loadSubjectDates(manager, subjectDates(dir.path(), 1));
    queue->assignReaders(manager);
    const std::string subject = pseudonym(1);
    for (int t = 1; t <= 3; ++t) queue->qc(manager, subject, t, true, "");
    auto reader = [&](int slot) {
        return queue->login(
            queue->db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = ?", {subject, std::to_string(slot)})[0][0], kPw);
    };
    const std::vector<std::vector<std::string>> reads = {{baseline("40.0"), followup("27.0"), followup("26.0")},
                                                         {baseline("40.0"), followup("27.0"), followupWithNewLesion("27.0")}};
    for (int slot = 1; slot <= 2; ++slot)
        for (int t = 1; t <= 3; ++t) {
            queue->saveDraft(reader(slot), subject, t, reads[static_cast<std::size_t>(slot - 1)][static_cast<std::size_t>(t - 1)]);
            queue->sign(reader(slot), subject, t, kPw, "I am the author of this assessment");
        }
    queue->closeSubject(manager, subject, "end of imaging follow-up");
    auto round = [&] {
        return queue->db().query("SELECT state, COALESCE(adjudicator, '') FROM adjudications WHERE subject = ? ORDER BY round DESC LIMIT 1",
                                 {subject})[0];
    };
    ASSERT_EQ(round()[0], "open");
    const Session adj = queue->login("adjudicator", kPw);
    ASSERT_TRUE(queue->claimAdjudication(adj).has_value());
    // Reader 2 finds the "new lesion" was a vessel: asks to reopen week 16, the manager agrees
    queue->requestReopen(reader(2), subject, 3, "NEW01 is a vessel on the arterial phase");
    queue->decideReopen(manager, subject, 2, 3, true, "checked with the reader");
    EXPECT_EQ(round()[0], "awaiting_reads");
    EXPECT_EQ(round()[1], ""); // the task left the adjudicator
    EXPECT_EQ(refusal([&] { queue->decide(adj, subject, 1, "too late", kPw, "I am the adjudicator"); }), "ROLE"); // no longer theirs
    // the corrected week 16: the lesion identified there is simply not in the new draft
    queue->saveDraft(reader(2), subject, 3, followup("26.5"));
    queue->sign(reader(2), subject, 3, kPw, "I am the author of this assessment");
    EXPECT_EQ(round()[0], "not_needed"); // concordant now: no adjudication
    EXPECT_TRUE(queue->adjudicationQueue(adj).empty());
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}

TEST_P(ReadingQueue, EveryOperationChecksTheCallersRoleAndAuditsRefusals) {
    testutil::TempDir dir("queue-roles");
    makeStore(dir.path(), 1, 2);
    queue->importStore(manager, dir.path());
    queue->assignReaders(manager);
    const std::string subject = "RELUTH-01-001";
    const Session assigned =
        queue->login(queue->db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = 1", {subject})[0][0], kPw);
    const Session outsider = queue->login(
        queue->db().query("SELECT name FROM users WHERE role = 'reader' AND name NOT IN (SELECT reader FROM assignments WHERE subject = ?)",
                          {subject})[0][0],
        kPw);
    const Session adjudicator = queue->login("adjudicator", kPw);
    const fs::path dates = subjectDates(dir.path(), 1);
    struct Op {
        const char* name;
        std::vector<std::string> allowed; // user names of the sessions allowed
        std::function<void(const Session&)> call;
    };
    const std::string a = admin.user, m = manager.user, r = assigned.user, j = adjudicator.user;
    const std::vector<Op> ops = {
        {"add users", {a}, [&](const Session& s) { queue->addUser(&s, "newuser", Role::Reader, kPw); }},
        {"import timepoints", {m}, [&](const Session& s) { queue->importStore(s, dir.path()); }},
        {"qc", {m}, [&](const Session& s) { queue->qc(s, subject, 1, true, ""); }},
        {"load subject dates", {m}, [&](const Session& s) { queue->loadSubjectDates(s, dates); }},
        {"assign readers", {m}, [&](const Session& s) { queue->assignReaders(s); }},
        {"close a subject's reading", {m}, [&](const Session& s) { queue->closeSubject(s, subject, "end"); }},
        {"approve a reopen", {m}, [&](const Session& s) { queue->decideReopen(s, subject, 1, 1, true, "ok"); }},
        {"see the backlog", {m}, [&](const Session& s) { queue->backlog(s); }},
        {"see turnaround times", {m}, [&](const Session& s) { queue->turnaround(s); }},
        {"see reader statistics", {m}, [&](const Session& s) { queue->readers(s); }},
        {"export results", {m}, [&](const Session& s) { queue->exportSdtm(s, dir.path() / "x"); }},
        {"have a worklist", {r, outsider.user}, [&](const Session& s) { queue->worklist(s); }},
        {"save a draft", {r}, [&](const Session& s) { queue->saveDraft(s, subject, 1, baseline()); }},
        {"sign", {r}, [&](const Session& s) { queue->sign(s, subject, 1, kPw, "I am the author"); }},
        {"request a reopen", {r}, [&](const Session& s) { queue->requestReopen(s, subject, 1, "why"); }},
        {"open a read", {r}, [&](const Session& s) { queue->ownRead(s, subject); }},
        {"see the adjudication queue", {j}, [&](const Session& s) { queue->adjudicationQueue(s); }},
        {"claim an adjudication", {j}, [&](const Session& s) { queue->claimAdjudication(s); }},
        {"see an adjudication", {j}, [&](const Session& s) { queue->adjudicationCase(s, subject); }},
        {"decide an adjudication", {j}, [&](const Session& s) { queue->decide(s, subject, 1, "why", kPw, "I decide"); }},
    };
    const std::vector<Session> sessions = {admin, manager, assigned, outsider, adjudicator};
    int refused = 0;
    for (const Op& op : ops) {
        for (const Session& s : sessions) {
            if (std::find(op.allowed.begin(), op.allowed.end(), s.user) != op.allowed.end()) continue;
            const std::size_t before = queue->db().readAudit().size();
            EXPECT_EQ(refusal([&] { op.call(s); }), "ROLE") << s.user << " may not " << op.name;
            const auto entries = queue->db().readAudit();
            ASSERT_GT(entries.size(), before) << op.name;
            EXPECT_EQ(entries.back().action.rfind("refused.", 0), 0u) << op.name << " by " << s.user << ": " << entries.back().action;
            EXPECT_EQ(entries.back().user, s.user);
            ++refused;
        }
    }
    EXPECT_GE(refused, 70);
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadingQueue, ::testing::Values("sqlite", "postgresql"), [](const auto& info) { return info.param; });

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

TEST_P(ReadingQueue, ReaderStatisticsCountHowTheirSignedCalipersWereMade) {
    testutil::TempDir dir("queue-origins");
    makeStore(dir.path(), 1, 1);
    queue->importStore(manager, dir.path());
    queue->loadSubjectDates(manager, subjectDates(dir.path(), 1));
    queue->assignReaders(manager);
    const std::string subject = "RELUTH-01-001";
    queue->qc(manager, subject, 1, true, "");
    const std::string name = queue->db().query("SELECT reader FROM assignments WHERE subject = ? AND slot = 1", {subject})[0][0];
    const Session r = queue->login(name, kPw);
    // three targets: T01 from a one-click proposal accepted unchanged, T02 from one the
    // reader edited, T03 drawn by hand
    auto caliper = [](int id, const std::string& lesion, double mm, const std::string& origin) {
        return R"({"id":)" + std::to_string(id) + R"(,"lesion":")" + lesion +
               R"(","kind":"LONG_AXIS","series_uid":"1.2","sop_instance_uid":"1.2.3","slice":4,"a":[0,0,0],"b":[)" + std::to_string(mm) +
               ",0,0]" + (origin.empty() ? std::string() : R"(,"origin":")" + origin + "\"") + "}";
    };
    const std::string payload =
        R"({"lesions":[{"id":"T01","role":"TARGET","location":"LIVER"},{"id":"T02","role":"TARGET","location":"LIVER"},)"
        R"({"id":"T03","role":"TARGET","location":"LUNG"},{"id":"NT01","role":"NON-TARGET","location":"LUNG"}],)"
        R"("assessments":[{"id":"T01","result":"32.0","measurement":1},{"id":"T02","result":"21.0","measurement":2},)"
        R"({"id":"T03","result":"15.0","measurement":3},{"id":"NT01","result":"PRESENT"}],"measurements":[)" +
        caliper(1, "T01", 32, "PROPOSED") + "," + caliper(2, "T02", 21, "PROPOSED_EDITED") + "," + caliper(3, "T03", 15, "") + "]}";
    queue->saveDraft(r, subject, 1, payload);
    queue->sign(r, subject, 1, kPw, "I am the author of this assessment");
    bool found = false;
    for (const auto& s : queue->readers(manager)) {
        if (s.reader != name) continue;
        found = true;
        EXPECT_EQ(s.proposalsAccepted, 1);
        EXPECT_EQ(s.proposalsEdited, 1);
        EXPECT_EQ(s.manualCalipers, 1);
    }
    EXPECT_TRUE(found) << name;
}

TEST_P(ReadingQueue, ImageTokensOpenOnlyWhatTheQueueShowsAndFollowTheReadingLive) {
    testutil::TempDir dir("queue-tokens");
    makeStore(dir.path(), 3, 3);
    queue->importStore(manager, dir.path());
    queue->loadSubjectDates(manager, subjectDates(dir.path(), 3));
    queue->assignReaders(manager);
    const std::string subject = "RELUTH-01-001";
    for (int t = 1; t <= 3; ++t) queue->qc(manager, subject, t, true, "");
    const auto readers = queue->db().query("SELECT reader FROM assignments WHERE subject = ? ORDER BY slot", {subject});
    const Session r1 = queue->login(readers[0][0], kPw);
    const std::string other = queue->db().query(
        "SELECT name FROM users WHERE role = 'reader' AND name NOT IN (SELECT reader FROM assignments WHERE subject = ?)", {subject})[0][0];
    const Session outsider = queue->login(other, kPw);
    const auto all = queue->visibleTimepoints(manager, subject);
    ASSERT_EQ(all.size(), 3u);
    const std::string t1 = all[0].folders.at(0), t2 = all[1].folders.at(0);

    // issued only for a folder the queue shows the caller; each issue and refusal audited
    const std::string token = queue->issueImageToken(r1, t1);
    ASSERT_EQ(token.size(), 64u);
    EXPECT_EQ(refusal([&] { queue->issueImageToken(r1, t2); }), "NOT_VISIBLE") << "week 8 before the baseline is signed";
    EXPECT_EQ(refusal([&] { queue->issueImageToken(outsider, t1); }), "ROLE") << "another reader's subject";
    EXPECT_EQ(refusal([&] { queue->issueImageToken(r1, "RELUTH-01-001/../RELUTH-01-002"); }), "NOT_VISIBLE");
    EXPECT_EQ(auditCount("images.token"), 1u);
    EXPECT_GE(auditCount("refused.fetch images"), 2u);
    // the database keeps its hash only
    for (const auto& row : queue->db().query("SELECT token_hash, user_name, folder FROM image_tokens"))
        for (const auto& v : row) EXPECT_EQ(v.find(token), std::string::npos);
    const auto grant = queue->checkImageToken(token);
    EXPECT_EQ(grant.who.user, r1.user);
    EXPECT_EQ(grant.who.role, Role::Reader);
    EXPECT_EQ(grant.folder, t1);
    EXPECT_EQ(refusal([&] { queue->checkImageToken(std::string(64, '0')); }), "TOKEN");
    EXPECT_EQ(refusal([&] { queue->checkImageToken(""); }), "TOKEN");
    EXPECT_EQ(refusal([&] { queue->checkImageToken(token + "0"); }), "TOKEN");

    // the baseline signed: week 8 opens; reopened by a manager, week 8 waits again and its token
    // stops working at once (the gate asks the queue on every request)
    queue->saveDraft(r1, subject, 1, baseline());
    queue->sign(r1, subject, 1, kPw, "I am the author of this assessment");
    const std::string token2 = queue->issueImageToken(r1, t2);
    EXPECT_EQ(queue->checkImageToken(token2).folder, t2);
    queue->requestReopen(r1, subject, 1, "a lesion was missed");
    const std::string slot = queue->db().query("SELECT slot FROM assignments WHERE subject = ? AND reader = ?", {subject, r1.user})[0][0];
    queue->decideReopen(manager, subject, std::stoi(slot), 1, true, "agreed");
    EXPECT_EQ(refusal([&] { queue->checkImageToken(token2); }), "TOKEN");
    EXPECT_EQ(queue->checkImageToken(token).folder, t1) << "the baseline stays open";

    // sign-out revokes; an expired token is refused
    EXPECT_EQ(queue->revokeImageTokens(r1), 2);
    EXPECT_EQ(queue->revokeImageTokens(r1), 0);
    try {
        queue->checkImageToken(token);
        ADD_FAILURE() << "a revoked token passed";
    } catch (const Refused& e) {
        EXPECT_NE(std::string(e.what()).find("revoked"), std::string::npos) << e.what();
    }
    const std::string token3 = queue->issueImageToken(r1, t1);
    queue->db().exec("UPDATE image_tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE revoked_at IS NULL");
    try {
        queue->checkImageToken(token3);
        ADD_FAILURE() << "an expired token passed";
    } catch (const Refused& e) {
        EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(verifyChain(queue->db().readAudit(), queue->db().auditHead()).empty());
}
