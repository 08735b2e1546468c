// The reading queue as its users drive it, through build/bin/reader-queue, on SQLite and on
// PostgreSQL:
//  * a scripted trial: phantom subjects de-identified by the anonymizer, two readers reading
//    every timepoint (scripted reads from the phantom's ground truth, two of them discordant),
//    one adjudicator, and the exported accepted RS equal to what the recist tool gives for the
//    chosen reads - and to the phantom's ground truth;
//  * concurrency: several processes signing the same reads and claiming the same adjudications
//    at once: nothing signed or given twice, no update lost;
//  * crash safety: kill -9 inside a signature and inside an import; afterwards the database is
//    consistent, the read is still a draft, and the work completes when run again.
#include "Backend.h"
#include "Fixtures.h"
#include "readerqueue/Queue.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

using namespace rqtest;
using rq::Database;
using rq::Queue;
using rq::Session;
using workflow::Role;

namespace {

const std::string kBin = std::string(RELUTH_BINARY_DIR) + "/bin/";

std::string quoted(const std::string& s) { return "'" + s + "'"; }

/// The exit status of a process killed by SIGKILL (directly, or under the shell).
bool killed(int rc) { return rc == -1 || rc == 128 + 9; }

/// build/bin/reader-queue on one database, every user with the test password.
struct Tool {
    std::string db;
    std::string cmd(const std::string& args, const std::string& env = {}) const {
        return "RELUTH_QUEUE_PASSWORD=" + quoted(kPw) + " RELUTH_QUEUE_NEW_PASSWORD=" + quoted(kPw) + " " + env + " " + kBin +
               "reader-queue --db " + quoted(db) + " " + args;
    }
    int operator()(const std::string& args, std::string* out = nullptr, const std::string& env = {}) const {
        return testutil::run(cmd(args, env), out);
    }
    nlohmann::json json(const std::string& args) const {
        std::string out;
        EXPECT_EQ((*this)(args, &out), 0) << args << ": " << out;
        return nlohmann::json::parse(out, nullptr, false);
    }
};

std::string slurp(const fs::path& f) {
    std::ifstream in(f);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// readstat's CSV of an .xpt, spelled as our CSV: its quotes removed, whole numbers without
/// decimals, the SAS dates of STARTDT and ADT (days since 1960-01-01) as ISO; sorted like sortedLines().
std::vector<std::string> xptAsCsv(const fs::path& f);

std::vector<std::string> sortedLines(const fs::path& f) {
    std::ifstream in(f);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::sort(lines.begin(), lines.end());
    return lines;
}

std::vector<std::string> xptAsCsv(const fs::path& f) {
    std::ifstream in(f);
    std::vector<std::string> lines;
    std::vector<bool> dateColumn;
    for (std::string l; std::getline(in, l);) {
        std::string out, field;
        bool quoted = false;
        std::size_t column = 0;
        const bool header = lines.empty();
        auto flush = [&] {
            if (header) dateColumn.push_back(field == "STARTDT" || field == "ADT");
            if (!header && column < dateColumn.size() && dateColumn[column] && !field.empty())
                field = recist::Date::fromCivil(1960, 1, 1).plusDays(static_cast<int>(std::lround(std::stod(field)))).iso();
            ++column;
            // a number readstat wrote with decimals: whole numbers as integers
            if (!field.empty() && field.find_first_not_of("0123456789.-") == std::string::npos && field.find('.') != std::string::npos) {
                const double v = std::stod(field);
                if (v == static_cast<long long>(v)) field = std::to_string(static_cast<long long>(v));
            }
            out += field;
            field.clear();
        };
        for (char c : l) {
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                flush();
                out += ',';
            } else {
                field += c;
            }
        }
        flush();
        lines.push_back(out);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

/// RSORRES of one per-subject RS row (VISITNUM empty) of one subject in an RS file.
std::string subjectResult(const fs::path& rs, const std::string& subject, const std::string& testcd) {
    for (const auto& l : sortedLines(rs)) {
        std::vector<std::string> f;
        std::stringstream ss(l);
        for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
        if (f.size() >= 6 && f[1] == subject && f[3].empty() && f[4] == testcd) return f[5];
    }
    return "(none)";
}

} // namespace

class Trial : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        backend = std::make_unique<Backend>(GetParam());
        if (!backend->available()) GTEST_SKIP() << "RELUTH_PG_URL_FILE not set: run under ctest for PostgreSQL";
        tool.db = backend->url();
    }
    std::unique_ptr<Backend> backend;
    Tool tool;
};

