#include "operator_config.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "temp_dir.hpp"

namespace {

std::optional<std::string> no_environment(const std::string&) {
  return std::nullopt;
}

std::vector<std::string> errors_of(const std::string& json,
                                   const callswap::server::Environment& env = no_environment) {
  std::vector<std::string> out;
  for (const auto& e : callswap::server::load_operator_config(json, env).errors)
    out.push_back(e.to_string());
  return out;
}

}  // namespace

TEST_CASE("The example operator config is valid", "[operator_config]") {
  std::ifstream in(CALLSWAP_SOURCE_DIR "/examples/server/callswap.json");
  std::ostringstream text;
  text << in.rdbuf();
  const auto result = callswap::server::load_operator_config(
      text.str(), [](const std::string& name) -> std::optional<std::string> {
        if (name == "CALLSWAP_TWILIO_AUTH_TOKEN")
          return std::string("a-token-from-the-environment");
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
      "sites[0].allowed_origins[0]: \"https://a.example/\" is not an origin like "
      "\"https://shop.example\"",
      "sites[0].allowed_origins[1]: \"a.example\" is not an origin like \"https://shop.example\"",
      "sites[0].pools.ads.numbers[1]: \"+49 30 9000002\" is not a valid E.164 number (only digits "
      "may follow '+', without spaces or separators)",
      "sites[0].pools.ads.hold_minutes: must be between 1 and 1440, not 0",
      "sites[0].pools.ads.when_exhausted: \"panic\" is not one of \"static\", "
      "\"reuse_least_active\"",
      "sites[0].pools.extra: pool \"extra\" is not listed in the site config's pools",
      "sites[0].pools.extra.numbers[0]: +49309000001 is already used at "
      "sites[0].pools.ads.numbers[0]: a number belongs to one place only",
      "sites[0].pools: the site config lists pool \"seo\" but it has no numbers here",
      "sites[0].retention.forever: unknown field",
      "sites[0].retention.calls_days: must be between 1 and 3650, not 0",
      "sites[1].config.country: \"XX\" is not a country callswap knows (ISO code like \"DE\")",
      "sites[1].config.targets: must list the site's own numbers in E.164 (\"+49301234567\")",
      "sites[1].config.sources: must list at least one source",
      "admin_keys[0].sha256: must be the SHA-256 of the key in lower-case hex (64 characters), "
      "never the key itself",
      "admin_keys[0].scopes[1]: \"root\" is not one of \"reports\", \"subjects\", \"callers\", "
      "\"config\"",
      "webhooks.twilio_auth_token: is too short to be a secret (16 characters at least)",
      "webhooks.calls_secret.env: the environment variable CALLS_SECRET is not set (nor "
      "CALLS_SECRET_FILE, a file holding it)",
      "limits.threads: must be between 2 and 1024, not 1",
  };
  CHECK(errors_of(bad) == expected);
}

TEST_CASE("Structural problems in an operator config", "[operator_config]") {
  using V = std::vector<std::string>;
  CHECK(errors_of("nope") ==
        V{"invalid JSON at line 1, column 2: syntax error while parsing value - invalid literal"});
  CHECK(errors_of("{}") == V{"sites: is required"});
  CHECK(errors_of(R"({"sites": []})") == V{"sites: must list at least one site"});
  CHECK(errors_of(R"({"sites": [{}]})") == V{"sites[0].config: is required"});
  const std::string site = R"({"config": {"site": "a", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "d", "static": "+49301234567", "default": true}]}})";
  CHECK(errors_of(
            R"({"sites": [)" + site +
            R"(], "caller_numbers": {"keys": [{"id": "k1", "key": "abc"}], "current": "k2"}})") ==
        V{"caller_numbers.keys[0].key: is too short to be a secret (16 characters at least)",
          "caller_numbers.keys[0].key: must be 64 hex characters (32 bytes)",
          "caller_numbers.current: \"k2\" is not one of the keys",
          "caller_numbers.hash_key: is required"});
  CHECK(errors_of(R"({"sites": [)" + site +
                  R"(], "caller_numbers": {"keys": [{"id": "k1", "key": ")" + std::string(64, 'x') +
                  R"("}], "current": "k1", "hash_key": ")" + std::string(64, 'a') + R"("}})") ==
        V{"caller_numbers.keys[0].key: must be 64 hex characters (32 bytes)"});
  CHECK(
      errors_of(R"({"sites": [{"config": {"site": "a", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "d", "static": "+49301234567", "default": true}]}}],
      "webhooks": {"twilio_auth_token": "0123456789abcdef0123"}})") ==
      V{"public_url: is required with webhooks.twilio_auth_token: Twilio signs the URL it calls"});
}

