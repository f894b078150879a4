// copy-store: an operator's SQLite file into an empty PostgreSQL database, every table, every
// value as it is stored (sealed caller numbers stay sealed: their text is copied, never
// opened), in one transaction, then the counts compared table by table.

#include "copy_store.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace callswap::server {
namespace {

using PgConn = std::unique_ptr<PGconn, void (*)(PGconn*)>;
using PgResult = std::unique_ptr<PGresult, void (*)(PGresult*)>;

std::string trimmed(std::string why) {
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  return why;
}

PgResult pg(PGconn* conn, const std::string& sql, const std::vector<std::string>& params = {}) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PgResult r(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0),
             &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error("postgresql: " + trimmed(PQresultErrorMessage(r.get())));
  return r;
}

std::int64_t pg_count(PGconn* conn, const std::string& table) {
  return std::stoll(PQgetvalue(pg(conn, "SELECT count(*) FROM " + table).get(), 0, 0));
}

// One value in COPY's text format: backslash, tab and line breaks escaped, NULL as \N.
void append_copy_value(std::string& line, const unsigned char* text, int length, bool boolean) {
  if (!text) {
    line += "\\N";
    return;
  }
  if (boolean) {  // SQLite keeps booleans as 0 and 1
    line += (length == 1 && text[0] == '0') ? "f" : "t";
    return;
  }
  for (int i = 0; i < length; ++i) {
    const char c = static_cast<char>(text[i]);
    switch (c) {
      case '\\':
        line += "\\\\";
        break;
      case '\t':
        line += "\\t";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      default:
        line += c;
    }
  }
}

struct Column {
  std::string name;
  bool boolean = false;
  bool identity = false;  ///< numbered by the database (audit and outbox ids)
};

// The tables copied: what the PostgreSQL schema holds, but its version table and the pools'
// own tables (their numbers are written from the config at each start, the holds and
// cool-downs taken from the copied sessions and releases; SQLite has no counters to copy).
std::vector<std::string> tables_to_copy(PGconn* conn) {
  const PgResult r = pg(conn,
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                        "current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN "
                        "('schema_version', 'pool_numbers', 'pool_counters') ORDER BY table_name");
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
  return out;
}

std::vector<Column> columns_of(PGconn* conn, const std::string& table) {
  const PgResult r = pg(conn,
                        "SELECT column_name, data_type = 'boolean', is_identity = 'YES' FROM "
                        "information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY "
                        "ordinal_position",
                        {table});
  std::vector<Column> out;
  for (int i = 0; i < PQntuples(r.get()); ++i)
    out.push_back({PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1)[0] == 't',
                   PQgetvalue(r.get(), i, 2)[0] == 't'});
  return out;
}

class Sqlite {
 public:
  explicit Sqlite(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK)
      throw std::runtime_error("sqlite: cannot open " + path + ": " + sqlite3_errmsg(raw));
  }
  struct Statement {
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> s{nullptr, &sqlite3_finalize};
  };
  Statement prepare(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
      throw std::runtime_error("sqlite: " + std::string(sqlite3_errmsg(db_.get())));
    Statement st;
    st.s.reset(raw);
    return st;
  }
  std::int64_t count(const std::string& table) {
    Statement st = prepare("SELECT count(*) FROM \"" + table + "\"");
    if (sqlite3_step(st.s.get()) != SQLITE_ROW) throw std::runtime_error("sqlite: count failed");
    return sqlite3_column_int64(st.s.get(), 0);
  }
  sqlite3* get() { return db_.get(); }

 private:
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_{nullptr, &sqlite3_close};
};

