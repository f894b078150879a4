// The real server in-process on an ephemeral port, the real httplib client, a fresh SQLite
// file per test, and a clock the test moves.

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <callswap/compact.hpp>
#include <callswap/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "caller_vault.hpp"
#include "server_fixture.hpp"

TEST_CASE_METHOD(ServerFixture, "Health and the public site config", "[http]") {
  auto health = c.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(body_of(health).dump() == R"({"status":"ok"})");

  auto config = c.Get("/v1/sites/acme/config");
  REQUIRE(config);
  CHECK(config->status == 200);
  CHECK(body_of(config).find("site")->as_string() == "acme");
  CHECK(config->get_header_value("Cache-Control") == "public, max-age=300");
  CHECK(config->get_header_value("Access-Control-Allow-Origin") == "*");
  CHECK_FALSE(config->has_header("Set-Cookie"));
  const std::string etag = config->get_header_value("ETag");
  REQUIRE(etag.size() > 2);
  auto again = c.Get("/v1/sites/acme/config", httplib::Headers{{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);

  auto unknown = c.Get("/v1/sites/nope/config");
  CHECK(unknown->status == 404);
  CHECK(error_code(unknown) == "unknown_site");
  auto nowhere = c.Get("/no/such/route");
  CHECK(nowhere->status == 404);
  CHECK(error_code(nowhere) == "not_found");
}

TEST_CASE_METHOD(ServerFixture, "The site config in the compact form the SDK reads", "[http]") {
  auto compact = c.Get("/v1/sites/acme/config/compact");
  REQUIRE(compact);
  CHECK(compact->status == 200);
  const auto body = body_of(compact);
  CHECK(body.find("format")->as_number() == callswap::kCompactVersion);
  CHECK(body.find("anti_flicker") == nullptr);  // this site sets none
  // The config the server validated at start, read back whole by the browser's reader.
  const auto read = callswap::from_compact(body.find("compact")->as_string());
  REQUIRE(read);
  const auto json = callswap::parse_site_config(body_of(c.Get("/v1/sites/acme/config")).dump());
  REQUIRE(json.ok());
  CHECK(callswap::to_compact(*read) == callswap::to_compact(*json.config));
  CHECK(compact->get_header_value("Cache-Control") == "public, max-age=300");
  CHECK(compact->get_header_value("Access-Control-Allow-Origin") == "*");
  CHECK_FALSE(compact->has_header("Set-Cookie"));
  const std::string etag = compact->get_header_value("ETag");
  CHECK(etag != c.Get("/v1/sites/acme/config")->get_header_value("ETag"));
  CHECK(c.Get("/v1/sites/acme/config/compact", httplib::Headers{{"If-None-Match", etag}})->status ==
        304);
  auto unknown = c.Get("/v1/sites/nope/config/compact");
  CHECK(unknown->status == 404);
  CHECK(error_code(unknown) == "unknown_site");
}

TEST_CASE_METHOD(ServerFixture,
                 "The AMP endpoint answers only the site's own origins and the AMP caches, as "
                 "AMP's CORS rules say",
                 "[http][amp]") {
  const std::string path = "/amp/v1/sites/acme/number?__amp_source_origin=";
  const std::string own = "https%3A%2F%2Facme.example";
  const auto get = [&](const std::string& source_origin, const httplib::Headers& headers) {
    auto r = c.Get(path + source_origin, headers);
    REQUIRE(r);
    return r;
  };
  const auto allowed = [&](const httplib::Result& r, const std::string& origin) {
    CHECK(r->status == 200);
    CHECK(body_of(r).dump() ==
          R"({"phoneNumber":"+49301234567","formattedPhoneNumber":"030 1234567"})");
    CHECK(r->get_header_value("Access-Control-Allow-Origin") == origin);
    CHECK(r->get_header_value("Access-Control-Allow-Credentials") == "true");
    CHECK(r->get_header_value("AMP-Access-Control-Allow-Source-Origin") == "https://acme.example");
    CHECK(r->get_header_value("Access-Control-Expose-Headers") ==
          "AMP-Access-Control-Allow-Source-Origin");
    CHECK_FALSE(r->has_header("Set-Cookie"));
  };
  const auto refused = [&](const httplib::Result& r, const std::string& code) {
    CHECK(r->status == 403);
    CHECK(error_code(r) == code);
    CHECK_FALSE(r->has_header("Access-Control-Allow-Origin"));
    CHECK_FALSE(r->has_header("Access-Control-Allow-Credentials"));
    CHECK_FALSE(r->has_header("AMP-Access-Control-Allow-Source-Origin"));
  };

  SECTION("the site's own origin, and the AMP runtime on the site's own page") {
    allowed(get(own, {{"Origin", "https://acme.example"}}), "https://acme.example");
    allowed(get(own, {{"AMP-Same-Origin", "true"}}), "https://acme.example");
  }
  SECTION("the AMP caches: Google's (per publisher and legacy) and Bing's") {
    allowed(get(own, {{"Origin", "https://acme-example.cdn.ampproject.org"}}),
            "https://acme-example.cdn.ampproject.org");
    allowed(get(own, {{"Origin", "https://cdn.ampproject.org"}}), "https://cdn.ampproject.org");
    allowed(get(own, {{"Origin", "https://acme-example.bing-amp.com"}}),
            "https://acme-example.bing-amp.com");
  }
  SECTION("a foreign origin, and look-alikes of the caches") {
    for (const char* origin :
         {"https://evil.example", "https://evil.cdn.ampproject.org.evil.com",
          "https://evilcdn.ampproject.org", "http://acme-example.cdn.ampproject.org",
          "https://a.b.cdn.ampproject.org", "https://.cdn.ampproject.org",
          "https://acme-example.cdn.ampproject.org:8443", "null"}) {
      INFO(origin);
      refused(get(own, {{"Origin", origin}}), "origin_not_allowed");
    }
    // Neither Origin nor AMP-Same-Origin: not a request the AMP runtime makes.
    refused(get(own, {}), "origin_not_allowed");
    refused(get(own, {{"AMP-Same-Origin", "false"}}), "origin_not_allowed");
  }
  SECTION("a source origin that is not the site's, from a cache or the same origin") {
    refused(
        get("https%3A%2F%2Fevil.example", {{"Origin", "https://evil-example.cdn.ampproject.org"}}),
        "source_origin_not_allowed");
    refused(get("https%3A%2F%2Fevil.example", {{"AMP-Same-Origin", "true"}}),
            "source_origin_not_allowed");
    refused(get("", {{"Origin", "https://acme.example"}}), "source_origin_not_allowed");
    refused(
        get("https%3A%2F%2Facme.example%0D%0AX-Evil%3A%201", {{"Origin", "https://acme.example"}}),
        "source_origin_not_allowed");
  }
  SECTION("an unknown site") {
    CHECK(c.Get("/amp/v1/sites/nope/number?__amp_source_origin=" + own,
                httplib::Headers{{"Origin", "https://acme.example"}})
              ->status == 404);
  }
}

TEST_CASE_METHOD(
    ServerFixture,
    "Sessions get pool numbers, keep them, give them back, and the pool runs out honestly",
    "[http][sessions]") {
  std::vector<std::string> sessions;
  std::set<std::string> numbers;
  for (int i = 0; i < 3; ++i) {
    auto r = new_session(c);
    REQUIRE(r);
    REQUIRE(r->status == 201);
    const json::Value b = body_of(r);
    CHECK(b.find("session")->as_string().size() == 32);
    CHECK(b.find("expires_in")->as_number() == 1800);
    CHECK(b.find("display")->as_string().starts_with("030 9"));
    sessions.push_back(b.find("session")->as_string());
    numbers.insert(b.find("number")->as_string());
  }
  CHECK(numbers.size() == 3);

  auto exhausted = new_session(c);
  CHECK(exhausted->status == 200);
  CHECK(body_of(exhausted).dump() ==
        R"({"number":"+49301111111","display":"030 1111111","reason":"pool_exhausted"})");
  auto static_only = new_session(c, "newsletter");
  CHECK(body_of(static_only).find("reason")->as_string() == "static_only");

  now += 10 * kMinute;
  auto beat = c.Post("/v1/sessions/" + sessions[0] + "/heartbeat", "", "application/json");
  CHECK(beat->status == 200);
  CHECK(body_of(beat).dump() == R"({"expires_in":1800})");

  auto gone = c.Delete("/v1/sessions/" + sessions[1]);
  CHECK(gone->status == 204);
  CHECK(c.Post("/v1/sessions/" + sessions[1] + "/heartbeat", "", "application/json")->status ==
        404);
  CHECK(error_code(c.Delete("/v1/sessions/" + sessions[1])) == "unknown_session");
  CHECK(new_session(c)->status == 200);  // the released number rests for the cool-down
  now += 16 * kMinute;
  CHECK(new_session(c)->status == 201);  // and then serves again

  // Idle sessions end: session 2 had no heartbeat for 30 minutes, session 0 had one at minute 10.
  now += 5 * kMinute;  // minute 31
  server.server().expire_sessions();
  CHECK(c.Post("/v1/sessions/" + sessions[2] + "/heartbeat", "", "application/json")->status ==
        404);
  CHECK(c.Post("/v1/sessions/" + sessions[0] + "/heartbeat", "", "application/json")->status ==
        200);

  // Nothing that identifies a visitor is logged: no session id, no landing page.
  const std::string logs = server.logs();
  CHECK(logs.find("\"route\":\"/v1/sessions/:id/heartbeat\"") != std::string::npos);
  for (const std::string& id : sessions) CHECK(logs.find(id) == std::string::npos);
  CHECK(logs.find("jane") == std::string::npos);
}

TEST_CASE_METHOD(ServerFixture, "Only the site's origins may ask for numbers", "[http][cors]") {
  const std::string body = R"({"source": "google-ads", "consent": true})";
  auto evil =
      c.Post("/v1/sites/acme/sessions", httplib::Headers{{"Origin", "https://evil.example"}}, body,
             "application/json");
  CHECK(evil->status == 403);
  CHECK(error_code(evil) == "origin_not_allowed");
  auto good =
      c.Post("/v1/sites/acme/sessions", httplib::Headers{{"Origin", "https://acme.example"}}, body,
             "application/json");
  CHECK(good->status == 201);
  CHECK(good->get_header_value("Access-Control-Allow-Origin") == "https://acme.example");
  auto preflight = c.Options("/v1/sites/acme/sessions",
                             httplib::Headers{{"Origin", "https://acme.example"},
                                              {"Access-Control-Request-Method", "POST"}});
  CHECK(preflight->status == 204);
  CHECK(preflight->get_header_value("Access-Control-Allow-Methods") == "POST, DELETE");
  CHECK(c.Options("/v1/sites/acme/sessions", httplib::Headers{{"Origin", "https://evil.example"}})
            ->status == 403);
}

TEST_CASE_METHOD(ServerFixture,
                 "Bad input gets a 4xx JSON error, the server stays up and nothing is stored",
                 "[http][input]") {
  struct Row {
    std::string body;
    int status;
    const char* code;
  };
  const Row rows[] = {
      {"{", 400, "invalid_json"},
      {"[]", 400, "invalid_body"},
      {R"({"source": 5, "consent": true})", 400, "invalid_body"},
      {R"({"source": "google-ads"})", 400, "consent_required"},
      {R"({"source": "google-ads", "consent": "maybe"})", 400, "consent_required"},
      {R"({"source": "google-ads", "consent": false})", 400, "consent_required"},
      {R"({"source": "bing", "consent": true})", 400, "unknown_source"},
      {R"({"source": "google-ads", "consent": true, "ip": "1.2.3.4"})", 400, "invalid_body"},
      {R"({"source": "google-ads", "consent": true, "landing_path": "https://acme.example/"})", 400,
       "invalid_body"},
      {R"({"source": "google-ads", "consent": true, "campaign": {"email": "jane@example.com"}})",
       400, "invalid_body"},
      {R"({"source": "google-ads", "consent": true, "campaign": {"click_id_value": "abc"}})", 400,
       "invalid_body"},
      {std::string(R"({"source": "google-ads", "consent": true, "landing_path": "/)") +
           std::string(5000, 'a') + "\"}",
       413, "body_too_large"},
  };
  for (const Row& row : rows) {
    auto r = c.Post("/v1/sites/acme/sessions", row.body, "application/json");
    INFO(row.body.substr(0, 80));
    REQUIRE(r);
    CHECK(r->status == row.status);
    CHECK(error_code(r) == row.code);
  }
  CHECK(error_code(c.Post("/v1/sites/nope/sessions", R"({"source": "x", "consent": true})",
                          "application/json")) == "unknown_site");
  CHECK(error_code(c.Post("/v1/sessions/0123456789abcdef0123456789abcdef/heartbeat", "",
                          "application/json")) == "unknown_session");
  CHECK(c.Post("/v1/sessions/not-an-id/heartbeat", "", "application/json")->status == 404);
  // Nothing was taken from the pool: three numbers are still free.
  for (int i = 0; i < 3; ++i) CHECK(new_session(c)->status == 201);
  CHECK(c.Get("/healthz")->status == 200);
}

TEST_CASE_METHOD(ServerFixture,
                 "Twilio's signed status callbacks are verified, stored once and attributed",
                 "[http][webhooks]") {
  const json::Value visit = body_of(new_session(c));
  const std::string number = visit.find("number")->as_string();
  const std::string token = "twilio-auth-token-0123456789";
  const std::string url = "https://track.example.com/v1/webhooks/twilio";

  std::map<std::string, std::string> params = {{"CallSid", "CA0001"},
                                               {"From", "+4915112345678"},
                                               {"To", number},
                                               {"CallStatus", "ringing"},
                                               {"CallDuration", "0"}};
  auto send = [&](const std::map<std::string, std::string>& p, const std::string& signature) {
    return c.Post("/v1/webhooks/twilio", httplib::Headers{{"X-Twilio-Signature", signature}},
                  form(p), "application/x-www-form-urlencoded");
  };
  auto first = send(params, twilio_signature(token, url, params));
  REQUIRE(first);
  CHECK(first->status == 201);
  CHECK(body_of(first).dump() ==
        R"({"call":"CA0001","new":true,"attribution":"session","source":"google-ads"})");
  {
    // The call carries the visit's campaign details; the caller's number is not stored.
    auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
    const auto call = store->find_call("CA0001");
    REQUIRE(call);
    CHECK(call->campaign_json == R"({"utm_source":"google","click_id":"gclid"})");
    CHECK(call->session_id == visit.find("session")->as_string());
  }
  params["CallStatus"] = "completed";
  params["CallDuration"] = "95";
  auto second = send(params, twilio_signature(token, url, params));
  CHECK(second->status == 200);
  CHECK(body_of(second).find("new")->as_bool() == false);

  auto forged = send(params, twilio_signature("wrong-token-000000000", url, params));
  CHECK(forged->status == 403);
  CHECK(error_code(forged) == "bad_signature");
  auto tampered = params;
  tampered["To"] = "+49301111111";
  CHECK(send(tampered, twilio_signature(token, url, params))->status == 403);
  CHECK(c.Post("/v1/webhooks/twilio", "{}", "application/json")->status == 415);

  // A call on a static number is attributed to its source; an unknown number is refused.
  std::map<std::string, std::string> to_static = {
      {"CallSid", "CA0002"}, {"To", "+49301111113"}, {"CallStatus", "completed"}};
  CHECK(body_of(send(to_static, twilio_signature(token, url, to_static)))
            .find("attribution")
            ->as_string() == "static");
  std::map<std::string, std::string> unknown = {{"CallSid", "CA0003"}, {"To", "+49305555555"}};
  CHECK(error_code(send(unknown, twilio_signature(token, url, unknown))) == "unknown_number");
  // The caller's number is kept only sealed, never in clear: it appears in no log.
  CHECK(server.logs().find("4915112345678") == std::string::npos);
}

TEST_CASE_METHOD(
    ServerFixture,
    "Generic call events are signed, fresh, idempotent, and attributed within the grace period",
    "[http][webhooks]") {
  const json::Value visit = body_of(new_session(c));
  const std::string number = visit.find("number")->as_string();
  CHECK(c.Delete("/v1/sessions/" + visit.find("session")->as_string())->status == 204);

  const std::string body = R"({"call_id": "call-1", "to": ")" + number +
                           R"(", "status": "completed", "duration_seconds": 30})";
  now += 20 * kMinute;
  // The session was erased on release (withdrawal): the call cannot reach it.
  auto late = post_call(c, body, now);
  CHECK(late->status == 201);
  CHECK(body_of(late).find("attribution")->as_string() == "unattributed");
  CHECK(body_of(post_call(c, body, now)).find("new")->as_bool() == false);
  CHECK(error_code(post_call(c, body, now - 10 * kMinute)) == "stale_request");
  CHECK(error_code(post_call(c, body, now, "not-the-secret-000000000")) == "bad_signature");
  CHECK(error_code(c.Post("/v1/webhooks/calls", body, "application/json")) == "bad_timestamp");
  CHECK(error_code(post_call(c, "{not json", now)) == "invalid_json");
  CHECK(error_code(post_call(c, R"({"to": "+49301111111"})", now)) == "invalid_body");
  CHECK(error_code(post_call(c, R"({"call_id": "x", "to": "0301111111"})", now)) ==
        "invalid_number");

  // A session idle past its hold still gets a call made within the grace period after:
  // its hold ended at minute 50 (created at 20, idle 30), the grace runs to minute 80.
  const json::Value second = body_of(new_session(c));
  const std::string to = second.find("number")->as_string();
  now += 55 * kMinute;  // minute 75
  server.server().expire_sessions();
  const auto call = [&](const char* id) {
    return R"({"call_id": ")" + std::string(id) + R"(", "to": ")" + to +
           R"(", "status": "completed"})";
  };
  CHECK(body_of(post_call(c, call("call-2"), now)).find("attribution")->as_string() == "session");
  now += 6 * kMinute;  // minute 81
  CHECK(body_of(post_call(c, call("call-3"), now)).find("attribution")->as_string() ==
        "unattributed");
}

