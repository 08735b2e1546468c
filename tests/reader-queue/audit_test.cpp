// The audit trail on SQLite and on a real PostgreSQL server (started by postgres.sh as a
// ctest fixture): migrations, append-only triggers, hash chain verification catching edited,
// deleted, reordered and truncated entries, rollback, and concurrent appenders.
#include "Backend.h"
#include "readerqueue/Anchor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;
using namespace rq;
using rqtest::Backend;
using rqtest::run;

namespace {

AuditEntry entry(int i) {
    AuditEntry e;
    e.user = "manager1";
    e.action = "timepoint.qc_accept";
    e.object = "timepoint:RELUTH-01-00" + std::to_string(i % 7) + "/V" + std::to_string(1 + i % 4);
    e.oldValue = "registered";
    e.newValue = "accepted";
    e.reason = i % 3 ? "" : "checked: 2 series, arterial + portal";
    return e;
}

const std::string kCli = std::string(RELUTH_BINARY_DIR) + "/bin/reader-queue";

} // namespace

class AuditTrail : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        backend = std::make_unique<Backend>(GetParam());
        if (!backend->available()) GTEST_SKIP() << "RELUTH_PG_URL_FILE not set: run under ctest for PostgreSQL";
        db = Database::open(backend->url());
        const int applied = db->migrate();
        ASSERT_GE(applied, 2); // 001_audit, 002_workflow, ...
        EXPECT_EQ(db->schemaVersion(), applied);
        ASSERT_EQ(db->migrate(), 0); // idempotent
        for (int i = 0; i < 20; ++i) db->write([&] { db->appendAudit(entry(i)); });
    }
    /// What an attacker with database access does: drop the append-only guard first.
    void dropGuards() {
        if (GetParam() == "sqlite") {
            db->exec("DROP TRIGGER audit_no_update");
            db->exec("DROP TRIGGER audit_no_delete");
        } else {
            db->exec("DROP TRIGGER audit_no_change ON audit");
        }
    }
    std::vector<AuditProblem> verify() { return verifyChain(db->readAudit(), db->auditHead()); }

    std::unique_ptr<Backend> backend;
    std::unique_ptr<Database> db;
};

TEST_P(AuditTrail, AnIntactTrailVerifies) {
    const auto entries = db->readAudit();
    ASSERT_EQ(entries.size(), 20u);
    for (std::size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(entries[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(entries[0].prevHash, "");
    EXPECT_EQ(entries[5].prevHash, entries[4].hash);
    EXPECT_TRUE(verify().empty());
    std::string out;
    EXPECT_EQ(run(kCli + " audit verify --db " + backend->url(), &out), 0) << out;
    EXPECT_NE(out.find("intact: 20 entries"), std::string::npos) << out;
}

TEST_P(AuditTrail, TheDatabaseRefusesEditsAndDeletions) {
    EXPECT_THROW(db->exec("UPDATE audit SET reason = 'nothing happened' WHERE seq = 3"), DbError);
    EXPECT_THROW(db->exec("DELETE FROM audit WHERE seq = 3"), DbError);
    EXPECT_TRUE(verify().empty());
}

TEST_P(AuditTrail, AnEditedEntryIsCaught) {
    dropGuards();
    db->exec("UPDATE audit SET new_value = 'rejected' WHERE seq = 5");
    const auto problems = verify();
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].seq, 5);
    EXPECT_EQ(problems[0].kind, "edited");
    std::string out;
    EXPECT_EQ(run(kCli + " audit verify --db " + backend->url(), &out), 1) << out;
    EXPECT_NE(out.find("edited at entry 5"), std::string::npos) << out;
}

TEST_P(AuditTrail, ADeletedEntryIsCaught) {
    dropGuards();
    db->exec("DELETE FROM audit WHERE seq = 8");
    const auto problems = verify();
    ASSERT_FALSE(problems.empty());
    EXPECT_EQ(problems[0].seq, 9);
    EXPECT_EQ(problems[0].kind, "missing");
}

TEST_P(AuditTrail, ReorderedEntriesAreCaught) {
    dropGuards();
    // swap entries 3 and 4 (numbers and all), as if someone rewrote the order of events
    db->exec("UPDATE audit SET seq = 1003 WHERE seq = 3");
    db->exec("UPDATE audit SET seq = 3 WHERE seq = 4");
    db->exec("UPDATE audit SET seq = 4 WHERE seq = 1003");
    const auto problems = verify();
    ASSERT_FALSE(problems.empty());
    EXPECT_EQ(problems[0].seq, 3);
}

TEST_P(AuditTrail, EntriesDeletedAtTheEndAreCaught) {
    dropGuards();
    db->exec("DELETE FROM audit WHERE seq > 17");
    const auto problems = verify();
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].kind, "head");
}

