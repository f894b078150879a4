// The routes table against what the server does and what the docs say: every admin scope
// against every admin route, the OpenAPI file both ways, the scope table in docs/api.md, and
// the rate-limit classes of the admin and webhook endpoints.

#include "routes.hpp"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "privacy_record.hpp"
#include "server_fixture.hpp"

using callswap::server::kRoutes;
using callswap::server::Scope;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string upper(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

// A concrete path for a route's documented path.
std::string concrete(std::string path) {
  for (const auto& [name, value] :
       {std::pair{"{site}", "acme"}, std::pair{"{session}", "0123456789abcdef0123456789abcdef"},
        std::pair{"{action}", "access"}, std::pair{"{platform}", "google-ads"}}) {
    if (auto at = path.find(name); at != std::string::npos)
      path.replace(at, std::string(name).size(), value);
  }
  return path;
}

// One key per scope, each holding that scope alone; `rates` replaces the test config's
// unlimited admin and webhook rates when given.
std::string config_with_scoped_keys(const std::string& rates = "") {
  std::string config = operator_config();
  const std::string unlimited = R"("admin_rate_per_minute": 0, "webhook_rate_per_minute": 0)";
  if (!rates.empty()) config.replace(config.find(unlimited), unlimited.size(), rates);
  std::string keys;
  for (const Scope scope : callswap::server::kKeyScopes) {
    const std::string name(callswap::server::scope_name(scope));
    keys += std::string(keys.empty() ? "" : ", ") + R"({"id": ")" + name + R"(", "sha256": ")" +
            callswap::server::sha256_hex(name + "-key") + R"(", "scopes": [")" + name + R"("]})";
  }
  config.insert(config.rfind('}'), R"(, "admin_keys": [)" + keys + "]");
  return config;
}

httplib::Result send(httplib::Client& c, const std::string& method, const std::string& path,
                     const std::string& key) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  if (!key.empty()) req.headers.emplace("Authorization", "Bearer " + key);
  if (method == "POST") {
    req.body = R"({"session": "0123456789abcdef0123456789abcdef"})";
    req.headers.emplace("Content-Type", "application/json");
  }
  req.headers.emplace("Content-Length", std::to_string(req.body.size()));
  return c.send(req);
}

}  // namespace

TEST_CASE("The routes table and docs/openapi.json list the same paths and methods",
          "[routes][docs]") {
  const auto spec = json::parse(read_file(CALLSWAP_SOURCE_DIR "/docs/openapi.json"));
  REQUIRE(spec.ok());
  std::set<std::string> documented;
  const json::Object& paths = spec->find("paths")->as_object();
  for (std::size_t i = 0; i < paths.size(); ++i) {
    for (const std::string& method : paths.values[i].as_object().keys)
      documented.insert(upper(method) + " " + paths.keys[i]);
  }
  std::set<std::string> routed;
  for (const auto& route : kRoutes)
    routed.insert(std::string(route.method) + " " + std::string(route.path));
  CHECK(documented == routed);
}

TEST_CASE("docs/api.md's table of admin routes and scopes is the routes table's",
          "[routes][docs]") {
  const std::string doc = read_file(CALLSWAP_SOURCE_DIR "/docs/api.md");
  std::set<std::string> documented;
  const std::regex row(R"(\| `([A-Z]+ /v1/admin/[^`]+)` \| `([a-z]+)` \|)");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator();
       ++it) {
    documented.insert((*it)[1].str() + " " + (*it)[2].str());
  }
  std::set<std::string> routed;
  for (const auto& route : kRoutes) {
    if (route.scope == Scope::none) continue;
    routed.insert(std::string(route.method) + " " + std::string(route.path) + " " +
                  std::string(callswap::server::scope_name(route.scope)));
  }
  CHECK(documented == routed);
}

