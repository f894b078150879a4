// Calls as conversions against the real server, a real SQLite file and real HTTP: the ids a
// session carries only with consent, the conversion rules, the Google Ads and Microsoft Ads
// feeds in their documented formats, GA4 Measurement Protocol events to a local receiver that
// checks the payload strictly (the platforms are not reachable from tests), and the outbox:
// retries, giving up with a visible reason, and erasure and restriction of pending deliveries.

#include "conversions.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <vector>

#include "privacy_record.hpp"
#include "server_fixture.hpp"

namespace {

const std::string kCaller = "+4915112345678";
const std::string kOtherCaller = "+4917699887766";
const std::string kThirdCaller = "+4917612121212";

// A local HTTP receiver standing in for GA4 or a site owner's endpoint: records each request
// and answers 500 to the first `failures` of them.
class Receiver {
 public:
  explicit Receiver(int failures = 0) : failures_(failures) {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      received_.push_back(req);
      res.status = static_cast<int>(received_.size()) <= failures_ ? 500 : 204;
      arrived_.notify_all();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Waits (real time, at most 5 s) until `count` requests arrived; returns them all.
  std::vector<httplib::Request> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, std::chrono::seconds(5), [&] { return received_.size() >= count; });
    return received_;
  }
  std::vector<httplib::Request> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  int failures_ = 0;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<httplib::Request> received_;
};

// A port nothing listens on: bound (without listening) to learn a free one, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t size = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string conversions_config(const std::string& ga4_endpoint, const std::string& webhook_url,
                               const std::string& extra_rules = "") {
  std::string config = config_with_keys();
  // Enough numbers for every visit of a test to hold its own.
  const std::string last = R"("+49309000003")";
  config.replace(config.find(last), last.size(),
                 last + R"(, "+49309000004", "+49309000005", "+49309000006", "+49309000007")");
  const std::string anchor = R"("attribution_grace_minutes": 30)";
  config.replace(config.find(anchor), anchor.size(),
                 anchor + R"(,
      "conversions": {
        "currency": "EUR", "time_zone": "+01:00", "min_duration_seconds": 60, "first_time_callers_only": true,)" +
                     extra_rules + R"(
        "values": [{"source": "google-ads", "name": "Call, from ads", "value": 50}, {"name": "Phone call", "value": 10}],
        "feeds": {"username": "googleads", "password": "feed-password-0123456789"},
        "ga4": {"measurement_id": "G-TEST123", "api_secret": "ga4-api-secret-0123456789", "endpoint": ")" +
                     ga4_endpoint + R"("},
        "webhooks": [{"id": "crm", "url": ")" +
                     webhook_url + R"(", "secret": "outbound-secret-0123456789"}]
      })");
  config.insert(
      config.rfind('}'),
      R"(, "outbox": {"retry_base_ms": 1000, "retry_max_ms": 8000, "give_up_after_seconds": 30})");
  return config;
}

struct ConversionFixture {
  Receiver ga4;
  Receiver hooks;
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server{conversions_config(ga4.url(), hooks.url("/hooks/calls")), dir.file("callswap.db"),
                 now};
  httplib::Client c = server.client();
  const httplib::Headers reports = {{"Authorization", "Bearer reports-key"}};
  const httplib::Headers dpo = {{"Authorization", "Bearer dpo-key"}};

  // A session of the google-ads source carrying `ids` (JSON, or empty for none).
  json::Value visit(const std::string& ids) {
    const std::string body =
        R"({"source": "google-ads", "consent": true, "campaign": {"utm_source": "google", "click_id": "gclid"})" +
        (ids.empty() ? std::string() : R"(, "ids": )" + ids) + "}";
    const auto r = c.Post("/v1/sites/acme/sessions", body, "application/json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 201);
    return body_of(r);
  }
  json::Value call(const std::string& id, const json::Value& session, const std::string& caller,
                   int duration) {
    now += kMinute;
    const auto r = post_call(c,
                             R"({"call_id": ")" + id + R"(", "to": ")" +
                                 session.find("number")->as_string() + R"(", "from": ")" + caller +
                                 R"(", "status": "completed", "duration_seconds": )" +
                                 std::to_string(duration) + "}",
                             now);
    REQUIRE(r);
    REQUIRE(r->status == 201);
    return body_of(r);
  }
  httplib::Result feed(const std::string& platform, const std::string& user = "googleads",
                       const std::string& password = "feed-password-0123456789") {
    return c.Get(("/v1/sites/acme/conversions/" + platform + ".csv").c_str(),
                 {{"Authorization", "Basic " + callswap::server::base64(user + ":" + password)}});
  }
  json::Array deliveries() {
    return body_of(c.Get("/v1/admin/sites/acme/deliveries", reports))
        .find("deliveries")
        ->as_array();
  }
};

