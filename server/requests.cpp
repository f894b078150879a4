#include "requests.hpp"

#include <algorithm>
#include <callswap/attribution.hpp>
#include <callswap/vocabulary.hpp>
#include <cstdlib>
#include <vector>

#include "crypto.hpp"

namespace callswap::server {
namespace {

RequestError invalid(std::string message) {
  return {400, "invalid_body", std::move(message)};
}

bool all_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string string_member(const Json& v, std::string_view key) {
  const Json* m = member(v, key);
  return m && m->is_string() ? m->get<std::string>() : std::string();
}

// A call's status is a short word for reports; what a provider sends beyond it is cut.
std::string call_status(const std::string& sent) {
  return sent.empty() ? "unknown" : sent.substr(0, 32);
}

// The consent an id came with: the platforms that granted its purpose, joined by '+', each
// one the site reads. The manual signal only ever consents to the dynamic number.
bool is_purpose_consent(const std::string& text, const SiteConfig& site) {
  if (text.empty() || text.size() > 200) return false;
  std::string_view rest(text);
  while (true) {
    const std::size_t plus = rest.find('+');
    const std::string_view name = rest.substr(0, plus);
    const bool read = std::any_of(
        site.consent.signals.begin(), site.consent.signals.end(),
        [&](ConsentPlatform p) { return p != ConsentPlatform::manual && name == to_string(p); });
    if (!read) return false;
    if (plus == std::string_view::npos) return true;
    rest = rest.substr(plus + 1);
  }
}

bool is_token(std::string_view text, std::size_t max, std::string_view extra) {
  return !text.empty() && text.size() <= max && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}

// {"click_id": {"type", "value", "consent"}, "ga_client_id": {"value", "consent"}}; with
// `null_removes`, null for either leaves it empty (a heartbeat's withdrawal).
std::optional<RequestError> read_ids(const Json& ids, const SiteConfig& site, VisitorIds& request,
                                     bool null_removes) {
  if (!ids.is_object()) return invalid("ids: must be an object");
  for (const auto& [key, value] : ids.items()) {
    if (key != "click_id" && key != "ga_client_id")
      return invalid("ids: unknown field \"" + key + "\"");
  }
  const auto consent_of = [&](const Json& id, const std::string& path,
                              const char* purpose) -> std::optional<RequestError> {
    const std::string consent = string_member(id, "consent");
    if (!is_purpose_consent(consent, site)) {
      return RequestError{400, "consent_required",
                          path + ".consent: the platforms that granted consent for " + purpose +
                              " (the site's signals, joined by '+')"};
    }
    return std::nullopt;
  };
  const auto given = [&](const char* key) {
    const Json* id = member(ids, key);
    return id && !(null_removes && id->is_null()) ? id : nullptr;
  };
  if (const Json* click = given("click_id")) {
    if (!click->is_object())
      return invalid("ids.click_id: must be an object {type, value, consent}");
    const std::string type = string_member(*click, "type");
    if (std::find(std::begin(kClickIds), std::end(kClickIds), type) == std::end(kClickIds))
      return invalid("ids.click_id.type: not a known click id (" + click_id_names() + ")");
    const std::string value = string_member(*click, "value");
    if (!is_token(value, 512, "-_.~"))
      return invalid("ids.click_id.value: 1 to 512 letters, digits, '-', '_', '.' or '~'");
    if (auto error = consent_of(*click, "ids.click_id", "advertising")) return error;
    request.click_id_type = type;
    request.click_id = value;
    request.click_id_consent = string_member(*click, "consent");
  }
  if (const Json* ga = given("ga_client_id")) {
    if (!ga->is_object()) return invalid("ids.ga_client_id: must be an object {value, consent}");
    const std::string value = string_member(*ga, "value");
    const std::size_t dot = value.find('.');
    if (!is_token(value, 64, ".") || dot == std::string::npos || dot == 0 ||
        dot + 1 == value.size() || !all_digits(std::string_view(value).substr(0, dot)) ||
        !all_digits(std::string_view(value).substr(dot + 1))) {
      return invalid("ids.ga_client_id.value: digits.digits, as the _ga cookie holds it");
    }
    if (auto error = consent_of(*ga, "ids.ga_client_id", "analytics")) return error;
    request.ga_client_id = value;
    request.ga_consent = string_member(*ga, "consent");
  }
  return std::nullopt;
}

}  // namespace

std::multimap<std::string, std::string> parse_form(std::string_view body) {
  std::multimap<std::string, std::string> out;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (!pair.empty()) {
      out.emplace(url_decode(pair.substr(0, eq)),
                  eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1)));
    }
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
  }
  return out;
}

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const std::multimap<std::string, std::string>& form) {
  std::string signed_data(url);
  for (const auto& [key, value] : form) signed_data += key + value;  // multimap: sorted by key
  return hmac_sha1_base64(auth_token, signed_data);
}

