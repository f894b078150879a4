#pragma once
// What the server keeps: visitor sessions and the calls attributed to them. An interface,
// so the pool and attribution logic never see SQL; SqliteStore is the default
// implementation. No IP address, no user agent, no full URL is ever stored.

#include <callswap/millis.hpp>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace callswap::server {

class Assignments;
struct PoolSpec;

struct SessionRow {
  std::string id;  ///< random, 128 bits, hex
  std::string site;
  std::string pool;
  std::string number;  ///< E.164 of the tracking number held
  std::string source;
  std::string campaign_json;  ///< the campaign details the site config allows, as JSON
  std::string landing_path;   ///< path with only the configured parameters
  Millis created_at = 0;
  Millis last_activity = 0;
  std::optional<Millis> released_at;  ///< empty while the session holds its number
  bool restricted = false;            ///< GDPR Art. 18: kept, but out of reports and exports
  /// Ids for the ad and analytics platforms, each kept only when the visitor consented to its
  /// purpose, with the platforms that granted it ("consent_mode", "tcf+onetrust").
  std::string click_id_type;  ///< "gclid", "msclkid", ...; empty: none
  std::string click_id;
  std::string click_id_consent;
  std::string ga_client_id;
  std::string ga_consent;
};

struct CallRow {
  std::string provider_call_id;  ///< the telephony provider's id: calls are stored once
  std::string site;
  std::string called_number;  ///< E.164 of the tracking number dialled
  std::string status;         ///< "ringing", "completed", ...
  int duration_seconds = 0;
  Millis started_at = 0;
  std::string session_id;   ///< empty if not attributed to a session
  std::string source;       ///< the session's or the static number's source; empty if unattributed
  std::string attribution;  ///< "session", "static" or "unattributed"
  std::string campaign_json = "{}";  ///< the attributed session's campaign details
  std::string caller_key_id;      ///< the key the caller's number is sealed with; empty if not kept
  std::string caller_ciphertext;  ///< AES-256-GCM, see caller_vault.hpp
  std::string caller_hash;        ///< keyed hash of the caller's number, to find a data subject
  bool restricted = false;        ///< GDPR Art. 18: kept, but out of reports and exports
  std::string
      classification;  ///< set by rectification ("sales", "support", "spam", ...); empty if none
};

/// One admin action, without personal data: who (the admin key's id, or "cli"), what, for
/// which site, and counts or ids of configuration objects in `detail_json`.
struct AuditEntry {
  Millis at = 0;
  std::string actor;
  std::string action;  ///< "report", "subject.erase", ...
  std::string site;
  std::string detail_json = "{}";
};

/// One outgoing delivery (a signed webhook, a GA4 event), kept until delivered or given up,
/// so a restart loses none and sends none twice. Which secret and URL it goes to is read from
/// the config when it is sent, never stored.
struct Delivery {
  std::int64_t id = 0;
  std::string site;
  std::string destination;      ///< "ga4" or "webhook:<id>"
  std::string event;            ///< "call.attributed", "call.completed", "phone_call"
  std::string idempotency_key;  ///< unique: an event is queued once; receivers de-duplicate by it
  std::string body;             ///< the JSON sent
  std::string call_id;          ///< the provider's call id: erasure and restriction find it so
  std::string session_id;
  Millis created_at = 0;
  Millis next_attempt_at = 0;
  int attempts = 0;
  std::string state = "pending";  ///< "pending", "delivered", "failed" (given up)
  std::string last_error;         ///< why the last attempt failed, or why it was given up
  Millis finished_at = 0;
};

/// A call attributed to a session that carries a click id (kept with advertising consent).
struct ClickedCall {
  CallRow call;
  std::string pool;
  std::string click_id_type;
  std::string click_id;
};

/// A pool's state at one moment, for utilisation over time.
struct PoolSample {
  std::string site;
  std::string pool;
  Millis at = 0;
  std::int64_t active = 0;
  std::int64_t size = 0;
  std::int64_t exhausted_total = 0;  ///< assignments that found no free number, since start
};

/// Ids a session gets, or loses, after it began: the visitor consented to advertising or
/// analytics later in the visit, or withdrew that consent. For each of the two ids, whether
/// it changes and to what; empty values remove it.
struct SessionIdsUpdate {
  bool click_id_changes = false;
  std::string click_id_type;
  std::string click_id;
  std::string click_id_consent;
  bool ga_changes = false;
  std::string ga_client_id;
  std::string ga_consent;
  /// True when an id is removed: the update is then durable and scrubbed like an erasure.
  [[nodiscard]] bool removes() const {
    return (click_id_changes && click_id.empty()) || (ga_changes && ga_client_id.empty());
  }
};

class Store {
 public:
  virtual ~Store() = default;