TEST_P(Trial, AScriptedTrialRunsEndToEndAndTheAcceptedResultsAreTheEngines) {
    testutil::TempDir dir("scripted-trial");
    const fs::path trial = dir.path() / "trial", store = dir.path() / "store", reads = dir.path() / "reads";
    std::string out;
    // the images: four phantom subjects (partial response, stable, progression by growth, an
    // equivocal new lesion confirmed later), de-identified into the store
    ASSERT_EQ(
        testutil::run(kBin + "phantom --out " + trial.string() + " --seed 5 --subjects 4 --timepoints 4 --slices 23 --thickness 10", &out),
        0)
        << out;
    ASSERT_EQ(testutil::run(kBin + "anonymize --in " + (trial / "incoming").string() + " --out " + store.string() + " --quarantine " +
                                (dir.path() / "quarantine").string() + " --enrolment " + (trial / "enrolment.csv").string() +
                                " --charter " + kCharter.string(),
                            &out),
              0)
        << out;
    ASSERT_EQ(testutil::run("/usr/bin/python3 " + std::string(RELUTH_SOURCE_DIR) + "/tests/reader-queue/scripted_reads.py " +
                                (trial / "ground-truth.json").string() + " " + reads.string(),
                            &out),
              0)
        << out;
    const auto expected = nlohmann::json::parse(slurp(reads / "expected.json"));
    // the sponsor's subject dates: pseudonym and randomization date only
    {
        std::ifstream enrol(trial / "enrolment.csv");
        std::ofstream subj(dir.path() / "SUBJ.csv");
        subj << "STUDYID,USUBJID,RANDDT\n";
        std::string line;
        std::getline(enrol, line); // original_patient_id,pseudonym,site,randomization_date
        while (std::getline(enrol, line)) {
            std::vector<std::string> f;
            std::stringstream ss(line);
            for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
            ASSERT_EQ(f.size(), 4u) << line;
            subj << "RELUTH," << f[1] << "," << f[3] << "\n";
        }
    }

    // set-up by the administrator and the trial manager
    ASSERT_EQ(tool("init --admin admin", &out), 0) << out;
    for (const auto& [user, role] : std::vector<std::pair<std::string, std::string>>{
             {"mgr", "manager"}, {"reader.a", "reader"}, {"reader.b", "reader"}, {"adj", "adjudicator"}})
        ASSERT_EQ(tool("--user admin users add " + user + " " + role, &out), 0) << out;
    ASSERT_EQ(tool("--user mgr import " + store.string(), &out), 0) << out;
    EXPECT_NE(out.find("registered 4 subject(s), 16 timepoint(s)"), std::string::npos) << out;
    ASSERT_EQ(tool("--user mgr subjects " + (dir.path() / "SUBJ.csv").string(), &out), 0) << out;
    ASSERT_EQ(tool("--user mgr assign", &out), 0) << out;
    for (const auto& [subject, e] : expected.items())
        for (int t = 1; t <= 4; ++t) ASSERT_EQ(tool("--user mgr qc " + subject + " " + std::to_string(t) + " accept", &out), 0) << out;

    // reading: each reader works through their worklist, timepoint by timepoint, in order;
    // reader.a reads what the ground truth says, reader.b disagrees where scripted
    const std::map<std::string, std::string> script = {{"reader.a", "truth"}, {"reader.b", "other"}};
    for (int round = 0; round < 4; ++round) {
        for (const auto& [user, which] : script) {
            const auto worklist = tool.json("--user " + user + " worklist --json");
            ASSERT_EQ(worklist.size(), 4u) << user << " round " << round << ": " << worklist.dump();
            for (const auto& item : worklist) {
                const std::string subject = item["subject"], t = std::to_string(item["timepoint"].get<int>());
                EXPECT_EQ(item["timepoint"].get<int>(), round + 1); // in order
                const fs::path payload = reads / subject / which / ("T" + t + ".json");
                ASSERT_EQ(tool("--user " + user + " draft " + subject + " " + t + " " + payload.string(), &out), 0) << out;
                ASSERT_EQ(
                    tool("--user " + user + " sign " + subject + " " + t + " --meaning " + quoted("I am the author of this assessment"),
                         &out),
                    0)
                    << subject << " T" << t << ": " << out;
            }
        }
    }
    // a reader sees only their own read: the other reader's is refused
    const auto own = tool.json("--user reader.a read " + expected.begin().key() + " --json");
    EXPECT_EQ(own["timepoints"].size(), 4u);
    EXPECT_EQ(own.dump().find("reader.b"), std::string::npos);
    // imaging follow-up ends after week 24 for everyone: the manager closes the subjects
    for (const auto& [subject, e] : expected.items())
        ASSERT_EQ(tool("--user mgr close " + subject + " --reason " + quoted("end of imaging follow-up (scripted trial)"), &out), 0) << out;

    // adjudication: exactly the scripted discordant subjects are waiting
    std::set<std::string> discordant, waiting;
    for (const auto& [subject, e] : expected.items())
        if (e["discordant"].get<bool>()) discordant.insert(subject);
    for (const auto& item : tool.json("--user adj adjudications --json")) waiting.insert(item["subject"].get<std::string>());
    EXPECT_EQ(waiting, discordant);
    ASSERT_EQ(discordant.size(), 2u);
    std::map<std::string, int> chosen;
    for (const std::string& subject : discordant) {
        ASSERT_EQ(tool("--user adj claim " + subject, &out), 0) << out;
        const auto c = tool.json("--user adj case " + subject + " --json");
        ASSERT_EQ(c["reads"].size(), 2u);
        EXPECT_EQ(c.dump().find("reader.a"), std::string::npos); // blinded: Reader 1 / Reader 2 only
        EXPECT_EQ(c.dump().find("reader.b"), std::string::npos);
        // the adjudicator chooses the read that matches the images (here: the ground truth)
        const auto& truth = expected[subject];
        for (int i = 0; i < 2; ++i) {
            const auto& r = c["reads"][static_cast<std::size_t>(i)]["result"];
            if (r["best_response"]["response"] == truth["best_overall_response"] && r["progression"]["date"] == truth["progression_date"])
                chosen[subject] = i + 1;
        }
        ASSERT_TRUE(chosen.count(subject)) << c.dump(1);
        ASSERT_EQ(tool("--user adj decide " + subject + " " + std::to_string(chosen[subject]) + " --rationale " +
                           quoted("the progression in the other read is not supported by the images") + " --meaning " +
                           quoted("I am the adjudicator"),
                       &out),
                  0)
            << out;
    }

    // the manager's reports and export
    const auto backlog = tool.json("--user mgr backlog --json");
    EXPECT_EQ(backlog["reads"]["signed"], 32);
    EXPECT_EQ(backlog["adjudications"]["decided"], 2);
    EXPECT_EQ(backlog["adjudications"]["not_needed"], 2);
    const auto turnaround = tool.json("--user mgr turnaround --json");
    ASSERT_EQ(turnaround.size(), 5u);
    EXPECT_EQ(turnaround[1]["count"], 32);
    EXPECT_EQ(turnaround[4]["count"], 2);
    int chosenTotal = 0;
    for (const auto& r : tool.json("--user mgr readers --json")) {
        EXPECT_EQ(r["subjects"], 4);
        EXPECT_EQ(r["signed_reads"], 16);
        EXPECT_EQ(r["adjudicated_subjects"], 2);
        EXPECT_DOUBLE_EQ(r["adjudication_rate"].get<double>(), 0.5);
        chosenTotal += r["chosen"].get<int>();
    }
    EXPECT_EQ(chosenTotal, 2);
    const fs::path exp = dir.path() / "export";
    ASSERT_EQ(tool("--user mgr export " + exp.string(), &out), 0) << out;
    ASSERT_EQ(testutil::run(kBin + "recist evaluate --tu " + (exp / "accepted/TU.csv").string() + " --tr " +
                                (exp / "accepted/TR.csv").string() + " --subjects " + (exp / "SUBJ.csv").string() + " --config " +
                                (exp / "config.json").string() + " --out " + (dir.path() / "engine-RS.csv").string(),
                            &out),
              0)
        << out;
    EXPECT_EQ(sortedLines(exp / "accepted/RS.csv"), sortedLines(dir.path() / "engine-RS.csv"));
    // and the accepted results are the phantom's truth
    for (const auto& [subject, e] : expected.items()) {
        EXPECT_EQ(subjectResult(exp / "accepted/RS.csv", subject, "BESTRESP"), e["best_overall_response"].get<std::string>()) << subject;
        EXPECT_EQ(subjectResult(exp / "accepted/RS.csv", subject, "PDDT"), e["progression_date"].get<std::string>()) << subject;
    }
    // the per-reader files carry both readers and the accepted flags
    const std::string rs = slurp(exp / "RS.csv"), tr = slurp(exp / "TR.csv");
    EXPECT_NE(rs.find(",RADIOLOGIST 1,"), std::string::npos);
    EXPECT_NE(rs.find(",RADIOLOGIST 2,"), std::string::npos);
    EXPECT_NE(rs.find(",ADJUDICATOR,"), std::string::npos);
    for (const auto& [subject, slot] : chosen) {
        const std::string mine = "," + subject + ",", flag = ",RADIOLOGIST " + std::to_string(slot) + ",Y,",
                          other = ",RADIOLOGIST " + std::to_string(3 - slot) + ",N,";
        bool accepted = false, rejected = false;
        for (const auto& l : sortedLines(exp / "TR.csv")) {
            if (l.find(mine) == std::string::npos) continue;
            accepted = accepted || l.find(flag) != std::string::npos;
            rejected = rejected || l.find(other) != std::string::npos;
        }
        EXPECT_TRUE(accepted && rejected) << subject << ": TRACPTFL of the chosen read";
    }
    EXPECT_NE(slurp(exp / "ADJ.csv").find("not supported by the images"), std::string::npos);
    // the statistician's datasets: the accepted rPFS of every subject is the one the phantom's
    // scripted course implies (ground-truth.json, derived by the phantom from its own plan)
    {
        const auto truth = nlohmann::json::parse(slurp(trial / "ground-truth.json"));
        const auto adtte = slurp(exp / "accepted/ADTTE.csv");
        int checked = 0;
        for (const auto& s : truth["subjects"]) {
            const auto& e = s["expected"]["rpfs"];
            const int cnsr = e["cnsr"].get<int>();
            const std::string desc = e["description"], adt = e["adt"];
            ASSERT_FALSE(adt.empty());
            const std::string row = "RELUTH," + s["pseudonym"].get<std::string>() + ",";
            const auto at = adtte.find(row);
            ASSERT_NE(at, std::string::npos) << s["pseudonym"] << " has no accepted ADTTE row:\n" << adtte;
            const std::string line = adtte.substr(at, adtte.find('\n', at) - at);
            EXPECT_NE(line.find(",RPFS," + s["randomization_date"].get<std::string>() + "," + adt + ","), std::string::npos) << line;
            EXPECT_NE(line.find("," + std::to_string(cnsr) + "," + (cnsr ? "," + desc : desc + ",")), std::string::npos) << line;
            ++checked;
        }
        EXPECT_EQ(checked, 4);
        // the same files from the engine's CLI on the exported SDTM (rebuilt outside the workstation)
        ASSERT_EQ(testutil::run(kBin + "recist evaluate --tu " + (exp / "accepted/TU.csv").string() + " --tr " +
                                    (exp / "accepted/TR.csv").string() + " --subjects " + (exp / "SUBJ.csv").string() + " --config " +
                                    (exp / "config.json").string() + " --out " + (dir.path() / "cli-RS.csv").string() + " --adtte " +
                                    (dir.path() / "cli-ADTTE.csv").string() + " --adrs " + (dir.path() / "cli-ADRS.csv").string(),
                                &out),
                  0)
            << out;
        EXPECT_EQ(sortedLines(exp / "accepted/ADTTE.csv"), sortedLines(dir.path() / "cli-ADTTE.csv"));
        EXPECT_EQ(sortedLines(exp / "accepted/ADRS.csv"), sortedLines(dir.path() / "cli-ADRS.csv"));
        // the SAS transport files read back by readstat (another tool) hold the CSV's values
        for (const std::string f : {"ADTTE", "ADRS", "accepted/ADTTE", "accepted/ADRS"}) {
            const fs::path back = dir.path() / (std::to_string(std::hash<std::string>{}(f)) + "-readback.csv");
            ASSERT_EQ(testutil::run("readstat " + (exp / (f + ".xpt")).string() + " " + back.string(), &out), 0) << f << ": " << out;
            EXPECT_EQ(xptAsCsv(back), sortedLines(exp / (f + ".csv"))) << f;
        }
        const auto define = nlohmann::json::parse(slurp(exp / "accepted/define.json"));
        EXPECT_EQ(define["censoring"]["rpfs_max_gap_days"], 126);
        EXPECT_EQ(define["datasets"][0]["variables"].size(), 10u);
    }
    // nothing in the export names the arm, a site or a reader
    for (const char* f : {"TU.csv", "TR.csv", "RS.csv", "ADJ.csv", "SUBJ.csv", "accepted/TU.csv", "accepted/TR.csv", "accepted/RS.csv"}) {
        const std::string text = slurp(exp / f);
        for (const char* word : {"LUTATHERA", "Lutathera", "SURVEILLANCE", "reader.a", "reader.b", "Nantes", "NANTES"})
            EXPECT_EQ(text.find(word), std::string::npos) << f << " contains " << word;
    }
    ASSERT_EQ(tool("audit verify", &out), 0) << out;
}