// Streams one table with COPY; returns the rows sent.
std::int64_t copy_table(Sqlite& from, PGconn* to, const std::string& table,
                        const std::vector<Column>& columns) {
  std::string list;
  for (const Column& c : columns) list += (list.empty() ? "" : ", ") + ("\"" + c.name + "\"");
  Sqlite::Statement st = from.prepare("SELECT " + list + " FROM \"" + table + "\"");
  {
    PgResult r(PQexec(to, ("COPY " + table + " (" + list + ") FROM STDIN").c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COPY_IN)
      throw std::runtime_error("postgresql: " + trimmed(PQresultErrorMessage(r.get())));
  }
  std::int64_t rows = 0;
  std::string chunk;
  const auto send = [&] {
    if (PQputCopyData(to, chunk.data(), static_cast<int>(chunk.size())) != 1)
      throw std::runtime_error("postgresql: " + trimmed(PQerrorMessage(to)));
    chunk.clear();
  };
  int rc = 0;
  while ((rc = sqlite3_step(st.s.get())) == SQLITE_ROW) {
    for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
      if (i > 0) chunk += '\t';
      const unsigned char* text = sqlite3_column_text(st.s.get(), i);
      append_copy_value(chunk, text, sqlite3_column_bytes(st.s.get(), i),
                        columns[static_cast<std::size_t>(i)].boolean);
    }
    chunk += '\n';
    ++rows;
    if (chunk.size() > (1u << 20)) send();
  }
  if (rc != SQLITE_DONE)
    throw std::runtime_error("sqlite: reading " + table + ": " + sqlite3_errmsg(from.get()));
  if (!chunk.empty()) send();
  if (PQputCopyEnd(to, nullptr) != 1)
    throw std::runtime_error("postgresql: " + trimmed(PQerrorMessage(to)));
  while (PGresult* raw = PQgetResult(to)) {
    PgResult r(raw, &PQclear);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK)
      throw std::runtime_error("postgresql: copying " + table + ": " +
                               trimmed(PQresultErrorMessage(raw)));
  }
  return rows;
}

}  // namespace

std::vector<CopiedTable> copy_store(const std::string& sqlite_path, const std::string& conninfo,
                                    const std::string& password) {
  if (std::error_code ec; !std::filesystem::is_regular_file(sqlite_path, ec))
    throw std::runtime_error("no SQLite file at " + sqlite_path);
  // Both schemas current first: the source as this server would migrate it at start, the
  // target created (or checked) the same way.
  open_sqlite_store(sqlite_path).reset();
  open_postgres_store(conninfo, password).reset();

  std::vector<const char*> keys{"dbname", "application_name"};
  std::vector<const char*> values{conninfo.c_str(), "callswap-server copy-store"};
  if (!password.empty()) keys.push_back("password"), values.push_back(password.c_str());
  keys.push_back(nullptr), values.push_back(nullptr);
  PgConn to(PQconnectdbParams(keys.data(), values.data(), 1), &PQfinish);
  if (PQstatus(to.get()) != CONNECTION_OK)
    throw std::runtime_error("postgresql: cannot connect: " + trimmed(PQerrorMessage(to.get())));
  Sqlite from(sqlite_path);

  const std::vector<std::string> tables = tables_to_copy(to.get());
  pg(to.get(), "BEGIN");
  // Nothing else writes while the copy runs, and nothing is copied over existing rows.
  for (const std::string& table : tables)
    pg(to.get(), "LOCK TABLE " + table + " IN EXCLUSIVE MODE");
  for (const std::string& table : tables) {
    if (const std::int64_t n = pg_count(to.get(), table); n > 0) {
      throw std::runtime_error("the target database is not empty (table " + table + " has " +
                               std::to_string(n) +
                               " rows): copy-store copies into an empty database only");
    }
  }
  std::vector<CopiedTable> copied;
  for (const std::string& table : tables) {
    const std::vector<Column> columns = columns_of(to.get(), table);
    copied.push_back({table, copy_table(from, to.get(), table, columns), 0});
    // Ids kept as they were: the next one follows the highest copied.
    for (const Column& c : columns) {
      if (!c.identity) continue;
      pg(to.get(),
         "SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(" + c.name +
             ") FROM " + table + "), 0) + 1, false)",
         {table, c.name});
    }
  }
  pg(to.get(), "COMMIT");
  for (CopiedTable& t : copied) {
    t.rows_in_target = pg_count(to.get(), t.table);
    const std::int64_t source = from.count(t.table);
    if (t.rows_in_target != source || t.rows_copied != source) {
      throw std::runtime_error("table " + t.table + ": " + std::to_string(source) +
                               " rows in the SQLite file, " + std::to_string(t.rows_in_target) +
                               " in PostgreSQL after the copy");
    }
  }
  return copied;
}

}  // namespace callswap::server
