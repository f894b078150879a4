// Data-subject rights, the audit log and the report against the real server and a real
// SQLite file: find by caller or session, access and export, erasure with an
// audit entry without personal data, restriction out of reports, rectification; bad input
// for every admin endpoint.

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto.hpp"
#include "report.hpp"
#include "server_fixture.hpp"

namespace {

const std::string kCaller = "+4915112345678";
const std::string kOtherCaller = "+4917699887766";

struct SubjectFixture {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server{config_with_keys(), dir.file("callswap.db"), now};
  httplib::Client c = server.client();
  const httplib::Headers dpo = {{"Authorization", "Bearer dpo-key"}};
  const httplib::Headers reports = {{"Authorization", "Bearer reports-key"}};

  // A visit with a dynamic number, then a call to that number from `caller`.
  std::string visit_and_call(const std::string& caller, const std::string& call_id,
                             int duration = 42) {
    const json::Value session = body_of(new_session(c));
    const std::string number = session.find("number")->as_string();
    now += kMinute;
    const auto r = post_call(
        c,
        R"({"call_id": ")" + call_id + R"(", "to": ")" + number + R"(", "from": ")" + caller +
            R"(", "status": "completed", "duration_seconds": )" + std::to_string(duration) + "}",
        now);
    REQUIRE(r);
    REQUIRE(r->status == 201);
    return session.find("session")->as_string();
  }
  httplib::Result subject(const std::string& action, const std::string& body) {
    return c.Post(("/v1/admin/subjects/" + action).c_str(), dpo, body, "application/json");
  }
};

}  // namespace

TEST_CASE_METHOD(SubjectFixture,
                 "Access and export: everything held about a caller, or about a session",
                 "[subjects]") {
  const std::string session = visit_and_call(kCaller, "call-1");
  visit_and_call(kOtherCaller, "call-2");
  now += kMinute;
  REQUIRE(post_call(c,
                    R"({"call_id": "call-3", "to": "+49301111113", "from": ")" + kCaller + R"("})",
                    now)
              ->status == 201);

  const json::Value by_caller = body_of(subject("access", R"({"caller": ")" + kCaller + R"("})"));
  CHECK(by_caller.find("found_by")->as_string() == "caller");
  const auto& calls = by_caller.find("calls")->as_array();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].find("call")->as_string() == "call-1");
  CHECK(calls[0].find("caller")->as_string() ==
        kCaller);  // opened for the export: it is the subject's own number
  CHECK_FALSE(calls[0].find("caller_masked")->as_bool());
  // A key without the "callers" scope sees the same export with the number masked.
  const json::Value masked =
      body_of(c.Post("/v1/admin/subjects/access", {{"Authorization", "Bearer support-key"}},
                     R"({"caller": ")" + kCaller + R"("})", "application/json"));
  const auto& masked_calls = masked.find("calls")->as_array();
  REQUIRE(masked_calls.size() == 2);
  CHECK(masked_calls[0].find("caller")->as_string() == "+49 151 *****678");
  CHECK(masked_calls[0].find("caller_masked")->as_bool());
  CHECK(masked.dump().find("12345678") == std::string::npos);
  CHECK(calls[0].find("source")->as_string() == "google-ads");
  CHECK(calls[0].find("attribution")->as_string() == "session");
  CHECK(calls[1].find("attribution")->as_string() == "static");
  const auto& sessions = by_caller.find("sessions")->as_array();
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].find("session")->as_string() == session);
  CHECK(sessions[0].find("landing_path")->as_string() == "/offer?utm_source=google");

  const json::Value by_session = body_of(subject("access", R"({"session": ")" + session + R"("})"));
  CHECK(by_session.find("calls")->as_array().size() == 1);
  CHECK(by_session.find("sessions")->as_array().size() == 1);

  // The CLI answers the same request the same way.
  const auto cli = server.server().subject(
      "access", *callswap::server::parse_json(R"({"caller": ")" + kCaller + R"("})"), "cli");
  CHECK(cli.status == 200);
  CHECK(cli.body.at("calls").size() == 2);
}

