#include <callswap/session.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

using callswap::SessionAction;
using callswap::SessionEvent;
using callswap::SessionMachine;
using callswap::SessionMode;
using K = SessionEvent::Kind;

callswap::SessionConfig config() {
  callswap::SessionConfig c;
  c.idle_timeout_seconds = 1800;
  c.heartbeat_seconds = 60;
  c.request_timeout_ms = 4000;
  return c;
}

// The actions as words, e.g. "request_number:google" or "release:s1".
std::vector<std::string> words(const std::vector<SessionAction>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) {
    std::string w = callswap::to_json(a).find("kind")->as_string();
    if (!a.session_id.empty())
      w += ":" + a.session_id;
    else if (!a.source.empty() && a.kind == SessionAction::Kind::request_number)
      w += ":" + a.source;
    if (a.kind == SessionAction::Kind::show_dynamic) w += ":" + a.number;
    out.push_back(w);
  }
  return out;
}

SessionEvent event(K kind, callswap::Millis now) {
  SessionEvent e;
  e.kind = kind;
  e.now = now;
  return e;
}
SessionEvent consent(bool granted, callswap::Millis now) {
  SessionEvent e = event(K::consent, now);
  e.consent = granted;
  return e;
}
SessionEvent assigned(const char* id, callswap::Millis now) {
  SessionEvent e = event(K::assigned, now);
  e.session_id = id;
  e.number = "+49309876543";
  e.expires_in_ms = 1800'000;
  return e;
}

using W = std::vector<std::string>;

// A machine brought to the given mode by the ordinary path.
SessionMachine in_mode(SessionMode mode) {
  SessionMachine m(config(), "google");
  m.handle(event(K::start, 0));
  if (mode == SessionMode::static_numbers) return m;
  m.handle(consent(true, 1000));
  if (mode == SessionMode::requesting) return m;
  m.handle(assigned("s1", 1500));
  return m;
}

}  // namespace

