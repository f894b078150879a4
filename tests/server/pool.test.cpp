#include "pool.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <string>

using callswap::server::Pool;
using callswap::server::PoolSettings;

namespace {

std::vector<callswap::PhoneNumber> numbers(int count) {
  std::vector<callswap::PhoneNumber> out;
  for (int i = 0; i < count; ++i)
    out.push_back(*callswap::parse_e164("+4930555" + std::to_string(10000 + i)));
  return out;
}

PoolSettings settings(
    PoolSettings::WhenExhausted policy = PoolSettings::WhenExhausted::static_number) {
  PoolSettings s;
  s.hold_ms = 30 * 60'000;
  s.cooldown_ms = 15 * 60'000;
  s.when_exhausted = policy;
  return s;
}

constexpr callswap::Millis kMinute = 60'000;

}  // namespace

TEST_CASE("Each session gets its own number and keeps it", "[pool]") {
  Pool pool(numbers(3), settings());
  const auto a = pool.assign("a", 0);
  const auto b = pool.assign("b", 0);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->number == "+493055510000");  // in the order given
  CHECK(b->number == "+493055510001");
  CHECK(pool.assign("a", kMinute)->number == a->number);  // asking again: the same number
  CHECK(pool.number_of("b") == b->number);
  CHECK(pool.stats(kMinute).active == 2);
}

TEST_CASE("Exhaustion: the static number, or the least active session's number, always counted",
          "[pool]") {
  SECTION("static number") {
    Pool pool(numbers(2), settings());
    pool.assign("a", 0);
    pool.assign("b", 0);
    CHECK_FALSE(pool.assign("c", kMinute));
    CHECK(pool.stats(kMinute).exhausted == 1);
    CHECK(pool.stats(kMinute).reused == 0);
  }
  SECTION("reuse the least recently active") {
    Pool pool(numbers(2), settings(PoolSettings::WhenExhausted::reuse_least_active));
    pool.assign("a", 0);
    pool.assign("b", 0);
    pool.touch("a", 5 * kMinute);  // b is now the least active
    const auto c = pool.assign("c", 6 * kMinute);
    REQUIRE(c);
    CHECK(c->displaced_session == "b");
    CHECK_FALSE(pool.number_of("b"));
    CHECK(pool.number_of("c") == c->number);
    CHECK(pool.stats(6 * kMinute).reused == 1);
    CHECK(pool.stats(6 * kMinute).exhausted == 1);
  }
}

TEST_CASE("A released number rests for the cool-down; the least recently released goes first",
          "[pool]") {
  Pool pool(numbers(3), settings());
  const auto a = pool.assign("a", 0)->number;
  const auto b = pool.assign("b", 0)->number;
  const auto c = pool.assign("c", 0)->number;
  CHECK(pool.release("b", 1 * kMinute));
  CHECK(pool.release("a", 2 * kMinute));
  CHECK_FALSE(pool.release("a", 2 * kMinute));  // twice: nothing more
  CHECK_FALSE(pool.assign("d", 10 * kMinute));  // both still resting
  CHECK(pool.stats(10 * kMinute).cooling == 2);
  CHECK(pool.assign("d", 16 * kMinute)->number == b);  // b rested since minute 1
  CHECK_FALSE(pool.assign("e", 16 * kMinute));         // a rests until minute 17
  CHECK(pool.assign("e", 17 * kMinute)->number == a);
  CHECK(pool.number_of("c") == c);
}

TEST_CASE("Idle sessions let their numbers go; activity keeps them", "[pool]") {
  Pool pool(numbers(2), settings());
  pool.assign("a", 0);
  pool.assign("b", 0);
  pool.touch("b", 20 * kMinute);
  CHECK(pool.expire(29 * kMinute).empty());
  CHECK(pool.expire(31 * kMinute) ==
        std::vector<std::pair<std::string, callswap::Millis>>{{"a", 30 * kMinute}});
  CHECK(pool.stats(31 * kMinute).active == 1);
  // a's number was last in use at minute 0, so its cool-down ended at minute 45.
  CHECK_FALSE(pool.assign("c", 44 * kMinute));
  CHECK(pool.assign("d", 45 * kMinute));
  CHECK_FALSE(pool.touch("a", 46 * kMinute));
}

TEST_CASE("State is restored after a restart", "[pool]") {
  Pool pool(numbers(3), settings());
  pool.restore_active("a", "+493055510002", 5 * kMinute);
  pool.restore_released("+493055510000", 10 * kMinute);
  CHECK(pool.number_of("a") == "+493055510002");
  CHECK(pool.assign("b", 11 * kMinute)->number == "+493055510001");  // never held: free
  CHECK_FALSE(pool.assign("c", 11 * kMinute));                       // 10000 is resting
  CHECK(pool.assign("c", 25 * kMinute)->number == "+493055510000");
  pool.restore_active("x", "+490000000000", 0);  // a number not in the pool is ignored
  CHECK_FALSE(pool.number_of("x"));
}

TEST_CASE("Random traffic never gives one number to two live sessions", "[pool][property]") {
  Pool pool(numbers(50), settings(PoolSettings::WhenExhausted::reuse_least_active));
  std::mt19937 random(7);
  std::set<std::string> live;
  callswap::Millis now = 0;
  for (int step = 0; step < 20000; ++step) {
    now += static_cast<callswap::Millis>(random() % 30'000);
    for (const auto& ended : pool.expire(now))
      live.erase(ended.first);  // first, as the server does
    const std::string session = "s" + std::to_string(random() % 300);
    switch (random() % 4) {
      case 0:
      case 1:
        if (auto a = pool.assign(session, now)) {
          live.insert(session);
          if (!a->displaced_session.empty()) live.erase(a->displaced_session);
        }
        break;
      case 2:
        pool.touch(session, now);
        break;
      case 3:
        pool.release(session, now);
        live.erase(session);
        break;
    }
    if (step % 100 == 0) {
      std::set<std::string> held;
      for (const auto& s : live) {
        const auto n = pool.number_of(s);
        REQUIRE(n);
        REQUIRE(held.insert(*n).second);  // no number twice
      }
      REQUIRE(pool.stats(now).active == live.size());
      REQUIRE(pool.stats(now).active + pool.stats(now).cooling + pool.stats(now).free == 50);
    }
  }
  CHECK(pool.stats(now).peak_active <= 50);
}
