// The GDPR duties as an auditor checks them: against the real server and a real SQLite file,
// reading the raw bytes of every database file, with a moved clock and a VFS that sees which
// writes a power cut could still lose.

#include <algorithm>

#include "server_fixture.hpp"
#include "store.hpp"
#include "sync_tracker.hpp"

namespace {

const std::string kCaller = "+4915112345678";
const std::string kOtherCaller = "+4917699887766";
constexpr Millis kDay = 24 * 60 * kMinute;

struct DutiesFixture {
  // Before the server opens its database: every file it writes is then tracked.
  test::SyncTracker& sync = test::SyncTracker::install();
  TempDir dir;
  std::string db = dir.file("callswap.db");
  std::atomic<Millis> now{kStart};
  Running server{config_with_keys(), db, now};
  httplib::Client c = server.client();
  const httplib::Headers dpo = {{"Authorization", "Bearer dpo-key"}};

  json::Value subject(const std::string& action, const std::string& body) {
    return body_of(c.Post(("/v1/admin/subjects/" + action).c_str(), dpo, body, "application/json"));
  }
  json::Value subject_by_caller(const std::string& action, const std::string& caller) {
    return subject(action, R"({"caller": ")" + caller + R"("})");
  }
  // A call to `number` from `caller`, through the generic signed webhook.
  httplib::Result call(const std::string& call_id, const std::string& number,
                       const std::string& caller) {
    return post_call(c,
                     R"({"call_id": ")" + call_id + R"(", "to": ")" + number + R"(", "from": ")" +
                         caller + R"(", "status": "completed", "duration_seconds": 42})",
                     now);
  }
  // A store on the same file, as an auditor would open it.
  std::unique_ptr<callswap::server::Store> inspect() {
    return callswap::server::open_sqlite_store(db);
  }
};

httplib::Result twilio(httplib::Client& c, const std::map<std::string, std::string>& params) {
  const std::string signature = twilio_signature(
      "twilio-auth-token-0123456789", "https://track.example.com/v1/webhooks/twilio", params);
  return c.Post("/v1/webhooks/twilio", httplib::Headers{{"X-Twilio-Signature", signature}},
                form(params), "application/x-www-form-urlencoded");
}

}  // namespace

TEST_CASE_METHOD(
    DutiesFixture,
    "After a caller's erasure no call, index or file still carries the erased visit's session id",
    "[privacy][erase]") {
  const json::Value visit = body_of(new_session(c));
  const std::string session = visit.find("session")->as_string();
  const std::string number = visit.find("number")->as_string();
  now += kMinute;
  REQUIRE(call("call-1", number, kCaller)->status == 201);
  REQUIRE(call("call-2", number, kOtherCaller)->status == 201);  // another caller, the same visit

  CHECK(subject_by_caller("erase", kCaller).find("erased_sessions")->as_number() == 1);
  const auto other = inspect()->find_call("call-2");
  REQUIRE(other);
  CHECK(other->session_id.empty());
  CHECK(other->attribution == "session");  // the facts a report needs stay
  CHECK(other->source == "google-ads");
  CHECK(other->campaign_json.find("google") != std::string::npos);
  const json::Value export_of_other = subject_by_caller("access", kOtherCaller);
  CHECK(export_of_other.find("calls")->as_array()[0].find("session")->is_null());
  CHECK(export_of_other.dump().find(session) == std::string::npos);
  CHECK(erased_from_disk(db, session));
}

TEST_CASE_METHOD(DutiesFixture,
                 "A withdrawal reaches the disk: within seconds no database file holds the session",
                 "[privacy][withdraw]") {
  const auto created = c.Post(
      "/v1/sites/acme/sessions",
      R"({"source": "google-ads", "landing_path": "/x?utm_campaign=withdrawn-7f3a", "consent": true,
                                  "campaign": {"utm_campaign": "withdrawn-7f3a"}})",
      "application/json");
  const std::string session = body_of(created).find("session")->as_string();
  for (int i = 0; i < 3; ++i)
    REQUIRE(c.Post(("/v1/sessions/" + session + "/heartbeat").c_str(), "", "application/json")
                ->status == 200);
  REQUIRE(c.Delete(("/v1/sessions/" + session).c_str())->status == 204);
  CHECK(erased_from_disk(db, session));
  CHECK(erased_from_disk(db, "withdrawn-7f3a"));
}