TEST_CASE("Without consent nothing is requested, stored or kept", "[session]") {
  SessionMachine m(config(), "google");
  CHECK(words(m.handle(event(K::start, 0))).empty());
  CHECK(m.mode() == SessionMode::static_numbers);
  CHECK(words(m.handle(event(K::tick, 100'000))).empty());
  CHECK(words(m.handle(event(K::activity, 200'000))).empty());
  CHECK_FALSE(m.next_wakeup());
  SECTION("a session stored earlier is erased, not used") {
    SessionMachine again(config(), "google");
    SessionEvent start = event(K::start, 0);
    start.stored = callswap::StoredSession{"old", "+49309876543", "google", 1'000'000, 0};
    CHECK(words(again.handle(start)) == W{"erase"});
  }
}

TEST_CASE("Consent brings a dynamic number, kept and shown", "[session]") {
  SessionMachine m = in_mode(SessionMode::static_numbers);
  CHECK(words(m.handle(consent(true, 1000))) == W{"request_number:google"});
  CHECK(m.mode() == SessionMode::requesting);
  CHECK(m.next_wakeup() == 5000);
  CHECK(words(m.handle(assigned("s1", 1500))) == W{"store", "show_dynamic:s1:+49309876543"});
  CHECK(m.mode() == SessionMode::dynamic_number);
  CHECK(m.next_wakeup() == 61'500);
  SECTION("heartbeats while visible, none while hidden") {
    CHECK(words(m.handle(event(K::tick, 61'500))) == W{"send_heartbeat:s1"});
    SessionEvent hidden = event(K::visibility, 70'000);
    hidden.visible = false;
    CHECK(words(m.handle(hidden)).empty());
    CHECK(words(m.handle(event(K::tick, 130'000))).empty());
    SessionEvent visible = event(K::visibility, 140'000);
    CHECK(words(m.handle(visible)) == W{"send_heartbeat:s1"});
    SessionEvent ok = event(K::heartbeat_ok, 140'100);
    ok.expires_in_ms = 1800'000;
    CHECK(words(m.handle(ok)) == W{"store"});
    CHECK(m.session()->expires_at == 1'940'100);
  }
  SECTION("the idle timeout ends the visit") {
    CHECK(words(m.handle(event(K::activity, 600'000))).empty());
    SessionEvent ok = event(K::heartbeat_ok, 600'000);
    ok.expires_in_ms = 3600'000;  // the server's hold outlasts the idle timeout
    m.handle(ok);
    CHECK(words(m.handle(event(K::tick, 600'000 + 1800'000 - 1))) == W{"send_heartbeat:s1"});
    CHECK(words(m.handle(event(K::tick, 600'000 + 1800'000))) ==
          W{"release:s1", "erase", "show_static"});
    CHECK(m.mode() == SessionMode::static_numbers);
    SECTION("and the next activity starts a new one") {
      CHECK(words(m.handle(event(K::activity, 3'000'000))) == W{"request_number:google"});
    }
  }
  SECTION("a session the server lost is replaced") {
    CHECK(words(m.handle(event(K::session_gone, 10'000))) ==
          W{"erase", "show_static", "request_number:google"});
  }
}

TEST_CASE("A stored live session is used on the next page without a request", "[session]") {
  SessionMachine m(config(), "google");
  SessionEvent start = event(K::start, 100'000);
  start.consent = true;
  start.stored = callswap::StoredSession{"s9", "+49309876543", "google", 1'000'000, 90'000};
  CHECK(words(m.handle(start)) == W{"store", "show_dynamic:s9:+49309876543"});
  SECTION("but not an expired or idle one, nor one for another source") {
    for (auto stored :
         {callswap::StoredSession{"s9", "+49309876543", "google", 99'999, 90'000},
          callswap::StoredSession{"s9", "+49309876543", "google", 9'000'000, 100'000 - 1800'000},
          callswap::StoredSession{"s9", "+49309876543", "bing", 9'000'000, 90'000}}) {
      SessionMachine fresh(config(), "google");
      start.stored = stored;
      CHECK(words(fresh.handle(start)) == W{"erase", "request_number:google"});
    }
  }
}

TEST_CASE("Withdrawal in every state releases, erases and restores", "[session][withdrawal]") {
  SECTION("static: erase only") {
    SessionMachine m = in_mode(SessionMode::static_numbers);
    m.handle(consent(true, 500));
    m.handle(event(K::no_number, 600));
    CHECK(words(m.handle(consent(false, 700))) == W{"erase"});
    CHECK(m.mode() == SessionMode::static_numbers);
    CHECK_FALSE(m.next_wakeup());
  }
  SECTION("requesting: erase, and a number that arrives later goes straight back") {
    SessionMachine m = in_mode(SessionMode::requesting);
    CHECK(words(m.handle(consent(false, 1200))) == W{"erase"});
    CHECK(words(m.handle(assigned("late", 1300))) == W{"release:late"});
    CHECK(m.mode() == SessionMode::static_numbers);
  }
  SECTION("dynamic: one release, erase, static number") {
    SessionMachine m = in_mode(SessionMode::dynamic_number);
    CHECK(words(m.handle(consent(false, 2000))) == W{"release:s1", "erase", "show_static"});
    CHECK(m.mode() == SessionMode::static_numbers);
    CHECK_FALSE(m.session());
    CHECK(words(m.handle(event(K::tick, 100'000))).empty());
    CHECK(words(m.handle(consent(false, 100'001))).empty());  // said twice: nothing more
  }
}

TEST_CASE("A server that fails or never answers leaves the static number and backs off",
          "[session][failure]") {
  SessionMachine m = in_mode(SessionMode::requesting);
  SECTION("never answers") {
    CHECK(words(m.handle(event(K::tick, 4999))).empty());
    CHECK(words(m.handle(event(K::tick, 5000))).empty());
    CHECK(m.mode() == SessionMode::static_numbers);
    CHECK(m.next_wakeup() == 5000 + SessionMachine::kFirstBackoff);
    CHECK(words(m.handle(event(K::activity, 6000))).empty());  // no request storm
    CHECK(words(m.handle(event(K::tick, 35'000))) == W{"request_number:google"});
    CHECK(words(m.handle(event(K::tick, 39'000))).empty());
    CHECK(m.next_wakeup() == 39'000 + 2 * SessionMachine::kFirstBackoff);
  }
  SECTION("pool exhausted, repeatedly: the wait doubles up to a cap") {
    callswap::Millis now = 1000;
    callswap::Millis previous_wait = 0;
    for (int attempt = 0; attempt < 12; ++attempt) {
      SessionEvent none = event(K::no_number, now);
      none.reason = "pool_exhausted";
      m.handle(none);
      const callswap::Millis wait = *m.next_wakeup() - now;
      CHECK(wait >= previous_wait);
      CHECK(wait <= SessionMachine::kMaxBackoff);
      previous_wait = wait;
      now += wait;
      CHECK(words(m.handle(event(K::tick, now))) == W{"request_number:google"});
    }
    CHECK(previous_wait == SessionMachine::kMaxBackoff);
  }
  SECTION("a fresh consent is worth a fresh try") {
    m.handle(event(K::no_number, 1200));
    m.handle(consent(false, 1300));
    CHECK(words(m.handle(consent(true, 1400))) == W{"request_number:google"});
  }
}

TEST_CASE("Events and actions cross the wasm boundary as JSON", "[session][json]") {
  auto e = callswap::session_event_from_json(*callswap::json::parse(
      R"({"kind": "assigned", "now": 5, "session_id": "s1", "number": "+49309876543", "expires_in_ms": 1000})"));
  REQUIRE(e.ok());
  CHECK(e->kind == K::assigned);
  CHECK(e->expires_in_ms == 1000);
  CHECK_THAT(
      callswap::session_event_from_json(*callswap::json::parse(R"({"kind": "explode", "now": 1})"))
          .error()
          .message,
      Catch::Contains("unknown event kind \"explode\""));
  // Found by the fuzzer: a time no clock can hold is refused, not converted (undefined behaviour).
  CHECK_THAT(
      callswap::session_event_from_json(*callswap::json::parse(R"({"kind": "tick", "now": 5e43})"))
          .error()
          .message,
      Catch::Contains("\"now\" in milliseconds"));
  CHECK(
      callswap::session_event_from_json(
          *callswap::json::parse(R"({"kind": "heartbeat_ok", "now": 1, "expires_in_ms": -1e300})"))
          ->expires_in_ms == 0);
  CHECK_THAT(callswap::session_event_from_json(*callswap::json::parse(R"({"kind": "tick"})"))
                 .error()
                 .message,
             Catch::Contains("\"now\""));
  CHECK_THAT(
      callswap::session_event_from_json(*callswap::json::parse(R"({"kind": "assigned", "now": 1})"))
          .error()
          .message,
      Catch::Contains("needs session_id"));
  const SessionAction store{
      SessionAction::Kind::store, {}, {}, {}, callswap::StoredSession{"s1", "+4930", "g", 10, 5}};
  CHECK(
      callswap::to_json(store).dump() ==
      R"({"kind":"store","stored":{"id":"s1","number":"+4930","source":"g","expires_at":10,"last_activity":5}})");
}
