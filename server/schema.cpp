// The store's schema in both dialects. Tables are written once, with a few placeholders for
// what the dialects spell differently; only what one dialect alone has (SQLite's trigger
// syntax, PostgreSQL's pools in the database) is written for it alone.
//
// Each migration moves the schema one version up; never change what one that has shipped
// makes. Rewording is fine when the result is the same: tests/server/schema/ holds the schema
// a new database gets on each backend, and the server tests compare against it.

#include "schema.hpp"

#include <stdexcept>
#include <string_view>

namespace callswap::server {
namespace {

// Placeholders: {int64} a millisecond time or a count, {bool} and {false} a flag,
// {identity} a row id the database counts up.

// The first tables: sessions, calls, the numbers' releases and the pools' samples.
constexpr std::string_view kBaseTables = R"sql(
    CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      site TEXT NOT NULL,
      pool TEXT NOT NULL,
      number TEXT NOT NULL,
      source TEXT NOT NULL,
      campaign_json TEXT NOT NULL DEFAULT '{}',
      landing_path TEXT NOT NULL DEFAULT '',
      created_at {int64} NOT NULL,
      last_activity {int64} NOT NULL,
      released_at {int64}
    );
    CREATE INDEX sessions_by_number ON sessions (site, number, created_at);
    CREATE INDEX sessions_active ON sessions (released_at) WHERE released_at IS NULL;
    CREATE INDEX sessions_ended ON sessions (site, last_activity) WHERE released_at IS NOT NULL;
    CREATE TABLE calls (
      provider_call_id TEXT PRIMARY KEY,
      site TEXT NOT NULL,
      called_number TEXT NOT NULL,
      status TEXT NOT NULL,
      duration_seconds INTEGER NOT NULL DEFAULT 0,
      started_at {int64} NOT NULL,
      session_id TEXT,
      source TEXT,
      attribution TEXT NOT NULL,
      campaign_json TEXT NOT NULL DEFAULT '{}',
      caller_key_id TEXT,
      caller_ciphertext TEXT,
      caller_hash TEXT
    );
    CREATE INDEX calls_by_caller ON calls (caller_hash) WHERE caller_hash IS NOT NULL;
    CREATE INDEX calls_by_site_time ON calls (site, started_at);
    CREATE TABLE number_releases (
      site TEXT NOT NULL,
      number TEXT NOT NULL,
      released_at {int64} NOT NULL,
      PRIMARY KEY (site, number)
    );
    CREATE TABLE pool_samples (
      site TEXT NOT NULL,
      pool TEXT NOT NULL,
      at {int64} NOT NULL,
      active {int64} NOT NULL,
      size {int64} NOT NULL,
      exhausted_total {int64} NOT NULL
    );
    CREATE INDEX pool_samples_by_time ON pool_samples (site, pool, at);
    )sql";

// Restriction, rectification and the audit log.
constexpr std::string_view kRestrictionAndAudit = R"sql(
    ALTER TABLE sessions ADD COLUMN restricted {bool} NOT NULL DEFAULT {false};
    ALTER TABLE calls ADD COLUMN restricted {bool} NOT NULL DEFAULT {false};
    ALTER TABLE calls ADD COLUMN classification TEXT NOT NULL DEFAULT '';
    CREATE INDEX calls_by_session ON calls (session_id) WHERE session_id IS NOT NULL;
    CREATE TABLE audit (
      id {identity},
      at {int64} NOT NULL,
      actor TEXT NOT NULL,
      action TEXT NOT NULL,
      site TEXT NOT NULL DEFAULT '',
      detail_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_by_site_time ON audit (site, at);
    )sql";

// Nothing outlives what it points to: erased calls leave a tombstone of a keyed hash so a
// replayed webhook stores nothing; a caller's restriction reaches later calls; the purge
// keeps its last clock reading to notice clock jumps.
constexpr std::string_view kTombstones = R"sql(
    CREATE TABLE erased_calls (
      call_key TEXT PRIMARY KEY,
      site TEXT NOT NULL,
      erased_at {int64} NOT NULL
    );
    CREATE INDEX erased_calls_by_site_time ON erased_calls (site, erased_at);
    CREATE TABLE restricted_callers (
      caller_hash TEXT PRIMARY KEY,
      since {int64} NOT NULL
    );
    CREATE TABLE meta (
      key TEXT PRIMARY KEY,
      value {int64} NOT NULL
    );
    )sql";

// A deleted session (erasure, withdrawal or retention) is cut from its calls whatever
// deleted it; calls a session deleted before this trigger existed are cut too.
constexpr std::string_view kSqliteUnlinkCalls = R"sql(
    CREATE TRIGGER sessions_unlink_calls AFTER DELETE ON sessions
    BEGIN
      UPDATE calls SET session_id = NULL WHERE session_id = OLD.id;
    END;
    UPDATE calls SET session_id = NULL WHERE session_id IS NOT NULL AND session_id NOT IN (SELECT id FROM sessions);
    )sql";

// The same in PostgreSQL, in the same transaction as the delete.
constexpr std::string_view kPostgresUnlinkCalls = R"sql(
    CREATE FUNCTION sessions_unlink_calls() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE calls SET session_id = NULL WHERE session_id = OLD.id;
      RETURN OLD;
    END
    $$;
    CREATE TRIGGER sessions_unlink_calls AFTER DELETE ON sessions
      FOR EACH ROW EXECUTE FUNCTION sessions_unlink_calls();
    )sql";

