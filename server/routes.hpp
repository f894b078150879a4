#pragma once
// Every endpoint the server answers, in one table: its method, its path (as cpp-httplib
// matches it and as docs/openapi.json names it), the admin scope it needs and its rate-limit
// class. The server wires its handlers from this table and refuses to start if a route has
// no handler; the tests check the OpenAPI file and the scope table in docs/api.md against it.

#include <array>
#include <string_view>

namespace callswap::server {

/// What an admin key may do. `none`: the endpoint needs no key.
enum class Scope {
  none,
  reports,   ///< the site list, reports and pool statistics: counts, never a caller
  subjects,  ///< data-subject requests; callers' numbers in answers are masked
  callers,   ///< with `subjects`: callers' numbers in clear in access exports
  config,    ///< what the server holds for each site (no secrets) and the record of processing
};

/// Which bucket a request takes a token from (limits in docs/server.md).
enum class RateClass {
  unlimited,  ///< health check and the admin page's static files
  visitor,    ///< what a browser calls: per client address
  admin,      ///< per client address, and per admin key
  webhook,    ///< telephony webhooks: per client address
};

struct Route {
  std::string_view method;
  std::string_view pattern;  ///< the regular expression cpp-httplib matches
  std::string_view path;     ///< the same path as docs/openapi.json writes it
  Scope scope;
  RateClass rate;
};

namespace route_ids {
// Indexes into kRoutes, so a handler names its route and the table stays the one place.
enum : std::size_t {
  health,
  site_config,
  site_config_compact,
  session_preflight,
  session_create,
  session_id_preflight,
  session_heartbeat,
  session_delete,
  twilio_webhook,
  calls_webhook,
  amp_number,
  admin_sites,
  admin_report,
  admin_pools,
  admin_subjects,
  admin_site_settings,
  admin_privacy_record,
  admin_page,
  admin_script,
  conversion_feed,
  admin_deliveries,
  admin_conversion_feed,
  count
};
}  // namespace route_ids

// The patterns a path segment takes: a site id, a session id, an action.
#define CALLSWAP_SITE "([a-z0-9_-]{1,64})"
#define CALLSWAP_SESSION "([0-9a-f]{32})"

inline constexpr std::array<Route, route_ids::count> kRoutes = {{
    {"GET", "/healthz", "/healthz", Scope::none, RateClass::unlimited},
    {"GET", "/v1/sites/" CALLSWAP_SITE "/config", "/v1/sites/{site}/config", Scope::none,
     RateClass::visitor},
    {"GET", "/v1/sites/" CALLSWAP_SITE "/config/compact", "/v1/sites/{site}/config/compact",
     Scope::none, RateClass::visitor},
    {"OPTIONS", "/v1/sites/" CALLSWAP_SITE "/sessions", "/v1/sites/{site}/sessions", Scope::none,
     RateClass::visitor},
    {"POST", "/v1/sites/" CALLSWAP_SITE "/sessions", "/v1/sites/{site}/sessions", Scope::none,
     RateClass::visitor},
    {"OPTIONS", "/v1/sessions/" CALLSWAP_SESSION "(/heartbeat)?", "/v1/sessions/{session}",
     Scope::none, RateClass::visitor},
    {"POST", "/v1/sessions/" CALLSWAP_SESSION "/heartbeat", "/v1/sessions/{session}/heartbeat",
     Scope::none, RateClass::visitor},
    {"DELETE", "/v1/sessions/" CALLSWAP_SESSION, "/v1/sessions/{session}", Scope::none,
     RateClass::visitor},
    {"POST", "/v1/webhooks/twilio", "/v1/webhooks/twilio", Scope::none, RateClass::webhook},
    {"POST", "/v1/webhooks/calls", "/v1/webhooks/calls", Scope::none, RateClass::webhook},
    {"GET", "/amp/v1/sites/" CALLSWAP_SITE "/number", "/amp/v1/sites/{site}/number", Scope::none,
     RateClass::visitor},
    {"GET", "/v1/admin/sites", "/v1/admin/sites", Scope::reports, RateClass::admin},
    {"GET", "/v1/admin/sites/" CALLSWAP_SITE "/report", "/v1/admin/sites/{site}/report",
     Scope::reports, RateClass::admin},
    {"GET", "/v1/admin/sites/" CALLSWAP_SITE "/pools", "/v1/admin/sites/{site}/pools",
     Scope::reports, RateClass::admin},
    {"POST", "/v1/admin/subjects/([a-z]{1,16})", "/v1/admin/subjects/{action}", Scope::subjects,
     RateClass::admin},
    {"GET", "/v1/admin/sites/" CALLSWAP_SITE "/settings", "/v1/admin/sites/{site}/settings",
     Scope::config, RateClass::admin},
    {"GET", "/v1/admin/privacy-record", "/v1/admin/privacy-record", Scope::config,
     RateClass::admin},
    {"GET", "/admin", "/admin", Scope::none, RateClass::unlimited},
    {"GET", "/admin/admin.js", "/admin/admin.js", Scope::none, RateClass::unlimited},
    // HTTP Basic with the site's feed credentials (the ad platforms fetch it so), not an admin key.
    {"GET", "/v1/sites/" CALLSWAP_SITE "/conversions/(google-ads|microsoft-ads)\\.csv",
     "/v1/sites/{site}/conversions/{platform}.csv", Scope::none, RateClass::admin},
    {"GET", "/v1/admin/sites/" CALLSWAP_SITE "/deliveries", "/v1/admin/sites/{site}/deliveries",
     Scope::reports, RateClass::admin},
    // The same feed as a download from the report page, with the report's key.
    {"GET", "/v1/admin/sites/" CALLSWAP_SITE "/conversions/(google-ads|microsoft-ads)\\.csv",
     "/v1/admin/sites/{site}/conversions/{platform}.csv", Scope::reports, RateClass::admin},
}};

#undef CALLSWAP_SITE
#undef CALLSWAP_SESSION

/// "reports", ... as the operator config and docs/api.md spell the scopes.
constexpr std::string_view scope_name(Scope scope) {
  switch (scope) {
    case Scope::none:
      return "none";
    case Scope::reports:
      return "reports";
    case Scope::subjects:
      return "subjects";
    case Scope::callers:
      return "callers";
    case Scope::config:
      return "config";
  }
  return "none";
}

/// Every scope a key can be given, in the order docs/api.md lists them.
inline constexpr std::array<Scope, 4> kKeyScopes = {Scope::reports, Scope::subjects, Scope::callers,
                                                    Scope::config};

}  // namespace callswap::server
