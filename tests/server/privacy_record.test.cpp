#include "privacy_record.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

namespace {

std::string example_config() {
  std::ifstream in(CALLSWAP_SOURCE_DIR "/examples/server/callswap.json");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The example config with one piece of it replaced (the piece must be there).
std::string changed(std::string config, const std::string& from, const std::string& to) {
  const std::size_t at = config.find(from);
  REQUIRE(at != std::string::npos);
  return config.replace(at, from.size(), to);
}

std::optional<std::string> example_environment(const std::string& name) {
  if (name == "CALLSWAP_TWILIO_AUTH_TOKEN") return std::string("a-token-from-the-environment");
  if (name == "CALLSWAP_CALLER_KEY_2026_11") return std::string(64, 'a');
  if (name == "CALLSWAP_CALLER_HASH_KEY") return std::string(64, 'b');
  return std::nullopt;
}

std::string record_of(const std::string& config_json) {
  const auto result = callswap::server::load_operator_config(config_json, example_environment);
  INFO((result.ok() ? std::string() : result.errors.front().to_string()));
  REQUIRE(result.ok());
  return callswap::server::privacy_record_markdown(*result.config);
}

bool has(const std::string& record, const std::string& text) {
  return record.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("The privacy record states what the example config sets up", "[privacy_record]") {
  const std::string record = record_of(example_config());
  INFO(record);
  CHECK(record.starts_with("# Record of processing activities (GDPR Art. 30)\n"));
  const char* const expected[] = {
      "- System: callswap-server with its SQLite database `callswap.db`, reached at "
      "https://track.acme.example.\n",
      "\n## Site `acme`\n\nPages: https://acme.example, https://www.acme.example. Sources: 4. "
      "Pools of dynamic numbers: "
      "google-ads (5 numbers), bing-ads (2 numbers).\n",
      // Legal bases: consent with the site's own signals for sessions, legitimate interest for
      // calls by default.
      "| dynamic number per visit (session) | tie a call to the visit (source, campaign, landing "
      "page) that showed the number | "
      "consent, Art. 6(1)(a) GDPR and Art. 5(3) ePrivacy Directive: any of `tcf`, `consent_mode`, "
      "`cookieconsent`, `manual` "
      "(`config.consent`)",
      "| legitimate interest, Art. 6(1)(f) GDPR (`legal_basis.calls`)",
      // Retention from the site's settings, table by table.
      "click id values: not kept",
      "| 30 days after the last activity of an ended session (`retention.sessions_days`)",
      "(google-ads: 30 minutes, bing-ads: 30 minutes)",
      "| 180 days (`retention.calls_days`) |",
      "| 365 days (`retention.audit_days`) |",
      "| server table `pool_samples` | numbers in use per pool and minute; no personal data | 180 "
      "days (with the calls) |",
      "| server table `calls`: the caller's number | encrypted (AES-256-GCM, stored with its key "
      "id) and a keyed hash (HMAC-SHA256)",
      "Never stored: IP addresses, user agents, full URLs, referrers, fingerprints, click id "
      "values.",
      // Recipients, transfers and measures.
      "- Twilio, the telephony provider (a processor of the site owner): sends signed call status "
      "callbacks to "
      "https://track.acme.example/v1/webhooks/twilio",
      "- Staff holding the admin key `ops` (scopes: reports, subjects, config).\n",
      "- Twilio is a US company: *to complete*",
      "- Caller numbers encrypted with AES-256-GCM under keys `2026-11` (current);",
      "- Rate limits per client address: visitors' endpoints 120 a minute (bursts of 60); admin "
      "API "
      "(also per key) 60 a minute (bursts of 30); call webhooks 600 a minute (bursts of 200).\n",
      "- Rows of no site (admin actions not about a site) and of sites no longer configured: kept "
      "by "
      "the top-level `retention` (audit entries 365 days).\n",
      "| server table `erased_calls` | a keyed hash (HMAC-SHA256) of each erased call's provider "
      "id, so a replayed webhook stores nothing; no phone number | 180 days after the erasure |",
      "| server table `restricted_callers` |",
      "unless the admin key has the `callers` scope",
      "- Call webhooks are signed (Twilio's signature).\n",
  };
  for (const char* text : expected) {
    INFO(text);
    CHECK(has(record, text));
  }
  CHECK_FALSE(has(record, "generic call webhook"));
}

TEST_CASE("The privacy record follows each change to the config", "[privacy_record]") {
  const std::string example = example_config();
  const std::string before = record_of(example);

  SECTION("retention") {
    const std::string after =
        record_of(changed(example, R"("calls_days": 180)", R"("calls_days": 400)"));
    CHECK(has(after, "| 400 days (`retention.calls_days`) |"));
    CHECK(has(after, "| 400 days (with the calls) |"));
    CHECK_FALSE(has(after, "180 days"));
    const std::string sessions =
        record_of(changed(example, R"("sessions_days": 30)", R"("sessions_days": 1)"));
    CHECK(has(sessions,
              "| 1 day after the last activity of an ended session (`retention.sessions_days`)"));
  }
  SECTION("callers kept only as a keyed hash") {
    const std::string after =
        record_of(changed(example, R"("attribution_grace_minutes": 30,)",
                          R"("attribution_grace_minutes": 30, "keep_caller_numbers": false,)"));
    CHECK(has(after,
              "| server table `calls`: the caller's number | only a keyed hash (HMAC-SHA256), "
              "never the number itself "
              "(`keep_caller_numbers: false`) |"));
    CHECK_FALSE(has(after, "AES-256-GCM"));
    CHECK(has(after, "- Callers are found by a keyed hash (HMAC-SHA256)"));
  }
  SECTION("no caller keys: caller numbers are not kept") {
    const std::string no_keys = changed(example, R"("caller_numbers": {
    "keys": [{"id": "2026-11", "key": {"env": "CALLSWAP_CALLER_KEY_2026_11"}}],
    "current": "2026-11",
    "hash_key": {"env": "CALLSWAP_CALLER_HASH_KEY"}
  },)",
                                        "");
    const std::string after = record_of(no_keys);
    CHECK(has(after,
              "| server table `calls`: the caller's number | not kept: the config has no "
              "`caller_numbers` keys |"));
    CHECK(has(after, "- Caller numbers are not kept at all (no `caller_numbers` keys).\n"));
    CHECK_FALSE(has(after, "AES-256-GCM"));
    CHECK_FALSE(has(after, "HMAC-SHA256"));
    CHECK_FALSE(has(after, "restricted_callers"));
  }
  SECTION("the legal basis for calls") {
    const std::string after = record_of(
        changed(example, R"("attribution_grace_minutes": 30,)",
                R"("attribution_grace_minutes": 30, "legal_basis": {"calls": "consent"},)"));
    CHECK(has(
        after,
        "| consent, Art. 6(1)(a) GDPR (`legal_basis.calls`): *to complete*: how callers give it"));
    CHECK_FALSE(has(after, "legitimate interest, Art. 6(1)(f) GDPR (`legal_basis.calls`)"));
    const auto bad = callswap::server::load_operator_config(
        changed(example, R"("attribution_grace_minutes": 30,)",
                R"("attribution_grace_minutes": 30, "legal_basis": {"calls": "maybe", "x": 1},)"),
        example_environment);
    REQUIRE_FALSE(bad.ok());
    std::vector<std::string> errors;
    for (const auto& e : bad.errors) errors.push_back(e.to_string());
    CHECK(errors == std::vector<std::string>{"sites[0].legal_basis.x: unknown field",
                                             "sites[0].legal_basis.calls: \"maybe\" is not one of "
                                             "\"legitimate_interest\", \"consent\", \"contract\""});
  }
  SECTION("a generic webhook instead of Twilio, click ids kept, rate limits off") {
    std::string config =
        changed(example, R"("twilio_auth_token": {"env": "CALLSWAP_TWILIO_AUTH_TOKEN"},)",
                R"("calls_secret": "a-calls-secret-0123456789",)");
    config = changed(config, R"("consent": {"require")",
                     R"("session": {"keep_click_ids": true}, "consent": {"require")");
    config = changed(config, R"("limits": {)", R"("limits": {"rate_per_minute": 0, )");
    const std::string after = record_of(config);
    CHECK_FALSE(has(after, "Twilio"));
    CHECK(has(after,
              "- The telephony provider that sends the generic call webhook (/v1/webhooks/calls, "
              "signed with HMAC-SHA256)"));
    CHECK(has(after,
              "- Call webhooks are signed with HMAC-SHA256 over a timestamp, replays older than "
              "300 seconds refused.\n"));
    CHECK(has(after, "click id values: kept (`session.keep_click_ids`)"));
    CHECK(has(after,
              "Never stored: IP addresses, user agents, full URLs, referrers, fingerprints. "));
    CHECK(has(after,
              "- Rate limits per client address: visitors' endpoints off (`limits.rate_per_minute: "
              "0`);"));
  }
  SECTION("a site with static numbers only keeps no sessions") {
    std::string config = changed(example, R"("pools": ["google-ads", "bing-ads"],)", "");
    config = changed(config, R"(, "pool": "google-ads")", "");
    config = changed(config, R"(, "pool": "bing-ads")", "");
    const std::size_t pools = config.find(R"("pools": {)");
    REQUIRE(pools != std::string::npos);
    config.erase(pools, config.find(R"("attribution_grace_minutes")") - pools);
    const std::string after = record_of(config);
    CHECK(has(after, "No source has a pool: only static numbers, no sessions."));
    CHECK_FALSE(has(after, "server table `sessions`"));
    CHECK_FALSE(has(after, "dynamic number per visit"));
  }
  SECTION("config text never becomes markup") {
    const std::string after =
        record_of(changed(example, R"("https://www.acme.example"])",
                          R"("https://www.acme.example", "https://a|b*c.example"])"));
    CHECK(has(after, "https://a\\|b\\*c.example"));
  }
}
