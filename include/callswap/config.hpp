#pragma once
/// \file The public site configuration: what the browser needs for one site, nothing secret.
/// Documented in docs/config.md; the JSON Schema is docs/site-config.schema.json.

#include <callswap/json.hpp>
#include <callswap/phone_number.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callswap {

/// The consent sources the browser can read.
enum class ConsentPlatform {
  tcf,
  consent_mode,
  onetrust,
  cookiebot,
  usercentrics,
  klaro,
  cookieconsent,
  wp_consent_api,
  manual
};
enum class ReferrerGroup { search, social, email };
enum class SessionStorage { cookie, local_storage };
enum class TouchModel { first_touch, last_touch };

const char* to_string(ConsentPlatform platform);
const char* to_string(ReferrerGroup group);

/// When a source applies. Conditions of one kind are alternatives (any click id, any
/// referrer host); the parameters of one `params` entry must all match.
struct SourceRule {
  struct Param {
    std::string name;                 ///< "utm_source"
    std::vector<std::string> values;  ///< any of these (case-insensitive); "*" = present at all
  };
  std::vector<Param> params;
  std::vector<std::string> click_ids;       ///< "gclid", "fbclid", ...
  std::vector<std::string> referrer_hosts;  ///< "bing.com" (and subdomains), "google.*" (any TLD)
  std::vector<ReferrerGroup> referrer_groups;

  [[nodiscard]] bool empty() const {
    return params.empty() && click_ids.empty() && referrer_hosts.empty() && referrer_groups.empty();
  }
  friend bool operator==(const SourceRule&, const SourceRule&) = default;
  friend bool operator==(const Param&, const Param&);
};
inline bool operator==(const SourceRule::Param& a, const SourceRule::Param& b) {
  return a.name == b.name && a.values == b.values;
}

struct Source {
  std::string id;
  PhoneNumber static_number;  ///< shown to every visitor from this source, consent or not
  std::string pool;           ///< dynamic numbers come from this pool; empty: static only
  bool is_default = false;    ///< the source of visits no rule matches
  SourceRule match;
};

struct ConsentConfig {
  enum class Require { any, all };
  Require require = Require::any;
  std::vector<ConsentPlatform> signals = {ConsentPlatform::tcf, ConsentPlatform::consent_mode,
                                          ConsentPlatform::manual};
  std::vector<int> tcf_purposes = {1, 7};
  std::optional<int> tcf_vendor_id;
  std::vector<std::string> consent_mode_types = {"analytics_storage"};
  std::vector<std::string> onetrust_groups = {"C0002"};
  std::vector<std::string> cookiebot_categories = {"statistics"};
  std::vector<std::string> usercentrics_services = {"callswap"};
  std::vector<std::string> klaro_services = {"callswap"};
  std::vector<std::string> cookieconsent_categories = {"analytics"};
  /// WordPress WP Consent API: dynamic numbers are marketing unless the site names others.
  std::vector<std::string> wp_consent_categories = {"marketing"};
  bool explicit_consent_overrides_gpc = false;
  /// What counts as consent to further purposes, each read like the above once the visitor
  /// consented to the dynamic number (never from the manual signal): advertising lets a click
  /// id go to the server, analytics the Google Analytics client id. Empty: not configured, so
  /// neither ever leaves the page. A vector because a struct cannot hold an optional of itself.
  std::vector<ConsentConfig> advertising;
  std::vector<ConsentConfig> analytics;
};

struct SessionConfig {
  int idle_timeout_seconds = 1800;
  int heartbeat_seconds = 60;
  int request_timeout_ms = 4000;
  SessionStorage storage = SessionStorage::cookie;
  std::string cookie_domain;  ///< empty: the page's host
  TouchModel touch = TouchModel::first_touch;
  bool keep_click_ids = false;  ///< whether click id values may leave the core
};

struct SwapConfig {
  std::string noswap_attribute = "data-callswap-noswap";
  std::string anti_flicker_selector;  ///< empty: no anti-flicker
  int anti_flicker_timeout_ms = 400;
};

struct SiteConfig {
  std::string site;
  const Region* country = nullptr;
  std::vector<PhoneNumber> targets;
  std::vector<std::string> own_hosts;  ///< referrers from these hosts are internal navigation
  std::vector<std::string> pools;
  std::vector<Source> sources;
  ConsentConfig consent;
  SessionConfig session;
  SwapConfig swap;

  [[nodiscard]] const Source* find_source(std::string_view id) const;
  [[nodiscard]] const Source* default_source() const;
};

/// One thing wrong with a config: where (a JSON path like `sources[2].static`) and why.
struct ConfigError {
  std::string path;
  std::string message;
  [[nodiscard]] std::string to_string() const {
    return path.empty() ? message : path + ": " + message;
  }
};

/// A config, or every error in it (not only the first).
struct ConfigResult {
  std::optional<SiteConfig> config;
  std::vector<ConfigError> errors;
  [[nodiscard]] bool ok() const { return config.has_value(); }
};

/// A site id, pool id, source id or parameter name: 1 to 64 of a-z, 0-9, '-' and '_'. The
/// one definition: the server's routes, the WordPress plugin and the Tag Manager template
/// spell the same pattern in their languages, and tests/vocabulary checks that they agree.
bool is_valid_id(std::string_view id);

ConfigResult parse_site_config(std::string_view json_text);
ConfigResult load_site_config(const json::Value& document);

/// A one-line summary for `callswap check-config`.
std::string summarize(const SiteConfig& config);

}  // namespace callswap