  /// A write's acknowledgement: ready once the write is committed. The writes of the session
  /// path are submitted, not waited for, so a caller can submit them under its own lock (the
  /// store applies them in the order submitted) and wait after letting the lock go; writes
  /// that arrive together share one transaction and one commit.
  using Committed = std::future<void>;

  [[nodiscard]] virtual Committed insert_session(const SessionRow& session) = 0;
  [[nodiscard]] virtual Committed touch_session(const std::string& id, Millis now) = 0;
  [[nodiscard]] virtual Committed release_session(const std::string& id, Millis now) = 0;
  /// Changes the ids of a session still holding its number (a heartbeat brought them).
  [[nodiscard]] virtual Committed update_session_ids(const std::string& id,
                                                     const SessionIdsUpdate& update) = 0;
  [[nodiscard]] virtual std::optional<SessionRow> find_session(const std::string& id) = 0;
  /// Sessions still holding a number, for rebuilding the pools at start.
  [[nodiscard]] virtual std::vector<SessionRow> active_sessions() = 0;
  /// The last release of each number, for rebuilding the cool-downs at start.
  [[nodiscard]] virtual std::vector<std::pair<std::string, Millis>> last_releases(
      const std::string& site) = 0;
  /// The session that held `number` at `at`, or released it no longer than `grace` before.
  [[nodiscard]] virtual std::optional<SessionRow> session_holding(const std::string& site,
                                                                  const std::string& number,
                                                                  Millis at, Millis grace) = 0;

  /// Stores a call once: false if a call with this provider id is already stored (then only
  /// its status and duration are updated).
  virtual bool insert_call(const CallRow& call) = 0;
  [[nodiscard]] virtual std::optional<CallRow> find_call(const std::string& provider_call_id) = 0;
  [[nodiscard]] virtual std::int64_t count_calls(const std::string& site) = 0;

  /// Data-subject requests: every call of a caller (by keyed hash), or of a session.
  [[nodiscard]] virtual std::vector<CallRow> calls_by_caller(const std::string& caller_hash) = 0;
  [[nodiscard]] virtual std::vector<CallRow> calls_by_session(const std::string& session_id) = 0;

  /// What an erasure or a consent withdrawal removes, in one transaction.
  struct Erasure {
    std::vector<std::string>
        session_ids;  ///< a session still holding a number releases it (cool-down kept)
    std::vector<std::string> call_ids;
    /// Kept so that a replayed webhook of an erased call stores nothing: a keyed hash of the
    /// provider's call id (never the id itself), and the site whose retention applies.
    struct Tombstone {
      std::string call_key;
      std::string site;
    };
    std::vector<Tombstone> tombstones;
    /// A caller whose restriction marker goes with the erasure (keyed hash); empty if none.
    std::string caller_hash;
    Millis at = 0;
  };
  /// Erases; the acknowledgement is ready only once the erasure is durable against power
  /// loss. Deleting a session also cuts it from every call attributed to it (the calls keep
  /// source and campaign). Deleted bytes are overwritten, and the write-ahead log that still
  /// holds the old pages is emptied shortly after (within a second; see scrub()).
  [[nodiscard]] virtual Committed erase(const Erasure& erasure) = 0;
  /// Empties the write-ahead log now, so no copy of erased rows is left in any file.
  virtual void scrub() = 0;
  /// True if a call with this keyed id hash was erased (and its tombstone not yet purged).
  [[nodiscard]] virtual bool call_erased(const std::string& call_key) = 0;

  /// Restriction of processing (Art. 18), durable like an erasure: marks the calls and
  /// sessions, and for a caller (keyed hash) keeps a marker so later calls are stored
  /// restricted too; lifting it removes the marker.
  struct Restriction {
    std::vector<std::string> session_ids;
    std::vector<std::string> call_ids;
    std::string caller_hash;  ///< empty when the subject is a session
    bool restricted = true;
    Millis at = 0;
  };
  virtual void restrict(const Restriction& restriction) = 0;
  /// True if this caller's processing is restricted; refreshes the marker's time to `now`,
  /// since it must outlive the restricted calls it produces.
  virtual bool caller_restricted(const std::string& caller_hash, Millis now) = 0;

  /// Rectification: a call's source and classification.
  virtual void rectify_call(const std::string& provider_call_id, const std::string& source,
                            const std::string& classification) = 0;
  /// A site's calls with from <= started_at < to that are not restricted, oldest first (reports).
  [[nodiscard]] virtual std::vector<CallRow> reportable_calls(const std::string& site, Millis from,
                                                              Millis to) = 0;
  /// When this caller (keyed hash) first called the site, if any call is still stored.
  [[nodiscard]] virtual std::optional<Millis> first_call_at(const std::string& site,
                                                            const std::string& caller_hash) = 0;

