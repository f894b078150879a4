// libFuzzer target for the body of POST /v1/sites/{site}/sessions as the server validates
// it (server/requests.cpp), for a site that keeps click id values and one that does not.
// Invariants: an accepted request had the visitor's consent (true or "granted"), names one
// of the site's sources, keeps a landing path that starts with '/' and carries only utm_*
// parameters (writing it again changes nothing), and campaign details the site keeps as
// strings of at most 512 bytes; a click id or GA client id it keeps came with the consent of
// platforms the site reads (never the manual signal) and is a token of the documented shape;
// a refused one is a 400 with a known code and a reason.

#include <algorithm>
#include <callswap/attribution.hpp>
#include <callswap/config.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "requests.hpp"

namespace {

using fuzz::require;

const callswap::SiteConfig& site(bool keep_click_ids) {
  static const auto load = [](bool keep) {
    const std::string text =
        std::string(R"({"site": "acme", "country": "DE", "targets": ["+49301234567"],
      "pools": ["ads"],
      "sources": [{"id": "ads", "static": "+49301111111", "pool": "ads", "match": {"click_ids": ["gclid"]}},
                  {"id": "direct", "static": "+49301234567", "default": true}],
      "session": {"keep_click_ids": )") +
        (keep ? "true" : "false") + "}}";
    auto parsed = callswap::parse_site_config(text);
    require(parsed.ok());
    return *parsed.config;
  };
  static const callswap::SiteConfig keeping = load(true);
  static const callswap::SiteConfig not_keeping = load(false);
  return keep_click_ids ? keeping : not_keeping;
}

// Written out here, apart from the core's table, so that a wrong table fails the target.
const std::vector<std::string_view>& kept_parameters() {
  static const std::vector<std::string_view> keep = {"utm_source", "utm_medium", "utm_campaign",
                                                     "utm_term", "utm_content"};
  return keep;
}

void check_landing_path(const std::string& path) {
  require(path.starts_with("/"));
  require(path.find('#') == std::string::npos);
  // Only the campaign parameters survive, and the written path reads back as itself.
  require(callswap::url_path_with(path, kept_parameters()) == path);
  const std::size_t query = path.find('?');
  if (query == std::string::npos) return;
  std::string_view rest = std::string_view(path).substr(query + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const std::string name(pair.substr(0, pair.find('=')));
    require(std::find(kept_parameters().begin(), kept_parameters().end(), name) !=
            kept_parameters().end());
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
}

// An id is kept only with its consent: platform names the site reads, joined by '+'.
void check_id_consent(const std::string& id, const std::string& consent,
                      const callswap::SiteConfig& config) {
  require(id.empty() == consent.empty());
  std::string_view rest(consent);
  while (!rest.empty()) {
    const std::string_view name = rest.substr(0, rest.find('+'));
    require(
        name != "manual" &&
        std::any_of(config.consent.signals.begin(), config.consent.signals.end(),
                    [&](callswap::ConsentPlatform p) { return name == callswap::to_string(p); }));
    rest = name.size() == rest.size() ? std::string_view{} : rest.substr(name.size() + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool keep_click_ids = data[0] & 1;
  const std::string_view body = fuzz::text(data + 1, size - 1);
  const callswap::SiteConfig& config = site(keep_click_ids);
  const auto parsed = callswap::server::parse_session_request(body, config);
  if (const auto* error = std::get_if<callswap::server::RequestError>(&parsed)) {
    require(error->status == 400 && !error->message.empty());
    require(error->code == "invalid_json" || error->code == "invalid_body" ||
            error->code == "consent_required" || error->code == "unknown_source");
    return 0;
  }
  const auto& request = std::get<callswap::server::SessionRequest>(parsed);
  // The body is JSON by the core's reader too (both readers are strict alike), an object with
  // the visitor's consent.
  const auto json = callswap::json::parse(body);
  require(json.ok() && json->is_object());
  const callswap::json::Value* consent = json->find("consent");
  require(consent && ((consent->is_bool() && consent->as_bool()) ||
                      (consent->is_string() && consent->as_string() == "granted")));
  require(request.source && request.source == config.find_source(request.source->id));
  check_landing_path(request.landing_path);
  require(request.campaign.is_object());
  for (const auto& [key, value] : request.campaign.items()) {
    const bool kept = std::find(kept_parameters().begin(), kept_parameters().end(), key) !=
                          kept_parameters().end() ||
                      key == "click_id" || (key == "click_id_value" && keep_click_ids);
    require(kept && value.is_string() && value.get_ref<const std::string&>().size() <= 512);
  }
  check_id_consent(request.click_id, request.click_id_consent, config);
  check_id_consent(request.ga_client_id, request.ga_consent, config);
  if (!request.click_id.empty()) {
    static const std::vector<std::string> kTypes = {"gclid",  "gbraid", "wbraid",   "msclkid",
                                                    "fbclid", "ttclid", "li_fat_id"};
    require(std::find(kTypes.begin(), kTypes.end(), request.click_id_type) != kTypes.end());
    require(request.click_id.size() <= 512 &&
            std::all_of(request.click_id.begin(), request.click_id.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                     c == '.' || c == '~';
            }));
  }
  if (!request.ga_client_id.empty()) {
    const std::size_t dot = request.ga_client_id.find('.');
    require(dot != std::string::npos && dot > 0 && dot + 1 < request.ga_client_id.size());
    require(std::count(request.ga_client_id.begin(), request.ga_client_id.end(), '.') == 1);
  }
  return 0;
}
