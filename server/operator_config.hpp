#pragma once
// The operator's config: the sites with their public configs, the tracking
// numbers of each pool, allowed origins, admin keys (hashed), webhook secrets and limits.
// Validated at start with field paths like the site config; documented in docs/server.md.

#include <callswap/config.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_text.hpp"
#include "pool.hpp"
#include "time_zone.hpp"

namespace callswap::server {

struct PoolConfig {
  std::string id;
  std::vector<PhoneNumber> numbers;
  PoolSettings settings;
};

/// How long each kind of row is kept, in days (docs/privacy.md has the table and reasons).
struct Retention {
  int sessions_days = 90;
  int calls_days = 365;
  int audit_days = 365;
};

/// A token bucket: `per_minute` tokens a minute up to `burst`; per_minute 0: no limit.
struct RateLimit {
  int per_minute = 0;
  int burst = 1;
};

/// A conversion's name and value for the calls of one source or pool (both empty: any call).
struct ConversionValue {
  std::string source;
  std::string pool;
  std::string name = "Phone call";
  double value = 0;
};

/// A site owner's endpoint for signed call events (docs/conversions.md).
struct WebhookDestination {
  std::string id;
  std::string url;
  std::string secret;
  std::vector<std::string> events;  ///< "call.attributed", "call.completed"
  /// The admin key (with the `callers` scope) on whose behalf the caller's number is sent;
  /// empty: the number is never sent.
  std::string caller_number_key;
};

struct Ga4Destination {
  std::string measurement_id;  ///< "G-XXXXXXX"
  std::string api_secret;
  std::string event_name = "phone_call";
  std::string endpoint = "https://www.google-analytics.com";  ///< base URL; /mp/collect is appended
};

/// Which calls count as conversions and where they go (docs/conversions.md). Kept in the
/// operator's config, not the public site config, which every browser can read.
struct ConversionConfig {
  bool enabled = false;
  std::string currency = "EUR";
  std::string time_zone = "+0000";  ///< as the feeds' Parameters line writes it
  TimeZone zone;                    ///< the offset of each conversion's time, loaded once
  int min_duration_seconds = 0;
  bool first_time_callers_only = false;
  bool answered_only = true;
  std::vector<ConversionValue> values;  ///< the first that matches a call; none: "Phone call", 0
  std::string feed_username;            ///< empty: no feeds
  std::string feed_password;
  int feed_window_days = 30;  ///< how far back a feed lists conversions
  std::optional<Ga4Destination> ga4;
  std::vector<WebhookDestination> webhooks;
};

/// Retries of outgoing deliveries: exponential backoff with jitter, then given up.
struct OutboxSettings {
  Millis retry_base_ms = 30'000;
  Millis retry_max_ms = 3'600'000;
  Millis give_up_after_ms = 3 * 24 * 3'600'000LL;
};

struct SiteEntry {
  SiteConfig config;
  std::string public_json;  ///< the site config as served to browsers
  /// What the SDK fetches instead: {"format", "compact", "anti_flicker"?} (docs/api.md), the
  /// config already validated here in the form callswap.wasm reads without a validator.
  std::string public_compact;
  std::vector<std::string> allowed_origins;  ///< "https://shop.example"
  std::vector<PoolConfig> pools;
  Millis attribution_grace_ms =
      30 * 60'000;                  ///< a call this long after a release still reaches the visit
  bool keep_caller_numbers = true;  ///< false: only the keyed hash of a caller's number is kept
  /// The legal basis the site owner relies on to record calls, as the privacy record states it.
  /// Sessions need none configured: the server creates them only with the visitor's consent.
  enum class CallsLegalBasis { legitimate_interest, consent, contract };
  CallsLegalBasis calls_legal_basis = CallsLegalBasis::legitimate_interest;
  Retention retention;  ///< storage limitation, enforced by the purge
  ConversionConfig conversions;
};

/// Keys for caller numbers at rest; without them caller numbers are not kept at all.
struct CallerKeys {
  struct Key {
    std::string id;
    std::string bytes;  ///< 32 bytes
  };
  std::vector<Key> keys;
  std::string current;
  std::string hash_key;  ///< 32 bytes
};

struct AdminKey {
  std::string id;
  std::string sha256_hex;           ///< of the key; the key itself is never stored
  std::vector<std::string> scopes;  ///< routes.hpp: "reports", "subjects", "callers", "config"
};

struct OperatorConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string database = "callswap.db";  ///< the SQLite file, unless `store_url` names PostgreSQL
  /// `store: "postgresql://…"`: the PostgreSQL database shared by every instance; empty for
  /// SQLite (`store: "sqlite:///path"` and the older `database` key set `database`).
  std::string store_url;
  std::string
      store_password;      ///< from `store_password` (a secret); empty: libpq's PGPASSWORD/.pgpass
  std::string static_dir;  ///< serves dist/ (callswap.js, callswap.wasm) when set
  std::string
      public_url;  ///< how Twilio reaches us, for its signature: "https://track.example.com"
  std::vector<SiteEntry> sites;
  std::vector<AdminKey> admin_keys;
  std::optional<CallerKeys> caller_keys;
  std::string twilio_auth_token;
  std::string calls_secret;
  int replay_window_seconds = 300;
  std::size_t max_body_bytes = 16 * 1024;
  RateLimit visitor_rate{120, 60};   ///< per client address, on what browsers call
  RateLimit admin_rate{60, 30};      ///< per client address and per admin key
  RateLimit webhook_rate{600, 200};  ///< per client address, on the telephony webhooks
  /// Rows of no site (server-level audit entries) and of sites no longer configured.
  Retention default_retention;
  /// The purge refuses to move on by more than this since its last run: a clock that jumped
  /// forward would otherwise delete rows years early (`purge --accept-clock` moves on).
  int purge_max_step_hours = 72;
  OutboxSettings outbox;
  /// Reverse proxies whose X-Forwarded-For is believed (exact addresses); empty: none.
  std::vector<std::string> trust_proxy;
  /// Connections: what slow and idle clients may hold (docs/server.md says why these).
  int threads = 32;                  ///< workers kept ready; more start per connection
  int max_connections = 2048;        ///< open at once; past it a fast 503 with Retry-After
  int keep_alive_seconds = 5;        ///< an idle connection waits this long for its next request
  int request_timeout_seconds = 10;  ///< a whole request must arrive within this
  int listen_backlog = 1024;         ///< connections the kernel queues before accept

  [[nodiscard]] const SiteEntry* find_site(std::string_view id) const;
};

struct OperatorConfigResult {
  std::optional<OperatorConfig> config;
  std::vector<ConfigError> errors;
  [[nodiscard]] bool ok() const { return config.has_value(); }
};

/// Reads secrets given as {"env": "NAME"} from the environment (injected for tests).
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

OperatorConfigResult load_operator_config(std::string_view json_text,
                                          const Environment& environment);
OperatorConfigResult load_operator_document(const Json& document, const Environment& environment);

/// Makes an operator config file's references concrete before it is validated: a site config
/// given as a path (`"config": "sites/acme.json"`) is read and put in its place, and relative
/// paths (`database`, `static_dir`) are resolved against the config file's folder, so what
/// the server serves does not depend on the folder it was started from.
std::vector<ConfigError> resolve_config_references(Json& document, const std::string& config_file);

/// The folders a running server needs: `static_dir` exists, the database's folder exists and
/// can be written. Checked at start and by `callswap-server check`.
std::vector<ConfigError> check_operator_files(const OperatorConfig& config);

}  // namespace callswap::server
