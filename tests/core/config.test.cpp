#include <callswap/config.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> errors_of(const std::string& json) {
  std::vector<std::string> out;
  for (const auto& e : callswap::parse_site_config(json).errors) out.push_back(e.to_string());
  return out;
}

const std::string kMinimal = R"({"site": "acme", "country": "DE", "targets": ["+49301234567"],
  "sources": [{"id": "direct", "static": "+49301234567", "default": true}]})";

}  // namespace

TEST_CASE("The example configs are valid", "[config]") {
  for (const char* name : {"acme", "minimal", "us-shop"}) {
    SECTION(name) {
      const auto result = callswap::parse_site_config(
          read_file(std::string(CALLSWAP_SOURCE_DIR "/examples/configs/") + name + ".json"));
      INFO((result.errors.empty() ? std::string() : result.errors[0].to_string()));
      REQUIRE(result.ok());
    }
  }
}

TEST_CASE("An id is 1 to 64 of a-z, 0-9, '-' and '_' (the pattern tests/vocabulary compares)",
          "[config]") {
  for (const std::string& ok :
       std::vector<std::string>{"acme", "a", "shop-2_de", std::string(64, 'a')})
    CHECK(callswap::is_valid_id(ok));
  for (const std::string& bad : std::vector<std::string>{"", "Acme", "acme site", "acme.de",
                                                         std::string(65, 'a'), "\xc3\xa4"})
    CHECK_FALSE(callswap::is_valid_id(bad));
}

TEST_CASE("A config is read with its defaults", "[config]") {
  const auto result = callswap::parse_site_config(kMinimal);
  REQUIRE(result.ok());
  const callswap::SiteConfig& c = *result.config;
  CHECK(c.site == "acme");
  CHECK(c.country->iso == "DE");
  CHECK(c.targets.at(0).e164() == "+49301234567");
  CHECK(c.default_source()->id == "direct");
  CHECK(c.consent.tcf_purposes == std::vector<int>{1, 7});
  CHECK(c.session.idle_timeout_seconds == 1800);
  CHECK(c.session.storage == callswap::SessionStorage::cookie);
  CHECK(c.swap.noswap_attribute == "data-callswap-noswap");
  CHECK(callswap::summarize(c) ==
        "site acme (DE): 1 target number(s), 1 source(s) (0 with a dynamic pool, default direct), "
        "consent any of tcf,consent_mode,manual");
}