std::string gclid_ids(const std::string& value, const std::string& consent = "consent_mode") {
  return R"({"click_id": {"type": "gclid", "value": ")" + value + R"(", "consent": ")" + consent +
         R"("}})";
}

}  // namespace

TEST_CASE_METHOD(ConversionFixture,
                 "A session carries a click id or GA client id only with a consent it names",
                 "[conversions]") {
  const auto refused = [&](const std::string& ids) {
    return c.Post("/v1/sites/acme/sessions",
                  R"({"source": "google-ads", "consent": true, "ids": )" + ids + "}",
                  "application/json");
  };
  CHECK(error_code(refused(R"({"click_id": {"type": "gclid", "value": "abc"}})")) ==
        "consent_required");
  // The manual signal is a yes to the dynamic number only.
  CHECK(error_code(refused(gclid_ids("abc", "manual"))) == "consent_required");
  CHECK(error_code(refused(gclid_ids("abc", "cookiebot"))) ==
        "consent_required");  // not a signal this site reads
  CHECK(error_code(refused(gclid_ids("abc", "tcf+"))) == "consent_required");
  CHECK(error_code(refused(gclid_ids("a b<script>"))) == "invalid_body");
  CHECK(error_code(refused(gclid_ids(std::string(513, 'a')))) == "invalid_body");
  CHECK(error_code(
            refused(R"({"click_id": {"type": "utm_source", "value": "x", "consent": "tcf"}})")) ==
        "invalid_body");
  CHECK(error_code(refused(R"({"ga_client_id": {"value": "GA1.1.123.456", "consent": "tcf"}})")) ==
        "invalid_body");
  CHECK(error_code(refused(R"({"ga_client_id": {"value": "123.456"}})")) == "consent_required");
  CHECK(error_code(refused(R"({"fbp": "x"})")) == "invalid_body");
  CHECK(error_code(refused(R"([])")) == "invalid_body");
  visit(gclid_ids("Cj0KCQ-abc_123.x~y", "tcf+consent_mode"));
  visit(R"({"ga_client_id": {"value": "1234567890.1700000000", "consent": "consent_mode"}})");
}

