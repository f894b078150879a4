#include <callswap/config.hpp>
#include <callswap/consent.hpp>
#include <catch2/catch.hpp>

namespace {

using callswap::ConsentConfig;
using callswap::ConsentPlatform;

callswap::ConsentDecision decide(const ConsentConfig& config, const std::string& signals) {
  auto v = callswap::json::parse(signals);
  INFO(signals);
  REQUIRE(v.ok());
  return callswap::decide_consent(config, *v);
}

ConsentConfig only(ConsentPlatform p) {
  ConsentConfig c;
  c.signals = {p};
  return c;
}

struct Row {
  const char* signals;
  bool dynamic;
  const char* detail;  // expected in the first verdict's detail
};

void check_rows(const ConsentConfig& config, std::initializer_list<Row> rows) {
  for (const Row& row : rows) {
    const auto d = decide(config, row.signals);
    INFO(row.signals << " -> " << d.to_json().dump());
    CHECK(d.dynamic == row.dynamic);
    CHECK(d.may_store == row.dynamic);
    CHECK_THAT(d.verdicts.at(0).detail, Catch::Contains(row.detail));
  }
}

const char* const kTcfGranted =
    R"("tcf": {"cmpStatus": "loaded", "eventStatus": "useractioncomplete", "gdprApplies": true,
               "purpose": {"consents": {"1": true, "7": true}}, "vendor": {"consents": {"755": true}},
               "publisher": {"consents": {"1": true, "7": true}, "restrictions": {}}})";

}  // namespace

TEST_CASE("TCF acts only on a loaded CMP's stored or fresh choice", "[consent][tcf]") {
  check_rows(
      only(ConsentPlatform::tcf),
      {
          {"{}", false, "no CMP"},
          {std::string("{" + std::string(kTcfGranted) + "}").c_str(), true, "useractioncomplete"},
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "tcloaded", "gdprApplies": true, "publisher": {"consents": {"1": true, "7": true}}}})",
           true, "tcloaded"},
          {R"({"tcf": {"cmpStatus": "stub", "eventStatus": "tcloaded", "gdprApplies": true, "publisher": {"consents": {"1": true, "7": true}}}})",
           false, "CMP not loaded"},
          {R"({"tcf": {"cmpStatus": "error"}})", false, "CMP not loaded"},
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "cmpuishown", "gdprApplies": true, "publisher": {"consents": {"1": true, "7": true}}}})",
           false, "no choice yet (cmpuishown)"},
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "useractioncomplete", "publisher": {"consents": {"1": true, "7": true}}}})",
           false, "gdprApplies undecided"},
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "useractioncomplete", "gdprApplies": true, "publisher": {"consents": {"1": true}}}})",
           false, "publisher purpose 7 not consented"},
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "useractioncomplete", "gdprApplies": true, "publisher": {"consents": {"1": true, "7": false}}}})",
           false, "publisher purpose 7 not consented"},
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "useractioncomplete", "gdprApplies": true, "purpose": {"consents": {"1": true, "7": true}}}})",
           false, "publisher purpose 1 not consented"},
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "useractioncomplete", "gdprApplies": false}})",
           true, "GDPR does not apply"},
          {R"({"tcf": "loaded"})", false, "no CMP"},
      });
}

TEST_CASE("TCF with a vendor id reads the vendor segment and publisher restrictions",
          "[consent][tcf]") {
  ConsentConfig c = only(ConsentPlatform::tcf);
  c.tcf_vendor_id = 755;
  const std::string base =
      R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "tcloaded", "gdprApplies": true, )";
  check_rows(
      c,
      {
          {(base +
            R"("purpose": {"consents": {"1": true, "7": true}}, "vendor": {"consents": {"755": true}}}})")
               .c_str(),
           true, "tcloaded"},
          {(base +
            R"("purpose": {"consents": {"1": true, "7": true}}, "vendor": {"consents": {"756": true}}}})")
               .c_str(),
           false, "vendor 755 not consented"},
          {(base +
            R"("purpose": {"consents": {"1": true}}, "vendor": {"consents": {"755": true}}}})")
               .c_str(),
           false, "purpose 7 not consented"},
          {(base +
            R"("purpose": {"consents": {"1": true, "7": true}}, "vendor": {"consents": {"755": true}}, "publisher": {"restrictions": {"7": {"755": 0}}}}})")
               .c_str(),
           false, "publisher restricts purpose 7"},
          {(base +
            R"("purpose": {"consents": {"1": true, "7": true}}, "vendor": {"consents": {"755": true}}, "publisher": {"restrictions": {"7": {"755": 2}}}}})")
               .c_str(),
           false, "publisher restricts purpose 7"},
          {(base +
            R"("purpose": {"consents": {"1": true, "7": true}}, "vendor": {"consents": {"755": true}}, "publisher": {"restrictions": {"7": {"755": 1}, "1": {"1": 0}}}}})")
               .c_str(),
           true, "tcloaded"},
      });
}