TEST_CASE("Connection limits: defaults, operator values, and values that cannot work",
          "[operator_config]") {
  using V = std::vector<std::string>;
  const std::string sites =
      R"("sites": [{"config": {"site": "a", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "d", "static": "+49301234567", "default": true}]}}])";
  // max_connections, threads, keep_alive_seconds, request_timeout_seconds, listen_backlog
  const auto limits_of = [&](const std::string& limits) {
    const auto result =
        callswap::server::load_operator_config("{" + sites + limits + "}", no_environment);
    REQUIRE(result.ok());
    const auto& c = *result.config;
    return std::vector<int>{c.max_connections, c.threads, c.keep_alive_seconds,
                            c.request_timeout_seconds, c.listen_backlog};
  };
  CHECK(limits_of("") == std::vector<int>{2048, 32, 5, 10, 1024});
  CHECK(
      limits_of(
          R"(, "limits": {"max_connections": 100, "threads": 4, "keep_alive_seconds": 2, "request_timeout_seconds": 3, "listen_backlog": 64})") ==
      std::vector<int>{100, 4, 2, 3, 64});
  CHECK(
      errors_of(
          "{" + sites +
          R"(, "limits": {"max_connections": 8, "keep_alive_seconds": 0, "request_timeout_seconds": 301, "listen_backlog": 5}})") ==
      V{"limits.max_connections: must be between 16 and 65536, not 8",
        "limits.keep_alive_seconds: must be between 1 and 300, not 0",
        "limits.request_timeout_seconds: must be between 1 and 300, not 301",
        "limits.listen_backlog: must be between 16 and 65535, not 5"});
  CHECK(errors_of("{" + sites + R"(, "limits": {"max_connections": 16, "threads": 32}})") ==
        V{"limits.threads: is more than limits.max_connections (16): a ready worker serves one "
          "connection"});
}

namespace {

// A secret file as an operator writes it (`echo KEY > file` ends it with a newline), with a mode.
std::string write_secret(const test::TempDir& dir, const char* name, const std::string& text,
                         std::filesystem::perms mode) {
  const std::string path = dir.file(name);
  std::ofstream(path) << text;
  std::filesystem::permissions(path, mode);
  return path;
}

constexpr auto kOwnerOnly =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
constexpr auto kOwnerAndGroup = kOwnerOnly | std::filesystem::perms::group_read;
constexpr auto kEveryone = kOwnerAndGroup | std::filesystem::perms::others_read;

const std::string kMinimalSite =
    R"({"config": {"site": "a", "country": "DE", "targets": ["+49301234567"],
    "sources": [{"id": "d", "static": "+49301234567", "default": true}]}})";

std::string with_keys(const std::string& key, const std::string& hash_key) {
  return R"({"sites": [)" + kMinimalSite +
         R"(], "caller_numbers": {"keys": [{"id": "k1", "key": )" + key +
         R"(}], "current": "k1", "hash_key": )" + hash_key + "}}";
}

}  // namespace