TEST_P(Trial, ConcurrentSignersAndClaimersNeitherDoubleNorLoseWork) {
    testutil::TempDir dir("concurrent");
    constexpr int kSubjects = 6, kFreeTasks = 12;
    {
        Queue q(Database::open(backend->url()), kCharter);
        q.addUser(nullptr, "admin", Role::Administrator, kPw);
        const Session admin = q.login("admin", kPw);
        for (const char* u : {"r1", "r2"}) q.addUser(&admin, u, Role::Reader, kPw);
        for (const char* u : {"adj1", "adj2", "adj3"}) q.addUser(&admin, u, Role::Adjudicator, kPw);
        q.addUser(&admin, "mgr", Role::Manager, kPw);
        const Session mgr = q.login("mgr", kPw);
        makeStore(dir.path() / "store", kSubjects, 1);
        q.importStore(mgr, dir.path() / "store");
        q.loadSubjectDates(mgr, subjectDates(dir.path(), kSubjects));
        q.assignReaders(mgr);
        for (int s = 1; s <= kSubjects; ++s) {
            q.qc(mgr, pseudonym(s), 1, true, "");
            for (const char* u : {"r1", "r2"}) q.saveDraft(q.login(u, kPw), pseudonym(s), 1, baseline());
        }
        // open adjudication tasks to claim (set-up written directly: what is tested is the claim)
        q.db().write([&] {
            for (int i = 0; i < kFreeTasks; ++i) {
                char s[32];
                std::snprintf(s, sizeof s, "CLAIM-%02d", i);
                q.db().exec("INSERT INTO subjects (pseudonym, registered_at) VALUES (?, ?)", {s, rq::utcNow()});
                q.db().exec("INSERT INTO adjudications (subject, round, state, through_ordinal, triggers, evaluated_at, opened_at) "
                            "VALUES (?, 1, 'open', 1, '[]', ?, ?)",
                            {s, rq::utcNow(), rq::utcNow()});
            }
        });
    }
    // two processes per reader sign the same reads; three adjudicators (two processes each)
    // claim until nothing is left - all at once
    std::string subjects;
    for (int s = 1; s <= kSubjects; ++s) subjects += pseudonym(s) + " ";
    std::string script;
    int k = 0;
    for (const char* u : {"r1", "r1", "r2", "r2"})
        script += "( for s in " + subjects + "; do " + tool.cmd(std::string("--user ") + u + " sign $s 1 --meaning 'I am the author'") +
                  "; done ) > " + (dir.path() / ("sign" + std::to_string(k++))).string() + " 2>&1 &\n";
    for (const char* u : {"adj1", "adj2", "adj3", "adj1", "adj2", "adj3"})
        script += "( while " + tool.cmd(std::string("--user ") + u + " claim") + "; do :; done ) > " +
                  (dir.path() / ("claim" + std::to_string(k++))).string() + " 2>&1 &\n";
    script += "wait\n";
    std::ofstream(dir.path() / "run.sh") << script;
    std::string out;
    ASSERT_EQ(testutil::run("sh " + (dir.path() / "run.sh").string(), &out), 0) << out;

    Queue q(Database::open(backend->url()));
    // every read signed exactly once; the racing signer was refused, not obeyed twice
    EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM reads WHERE state = 'signed'")[0][0], std::to_string(2 * kSubjects));
    std::map<std::string, int> signs, claims;
    for (const auto& e : q.db().readAudit()) {
        if (e.action == "read.sign") {
            ++signs[e.object];
        } else if (e.action == "adjudication.claim") {
            ++claims[e.object];
        }
    }
    EXPECT_EQ(signs.size(), static_cast<std::size_t>(2 * kSubjects));
    for (const auto& [object, n] : signs) EXPECT_EQ(n, 1) << object << " signed " << n << " times";
    // both readers level on the baseline: one evaluation per subject, none lost
    EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM adjudications WHERE subject LIKE 'RELUTH%' AND round = 1 AND through_ordinal = 1")[0][0],
              std::to_string(kSubjects));
    // every task claimed once, by one adjudicator
    EXPECT_EQ(claims.size(), static_cast<std::size_t>(kFreeTasks));
    for (const auto& [object, n] : claims) EXPECT_EQ(n, 1) << object << " claimed " << n << " times";
    EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM adjudications WHERE subject LIKE 'CLAIM%' AND adjudicator IS NOT NULL")[0][0],
              std::to_string(kFreeTasks));
    std::set<std::string> claimedLines;
    for (int i = 4; i < k; ++i) {
        std::ifstream in(dir.path() / ("claim" + std::to_string(i)));
        for (std::string l; std::getline(in, l);) {
            if (l.find(" claimed") == std::string::npos) continue;
            EXPECT_TRUE(claimedLines.insert(l).second) << "given twice: " << l;
        }
    }
    EXPECT_EQ(claimedLines.size(), static_cast<std::size_t>(kFreeTasks));
    EXPECT_TRUE(rq::verifyChain(q.db().readAudit(), q.db().auditHead()).empty());
}