TEST_CASE("Consent Mode needs every configured type granted; region defaults are unknown",
          "[consent][consent_mode]") {
  ConsentConfig c = only(ConsentPlatform::consent_mode);
  c.consent_mode_types = {"analytics_storage", "ad_user_data"};
  check_rows(
      c,
      {
          {R"({"consent_mode": []})", false, "no consent commands"},
          {R"({"consent_mode": [{"command": "default", "params": {"analytics_storage": "denied", "ad_user_data": "denied"}}]})",
           false, "analytics_storage denied"},
          {R"({"consent_mode": [{"command": "default", "params": {"analytics_storage": "denied", "ad_user_data": "denied"}},
                            {"command": "update", "params": {"analytics_storage": "granted", "ad_user_data": "granted"}}]})",
           true, "granted by update"},
          {R"({"consent_mode": [{"command": "update", "params": {"analytics_storage": "granted"}}]})",
           false, "ad_user_data not set"},
          {R"({"consent_mode": [{"command": "default", "params": {"analytics_storage": "granted", "ad_user_data": "granted", "region": ["US-CA"]}}]})",
           false, "analytics_storage not set"},
          {R"({"consent_mode": [{"command": "default", "params": {"analytics_storage": "granted", "ad_user_data": "granted"}}]})",
           true, "granted by default"},
          {R"({"consent_mode": [{"command": "update", "params": {"analytics_storage": "granted", "ad_user_data": "granted"}},
                            {"command": "update", "params": {"analytics_storage": "denied"}}]})",
           false, "analytics_storage denied"},
          {R"({"consent_mode": [{"command": "set", "params": {"analytics_storage": "granted", "ad_user_data": "granted"}}]})",
           false, "not set"},
      });
}

