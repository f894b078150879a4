// The PostgreSQL store: for several server instances on one database. Every operation is
// one transaction on a pooled connection (no connection is used by two threads at once),
// every statement is prepared once per connection, and the schema is migrated at start by
// one instance while the others wait on an advisory lock. Concurrency is the database's:
// row-level conflicts are settled by unique keys (`ON CONFLICT`), never by this process.

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "assignments.hpp"
#include "schema.hpp"
#include "store.hpp"
#include "store_rows.hpp"

namespace callswap::server {
namespace {

// Every instance of every version takes this lock to migrate: one migrates, the others
// wait and then find the schema current. The number is arbitrary but fixed ("callswap").
constexpr std::int64_t kMigrationLock = 0x63616c6c73776170;
// Taken for a transaction that writes the pools' numbers from the config, so instances
// starting together do it one after another.
constexpr std::int64_t kPoolConfigLock = kMigrationLock + 1;

// How long a delivery handed out to one instance's outbox is left to it.
constexpr std::int64_t kDeliveryLeaseMs = 5 * 60'000;

// The prepared statements, by what they are for; kSql holds their text in the same order.
enum class Q : std::size_t {
  insert_session,
  touch_session,
  release_session,
  record_release,
  erase_session,
  find_session,
  active_sessions,
  last_releases,
  holding,
  insert_call,
  find_call,
  to_reseal,
  reseal,
  count_calls,
  calls_by_caller,
  calls_by_session,
  erase_call,
  add_tombstone,
  call_erased,
  restrict_call,
  restrict_session,
  add_restriction,
  remove_restriction,
  restriction_exists,
  refresh_restriction,
  rectify_call,
  reportable_calls,
  first_call,
  append_audit,
  audit_entries,
  purge_sessions,
  purge_calls,
  purge_samples,
  purge_audit,
  purge_tombstones,
  purge_restrictions,
  sites_with_data,
  purge_mark,
  set_purge_mark,
  insert_sample,
  samples,
  enqueue_delivery,
  due_deliveries,
  record_attempt,
  deliveries,
  erase_call_deliveries,
  erase_session_deliveries,
  restrict_call_deliveries,
  restrict_session_deliveries,
  purge_deliveries,
  clicked_calls,
  free_number,
  assign_free,
  assign_reuse,
  touch_held,
  expire_pool,
  pool_stats,
  erase_visit,
  count_exhausted,
  update_session_ids,
  erase_id_deliveries,
  count
};

std::string calls_where(const std::string& condition) {
  return std::string("SELECT ") + kCallColumns + " FROM calls WHERE " + condition;
}

// In batches, so a purge of millions of rows never holds locks for long: a site's rows whose
// `age` column is before $2 (and that meet `also`). Two instances purging at once delete
// each row once; the other finds it gone, so the purge is safe to run on every instance.
std::string purge_batch(const std::string& table, const std::string& age,
                        const std::string& also = "") {
  return "DELETE FROM " + table + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + table +
         " WHERE site = $1 AND " + also + age + " < $2 LIMIT 5000))";
}

// One statement, so one transaction and one round trip: locks the number `pick` chooses
// (skipping numbers other instances are locking at this moment), hands it to session $6, ends
// the session that held it if any (idle, or displaced) with the release time `pick` says,
// remembers that release for the cool-down, and stores the new session. Answers the number
// and the session that lost it. $1 site, $2 pool, $3 hold, $4 cool-down, $5 now, $6 id, $7..
// $14 the session's source, campaign, landing path and consented ids.
std::string assign_number(const std::string& pick) {
  return "WITH pick AS (" + pick +
         "), took AS (UPDATE pool_numbers p SET session_id = $6, last_activity = $5::bigint "
         "FROM pick WHERE p.site = pick.site AND p.number = pick.number "
         "RETURNING p.number, pick.holder, pick.free_since), "
         "ended AS (UPDATE sessions s SET released_at = took.free_since FROM took "
         "WHERE s.id = took.holder AND s.released_at IS NULL), "
         "remembered AS (INSERT INTO number_releases (site, number, released_at) "
         "SELECT $1, number, free_since FROM took WHERE holder IS NOT NULL "
         "ON CONFLICT (site, number) DO UPDATE "
         "SET released_at = greatest(number_releases.released_at, excluded.released_at)), "
         "inserted AS (INSERT INTO sessions (id, site, pool, number, source, campaign_json, "
         "landing_path, created_at, last_activity, click_id_type, click_id, click_id_consent, "
         "ga_client_id, ga_consent) SELECT $6, $1, $2, number, $7, $8, $9, $5::bigint, $5::bigint, "
         "nullif($10, ''), nullif($11, ''), nullif($12, ''), nullif($13, ''), nullif($14, '') "
         "FROM took RETURNING number) "
         "SELECT took.number, coalesce(took.holder, '') FROM took JOIN inserted USING (number)";
}

const std::array<std::string, static_cast<std::size_t>(Q::count)>& statements() {
  static const std::array<std::string, static_cast<std::size_t>(Q::count)> sql{
      "INSERT INTO sessions (id, site, pool, number, source, campaign_json, landing_path, "
      "created_at, last_activity, released_at, click_id_type, click_id, click_id_consent, "
      "ga_client_id, ga_consent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''), "
      "nullif($12, ''), nullif($13, ''), nullif($14, ''), nullif($15, ''))",
      "UPDATE sessions SET last_activity = greatest(last_activity, $2) WHERE id = $1 AND "
      "released_at IS NULL",
      "UPDATE sessions SET released_at = $2 WHERE id = $1 AND released_at IS NULL",
      // The pool's cool-downs survive a restart even when the session itself is erased.
      "INSERT INTO number_releases (site, number, released_at) SELECT site, number, $2::bigint "
      "FROM sessions "
      "WHERE id = $1 AND released_at IS NULL ON CONFLICT (site, number) DO UPDATE "
      "SET released_at = greatest(number_releases.released_at, excluded.released_at)",
      "DELETE FROM sessions WHERE id = $1",
      std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = $1",
      std::string("SELECT ") + kSessionColumns +
          " FROM sessions WHERE released_at IS NULL ORDER BY last_activity",
      "SELECT number, released_at FROM number_releases WHERE site = $1",
      std::string("SELECT ") + kSessionColumns +
          " FROM sessions WHERE site = $1 AND number = $2 AND created_at <= $3::bigint "
          "AND (released_at IS NULL OR released_at + $4::bigint >= $3::bigint) ORDER BY created_at "
          "DESC LIMIT 1",
      // A repeated delivery (or the next status of the same call) updates status and
      // duration; the attribution made at the first delivery stays. Two deliveries at the
      // same moment on two instances meet at the primary key: one inserts, one updates.
      // xmax is 0 only in a row version this statement inserted.
      "INSERT INTO calls (provider_call_id, site, called_number, status, duration_seconds, "
      "started_at, session_id, "
      "source, attribution, campaign_json, caller_key_id, caller_ciphertext, caller_hash, "
      "restricted) "
      "VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''), $9, $10, nullif($11, ''), "
      "nullif($12, ''), "
      "nullif($13, ''), $14) ON CONFLICT (provider_call_id) DO UPDATE SET status = "
      "excluded.status, "
      "duration_seconds = greatest(calls.duration_seconds, excluded.duration_seconds), "
      "restricted = calls.restricted OR excluded.restricted RETURNING (xmax = 0)",
      calls_where("provider_call_id = $1"),
      calls_where("caller_key_id IS NOT NULL AND caller_key_id != $1"),
      "UPDATE calls SET caller_key_id = $2, caller_ciphertext = $3 WHERE provider_call_id = $1",
      "SELECT count(*) FROM calls WHERE site = $1",
      calls_where("caller_hash = $1 ORDER BY started_at"),
      calls_where("session_id = $1 ORDER BY started_at"),
      "DELETE FROM calls WHERE provider_call_id = $1",
      "INSERT INTO erased_calls (call_key, site, erased_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (call_key) DO UPDATE SET erased_at = excluded.erased_at",
      "SELECT 1 FROM erased_calls WHERE call_key = $1",
      "UPDATE calls SET restricted = $2 WHERE provider_call_id = $1",
      "UPDATE sessions SET restricted = $2 WHERE id = $1",
      "INSERT INTO restricted_callers (caller_hash, since) VALUES ($1, $2) "
      "ON CONFLICT (caller_hash) DO UPDATE SET since = greatest(restricted_callers.since, "
      "excluded.since)",
      "DELETE FROM restricted_callers WHERE caller_hash = $1",
      "SELECT 1 FROM restricted_callers WHERE caller_hash = $1",
      "UPDATE restricted_callers SET since = greatest(since, $2) WHERE caller_hash = $1",
      "UPDATE calls SET source = nullif($2, ''), classification = $3 WHERE provider_call_id = $1",
      calls_where("site = $1 AND started_at >= $2 AND started_at < $3 AND NOT restricted ORDER BY "
                  "started_at"),
      "SELECT min(started_at) FROM calls WHERE site = $1 AND caller_hash = $2",
      "INSERT INTO audit (at, actor, action, site, detail_json) VALUES ($1, $2, $3, $4, $5)",
      "SELECT at, actor, action, site, detail_json FROM audit WHERE at >= $1 AND at < $2 ORDER BY "
      "id",
      purge_batch("sessions", "last_activity", "released_at IS NOT NULL AND "),
      purge_batch("calls", "started_at"),
      purge_batch("pool_samples", "at"),
      purge_batch("audit", "at"),
      purge_batch("erased_calls", "erased_at"),
      "DELETE FROM restricted_callers WHERE since < $1",
      "SELECT site FROM sessions UNION SELECT site FROM calls UNION SELECT site FROM audit "
      "UNION SELECT site FROM pool_samples UNION SELECT site FROM erased_calls UNION SELECT site "
      "FROM number_releases UNION SELECT site FROM outbox",
      "SELECT (SELECT value FROM meta WHERE key = 'purged_by'), (SELECT value FROM meta WHERE key "
      "= 'purge_clock')",
      "INSERT INTO meta (key, value) VALUES ('purged_by', $1::bigint), ('purge_clock', $2::bigint) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      "INSERT INTO pool_samples (site, pool, at, active, size, exhausted_total) VALUES ($1, $2, "
      "$3, $4, $5, $6)",
      "SELECT site, pool, at, active, size, exhausted_total FROM pool_samples "
      "WHERE site = $1 AND pool = $2 AND at >= $3 AND at < $4 ORDER BY at",
      "INSERT INTO outbox (site, destination, event, idempotency_key, body, call_id, session_id, "
      "created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), "
      "$8, "
      "$9) ON CONFLICT (idempotency_key) DO NOTHING",
      // Handed out and claimed in one statement: the claim moves the next attempt a lease
      // ahead, so another instance's outbox pass skips what this one is sending (and sends
      // it once the lease runs out if this instance died meanwhile). Answers the due time.
      "WITH due AS (SELECT id, next_attempt_at AS due_at FROM outbox WHERE state = 'pending' AND "
      "next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED), "
      "claimed AS (UPDATE outbox o SET next_attempt_at = $1::bigint + " +
          std::to_string(kDeliveryLeaseMs) +
          " FROM due WHERE o.id = due.id RETURNING o.*, due.due_at) "
          "SELECT id, site, destination, event, idempotency_key, body, coalesce(call_id, ''), "
          "coalesce(session_id, ''), created_at, due_at, attempts, state, last_error, finished_at "
          "FROM claimed ORDER BY due_at, id",
      "UPDATE outbox SET state = $2, attempts = $3, next_attempt_at = $4, last_error = $5, "
      "finished_at = $6 WHERE id = $1 AND state = 'pending'",
      std::string("SELECT ") + kDeliveryColumns +
          " FROM outbox WHERE site = $1 AND created_at >= $2 AND created_at < $3 ORDER BY id",
      "DELETE FROM outbox WHERE call_id = $1",
      "DELETE FROM outbox WHERE session_id = $1",
      "DELETE FROM outbox WHERE call_id = $1 AND state = 'pending'",
      "DELETE FROM outbox WHERE session_id = $1 AND state = 'pending'",
      purge_batch("outbox", "created_at"),
      std::string("SELECT ") + kClickedCallColumns +
          " FROM calls c JOIN sessions s ON s.id = c.session_id WHERE c.site = $1 AND "
          "c.started_at >= $2 AND c.started_at < $3 AND NOT c.restricted AND NOT s.restricted AND "
          "s.click_id IS NOT NULL ORDER BY c.started_at",
      // A session's number goes back to its pool, its cool-down starting at $2.
      "UPDATE pool_numbers SET session_id = NULL, released_at = $2 WHERE session_id = $1",
      // The least recently freed number whose cool-down is over (never-held numbers first,
      // in the configured order); a number whose session has been idle for the hold counts
      // as freed when the hold ran out, so the idle-expiry rule holds without waiting for the
      // periodic expiry. Each side walks its index to its first unlocked row; the earlier of
      // the two is taken (the other's lock ends with the statement).
      assign_number(
          "SELECT * FROM (SELECT site, number, NULL::text AS holder, released_at AS free_since, "
          "position FROM pool_numbers WHERE site = $1 AND pool = $2 AND session_id IS NULL AND "
          "(released_at = 0 OR released_at <= $5::bigint - $4::bigint) ORDER BY released_at, "
          "position LIMIT 1 FOR UPDATE SKIP LOCKED) AS free UNION ALL SELECT * FROM (SELECT site, "
          "number, session_id, last_activity + $3::bigint, position FROM pool_numbers WHERE site = "
          "$1 AND pool = $2 AND session_id IS NOT NULL AND last_activity <= $5::bigint - "
          "$3::bigint "
          "- $4::bigint ORDER BY last_activity, position LIMIT 1 FOR UPDATE SKIP LOCKED) AS idle "
          "ORDER BY free_since, position LIMIT 1"),
      // Every number held: the session idle the longest loses its number (when the pool's
      // policy says so).
      assign_number(
          "SELECT site, number, session_id AS holder, $5::bigint AS free_since FROM pool_numbers "
          "WHERE site = $1 AND pool = $2 AND session_id IS NOT NULL AND $3::bigint >= 0 AND "
          "$4::bigint >= 0 ORDER BY last_activity, position LIMIT 1 FOR UPDATE SKIP LOCKED"),
      // A heartbeat keeps the number only while the session has not been idle for the hold.
      "WITH held AS (UPDATE pool_numbers SET last_activity = greatest(last_activity, $2::bigint) "
      "WHERE session_id = $1 AND last_activity + $3::bigint > $2::bigint RETURNING number) "
      "UPDATE sessions SET last_activity = greatest(last_activity, $2::bigint) WHERE id = $1 AND "
      "released_at IS NULL AND EXISTS (SELECT 1 FROM held) RETURNING id",
      // Ends the pool's sessions idle for the hold; rows another instance is changing are
      // skipped (it or the next pass ends them), so every instance may run it.
      "WITH idle AS (SELECT site, number, session_id, last_activity + $3::bigint AS free_since "
      "FROM pool_numbers WHERE site = $1 AND pool = $2 AND session_id IS NOT NULL AND "
      "last_activity + $3::bigint <= $4::bigint FOR UPDATE SKIP LOCKED), "
      "freed AS (UPDATE pool_numbers p SET session_id = NULL, released_at = idle.free_since "
      "FROM idle WHERE p.site = idle.site AND p.number = idle.number "
      "RETURNING idle.session_id, idle.free_since, p.site, p.number), "
      "ended AS (UPDATE sessions s SET released_at = freed.free_since FROM freed "
      "WHERE s.id = freed.session_id AND s.released_at IS NULL), "
      "remembered AS (INSERT INTO number_releases (site, number, released_at) "
      "SELECT site, number, free_since FROM freed ON CONFLICT (site, number) DO UPDATE "
      "SET released_at = greatest(number_releases.released_at, excluded.released_at)) "
      "SELECT count(*) FROM freed",
      // size, active, cooling ($3 cool-down, $4 now)
      "SELECT count(*), count(session_id), count(*) FILTER (WHERE session_id IS NULL AND "
      "released_at <> 0 AND released_at + $3::bigint > $4::bigint), coalesce((SELECT exhausted "
      "FROM pool_counters c WHERE c.site = $1 AND c.pool = $2), 0), coalesce((SELECT reused FROM "
      "pool_counters c WHERE c.site = $1 AND c.pool = $2), 0) FROM pool_numbers "
      "WHERE site = $1 AND pool = $2",
      // A visitor's own erasure (one session, nothing else) in one statement, so one round
      // trip: what erase() does for a session, in the same order of effects.
      "WITH released AS (INSERT INTO number_releases (site, number, released_at) SELECT site, "
      "number, $2::bigint FROM sessions WHERE id = $1 AND released_at IS NULL ON CONFLICT (site, "
      "number) DO UPDATE SET released_at = greatest(number_releases.released_at, "
      "excluded.released_at)), freed AS (UPDATE pool_numbers SET session_id = NULL, released_at = "
      "$2 WHERE session_id = $1), erased AS (DELETE FROM sessions WHERE id = $1), deliveries AS "
      "(DELETE FROM outbox WHERE session_id = $1) SELECT 1",
      "INSERT INTO pool_counters (site, pool, exhausted, reused) VALUES ($1, $2, 1, $3) ON "
      "CONFLICT (site, pool) DO UPDATE SET exhausted = pool_counters.exhausted + 1, reused = "
      "pool_counters.reused + excluded.reused",
      // A session's ids set ($2, $6 true) or left as they are; an empty value removes one.
      "UPDATE sessions SET "
      "click_id_type = CASE WHEN $2::boolean THEN nullif($3, '') ELSE click_id_type END, "
      "click_id = CASE WHEN $2::boolean THEN nullif($4, '') ELSE click_id END, "
      "click_id_consent = CASE WHEN $2::boolean THEN nullif($5, '') ELSE click_id_consent END, "
      "ga_client_id = CASE WHEN $6::boolean THEN nullif($7, '') ELSE ga_client_id END, "
      "ga_consent = CASE WHEN $6::boolean THEN nullif($8, '') ELSE ga_consent END "
      "WHERE id = $1 AND released_at IS NULL",
      // Before an id is removed ($2: the click id, $3: the GA client id): the session's
      // deliveries that carry it, pending or sent, so it neither leaves later nor stays.
      "DELETE FROM outbox WHERE session_id = $1 AND ("
      "($2::boolean AND strpos(body, (SELECT click_id FROM sessions WHERE id = $1)) > 0) OR "
      "($3::boolean AND strpos(body, (SELECT ga_client_id FROM sessions WHERE id = $1)) > 0))",
  };
  return sql;
}

std::string statement_name(Q q) {
  return "callswap_" + std::to_string(static_cast<std::size_t>(q));
}

// A parameter in text form; empty for SQL NULL.
struct Param {
  std::optional<std::string> text;
  Param(const std::string& s)
      : text(s) {}                   // NOLINT(google-explicit-constructor): call sites read as SQL
  Param(const char* s) : text(s) {}  // NOLINT(google-explicit-constructor)
  Param(std::int64_t v) : text(std::to_string(v)) {}  // NOLINT(google-explicit-constructor)
  Param(int v) : text(std::to_string(v)) {}           // NOLINT(google-explicit-constructor)
  Param(bool v) : text(v ? "true" : "false") {}       // NOLINT(google-explicit-constructor)
  Param(const std::optional<Millis>& v) {             // NOLINT(google-explicit-constructor)
    if (v) text = std::to_string(*v);
  }
};

class Result {
 public:
  explicit Result(PGresult* r) : r_(r, &PQclear) {}
  [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
  [[nodiscard]] std::string text(int row, int column) const {
    return {PQgetvalue(r_.get(), row, column),
            static_cast<std::size_t>(PQgetlength(r_.get(), row, column))};
  }
  [[nodiscard]] std::int64_t integer(int row, int column) const {
    return std::stoll(text(row, column));
  }
  [[nodiscard]] bool boolean(int row, int column) const { return text(row, column) == "t"; }
  [[nodiscard]] bool is_null(int row, int column) const {
    return PQgetisnull(r_.get(), row, column) != 0;
  }
  /// Rows a DELETE, UPDATE or INSERT touched.
  [[nodiscard]] std::int64_t changed() const {
    const char* n = PQcmdTuples(r_.get());
    return *n ? std::stoll(n) : 0;
  }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

// Throws with libpq's message unless `r` succeeded. The message names the SQL state, so a
// caller can tell a conflict to retry from an error to report.
Result checked(PGresult* raw, PGconn* conn) {
  Result r(raw);
  const ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  std::string why = raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  throw std::runtime_error("postgresql: " + why);
}

class Connection {
 public:
  Connection(const std::string& conninfo, const std::string& password) {
    // The URL or key=value string is expanded by libpq; a password read from a secret file
    // is passed beside it, never written into the URL.
    std::vector<const char*> keys{"dbname", "application_name"};
    std::vector<const char*> values{conninfo.c_str(), "callswap-server"};
    if (!password.empty()) keys.push_back("password"), values.push_back(password.c_str());
    keys.push_back(nullptr), values.push_back(nullptr);
    conn_.reset(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
      std::string why = conn_ ? PQerrorMessage(conn_.get()) : "out of memory";
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      throw std::runtime_error("postgresql: cannot connect: " + why);
    }
    // Notices (e.g. "relation already exists, skipping") are not the operator's business.
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
  }

  void prepare_all() {
    const auto& sql = statements();
    for (std::size_t i = 0; i < sql.size(); ++i) {
      checked(PQprepare(conn_.get(), statement_name(static_cast<Q>(i)).c_str(), sql[i].c_str(), 0,
                        nullptr),
              conn_.get());
    }
  }

  Result exec(const std::string& sql) {
    return checked(PQexec(conn_.get(), sql.c_str()), conn_.get());
  }

  /// A statement run once (not prepared), with parameters.
  Result query(const std::string& sql, const std::vector<Param>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p.text ? p.text->c_str() : nullptr);
    return checked(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                                values.data(), nullptr, nullptr, 0),
                   conn_.get());
  }

  Result run(Q q, const std::vector<Param>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p.text ? p.text->c_str() : nullptr);
    return checked(
        PQexecPrepared(conn_.get(), statement_name(q).c_str(), static_cast<int>(values.size()),
                       values.data(), nullptr, nullptr, 0),
        conn_.get());
  }

  /// Usable for the next operation: connected and outside any transaction.
  [[nodiscard]] bool healthy() const {
    return PQstatus(conn_.get()) == CONNECTION_OK &&
           PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
  }

 private:
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_{nullptr, &PQfinish};
};

// Row `row` of a result, as the shared row readers (store_rows.hpp) read it.
struct ResultRow {
  const Result& result;
  int row;
  [[nodiscard]] std::string text(int column) const { return result.text(row, column); }
  [[nodiscard]] std::int64_t integer(int column) const { return result.integer(row, column); }
  [[nodiscard]] bool flag(int column) const { return result.boolean(row, column); }
  [[nodiscard]] bool is_null(int column) const { return result.is_null(row, column); }
};

// Every row of a result, read by `read` (one of store_rows.hpp's readers).
template <class Read>
auto read_rows(const Result& r, Read read) {
  std::vector<decltype(read(ResultRow{r, 0}))> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read(ResultRow{r, i}));
  return out;
}

// A ready acknowledgement: the PostgreSQL store commits before it returns, so the caller's
// wait costs nothing; a failure reaches the caller where it waits, as with the SQLite store.
template <class F>
Store::Committed committed_now(F&& apply) {
  std::promise<void> done;
  try {
    apply();
    done.set_value();
  } catch (...) {
    done.set_exception(std::current_exception());
  }
  return done.get_future();
}

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string conninfo, std::string password)
      : conninfo_(std::move(conninfo)), password_(std::move(password)) {
    // Migrating first: statements are prepared against the current schema.
    Connection first(conninfo_, password_);
    migrate(first);
    first.prepare_all();
    idle_.push_back(std::make_unique<Connection>(std::move(first)));
    open_ = 1;
  }

  Committed insert_session(const SessionRow& r) override {
    return committed_now([&] {
      with_connection([&](Connection& c) {
        c.run(Q::insert_session,
              {r.id, r.site, r.pool, r.number, r.source, r.campaign_json, r.landing_path,
               r.created_at, r.last_activity, r.released_at, r.click_id_type, r.click_id,
               r.click_id_consent, r.ga_client_id, r.ga_consent});
      });
    });
  }
  Committed touch_session(const std::string& id, Millis now) override {
    return committed_now([&] {
      with_connection([&](Connection& c) { c.run(Q::touch_session, {id, now}); });
    });
  }
  Committed update_session_ids(const std::string& id, const SessionIdsUpdate& u) override {
    return committed_now([&] {
      transaction([&](Connection& c) {
        c.run(Q::erase_id_deliveries, {id, u.click_id_changes && u.click_id.empty(),
                                       u.ga_changes && u.ga_client_id.empty()});
        c.run(Q::update_session_ids,
              {id, u.click_id_changes, u.click_id_type, u.click_id, u.click_id_consent,
               u.ga_changes, u.ga_client_id, u.ga_consent});
      });
    });
  }
  Committed release_session(const std::string& id, Millis now) override {
    return committed_now([&] {
      transaction([&](Connection& c) {
        c.run(Q::record_release, {id, now});  // before the session says it is released
        c.run(Q::release_session, {id, now});
        c.run(Q::free_number, {id, now});
      });
    });
  }
  std::optional<SessionRow> find_session(const std::string& id) override {
    return with_connection([&](Connection& c) -> std::optional<SessionRow> {
      const Result r = c.run(Q::find_session, {id});
      if (r.rows() == 0) return std::nullopt;
      return read_session(ResultRow{r, 0});
    });
  }
  std::vector<SessionRow> active_sessions() override {
    return with_connection([&](Connection& c) {
      return read_rows(c.run(Q::active_sessions, {}), read_session<ResultRow>);
    });
  }
  std::vector<std::pair<std::string, Millis>> last_releases(const std::string& site) override {
    return with_connection([&](Connection& c) {
      const Result r = c.run(Q::last_releases, {site});
      std::vector<std::pair<std::string, Millis>> out;
      for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.integer(i, 1));
      return out;
    });
  }
  std::optional<SessionRow> session_holding(const std::string& site, const std::string& number,
                                            Millis at, Millis grace) override {
    return with_connection([&](Connection& c) -> std::optional<SessionRow> {
      const Result r = c.run(Q::holding, {site, number, at, grace});
      if (r.rows() == 0) return std::nullopt;
      return read_session(ResultRow{r, 0});
    });
  }

  bool insert_call(const CallRow& call) override {
    return with_connection([&](Connection& c) {
      const Result r = c.run(
          Q::insert_call,
          {call.provider_call_id, call.site, call.called_number, call.status, call.duration_seconds,
           call.started_at, call.session_id, call.source, call.attribution, call.campaign_json,
           call.caller_key_id, call.caller_ciphertext, call.caller_hash, call.restricted});
      return r.rows() == 1 && r.boolean(0, 0);
    });
  }
  std::optional<CallRow> find_call(const std::string& id) override {
    return with_connection([&](Connection& c) -> std::optional<CallRow> {
      const Result r = c.run(Q::find_call, {id});
      if (r.rows() == 0) return std::nullopt;
      return read_call(ResultRow{r, 0});
    });
  }
  std::int64_t count_calls(const std::string& site) override {
    return with_connection(
        [&](Connection& c) { return c.run(Q::count_calls, {site}).integer(0, 0); });
  }
  std::vector<CallRow> calls_by_caller(const std::string& caller_hash) override {
    return calls(Q::calls_by_caller, {caller_hash});
  }
  std::vector<CallRow> calls_by_session(const std::string& session_id) override {
    return calls(Q::calls_by_session, {session_id});
  }

  Committed erase(const Erasure& e) override {
    // synchronous_commit is on (PostgreSQL's default, and not changed here): the commit
    // returns once the erasure is in the write-ahead log on disk.
    if (e.session_ids.size() == 1 && e.call_ids.empty() && e.tombstones.empty() &&
        e.caller_hash.empty()) {
      return committed_now([&] {
        with_connection([&](Connection& c) { c.run(Q::erase_visit, {e.session_ids[0], e.at}); });
      });
    }
    return committed_now([&] {
      transaction([&](Connection& c) {
        for (const std::string& id : e.call_ids) {
          c.run(Q::erase_call, {id});
          c.run(Q::erase_call_deliveries, {id});
        }
        for (const auto& t : e.tombstones) c.run(Q::add_tombstone, {t.call_key, t.site, e.at});
        for (const std::string& id : e.session_ids) {
          c.run(Q::record_release, {id, e.at});
          c.run(Q::free_number, {id, e.at});
          c.run(Q::erase_session, {id});  // the trigger cuts the session from its calls
          c.run(Q::erase_session_deliveries, {id});
        }
        if (!e.caller_hash.empty()) c.run(Q::remove_restriction, {e.caller_hash});
      });
    });
  }

  // Deleted row versions stay in their pages until VACUUM removes them; run it on the tables
  // that hold personal data, so the removed rows are no longer in any live page's index or
  // tuple area (see docs/deploy.md for what the write-ahead log and backups still hold).
  void scrub() override {
    with_connection([&](Connection& c) {
      c.exec("VACUUM sessions, calls, restricted_callers, erased_calls, outbox");
    });
  }

  bool call_erased(const std::string& call_key) override {
    return with_connection(
        [&](Connection& c) { return c.run(Q::call_erased, {call_key}).rows() > 0; });
  }

  void restrict(const Restriction& r) override {
    transaction([&](Connection& c) {
      for (const std::string& id : r.call_ids) {
        c.run(Q::restrict_call, {id, r.restricted});
        if (r.restricted) c.run(Q::restrict_call_deliveries, {id});
      }
      for (const std::string& id : r.session_ids) {
        c.run(Q::restrict_session, {id, r.restricted});
        if (r.restricted) c.run(Q::restrict_session_deliveries, {id});
      }
      if (r.caller_hash.empty()) return;
      if (r.restricted) {
        c.run(Q::add_restriction, {r.caller_hash, r.at});
      } else {
        c.run(Q::remove_restriction, {r.caller_hash});
      }
    });
  }

  bool caller_restricted(const std::string& caller_hash, Millis now) override {
    return with_connection([&](Connection& c) {
      // Most callers are not restricted: a read answers them without a write.
      if (c.run(Q::restriction_exists, {caller_hash}).rows() == 0) return false;
      return c.run(Q::refresh_restriction, {caller_hash, now}).changed() >
             0;  // lifted meanwhile: no longer
    });
  }

  void rectify_call(const std::string& id, const std::string& source,
                    const std::string& classification) override {
    with_connection([&](Connection& c) { c.run(Q::rectify_call, {id, source, classification}); });
  }
  std::vector<CallRow> reportable_calls(const std::string& site, Millis from, Millis to) override {
    return calls(Q::reportable_calls, {site, from, to});
  }
  std::optional<Millis> first_call_at(const std::string& site,
                                      const std::string& caller_hash) override {
    return with_connection([&](Connection& c) -> std::optional<Millis> {
      const Result r = c.run(Q::first_call, {site, caller_hash});
      if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
      return r.integer(0, 0);
    });
  }

  void append_audit(const AuditEntry& e) override {
    with_connection([&](Connection& c) {
      c.run(Q::append_audit, {e.at, e.actor, e.action, e.site, e.detail_json});
    });
  }
  std::vector<AuditEntry> audit_entries(Millis from, Millis to) override {
    return with_connection([&](Connection& c) {
      const Result r = c.run(Q::audit_entries, {from, to});
      std::vector<AuditEntry> out;
      for (int i = 0; i < r.rows(); ++i) {
        out.push_back(
            AuditEntry{r.integer(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4)});
      }
      return out;
    });
  }

  Purged purge(const std::string& site, const PurgeCutoffs& cutoffs) override {
    Purged purged;
    purged.sessions = drain(Q::purge_sessions, site, cutoffs.sessions_before);
    purged.calls = drain(Q::purge_calls, site, cutoffs.calls_before);
    purged.samples = drain(Q::purge_samples, site, cutoffs.calls_before);
    purged.audit = drain(Q::purge_audit, site, cutoffs.audit_before);
    purged.tombstones = drain(Q::purge_tombstones, site, cutoffs.tombstones_before);
    purged.deliveries = drain(Q::purge_deliveries, site, cutoffs.deliveries_before);
    return purged;
  }
  std::int64_t purge_restrictions(Millis before) override {
    return with_connection(
        [&](Connection& c) { return c.run(Q::purge_restrictions, {before}).changed(); });
  }
  std::vector<std::string> sites_with_data() override {
    return with_connection([&](Connection& c) {
      const Result r = c.run(Q::sites_with_data, {});
      std::vector<std::string> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
      return out;
    });
  }
  std::optional<PurgeMark> purge_mark() override {
    return with_connection([&](Connection& c) -> std::optional<PurgeMark> {
      const Result r = c.run(Q::purge_mark, {});
      if (r.rows() == 0 || r.is_null(0, 0) || r.is_null(0, 1)) return std::nullopt;
      return PurgeMark{r.integer(0, 0), r.integer(0, 1)};
    });
  }
  void set_purge_mark(const PurgeMark& mark) override {
    with_connection([&](Connection& c) { c.run(Q::set_purge_mark, {mark.purged_by, mark.clock}); });
  }

  std::vector<CallRow> calls_to_reseal(const std::string& current_key_id) override {
    return calls(Q::to_reseal, {current_key_id});
  }
  void reseal_caller(const std::string& id, const std::string& key_id,
                     const std::string& ciphertext) override {
    with_connection([&](Connection& c) { c.run(Q::reseal, {id, key_id, ciphertext}); });
  }

  bool enqueue_delivery(const Delivery& d) override {
    return with_connection([&](Connection& c) {
      return c.run(Q::enqueue_delivery, {d.site, d.destination, d.event, d.idempotency_key, d.body,
                                         d.call_id, d.session_id, d.created_at, d.next_attempt_at})
                 .changed() > 0;
    });
  }
  std::vector<Delivery> due_deliveries(Millis now, int limit) override {
    return read_deliveries(Q::due_deliveries, {now, limit});
  }
  void record_attempt(const Delivery& d) override {
    with_connection([&](Connection& c) {
      c.run(Q::record_attempt,
            {d.id, d.state, d.attempts, d.next_attempt_at, d.last_error, d.finished_at});
    });
  }
  std::vector<Delivery> deliveries(const std::string& site, Millis from, Millis to) override {
    return read_deliveries(Q::deliveries, {site, from, to});
  }
  std::vector<ClickedCall> clicked_calls(const std::string& site, Millis from, Millis to) override {
    return with_connection([&](Connection& c) {
      return read_rows(c.run(Q::clicked_calls, {site, from, to}), read_clicked_call<ResultRow>);
    });
  }

  std::unique_ptr<Assignments> shared_assignments(const std::vector<PoolSpec>& pools) override;

  // The database's pools (assignments.hpp), for DatabaseAssignments.
  void configure_pools(const std::vector<PoolSpec>& pools) {
    transaction([&](Connection& c) {
      c.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kPoolConfigLock) + ")");
      for (const PoolSpec& spec : pools) {
        std::string numbers = "{";
        for (const std::string& n : spec.numbers) numbers += (numbers.size() > 1 ? "," : "") + n;
        numbers += "}";
        // Each configured number gets its row; a database that a single instance served
        // before keeps its cool-downs (number_releases) and its live sessions.
        c.query(
            "INSERT INTO pool_numbers (site, number, pool, position, released_at) "
            "SELECT $1, n.number, $2, n.position, coalesce((SELECT released_at FROM "
            "number_releases r WHERE r.site = $1 AND r.number = n.number), 0) FROM "
            "unnest($3::text[]) WITH ORDINALITY AS n(number, position) ON CONFLICT (site, number) "
            "DO UPDATE SET pool = excluded.pool, position = excluded.position",
            {spec.site, spec.pool, numbers});
        c.query(
            "UPDATE pool_numbers p SET session_id = s.id, last_activity = s.last_activity FROM "
            "sessions s WHERE p.site = $1 AND p.pool = $2 AND p.session_id IS NULL AND s.site = "
            "p.site AND s.number = p.number AND s.released_at IS NULL AND NOT EXISTS (SELECT 1 "
            "FROM pool_numbers q WHERE q.session_id = s.id)",
            {spec.site, spec.pool});
        // A number taken out of the config is no longer handed out once its session ends.
        c.query(
            "DELETE FROM pool_numbers WHERE site = $1 AND pool = $2 AND session_id IS NULL AND "
            "NOT (number = ANY($3::text[]))",
            {spec.site, spec.pool, numbers});
      }
    });
  }
  std::optional<Assignment> assign_number(const SessionRow& r, const PoolSettings& settings,
                                          Millis now, bool displace) {
    return with_connection([&](Connection& c) -> std::optional<Assignment> {
      const Result result = c.run(displace ? Q::assign_reuse : Q::assign_free,
                                  {r.site, r.pool, settings.hold_ms, settings.cooldown_ms, now,
                                   r.id, r.source, r.campaign_json, r.landing_path, r.click_id_type,
                                   r.click_id, r.click_id_consent, r.ga_client_id, r.ga_consent});
      if (result.rows() == 0) return std::nullopt;
      return Assignment{result.text(0, 0), result.text(0, 1)};
    });
  }
  void count_exhausted(const PoolSpec& spec, bool reused) {
    with_connection([&](Connection& c) {
      c.run(Q::count_exhausted, {spec.site, spec.pool, reused ? 1 : 0});
    });
  }
  bool touch_held(const std::string& id, Millis hold_ms, Millis now) {
    return with_connection([&](Connection& c) {
      return c.run(Q::touch_held, {id, now, hold_ms}).rows() > 0;
    });
  }
  std::int64_t expire_pool(const PoolSpec& spec, Millis now) {
    return with_connection([&](Connection& c) {
      return c.run(Q::expire_pool, {spec.site, spec.pool, spec.settings.hold_ms, now})
          .integer(0, 0);
    });
  }
  PoolStats pool_stats(const PoolSpec& spec, Millis now) {
    return with_connection([&](Connection& c) {
      const Result r = c.run(Q::pool_stats, {spec.site, spec.pool, spec.settings.cooldown_ms, now});
      PoolStats stats;
      stats.size = static_cast<std::size_t>(r.integer(0, 0));
      stats.active = static_cast<std::size_t>(r.integer(0, 1));
      stats.cooling = static_cast<std::size_t>(r.integer(0, 2));
      stats.free = stats.size - stats.active - stats.cooling;
      stats.exhausted = static_cast<std::uint64_t>(r.integer(0, 3));
      stats.reused = static_cast<std::uint64_t>(r.integer(0, 4));
      return stats;
    });
  }

  void insert_pool_sample(const PoolSample& p) override {
    with_connection([&](Connection& c) {
      c.run(Q::insert_sample, {p.site, p.pool, p.at, p.active, p.size, p.exhausted_total});
    });
  }
  std::vector<PoolSample> pool_samples(const std::string& site, const std::string& pool,
                                       Millis from, Millis to) override {
    return with_connection([&](Connection& c) {
      const Result r = c.run(Q::samples, {site, pool, from, to});
      std::vector<PoolSample> out;
      for (int i = 0; i < r.rows(); ++i) {
        out.push_back(PoolSample{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.integer(i, 3),
                                 r.integer(i, 4), r.integer(i, 5)});
      }
      return out;
    });
  }

 private:
  static void migrate(Connection& c) {
    // Session-level advisory lock: held across the migrations' own transactions, released
    // when this instance is done (or its connection drops).
    c.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")");
    try {
      c.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      const int version = static_cast<int>(
          c.exec("SELECT coalesce(max(version), 0) FROM schema_version").integer(0, 0));
      apply_migrations(SqlDialect::postgresql, version,
                       [&c](const std::string& sql) { c.exec(sql); });
    } catch (...) {
      c.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
      throw;
    }
    c.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
  }

  // Deletes in batches of 5,000, one transaction each: requests get the rows between them.
  std::int64_t drain(Q statement, const std::string& site, Millis before) {
    std::int64_t total = 0;
    while (true) {
      const std::int64_t deleted = with_connection([&](Connection& c) {
        return c.run(statement, {site, before}).changed();
      });
      total += deleted;
      if (deleted < 5000) return total;
    }
  }

  std::vector<CallRow> calls(Q q, const std::vector<Param>& params) {
    return with_connection(
        [&](Connection& c) { return read_rows(c.run(q, params), read_call<ResultRow>); });
  }
  std::vector<Delivery> read_deliveries(Q q, const std::vector<Param>& params) {
    return with_connection(
        [&](Connection& c) { return read_rows(c.run(q, params), read_delivery<ResultRow>); });
  }

  // A connection for one operation: an idle one, a new one while fewer than kMaxConnections
  // are open, or the next one given back. A connection that is broken or left inside a
  // transaction is closed, not reused.
  template <class F>
  std::invoke_result_t<F&, Connection&> with_connection(F&& use) {
    std::unique_ptr<Connection> c = acquire();
    struct GiveBack {
      PostgresStore& store;
      std::unique_ptr<Connection>& c;
      ~GiveBack() { store.release(std::move(c)); }
    } give_back{*this, c};
    return use(*c);
  }

  // One transaction; a statement that fails rolls it all back. A deadlock or a
  // serialization failure is retried (the database chose this transaction to give way).
  template <class F>
  void transaction(F&& body) {
    for (int attempt = 1;; ++attempt) {
      try {
        with_connection([&](Connection& c) {
          c.exec("BEGIN");
          try {
            body(c);
            c.exec("COMMIT");
          } catch (...) {
            try {
              c.exec("ROLLBACK");
            } catch (...) {  // a broken connection is dropped when given back
            }
            throw;
          }
        });
        return;
      } catch (const std::runtime_error& e) {
        const std::string why = e.what();
        const bool retry = why.find("deadlock detected") != std::string::npos ||
                           why.find("could not serialize") != std::string::npos;
        if (!retry || attempt == 3) throw;
      }
    }
  }

  std::unique_ptr<Connection> acquire() {
    {
      std::unique_lock lock(pool_mutex_);
      given_back_.wait(lock, [&] { return !idle_.empty() || open_ < kMaxConnections; });
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      ++open_;  // counted before connecting, so no more than kMaxConnections are ever opened
    }
    try {
      auto c = std::make_unique<Connection>(conninfo_, password_);
      c->prepare_all();
      return c;
    } catch (...) {
      {
        std::lock_guard lock(pool_mutex_);
        --open_;
      }
      given_back_.notify_one();
      throw;
    }
  }

  void release(std::unique_ptr<Connection> c) {
    {
      std::lock_guard lock(pool_mutex_);
      if (c && c->healthy()) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    given_back_.notify_one();
  }

  // Each request holds a connection for one statement or transaction, mostly waiting for the
  // commit to reach the disk: more connections than cores let commits share a flush.
  static constexpr int kMaxConnections = 24;

  std::string conninfo_;
  std::string password_;
  std::mutex pool_mutex_;
  std::condition_variable given_back_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

// The pools decided by the database: every operation is one transaction on it, so any
// number of instances may serve at once. What this process keeps is only the config and
// the highest number of active sessions it has seen (the pool report's peak since start).
class DatabaseAssignments final : public Assignments {
 public:
  DatabaseAssignments(std::vector<PoolSpec> pools, PostgresStore& store)
      : pools_(std::move(pools)), store_(store), peaks_(pools_.size()) {
    store_.configure_pools(pools_);
  }

  std::optional<Assignment> assign(SessionRow session, Millis now) override {
    const auto index = find(session.site, session.pool);
    if (!index) return std::nullopt;
    const PoolSpec& spec = pools_[*index];
    if (auto taken = store_.assign_number(session, spec.settings, now, false)) return taken;
    std::optional<Assignment> taken;
    if (spec.settings.when_exhausted == PoolSettings::WhenExhausted::reuse_least_active)
      taken = store_.assign_number(session, spec.settings, now, true);
    store_.count_exhausted(spec, taken.has_value());
    return taken;
  }

  bool touch(const SessionRow& session, Millis now) override {
    const auto index = find(session.site, session.pool);
    return index && store_.touch_held(session.id, pools_[*index].settings.hold_ms, now);
  }

  // The store's erasure gives the numbers back in its own transaction.
  void erase(const Store::Erasure& erasure) override { store_.erase(erasure).get(); }
  void release_for_erasure(const SessionRow&, Millis) override {}

  void expire(Millis now) override {
    for (const PoolSpec& spec : pools_) store_.expire_pool(spec, now);
  }

  PoolStats stats(const std::string& site, const std::string& pool, Millis now) override {
    const auto index = find(site, pool);
    if (!index) return {};
    PoolStats stats = store_.pool_stats(pools_[*index], now);
    std::lock_guard lock(peaks_mutex_);
    peaks_[*index] = std::max(peaks_[*index], stats.active);
    stats.peak_active = peaks_[*index];
    return stats;
  }

 private:
  [[nodiscard]] std::optional<std::size_t> find(const std::string& site,
                                                const std::string& pool) const {
    for (std::size_t i = 0; i < pools_.size(); ++i) {
      if (pools_[i].site == site && pools_[i].pool == pool) return i;
    }
    return std::nullopt;
  }

  std::vector<PoolSpec> pools_;
  PostgresStore& store_;
  std::mutex peaks_mutex_;
  std::vector<std::size_t> peaks_;  // the most active sessions this instance has seen
};

std::unique_ptr<Assignments> PostgresStore::shared_assignments(const std::vector<PoolSpec>& pools) {
  return std::make_unique<DatabaseAssignments>(pools, *this);
}

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& conninfo,
                                           const std::string& password) {
  return std::make_unique<PostgresStore>(conninfo, password);
}

int postgres_schema_version() {
  return static_cast<int>(schema_migrations(SqlDialect::postgresql).size());
}

}  // namespace callswap::server
