#pragma once
// The numbered migrations, compiled in: reader-queue/queue/migrations/common/NNN_name.sql (portable
// SQL, for both dialects) and migrations/<dialect>/NNN_name.sql (what differs: triggers...).
#include <string>
#include <vector>

namespace rq {

struct Migration {
    int version = 0;
    std::string name;
    std::vector<std::string> statements;
};

/// The dialect's migrations (its own and the common ones) in version order ("sqlite" or "postgresql").
std::vector<Migration> migrations(const std::string& dialect);

/// Splits a migration script into statements: a statement ends with ';' at the end of a line,
/// except inside $$ ... $$ (PostgreSQL function bodies) or a CREATE TRIGGER ... END; block.
std::vector<std::string> splitStatements(const std::string& script);

} // namespace rq