TEST_P(Trial, AKilledSignatureLeavesADraftAndAKilledImportLeavesWholeSubjects) {
    testutil::TempDir dir("crash");
    {
        Queue q(Database::open(backend->url()), kCharter);
        q.addUser(nullptr, "admin", Role::Administrator, kPw);
        const Session admin = q.login("admin", kPw);
        q.addUser(&admin, "r1", Role::Reader, kPw);
        q.addUser(&admin, "r2", Role::Reader, kPw);
        q.addUser(&admin, "mgr", Role::Manager, kPw);
        const Session mgr = q.login("mgr", kPw);
        makeStore(dir.path() / "store", 1, 1);
        q.importStore(mgr, dir.path() / "store");
        q.loadSubjectDates(mgr, subjectDates(dir.path(), 1));
        q.assignReaders(mgr);
        q.qc(mgr, pseudonym(1), 1, true, "");
        q.saveDraft(q.login("r1", kPw), pseudonym(1), 1, baseline());
    }
    std::string out;
    const std::string sign = "--user r1 sign " + pseudonym(1) + " 1 --meaning 'I am the author'";
    // kill -9 after every statement of the signature ran, before its COMMIT
    EXPECT_TRUE(killed(tool(sign, &out, "RELUTH_QUEUE_CRASH_BEFORE_COMMIT=read.sign"))) << "the process was to be killed: " << out;
    {
        Queue q(Database::open(backend->url()));
        const auto row =
            q.db().query("SELECT state, COALESCE(signed_at, ''), result FROM reads WHERE subject = ? AND slot = 1", {pseudonym(1)});
        EXPECT_EQ(row[0][0], "draft");
        EXPECT_EQ(row[0][1], "");
        EXPECT_EQ(row[0][2], "");
        for (const auto& e : q.db().readAudit()) EXPECT_NE(e.action, "read.sign");
        if (q.db().dialect() == Database::Dialect::Sqlite) {
            EXPECT_EQ(q.db().query("PRAGMA integrity_check")[0][0], "ok");
        }
    }
    ASSERT_EQ(tool("audit verify", &out), 0) << out;
    ASSERT_EQ(tool(sign, &out), 0) << out; // and the signature goes through when made again
    ASSERT_EQ(tool("audit verify", &out), 0) << out;

    // an import killed inside its third subject, then killed again at random moments
    constexpr int kSubjects = 30, kTimepoints = 3;
    makeStore(dir.path() / "big", kSubjects, kTimepoints);
    auto consistent = [&](const std::string& when) {
        Queue q(Database::open(backend->url()));
        // every registered subject has all its timepoints and studies, or is not there at all
        for (const auto& r :
             q.db().query("SELECT s.pseudonym, COUNT(t.ordinal) FROM subjects s LEFT JOIN timepoints t ON t.subject = s.pseudonym "
                          "GROUP BY s.pseudonym")) {
            EXPECT_EQ(r[1], std::to_string(kTimepoints)) << when << ": " << r[0];
        }
        EXPECT_EQ(q.db().query("SELECT COUNT(*) FROM timepoint_studies")[0][0], q.db().query("SELECT COUNT(*) FROM timepoints")[0][0])
            << when;
        EXPECT_TRUE(rq::verifyChain(q.db().readAudit(), q.db().auditHead()).empty()) << when;
        return std::stoi(q.db().query("SELECT COUNT(*) FROM subjects")[0][0]);
    };
    const std::string import = "--user mgr import " + (dir.path() / "big").string();
    EXPECT_TRUE(killed(tool(import, &out, "RELUTH_QUEUE_CRASH_BEFORE_COMMIT=timepoint.register:3"))) << out;
    // the store's first subject is the one already registered: its new timepoints were the
    // first registering transaction, subject 2 the second, and subject 3 died before its commit
    EXPECT_EQ(consistent("killed in subject 3"), 2);
    std::mt19937 rng(7);
    for (int i = 0; i < 4; ++i) {
        const int ms = std::uniform_int_distribution<int>(100, 600)(rng);
        testutil::run("timeout -s KILL " + std::to_string(ms / 1000.0) + " env " + tool.cmd(import));
        consistent("killed after " + std::to_string(ms) + " ms");
    }
    ASSERT_EQ(tool(import, &out), 0) << out;
    EXPECT_EQ(consistent("after completing"), kSubjects);
    ASSERT_EQ(tool("audit verify", &out), 0) << out;
}

INSTANTIATE_TEST_SUITE_P(Backends, Trial, ::testing::Values("sqlite", "postgresql"), [](const auto& info) { return info.param; });