TEST_CASE_METHOD(DutiesFixture,
                 "Erasures and withdrawals are acknowledged only once a power cut cannot undo them",
                 "[privacy][durability]") {
  const std::string session = body_of(new_session(c)).find("session")->as_string();
  // The hot path commits without a sync (it survives a crash of the process, not of the power).
  CHECK(sync.any_unsynced(db));
  REQUIRE(c.Delete(("/v1/sessions/" + session).c_str())->status == 204);
  INFO("files with writes a power cut could lose, right after the acknowledgement");
  CHECK_FALSE(sync.any_unsynced(db + "-wal"));

  const json::Value visit = body_of(new_session(c));
  REQUIRE(call("call-1", visit.find("number")->as_string(), kCaller)->status == 201);
  CHECK(sync.any_unsynced(db));
  CHECK(subject_by_caller("erase", kCaller).find("erased_calls")->as_number() == 1);
  CHECK_FALSE(sync.any_unsynced(db + "-wal"));
}

TEST_CASE_METHOD(DutiesFixture,
                 "A replayed Twilio webhook of an erased call is acknowledged and stores nothing",
                 "[privacy][erase][twilio]") {
  const std::map<std::string, std::string> params = {
      {"CallSid", "CA0123456789abcdef0123456789abcdef"},
      {"To", "+49301111113"},
      {"From", kCaller},
      {"CallStatus", "completed"},
      {"CallDuration", "61"}};
  REQUIRE(twilio(c, params)->status == 201);
  CHECK(subject_by_caller("erase", kCaller).find("erased_calls")->as_number() == 1);

  const auto replay = twilio(c, params);
  REQUIRE(replay);
  CHECK(replay->status == 200);
  CHECK_FALSE(body_of(replay).find("stored")->as_bool());
  CHECK_FALSE(inspect()->find_call("CA0123456789abcdef0123456789abcdef"));
  CHECK(error_code(c.Post("/v1/admin/subjects/access", dpo, R"({"caller": ")" + kCaller + R"("})",
                          "application/json")) == "unknown_subject");
  // The tombstone holds a keyed hash, not the provider's id.
  CHECK(erased_from_disk(db, "CA0123456789abcdef0123456789abcdef"));
  // The caller's next call is a new call, and is stored.
  auto next = params;
  next["CallSid"] = "CA99999999999999999999999999999999";
  CHECK(twilio(c, next)->status == 201);
}

TEST_CASE_METHOD(DutiesFixture, "A restriction reaches the calls made after it, until it is lifted",
                 "[privacy][restrict]") {
  REQUIRE(call("call-1", "+49301111113", kCaller)->status == 201);
  CHECK(subject_by_caller("restrict", kCaller).find("calls")->as_number() == 1);
  now += kMinute;
  REQUIRE(call("call-2", "+49301111113", kCaller)->status == 201);
  REQUIRE(call("call-3", "+49301111113", kOtherCaller)->status == 201);
  CHECK(inspect()->find_call("call-2")->restricted);
  CHECK_FALSE(inspect()->find_call("call-3")->restricted);
  const httplib::Headers reports = {{"Authorization", "Bearer reports-key"}};
  CHECK(body_of(c.Get("/v1/admin/sites/acme/report", reports))
            .find("totals")
            ->find("calls")
            ->as_number() == 1);

  CHECK_FALSE(subject_by_caller("unrestrict", kCaller).find("restricted")->as_bool());
  now += kMinute;
  REQUIRE(call("call-4", "+49301111113", kCaller)->status == 201);
  CHECK_FALSE(inspect()->find_call("call-4")->restricted);
  CHECK(body_of(c.Get("/v1/admin/sites/acme/report", reports))
            .find("totals")
            ->find("calls")
            ->as_number() == 4);

  // A visit's restriction reaches the calls later attributed to it.
  const json::Value visit = body_of(new_session(c));
  const std::string session = visit.find("session")->as_string();
  CHECK(subject("restrict", R"({"session": ")" + session + R"("})").find("restricted")->as_bool());
  now += kMinute;
  REQUIRE(call("call-5", visit.find("number")->as_string(), kOtherCaller)->status == 201);
  CHECK(inspect()->find_call("call-5")->restricted);
}