TEST_CASE_METHOD(SubjectFixture,
                 "Erasure deletes the subject, frees a held number, and leaves an audit entry "
                 "without personal data",
                 "[subjects][audit]") {
  const std::string session = visit_and_call(kCaller, "call-1");
  visit_and_call(kOtherCaller, "call-2");
  const json::Value erased = body_of(subject("erase", R"({"caller": ")" + kCaller + R"("})"));
  CHECK(erased.find("erased_calls")->as_number() == 1);
  CHECK(erased.find("erased_sessions")->as_number() == 1);
  CHECK(error_code(subject("access", R"({"caller": ")" + kCaller + R"("})")) == "unknown_subject");
  CHECK(error_code(subject("access", R"({"session": ")" + session + R"("})")) == "unknown_subject");
  CHECK(
      c.Post(("/v1/sessions/" + session + "/heartbeat").c_str(), "", "application/json")->status ==
      404);
  // The other caller is untouched.
  CHECK(body_of(subject("access", R"({"caller": ")" + kOtherCaller + R"("})"))
            .find("calls")
            ->as_array()
            .size() == 1);

  auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
  const auto audit = store->audit_entries(0, kStart * 2);
  REQUIRE(audit.size() >= 2);
  const auto erase = std::find_if(audit.begin(), audit.end(),
                                  [](const auto& e) { return e.action == "subject.erase"; });
  REQUIRE(erase != audit.end());
  CHECK(erase->actor == "dpo");
  CHECK(erase->site == "acme");
  CHECK(erase->detail_json == R"({"found_by":"caller","sessions":1,"calls":1})");
  for (const auto& entry : audit) {
    CHECK(entry.detail_json.find(session) == std::string::npos);
    CHECK(entry.detail_json.find("4915112345678") == std::string::npos);
  }
  CHECK(erased_from_disk(dir.file("callswap.db"), session));
}

TEST_CASE_METHOD(
    SubjectFixture,
    "Restriction keeps the data but takes it out of reports; rectification corrects a call",
    "[subjects][report]") {
  visit_and_call(kCaller, "call-1", 60);
  visit_and_call(kOtherCaller, "call-2", 30);
  const auto total_calls = [&] {
    return body_of(c.Get("/v1/admin/sites/acme/report", reports))
        .find("totals")
        ->find("calls")
        ->as_number();
  };
  CHECK(total_calls() == 2);
  CHECK(body_of(subject("restrict", R"({"caller": ")" + kCaller + R"("})"))
            .find("calls")
            ->as_number() == 1);
  CHECK(total_calls() == 1);
  const json::Value restricted = body_of(subject("access", R"({"caller": ")" + kCaller + R"("})"));
  CHECK(restricted.find("calls")->as_array()[0].find("restricted")->as_bool());
  body_of(subject("unrestrict", R"({"caller": ")" + kCaller + R"("})"));
  CHECK(total_calls() == 2);

  const json::Value fixed = body_of(subject(
      "rectify", R"({"call": "call-2", "source": "newsletter", "classification": "support"})"));
  CHECK(fixed.find("calls")->as_array()[0].find("source")->as_string() == "newsletter");
  CHECK(fixed.find("calls")->as_array()[0].find("classification")->as_string() == "support");
  CHECK(error_code(subject("rectify", R"({"call": "call-2", "source": "nowhere"})")) ==
        "invalid_body");
  CHECK(error_code(subject("rectify", R"({"call": "call-2", "classification": "<b>"})")) ==
        "invalid_body");
  CHECK(error_code(subject("rectify", R"({"call": "no-such-call", "source": "direct"})")) ==
        "unknown_subject");
}

TEST_CASE_METHOD(
    SubjectFixture,
    "Bad input for every admin endpoint: missing key, wrong scope, unknown subject, malformed body",
    "[subjects][input]") {
  const std::string body = R"({"caller": ")" + kCaller + R"("})";
  CHECK(error_code(c.Post("/v1/admin/subjects/access", body, "application/json")) ==
        "unauthorized");
  CHECK(error_code(c.Post("/v1/admin/subjects/access", reports, body, "application/json")) ==
        "forbidden");
  CHECK(error_code(c.Get("/v1/admin/sites/acme/report", dpo)) == "forbidden");
  CHECK(error_code(c.Get("/v1/admin/sites/acme/report")) == "unauthorized");
  CHECK(error_code(c.Get("/v1/admin/sites", dpo)) == "forbidden");
  CHECK(error_code(subject("access", body)) == "unknown_subject");
  CHECK(error_code(subject("access", "{")) == "invalid_json");
  CHECK(error_code(subject("access", "[]")) == "invalid_body");
  CHECK(error_code(subject("access", "{}")) == "invalid_body");
  CHECK(error_code(subject("access", R"({"caller": "0151 1234"})")) == "invalid_body");
  CHECK(error_code(subject("access", R"({"session": "nope"})")) == "invalid_body");
  CHECK(error_code(subject(
            "access",
            R"({"caller": "+4915112345678", "session": "0123456789abcdef0123456789abcdef"})")) ==
        "invalid_body");
  CHECK(error_code(subject("access", R"({"caller": "+4915112345678", "email": "x"})")) ==
        "invalid_body");
  CHECK(error_code(subject("forget", body)) == "unknown_action");
  CHECK(error_code(subject("rectify", R"({"source": "direct"})")) == "invalid_body");
  CHECK(error_code(c.Get("/v1/admin/sites/acme/report?from=2026-13-01", reports)) ==
        "invalid_range");
  CHECK(error_code(c.Get("/v1/admin/sites/acme/report?from=2026-11-02&to=2026-11-01", reports)) ==
        "invalid_range");
  CHECK(error_code(c.Get("/v1/admin/sites/nowhere/report", reports)) == "unknown_site");
  // None of it reached the log with the caller's number in it.
  CHECK(server.logs().find("4915112345678") == std::string::npos);
}