TEST_CASE("Each CMP's signal is read by its own rules", "[consent][cmp]") {
  check_rows(only(ConsentPlatform::onetrust),
             {
                 {R"({"onetrust": {"active_groups": ",C0001,C0002,", "alert_box_closed": true}})",
                  true, "granted"},
                 {R"({"onetrust": {"active_groups": ",C0001,", "alert_box_closed": true}})", false,
                  "C0002 not granted"},
                 {R"({"onetrust": {"active_groups": ",C0001,C0002,", "alert_box_closed": false}})",
                  true, "granted by default"},
                 {R"({"onetrust": {"active_groups": ",C0001,", "alert_box_closed": false}})", false,
                  "no choice yet"},
                 {R"({"onetrust": {"active_groups": ",C00021,", "alert_box_closed": true}})", false,
                  "C0002 not granted"},
             });
  check_rows(
      only(ConsentPlatform::cookiebot),
      {
          {R"({"cookiebot": {"has_response": true, "method": "explicit", "consent": {"statistics": true}}})",
           true, "granted"},
          {R"({"cookiebot": {"has_response": true, "method": "explicit", "consent": {"statistics": false}}})",
           false, "statistics not granted"},
          {R"({"cookiebot": {"has_response": true, "method": "implied", "consent": {"statistics": true}}})",
           true, "granted by default"},
          {R"({"cookiebot": {"has_response": false, "consent": {"statistics": true}}})", false,
           "no signal"},
      });
  check_rows(only(ConsentPlatform::usercentrics),
             {
                 {R"({"usercentrics": {"services": {"callswap": true}, "explicit": true}})", true,
                  "granted"},
                 {R"({"usercentrics": {"services": {"callswap": false}, "explicit": true}})", false,
                  "callswap not granted"},
                 {R"({"usercentrics": {"services": {"callswap": true}, "explicit": false}})", false,
                  "no choice yet"},
             });
  check_rows(
      only(ConsentPlatform::klaro),
      {
          {R"({"klaro": {"confirmed": true, "consents": {"callswap": true}}})", true, "granted"},
          {R"({"klaro": {"confirmed": false, "consents": {"callswap": true}}})", false,
           "no choice yet"},
          {R"({"klaro": {"confirmed": true, "consents": {"callswap": false}}})", false,
           "callswap not granted"},
      });
  check_rows(only(ConsentPlatform::cookieconsent),
             {
                 {R"({"cookieconsent": {"valid": true, "accepted": ["necessary", "analytics"]}})",
                  true, "granted"},
                 {R"({"cookieconsent": {"valid": true, "accepted": ["necessary"]}})", false,
                  "analytics not granted"},
                 {R"({"cookieconsent": {"valid": false, "accepted": []}})", false, "no choice yet"},
             });
  // WordPress WP Consent API: opt-in grants are choices; opt-out grants are defaults.
  check_rows(
      only(ConsentPlatform::wp_consent_api),
      {
          {R"({"wp_consent_api": {"type": "optin", "granted": {"marketing": true}, "changed": {}}})",
           true, "granted"},
          {R"({"wp_consent_api": {"type": "optin", "granted": {"marketing": false}, "changed": {}}})",
           false, "no choice yet"},
          {R"({"wp_consent_api": {"type": "optin", "granted": {"marketing": false}, "changed": {"marketing": "deny"}}})",
           false, "marketing not granted"},
          {R"({"wp_consent_api": {"type": "optout", "granted": {"marketing": true}, "changed": {}}})",
           true, "granted by default"},
          {R"({"wp_consent_api": {"type": "optout", "granted": {"marketing": true}, "changed": {"marketing": "allow"}}})",
           true, "granted"},
          {R"({"wp_consent_api": {"type": "optout", "granted": {"marketing": false}, "changed": {"marketing": "deny"}}})",
           false, "marketing not granted"},
          {R"({})", false, "no signal"},
      });
  check_rows(only(ConsentPlatform::manual), {
                                                {R"({"manual": "granted"})", true, "granted"},
                                                {R"({"manual": "denied"})", false, "denied"},
                                                {R"({"manual": "maybe"})", false, "no choice"},
                                                {R"({})", false, "no choice"},
                                            });
}

TEST_CASE(
    "GPC and DNT veto implied consent; an explicit opt-in overrides GPC only if the site says so",
    "[consent][gpc]") {
  const ConsentConfig manual = only(ConsentPlatform::manual);
  ConsentConfig onetrust = only(ConsentPlatform::onetrust);
  const char* implied = R"("onetrust": {"active_groups": ",C0002,", "alert_box_closed": false})";
  check_rows(onetrust,
             {
                 {(std::string("{") + implied + R"(, "gpc": true})").c_str(), false,
                  "vetoed by Global Privacy Control"},
                 {(std::string("{") + implied + R"(, "dnt": true})").c_str(), false,
                  "vetoed by Do Not Track"},
                 {(std::string("{") + implied + R"(, "gpc": false, "dnt": false})").c_str(), true,
                  "granted by default"},
             });
  check_rows(manual, {
                         {R"({"manual": "granted", "gpc": true})", false,
                          "vetoed by Global Privacy Control"},
                         {R"({"manual": "granted", "dnt": true})", true, "granted"},
                     });
  ConsentConfig overriding = manual;
  overriding.explicit_consent_overrides_gpc = true;
  check_rows(overriding, {
                             {R"({"manual": "granted", "gpc": true})", true, "granted"},
                         });
  check_rows(
      only(ConsentPlatform::tcf),
      {
          {R"({"tcf": {"cmpStatus": "loaded", "eventStatus": "tcloaded", "gdprApplies": false}, "gpc": true})",
           false, "vetoed by Global Privacy Control"},
      });
}