TEST_CASE("A restart loses nothing: held numbers stay held, sessions go on", "[http][restart]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  std::string kept_session;
  std::string kept_number;
  {
    Running server(operator_config(), dir.file("callswap.db"), now);
    auto c = server.client();
    const json::Value a = body_of(new_session(c));
    const json::Value b = body_of(new_session(c));
    kept_session = a.find("session")->as_string();
    kept_number = a.find("number")->as_string();
    CHECK(c.Delete("/v1/sessions/" + b.find("session")->as_string())->status == 204);
  }
  now += kMinute;
  Running server(operator_config(), dir.file("callswap.db"), now);
  auto c = server.client();
  CHECK(c.Post("/v1/sessions/" + kept_session + "/heartbeat", "", "application/json")->status ==
        200);
  const json::Value fresh = body_of(new_session(c));
  CHECK(fresh.find("number")->as_string() != kept_number);  // still held
  CHECK(new_session(c)->status == 200);                     // the released one still rests
}

TEST_CASE("Many clients at once never get one number for two live sessions",
          "[http][concurrency]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server(operator_config("static", 0), dir.file("callswap.db"), now);
  std::mutex mutex;
  std::map<std::string, std::string> live;  // number → session
  std::atomic<int> conflicts{0};
  std::atomic<int> assigned{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      auto c = server.client();
      std::mt19937 random(static_cast<unsigned>(t));
      std::vector<std::pair<std::string, std::string>> mine;
      for (int i = 0; i < 60; ++i) {
        if (mine.empty() || random() % 2 == 0) {
          auto r = new_session(c);
          if (!r || r->status != 201) continue;
          auto b = json::parse(r->body);
          const std::string number = b->find("number")->as_string();
          const std::string session = b->find("session")->as_string();
          std::lock_guard lock(mutex);
          if (!live.emplace(number, session).second) ++conflicts;
          mine.emplace_back(number, session);
          ++assigned;
        } else {
          const auto [number, session] = mine.back();
          mine.pop_back();
          {
            std::lock_guard lock(mutex);  // forget it before the server may hand it out again
            live.erase(number);
          }
          c.Delete("/v1/sessions/" + session);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(conflicts == 0);
  CHECK(assigned > 20);
}

TEST_CASE("Pool statistics: utilisation over time, peaks, exhaustion and a recommended size",
          "[http][stats]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  std::string config = operator_config();
  // The SHA-256 of "reports-key" and of "subjects-key", never the keys themselves.
  config.insert(config.rfind('}'), R"(, "admin_keys": [
      {"id": "reports", "sha256": "f419a5d2391693cd94732479418a1b59054794a32e82cf25e93f4235ed84914f", "scopes": ["reports"]},
      {"id": "dpo", "sha256": "a9122b351303eed7ba6994a8a45cb127ec5c8c20f62e969ba0ddd6b739f7343d", "scopes": ["subjects"]}])");
  Running server(config, dir.file("callswap.db"), now);
  auto c = server.client();
  server.server().sample_pools();  // minute 0: nothing active
  now += kMinute;
  new_session(c);
  new_session(c);
  server.server().sample_pools();  // minute 1: 2 of 3
  now += kMinute;
  new_session(c);
  new_session(c);                  // exhausted
  server.server().sample_pools();  // minute 2: 3 of 3, one exhaustion

  const httplib::Headers reports = {{"Authorization", "Bearer reports-key"}};
  auto r = c.Get("/v1/admin/sites/acme/pools?target=0.75", reports);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json::Value pool = body_of(r).find("pools")->as_array().at(0);
  CHECK(pool.find("pool")->as_string() == "ads");
  CHECK(pool.find("size")->as_number() == 3);
  CHECK(pool.find("active")->as_number() == 3);
  CHECK(pool.find("peak_active")->as_number() == 3);
  CHECK(pool.find("exhausted_events")->as_number() == 1);
  CHECK(pool.find("recommended_size")->as_number() ==
        5);  // ceil(3 / 0.75) + 1 for the exhaustion seen
  REQUIRE(pool.find("utilisation")->as_array().size() == 3);
  CHECK(pool.find("utilisation")->as_array()[1].dump() ==
        R"({"at":1790000060000,"active":2,"utilisation":0.666666667})");

  CHECK(c.Get("/v1/admin/sites/acme/pools")->status == 401);
  CHECK(error_code(c.Get("/v1/admin/sites/acme/pools",
                         httplib::Headers{{"Authorization", "Bearer guess"}})) == "unauthorized");
  CHECK(error_code(c.Get("/v1/admin/sites/acme/pools",
                         httplib::Headers{{"Authorization", "Bearer subjects-key"}})) ==
        "forbidden");
  CHECK(error_code(c.Get("/v1/admin/sites/acme/pools?target=2", reports)) == "invalid_target");
  CHECK(error_code(c.Get("/v1/admin/sites/acme/pools?from=10&to=5", reports)) == "invalid_range");
  CHECK(error_code(c.Get("/v1/admin/sites/nope/pools", reports)) == "unknown_site");
}

TEST_CASE_METHOD(ServerFixture, "Every path and method in docs/openapi.json is served",
                 "[http][docs]") {
  std::ifstream in(CALLSWAP_SOURCE_DIR "/docs/openapi.json");
  std::ostringstream text;
  text << in.rdbuf();
  const auto spec = json::parse(text.str());
  REQUIRE(spec.ok());
  const json::Object& paths = spec->find("paths")->as_object();
  REQUIRE(paths.size() >= 13);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::string path = paths.keys[i];
    for (const auto& [name, value] :
         {std::pair{"{site}", "acme"}, std::pair{"{session}", "0123456789abcdef0123456789abcdef"},
          std::pair{"{action}", "access"}, std::pair{"{platform}", "google-ads"}}) {
      if (auto at = path.find(name); at != std::string::npos)
        path.replace(at, std::string(name).size(), value);
    }
    for (const std::string& method : paths.values[i].as_object().keys) {
      httplib::Request req;
      req.method = method == "get"      ? "GET"
                   : method == "post"   ? "POST"
                   : method == "delete" ? "DELETE"
                                        : "OPTIONS";
      req.path = path;
      req.headers = {{"Content-Length", "0"}};
      auto r = c.send(req);
      INFO(req.method << " " << path);
      REQUIRE(r);
      // Whatever the answer for an empty request, it comes from the route, not the router.
      if (r->status >= 400) {
        const std::string code = error_code(r);
        CHECK(code != "not_found");
        CHECK(code != "method_not_allowed");
      }
    }
  }
}

TEST_CASE("The retention purge deletes what is too old and nothing else", "[http][retention]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  std::string config = operator_config();
  config.insert(config.find(R"("attribution_grace_minutes")"),
                R"("retention": {"sessions_days": 7, "calls_days": 30}, )");
  constexpr Millis kDay = 24 * 60 * kMinute;
  std::string old_session, new_session_id;
  {
    Running server(config, dir.file("callswap.db"), now);
    auto c = server.client();
    const json::Value a = body_of(new_session(c));  // day 0, ends day 0
    old_session = a.find("session")->as_string();
    CHECK(body_of(post_call(c,
                            R"({"call_id": "old-call", "to": ")" + a.find("number")->as_string() +
                                R"("})",
                            now))
              .find("attribution")
              ->as_string() == "session");
    server.server().sample_pools();
    now += 31 * kMinute;
    server.server().expire_sessions();              // a's hold ran out: ended, not erased
    now += 8 * kDay;                                // day 8
    const json::Value b = body_of(new_session(c));  // recent, and still holding its number
    new_session_id = b.find("session")->as_string();
    CHECK(body_of(post_call(c,
                            R"({"call_id": "new-call", "to": ")" + b.find("number")->as_string() +
                                R"("})",
                            now))
              .find("new")
              ->as_bool());
    // Days pass between these purges in a moment: the operator accepts the clock.
    CHECK(server.server().purge(true) ==
          1);  // the day-0 session is past 7 days; calls are within 30
    CHECK(
        server.logs().find(
            R"("msg":"retention purge","site":"acme","configured":true,"sessions":1,"calls":0,"samples":0)") !=
        std::string::npos);
    now += 25 * kDay;  // day 33: the old call and the sample are past 30 days
    CHECK(server.server().purge(true) == 2);  // b still holds its number in the store: kept
    CHECK(c.Post("/v1/sessions/" + new_session_id + "/heartbeat", "", "application/json")->status ==
          404);                               // now it ends
    CHECK(server.server().purge(true) == 1);  // and, ended 25 days ago, goes
  }
  auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
  CHECK_FALSE(store->find_session(old_session));
  CHECK_FALSE(store->find_session(new_session_id));
  CHECK_FALSE(store->find_call("old-call"));
  CHECK(store->find_call("new-call"));  // day 8: within 30 days
}