TEST_P(AuditTrail, AFailedChangeLeavesNoEntry) {
    EXPECT_THROW(db->write([&] {
        db->appendAudit(entry(99));
        throw std::runtime_error("the sign failed half way");
    }),
                 std::runtime_error);
    EXPECT_EQ(db->readAudit().size(), 20u);
    EXPECT_EQ(db->auditHead().seq, 20);
    EXPECT_TRUE(verify().empty());
}

TEST_P(AuditTrail, ConcurrentAppendersNeitherCollideNorLoseEntries) {
    constexpr int kThreads = 4, kEach = 25;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto mine = Database::open(backend->url()); // one connection per client
                for (int i = 0; i < kEach; ++i) mine->write([&] { mine->appendAudit(entry(t * 100 + i)); });
            } catch (const std::exception& e) {
                ++failures;
                ADD_FAILURE() << e.what();
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(db->readAudit().size(), 20u + kThreads * kEach);
    EXPECT_TRUE(verify().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTrail, ::testing::Values("sqlite", "postgresql"), [](const auto& info) { return info.param; });

TEST(Migrations, ScriptsSplitIntoStatements) {
    auto db = rq::Database::open("sqlite::memory:");
    EXPECT_GE(db->migrate(), 2);
    EXPECT_EQ(db->query("SELECT COUNT(*) FROM audit_head")[0][0], "1");
}

// ---------------------------------------------------------------------------------------------
// Anchoring (readerqueue/Anchor.h): what the chain alone cannot show. The attacker below can
// write the database (drops the triggers, edits any row) but does not hold the service
// account's 0600 key file and cannot write its checkpoint log.

class AnchoredAuditTrail : public AuditTrail {
protected:
    void SetUp() override {
        AuditTrail::SetUp();
        if (IsSkipped()) return;
        keyFile = dir.path() / "audit.key";
        logFile = dir.path() / "audit-checkpoints.log";
        std::string out;
        ASSERT_EQ(run(kCli + " audit keygen --audit-key " + keyFile.string(), &out), 0) << out;
        ASSERT_EQ(
            run(kCli + " audit checkpoint --db " + backend->url() + " --audit-key " + keyFile.string() + " --audit-log " + logFile.string(),
                &out),
            0)
            << out;
        ASSERT_NE(out.find("checkpoint: entry 20 "), std::string::npos) << out;
    }
    AnchorReport anchors() {
        return verifyAnchors(db->readAudit(), readCheckpointTable(*db), readCheckpointLog(logFile),
                             loadAnchorPublic(keyFile.string() + ".pub"), logFile.string());
    }
    /// `audit verify` with the public key and the log: its exit status and output.
    int cliVerify(std::string& out) {
        return run(kCli + " audit verify --db " + backend->url() + " --audit-pub " + keyFile.string() + ".pub --audit-log " +
                       logFile.string(),
                   &out);
    }
    static bool has(const AnchorReport& r, const std::string& kind) {
        return std::any_of(r.problems.begin(), r.problems.end(), [&](const AuditProblem& p) { return p.kind == kind; });
    }
    testutil::TempDir dir{"audit-anchor"};
    fs::path keyFile, logFile;
};

TEST_P(AnchoredAuditTrail, ASignedTrailVerifiesAndNewerEntriesWaitForTheNextCheckpoint) {
    struct stat st {};
    ASSERT_EQ(::stat(keyFile.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "the secret key must be created 0600";
    std::string out;
    EXPECT_EQ(cliVerify(out), 0) << out;
    EXPECT_NE(out.find("intact: 20 entries"), std::string::npos) << out;
    EXPECT_NE(out.find("anchored by 1 signed checkpoint(s) up to entry 20"), std::string::npos) << out;
    for (int i = 20; i < 23; ++i) db->write([&] { db->appendAudit(entry(i)); });
    const AnchorReport r = anchors();
    EXPECT_TRUE(r.problems.empty()) << r.problems.front().detail;
    EXPECT_EQ(r.anchoredTo, 20);
    EXPECT_EQ(r.newest, 23);
    EXPECT_EQ(cliVerify(out), 0) << out;
    EXPECT_NE(out.find("entries 21..23 are not anchored yet"), std::string::npos) << out;
    // a second checkpoint anchors them; checkpointing an unchanged head writes nothing new
    const Checkpoint c = checkpointAudit(*db, loadAnchorSecret(keyFile), logFile);
    EXPECT_EQ(c.seq, 23);
    EXPECT_EQ(checkpointAudit(*db, loadAnchorSecret(keyFile), logFile).signature, c.signature);
    EXPECT_EQ(readCheckpointLog(logFile)->size(), 2u);
    EXPECT_EQ(anchors().anchoredTo, 23);
    // without the key's files, verify says the trail is not anchored (and still checks the chain)
    EXPECT_EQ(run(kCli + " audit verify --db " + backend->url(), &out), 1) << out;
    EXPECT_NE(out.find("signed checkpoint(s): give --audit-pub"), std::string::npos) << out;
}

TEST_P(AnchoredAuditTrail, ASecretKeyOthersCanReadIsRefusedAndAKeyIsNeverOverwritten) {
    ASSERT_EQ(::chmod(keyFile.c_str(), 0644), 0);
    EXPECT_THROW(loadAnchorSecret(keyFile), AnchorError);
    std::string out;
    EXPECT_NE(
        run(kCli + " audit checkpoint --db " + backend->url() + " --audit-key " + keyFile.string() + " --audit-log " + logFile.string(),
            &out),
        0);
    EXPECT_NE(out.find("may be read by others (mode 644)"), std::string::npos) << out;
    ASSERT_EQ(::chmod(keyFile.c_str(), 0600), 0);
    EXPECT_NE(run(kCli + " audit keygen --audit-key " + keyFile.string(), &out), 0);
    EXPECT_NE(out.find("never overwritten"), std::string::npos) << out;
}

TEST_P(AnchoredAuditTrail, CuttingTheTailAndRewritingTheHeadIsCaught) {
    dropGuards();
    const auto before = db->readAudit();
    db->exec("DELETE FROM audit WHERE seq > 17");
    db->exec("UPDATE audit_head SET seq = 17, hash = ? WHERE id = 1", {before[16].hash});
    db->exec("DELETE FROM audit_checkpoint"); // and the database's own copy of the checkpoints
    EXPECT_TRUE(verify().empty()) << "the chain alone cannot see this - which is why it is anchored";
    const AnchorReport r = anchors();
    ASSERT_TRUE(has(r, "cut"));
    EXPECT_TRUE(has(r, "table"));
    std::string out;
    EXPECT_EQ(cliVerify(out), 1) << out;
    EXPECT_NE(out.find("cut at entry 20: entry 20 was signed at"), std::string::npos) << out;
    EXPECT_NE(out.find("the trail ends at entry 17: entries were cut from its end"), std::string::npos) << out;
}

TEST_P(AnchoredAuditTrail, AChainRebuiltWithPlainSha256IsCaughtAndSoIsACheckpointSignedWithAnotherKey) {
    dropGuards();
    // the attacker edits entry 5 and recomputes every hash after it with the published formula
    auto entries = db->readAudit();
    entries[4].newValue = "rejected";
    std::string prev = entries[3].hash;
    for (std::size_t i = 4; i < entries.size(); ++i) {
        entries[i].prevHash = prev;
        entries[i].hash = chainHash(entries[i]);
        prev = entries[i].hash;
        db->exec("UPDATE audit SET new_value = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                 {entries[i].newValue, entries[i].prevHash, entries[i].hash, std::to_string(entries[i].seq)});
    }
    db->exec("UPDATE audit_head SET hash = ? WHERE id = 1", {prev});
    EXPECT_TRUE(verify().empty()) << "a rebuilt chain is a valid chain";
    AnchorReport r = anchors();
    ASSERT_TRUE(has(r, "rewritten"));
    EXPECT_EQ(r.anchoredTo, 0);
    // ... and re-signs the head with a key of their own, in the table and in a log of their own
    const fs::path forgedKey = dir.path() / "forged.key";
    generateAnchorKey(forgedKey);
    const fs::path forgedLog = dir.path() / "forged.log";
    db->exec("DELETE FROM audit_checkpoint");
    checkpointAudit(*db, loadAnchorSecret(forgedKey), forgedLog);
    r = anchors();
    EXPECT_TRUE(has(r, "signature"));
    EXPECT_TRUE(has(r, "rewritten")); // the real log still holds the true checkpoint
    std::string out;
    EXPECT_EQ(cliVerify(out), 1) << out;
    EXPECT_NE(out.find("rewritten at entry 20"), std::string::npos) << out;
    EXPECT_NE(out.find("is not signed by the audit key"), std::string::npos) << out;
}

TEST_P(AnchoredAuditTrail, ADeletedOrCutCheckpointLogIsNamed) {
    for (int i = 20; i < 25; ++i) db->write([&] { db->appendAudit(entry(i)); });
    checkpointAudit(*db, loadAnchorSecret(keyFile), logFile);
    {
        // the log loses its newest line
        std::ifstream in(logFile);
        std::string first;
        std::getline(in, first);
        in.close();
        std::ofstream(logFile, std::ios::trunc) << first << "\n";
    }
    AnchorReport r = anchors();
    ASSERT_TRUE(has(r, "log"));
    EXPECT_NE(r.problems.front().detail.find("is in the database but not in the log"), std::string::npos) << r.problems.front().detail;
    fs::remove(logFile);
    r = anchors();
    ASSERT_TRUE(has(r, "log"));
    std::string out;
    EXPECT_EQ(cliVerify(out), 1) << out;
    EXPECT_NE(out.find("the checkpoint log " + logFile.string() + " is missing"), std::string::npos) << out;
    // and a malformed log line is named with its line number
    std::ofstream(logFile) << "{\"seq\": 1}\n";
    EXPECT_EQ(cliVerify(out), 1) << out;
    EXPECT_NE(out.find(logFile.string() + ":1: not a checkpoint"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Backends, AnchoredAuditTrail, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// The queue's connection to PostgreSQL with TLS verified against the site's CA (postgres.sh
// makes one and turns TLS on): verify-full connects; a CA that did not sign the server's
// certificate is refused saying so; a password in the URL (it would show in a process
// listing) is refused before anything connects, pointing to ~/.pgpass.
TEST(PostgresTls, VerifyFullConnectsWithTheSiteCaAndRefusesAnotherCaOrAPasswordInTheUrl) {
    const char* file = std::getenv("RELUTH_PG_URL_FILE");
    if (!file) GTEST_SKIP() << "RELUTH_PG_URL_FILE not set: run under ctest for PostgreSQL";
    std::string url;
    std::ifstream(file) >> url;
    const std::string ca = std::string(file) + ".ca";
    ASSERT_FALSE(url.empty());
    ASSERT_TRUE(fs::exists(ca)) << "postgres.sh writes the server's CA beside the URL";
    auto db = Database::open(url + "?sslmode=verify-full&sslrootcert=" + ca);
    const auto rows = db->query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "true") << "the connection is not encrypted";
    testutil::TempDir dir("pg-tls");
    const fs::path other = dir.path() / "other-ca.pem";
    ASSERT_EQ(run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=not the site CA' -keyout " +
                  (dir.path() / "k.pem").string() + " -out " + other.string()),
              0);
    try {
        Database::open(url + "?sslmode=verify-full&sslrootcert=" + other.string());
        ADD_FAILURE() << "a server certificate another CA signed was trusted";
    } catch (const DbError& e) {
        EXPECT_NE(std::string(e.what()).find("not signed by the trusted CA"), std::string::npos) << e.what();
    }
    const std::string withPassword = "postgresql://reluth:secret@" + url.substr(url.find('@') + 1);
    try {
        Database::open(withPassword);
        ADD_FAILURE() << "a password in the URL was accepted";
    } catch (const DbError& e) {
        EXPECT_NE(std::string(e.what()).find("~/.pgpass"), std::string::npos) << e.what();
    }
    EXPECT_THROW(Database::open(url + "?sslmode=verify-full&host=elsewhere"), DbError);
}
