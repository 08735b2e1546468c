#include "readerqueue/Database.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <set>

#include "Migrations.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDateTime>
#include <QtCore/QVariant>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlError>
#include <QtSql/QSqlQuery>
#include <QtSql/QSqlRecord>

#include <atomic>

namespace rq {

struct Database::Impl {
    QString connection;
    Dialect dialect = Dialect::Sqlite;
    std::vector<std::string> actionsInTransaction; ///< audit actions appended by the open transaction
    /// The connection's handle, kept: looking it up by name takes Qt's global connection
    /// lock on every statement, which serialised concurrent clients (reader-queue-bench).
    QSqlDatabase handle;
    const QSqlDatabase& db() const { return handle; }
    ~Impl() {
        // SQLite keeps its planner statistics current this way (PostgreSQL: autovacuum)
        if (handle.isOpen() && dialect == Dialect::Sqlite) QSqlQuery(handle).exec("PRAGMA optimize");
        if (handle.isOpen()) handle.close();
        handle = QSqlDatabase();
        QSqlDatabase::removeDatabase(connection);
    }
};

namespace {

std::string text(const QSqlError& e) { return e.text().toStdString(); }

QSqlQuery run(const QSqlDatabase& db, const std::string& sql, const std::vector<std::string>& params = {}) {
    QSqlQuery q(db);
    if (params.empty()) { // DDL and transaction control cannot be prepared on PostgreSQL
        if (!q.exec(QString::fromStdString(sql))) throw DbError("\"" + sql + "\" failed: " + text(q.lastError()));
        return q;
    }
    if (!q.prepare(QString::fromStdString(sql))) throw DbError("cannot prepare \"" + sql + "\": " + text(q.lastError()));
    for (const std::string& p : params) q.addBindValue(QString::fromStdString(p));
    if (!q.exec()) throw DbError("\"" + sql + "\" failed: " + text(q.lastError()));
    return q;
}

void runScript(const QSqlDatabase& db, const std::string& sql) {
    QSqlQuery q(db);
    if (!q.exec(QString::fromStdString(sql))) throw DbError("migration statement failed: " + text(q.lastError()) + "\n" + sql);
}

std::string nowUtc() { return utcNow(); }

} // namespace

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

std::unique_ptr<Database> Database::open(const std::string& url) {
    static std::atomic<int> counter{0};
    auto impl = std::make_unique<Impl>();
    impl->connection = QString("rq-%1").arg(counter.fetch_add(1));
    if (url.rfind("sqlite:", 0) == 0) {
        const std::string path = url.substr(7);
        if (path.empty()) throw DbError("sqlite: needs a file path, e.g. sqlite:/var/lib/reluth/queue.db");
        impl->dialect = Dialect::Sqlite;
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", impl->connection);
        impl->handle = db;
        if (!db.isValid()) throw DbError("the Qt SQLite driver is missing (Debian package libqt6sql6-sqlite)");
        db.setDatabaseName(QString::fromStdString(path));
        db.setConnectOptions("QSQLITE_BUSY_TIMEOUT=10000");
        if (!db.open()) throw DbError(path + ": cannot open: " + text(db.lastError()));
        run(db, "PRAGMA journal_mode=WAL");
        run(db, "PRAGMA synchronous=FULL");
        run(db, "PRAGMA foreign_keys=ON");
    } else if (url.rfind("postgresql://", 0) == 0) {
        // postgresql://user@host[:port]/dbname[?sslmode=verify-full&sslrootcert=CA.pem&...]
        // The password is never in the URL (it would show in a process listing or a shell's
        // history): libpq reads it from ~/.pgpass or $PGPASSFILE (0600), as every PostgreSQL tool does.
        std::string rest = url.substr(13);
        std::string user, host, db, port = "5432", options;
        if (const auto q = rest.find('?'); q != std::string::npos) {
            static const std::set<std::string> allowed{"sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "connect_timeout"};
            std::string query = rest.substr(q + 1);
            rest = rest.substr(0, q);
            std::size_t from = 0;
            while (from <= query.size()) {
                const auto amp = query.find('&', from);
                const std::string pair = query.substr(from, amp == std::string::npos ? std::string::npos : amp - from);
                from = amp == std::string::npos ? query.size() + 1 : amp + 1;
                if (pair.empty()) continue;
                const auto eq = pair.find('=');
                const std::string key = pair.substr(0, eq);
                if (eq == std::string::npos || !allowed.count(key) || pair.find(';') != std::string::npos)
                    throw DbError(
                        "postgresql URL: '" + pair +
                        "' is not an option this tool passes on (sslmode, sslrootcert, sslcert, sslkey, sslcrl, connect_timeout)");
                options += (options.empty() ? "" : ";") + pair;
            }
        }
        const auto at = rest.find('@');
        if (at != std::string::npos) {
            user = rest.substr(0, at);
            rest = rest.substr(at + 1);
            if (user.find(':') != std::string::npos)
                throw DbError("postgresql URL: no password in the URL (it shows in process listings); put it in ~/.pgpass or "
                              "$PGPASSFILE (mode 0600), which libpq reads");
        }
        const auto slash = rest.find('/');
        if (slash == std::string::npos) throw DbError("postgresql URL needs a database name: postgresql://user@host:port/dbname");
        db = rest.substr(slash + 1);
        host = rest.substr(0, slash);
        const auto colon = host.rfind(':');
        if (colon != std::string::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        impl->dialect = Dialect::Postgresql;
        QSqlDatabase d = QSqlDatabase::addDatabase("QPSQL", impl->connection);
        impl->handle = d;
        if (!d.isValid()) throw DbError("the Qt PostgreSQL driver is missing (Debian package libqt6sql6-psql)");
        d.setHostName(QString::fromStdString(host));
        d.setPort(std::stoi(port));
        d.setDatabaseName(QString::fromStdString(db));
        d.setUserName(QString::fromStdString(user));
        if (!options.empty()) d.setConnectOptions(QString::fromStdString(options));
        if (!d.open()) {
            std::string why = text(d.lastError());
            if (why.find("certificate verify failed") != std::string::npos || why.find("root certificate") != std::string::npos)
                why = "the server's certificate is not signed by the trusted CA (sslrootcert): " + why;
            else if (why.find("does not match host name") != std::string::npos)
                why = "the server's certificate is for another host name: " + why;
            throw DbError(url + ": cannot connect: " + why);
        }
    } else {
        throw DbError("unknown database URL '" + url + "' (sqlite:PATH or postgresql://user@host:port/dbname)");
    }
    return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Database::Dialect Database::dialect() const { return impl_->dialect; }

int Database::schemaVersion() {
    QSqlDatabase db = impl_->db();
    if (!db.tables().contains("schema_version")) return 0;
    QSqlQuery q = run(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    return q.next() ? q.value(0).toInt() : 0;
}

int Database::migrate() {
    QSqlDatabase db = impl_->db();
    if (!db.tables().contains("schema_version"))
        run(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const int have = schemaVersion();
    int applied = 0;
    for (const Migration& m : migrations(impl_->dialect == Dialect::Sqlite ? "sqlite" : "postgresql")) {
        if (m.version <= have) continue;
        write([&] {
            for (const std::string& statement : m.statements) runScript(db, statement);
            run(db, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                {std::to_string(m.version), m.name, nowUtc()});
        });
        ++applied;
    }
    return applied;
}

namespace {

/// Crash testing (tests/reader-queue/trial_test.cpp): RELUTH_QUEUE_CRASH_BEFORE_COMMIT=ACTION[:N]
/// kills the process with SIGKILL - as kill -9 would - just before the COMMIT of the N-th
/// (default first) transaction that appended the audit action ACTION. Unset: nothing happens.
void crashPointBeforeCommit(const std::vector<std::string>& actions) {
    static const char* spec = std::getenv("RELUTH_QUEUE_CRASH_BEFORE_COMMIT");
    if (!spec || !*spec) return;
    static int seen = 0;
    const std::string s = spec;
    const auto colon = s.find(':');
    const std::string action = s.substr(0, colon);
    const int n = colon == std::string::npos ? 1 : std::atoi(s.c_str() + colon + 1);
    if (std::find(actions.begin(), actions.end(), action) == actions.end()) return;
    if (++seen == n) ::raise(SIGKILL);
}

} // namespace

void Database::write(const std::function<void()>& f) {
    QSqlDatabase db = impl_->db();
    run(db, impl_->dialect == Dialect::Sqlite ? "BEGIN IMMEDIATE" : "BEGIN ISOLATION LEVEL READ COMMITTED");
    try {
        // Writers take turns, as SQLite's BEGIN IMMEDIATE makes them: every change reads the
        // state it checks (is this read still a draft? is this task still free?) and writes in
        // one step. Under READ COMMITTED alone, two signers could both see "draft" and both sign.
        if (impl_->dialect == Dialect::Postgresql) run(db, "SELECT pg_advisory_xact_lock(7243101)");
        impl_->actionsInTransaction.clear();
        f();
        crashPointBeforeCommit(impl_->actionsInTransaction);
        run(db, "COMMIT");
    } catch (...) {
        QSqlQuery(db).exec("ROLLBACK");
        throw;
    }
}

AuditEntry Database::appendAudit(AuditEntry e) {
    QSqlDatabase db = impl_->db();
    // the head row serialises appenders: SQLite holds the write lock already (BEGIN IMMEDIATE)
    QSqlQuery head = run(db, impl_->dialect == Dialect::Sqlite ? "SELECT seq, hash FROM audit_head WHERE id = 1"
                                                               : "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE");
    if (!head.next()) throw DbError("audit_head is empty: the schema is damaged");
    e.seq = head.value(0).toLongLong() + 1;
    e.prevHash = head.value(1).toString().toStdString();
    if (e.time.empty()) e.time = nowUtc();
    impl_->actionsInTransaction.push_back(e.action);
    e.hash = chainHash(e);
    run(db,
        "INSERT INTO audit (seq, time, usr, action, object, old_value, new_value, reason, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {std::to_string(e.seq), e.time, e.user, e.action, e.object, e.oldValue, e.newValue, e.reason, e.prevHash, e.hash});
    run(db, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", {std::to_string(e.seq), e.hash});
    return e;
}

std::vector<AuditEntry> Database::readAudit() {
    QSqlQuery q =
        run(impl_->db(), "SELECT seq, time, usr, action, object, old_value, new_value, reason, prev_hash, hash FROM audit ORDER BY seq");
    std::vector<AuditEntry> out;
    while (q.next()) {
        AuditEntry e;
        e.seq = q.value(0).toLongLong();
        e.time = q.value(1).toString().toStdString();
        e.user = q.value(2).toString().toStdString();
        e.action = q.value(3).toString().toStdString();
        e.object = q.value(4).toString().toStdString();
        e.oldValue = q.value(5).toString().toStdString();
        e.newValue = q.value(6).toString().toStdString();
        e.reason = q.value(7).toString().toStdString();
        e.prevHash = q.value(8).toString().toStdString();
        e.hash = q.value(9).toString().toStdString();
        out.push_back(std::move(e));
    }
    return out;
}

AuditHead Database::auditHead() {
    QSqlQuery q = run(impl_->db(), "SELECT seq, hash FROM audit_head WHERE id = 1");
    if (!q.next()) return {};
    return {q.value(0).toLongLong(), q.value(1).toString().toStdString()};
}

void Database::exec(const std::string& sql, const std::vector<std::string>& params) { run(impl_->db(), sql, params); }

int Database::change(const std::string& sql, const std::vector<std::string>& params) {
    return run(impl_->db(), sql, params).numRowsAffected();
}

std::vector<std::vector<std::string>> Database::query(const std::string& sql, const std::vector<std::string>& params) {
    QSqlQuery q = run(impl_->db(), sql, params);
    std::vector<std::vector<std::string>> rows;
    const int n = q.record().count();
    while (q.next()) {
        std::vector<std::string> row;
        row.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) row.push_back(q.isNull(i) ? std::string() : q.value(i).toString().toStdString());
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace rq
