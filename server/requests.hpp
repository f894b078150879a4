#pragma once
// What the HTTP API reads from a request, as plain functions: request text in, a parsed
// value or the API error out. No HTTP library types, so the fuzz targets in tests/fuzz call
// exactly what the server calls (http_server.cpp only routes and answers).

#include <callswap/config.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "json_text.hpp"

namespace callswap::server {

/// A request the API refuses: the HTTP status, the stable code and the reason.
struct RequestError {
  int status = 400;
  std::string code;
  std::string message;
};

/// Either what the request asked for or why it is refused.
template <class T>
using Parsed = std::variant<T, RequestError>;

/// application/x-www-form-urlencoded, in order, keys as sent and sorted (a multimap).
std::multimap<std::string, std::string> parse_form(std::string_view body);

/// Twilio's X-Twilio-Signature for a request to `url` (public URL + path and query) with
/// this form: HMAC-SHA1 over the URL and each key and value, sorted by key, in base64.
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const std::multimap<std::string, std::string>& form);

/// A call as a webhook reports it, after validation.
struct CallReport {
  std::string id;      ///< the provider's call id: 1 to 64 (Twilio) or 128 characters
  std::string to;      ///< the dialled number as sent (checked against the pools later)
  std::string from;    ///< the caller as sent
  std::string status;  ///< at most 32 characters; "unknown" when not given
  int duration_seconds = 0;
};

/// Twilio's status callback form (CallSid, To, From, CallStatus, CallDuration).
Parsed<CallReport> parse_twilio_call(const std::multimap<std::string, std::string>& form);

/// X-Callswap-Timestamp: Unix seconds, 1 to 12 digits.
std::optional<std::int64_t> parse_webhook_timestamp(std::string_view header);
/// The X-Callswap-Signature a generic call webhook must carry: "sha256=" and the hex
/// HMAC-SHA256 over "<timestamp>.<body>".
std::string calls_signature(std::string_view secret, std::string_view timestamp,
                            std::string_view body);
/// The generic call webhook's JSON body (call_id, to, from, status, duration_seconds).
Parsed<CallReport> parse_call_event(std::string_view body);

/// Ids for the ad and analytics platforms, each sent only with the visitor's consent for its
/// purpose and kept with the platforms that granted it ("consent_mode", "tcf+onetrust").
struct VisitorIds {
  std::string click_id_type;  ///< "gclid", "msclkid", ...; empty: none sent
  std::string click_id;
  std::string click_id_consent;
  std::string ga_client_id;  ///< "1234567890.1234567890" from the _ga cookie; empty: none sent
  std::string ga_consent;
};

/// A consenting visitor's request for a dynamic number (POST /v1/sites/{site}/sessions).
struct SessionRequest : VisitorIds {
  const Source* source = nullptr;  ///< one of the site's sources
  std::string landing_path;        ///< the path with the utm_* parameters only
  Json campaign = Json::object();  ///< the campaign details the site keeps
};
Parsed<SessionRequest> parse_session_request(std::string_view body, const SiteConfig& site);

/// A heartbeat's body (POST /v1/sessions/{id}/heartbeat), when it has one: {"ids": {...}}
/// with the ids the visitor consented to after the session began, in the shapes and with
/// the consent rules of a session request, or null for an id whose purpose's consent was
/// withdrawn (the server then removes it). An empty body names no id.
struct HeartbeatIds : VisitorIds {
  bool click_id_named = false;  ///< the body named click_id: set it, or remove it when empty
  bool ga_named = false;        ///< the same for ga_client_id
};
Parsed<HeartbeatIds> parse_heartbeat(std::string_view body, const SiteConfig& site);

/// A session id as a path carries it: 32 lower-case hex digits, as random_id() makes them (a
/// site id is callswap::is_valid_id, the routes' pattern).
bool is_session_id(std::string_view id);

/// The route a request took, for logs: a session id never appears in it.
std::string route_of(std::string_view path);

/// An AMP cache's origin, as AMP's "CORS in AMP" guide names them: the Google AMP Cache (one
/// DNS label per publisher under cdn.ampproject.org, and cdn.ampproject.org itself) and the
/// Bing AMP Cache (one label under bing-amp.com). Exactly one label, so
/// "x.cdn.ampproject.org.evil.com" and "a.b.cdn.ampproject.org" are not caches.
bool is_amp_cache_origin(std::string_view origin);

/// A number query parameter ("from", "to", "target") within [min, max]; nullopt otherwise.
std::optional<double> parse_number_parameter(std::string_view text, double min, double max);

}  // namespace callswap::server