TEST_CASE("Secrets are read from files named in the config or by NAME_FILE", "[operator_config]") {
  const test::TempDir dir;
  const std::string key_file =
      write_secret(dir, "caller-key", std::string(64, 'c') + "\n", kOwnerOnly);
  const std::string hash_file =
      write_secret(dir, "hash-key", std::string(64, 'd') + "\r\n", kOwnerAndGroup);
  const auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "HASH_KEY_FILE") return hash_file;
    return std::nullopt;
  };
  const auto result = callswap::server::load_operator_config(
      with_keys(R"({"file": ")" + key_file + R"("})", R"({"env": "HASH_KEY"})"), env);
  INFO((result.ok() ? std::string() : result.errors.front().to_string()));
  REQUIRE(result.ok());
  CHECK(result.config->caller_keys->keys.at(0).bytes == std::string(32, '\xcc'));
  CHECK(result.config->caller_keys->hash_key == std::string(32, '\xdd'));

  // Only one trailing newline is the file's; a second one is part of the secret.
  const std::string token_file =
      write_secret(dir, "token", "a-twilio-token-from-a-file\n\n", kOwnerOnly);
  const auto twilio = callswap::server::load_operator_config(
      R"({"public_url": "https://track.example", "sites": [)" + kMinimalSite +
          R"(], "webhooks": {"twilio_auth_token": {"file": ")" + token_file + R"("}}})",
      no_environment);
  REQUIRE(twilio.ok());
  CHECK(twilio.config->twilio_auth_token == "a-twilio-token-from-a-file\n");
}