TEST_CASE("Callers' numbers are kept sealed and hashed, never in plain text, and keys rotate",
          "[http][privacy]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  const std::string k1(64, '1');
  const std::string k2(64, '2');
  const std::string hash_key(64, '3');
  const auto with_keys = [&](const std::string& keys, const char* current, bool keep) {
    std::string config = operator_config();
    config.insert(config.rfind('}'), R"(, "caller_numbers": {"keys": [)" + keys +
                                         R"(], "current": ")" + current + R"(", "hash_key": ")" +
                                         hash_key + R"("})");
    if (!keep)
      config.insert(config.find(R"("attribution_grace_minutes")"),
                    R"("keep_caller_numbers": false, )");
    return config;
  };
  const std::string one_key = R"({"id": "k1", "key": ")" + k1 + R"("})";
  const std::string two_keys = one_key + R"(, {"id": "k2", "key": ")" + k2 + R"("})";
  const std::string caller = "+4915112345678";
  const auto call = [&](httplib::Client& c, const char* id) {
    return post_call(c,
                     R"({"call_id": ")" + std::string(id) +
                         R"(", "to": "+49301111113", "from": ")" + caller + R"("})",
                     now);
  };
  const callswap::server::CallerVault vault(
      {{"k1", *callswap::server::CallerVault::key_from_hex(k1)},
       {"k2", *callswap::server::CallerVault::key_from_hex(k2)}},
      "k1", *callswap::server::CallerVault::key_from_hex(hash_key));
  {
    Running server(with_keys(one_key, "k1", true), dir.file("callswap.db"), now);
    auto c = server.client();
    CHECK(call(c, "call-1")->status == 201);
    CHECK(server.logs().find("4915112345678") == std::string::npos);
  }
  {
    auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
    const auto row = store->find_call("call-1");
    REQUIRE(row);
    CHECK(row->caller_key_id == "k1");
    CHECK(vault.open({row->caller_key_id, row->caller_ciphertext}) ==
          std::optional<std::string>(caller));
    CHECK(row->caller_hash == vault.hash(caller));
  }
  {
    // The key is rotated: k2 becomes current and every number sealed with k1 is re-sealed.
    Running server(with_keys(two_keys, "k2", true), dir.file("callswap.db"), now);
    CHECK(server.server().rotate_caller_key() == 1);
    CHECK(server.server().rotate_caller_key() == 0);
  }
  {
    auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
    const auto row = store->find_call("call-1");
    CHECK(row->caller_key_id == "k2");
    CHECK(vault.open({row->caller_key_id, row->caller_ciphertext}) ==
          std::optional<std::string>(caller));
  }
  {
    // A site that keeps only the hash.
    Running server(with_keys(two_keys, "k2", false), dir.file("callswap.db"), now);
    auto c = server.client();
    CHECK(call(c, "call-2")->status == 201);
  }
  auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
  const auto hashed_only = store->find_call("call-2");
  CHECK(hashed_only->caller_ciphertext.empty());
  CHECK(hashed_only->caller_hash == vault.hash(caller));
  // Nowhere in the database file is the number in plain text.
  std::ifstream file(dir.file("callswap.db"), std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  std::ifstream wal(dir.file("callswap.db") + "-wal", std::ios::binary);
  bytes << wal.rdbuf();
  CHECK(bytes.str().find("4915112345678") == std::string::npos);
}

