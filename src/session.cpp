#include <algorithm>
#include <callswap/session.hpp>

namespace callswap {

SessionMachine::SessionMachine(SessionConfig config, std::string source)
    : config_(std::move(config)), source_(std::move(source)) {}

bool SessionMachine::live(const StoredSession& s, Millis now) const {
  return !s.id.empty() && now < s.expires_at &&
         now - s.last_activity < config_.idle_timeout_seconds * Millis{1000};
}

void SessionMachine::request(Millis now, std::vector<SessionAction>& out) {
  if (now < retry_at_) return;  // backing off after a failure; a tick comes at retry_at_
  mode_ = SessionMode::requesting;
  request_deadline_ = now + config_.request_timeout_ms;
  out.push_back({SessionAction::Kind::request_number, {}, {}, source_, std::nullopt});
}

void SessionMachine::adopt(StoredSession session, Millis now, std::vector<SessionAction>& out) {
  mode_ = SessionMode::dynamic_number;
  session.last_activity = std::max(session.last_activity, now);
  session_ = std::move(session);
  backoff_ = 0;
  retry_at_ = 0;
  next_heartbeat_ = now + config_.heartbeat_seconds * Millis{1000};
  out.push_back({SessionAction::Kind::store, {}, {}, {}, session_});
  out.push_back({SessionAction::Kind::show_dynamic, session_->id, session_->number,
                 session_->source, std::nullopt});
  showing_dynamic_ = true;
}

// Back to the static number: the session ends, and what was stored goes.
void SessionMachine::fall_back(bool release_session, bool always_erase,
                               std::vector<SessionAction>& out) {
  if (release_session && session_)
    out.push_back({SessionAction::Kind::release, session_->id, {}, {}, std::nullopt});
  if (always_erase || session_)
    out.push_back({SessionAction::Kind::erase, {}, {}, {}, std::nullopt});
  if (showing_dynamic_)
    out.push_back({SessionAction::Kind::show_static, {}, {}, source_, std::nullopt});
  showing_dynamic_ = false;
  session_.reset();
  mode_ = SessionMode::static_numbers;
}

// No number this time: stay static and retry later, each time waiting twice as long.
void SessionMachine::fail_request(Millis now, std::vector<SessionAction>& out) {
  backoff_ = backoff_ == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  retry_at_ = now + backoff_;
  mode_ = SessionMode::static_numbers;
  if (showing_dynamic_)
    out.push_back({SessionAction::Kind::show_static, {}, {}, source_, std::nullopt});
  showing_dynamic_ = false;
}

std::vector<SessionAction> SessionMachine::handle(const SessionEvent& e) {
  std::vector<SessionAction> out;
  using K = SessionEvent::Kind;
  switch (e.kind) {
    case K::start:
      consent_ = e.consent;
      visible_ = e.visible;
      if (!consent_) {
        // Without consent nothing stored may be read or kept; anything found is erased.
        if (e.stored) out.push_back({SessionAction::Kind::erase, {}, {}, {}, std::nullopt});
        break;
      }
      if (e.stored && live(*e.stored, e.now) && e.stored->source == source_) {
        adopt(*e.stored, e.now, out);
      } else {
        if (e.stored) out.push_back({SessionAction::Kind::erase, {}, {}, {}, std::nullopt});
        request(e.now, out);
      }
      break;

    case K::consent:
      if (e.consent == consent_) break;
      consent_ = e.consent;
      if (consent_) {
        retry_at_ = 0;  // a fresh consent is worth a fresh try
        backoff_ = 0;
        if (mode_ == SessionMode::static_numbers) request(e.now, out);
      } else {
        // Withdrawal: one release for the session, every key erased, the static number back.
        fall_back(true, true, out);
        retry_at_ = 0;
        backoff_ = 0;
      }
      break;

    case K::assigned:
      if (mode_ != SessionMode::requesting || !consent_) {
        // Too late (timed out or consent withdrawn meanwhile): give it straight back.
        out.push_back({SessionAction::Kind::release, e.session_id, {}, {}, std::nullopt});
        break;
      }
      adopt(StoredSession{e.session_id, e.number, source_, e.now + e.expires_in_ms, e.now}, e.now,
            out);
      break;

    case K::no_number:
      if (mode_ == SessionMode::requesting) fail_request(e.now, out);
      break;

    case K::heartbeat_ok:
      if (mode_ == SessionMode::dynamic_number && session_) {
        session_->expires_at = e.now + e.expires_in_ms;
        out.push_back({SessionAction::Kind::store, {}, {}, {}, session_});
      }
      break;

    case K::session_gone:
      if (mode_ == SessionMode::dynamic_number) {
        // The server let the number go (expired, released elsewhere): start over.
        fall_back(false, false, out);
        if (consent_) request(e.now, out);
      }
      break;

    case K::activity:
      if (mode_ == SessionMode::dynamic_number && session_) {
        if (!live(*session_, e.now)) {
          fall_back(true, false, out);
          if (consent_) request(e.now, out);
        } else {
          session_->last_activity = e.now;
        }
      } else if (mode_ == SessionMode::static_numbers && consent_) {
        request(e.now, out);
      }
      break;

    case K::visibility:
      visible_ = e.visible;
      if (visible_ && mode_ == SessionMode::dynamic_number && e.now >= next_heartbeat_ &&
          session_) {
        next_heartbeat_ = e.now + config_.heartbeat_seconds * Millis{1000};
        out.push_back({SessionAction::Kind::send_heartbeat, session_->id, {}, {}, std::nullopt});
      }
      break;

    case K::tick:
      if (mode_ == SessionMode::requesting && e.now >= request_deadline_) {
        fail_request(e.now, out);  // the server never answered
      } else if (mode_ == SessionMode::dynamic_number && session_) {
        if (!live(*session_, e.now)) {
          fall_back(true, false, out);  // idle timeout: the visit is over
        } else if (visible_ && e.now >= next_heartbeat_) {
          next_heartbeat_ = e.now + config_.heartbeat_seconds * Millis{1000};
          out.push_back({SessionAction::Kind::send_heartbeat, session_->id, {}, {}, std::nullopt});
        }
      } else if (mode_ == SessionMode::static_numbers && consent_ && retry_at_ != 0 &&
                 e.now >= retry_at_) {
        request(e.now, out);
      }
      break;
  }
  return out;
}

std::optional<Millis> SessionMachine::next_wakeup() const {
  switch (mode_) {
    case SessionMode::requesting:
      return request_deadline_;
    case SessionMode::dynamic_number: {
      if (!session_) return std::nullopt;
      const Millis idle_end = session_->last_activity + config_.idle_timeout_seconds * Millis{1000};
      const Millis end = std::min(idle_end, session_->expires_at);
      return visible_ ? std::min(end, next_heartbeat_) : end;
    }
    case SessionMode::static_numbers:
      if (consent_ && retry_at_ != 0) return retry_at_;
      return std::nullopt;
  }
  return std::nullopt;
}

const char* to_string(SessionMode mode) {
  switch (mode) {
    case SessionMode::static_numbers:
      return "static";
    case SessionMode::requesting:
      return "requesting";
    case SessionMode::dynamic_number:
      return "dynamic";
  }
  return "static";
}

namespace {

constexpr std::pair<std::string_view, SessionEvent::Kind> kEventKinds[] = {
    {"start", SessionEvent::Kind::start},
    {"consent", SessionEvent::Kind::consent},
    {"assigned", SessionEvent::Kind::assigned},
    {"no_number", SessionEvent::Kind::no_number},
    {"heartbeat_ok", SessionEvent::Kind::heartbeat_ok},
    {"session_gone", SessionEvent::Kind::session_gone},
    {"activity", SessionEvent::Kind::activity},
    {"visibility", SessionEvent::Kind::visibility},
    {"tick", SessionEvent::Kind::tick}};

constexpr std::string_view kActionKinds[] = {
    "show_static", "show_dynamic", "request_number", "send_heartbeat", "release", "store", "erase"};

std::string string_member(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_string() ? m->as_string() : std::string();
}

// Milliseconds from a JSON number, if it is one a clock can hold: integers up to 2^53
// (far beyond any date), so converting never overflows.
std::optional<Millis> to_millis(const json::Value* m) {
  if (!m || !m->is_number()) return std::nullopt;
  const double value = m->as_number();
  if (!(value >= -9007199254740992.0 && value <= 9007199254740992.0))
    return std::nullopt;  // also NaN
  return static_cast<Millis>(value);
}

Millis number_member(const json::Value& v, std::string_view key) {
  return to_millis(v.find(key)).value_or(0);
}

}  // namespace

std::optional<StoredSession> stored_session_from_json(const json::Value& v) {
  if (!v.is_object()) return std::nullopt;
  StoredSession s{string_member(v, "id"), string_member(v, "number"), string_member(v, "source"),
                  number_member(v, "expires_at"), number_member(v, "last_activity")};
  if (s.id.empty() || s.number.empty()) return std::nullopt;
  return s;
}

json::Value to_json(const StoredSession& s) {
  json::Object o;
  o.set("id", s.id);
  o.set("number", s.number);
  o.set("source", s.source);
  o.set("expires_at", static_cast<double>(s.expires_at));
  o.set("last_activity", static_cast<double>(s.last_activity));
  return o;
}

Expected<SessionEvent> session_event_from_json(const json::Value& v) {
  if (!v.is_object()) return Error{"an event must be an object"};
  SessionEvent e;
  const std::string kind = string_member(v, "kind");
  const auto found = std::find_if(std::begin(kEventKinds), std::end(kEventKinds),
                                  [&](const auto& k) { return k.first == kind; });
  if (found == std::end(kEventKinds)) return Error{"unknown event kind \"" + kind + "\""};
  e.kind = found->second;
  const auto now = to_millis(v.find("now"));
  if (!now) return Error{"an event needs \"now\" in milliseconds"};
  e.now = *now;
  if (const json::Value* c = v.find("consent"); c && c->is_bool()) e.consent = c->as_bool();
  if (const json::Value* vis = v.find("visible"); vis && vis->is_bool()) e.visible = vis->as_bool();
  e.session_id = string_member(v, "session_id");
  e.number = string_member(v, "number");
  e.expires_in_ms = number_member(v, "expires_in_ms");
  e.reason = string_member(v, "reason");
  if (const json::Value* stored = v.find("stored")) e.stored = stored_session_from_json(*stored);
  if (e.kind == SessionEvent::Kind::assigned &&
      (e.session_id.empty() || e.number.empty() || e.expires_in_ms <= 0)) {
    return Error{"an assigned event needs session_id, number and expires_in_ms"};
  }
  return e;
}

json::Value to_json(const SessionAction& a) {
  json::Object o;
  o.set("kind", kActionKinds[static_cast<int>(a.kind)]);
  if (!a.session_id.empty()) o.set("session_id", a.session_id);
  if (!a.number.empty()) o.set("number", a.number);
  if (!a.source.empty()) o.set("source", a.source);
  if (a.stored) o.set("stored", to_json(*a.stored));
  return o;
}

}  // namespace callswap