TEST_CASE("Every error in a config is reported with its path and reason", "[config]") {
  const std::string bad = R"({
    "site": "Acme Inc", "country": "XX", "targets": ["+49 30 1234567", 49301234567],
    "colour": "red",
    "pools": ["ads"],
    "sources": [
      {"id": "google", "static": "+49301111111", "pool": "google", "match": {"click_ids": ["gclid", "yclid"]}},
      {"id": "google", "static": "+49301111112", "match": {"click_ids": ["gclid", "yclid"]}},
      {"id": "bing", "static": "+49 30", "match": {}},
      {"id": "social", "static": "+49301111114", "match": {"referrer_groups": ["forums"], "params": {"utm_source": ""}}},
      {"id": "direct", "static": "+49301234567", "default": true},
      {"id": "fallback", "static": "+49301234568", "default": true}
    ],
    "consent": {"require": "most", "signals": ["tcf", "iubenda"], "tcf": {"purposes": [1, 12], "vendor_id": 1.5},
                "consent_mode": {"types": ["ad_storage", "analytics"]}},
    "session": {"idle_timeout_seconds": 30, "heartbeat_seconds": "60", "storage": "indexedDB", "touch": "middle"},
    "swap": {"noswap_attribute": "noswap", "anti_flicker": {"timeout_ms": 10}}
  })";
  const std::vector<std::string> expected = {
      "colour: unknown field",
      "site: \"Acme Inc\" is not an id (1 to 64 of a-z, 0-9, '-', '_')",
      "country: \"XX\" is not a country callswap knows (ISO code like \"DE\")",
      "targets[0]: \"+49 30 1234567\" is not a valid E.164 number (only digits may follow '+', "
      "without spaces or separators)",
      "targets[1]: must be an E.164 number as a string, not a number",
      "sources[0].pool: pool \"google\" does not exist (pools lists the pools)",
      "sources[0].match.click_ids[1]: \"yclid\" is not a known click id (gclid, gbraid, wbraid, "
      "fbclid, msclkid, ttclid, li_fat_id)",
      "sources[1].id: \"google\" is used by an earlier source",
      "sources[1].match.click_ids[1]: \"yclid\" is not a known click id (gclid, gbraid, wbraid, "
      "fbclid, msclkid, ttclid, li_fat_id)",
      "sources[1].match: can never match: source \"google\" has the same rule and comes first",
      "sources[2].static: \"+49 30\" is not a valid E.164 number (only digits may follow '+', "
      "without spaces or separators)",
      "sources[2].match: the source can never match: give params, click_ids, referrer_hosts or "
      "referrer_groups, or make it the default",
      "sources[3].match.params.utm_source: must not be empty (use \"*\" for any value)",
      "sources[3].match.referrer_groups[0]: \"forums\" is not one of \"search\", \"social\", "
      "\"email\"",
      "sources[5].default: source \"direct\" is already the default; this one can never be chosen "
      "as default",
      "consent.require: \"most\" is not one of \"any\", \"all\"",
      "consent.signals[1]: \"iubenda\" is not one of \"tcf\", \"consent_mode\", \"onetrust\", "
      "\"cookiebot\", \"usercentrics\", \"klaro\", \"cookieconsent\", \"wp_consent_api\", "
      "\"manual\"",
      "consent.tcf.purposes[1]: must be between 1 and 11, not 12",
      "consent.tcf.vendor_id: must be a whole number, not a fraction",
      "consent.consent_mode.types[1]: \"analytics\" is not a Consent Mode type",
      "session.idle_timeout_seconds: must be between 60 and 86400, not 30",
      "session.heartbeat_seconds: must be a whole number, not a string",
      "session.storage: \"indexedDB\" is not one of \"cookie\", \"localStorage\"",
      "session.touch: \"middle\" is not one of \"first\", \"last\"",
      "swap.noswap_attribute: \"noswap\" is not a data- attribute name",
      "swap.anti_flicker.selector: is required",
      "swap.anti_flicker.timeout_ms: must be between 50 and 3000, not 10",
  };
  const auto result = callswap::parse_site_config(bad);
  CHECK_FALSE(result.ok());
  std::vector<std::string> actual;
  for (const auto& e : result.errors) actual.push_back(e.to_string());
  CHECK(actual == expected);
}

TEST_CASE("Structural problems are reported, not crashed on", "[config]") {
  using V = std::vector<std::string>;
  CHECK(errors_of("") == V{"invalid JSON at line 1, column 1: unexpected end of input"});
  CHECK(errors_of("{\"site\": \"a\",\n \"site\": \"b\"}") ==
        V{"invalid JSON at line 2, column 8: duplicate member \"site\""});
  CHECK(errors_of("[]") == V{"must be an object, not an array"});
  CHECK(errors_of("{}") == V{"site: is required", "country: is required", "targets: is required",
                             "sources: is required"});
  CHECK(errors_of(R"({"site":"a","country":"DE","targets":[],"sources":[]})") ==
        V{"targets: must list the site's own numbers in E.164 (\"+49301234567\")",
          "sources: must list at least one source"});
  CHECK(errors_of(R"({"site":"a","country":"DE","targets":["+49301234567"],"sources":[42]})") ==
        V{"sources[0]: must be an object, not a number"});
  CHECK(errors_of(std::string(200, '[')) ==
        V{"invalid JSON at line 1, column 65: nested too deeply"});
}
