#pragma once
// A number pool: hands out tracking numbers, one per visitor session, holds each
// while its session is active, and lets a released number rest for a cool-down before it
// is handed out again, least recently released first. Plain C++ with time passed in: no
// HTTP, no SQLite (the store rebuilds a pool from its rows at start).
// Every operation is O(log n) in the pool size. Callers run expire(now) before the others,
// so idle sessions end (and the store hears of it) before their numbers are handed out.

#include <callswap/millis.hpp>
#include <callswap/phone_number.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace callswap::server {

struct PoolSettings {
  /// What happens when every number is held: the caller shows the source's static number,
  /// or the session idle the longest loses its number to the new one.
  enum class WhenExhausted { static_number, reuse_least_active };

  Millis hold_ms = 30 * 60'000;  ///< a session without activity for this long lets its number go
  Millis cooldown_ms =
      15 * 60'000;  ///< a released number rests this long, so a late call finds its visit
  WhenExhausted when_exhausted = WhenExhausted::static_number;
};

struct Assignment {
  std::string number;             ///< E.164
  std::string displaced_session;  ///< reuse_least_active: the session that lost the number
};

struct PoolStats {
  std::size_t size = 0;
  std::size_t active = 0;   ///< held by a session
  std::size_t cooling = 0;  ///< released, resting
  std::size_t free = 0;     ///< ready to hand out
  std::size_t peak_active = 0;
  std::uint64_t exhausted = 0;  ///< assignments that found no free number
  std::uint64_t reused = 0;     ///< of those, served by displacing the least active session
};

class Pool {
 public:
  Pool(std::vector<PhoneNumber> numbers, PoolSettings settings);

  /// A number for a new session, or nullopt when the pool is exhausted and the policy is
  /// the static number. A session that already holds a number gets the same one.
  std::optional<Assignment> assign(const std::string& session, Millis now);
  /// Activity or a heartbeat: the session keeps its number. False if it holds none.
  bool touch(const std::string& session, Millis now);
  /// The session ends: its number starts its cool-down. False if it held none.
  bool release(const std::string& session, Millis now);
  /// Ends every session idle for longer than the hold. Returns the sessions that ended, each
  /// with when its number was let go (its last activity plus the hold).
  std::vector<std::pair<std::string, Millis>> expire(Millis now);

  /// The number a session holds, if any.
  [[nodiscard]] std::optional<std::string> number_of(const std::string& session) const;
  [[nodiscard]] PoolStats stats(Millis now) const;
  [[nodiscard]] const PoolSettings& settings() const { return settings_; }

  /// Restores state after a restart (from the store): a held number, or a released one.
  void restore_active(const std::string& session, const std::string& number, Millis last_activity);
  void restore_released(const std::string& number, Millis released_at);

 private:
  struct Slot {
    std::string number;
    std::string session;  // empty when not held
    Millis last_activity = 0;
    Millis released_at = 0;  // 0: never held
  };
  using Key = std::pair<Millis, std::size_t>;  // (time, slot)

  void hold(std::size_t slot, const std::string& session, Millis now);
  void let_go(std::size_t slot, Millis now);
  [[nodiscard]] std::optional<std::size_t> slot_of_number(const std::string& number) const;

  PoolSettings settings_;
  std::vector<Slot> slots_;
  std::unordered_map<std::string, std::size_t> by_session_;
  std::unordered_map<std::string, std::size_t> by_number_;
  std::set<Key> released_;  // by release time: the least recently released first
  std::set<Key> active_;    // by last activity: the least active first
  std::size_t peak_active_ = 0;
  std::uint64_t exhausted_ = 0;
  std::uint64_t reused_ = 0;
};

}  // namespace callswap::server
