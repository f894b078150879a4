// Fills a callswap database with N calls and M ended sessions for bench/server, so the
// benchmark shows whether the cost of a request grows with the data stored.
//   preload DATABASE CALLS
#include <sqlite3.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "clock.hpp"
#include "store.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: preload DATABASE CALLS\n";
    return 2;
  }
  { callswap::server::open_sqlite_store(argv[1]); }  // creates the schema
  sqlite3* db = nullptr;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) return 1;
  const std::string calls = argv[2];
  // Spread over the seconds before now, so all of it is within any retention period and
  // the server's purge at start leaves it be.
  const auto now = callswap::server::system_now();
  const std::string start = std::to_string(now - std::stoll(calls) * 1000 - 3'600'000);
  const std::string sql =
      "BEGIN;"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      calls +
      ") "
      "INSERT INTO sessions (id, site, pool, number, source, campaign_json, landing_path, "
      "created_at, last_activity, released_at) "
      "SELECT printf('%032x', i), 'acme', 'ads', printf('+4930900%04d', i % 10000), 'ads', '{}', "
      "'/', " +
      start + " + i * 1000, " + start + " + i * 1000, " + start +
      " + i * 1000 + 600000 FROM n;"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      calls +
      ") "
      "INSERT INTO calls (provider_call_id, site, called_number, status, duration_seconds, "
      "started_at, session_id, source, attribution) "
      "SELECT 'CA' || i, 'acme', printf('+4930900%04d', i % 10000), 'completed', i % 600, " +
      start +
      " + i * 1000 + 5000, "
      "printf('%032x', i), 'ads', 'session' FROM n;"
      "COMMIT;";
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::cerr << "preload: " << (error ? error : "failed") << "\n";
    return 1;
  }
  sqlite3_close(db);
  return 0;
}
