#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "operator_config.hpp"
#include "temp_dir.hpp"

namespace {

std::optional<std::string> no_environment(const std::string&) { return std::nullopt; }

std::vector<std::string> errors_of(const std::string& json, const callswap::server::Environment& env = no_environment) {
  std::vector<std::string> out;
  for (const auto& e : callswap::server::load_operator_config(json, env).errors) out.push_back(e.to_string());
  return out;
}

}  // namespace

TEST_CASE("The example operator config is valid", "[operator_config]") {
  std::ifstream in(CALLSWAP_SOURCE_DIR "/examples/server/callswap.json");
  std::ostringstream text;
  text << in.rdbuf();
  const auto result = callswap::server::load_operator_config(text.str(), [](const std::string& name) -> std::optional<std::string> {
    if (name == "CALLSWAP_TWILIO_AUTH_TOKEN") return std::string("a-token-from-the-environment");
    if (name == "CALLSWAP_CALLER_KEY_2026_11") return std::string(64, 'a');
    if (name == "CALLSWAP_CALLER_HASH_KEY") return std::string(64, 'b');
    return std::nullopt;
  });
  INFO((result.ok() ? std::string() : result.errors.front().to_string()));
  REQUIRE(result.ok());
  const auto& config = *result.config;
  CHECK(config.listen_port == 8080);
  CHECK(config.twilio_auth_token == "a-token-from-the-environment");
  REQUIRE(config.sites.size() == 1);
  CHECK(config.sites[0].pools.size() == 2);
  CHECK(config.find_site("acme") == &config.sites[0]);
  CHECK(config.sites[0].retention.calls_days == 180);
  REQUIRE(config.caller_keys);
  CHECK(config.caller_keys->current == "2026-11");
  CHECK(config.caller_keys->keys.at(0).bytes == std::string(32, '\xaa'));
  CHECK(config.sites[0].retention.sessions_days == 30);
}

TEST_CASE("Every error in an operator config is reported with its path", "[operator_config]") {
  const std::string bad = R"({
    "listen": "localhost",
    "public_url": "track.example.com",
    "sites": [
      {"config": {"site": "a", "country": "DE", "targets": ["+49301234567"], "pools": ["ads", "seo"],
                  "sources": [{"id": "d", "static": "+49301234567", "default": true, "pool": "ads"}]},
       "allowed_origins": ["https://a.example/", "a.example"],
       "pools": {"ads": {"numbers": ["+49309000001", "+49 30 9000002"], "hold_minutes": 0, "when_exhausted": "panic"},
                 "extra": {"numbers": ["+49309000001"]}},
       "retention": {"calls_days": 0, "forever": true}},
      {"config": {"site": "a", "country": "XX", "targets": [], "sources": []}}
    ],
    "admin_keys": [{"id": "ops", "sha256": "secret-key", "scopes": ["reports", "root"]}],
    "webhooks": {"twilio_auth_token": "short", "calls_secret": {"env": "CALLS_SECRET"}},
    "limits": {"threads": 1}
  })";
  const std::vector<std::string> expected = {
      "listen: \"localhost\" is not host:port (\"127.0.0.1:8080\")",
      "public_url: \"track.example.com\" is not an origin like \"https://track.example.com\"",
      "sites[0].allowed_origins[0]: \"https://a.example/\" is not an origin like \"https://shop.example\"",
      "sites[0].allowed_origins[1]: \"a.example\" is not an origin like \"https://shop.example\"",
      "sites[0].pools.ads.numbers[1]: \"+49 30 9000002\" is not a valid E.164 number (only digits may follow '+', without spaces or separators)",
      "sites[0].pools.ads.hold_minutes: must be between 1 and 1440, not 0",
      "sites[0].pools.ads.when_exhausted: \"panic\" is not one of \"static\", \"reuse_least_active\"",
      "sites[0].pools.extra: pool \"extra\" is not listed in the site config's pools",
      "sites[0].pools.extra.numbers[0]: +49309000001 is already used at sites[0].pools.ads.numbers[0]: a number belongs to one place only",
      "sites[0].pools: the site config lists pool \"seo\" but it has no numbers here",
      "sites[0].retention.forever: unknown field",
      "sites[0].retention.calls_days: must be between 1 and 3650, not 0",
      "sites[1].config.country: \"XX\" is not a country callswap knows (ISO code like \"DE\")",
      "sites[1].config.targets: must list the site's own numbers in E.164 (\"+49301234567\")",
      "sites[1].config.sources: must list at least one source",
      "admin_keys[0].sha256: must be the SHA-256 of the key in lower-case hex (64 characters), never the key itself",
      "admin_keys[0].scopes[1]: \"root\" is not one of \"reports\", \"subjects\", \"config\"",
      "webhooks.twilio_auth_token: is too short to be a secret (16 characters at least)",
      "webhooks.calls_secret.env: the environment variable CALLS_SECRET is not set",
      "limits.threads: must be between 2 and 1024, not 1",
  };
  CHECK(errors_of(bad) == expected);
}