Parsed<CallReport> parse_twilio_call(const std::multimap<std::string, std::string>& form) {
  const auto field = [&](const char* name) {
    const auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  CallReport call;
  call.id = field("CallSid");
  if (call.id.empty() || call.id.size() > 64) return invalid("CallSid: required");
  const std::string duration = field("CallDuration");
  if (!duration.empty()) {
    if (duration.size() > 7 || !all_digits(duration)) {
      return invalid("CallDuration: must be whole seconds");
    }
    call.duration_seconds = std::stoi(duration);
  }
  call.status = call_status(field("CallStatus"));
  call.to = field("To");
  call.from = field("From");
  return call;
}

std::optional<std::int64_t> parse_webhook_timestamp(std::string_view header) {
  if (header.empty() || header.size() > 12 || !all_digits(header)) return std::nullopt;
  return std::stoll(std::string(header));
}

std::string calls_signature(std::string_view secret, std::string_view timestamp,
                            std::string_view body) {
  std::string signed_data(timestamp);
  signed_data += '.';
  signed_data += body;
  return "sha256=" + hmac_sha256_hex(secret, signed_data);
}

Parsed<CallReport> parse_call_event(std::string_view body_text) {
  auto body = parse_json(body_text);
  if (!body) return RequestError{400, "invalid_json", body.error().message};
  CallReport call;
  call.id = string_member(*body, "call_id");
  if (call.id.empty() || call.id.size() > 128) return invalid("call_id: required string");
  const Json* duration = member(*body, "duration_seconds");
  if (duration &&
      (!duration->is_number() || duration->get<double>() < 0 || duration->get<double>() > 1e7)) {
    return invalid("duration_seconds: must be a number of seconds");
  }
  call.duration_seconds = duration ? static_cast<int>(duration->get<double>()) : 0;
  call.status = call_status(string_member(*body, "status"));
  call.to = string_member(*body, "to");
  call.from = string_member(*body, "from");
  return call;
}

Parsed<SessionRequest> parse_session_request(std::string_view body_text, const SiteConfig& site) {
  auto body = parse_json(body_text);
  if (!body) return RequestError{400, "invalid_json", body.error().message};
  if (!body->is_object()) return invalid("the body must be a JSON object");
  for (const auto& [key, value] : body->items()) {
    if (key != "source" && key != "landing_path" && key != "consent" && key != "campaign" &&
        key != "ids") {
      return invalid("unknown field \"" + key + "\"");
    }
  }
  const Json* consent = member(*body, "consent");
  if (!consent || !((consent->is_boolean() && consent->get<bool>()) ||
                    (consent->is_string() && *consent == "granted"))) {
    return RequestError{400, "consent_required",
                        "consent: a dynamic number needs the visitor's consent (true)"};
  }
  const Json* source_id = member(*body, "source");
  if (!source_id || !source_id->is_string()) return invalid("source: must be a string");
  SessionRequest request;
  request.source = site.find_source(source_id->get_ref<const std::string&>());
  if (!request.source) {
    return RequestError{400, "unknown_source", "source: no such source for this site"};
  }
  const Json* landing = member(*body, "landing_path");
  if (landing && (!landing->is_string() || landing->get_ref<const std::string&>().size() > 2048 ||
                  !landing->get_ref<const std::string&>().starts_with("/"))) {
    return invalid("landing_path: must be a path starting with '/', at most 2048 characters");
  }
  // Only the path and the campaign parameters are kept: no full URL, nothing else.
  request.landing_path =
      landing ? url_path_with(landing->get_ref<const std::string&>(), kUtmKeys) : std::string("/");
  if (const Json* c = member(*body, "campaign")) {
    if (!c->is_object()) return invalid("campaign: must be an object");
    for (const auto& [key, value] : c->items()) {
      const bool allowed =
          std::find(std::begin(kUtmKeys), std::end(kUtmKeys), key) != std::end(kUtmKeys) ||
          key == "click_id" || (key == "click_id_value" && site.session.keep_click_ids);
      if (!allowed || !value.is_string() || value.get_ref<const std::string&>().size() > 512) {
        return invalid("campaign." + key + ": not a campaign detail this site keeps");
      }
      request.campaign[key] = value;
    }
  }
  if (const Json* ids = member(*body, "ids")) {
    if (auto error = read_ids(*ids, site, request, false)) return *error;
  }
  return request;
}

Parsed<HeartbeatIds> parse_heartbeat(std::string_view body_text, const SiteConfig& site) {
  HeartbeatIds out;
  if (body_text.empty()) return out;
  auto body = parse_json(body_text);
  if (!body) return RequestError{400, "invalid_json", body.error().message};
  if (!body->is_object()) return invalid("the body must be a JSON object");
  for (const auto& [key, value] : body->items()) {
    if (key != "ids") return invalid("unknown field \"" + key + "\"");
  }
  const Json* ids = member(*body, "ids");
  if (!ids) return out;
  if (auto error = read_ids(*ids, site, out, true)) return *error;
  out.click_id_named = member(*ids, "click_id") != nullptr;
  out.ga_named = member(*ids, "ga_client_id") != nullptr;
  return out;
}

bool is_session_id(std::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string route_of(std::string_view path) {
  static constexpr std::string_view kSessions = "/v1/sessions/";
  if (path.starts_with(kSessions)) {
    const std::size_t end = path.find('/', kSessions.size());
    return std::string(kSessions) + ":id" +
           std::string(end == std::string_view::npos ? std::string_view{} : path.substr(end));
  }
  return std::string(path.size() > 200 ? path.substr(0, 200) : path);
}

bool is_amp_cache_origin(std::string_view origin) {
  if (origin == "https://cdn.ampproject.org") return true;
  if (!origin.starts_with("https://")) return false;
  const std::string_view host = origin.substr(8);
  for (const std::string_view cache :
       {std::string_view(".cdn.ampproject.org"), std::string_view(".bing-amp.com")}) {
    if (!host.ends_with(cache)) continue;
    const std::string_view label = host.substr(0, host.size() - cache.size());
    return !label.empty() && label.size() <= 63 &&
           std::all_of(label.begin(), label.end(), [](char ch) {
             return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
           });
  }
  return false;
}

std::optional<double> parse_number_parameter(std::string_view text, double min, double max) {
  // strtod needs a terminated string; like the query parser, it stops at an embedded NUL.
  const std::string terminated(text);
  char* end = nullptr;
  const double v = std::strtod(terminated.c_str(), &end);
  if (terminated.empty() || *end != '\0' || !(v >= min && v <= max)) return std::nullopt;
  return v;
}

}  // namespace callswap::server