TEST_CASE("Public endpoints are rate limited per client address; webhooks and health are not",
          "[http][rate]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  std::string config = operator_config();
  config.replace(config.find(R"("rate_per_minute": 0)"),
                 std::string(R"("rate_per_minute": 0)").size(),
                 R"("rate_per_minute": 60, "rate_burst": 3)");
  Running server(config, dir.file("callswap.db"), now);
  auto c = server.client();
  for (int i = 0; i < 3; ++i) CHECK(c.Get("/v1/sites/acme/config")->status == 200);
  auto limited = c.Get("/v1/sites/acme/config");
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(error_code(limited) == "rate_limited");
  CHECK(limited->get_header_value("Retry-After") == "1");
  CHECK(new_session(c)->status == 429);
  // The refusal stays readable by the pages the endpoint serves (the SDK reports it), and
  // by no other origin.
  const httplib::Headers site_page{{"Origin", "https://acme.example"}};
  const httplib::Headers other_page{{"Origin", "https://other.example"}};
  const auto cors = [](const httplib::Result& r) {
    REQUIRE(r);
    CHECK(r->status == 429);
    return r->get_header_value("Access-Control-Allow-Origin");
  };
  CHECK(cors(c.Get("/v1/sites/acme/config", other_page)) == "*");
  CHECK(cors(c.Get("/v1/sites/acme/config/compact", other_page)) == "*");
  CHECK(cors(c.Post("/v1/sites/nosuchsite/sessions", site_page, R"({})", "application/json"))
            .empty());
  CHECK(cors(c.Post("/v1/sites/acme/sessions", site_page, R"({})", "application/json")) ==
        "https://acme.example");
  CHECK(cors(c.Post("/v1/sites/acme/sessions", other_page, R"({})", "application/json")).empty());
  CHECK(cors(c.Delete("/v1/sessions/0123456789abcdef0123456789abcdef", site_page)) ==
        "https://acme.example");
  CHECK(cors(c.Delete("/v1/sessions/0123456789abcdef0123456789abcdef", other_page)).empty());
  CHECK(c.Get("/healthz")->status == 200);  // not limited
  CHECK(post_call(c, R"({"call_id": "c1", "to": "+49301111113"})", now)->status ==
        201);   // signed: not limited
  now += 2000;  // one token a second
  CHECK(c.Get("/v1/sites/acme/config")->status == 200);
  CHECK(c.Get("/v1/sites/acme/config")->status == 200);
  CHECK(c.Get("/v1/sites/acme/config")->status == 429);
  // The address is used for the bucket only: it is in no log line.
  CHECK(server.logs().find("127.0.0.1") == std::string::npos);
  // X-Forwarded-For is not believed from a client that is not a trusted proxy.
  CHECK(c.Get("/v1/sites/acme/config", httplib::Headers{{"X-Forwarded-For", "198.51.100.7"}})
            ->status == 429);
}