TEST_CASE("Structural problems in an operator config", "[operator_config]") {
  using V = std::vector<std::string>;
  CHECK(errors_of("nope") == V{"invalid JSON at line 1, column 1: unexpected character"});
  CHECK(errors_of("{}") == V{"sites: is required"});
  CHECK(errors_of(R"({"sites": []})") == V{"sites: must list at least one site"});
  CHECK(errors_of(R"({"sites": [{}]})") == V{"sites[0].config: is required"});
  const std::string site = R"({"config": {"site": "a", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "d", "static": "+49301234567", "default": true}]}})";
  CHECK(errors_of(R"({"sites": [)" + site + R"(], "caller_numbers": {"keys": [{"id": "k1", "key": "abc"}], "current": "k2"}})") ==
        V{"caller_numbers.keys[0].key: is too short to be a secret (16 characters at least)",
          "caller_numbers.keys[0].key: must be 64 hex characters (32 bytes)",
          "caller_numbers.current: \"k2\" is not one of the keys", "caller_numbers.hash_key: is required"});
  CHECK(errors_of(R"({"sites": [)" + site + R"(], "caller_numbers": {"keys": [{"id": "k1", "key": ")" + std::string(64, 'x') +
                  R"("}], "current": "k1", "hash_key": ")" + std::string(64, 'a') + R"("}})") ==
        V{"caller_numbers.keys[0].key: must be 64 hex characters (32 bytes)"});
  CHECK(errors_of(R"({"sites": [{"config": {"site": "a", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "d", "static": "+49301234567", "default": true}]}}],
      "webhooks": {"twilio_auth_token": "0123456789abcdef0123"}})") ==
        V{"public_url: is required with webhooks.twilio_auth_token: Twilio signs the URL it calls"});
}

TEST_CASE(
    "An operator config file's paths are relative to its folder and site configs may be files",
    "[operator_config]") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("sites"));
  std::ofstream(dir.file("sites/a.json"))
      << R"({"site": "a", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "d", "static": "+49301234567", "default": true}]})";
  std::ofstream(dir.file("sites/broken.json")) << "{";
  const std::string config_file = dir.file("callswap.json");
  const std::filesystem::path folder = std::filesystem::path(config_file).parent_path();

  SECTION("a site config by path is read in place, relative paths become absolute") {
    auto document = callswap::json::parse(R"({"database": "data/callswap.db", "static_dir": "dist",
        "sites": [{"config": "sites/a.json"}]})");
    REQUIRE(document);
    CHECK(callswap::server::resolve_config_references(*document, config_file).empty());
    const auto result = callswap::server::load_operator_document(*document, no_environment);
    REQUIRE(result.ok());
    CHECK(result.config->database == (folder / "data/callswap.db").string());
    CHECK(result.config->static_dir == (folder / "dist").string());
    CHECK(result.config->find_site("a") != nullptr);
    SECTION("a missing folder is named before the server starts") {
      using V = std::vector<std::string>;
      V errors;
      for (const auto& e : callswap::server::check_operator_files(*result.config))
        errors.push_back(e.to_string());
      CHECK(errors ==
            V{"static_dir: the folder \"" + (folder / "dist").string() + "\" does not exist",
              "database: the folder \"" + (folder / "data").string() +
                  "\" does not exist (the database file is created, its folder is not)"});
      std::filesystem::create_directories(folder / "dist");
      std::filesystem::create_directories(folder / "data");
      CHECK(callswap::server::check_operator_files(*result.config).empty());
    }
  }
  SECTION("absolute paths and SQLite's special names are left alone") {
    auto document = callswap::json::parse(
        R"({"database": ":memory:", "static_dir": "/srv/callswap/dist", "sites": []})");
    REQUIRE(document);
    CHECK(callswap::server::resolve_config_references(*document, config_file).empty());
    CHECK(document->find("database")->as_string() == ":memory:");
    CHECK(document->find("static_dir")->as_string() == "/srv/callswap/dist");
  }
  SECTION("a site config file that cannot be read or parsed is named with the field") {
    auto document = callswap::json::parse(
        R"({"sites": [{"config": "sites/missing.json"}, {"config": "sites/broken.json"}]})");
    REQUIRE(document);
    std::vector<std::string> errors;
    for (const auto& e : callswap::server::resolve_config_references(*document, config_file))
      errors.push_back(e.to_string());
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == "sites[0].config: cannot read the site config file " +
                           (folder / "sites/missing.json").string());
    CHECK(errors[1].starts_with("sites[1].config: " + (folder / "sites/broken.json").string() +
                                ": "));
  }
}