TEST_CASE("Unsafe or ambiguous secret files are refused with the field, the path and the fix",
          "[operator_config]") {
  using V = std::vector<std::string>;
  const test::TempDir dir;
  const std::string hash = "\"" + std::string(64, 'b') + "\"";
  const std::string open_file =
      write_secret(dir, "open-key", std::string(64, 'c') + "\n", kEveryone);
  CHECK(errors_of(with_keys(R"({"file": ")" + open_file + R"("})", hash)) ==
        V{"caller_numbers.keys[0].key.file: " + open_file +
          " is readable by every user on this machine (mode 0644): chmod 600 " + open_file +
          " (or 0640 with the server's group)"});
  const auto env_open = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "KEY_FILE") return open_file;
    return std::nullopt;
  };
  CHECK(errors_of(with_keys(R"({"env": "KEY"})", hash), env_open) ==
        V{"caller_numbers.keys[0].key.env: KEY_FILE: " + open_file +
          " is readable by every user on this machine (mode 0644): chmod 600 " + open_file +
          " (or 0640 with the server's group)"});

  const std::string folder = dir.file("");
  CHECK(errors_of(with_keys(R"({"file": ")" + folder + R"("})", hash)) ==
        V{"caller_numbers.keys[0].key.file: " + folder +
          " is not a regular file: name the key file itself"});
  const std::string missing = dir.file("missing");
  CHECK(
      errors_of(with_keys(R"({"file": ")" + missing + R"("})", hash)) ==
      V{"caller_numbers.keys[0].key.file: cannot read " + missing + ": No such file or directory"});
  CHECK(errors_of(with_keys(R"({"file": "keys/caller"})", hash)) ==
        V{"caller_numbers.keys[0].key.file: \"keys/caller\" is not an absolute path: give the full "
          "path (a relative one would depend on the "
          "folder the server starts in)"});
  const std::string empty = write_secret(dir, "empty", "\n", kOwnerOnly);
  CHECK(errors_of(with_keys(R"({"file": ")" + empty + R"("})", hash)) ==
        V{"caller_numbers.keys[0].key.file: " + empty + " is empty"});

  const std::string good = write_secret(dir, "good", std::string(64, 'c'), kOwnerOnly);
  CHECK(errors_of(with_keys(R"({"file": ")" + good + R"(", "env": "KEY"})", hash)) ==
        V{"caller_numbers.keys[0].key: gives both \"env\" and \"file\": give one, so it is clear "
          "where the secret comes from"});
  const auto env_both = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "KEY_FILE") return good;
    if (name == "KEY") return std::string(64, 'a');
    return std::nullopt;
  };
  CHECK(errors_of(with_keys(R"({"env": "KEY"})", hash), env_both) ==
        V{"caller_numbers.keys[0].key.env: both KEY and KEY_FILE are set: unset one, so it is "
          "clear which secret is used"});
  CHECK(errors_of(with_keys(R"({"env": "KEY"})", hash)) ==
        V{"caller_numbers.keys[0].key.env: the environment variable KEY is not set (nor KEY_FILE, "
          "a file holding it)"});
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
    auto document =
        callswap::server::parse_json(R"({"database": "data/callswap.db", "static_dir": "dist",
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
    auto document = callswap::server::parse_json(
        R"({"database": ":memory:", "static_dir": "/srv/callswap/dist", "sites": []})");
    REQUIRE(document);
    CHECK(callswap::server::resolve_config_references(*document, config_file).empty());
    CHECK(document->at("database") == ":memory:");
    CHECK(document->at("static_dir") == "/srv/callswap/dist");
  }
  SECTION("a site config file that cannot be read or parsed is named with the field") {
    auto document = callswap::server::parse_json(
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

TEST_CASE("The store is named by a URL; the older database path still works", "[operator_config]") {
  const std::string sites =
      R"("sites": [{"config": {"site": "a", "country": "DE", "targets": ["+49301234567"],
      "sources": [{"id": "d", "static": "+49301234567", "default": true}]}}])";
  const auto load = [&](const std::string& store,
                        const callswap::server::Environment& env = no_environment) {
    return callswap::server::load_operator_config("{" + sites + store + "}", env);
  };
  CHECK(load(R"(, "database": "/var/lib/callswap/callswap.db")").config->database ==
        "/var/lib/callswap/callswap.db");
  const auto sqlite = load(R"(, "store": "sqlite:///var/lib/callswap/callswap.db")");
  REQUIRE(sqlite.ok());
  CHECK(sqlite.config->database == "/var/lib/callswap/callswap.db");
  CHECK(sqlite.config->store_url.empty());
  const auto postgres = load(R"(, "store": "postgresql://callswap@db.internal/callswap",
      "store_password": {"env": "CALLSWAP_DB_PASSWORD"})",
                             [](const std::string& name) -> std::optional<std::string> {
                               if (name == "CALLSWAP_DB_PASSWORD") return "a-database-password";
                               return std::nullopt;
                             });
  REQUIRE(postgres.ok());
  CHECK(postgres.config->store_url == "postgresql://callswap@db.internal/callswap");
  CHECK(postgres.config->store_password == "a-database-password");

  using V = std::vector<std::string>;
  const auto errors = [&](const std::string& store) {
    V out;
    for (const auto& e : load(store).errors) out.push_back(e.to_string());
    return out;
  };
  CHECK(
      errors(R"(, "store": "sqlite://relative.db")") ==
      V{R"(store: "sqlite://relative.db" has no absolute path: write sqlite:///var/lib/callswap/callswap.db)"});
  CHECK(errors(R"(, "store": "mysql://x/y")") ==
        V{R"(store: "mysql://x/y" is neither sqlite:///path nor postgresql://user@host/database)"});
  CHECK(
      errors(R"(, "store": "postgresql://u:secret@h/d")") ==
      V{R"(store: holds a password: give it in "store_password" ({"env": …} or {"file": …}) or in PGPASSFILE)"});
  CHECK(
      errors(R"(, "store": "sqlite:///a.db", "database": "b.db")") ==
      V{R"(store: is given with "database": give one ("database" is the older name of a SQLite file))"});
  CHECK(errors(R"(, "store_password": "a-password-long-enough")") ==
        V{"store_password: is only for a postgresql:// store"});
}
