#pragma once
/// \file The visitor's session as a state machine the browser shim drives: it feeds events
/// in (consent, server answers, time, activity, visibility) and carries the actions out
/// (swap, request, store, erase, release). Time is passed in, never read, so tests move it.
///
///   static ──consent──▶ requesting ──number──▶ dynamic
///     ▲                   │ exhausted, error,     │ withdrawal, idle timeout,
///     └───────────────────┴ timeout, withdrawal ◀─┘ session gone

#include <callswap/config.hpp>
#include <callswap/json.hpp>
#include <callswap/millis.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace callswap {

enum class SessionMode { static_numbers, requesting, dynamic_number };

/// What the browser keeps between pages, only with consent.
struct StoredSession {
  std::string id;
  std::string number;  ///< E.164
  std::string source;
  Millis expires_at = 0;     ///< the server's hold ends (extended by heartbeats)
  Millis last_activity = 0;  ///< for the idle timeout
};

struct SessionEvent {
  enum class Kind {
    start,         ///< page load: `consent`, `stored` (if any)
    consent,       ///< the consent decision changed: `consent`
    assigned,      ///< server gave a number: `session_id`, `number`, `expires_in_ms`
    no_number,     ///< server gave none: `reason` ("pool_exhausted", "error")
    heartbeat_ok,  ///< `expires_in_ms`
    session_gone,  ///< the server no longer knows the session
    activity,      ///< the visitor did something
    visibility,    ///< `visible`
    tick,          ///< a timer the machine asked for fired
  };
  Kind kind = Kind::tick;
  Millis now = 0;
  bool consent = false;
  bool visible = true;
  std::string session_id;
  std::string number;
  Millis expires_in_ms = 0;
  std::string reason;
  std::optional<StoredSession> stored;
};

struct SessionAction {
  enum class Kind {
    show_static,     ///< put the source's static number on the page
    show_dynamic,    ///< put `number` on the page
    request_number,  ///< POST a session for `source`
    send_heartbeat,  ///< for `session_id`
    release,         ///< DELETE `session_id` (also a number that arrived too late)
    store,           ///< write `stored`
    erase,           ///< delete every cookie and key the SDK wrote
  };
  Kind kind;
  std::string session_id;
  std::string number;
  std::string source;
  std::optional<StoredSession> stored;
};

class SessionMachine {
 public:
  SessionMachine(SessionConfig config, std::string source);

  /// Handles one event and returns what to do, in order.
  std::vector<SessionAction> handle(const SessionEvent& event);

  [[nodiscard]] SessionMode mode() const { return mode_; }
  /// When to send the next `tick`, if anything is pending.
  [[nodiscard]] std::optional<Millis> next_wakeup() const;
  [[nodiscard]] const std::optional<StoredSession>& session() const { return session_; }

  /// First retry after a failed request; doubles up to kMaxBackoff.
  static constexpr Millis kFirstBackoff = 30'000;
  static constexpr Millis kMaxBackoff = 15 * 60'000;

 private:
  void request(Millis now, std::vector<SessionAction>& out);
  void fall_back(bool release_session, bool always_erase, std::vector<SessionAction>& out);
  void fail_request(Millis now, std::vector<SessionAction>& out);
  void adopt(StoredSession session, Millis now, std::vector<SessionAction>& out);
  [[nodiscard]] bool live(const StoredSession& s, Millis now) const;

  SessionConfig config_;
  std::string source_;
  SessionMode mode_ = SessionMode::static_numbers;
  bool consent_ = false;
  bool visible_ = true;
  bool showing_dynamic_ = false;
  std::optional<StoredSession> session_;
  Millis request_deadline_ = 0;
  Millis next_heartbeat_ = 0;
  Millis retry_at_ = 0;
  Millis backoff_ = 0;
};

const char* to_string(SessionMode mode);

/// JSON forms for the wasm boundary.
Expected<SessionEvent> session_event_from_json(const json::Value& event);
json::Value to_json(const SessionAction& action);
json::Value to_json(const StoredSession& session);
std::optional<StoredSession> stored_session_from_json(const json::Value& value);

}  // namespace callswap
