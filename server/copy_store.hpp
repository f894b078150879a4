#pragma once
// `callswap-server copy-store`: moving an operator from SQLite to PostgreSQL.

#include <cstdint>
#include <string>
#include <vector>

#include "store.hpp"

namespace callswap::server {

struct CopiedTable {
  std::string table;
  std::int64_t rows_copied = 0;
  std::int64_t rows_in_target = 0;
};

/// Copies every table of the SQLite file at `sqlite_path` into the PostgreSQL database
/// `conninfo` (a URL or key=value string; libpq's PG* environment fills in the rest), which
/// must be empty: values byte for byte (sealed caller numbers stay sealed), ids kept, all in
/// one transaction. Both schemas are migrated to this build's version first. Then compares
/// the rows of each table in both; throws std::runtime_error with the reason when anything
/// fails (nothing is then copied).
std::vector<CopiedTable> copy_store(const std::string& sqlite_path, const std::string& conninfo,
                                    const std::string& password = "");

}  // namespace callswap::server