TEST_CASE_METHOD(
    SubjectFixture,
    "The report: calls per day, source and campaign, answered, first-time callers, pools",
    "[report]") {
  visit_and_call(kCaller, "call-1", 60);
  visit_and_call(kCaller, "call-2", 0);  // the same caller again, missed
  visit_and_call(kOtherCaller, "call-3", 30);
  now += kMinute;
  REQUIRE(post_call(c,
                    R"({"call_id": "call-4", "to": "+49301111113", "from": ")" + kOtherCaller +
                        R"(", "status": "completed", "duration_seconds": 10})",
                    now)
              ->status == 201);
  const std::string today = callswap::server::utc_date(now);
  const json::Value report = body_of(
      c.Get(("/v1/admin/sites/acme/report?from=" + today + "&to=" + today).c_str(), reports));
  const json::Value& totals = *report.find("totals");
  CHECK(totals.find("calls")->as_number() == 4);
  CHECK(totals.find("answered")->as_number() == 3);
  CHECK(totals.find("missed")->as_number() == 1);
  CHECK(totals.find("duration_seconds")->as_number() == 100);
  CHECK(totals.find("first_time_callers")->as_number() == 2);
  CHECK(totals.find("by_attribution")->find("session")->as_number() == 3);
  CHECK(totals.find("by_attribution")->find("static")->as_number() == 1);
  const auto& days = report.find("days")->as_array();
  REQUIRE(days.size() == 1);
  CHECK(days[0].find("date")->as_string() == today);
  CHECK(days[0].find("by_source")->find("google-ads")->as_number() == 3);
  CHECK(days[0].find("by_source")->find("newsletter")->as_number() == 1);
  const auto& sources = report.find("sources")->as_array();
  REQUIRE(sources.size() == 2);
  CHECK(sources[0].find("source")->as_string() == "google-ads");
  CHECK(sources[0].find("campaign")->as_string() == "");
  CHECK(sources[0].find("first_time_callers")->as_number() == 2);
  const auto& pools = report.find("pools")->as_array();
  REQUIRE(pools.size() == 1);
  CHECK(pools[0].find("active")->as_number() == 3);
  CHECK(pools[0].find("recommended_size")->is_number());
  // Reading the report is an admin action too.
  auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
  const auto audit = store->audit_entries(0, kStart * 2);
  CHECK(std::any_of(audit.begin(), audit.end(),
                    [](const auto& e) { return e.action == "report" && e.actor == "reports"; }));
}

TEST_CASE("The audit log is purged after its own retention period", "[audit][retention]") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  std::string config = config_with_keys();
  config.insert(config.find(R"("attribution_grace_minutes")"),
                R"("retention": {"sessions_days": 30, "calls_days": 60, "audit_days": 10}, )");
  Running server(config, dir.file("callswap.db"), now);
  auto store = callswap::server::open_sqlite_store(dir.file("callswap.db"));
  store->append_audit({kStart - 11 * 24 * 3600'000LL, "dpo", "subject.access", "acme", "{}"});
  store->append_audit({kStart - 9 * 24 * 3600'000LL, "dpo", "subject.access", "acme", "{}"});
  server.server().purge();
  const auto left = store->audit_entries(0, kStart * 2);
  REQUIRE(left.size() == 1);
  CHECK(left[0].at == kStart - 9 * 24 * 3600'000LL);
}
