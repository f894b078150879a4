// libFuzzer target for what the server reads from a request's path and query string
// (server/requests.cpp, server/report.cpp, the core's URL helpers): site and session ids,
// the route written to logs, the AMP cache origins the AMP endpoint allows, the admin API's number
// and date parameters and a landing path's campaign parameters. The first byte picks the reader.
// Invariants: ids are accepted exactly when they fit the routes' patterns; a logged route
// never holds the session id of a session path; an origin taken for an AMP cache is https,
// one lower-case label under one of the two caches' domains, and nothing appended to it is one; an
// accepted number lies in its range and reads back the same from its shortest decimal form; a date
// reads back as the same text and falls on a UTC midnight; a landing path keeps only the named
// parameters and writing it again changes nothing.

#include <callswap/attribution.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "crypto.hpp"
#include "fuzz_check.hpp"
#include "report.hpp"
#include "requests.hpp"

namespace {

using fuzz::require;
namespace server = callswap::server;

bool in(char c, std::string_view set) {
  return set.find(c) != std::string_view::npos;
}
bool lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

void ids(std::string_view text) {
  const bool site = !text.empty() && text.size() <= 64 &&
                    std::all_of(text.begin(), text.end(),
                                [](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
  require(callswap::is_valid_id(text) == site);
  const bool session = text.size() == 32 && std::all_of(text.begin(), text.end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                       });
  require(server::is_session_id(text) == session);
}

void route(std::string_view path) {
  const std::string logged = server::route_of(path);
  static constexpr std::string_view kSessions = "/v1/sessions/";
  if (path.starts_with(kSessions)) {
    require(logged.starts_with("/v1/sessions/:id"));
    // The id segment is gone: what follows ":id" is the path after that segment.
    const std::size_t end = path.find('/', kSessions.size());
    require(logged.substr(16) ==
            (end == std::string_view::npos ? std::string_view{} : path.substr(end)));
  } else {
    require(logged.size() <= 200 && path.starts_with(logged));
  }
  // Logging a logged route again changes nothing.
  require(server::route_of(logged) == logged);
  // A real session id in a session path never reaches the log.
  const std::string id = server::random_id();
  require(server::is_session_id(id));
  const std::string with_id = std::string(kSessions) + id + std::string(path.substr(0, 64));
  require(server::route_of(with_id).find(id) == std::string::npos ||
          std::string_view(path.substr(0, 64)).find(id) != std::string_view::npos);
}

void amp_origin(std::string_view origin) {
  if (!server::is_amp_cache_origin(origin)) return;
  // A cache origin is https, has no port, path or user, and ends in one of the two caches'
  // domains after exactly one lower-case label (or is cdn.ampproject.org itself).
  require(origin.starts_with("https://"));
  const std::string_view host = origin.substr(8);
  const bool google = host.ends_with(".cdn.ampproject.org") || host == "cdn.ampproject.org";
  require(google || host.ends_with(".bing-amp.com"));
  const std::string_view label = host.substr(0, host.find('.'));
  require(host == "cdn.ampproject.org" || (!label.empty() && label.size() <= 63));
  for (char c : label) require(lower_or_digit(c) || c == '-');
  // Nothing appended to a cache's origin is a cache.
  require(!server::is_amp_cache_origin(std::string(origin) + ".evil.example"));
  require(!server::is_amp_cache_origin(std::string(origin) + ":8443"));
}

void number(std::string_view text) {
  for (const auto [min, max] : {std::pair{0.0, 1e15}, std::pair{0.05, 1.0}}) {
    const auto value = server::parse_number_parameter(text, min, max);
    if (!value) continue;
    require(std::isfinite(*value) && *value >= min && *value <= max);
    char shortest[32];
    std::snprintf(shortest, sizeof shortest, "%.17g", *value);
    require(server::parse_number_parameter(shortest, min, max) == value);
  }
}

void date(std::string_view text) {
  constexpr callswap::Millis kDay = 24 * 3600'000LL;
  const auto at = server::parse_utc_date(text);
  if (at) {
    require(*at % kDay == 0);
    require(server::utc_date(*at) == text);
  }
}

void landing_path(std::string_view url) {
  static const std::vector<std::string_view> keep = {"utm_source", "utm_medium", "utm_campaign",
                                                     "utm_term", "utm_content"};
  const std::string path = callswap::url_path_with(url, keep);
  require(!path.empty() && path.find('#') == std::string::npos);
  require(callswap::url_path_with(path, keep) == path);
  for (const std::string_view name : keep) {
    // Every kept parameter reads back with the value the page had (the first one).
    require(callswap::url_parameter(path, name) == callswap::url_parameter(url, name));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text = fuzz::text(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      ids(text);
      break;
    case 1:
      route(text);
      break;
    case 2:
      amp_origin(text);
      break;
    case 3:
      number(text);
      break;
    case 4:
      date(text);
      break;
    default:
      landing_path(text);
      break;
  }
  return 0;
}
