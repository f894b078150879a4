#include "pool.hpp"

namespace callswap::server {

Pool::Pool(std::vector<PhoneNumber> numbers, PoolSettings settings) : settings_(settings) {
  slots_.reserve(numbers.size());
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const std::string e164 = numbers[i].e164();
    if (by_number_.count(e164)) continue;  // listed twice: one slot
    by_number_.emplace(e164, slots_.size());
    // Never-held numbers count as released at time 0, in the order given.
    released_.insert({0, slots_.size()});
    slots_.push_back(Slot{e164, {}, 0, 0});
  }
}

void Pool::hold(std::size_t slot, const std::string& session, Millis now) {
  Slot& s = slots_[slot];
  released_.erase({s.released_at, slot});
  s.session = session;
  s.last_activity = now;
  active_.insert({now, slot});
  by_session_[session] = slot;
  peak_active_ = std::max(peak_active_, active_.size());
}

void Pool::let_go(std::size_t slot, Millis now) {
  Slot& s = slots_[slot];
  active_.erase({s.last_activity, slot});
  by_session_.erase(s.session);
  s.session.clear();
  s.released_at = now;
  released_.insert({now, slot});
}

std::optional<Assignment> Pool::assign(const std::string& session, Millis now) {
  if (auto held = by_session_.find(session); held != by_session_.end()) {
    touch(session, now);
    return Assignment{slots_[held->second].number, {}};
  }
  // The least recently released number, if its cool-down is over. Never-held numbers were
  // released at 0, so they go first.
  if (!released_.empty()) {
    const auto [released_at, slot] = *released_.begin();
    if (released_at == 0 || released_at + settings_.cooldown_ms <= now) {
      hold(slot, session, now);
      return Assignment{slots_[slot].number, {}};
    }
  }
  ++exhausted_;
  if (settings_.when_exhausted == PoolSettings::WhenExhausted::static_number || active_.empty()) {
    return std::nullopt;
  }
  // Overflow by reuse: the session idle the longest loses its number. Reported, because
  // a call on that number may now belong to either visit.
  ++reused_;
  const std::size_t slot = active_.begin()->second;
  std::string displaced = slots_[slot].session;
  let_go(slot, now);
  hold(slot, session, now);
  return Assignment{slots_[slot].number, std::move(displaced)};
}

bool Pool::touch(const std::string& session, Millis now) {
  const auto it = by_session_.find(session);
  if (it == by_session_.end()) return false;
  Slot& s = slots_[it->second];
  active_.erase({s.last_activity, it->second});
  s.last_activity = std::max(s.last_activity, now);
  active_.insert({s.last_activity, it->second});
  return true;
}

bool Pool::release(const std::string& session, Millis now) {
  const auto it = by_session_.find(session);
  if (it == by_session_.end()) return false;
  let_go(it->second, now);
  return true;
}

std::vector<std::pair<std::string, Millis>> Pool::expire(Millis now) {
  std::vector<std::pair<std::string, Millis>> ended;
  while (!active_.empty() && active_.begin()->first + settings_.hold_ms <= now) {
    const std::size_t slot = active_.begin()->second;
    // The hold ran out at the last activity plus the hold: the cool-down starts there.
    const Millis released_at = slots_[slot].last_activity + settings_.hold_ms;
    ended.emplace_back(slots_[slot].session, released_at);
    let_go(slot, released_at);
  }
  return ended;
}

std::optional<std::string> Pool::number_of(const std::string& session) const {
  const auto it = by_session_.find(session);
  if (it == by_session_.end()) return std::nullopt;
  return slots_[it->second].number;
}

std::optional<std::size_t> Pool::slot_of_number(const std::string& number) const {
  const auto it = by_number_.find(number);
  if (it == by_number_.end()) return std::nullopt;
  return it->second;
}

void Pool::restore_active(const std::string& session, const std::string& number,
                          Millis last_activity) {
  const auto slot = slot_of_number(number);
  if (!slot || !slots_[*slot].session.empty()) return;
  hold(*slot, session, last_activity);
}

void Pool::restore_released(const std::string& number, Millis released_at) {
  const auto slot = slot_of_number(number);
  if (!slot || !slots_[*slot].session.empty()) return;
  released_.erase({slots_[*slot].released_at, *slot});
  slots_[*slot].released_at = released_at;
  released_.insert({released_at, *slot});
}

PoolStats Pool::stats(Millis now) const {
  PoolStats s;
  s.size = slots_.size();
  s.active = active_.size();
  // A report, not a pool operation: counting the resting numbers is linear.
  for (const auto& [released_at, slot] : released_) {
    (released_at != 0 && released_at + settings_.cooldown_ms > now ? s.cooling : s.free)++;
  }
  s.peak_active = peak_active_;
  s.exhausted = exhausted_;
  s.reused = reused_;
  return s;
}

}  // namespace callswap::server
