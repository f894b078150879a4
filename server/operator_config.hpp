#pragma once
// The operator's config (issue #5): the sites with their public configs, the tracking
// numbers of each pool, allowed origins, admin keys (hashed), webhook secrets and limits.
// Validated at start with field paths like the site config; documented in docs/server.md.

#include <callswap/config.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pool.hpp"

namespace callswap::server {

struct PoolConfig {
  std::string id;
  std::vector<PhoneNumber> numbers;
  PoolSettings settings;
};

struct SiteEntry {
  SiteConfig config;
  std::string public_json;  ///< the site config as served to browsers
  std::vector<std::string> allowed_origins;  ///< "https://shop.example"
  std::vector<PoolConfig> pools;
  Millis attribution_grace_ms = 30 * 60'000;  ///< a call this long after a release still reaches the visit
  bool keep_caller_numbers = true;  ///< false: only the keyed hash of a caller's number is kept
  /// Storage limitation: how long each kind of row is kept (enforced by the purge, issue #6).
  struct Retention {
    int sessions_days = 90;
    int calls_days = 365;
    int audit_days = 365;
  } retention;
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
  std::string sha256_hex;  ///< of the key; the key itself is never stored
  std::vector<std::string> scopes;  ///< "reports", "subjects", "config"
};

struct OperatorConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string database = "callswap.db";
  std::string static_dir;   ///< serves dist/ (callswap.js, callswap.wasm) when set
  std::string public_url;   ///< how Twilio reaches us, for its signature: "https://track.example.com"
  std::vector<SiteEntry> sites;
  std::vector<AdminKey> admin_keys;
  std::optional<CallerKeys> caller_keys;
  std::string twilio_auth_token;
  std::string calls_secret;
  int replay_window_seconds = 300;
  std::size_t max_body_bytes = 16 * 1024;
  int rate_per_minute = 120;  ///< per client address on the public endpoints; 0: no limit
  int rate_burst = 60;
  /// Reverse proxies whose X-Forwarded-For is believed (exact addresses); empty: none.
  std::vector<std::string> trust_proxy;
  int threads = 32;

  [[nodiscard]] const SiteEntry* find_site(std::string_view id) const;
};

struct OperatorConfigResult {
  std::optional<OperatorConfig> config;
  std::vector<ConfigError> errors;
  [[nodiscard]] bool ok() const { return config.has_value(); }
};

/// Reads secrets given as {"env": "NAME"} from the environment (injected for tests).
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

OperatorConfigResult load_operator_config(std::string_view json_text, const Environment& environment);
OperatorConfigResult load_operator_document(const json::Value& document, const Environment& environment);

/// Makes an operator config file's references concrete before it is validated: a site config
/// given as a path (`"config": "sites/acme.json"`) is read and put in its place, and relative
/// paths (`database`, `static_dir`) are resolved against the config file's folder, so what
/// the server serves does not depend on the folder it was started from.
std::vector<ConfigError> resolve_config_references(json::Value& document,
                                                   const std::string& config_file);

/// The folders a running server needs: `static_dir` exists, the database's folder exists and
/// can be written. Checked at start and by `callswap-server check`.
std::vector<ConfigError> check_operator_files(const OperatorConfig& config);

}  // namespace callswap::server