TEST_CASE_METHOD(
    ConversionFixture,
    "The Google Ads and Microsoft Ads feeds list each converting call once, by the rules",
    "[conversions]") {
  const json::Value first = visit(gclid_ids("GCLID-first_call"));
  call("call-1", first, kCaller, 95);
  // Rules: 20 s with a 60 s minimum is not a conversion; nor a second call of the same caller.
  call("call-short", visit(gclid_ids("GCLID-short")), kOtherCaller, 20);
  call("call-again", visit(gclid_ids("GCLID-again")), kCaller, 300);
  // Without advertising consent the call is still attributed to the source, but no feed has it.
  const json::Value unconsented = call("call-no-consent", visit(""), kThirdCaller, 120);
  CHECK(unconsented.find("attribution")->as_string() == "session");
  CHECK(unconsented.find("source")->as_string() == "google-ads");
  call("call-ms",
       visit(R"({"click_id": {"type": "msclkid", "value": "MSCLKID-0123", "consent": "tcf"}})"),
       "+4917655555555", 61);
  // A status update of a listed call does not list it twice.
  now += kMinute;
  REQUIRE(post_call(c,
                    R"({"call_id": "call-1", "to": ")" + first.find("number")->as_string() +
                        R"(", "status": "completed", "duration_seconds": 95})",
                    now)
              ->status == 200);

  const auto google = feed("google-ads");
  REQUIRE(google);
  REQUIRE(google->status == 200);
  CHECK(google->get_header_value("Content-Type") == "text/csv; charset=utf-8");
  // kStart + 1 minute is 2026-09-21 14:14:20 UTC, 15:14:20 at +01:00.
  CHECK(google->body ==
        "Parameters:TimeZone=+0100\r\n"
        "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\r\n"
        "GCLID-first_call,\"Call, from ads\",2026-09-21 15:14:20,50.00,EUR\r\n");
  const auto microsoft = feed("microsoft-ads");
  REQUIRE(microsoft);
  CHECK(
      microsoft->body ==
      "Parameters:TimeZone=+0100\r\n"
      "Microsoft Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\r\n"
      "MSCLKID-0123,\"Call, from ads\",2026-09-21 15:18:20,50.00,EUR\r\n");

  SECTION("the platforms' user name and password are required") {
    const auto anonymous = c.Get("/v1/sites/acme/conversions/google-ads.csv");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    CHECK(anonymous->get_header_value("WWW-Authenticate").starts_with("Basic realm="));
    CHECK(feed("google-ads", "googleads", "wrong-password-0123456789")->status == 401);
    CHECK(feed("google-ads", "other", "feed-password-0123456789")->status == 401);
    CHECK(error_code(c.Get("/v1/sites/nope/conversions/google-ads.csv")) == "unknown_feed");
  }
  // An erasure takes the click out for good; a restriction for as long as it holds.
  for (const std::string action : {"erase", "restrict"}) {
    DYNAMIC_SECTION("after " << action << " of the caller, the click is out of the feed") {
      const auto r = c.Post(("/v1/admin/subjects/" + action).c_str(), dpo,
                            R"({"caller": ")" + kCaller + R"("})", "application/json");
      REQUIRE(r);
      REQUIRE(r->status == 200);
      CHECK(feed("google-ads")->body.find("GCLID") == std::string::npos);
    }
  }
  SECTION("the feed window ends") {
    now += 31 * 24 * 60 * kMinute;
    CHECK(feed("google-ads")->body.find("GCLID") == std::string::npos);
  }
}

TEST_CASE_METHOD(
    ConversionFixture,
    "Ids consented to later in the visit come with a heartbeat; a withdrawal erases them",
    "[conversions]") {
  const json::Value session = visit("");
  const std::string id = session.find("session")->as_string();
  const std::string path = "/v1/sessions/" + id + "/heartbeat";
  const auto beat = [&](const std::string& body) { return c.Post(path, body, "application/json"); };
  const auto stored = [&] {
    auto row = callswap::server::open_sqlite_store(dir.file("callswap.db"))->find_session(id);
    REQUIRE(row);
    return *row;
  };
  // The same rules as the number request: a consent the site reads, never the manual one.
  CHECK(error_code(beat(R"({"ids": )" + gclid_ids("GCLID-later", "manual") + "}")) ==
        "consent_required");
  CHECK(error_code(beat(R"({"ids": {"click_id": {"type": "gclid", "value": "GCLID-later"}}})")) ==
        "consent_required");
  CHECK(error_code(beat(R"({"ids": )" + gclid_ids("a<b") + "}")) == "invalid_body");
  CHECK(error_code(beat(R"({"ids": {"fbp": null}})")) == "invalid_body");
  CHECK(error_code(beat(R"({"source": "google-ads"})")) == "invalid_body");
  CHECK(error_code(beat("[]")) == "invalid_body");
  CHECK(error_code(beat("{")) == "invalid_json");
  // null removes an id only in a heartbeat; a number request has nothing to remove.
  CHECK(error_code(c.Post("/v1/sites/acme/sessions",
                          R"({"source": "google-ads", "consent": true, "ids": {"click_id": null}})",
                          "application/json")) == "invalid_body");
  CHECK(stored().click_id.empty());

  // Advertising consent later: the click id is kept with it, and the call is in the feed.
  REQUIRE(beat(R"({"ids": )" + gclid_ids("GCLID-later-0123", "tcf+consent_mode") + "}")->status ==
          200);
  CHECK(stored().click_id == "GCLID-later-0123");
  CHECK(stored().click_id_consent == "tcf+consent_mode");
  // Then analytics consent: the GA client id joins it; the click id stays.
  REQUIRE(
      beat(
          R"({"ids": {"ga_client_id": {"value": "1234567890.1700000000", "consent": "consent_mode"}}})")
          ->status == 200);
  CHECK(stored().ga_client_id == "1234567890.1700000000");
  CHECK(stored().click_id == "GCLID-later-0123");
  // A heartbeat that names no id changes none.
  REQUIRE(beat("")->status == 200);
  CHECK(stored().click_id == "GCLID-later-0123");
  call("call-later", session, kCaller, 95);
  CHECK(feed("google-ads")->body.find("GCLID-later-0123,") != std::string::npos);

  // Advertising consent withdrawn: the click id is gone, from the feed and from the file.
  REQUIRE(beat(R"({"ids": {"click_id": null}})")->status == 200);
  CHECK(stored().click_id.empty());
  CHECK(stored().click_id_type.empty());
  CHECK(stored().click_id_consent.empty());
  CHECK(stored().ga_client_id == "1234567890.1700000000");
  CHECK(feed("google-ads")->body.find("GCLID-later-0123") == std::string::npos);
  CHECK(erased_from_disk(dir.file("callswap.db"), "GCLID-later-0123"));
  REQUIRE(beat(R"({"ids": {"ga_client_id": null}})")->status == 200);
  CHECK(stored().ga_client_id.empty());
  CHECK(erased_from_disk(dir.file("callswap.db"), "1234567890.1700000000"));
  // A session that has ended takes no ids.
  REQUIRE(c.Delete(("/v1/sessions/" + id).c_str())->status == 204);
  CHECK(beat(R"({"ids": )" + gclid_ids("GCLID-too-late") + "}")->status == 404);
}

