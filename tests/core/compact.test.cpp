// The compact site config the browser reads: every valid config (the examples and the config
// fuzzer's seeds and corpus) goes to compact and back, and decides attribution and consent
// exactly as the config read from JSON does.
#include <callswap/attribution.hpp>
#include <callswap/compact.hpp>
#include <callswap/config.hpp>
#include <callswap/consent.hpp>
#include <callswap/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using callswap::SiteConfig;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every file the round trip reads: the example configs and the config fuzzer's inputs.
std::vector<fs::path> inputs() {
  std::vector<fs::path> out;
  for (const char* dir :
       {"/examples/configs", "/tests/fuzz/config/seeds", "/tests/fuzz/config/corpus"})
    for (const auto& entry : fs::directory_iterator(std::string(CALLSWAP_SOURCE_DIR) + dir))
      if (entry.is_regular_file()) out.push_back(entry.path());
  return out;
}

// What a config decides a visit from (landing URL, referrer, earlier touch): one visit per
// condition of every rule, one per earlier source, and a visit without anything.
struct Visit {
  std::string url, referrer;
  std::optional<callswap::Touch> earlier;
};
std::vector<Visit> visits_for(const SiteConfig& config) {
  std::vector<Visit> out = {{"https://site.example/", "", std::nullopt},
                            {"https://site.example/", "https://www.google.de/search?q=x", {}},
                            {"https://site.example/", "https://www.facebook.com/", {}},
                            {"https://site.example/", "https://mail.google.com/", {}}};
  for (const auto& source : config.sources) {
    for (const auto& id : source.match.click_ids)
      out.push_back({"https://site.example/?utm_source=s&" + id + "=V", "", {}});
    for (const auto& param : source.match.params) {
      const std::string value =
          param.values.empty() || param.values[0] == "*" ? "any" : param.values[0];
      out.push_back(
          {"https://site.example/?" + param.name + "=" + value + "&utm_campaign=c", "", {}});
    }
    for (std::string host : source.match.referrer_hosts) {
      if (host.ends_with(".*")) host.replace(host.size() - 1, 1, "com");
      out.push_back({"https://site.example/", "https://" + host + "/page", {}});
    }
    callswap::Touch touch;
    touch.source = source.id;
    touch.campaign.utm_campaign = "earlier";
    out.push_back({"https://site.example/?gclid=1", "", touch});
  }
  for (const auto& host : config.own_hosts)
    out.push_back({"https://site.example/", "https://" + host + "/", {}});
  return out;
}

std::string decided(const SiteConfig& config, const Visit& visit) {
  const auto a = callswap::attribute(config, visit.url, visit.referrer, visit.earlier);
  std::string out = a.to_json().dump();
  if (a.source) out += " " + a.source->static_number.e164() + " " + a.source->pool;
  if (const auto touch = a.touch()) out += " touch " + callswap::to_compact(*touch);
  return out;
}

}  // namespace

TEST_CASE("Every valid config reads back from its compact form and decides the same", "[compact]") {
  // Consent signals: hand-written ones for each platform and every fuzz input that is JSON.
  std::vector<callswap::json::Value> signals;
  for (
      const char* text :
      {R"({})", R"({"manual": "granted"})", R"({"manual": "denied"})",
       R"({"manual": "granted", "gpc": true})",
       R"({"consent_mode": [{"command": "update", "params": {"analytics_storage": "granted", "ad_storage": "granted", "ad_user_data": "granted"}}]})",
       R"({"onetrust": {"active_groups": ",C0001,C0002,C0004,", "alert_box_closed": true}})",
       R"({"cookieconsent": {"valid": true, "accepted": ["necessary", "analytics", "marketing"]}})",
       R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "useractioncomplete", "gdprApplies": true, "publisher": {"consents": {"1": true, "7": true}}}})"})
    signals.push_back(*callswap::json::parse(text));
  for (const auto& path : inputs())
    if (auto value = callswap::json::parse(read_file(path)); value && value->is_object())
      signals.push_back(std::move(*value));

  std::size_t valid = 0;
  for (const auto& path : inputs()) {
    const auto parsed = callswap::parse_site_config(read_file(path));
    if (!parsed.ok()) continue;
    ++valid;
    INFO(path.string());
    const SiteConfig& json_config = *parsed.config;
    const std::string compact = callswap::to_compact(json_config);
    const auto read = callswap::from_compact(compact);
    REQUIRE(read);
    CHECK(callswap::to_compact(*read) == compact);
    CHECK(callswap::summarize(*read) == callswap::summarize(json_config));
    // The first-swap module's reader leaves consent out and attributes the same.
    const auto first_swap = callswap::from_compact_without_consent(compact);
    REQUIRE(first_swap);
    for (const Visit& visit : visits_for(json_config)) {
      INFO(visit.url << " from " << visit.referrer);
      CHECK(decided(*read, visit) == decided(json_config, visit));
      CHECK(decided(*first_swap, visit) == decided(json_config, visit));
    }
    for (const auto& s : signals) {
      CHECK(callswap::decide_consent(read->consent, s).to_json().dump() ==
            callswap::decide_consent(json_config.consent, s).to_json().dump());
    }
  }
  CHECK(valid >= 5);  // the three examples and the seeds: the loop above did run
}

TEST_CASE("The compact reader refuses what to_compact never writes", "[compact]") {
  const auto config =
      callswap::parse_site_config(read_file(CALLSWAP_SOURCE_DIR "/examples/configs/acme.json"));
  REQUIRE(config.ok());
  const std::string compact = callswap::to_compact(*config.config);
  REQUIRE(callswap::from_compact(compact));
  CHECK_FALSE(callswap::from_compact(""));
  CHECK_FALSE(callswap::from_compact(compact.substr(0, compact.size() - 1)));  // cut short
  CHECK_FALSE(callswap::from_compact(compact + "0,"));                         // trailing
  CHECK_FALSE(callswap::from_compact("2," + compact.substr(2)));               // another version
  CHECK_FALSE(callswap::from_compact("01," + compact.substr(2)));              // leading zero
  CHECK_FALSE(callswap::from_compact("9999999999,"));                          // too long a number
  // A number that is not E.164, a country callswap does not know.
  std::string bad_number = compact;
  bad_number.replace(bad_number.find("+49"), 3, "+00");
  CHECK_FALSE(callswap::from_compact(bad_number));
  std::string bad_country = compact;
  bad_country.replace(bad_country.find("2:DE"), 4, "2:ZZ");
  CHECK_FALSE(callswap::from_compact(bad_country));
}

TEST_CASE("An earlier touch crosses in compact form", "[compact]") {
  callswap::Touch touch;
  touch.source = "google-ads";
  touch.campaign.utm_campaign = "Sommer: 50% – 3:1";
  touch.campaign.click_id = "gclid";
  const auto read = callswap::touch_from_compact(callswap::to_compact(touch));
  REQUIRE(read);
  CHECK(read->source == touch.source);
  CHECK(read->campaign == touch.campaign);
  CHECK_FALSE(callswap::touch_from_compact(""));
  CHECK_FALSE(callswap::touch_from_compact("0:0:0:0:0:0:0:0:"));  // no source
  CHECK_FALSE(callswap::touch_from_compact("1:a"));               // cut short
}