  virtual void append_audit(const AuditEntry& entry) = 0;
  /// Audit entries with from <= at < to, oldest first.
  [[nodiscard]] virtual std::vector<AuditEntry> audit_entries(Millis from, Millis to) = 0;
  /// Storage limitation: what the purge deletes for one site ("" for rows of no site, such
  /// as server-level audit entries). Each table has its cut-off; sessions still holding a
  /// number are never deleted, and deleting a session cuts it from its calls.
  struct PurgeCutoffs {
    Millis sessions_before = 0;    ///< ended sessions last active before this
    Millis calls_before = 0;       ///< calls started before this, and pool samples
    Millis audit_before = 0;       ///< audit entries
    Millis tombstones_before = 0;  ///< erased-call tombstones made before this
    Millis deliveries_before = 0;  ///< outgoing deliveries queued before this
  };
  struct Purged {
    std::int64_t sessions = 0;
    std::int64_t calls = 0;
    std::int64_t samples = 0;
    std::int64_t audit = 0;
    std::int64_t tombstones = 0;
    std::int64_t deliveries = 0;
  };
  virtual Purged purge(const std::string& site, const PurgeCutoffs& cutoffs) = 0;
  /// Deletes restriction markers not refreshed since `before`; returns how many.
  virtual std::int64_t purge_restrictions(Millis before) = 0;
  /// Every site that has rows in any table, "" included (for rows of no site): the purge
  /// covers sites no longer configured too.
  [[nodiscard]] virtual std::vector<std::string> sites_with_data() = 0;
  /// Where the last purge left off, kept across restarts to notice clock jumps: the time it
  /// purged by, and the system clock's reading then.
  struct PurgeMark {
    Millis purged_by = 0;
    Millis clock = 0;
  };
  [[nodiscard]] virtual std::optional<PurgeMark> purge_mark() = 0;
  virtual void set_purge_mark(const PurgeMark& mark) = 0;

  /// Calls whose caller number is sealed with another key than `current_key_id`.
  [[nodiscard]] virtual std::vector<CallRow> calls_to_reseal(const std::string& current_key_id) = 0;
  virtual void reseal_caller(const std::string& provider_call_id, const std::string& key_id,
                             const std::string& ciphertext) = 0;

  /// The outbox. Queues a delivery once: false if one with its idempotency key exists.
  /// An erasure deletes a call's or session's deliveries; a restriction its pending ones.
  virtual bool enqueue_delivery(const Delivery& delivery) = 0;
  /// Pending deliveries whose next attempt is due at `now`, oldest first. A store shared by
  /// several instances hands a delivery to one of them: it is not due again for a lease of
  /// five minutes unless its attempt is recorded sooner.
  [[nodiscard]] virtual std::vector<Delivery> due_deliveries(Millis now, int limit) = 0;
  /// After an attempt: state, attempts, next_attempt_at, last_error and finished_at of
  /// `delivery.id`.
  virtual void record_attempt(const Delivery& delivery) = 0;
  /// A site's deliveries queued with from <= created_at < to, oldest first.
  [[nodiscard]] virtual std::vector<Delivery> deliveries(const std::string& site, Millis from,
                                                         Millis to) = 0;
  /// Calls with from <= started_at < to of sessions with a click id, neither restricted.
  [[nodiscard]] virtual std::vector<ClickedCall> clicked_calls(const std::string& site, Millis from,
                                                               Millis to) = 0;

  /// Who decides which session holds which number, when it is the database: several serving
  /// instances on one database then share `pools` (assignments.hpp). nullptr when this store
  /// is for one process, which decides in memory (memory_assignments).
  [[nodiscard]] virtual std::unique_ptr<Assignments> shared_assignments(
      const std::vector<PoolSpec>& pools) = 0;

  virtual void insert_pool_sample(const PoolSample& sample) = 0;
  /// Samples of one pool with from <= at < to, oldest first.
  [[nodiscard]] virtual std::vector<PoolSample> pool_samples(const std::string& site,
                                                             const std::string& pool, Millis from,
                                                             Millis to) = 0;
};

/// Opens (and creates or migrates) the SQLite file at `path`; throws std::runtime_error
/// with the reason when it cannot.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

/// The schema version this build migrates to.
int sqlite_schema_version();

/// Connects to PostgreSQL (`conninfo`: a postgresql:// URL or a libpq key=value string; what it
/// leaves out comes from libpq's PG* environment variables) and creates or migrates the schema,
/// one instance at a time; throws std::runtime_error with the reason when it cannot. A
/// password read from a secret file is passed apart from the URL. Built with
/// CALLSWAP_POSTGRESQL; without it, throws saying so. Any number of serving instances may
/// share the database: the pools are decided in it (shared_assignments).
std::unique_ptr<Store> open_postgres_store(const std::string& conninfo,
                                           const std::string& password = "");
int postgres_schema_version();

}  // namespace callswap::server