TEST_CASE_METHOD(ConversionFixture,
                 "The report page downloads the feeds with the report's key and consumes nothing",
                 "[conversions]") {
  call("call-1", visit(gclid_ids("GCLID-download")), kCaller, 95);
  call("call-ms",
       visit(R"({"click_id": {"type": "msclkid", "value": "MSCLKID-download", "consent": "tcf"}})"),
       kOtherCaller, 61);
  const auto download = [&](const std::string& platform, const httplib::Headers& headers) {
    return c.Get(("/v1/admin/sites/acme/conversions/" + platform + ".csv").c_str(), headers);
  };
  const std::string before = feed("google-ads")->body;
  REQUIRE(before.find("GCLID-download") != std::string::npos);
  for (const std::string platform : {"google-ads", "microsoft-ads"}) {
    INFO(platform);
    const auto r = download(platform, reports);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "text/csv; charset=utf-8");
    CHECK(r->get_header_value("Content-Disposition") ==
          "attachment; filename=\"acme-" + platform + "-conversions-2026-09-21.csv\"");
    CHECK(r->get_header_value("Cache-Control") == "no-store");
    // Exactly the platform's file, and the platform's next fetch is unchanged by it.
    CHECK(r->body == feed(platform)->body);
    CHECK(download(platform, reports)->body == r->body);
  }
  CHECK(feed("google-ads")->body == before);
  CHECK(download("microsoft-ads", reports)->body.find("MSCLKID-download") != std::string::npos);
  // The report's key, not the platforms' password; a key without `reports` is refused.
  CHECK(download("google-ads", {})->status == 401);
  CHECK(download("google-ads",
                 {{"Authorization",
                   "Basic " + callswap::server::base64("googleads:feed-password-0123456789")}})
            ->status == 401);
  CHECK(error_code(download("google-ads", dpo)) == "forbidden");
  CHECK(error_code(c.Get("/v1/admin/sites/nope/conversions/google-ads.csv", reports)) ==
        "unknown_site");
  CHECK(c.Get("/v1/admin/sites/acme/conversions/facebook.csv", reports)->status == 404);
  // Each download is in the audit log with the platform, never with a click id.
  const auto entries = callswap::server::open_sqlite_store(dir.file("callswap.db"))
                           ->audit_entries(kStart - kMinute, kStart + 60 * kMinute);
  int downloads = 0;
  for (const auto& entry : entries) {
    if (entry.action != "conversion-feed") continue;
    ++downloads;
    CHECK(entry.actor == "reports");
    CHECK(entry.site == "acme");
    CHECK((entry.detail_json == R"({"platform":"google-ads"})" ||
           entry.detail_json == R"({"platform":"microsoft-ads"})"));
  }
  CHECK(downloads == 5);
}

