// The audit trail on SQLite and on a real PostgreSQL server (started by postgres.sh as a
// ctest fixture): migrations, append-only triggers, hash chain verification catching edited,
// deleted, reordered and truncated entries, rollback, and concurrent appenders.
#include "Backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
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
