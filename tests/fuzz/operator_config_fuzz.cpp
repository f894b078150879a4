// libFuzzer target for the operator's config file (server/operator_config.cpp): any bytes.
// Invariants: the result is either a config or a list of errors, each naming a reason; an
// accepted config satisfies every constraint docs/server.md states (ports, limits, one
// place per number, unique site ids, key sizes, known scopes, IP addresses for trusted
// proxies, origins for allowed origins, the public URL Twilio needs).

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "fuzz_check.hpp"
#include "operator_config.hpp"

namespace {

using fuzz::require;

// {"env": "NAME"} secrets: one variable set to a usable key, one set but empty.
std::optional<std::string> environment(const std::string& name) {
  if (name == "CALLSWAP_KEY") return std::string(64, 'a');
  if (name == "CALLSWAP_EMPTY") return std::string();
  return std::nullopt;
}

bool origin(const std::string& text) {
  const bool https = text.starts_with("https://");
  if (!https && !text.starts_with("http://")) return false;
  const std::string host = text.substr(https ? 8 : 7);
  return !host.empty() && host.find_first_of("/?# ") == std::string::npos;
}

bool ip_address(const std::string& text) {
  unsigned char address[16];
  // The whole string: an address followed by a NUL and more is no address.
  return text.find('\0') == std::string::npos && (inet_pton(AF_INET, text.c_str(), address) == 1 ||
                                                  inet_pton(AF_INET6, text.c_str(), address) == 1);
}

bool lower_hex64(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void check(const callswap::server::OperatorConfig& config) {
  require(config.listen_port >= 0 && config.listen_port <= 65535);
  require(config.replay_window_seconds >= 10 && config.replay_window_seconds <= 3600);
  require(config.max_body_bytes >= 1024 && config.max_body_bytes <= (1u << 20));
  for (const auto& rate : {config.visitor_rate, config.admin_rate, config.webhook_rate}) {
    require(rate.per_minute >= 0 && rate.per_minute <= 1'000'000);
    require(rate.burst >= 1 && rate.burst <= 1'000'000);
  }
  require(config.threads >= 2 && config.threads <= 1024);
  require(config.max_connections >= 16 && config.max_connections <= 65536 &&
          config.threads <= config.max_connections);
  require(config.keep_alive_seconds >= 1 && config.keep_alive_seconds <= 300);
  require(config.request_timeout_seconds >= 1 && config.request_timeout_seconds <= 300);
  require(config.listen_backlog >= 16 && config.listen_backlog <= 65535);
  require(config.purge_max_step_hours >= 1 && config.purge_max_step_hours <= 24 * 3650);
  for (int days : {config.default_retention.sessions_days, config.default_retention.calls_days,
                   config.default_retention.audit_days}) {
    require(days >= 1 && days <= 3650);
  }
  require(config.public_url.empty() || origin(config.public_url));
  require(config.twilio_auth_token.empty() || !config.public_url.empty());
  require(config.twilio_auth_token.empty() || config.twilio_auth_token.size() >= 16);
  require(config.calls_secret.empty() || config.calls_secret.size() >= 16);
  for (const std::string& proxy : config.trust_proxy) require(ip_address(proxy));

  require(!config.sites.empty());
  std::set<std::string> site_ids;
  std::set<std::string> pool_numbers;
  for (const auto& site : config.sites) {
    require(site_ids.insert(site.config.site).second);
    require(config.find_site(site.config.site) == &site);
    for (const std::string& o : site.allowed_origins) require(origin(o));
    require(site.attribution_grace_ms >= 0 && site.attribution_grace_ms <= 7 * 24 * 60 * 60'000LL);
    for (int days :
         {site.retention.sessions_days, site.retention.calls_days, site.retention.audit_days}) {
      require(days >= 1 && days <= 3650);
    }
    // Every pool the site config names has numbers here, and only those pools.
    for (const std::string& id : site.config.pools) {
      require(std::any_of(site.pools.begin(), site.pools.end(),
                          [&](const auto& p) { return p.id == id; }));
    }
    for (const auto& pool : site.pools) {
      require(std::find(site.config.pools.begin(), site.config.pools.end(), pool.id) !=
              site.config.pools.end());
      require(!pool.numbers.empty());
      require(pool.settings.hold_ms >= 60'000 && pool.settings.hold_ms <= 24 * 60 * 60'000LL);
      require(pool.settings.cooldown_ms >= 0 &&
              pool.settings.cooldown_ms <= 7 * 24 * 60 * 60'000LL);
      // A number belongs to one place only: no two pools, and no pool and a static number.
      for (const auto& number : pool.numbers) require(pool_numbers.insert(number.e164()).second);
    }
  }
  // A static number may serve several sources of one site, but no other site and no pool.
  std::map<std::string, const void*> static_owner;
  for (const auto& site : config.sites) {
    for (const auto& source : site.config.sources) {
      const std::string number = source.static_number.e164();
      require(!pool_numbers.contains(number));
      require(static_owner.emplace(number, &site).first->second == &site);
    }
  }
  for (const auto& key : config.admin_keys) {
    require(lower_hex64(key.sha256_hex));
    for (const std::string& scope : key.scopes)
      require(scope == "reports" || scope == "subjects" || scope == "config");
  }
  if (config.caller_keys) {
    const auto& keys = *config.caller_keys;
    require(!keys.keys.empty() && keys.hash_key.size() == 32);
    for (const auto& k : keys.keys) require(k.bytes.size() == 32);
    require(std::any_of(keys.keys.begin(), keys.keys.end(),
                        [&](const auto& k) { return k.id == keys.current; }));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto result = callswap::server::load_operator_config(fuzz::text(data, size), environment);
  require(result.ok() != !result.errors.empty());
  for (const auto& error : result.errors) require(!error.message.empty());
  if (result.ok()) check(*result.config);
  return 0;
}