TEST_CASE_METHOD(ConversionFixture,
                 "GA4 gets the Measurement Protocol event of a converting call, without the caller",
                 "[conversions][ga4]") {
  const json::Value session =
      visit(R"({"ga_client_id": {"value": "1234567890.1700000000", "consent": "consent_mode"}})");
  call("call-ga", session, kCaller, 75);
  call("call-ga-short", visit(R"({"ga_client_id": {"value": "99.98", "consent": "tcf"}})"),
       kOtherCaller, 10);
  const auto got = ga4.wait_for(1);
  REQUIRE(got.size() == 1);
  const httplib::Request& req = got[0];
  CHECK(req.path == "/mp/collect");
  CHECK(req.get_param_value("measurement_id") == "G-TEST123");
  CHECK(req.get_param_value("api_secret") == "ga4-api-secret-0123456789");
  CHECK(req.params.size() == 2);
  CHECK(req.get_header_value("Content-Type") == "application/json");
  const auto payload = json::parse(req.body);
  REQUIRE(payload.ok());
  CHECK(payload->as_object().keys ==
        std::vector<std::string>{"client_id", "timestamp_micros", "events"});
  CHECK(payload->find("client_id")->as_string() == "1234567890.1700000000");
  const auto& events = payload->find("events")->as_array();
  REQUIRE(events.size() == 1);
  CHECK(events[0].find("name")->as_string() == "phone_call");
  const json::Value& params = *events[0].find("params");
  CHECK(params.find("duration_seconds")->as_number() == 75);
  CHECK(params.find("source")->as_string() == "google-ads");
  CHECK(params.find("value")->as_number() == 50);
  CHECK(params.find("currency")->as_string() == "EUR");
  CHECK(req.body.find("4915112345678") == std::string::npos);  // never the caller
  CHECK(req.body.find("call-ga") == std::string::npos);
  // Only the converting call: nothing more arrives.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(ga4.received().size() == 1);
}

// The conversions config with a webhook endpoint where nothing listens: its deliveries fail.
struct UnreachableWebhookFixture {
  Receiver ga4;
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server{
      conversions_config(ga4.url(), "http://127.0.0.1:" + std::to_string(closed_port()) + "/hooks"),
      dir.file("callswap.db"), now};
  httplib::Client c = server.client();
  const httplib::Headers reports = {{"Authorization", "Bearer reports-key"}};
  const httplib::Headers dpo = {{"Authorization", "Bearer dpo-key"}};
};

TEST_CASE_METHOD(
    UnreachableWebhookFixture,
    "A delivery that keeps failing is given up, with the reason in the admin API and the report",
    "[conversions][outbox]") {
  const json::Value session = body_of(new_session(c));
  REQUIRE(post_call(c,
                    R"({"call_id": "call-down", "to": ")" + session.find("number")->as_string() +
                        R"(", "from": ")" + kCaller +
                        R"(", "status": "completed", "duration_seconds": 90})",
                    now)
              ->status == 201);
  const auto list = [&] {
    return body_of(c.Get("/v1/admin/sites/acme/deliveries", reports))
        .find("deliveries")
        ->as_array();
  };
  const auto wait_attempts = [&](int attempts) {
    for (int i = 0; i < 100; ++i) {
      const auto l = list();
      if (l.size() == 2 && l[0].find("attempts")->as_number() >= attempts &&
          l[1].find("attempts")->as_number() >= attempts)
        return l;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("no attempt: " << json::Value(list()).dump() << server.logs());
    return json::Array{};
  };
  auto l = wait_attempts(1);
  CHECK(l[0].find("event")->as_string() == "call.attributed");
  CHECK(l[1].find("event")->as_string() == "call.completed");
  CHECK(l[0].find("state")->as_string() == "pending");
  CHECK(l[0].find("last_error")->as_string().starts_with("no answer: "));
  // The next attempt waits between half and all of the base delay (jitter).
  const double wait = l[0].find("next_attempt_at")->as_number() - static_cast<double>(now.load());
  CHECK(wait >= 500);
  CHECK(wait <= 1000);
  // Backoff doubles: after 30 s of failing the delivery is given up.
  for (int i = 0; i < 8 && list()[0].find("state")->as_string() == "pending"; ++i) {
    now += 8000;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  l = list();
  CHECK(l[0].find("state")->as_string() == "failed");
  CHECK(l[0].find("last_error")->as_string().starts_with("gave up after "));
  CHECK(l[0].find("attempts")->as_number() >= 3);
  const json::Value report = body_of(c.Get("/v1/admin/sites/acme/report", reports));
  const json::Value* deliveries = report.find("deliveries");
  REQUIRE(deliveries);
  REQUIRE(deliveries->find("failed")->as_array().size() >= 1);
  CHECK(deliveries->find("failed")->as_array()[0].find("reason")->as_string().starts_with(
      "gave up after "));
  CHECK(deliveries->find("failed")->as_array()[0].find("destination")->as_string() ==
        "webhook:crm");
  // No caller number, no click id in any log line.
  CHECK(server.logs().find("4915112345678") == std::string::npos);
  CHECK(server.logs().find("delivery given up") != std::string::npos);
}

TEST_CASE_METHOD(UnreachableWebhookFixture,
                 "Erasure and restriction remove a caller's pending deliveries",
                 "[conversions][outbox][privacy]") {
  for (const auto& [id, caller] :
       {std::pair{"call-a", kCaller}, std::pair{"call-b", kOtherCaller}}) {
    const json::Value session = body_of(new_session(c));
    now += kMinute;
    REQUIRE(post_call(c,
                      std::string(R"({"call_id": ")") + id + R"(", "to": ")" +
                          session.find("number")->as_string() + R"(", "from": ")" + caller +
                          R"(", "status": "completed", "duration_seconds": 90})",
                      now)
                ->status == 201);
  }
  const auto count = [&] {
    return body_of(c.Get("/v1/admin/sites/acme/deliveries", reports))
        .find("deliveries")
        ->as_array()
        .size();
  };
  CHECK(count() == 4);
  REQUIRE(c.Post("/v1/admin/subjects/erase", dpo, R"({"caller": ")" + kCaller + R"("})",
                 "application/json")
              ->status == 200);
  CHECK(count() == 2);
  REQUIRE(c.Post("/v1/admin/subjects/restrict", dpo, R"({"caller": ")" + kOtherCaller + R"("})",
                 "application/json")
              ->status == 200);
  CHECK(count() == 0);
  CHECK(erased_from_disk(dir.file("callswap.db"), "call-a"));
}