TEST_CASE("Behind a trusted reverse proxy each client gets its own bucket", "[http][rate]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  std::string config = operator_config();
  config.replace(config.find(R"("rate_per_minute": 0)"),
                 std::string(R"("rate_per_minute": 0)").size(),
                 R"("rate_per_minute": 60, "rate_burst": 2, "trust_proxy": ["127.0.0.1"])");
  Running server(config, dir.file("callswap.db"), now);
  auto c = server.client();
  const auto from = [&](const char* chain) {
    return c.Get("/v1/sites/acme/config", httplib::Headers{{"X-Forwarded-For", chain}})->status;
  };
  CHECK(from("198.51.100.1") == 200);
  CHECK(from("198.51.100.1") == 200);
  CHECK(from("198.51.100.1") == 429);
  CHECK(from("198.51.100.2") == 200);
  // A client cannot escape its bucket by writing its own entries to the left.
  CHECK(from("203.0.113.9, 198.51.100.1") == 429);
  // A chain through a second trusted hop still finds the client.
  CHECK(from("198.51.100.2, 127.0.0.1") == 200);
  CHECK(from("198.51.100.2, 127.0.0.1") == 429);
  CHECK(server.logs().find("198.51.100") == std::string::npos);
  // A proxy address that is not an address is a config error.
  std::string bad = operator_config();
  bad.replace(bad.find(R"("rate_per_minute": 0)"), std::string(R"("rate_per_minute": 0)").size(),
              R"("trust_proxy": ["proxy.local"])");
  const auto result =
      callswap::server::load_operator_config(bad, [](const std::string&) { return std::nullopt; });
  REQUIRE(!result.ok());
  CHECK(result.errors.front().to_string() ==
        R"(limits.trust_proxy[0]: "proxy.local" is not an IP address)");
}

TEST_CASE("API answers carry security headers and are not cached", "[http][headers]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server(operator_config(), dir.file("callswap.db"), now);
  auto c = server.client();
  auto r = new_session(c);
  REQUIRE(r);
  CHECK(r->get_header_value("Cache-Control") == "no-store");
  CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(r->get_header_value("Referrer-Policy") == "no-referrer");
  CHECK(r->get_header_value("X-Frame-Options") == "DENY");
  CHECK(c.Get("/v1/sites/acme/config")->get_header_value("Cache-Control") == "public, max-age=300");
}