TEST_CASE_METHOD(DutiesFixture,
                 "A purged session is cut from its calls, which keep source, campaign and pool",
                 "[privacy][retention]") {
  const json::Value visit = body_of(new_session(c));
  const std::string session = visit.find("session")->as_string();
  REQUIRE(call("call-1", visit.find("number")->as_string(), kCaller)->status == 201);
  REQUIRE(
      c.Post(("/v1/sessions/" + session + "/heartbeat").c_str(), "", "application/json")->status ==
      200);
  now += 31 * kMinute;
  server.server().expire_sessions();
  now += 91 * kDay;  // sessions are kept 90 days, calls 365
  CHECK(server.server().purge(true) >= 1);
  const auto stored = inspect()->find_call("call-1");
  REQUIRE(stored);
  CHECK(stored->session_id.empty());
  CHECK(stored->source == "google-ads");
  CHECK(stored->campaign_json.find("google") != std::string::npos);
  CHECK(erased_from_disk(db, session));
}

TEST_CASE_METHOD(DutiesFixture,
                 "Server-level audit entries and rows of sites no longer configured are purged too",
                 "[privacy][retention]") {
  REQUIRE(c.Get("/v1/admin/sites", {{"Authorization", "Bearer reports-key"}})->status ==
          200);  // audited without a site
  {
    auto store = inspect();
    store->append_audit({now, "ops", "report", "gone-site", "{}"});
    CHECK(store->insert_call(
        {"gone-call", "gone-site", "+49309999999", "completed", 10, now, "", "", "unattributed"}));
    REQUIRE(store->audit_entries(0, now + 1).size() == 2);
  }
  now += 366 * kDay;  // past the default retention of audit entries and calls (365 days)
  CHECK(server.server().purge(true) >= 3);
  auto store = inspect();
  CHECK(store->audit_entries(0, kStart + 1).empty());
  CHECK_FALSE(store->find_call("gone-call"));
}

TEST_CASE_METHOD(DutiesFixture, "A clock that jumps neither deletes early nor keeps forever",
                 "[privacy][retention][clock]") {
  const std::string session = body_of(new_session(c)).find("session")->as_string();
  REQUIRE(c.Delete(("/v1/sessions/" + session).c_str())->status == 204);
  const std::string ended = body_of(new_session(c)).find("session")->as_string();
  now += 31 * kMinute;
  server.server().expire_sessions();  // ended at about kStart: purged 90 days later
  CHECK(server.server().purge() == 0);

  SECTION("forward: the purge holds until the operator accepts the clock") {
    now += 400 * kDay;
    CHECK(server.server().purge() == 0);
    CHECK(server.logs().find("purge held") != std::string::npos);
    CHECK(inspect()->find_session(ended));
    CHECK(server.server().purge(true) >= 1);
    CHECK_FALSE(inspect()->find_session(ended));
  }
  SECTION("backward: the purge's time goes on from where it was") {
    now -= 3650 * kDay;  // a clock reset ten years back
    CHECK(server.server().purge() == 0);
    CHECK(inspect()->find_session(ended));
    // 91 days pass on the wrong clock, purged every other day: the session is 91 days old.
    std::int64_t purged = 0;
    for (int day = 0; day < 91; day += 2) {
      now += 2 * kDay;
      purged += server.server().purge();
    }
    CHECK(purged >= 1);
    CHECK_FALSE(inspect()->find_session(ended));
    CHECK(server.logs().find("clock differs from the purge's time") != std::string::npos);
  }
}