TEST_CASE("Conversion settings are checked with the field and the reason",
          "[conversions][config]") {
  const auto errors_of = [](const std::string& conversions, const std::string& top = "") {
    std::string config = config_with_keys();
    const std::string anchor = R"("attribution_grace_minutes": 30)";
    config.replace(config.find(anchor), anchor.size(),
                   anchor + R"(, "conversions": )" + conversions);
    if (!top.empty()) config.insert(config.rfind('}'), ", " + top);
    const auto result = callswap::server::load_operator_config(
        config, [](const std::string&) { return std::nullopt; });
    std::string all;
    for (const auto& e : result.errors) all += e.to_string() + "\n";
    return all;
  };
  CHECK(errors_of(R"({"currency": "euro"})")
            .find("sites[0].conversions.currency: \"euro\" is not an ISO 4217 code") !=
        std::string::npos);
  CHECK_THAT(errors_of(R"({"time_zone": "Europe/Berln"})"),
             Catch::Contains("sites[0].conversions.time_zone: \"Europe/Berln\" is not a time "
                             "zone in /usr/share/zoneinfo (an IANA name like \"Europe/Berlin\""));
  CHECK_THAT(errors_of(R"({"time_zone": "../../etc/passwd"})"),
             Catch::Contains("sites[0].conversions.time_zone: \"../../etc/passwd\" is not a "
                             "time zone name"));
  CHECK_THAT(errors_of(R"({"time_zone": "+15:00"})"),
             Catch::Contains("sites[0].conversions.time_zone: \"+15:00\" is not a UTC offset"));
  CHECK(errors_of(R"({"values": [{"source": "tv", "name": "x"}]})")
            .find("sites[0].conversions.values[0].source: \"tv\" is not a source") !=
        std::string::npos);
  CHECK(errors_of(R"({"values": [{"pool": "nope", "name": "x"}]})")
            .find("values[0].pool: \"nope\" is not a pool") != std::string::npos);
  CHECK(errors_of(R"({"min_duration_seconds": -1})")
            .find("sites[0].conversions.min_duration_seconds: must be between") !=
        std::string::npos);
  CHECK(errors_of(R"({"feeds": {"username": "g"}})")
            .find("sites[0].conversions.feeds.password: is required") != std::string::npos);
  CHECK(errors_of(R"({"ga4": {"measurement_id": "UA-1", "api_secret": "0123456789abcdef0"}})")
            .find("ga4.measurement_id") != std::string::npos);
  CHECK(
      errors_of(R"({"webhooks": [{"id": "crm", "url": "ftp://x", "secret": "0123456789abcdef0"}]})")
          .find("webhooks[0].url") != std::string::npos);
  CHECK(
      errors_of(
          R"({"webhooks": [{"id": "crm", "url": "https://crm.example/h", "secret": "0123456789abcdef0", "events": ["call.deleted"]}]})")
          .find("webhooks[0].events[0]: \"call.deleted\" is not an event") != std::string::npos);
  // A caller's number goes only to a webhook acting for a key allowed to see numbers.
  CHECK(
      errors_of(
          R"({"webhooks": [{"id": "crm", "url": "https://crm.example/h", "secret": "0123456789abcdef0", "caller_number_key": "support"}]})")
          .find("webhooks[0].caller_number_key: \"support\" is not an admin key with the "
                "\"callers\" scope") != std::string::npos);
  CHECK(
      errors_of(
          R"({"webhooks": [{"id": "crm", "url": "https://crm.example/h", "secret": "0123456789abcdef0", "caller_number_key": "dpo"}]})")
          .empty());
  CHECK(errors_of(R"({})", R"("outbox": {"retry_base_ms": 5000, "retry_max_ms": 100})")
            .find("outbox.retry_max_ms") != std::string::npos);
}

TEST_CASE("time_zone: an IANA name loaded once, or a fixed offset", "[conversions][time_zone]") {
  const auto load = [](const std::string& time_zone, const std::string& tzdir = "") {
    std::string config = config_with_keys();
    const std::string anchor = R"("attribution_grace_minutes": 30)";
    config.replace(config.find(anchor), anchor.size(),
                   anchor + R"(, "conversions": {"time_zone": ")" + time_zone + R"("})");
    return callswap::server::load_operator_config(
        config, [tzdir](const std::string& name) -> std::optional<std::string> {
          if (name == "TZDIR" && !tzdir.empty()) return tzdir;
          return std::nullopt;
        });
  };
  const auto berlin = load("Europe/Berlin");
  REQUIRE(berlin.errors.empty());
  const auto& rules = berlin.config->sites.at(0).conversions;
  CHECK(rules.time_zone == "Europe/Berlin");
  // Summer and winter time from the same rules, the feeds' text for each instant.
  CHECK(callswap::server::feed_time(kStart, rules.zone) == "2026-09-21 16:13:20");
  CHECK(callswap::server::feed_time(kStart + 60LL * 24 * 60 * kMinute, rules.zone) ==
        "2026-11-20 15:13:20");
  const auto fixed = load("+05:30");
  REQUIRE(fixed.errors.empty());
  CHECK(fixed.config->sites.at(0).conversions.time_zone == "+0530");
  CHECK(callswap::server::feed_time(kStart, fixed.config->sites.at(0).conversions.zone) ==
        "2026-09-21 19:43:20");
  // TZDIR as the C library reads it; a damaged file there is named with its reason.
  TempDir dir;
  std::ofstream(dir.file("Broken"), std::ios::binary) << "TZif2 not really";
  const auto broken = load("Broken", dir.file(""));
  REQUIRE(broken.errors.size() == 1);
  CHECK(broken.errors[0].to_string().starts_with(
      "sites[0].conversions.time_zone: \"Broken\" cannot be used: "));
  CHECK_THAT(broken.errors[0].to_string(), Catch::Contains("is not a TZif file"));
}

TEST_CASE("The record of processing names where conversions go", "[conversions][privacy]") {
  const auto config = callswap::server::load_operator_config(
      conversions_config("https://www.google-analytics.com", "https://crm.example/hooks"),
      [](const std::string&) { return std::nullopt; });
  REQUIRE(config.ok());
  const std::string record = callswap::server::privacy_record_markdown(*config.config);
  CHECK(record.find("Google Ads and Microsoft Advertising") != std::string::npos);
  CHECK(record.find("GA4 property of `G-TEST123`") != std::string::npos);
  CHECK(record.find("`https://crm.example/hooks` (webhook `crm`)") != std::string::npos);
  CHECK(record.find("callswap sends nothing to analytics or advertising platforms") ==
        std::string::npos);
}