TEST_CASE("Every admin route answers every key by its scope, and only by it", "[routes][scopes]") {
  // Written out here, apart from the table, so a wrong table entry fails this test.
  const std::map<std::string, std::string> expected = {
      {"GET /v1/admin/sites", "reports"},
      {"GET /v1/admin/sites/{site}/report", "reports"},
      {"GET /v1/admin/sites/{site}/pools", "reports"},
      {"POST /v1/admin/subjects/{action}", "subjects"},
      {"GET /v1/admin/sites/{site}/settings", "config"},
      {"GET /v1/admin/privacy-record", "config"},
      {"GET /v1/admin/sites/{site}/deliveries", "reports"},
      {"GET /v1/admin/sites/{site}/conversions/{platform}.csv", "reports"},
  };
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server(config_with_scoped_keys(), dir.file("callswap.db"), now);
  auto c = server.client();
  std::size_t admin_routes = 0;
  for (const auto& route : kRoutes) {
    const std::string name = std::string(route.method) + " " + std::string(route.path);
    if (!std::string_view(route.path).starts_with("/v1/admin/")) continue;
    ++admin_routes;
    REQUIRE(expected.contains(name));
    const std::string path = concrete(std::string(route.path));
    for (const std::string key : {"", "unknown-key"}) {
      INFO(name << " with key '" << key << "'");
      CHECK(error_code(send(c, std::string(route.method), path, key)) == "unauthorized");
    }
    for (const Scope scope : callswap::server::kKeyScopes) {
      const std::string scope_name(callswap::server::scope_name(scope));
      const auto r = send(c, std::string(route.method), path, scope_name + "-key");
      REQUIRE(r);
      INFO(name << " with a key of scope " << scope_name << ": " << r->status << " " << r->body);
      if (scope_name == expected.at(name)) {
        CHECK(r->status != 401);
        CHECK(r->status != 403);
      } else {
        CHECK(r->status == 403);
        CHECK(error_code(r) == "forbidden");
      }
    }
  }
  CHECK(admin_routes == expected.size());
}

TEST_CASE("The record of processing is served to a config-scoped key, as the command prints it",
          "[routes][privacy]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  const std::string config = config_with_scoped_keys();
  Running server(config, dir.file("callswap.db"), now);
  auto c = server.client();
  const auto r = c.Get("/v1/admin/privacy-record", {{"Authorization", "Bearer config-key"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type").starts_with("text/markdown"));
  auto loaded = callswap::server::load_operator_config(
      config, [](const std::string&) { return std::nullopt; });
  REQUIRE(loaded.ok());
  CHECK(r->body == callswap::server::privacy_record_markdown(*loaded.config));
  CHECK(r->body.find("acme") != std::string::npos);
}

TEST_CASE("Admin and webhook endpoints are rate limited: per address, and per admin key",
          "[routes][rate]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server(
      config_with_scoped_keys(
          R"("admin_rate_per_minute": 60, "admin_rate_burst": 2, "webhook_rate_per_minute": 60,
                                             "webhook_rate_burst": 2)"),
      dir.file("callswap.db"), now);
  auto c = server.client();
  const httplib::Headers reports = {{"Authorization", "Bearer reports-key"}};
  CHECK(c.Get("/v1/admin/sites", reports)->status == 200);
  CHECK(c.Get("/v1/admin/sites", reports)->status == 200);
  const auto limited = c.Get("/v1/admin/sites", reports);
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(error_code(limited) == "rate_limited");
  CHECK(limited->get_header_value("Retry-After") == "1");
  // Guessing keys is limited as much as using one.
  CHECK(c.Get("/v1/admin/sites", httplib::Headers{{"Authorization", "Bearer guess"}})->status ==
        429);

  for (int i = 0; i < 2; ++i)
    CHECK(post_call(c, R"({"call_id": "c)" + std::to_string(i) + R"(", "to": "+49301111113"})", now)
              ->status == 201);
  const auto webhook = post_call(c, R"({"call_id": "c9", "to": "+49301111113"})", now);
  REQUIRE(webhook);
  CHECK(webhook->status == 429);
  CHECK(webhook->has_header("Retry-After"));

  // The visitor endpoints keep their own bucket.
  CHECK(c.Get("/v1/sites/acme/config")->status == 200);
  now += 1000;
  CHECK(c.Get("/v1/admin/sites", reports)->status == 200);
}
