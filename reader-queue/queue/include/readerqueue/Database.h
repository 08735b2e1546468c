#pragma once
// The queue's database: one code path over SQLite (embedded default: one file, WAL) and
// PostgreSQL (multi-site), schema from numbered migrations per dialect. Qt SQL stays behind
// this header. Every multi-step change runs in write(), one transaction.
#include "readerqueue/Audit.h"

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rq {

struct DbError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Database {
public:
    /// "sqlite:/path/queue.db" or "postgresql://user@host:port/dbname[?sslmode=verify-full&sslrootcert=CA.pem]"
    /// (TLS options passed to libpq; a password in the URL is refused: ~/.pgpass or $PGPASSFILE).
    static std::unique_ptr<Database> open(const std::string& url);
    ~Database();

    enum class Dialect { Sqlite, Postgresql };
    Dialect dialect() const;

    /// Applies the migrations the database lacks, each in its own transaction; returns how many.
    int migrate();
    int schemaVersion();

    /// Runs f in one write transaction; writers take turns (SQLite: BEGIN IMMEDIATE;
    /// PostgreSQL: READ COMMITTED plus a transaction-level advisory lock), so what f reads
    /// cannot change before it commits. Commits, or rolls back and rethrows.
    void write(const std::function<void()>& f);

    /// Appends an entry to the audit trail; inside write(). Fills seq, time, prevHash, hash.
    AuditEntry appendAudit(AuditEntry e);
    std::vector<AuditEntry> readAudit();
    AuditHead auditHead();

    /// Executes one SQL statement with positional parameters (?).
    void exec(const std::string& sql, const std::vector<std::string>& params = {});
    /// Executes an INSERT/UPDATE/DELETE and returns how many rows it changed.
    int change(const std::string& sql, const std::vector<std::string>& params = {});
    /// Runs a query; every value as text (NULL as "").
    std::vector<std::vector<std::string>> query(const std::string& sql, const std::vector<std::string>& params = {});

    struct Impl;

private:
    explicit Database(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace rq
