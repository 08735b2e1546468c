#pragma once
// The numbered migrations of reader-queue/queue/migrations/<dialect>/NNN_name.sql, compiled in.
#include <string>
#include <vector>

namespace rq {

struct Migration {
    int version = 0;
    std::string name;
    std::vector<std::string> statements;
};

/// The dialect's migrations in version order ("sqlite" or "postgresql").
std::vector<Migration> migrations(const std::string& dialect);

/// Splits a migration script into statements: a statement ends with ';' at the end of a line,
/// except inside $$ ... $$ (PostgreSQL function bodies) or a CREATE TRIGGER ... END; block.
std::vector<std::string> splitStatements(const std::string& script);

} // namespace rq