// Conversions: a session keeps the ad click id and the analytics client id the visitor
// consented to, with the consent each came with; the outbox keeps every outgoing delivery
// until it is delivered or given up.
constexpr std::string_view kConversions = R"sql(
    ALTER TABLE sessions ADD COLUMN click_id_type TEXT;
    ALTER TABLE sessions ADD COLUMN click_id TEXT;
    ALTER TABLE sessions ADD COLUMN click_id_consent TEXT;
    ALTER TABLE sessions ADD COLUMN ga_client_id TEXT;
    ALTER TABLE sessions ADD COLUMN ga_consent TEXT;
    CREATE TABLE outbox (
      id {identity},
      site TEXT NOT NULL,
      destination TEXT NOT NULL,
      event TEXT NOT NULL,
      idempotency_key TEXT NOT NULL UNIQUE,
      body TEXT NOT NULL,
      call_id TEXT,
      session_id TEXT,
      created_at {int64} NOT NULL,
      next_attempt_at {int64} NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL DEFAULT 'pending',
      last_error TEXT NOT NULL DEFAULT '',
      finished_at {int64} NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX outbox_by_site_time ON outbox (site, created_at);
    CREATE INDEX outbox_by_call ON outbox (call_id) WHERE call_id IS NOT NULL;
    CREATE INDEX outbox_by_session ON outbox (session_id) WHERE session_id IS NOT NULL;
    )sql";

// The pools live in the database, so several serving instances share them: one row per
// number, with the session holding it (a column, so a number has at most one holder;
// unique, so a session holds at most one number) and when it was last active or let go.
// The sessions table says the same, and a constraint keeps two live sessions from ever
// naming one number, whatever writes them (checked at the end of each statement, since
// one statement both ends an idle session and starts the next on its number).
constexpr std::string_view kPostgresPools = R"sql(
    CREATE TABLE pool_numbers (
      site TEXT NOT NULL,
      number TEXT NOT NULL,
      pool TEXT NOT NULL,
      position INTEGER NOT NULL DEFAULT 0,
      session_id TEXT UNIQUE,
      last_activity BIGINT NOT NULL DEFAULT 0,
      released_at BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (site, number)
    );
    CREATE INDEX pool_numbers_free ON pool_numbers (site, pool, released_at, position)
      WHERE session_id IS NULL;
    CREATE INDEX pool_numbers_held ON pool_numbers (site, pool, last_activity, position)
      WHERE session_id IS NOT NULL;
    -- Assignments that found no number, and those served by displacing a session, counted
    -- for every instance together (the pool report's exhaustion over time).
    CREATE TABLE pool_counters (
      site TEXT NOT NULL,
      pool TEXT NOT NULL,
      exhausted BIGINT NOT NULL DEFAULT 0,
      reused BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (site, pool)
    );
    ALTER TABLE sessions ADD CONSTRAINT sessions_one_live_holder_per_number
      EXCLUDE USING btree (site WITH =, number WITH =) WHERE (released_at IS NULL)
      DEFERRABLE INITIALLY IMMEDIATE;
    )sql";

std::string render(SqlDialect dialect, std::string_view sql) {
  struct Spelling {
    std::string_view placeholder, sqlite, postgresql;
  };
  static constexpr Spelling kSpellings[] = {
      {"{int64}", "INTEGER", "BIGINT"},
      {"{bool}", "INTEGER", "BOOLEAN"},
      {"{false}", "0", "false"},
      {"{identity}", "INTEGER PRIMARY KEY AUTOINCREMENT",
       "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"},
  };
  std::string out(sql);
  for (const Spelling& s : kSpellings) {
    const std::string_view with = dialect == SqlDialect::sqlite ? s.sqlite : s.postgresql;
    for (auto at = out.find(s.placeholder); at != std::string::npos;
         at = out.find(s.placeholder, at + with.size())) {
      out.replace(at, s.placeholder.size(), with);
    }
  }
  return out;
}

std::vector<std::string> migrations_of(SqlDialect dialect) {
  auto r = [dialect](std::string_view sql) { return render(dialect, sql); };
  if (dialect == SqlDialect::sqlite) {
    return {r(kBaseTables), r(kRestrictionAndAudit), r(kSqliteUnlinkCalls) + r(kTombstones),
            r(kConversions)};
  }
  // PostgreSQL began with everything SQLite had at its version 3.
  return {r(kBaseTables) + r(kRestrictionAndAudit) + r(kTombstones) + r(kPostgresUnlinkCalls),
          r(kConversions), r(kPostgresPools)};
}

}  // namespace

const std::vector<std::string>& schema_migrations(SqlDialect dialect) {
  static const std::vector<std::string> sqlite = migrations_of(SqlDialect::sqlite);
  static const std::vector<std::string> postgresql = migrations_of(SqlDialect::postgresql);
  return dialect == SqlDialect::sqlite ? sqlite : postgresql;
}

void apply_migrations(SqlDialect dialect, int version,
                      const std::function<void(const std::string&)>& exec) {
  const auto& migrations = schema_migrations(dialect);
  const int latest = static_cast<int>(migrations.size());
  if (version > latest) {
    throw std::runtime_error("the database has schema version " + std::to_string(version) +
                             ", newer than this server's " + std::to_string(latest) +
                             ": upgrade the server");
  }
  // SQLite takes its write lock at BEGIN IMMEDIATE, so a second process waits there rather
  // than failing at its first write; PostgreSQL's callers hold an advisory lock already.
  const std::string begin = dialect == SqlDialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN";
  for (int v = version; v < latest; ++v) {
    exec(begin);
    try {
      exec(migrations[static_cast<std::size_t>(v)]);
      exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(v + 1) + ")");
      exec("COMMIT");
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
  }
}

}  // namespace callswap::server
