#pragma once
// The store's schema, written once for both database dialects, and the loop that migrates a
// database to it. Each store supplies how to run a statement; what the tables are, and in
// which versions they came, lives only here.

#include <functional>
#include <string>
#include <vector>

namespace callswap::server {

enum class SqlDialect { sqlite, postgresql };

/// The migrations of a dialect, oldest first: entry v takes a database from schema version v
/// to v + 1. The two dialects number their versions apart (PostgreSQL came later and began
/// with what SQLite had reached by then), but every table is written once.
const std::vector<std::string>& schema_migrations(SqlDialect dialect);

/// Brings a database from `version` (0 when new) to the latest, each step in a transaction
/// of its own together with its row in schema_version. `exec` runs SQL (several statements
/// at once); a newer database than this server knows is refused.
void apply_migrations(SqlDialect dialect, int version,
                      const std::function<void(const std::string&)>& exec);

}  // namespace callswap::server