TEST_CASE("Any-of needs one grant and no refusal; all-of needs every platform", "[consent]") {
  ConsentConfig c;
  c.signals = {ConsentPlatform::tcf, ConsentPlatform::manual};
  const std::string tcf = kTcfGranted;
  struct Combo {
    std::string signals;
    bool any;
    bool all;
  };
  const Combo combos[] = {
      {"{}", false, false},
      {"{" + tcf + "}", true, false},
      {R"({"manual": "granted"})", true, false},
      {"{" + tcf + R"(, "manual": "granted"})", true, true},
      {"{" + tcf + R"(, "manual": "denied"})", false, false},
      {"{" + tcf + R"(, "manual": "granted", "gpc": true})", false, false},
  };
  for (const Combo& combo : combos) {
    c.require = ConsentConfig::Require::any;
    CHECK(decide(c, combo.signals).dynamic == combo.any);
    c.require = ConsentConfig::Require::all;
    CHECK(decide(c, combo.signals).dynamic == combo.all);
  }
  const auto d = decide(c, "{" + tcf + "}");
  CHECK(
      d.to_json().dump() ==
      R"({"mode":"static","may_store":false,"reason":"not every required platform has granted consent","signals":[{"platform":"tcf","state":"granted","basis":"explicit","detail":"tcf: useractioncomplete"},{"platform":"manual","state":"unknown","basis":"none","detail":"manual: no choice"}],"advertising":"","analytics":""})");
}

TEST_CASE("Advertising and analytics are granted by their own signals, never by the manual one",
          "[consent][purposes]") {
  const auto parsed = callswap::parse_site_config(R"({
    "site": "acme", "country": "DE", "targets": ["+49301234567"],
    "sources": [{"id": "direct", "static": "+49301234567", "default": true}],
    "consent": {"signals": ["tcf", "consent_mode", "manual"],
                "advertising": {"consent_mode": {"types": ["ad_user_data"]}, "tcf": {"purposes": [1, 7], "vendor_id": 755}},
                "analytics": {"consent_mode": {"types": ["analytics_storage"]}}}
  })");
  REQUIRE(parsed.ok());
  const ConsentConfig& config = parsed.config->consent;
  REQUIRE(config.advertising.size() == 1);
  CHECK(config.advertising.front().signals == config.signals);  // the site's platforms carry over
  const auto mode = [](const char* params) {
    return std::string(R"({"consent_mode": [{"command": "update", "params": )") + params + "}]}";
  };
  auto d = decide(config, mode(R"({"analytics_storage": "granted", "ad_user_data": "granted"})"));
  CHECK(d.dynamic);
  CHECK(d.advertising == "consent_mode");
  CHECK(d.analytics == "consent_mode");
  d = decide(config, mode(R"({"analytics_storage": "granted", "ad_user_data": "denied"})"));
  CHECK(d.dynamic);
  CHECK(d.advertising.empty());
  CHECK(d.analytics == "consent_mode");
  // A yes to the dynamic number only.
  d = decide(config, R"({"manual": "granted"})");
  CHECK(d.dynamic);
  CHECK(d.advertising.empty());
  CHECK(d.analytics.empty());
  // Nothing is granted for a purpose while the session itself is not.
  d = decide(config, mode(R"({"analytics_storage": "denied", "ad_user_data": "granted"})"));
  CHECK_FALSE(d.dynamic);
  CHECK(d.advertising.empty());
  // Not configured: never granted.
  ConsentConfig plain;
  CHECK(decide(plain, mode(R"({"analytics_storage": "granted", "ad_user_data": "granted"})"))
            .advertising.empty());
}

TEST_CASE("A purpose's consent settings are checked like the consent's, with their path",
          "[consent][purposes][config]") {
  const auto errors = [](const char* consent) {
    const auto parsed = callswap::parse_site_config(
        std::string(R"({"site": "acme", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "direct", "static": "+49301234567", "default": true}], "consent": )") +
        consent + "}");
    std::string out;
    for (const auto& e : parsed.errors) out += e.to_string() + "\n";
    return out;
  };
  CHECK(errors(R"({"advertising": {"consent_mode": {"types": ["ads"]}}})") ==
        "consent.advertising.consent_mode.types[0]: \"ads\" is not a Consent Mode type\n");
  CHECK(errors(R"({"analytics": {"advertising": {}}})") ==
        "consent.analytics.advertising: not allowed here\n");
  CHECK(errors(R"({"advertising": {"colour": 1}})").find("consent.advertising") !=
        std::string::npos);
  CHECK(errors(R"({"advertising": []})") ==
        "consent.advertising: must be an object, not an array\n");
}
