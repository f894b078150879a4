// The SQLite store: one file, WAL, versioned migrations applied at start, prepared
// statements only, one connection guarded by a mutex (SQLite serialises writers anyway).

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "assignments.hpp"
#include "schema.hpp"
#include "store.hpp"
#include "store_rows.hpp"

namespace callswap::server {
namespace {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite: cannot prepare statement: ") +
                               sqlite3_errmsg(db));
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(statement_); }

  Statement& bind(int index, const std::string& value) {
    sqlite3_bind_text(statement_, index, value.c_str(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  Statement& bind(int index, const std::optional<Millis>& value) {
    if (value) return bind(index, *value);
    sqlite3_bind_null(statement_, index);
    return *this;
  }
  /// Steps once: true while there is a row.
  bool step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("sqlite: ") +
                             sqlite3_errmsg(sqlite3_db_handle(statement_)));
  }
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(statement_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
             : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  bool flag(int column) const { return integer(column) != 0; }
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// Resets a statement when a use of it ends, however it ends.
class Use {
 public:
  explicit Use(Statement& s) : s_(s) {}
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  ~Use() { s_.reset(); }
  Statement* operator->() { return &s_; }

 private:
  Statement& s_;
};

// A session's ids set (?2, ?6: 1) or left as they are; an empty value removes one.
constexpr const char* kUpdateSessionIds =
    "UPDATE sessions SET "
    "click_id_type = CASE WHEN ?2 THEN nullif(?3, '') ELSE click_id_type END, "
    "click_id = CASE WHEN ?2 THEN nullif(?4, '') ELSE click_id END, "
    "click_id_consent = CASE WHEN ?2 THEN nullif(?5, '') ELSE click_id_consent END, "
    "ga_client_id = CASE WHEN ?6 THEN nullif(?7, '') ELSE ga_client_id END, "
    "ga_consent = CASE WHEN ?6 THEN nullif(?8, '') ELSE ga_consent END "
    "WHERE id = ?1 AND released_at IS NULL";
// Before an id is removed (?2: the click id, ?3: the GA client id): the session's deliveries
// that carry it, pending or sent, so it neither leaves later nor stays in the outbox.
constexpr const char* kEraseIdDeliveries =
    "DELETE FROM outbox WHERE session_id = ?1 AND ("
    "(?2 AND instr(body, (SELECT click_id FROM sessions WHERE id = ?1)) > 0) OR "
    "(?3 AND instr(body, (SELECT ga_client_id FROM sessions WHERE id = ?1)) > 0))";

std::int64_t read_integer(const Statement& r) {
  return r.integer(0);
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open database '" + path + "': " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = NORMAL");
    exec("PRAGMA foreign_keys = ON");
    // Deleted rows are overwritten, not left in free pages: an erasure must really erase.
    exec("PRAGMA secure_delete = ON");
    migrate();
    // Reads have a connection of their own: in WAL mode they see the last commit without
    // waiting for the writer, whose commits may be syncing to disk. An in-memory database
    // (tests, fuzzing) exists only in its one connection, so there reads share it.
    if (path == ":memory:") {
      reader_ = db_;
    } else if (sqlite3_open_v2(path.c_str(), &reader_,
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                               nullptr) != SQLITE_OK) {
      std::string why = reader_ ? sqlite3_errmsg(reader_) : "out of memory";
      sqlite3_close(reader_);
      sqlite3_close(db_);
      throw std::runtime_error("cannot open database '" + path + "' for reading: " + why);
    }
    if (reader_ != db_) {
      sqlite3_busy_timeout(reader_, 5000);
      sqlite3_exec(reader_, "PRAGMA query_only = ON", nullptr, nullptr, nullptr);
    }
    // Statements that write go to the writing connection, reads to the reading one.
    const auto writing = [this](const std::string& sql) {
      return std::make_unique<Statement>(db_, sql.c_str());
    };
    const auto reading = [this](const std::string& sql) {
      return std::make_unique<Statement>(reader_, sql.c_str());
    };
    insert_session_ = writing(
        "INSERT INTO sessions (id, site, pool, number, source, campaign_json, landing_path, "
        "created_at, last_activity, released_at, "
        "click_id_type, click_id, click_id_consent, ga_client_id, ga_consent) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, nullif(?11, ''), nullif(?12, ''), "
        "nullif(?13, ''), nullif(?14, ''), nullif(?15, ''))");
    touch_session_ = writing(
        "UPDATE sessions SET last_activity = max(last_activity, ?2) "
        "WHERE id = ?1 AND released_at IS NULL");
    release_session_ =
        writing("UPDATE sessions SET released_at = ?2 WHERE id = ?1 AND released_at IS NULL");
    update_session_ids_ = writing(kUpdateSessionIds);
    erase_id_deliveries_ = writing(kEraseIdDeliveries);
    // The pool's cool-downs survive a restart even when the session itself is erased.
    record_release_ = writing(
        "INSERT INTO number_releases (site, number, released_at) SELECT site, number, ?2 FROM "
        "sessions "
        "WHERE id = ?1 AND released_at IS NULL ON CONFLICT (site, number) DO UPDATE SET "
        "released_at = max(released_at, excluded.released_at)");
    erase_session_ = writing("DELETE FROM sessions WHERE id = ?1");
    add_tombstone_ = writing(
        "INSERT INTO erased_calls (call_key, site, erased_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (call_key) DO UPDATE SET erased_at = excluded.erased_at");
    call_erased_ = reading("SELECT 1 FROM erased_calls WHERE call_key = ?1");
    add_restriction_ = writing(
        "INSERT INTO restricted_callers (caller_hash, since) VALUES (?1, ?2) "
        "ON CONFLICT (caller_hash) DO UPDATE SET since = max(since, excluded.since)");
    remove_restriction_ = writing("DELETE FROM restricted_callers WHERE caller_hash = ?1");
    restriction_exists_ = reading("SELECT 1 FROM restricted_callers WHERE caller_hash = ?1");
    refresh_restriction_ =
        writing("UPDATE restricted_callers SET since = max(since, ?2) WHERE caller_hash = ?1");
    find_session_ =
        reading(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?1");
    active_sessions_ = reading(std::string("SELECT ") + kSessionColumns +
                               " FROM sessions WHERE released_at IS NULL ORDER BY last_activity");
    last_releases_ = reading("SELECT number, released_at FROM number_releases WHERE site = ?1");
    holding_ = reading(
        std::string("SELECT ") + kSessionColumns +
        " FROM sessions WHERE site = ?1 AND number = ?2 AND created_at <= ?3 "
        "AND (released_at IS NULL OR released_at + ?4 >= ?3) ORDER BY created_at DESC LIMIT 1");
    // A repeated delivery (or the next status of the same call) updates status and duration;
    // the attribution made at the first delivery stays.
    call_exists_ = writing("SELECT 1 FROM calls WHERE provider_call_id = ?1");
    insert_call_ = writing(
        "INSERT INTO calls (provider_call_id, site, called_number, status, duration_seconds, "
        "started_at, session_id, source, attribution, "
        "campaign_json, caller_key_id, caller_ciphertext, caller_hash, restricted) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, ''), nullif(?8, ''), ?9, ?10, nullif(?11, ''), "
        "nullif(?12, ''), nullif(?13, ''), ?14) "
        "ON CONFLICT (provider_call_id) DO UPDATE SET status = excluded.status, "
        "duration_seconds = max(duration_seconds, excluded.duration_seconds), restricted = "
        "max(restricted, excluded.restricted)");
    find_call_ =
        reading(std::string("SELECT ") + kCallColumns + " FROM calls WHERE provider_call_id = ?1");
    to_reseal_ = reading(std::string("SELECT ") + kCallColumns +
                         " FROM calls WHERE caller_key_id IS NOT NULL AND caller_key_id != ?1");
    reseal_ = writing(
        "UPDATE calls SET caller_key_id = ?2, caller_ciphertext = ?3 WHERE provider_call_id = ?1");
    count_calls_ = reading("SELECT count(*) FROM calls WHERE site = ?1");
    // In batches, so a purge of millions of rows never holds the database for long: a site's
    // rows whose `age` column is before ?2 (and that meet `also`).
    const auto purge_batch = [&writing](const std::string& table, const std::string& age,
                                        const std::string& also = "") {
      return writing("DELETE FROM " + table + " WHERE rowid IN (SELECT rowid FROM " + table +
                     " WHERE site = ?1 AND " + also + age + " < ?2 LIMIT 5000)");
    };
    purge_sessions_ = purge_batch("sessions", "last_activity", "released_at IS NOT NULL AND ");
    purge_calls_ = purge_batch("calls", "started_at");
    purge_samples_ = purge_batch("pool_samples", "at");
    purge_tombstones_ = purge_batch("erased_calls", "erased_at");
    purge_audit_ = purge_batch("audit", "at");
    purge_restrictions_ = writing("DELETE FROM restricted_callers WHERE since < ?1");
    sites_with_data_ = reading(
        "SELECT site FROM sessions UNION SELECT site FROM calls UNION SELECT site FROM audit "
        "UNION SELECT site FROM pool_samples UNION SELECT site FROM erased_calls UNION SELECT site "
        "FROM number_releases "
        "UNION SELECT site FROM outbox");
    watermark_ = reading(
        "SELECT (SELECT value FROM meta WHERE key = 'purged_by'), "
        "(SELECT value FROM meta WHERE key = 'purge_clock')");
    set_watermark_ = writing(
        "INSERT INTO meta (key, value) VALUES ('purged_by', ?1), ('purge_clock', ?2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    calls_by_caller_ = reading(std::string("SELECT ") + kCallColumns +
                               " FROM calls WHERE caller_hash = ?1 ORDER BY started_at");
    calls_by_session_ = reading(std::string("SELECT ") + kCallColumns +
                                " FROM calls WHERE session_id = ?1 ORDER BY started_at");
    erase_call_ = writing("DELETE FROM calls WHERE provider_call_id = ?1");
    restrict_call_ = writing("UPDATE calls SET restricted = ?2 WHERE provider_call_id = ?1");
    restrict_session_ = writing("UPDATE sessions SET restricted = ?2 WHERE id = ?1");
    rectify_call_ = writing(
        "UPDATE calls SET source = nullif(?2, ''), "
        "classification = ?3 WHERE provider_call_id = ?1");
    reportable_calls_ =
        reading(std::string("SELECT ") + kCallColumns +
                " FROM calls WHERE site = ?1 AND started_at >= ?2 AND started_at < ?3 AND "
                "restricted = 0 ORDER BY started_at");
    first_call_ = reading("SELECT min(started_at) FROM calls WHERE site = ?1 AND caller_hash = ?2");
    append_audit_ = writing(
        "INSERT INTO audit (at, actor, action, site, detail_json) VALUES (?1, ?2, ?3, ?4, ?5)");
    audit_entries_ = reading(
        "SELECT at, actor, action, site, detail_json FROM "
        "audit WHERE at >= ?1 AND at < ?2 ORDER BY id");
    insert_sample_ = writing(
        "INSERT INTO pool_samples (site, pool, at, active, size, "
        "exhausted_total) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    samples_ = reading(
        "SELECT site, pool, at, active, size, exhausted_total FROM pool_samples WHERE site = ?1 "
        "AND pool = ?2 AND at >= ?3 AND at < ?4 ORDER BY at");
    enqueue_delivery_ = writing(
        "INSERT INTO outbox (site, destination, event, idempotency_key, body, call_id, session_id, "
        "created_at, next_attempt_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, ''), nullif(?7, ''), ?8, ?9) ON CONFLICT "
        "(idempotency_key) DO NOTHING");
    due_deliveries_ =
        reading(std::string("SELECT ") + kDeliveryColumns +
                " FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY "
                "next_attempt_at, id LIMIT ?2");
    record_attempt_ = writing(
        "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at "
        "= ?4, last_error = ?5, finished_at = ?6 "
        "WHERE id = ?1 AND state = 'pending'");
    deliveries_ = reading(
        std::string("SELECT ") + kDeliveryColumns +
        " FROM outbox WHERE site = ?1 AND created_at >= ?2 AND created_at < ?3 ORDER BY id");
    erase_call_deliveries_ = writing("DELETE FROM outbox WHERE call_id = ?1");
    erase_session_deliveries_ = writing("DELETE FROM outbox WHERE session_id = ?1");
    restrict_call_deliveries_ =
        writing("DELETE FROM outbox WHERE call_id = ?1 AND state = 'pending'");
    restrict_session_deliveries_ =
        writing("DELETE FROM outbox WHERE session_id = ?1 AND state = 'pending'");
    purge_deliveries_ = purge_batch("outbox", "created_at");
    clicked_calls_ =
        reading(std::string("SELECT ") + kClickedCallColumns +
                " FROM calls c JOIN sessions s ON s.id = c.session_id "
                "WHERE c.site = ?1 AND c.started_at >= ?2 AND c.started_at < ?3 AND c.restricted "
                "= 0 AND s.restricted = 0 AND s.click_id IS NOT NULL ORDER BY c.started_at");
    writer_ = std::thread([this] { writer_loop(); });
  }

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  ~SqliteStore() override {
    {
      std::lock_guard lock(queue_mutex_);
      writer_stopping_ = true;  // what is queued is still committed
    }
    queue_ready_.notify_all();
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard lock(scrub_mutex_);
      closing_ = true;
    }
    scrub_wanted_.notify_all();
    if (scrubber_.joinable()) scrubber_.join();
    // Statements first, then a clean close (checkpoints the WAL).
    insert_session_.reset(), touch_session_.reset(), release_session_.reset(),
        record_release_.reset(), erase_session_.reset();
    call_exists_.reset();
    find_session_.reset(), active_sessions_.reset(), last_releases_.reset(), holding_.reset();
    insert_call_.reset(), find_call_.reset(), count_calls_.reset(), insert_sample_.reset(),
        samples_.reset();
    purge_sessions_.reset(), purge_calls_.reset(), purge_samples_.reset(), to_reseal_.reset(),
        reseal_.reset();
    calls_by_caller_.reset(), calls_by_session_.reset(), erase_call_.reset(),
        restrict_call_.reset();
    restrict_session_.reset(), rectify_call_.reset(), reportable_calls_.reset(),
        first_call_.reset();
    append_audit_.reset(), audit_entries_.reset(), purge_audit_.reset();
    add_tombstone_.reset(), call_erased_.reset(), add_restriction_.reset(),
        remove_restriction_.reset();
    refresh_restriction_.reset(), restriction_exists_.reset(), purge_tombstones_.reset(),
        purge_restrictions_.reset(), sites_with_data_.reset();
    watermark_.reset(), set_watermark_.reset();
    enqueue_delivery_.reset(), due_deliveries_.reset(), record_attempt_.reset(),
        deliveries_.reset();
    erase_call_deliveries_.reset(), erase_session_deliveries_.reset(),
        restrict_call_deliveries_.reset();
    restrict_session_deliveries_.reset(), purge_deliveries_.reset(), clicked_calls_.reset();
    update_session_ids_.reset(), erase_id_deliveries_.reset();
    if (reader_ != db_) sqlite3_close(reader_);
    sqlite3_close(db_);
  }

  Committed insert_session(const SessionRow& r) override {
    return submit(Commit::normal, [this, r] {
      Use s(*insert_session_);
      s->bind(1, r.id)
          .bind(2, r.site)
          .bind(3, r.pool)
          .bind(4, r.number)
          .bind(5, r.source)
          .bind(6, r.campaign_json)
          .bind(7, r.landing_path)
          .bind(8, r.created_at)
          .bind(9, r.last_activity)
          .bind(10, r.released_at)
          .bind(11, r.click_id_type)
          .bind(12, r.click_id)
          .bind(13, r.click_id_consent)
          .bind(14, r.ga_client_id)
          .bind(15, r.ga_consent);
      s->step();
    });
  }
  Committed touch_session(const std::string& id, Millis now) override {
    return submit(Commit::normal, [this, id, now] { step_once(*touch_session_, id, now); });
  }
  Committed update_session_ids(const std::string& id, const SessionIdsUpdate& u) override {
    // Removing an id is a consent withdrawal: durable, and gone from the files' bytes.
    return submit(u.removes() ? Commit::durable_and_scrubbed : Commit::normal, [this, id, u] {
      step_once(*erase_id_deliveries_, id, std::int64_t{u.click_id_changes && u.click_id.empty()},
                std::int64_t{u.ga_changes && u.ga_client_id.empty()});
      step_once(*update_session_ids_, id, std::int64_t{u.click_id_changes}, u.click_id_type,
                u.click_id, u.click_id_consent, std::int64_t{u.ga_changes}, u.ga_client_id,
                u.ga_consent);
    });
  }
  Committed release_session(const std::string& id, Millis now) override {
    return submit(Commit::normal, [this, id, now] {
      step_once(*record_release_, id, now);  // before the session says it is released
      step_once(*release_session_, id, now);
    });
  }
  std::optional<SessionRow> find_session(const std::string& id) override {
    return first_row(read_session<Statement>, *find_session_, id);
  }

  std::vector<SessionRow> active_sessions() override {
    return rows(read_session<Statement>, *active_sessions_);
  }

  std::vector<std::pair<std::string, Millis>> last_releases(const std::string& site) override {
    return rows(
        [](const Statement& r) {
          return std::pair{r.text(0), r.integer(1)};
        },
        *last_releases_, site);
  }

  std::optional<SessionRow> session_holding(const std::string& site, const std::string& number,
                                            Millis at, Millis grace) override {
    return first_row(read_session<Statement>, *holding_, site, number, at, grace);
  }

  bool insert_call(const CallRow& c) override {
    bool exists = false;
    submit(Commit::normal, [&] {
      {
        Use e(*call_exists_);
        e->bind(1, c.provider_call_id);
        exists = e->step();
      }
      Use s(*insert_call_);
      s->bind(1, c.provider_call_id)
          .bind(2, c.site)
          .bind(3, c.called_number)
          .bind(4, c.status)
          .bind(5, static_cast<std::int64_t>(c.duration_seconds))
          .bind(6, c.started_at)
          .bind(7, c.session_id)
          .bind(8, c.source)
          .bind(9, c.attribution)
          .bind(10, c.campaign_json)
          .bind(11, c.caller_key_id)
          .bind(12, c.caller_ciphertext)
          .bind(13, c.caller_hash)
          .bind(14, static_cast<std::int64_t>(c.restricted));
      s->step();
    }).get();
    return !exists;
  }

  std::optional<CallRow> find_call(const std::string& id) override {
    return first_row(read_call<Statement>, *find_call_, id);
  }

  std::vector<CallRow> calls_to_reseal(const std::string& current_key_id) override {
    return calls(*to_reseal_, current_key_id);
  }

  void reseal_caller(const std::string& id, const std::string& key_id,
                     const std::string& ciphertext) override {
    run(*reseal_, id, key_id, ciphertext);
  }

  std::int64_t count_calls(const std::string& site) override {
    return first_row(read_integer, *count_calls_, site).value_or(0);
  }

  std::vector<CallRow> calls_by_caller(const std::string& caller_hash) override {
    return calls(*calls_by_caller_, caller_hash);
  }
  std::vector<CallRow> calls_by_session(const std::string& session_id) override {
    return calls(*calls_by_session_, session_id);
  }

  Committed erase(const Erasure& e) override {
    return submit(Commit::durable_and_scrubbed, [this, e] {
      for (const std::string& id : e.call_ids) {
        step_once(*erase_call_, id);
        step_once(*erase_call_deliveries_, id);
      }
      for (const auto& t : e.tombstones) step_once(*add_tombstone_, t.call_key, t.site, e.at);
      for (const std::string& id : e.session_ids) {
        step_once(*record_release_, id, e.at);
        step_once(*erase_session_, id);  // the trigger cuts the session from its calls
        step_once(*erase_session_deliveries_, id);
      }
      if (!e.caller_hash.empty()) step_once(*remove_restriction_, e.caller_hash);
    });
  }

  void scrub() override {
    std::lock_guard lock(mutex_);
    checkpoint();
  }

  bool call_erased(const std::string& call_key) override {
    return first_row(read_integer, *call_erased_, call_key).has_value();
  }

  void restrict(const Restriction& r) override {
    const auto flag = static_cast<std::int64_t>(r.restricted);
    submit(Commit::durable, [&] {
      for (const std::string& id : r.call_ids) {
        step_once(*restrict_call_, id, flag);
        if (r.restricted) step_once(*restrict_call_deliveries_, id);
      }
      for (const std::string& id : r.session_ids) {
        step_once(*restrict_session_, id, flag);
        if (r.restricted) step_once(*restrict_session_deliveries_, id);
      }
      if (r.caller_hash.empty()) return;
      if (r.restricted) {
        step_once(*add_restriction_, r.caller_hash, r.at);
      } else {
        step_once(*remove_restriction_, r.caller_hash);
      }
    }).get();
  }

  bool caller_restricted(const std::string& caller_hash, Millis now) override {
    // Most callers are not restricted: a read answers them without a write.
    if (!first_row(read_integer, *restriction_exists_, caller_hash)) return false;
    bool restricted = false;
    submit(Commit::normal, [&] {
      step_once(*refresh_restriction_, caller_hash, now);
      restricted = sqlite3_changes(db_) > 0;  // lifted meanwhile: no longer restricted
    }).get();
    return restricted;
  }
  void rectify_call(const std::string& id, const std::string& source,
                    const std::string& classification) override {
    run(*rectify_call_, id, source, classification);
  }
  std::vector<CallRow> reportable_calls(const std::string& site, Millis from, Millis to) override {
    return calls(*reportable_calls_, site, from, to);
  }
  std::optional<Millis> first_call_at(const std::string& site,
                                      const std::string& caller_hash) override {
    const auto first = first_row(
        [](const Statement& r) {
          return r.is_null(0) ? std::nullopt : std::optional{r.integer(0)};
        },
        *first_call_, site, caller_hash);
    return first ? *first : std::nullopt;
  }

  void append_audit(const AuditEntry& e) override {
    run(*append_audit_, e.at, e.actor, e.action, e.site, e.detail_json);
  }
  std::vector<AuditEntry> audit_entries(Millis from, Millis to) override {
    return rows(
        [](const Statement& r) {
          return AuditEntry{r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4)};
        },
        *audit_entries_, from, to);
  }

  Purged purge(const std::string& site, const PurgeCutoffs& cutoffs) override {
    Purged purged;
    purged.sessions = drain(purge_sessions_, site, cutoffs.sessions_before);
    purged.calls = drain(purge_calls_, site, cutoffs.calls_before);
    purged.samples = drain(purge_samples_, site, cutoffs.calls_before);
    purged.audit = drain(purge_audit_, site, cutoffs.audit_before);
    purged.tombstones = drain(purge_tombstones_, site, cutoffs.tombstones_before);
    purged.deliveries = drain(purge_deliveries_, site, cutoffs.deliveries_before);
    return purged;
  }

  bool enqueue_delivery(const Delivery& d) override {
    bool inserted = false;
    submit(Commit::normal, [&] {
      step_once(*enqueue_delivery_, d.site, d.destination, d.event, d.idempotency_key, d.body,
                d.call_id, d.session_id, d.created_at, d.next_attempt_at);
      inserted = sqlite3_changes(db_) > 0;
    }).get();
    return inserted;
  }

  std::vector<Delivery> due_deliveries(Millis now, int limit) override {
    return read_deliveries(*due_deliveries_, now, static_cast<std::int64_t>(limit));
  }

  void record_attempt(const Delivery& d) override {
    run(*record_attempt_, d.id, d.state, static_cast<std::int64_t>(d.attempts), d.next_attempt_at,
        d.last_error, d.finished_at);
  }

  std::vector<Delivery> deliveries(const std::string& site, Millis from, Millis to) override {
    return read_deliveries(*deliveries_, site, from, to);
  }

  std::vector<ClickedCall> clicked_calls(const std::string& site, Millis from, Millis to) override {
    return rows(read_clicked_call<Statement>, *clicked_calls_, site, from, to);
  }

  std::int64_t purge_restrictions(Millis before) override {
    std::int64_t deleted = 0;
    submit(Commit::normal, [&] {
      step_once(*purge_restrictions_, before);
      deleted = sqlite3_changes(db_);
    }).get();
    return deleted;
  }

  std::vector<std::string> sites_with_data() override {
    return rows([](const Statement& r) { return r.text(0); }, *sites_with_data_);
  }

  std::optional<PurgeMark> purge_mark() override {
    const auto mark = first_row(
        [](const Statement& r) {
          return r.is_null(0) || r.is_null(1)
                     ? std::nullopt
                     : std::optional{PurgeMark{r.integer(0), r.integer(1)}};
        },
        *watermark_);
    return mark ? *mark : std::nullopt;
  }

  void set_purge_mark(const PurgeMark& mark) override {
    run(*set_watermark_, mark.purged_by, mark.clock);
  }

  // One process per SQLite file: it decides in memory (memory_assignments).
  std::unique_ptr<Assignments> shared_assignments(const std::vector<PoolSpec>&) override {
    return nullptr;
  }

  void insert_pool_sample(const PoolSample& p) override {
    run(*insert_sample_, p.site, p.pool, p.at, p.active, p.size, p.exhausted_total);
  }

  std::vector<PoolSample> pool_samples(const std::string& site, const std::string& pool,
                                       Millis from, Millis to) override {
    return rows(
        [](const Statement& r) {
          return PoolSample{r.text(0),    r.text(1),    r.integer(2),
                            r.integer(3), r.integer(4), r.integer(5)};
        },
        *samples_, site, pool, from, to);
  }

 private:
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string why = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("sqlite: " + why);
    }
  }

  void migrate() {
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    int version = 0;
    {
      Statement s(db_, "SELECT coalesce(max(version), 0) FROM schema_version");
      if (s.step()) version = static_cast<int>(s.integer(0));
    }
    apply_migrations(SqlDialect::sqlite, version, [this](const std::string& sql) { exec(sql); });
  }

  // Deletes in batches of 5,000, one commit each: requests get the database between them.
  std::int64_t drain(std::unique_ptr<Statement>& statement, const std::string& site,
                     Millis before) {
    std::int64_t total = 0;
    while (true) {
      std::int64_t deleted = 0;
      submit(Commit::normal, [&] {
        step_once(*statement, site, before);
        deleted = sqlite3_changes(db_);
      }).get();
      total += deleted;
      if (deleted < 5000) return total;
    }
  }

  // Binds `args` to ?1, ?2, ... in order.
  template <class... Args>
  static void bind_all(Use& s, const Args&... args) {
    int index = 0;
    (s->bind(++index, args), ...);
  }

  // Every row a read statement answers for `args`, each read by `read`: the one place where
  // a read takes the reader's lock, binds, steps and resets.
  template <class Read, class... Args>
  auto rows(Read read, Statement& statement, const Args&... args)
      -> std::vector<std::invoke_result_t<Read, const Statement&>> {
    std::lock_guard lock(read_mutex_);
    Use s(statement);
    bind_all(s, args...);
    std::vector<std::invoke_result_t<Read, const Statement&>> out;
    while (s->step()) out.push_back(read(statement));
    return out;
  }

  // The first row a read statement answers for `args`, read by `read`; empty if there is none.
  template <class Read, class... Args>
  auto first_row(Read read, Statement& statement, const Args&... args)
      -> std::optional<std::invoke_result_t<Read, const Statement&>> {
    std::lock_guard lock(read_mutex_);
    Use s(statement);
    bind_all(s, args...);
    if (!s->step()) return std::nullopt;
    return read(statement);
  }

  template <class... Args>
  std::vector<Delivery> read_deliveries(Statement& statement, const Args&... args) {
    return rows(read_delivery<Statement>, statement, args...);
  }

  template <class... Args>
  std::vector<CallRow> calls(Statement& statement, const Args&... args) {
    return rows(read_call<Statement>, statement, args...);
  }

  // One use of a statement, with the mutex already held.
  template <class... Args>
  static void step_once(Statement& statement, const Args&... args) {
    Use s(statement);
    bind_all(s, args...);
    s->step();
  }

  // One write, waited for.
  template <class... Args>
  void run(Statement& statement, const Args&... args) {
    submit(Commit::normal, [&] { step_once(statement, args...); }).get();
  }

  // Group commit. Every write goes to one writer thread, which applies the writes that
  // arrived together in one transaction (each in a savepoint, so one failing write fails
  // alone) and commits once: under load one commit, one WAL append and one round of file
  // locks serve many requests. Each write is acknowledged after its commit. A batch holding
  // what the law requires (erasure, withdrawal, restriction) is committed with
  // synchronous = FULL, so it survives a power cut; the rest of the time NORMAL, which
  // survives a crash of the process.
  enum class Commit { normal, durable, durable_and_scrubbed };
  struct Write {
    std::function<void()> apply;
    Commit commit;
    std::promise<void> done;
  };

  Committed submit(Commit commit, std::function<void()> apply) {
    Write write{std::move(apply), commit, {}};
    Committed committed = write.done.get_future();
    {
      std::lock_guard lock(queue_mutex_);
      if (writer_stopping_) throw std::runtime_error("sqlite: the store is closing");
      queue_.push_back(std::move(write));
    }
    queue_ready_.notify_one();
    return committed;
  }

  void writer_loop() {
    std::unique_lock lock(queue_mutex_);
    while (true) {
      queue_ready_.wait(lock, [&] { return !queue_.empty() || writer_stopping_; });
      if (queue_.empty()) return;
      std::vector<Write> batch;
      batch.reserve(queue_.size());
      for (Write& w : queue_) batch.push_back(std::move(w));
      queue_.clear();
      lock.unlock();
      commit_batch(batch);
      lock.lock();
    }
  }

  void commit_batch(std::vector<Write>& batch) {
    const auto needs = [&](Commit c) {
      return std::any_of(batch.begin(), batch.end(), [&](const Write& w) { return w.commit >= c; });
    };
    const bool durable = needs(Commit::durable);
    std::vector<std::exception_ptr> errors(batch.size());
    {
      std::lock_guard lock(mutex_);
      try {
        if (durable) exec("PRAGMA synchronous = FULL");
        exec("BEGIN IMMEDIATE");
        for (std::size_t i = 0; i < batch.size(); ++i) {
          exec("SAVEPOINT write");
          try {
            batch[i].apply();
            exec("RELEASE write");
          } catch (...) {
            errors[i] = std::current_exception();
            exec("ROLLBACK TO write");
            exec("RELEASE write");
          }
        }
        exec("COMMIT");
      } catch (...) {
        const std::exception_ptr failed = std::current_exception();
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        for (auto& error : errors) error = error ? error : failed;
      }
      if (durable) sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (errors[i]) {
        batch[i].done.set_exception(errors[i]);
      } else {
        batch[i].done.set_value();
      }
    }
    if (needs(Commit::durable_and_scrubbed)) request_scrub();
  }

  // Copies the write-ahead log into the database file and truncates it: the log holds the
  // pages as they were before an erasure. The caller holds the mutex.
  void checkpoint() {
    int log_frames = 0;
    int checkpointed = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                             &checkpointed);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
      throw std::runtime_error(std::string("sqlite: checkpoint: ") + sqlite3_errmsg(db_));
  }

  // Erasures come in bursts (a withdrawal per visitor who declines): one checkpoint serves
  // every erasure of the last moment, so each one costs a synced commit, not a checkpoint.
  void request_scrub() {
    {
      std::lock_guard lock(scrub_mutex_);
      scrub_pending_ = true;
      if (!scrubber_.joinable()) scrubber_ = std::thread([this] { scrub_loop(); });
    }
    scrub_wanted_.notify_all();
  }

  void scrub_loop() {
    std::unique_lock lock(scrub_mutex_);
    while (true) {
      scrub_wanted_.wait(lock, [&] { return scrub_pending_ || closing_; });
      if (!scrub_pending_) return;
      // Gather the erasures of the next moment into the same checkpoint.
      scrub_wanted_.wait_for(lock, kScrubDelay, [&] { return closing_; });
      scrub_pending_ = false;
      lock.unlock();
      try {
        scrub();
      } catch (const std::exception&) {
        // The next erasure or the clean close at shutdown checkpoints again.
      }
      lock.lock();
    }
  }

  static constexpr std::chrono::milliseconds kScrubDelay{200};

  sqlite3* db_ = nullptr;      // the writer's connection (and the checkpoints)
  sqlite3* reader_ = nullptr;  // the reads' connection
  std::mutex mutex_;           // guards db_
  std::mutex read_mutex_;      // guards reader_ and its statements
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::vector<Write> queue_;
  bool writer_stopping_ = false;
  std::thread writer_;
  std::mutex scrub_mutex_;
  std::condition_variable scrub_wanted_;
  bool scrub_pending_ = false;
  bool closing_ = false;
  std::thread scrubber_;
  std::unique_ptr<Statement> insert_session_, touch_session_, release_session_, record_release_,
      erase_session_, find_session_, call_exists_, active_sessions_, last_releases_, holding_,
      insert_call_, find_call_, count_calls_, insert_sample_, samples_, purge_sessions_,
      purge_calls_, purge_samples_, to_reseal_, reseal_;
  std::unique_ptr<Statement> calls_by_caller_, calls_by_session_, erase_call_, restrict_call_,
      restrict_session_, rectify_call_, reportable_calls_, first_call_, append_audit_,
      audit_entries_, purge_audit_;
  std::unique_ptr<Statement> add_tombstone_, call_erased_, add_restriction_, remove_restriction_,
      refresh_restriction_, restriction_exists_, purge_tombstones_, purge_restrictions_,
      sites_with_data_, watermark_, set_watermark_;
  std::unique_ptr<Statement> enqueue_delivery_, due_deliveries_, record_attempt_, deliveries_,
      erase_call_deliveries_, erase_session_deliveries_, restrict_call_deliveries_,
      restrict_session_deliveries_, purge_deliveries_, clicked_calls_, update_session_ids_,
      erase_id_deliveries_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) {
  return std::make_unique<SqliteStore>(path);
}

int sqlite_schema_version() {
  return static_cast<int>(schema_migrations(SqlDialect::sqlite).size());
}

}  // namespace callswap::server
