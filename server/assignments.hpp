#pragma once
// Who decides which session holds which tracking number. Two implementations pass the same
// contract tests: pools in this process's memory, written through to the store (SQLite: one
// serving process, so memory is the truth and the store the record), and pools in the
// database (PostgreSQL: several serving instances, so only the database may decide; each
// operation is one transaction that locks the rows it hands out).

#include <callswap/millis.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pool.hpp"
#include "store.hpp"

namespace callswap::server {

/// One configured pool: its numbers (E.164) and its rules.
struct PoolSpec {
  std::string site;
  std::string pool;
  std::vector<std::string> numbers;
  PoolSettings settings;
};

class Assignments {
 public:
  virtual ~Assignments() = default;

  /// A number of `session.pool` for the new session `session` (its `number` is filled in),
  /// stored before this returns; nullopt when the pool is exhausted and the policy is the
  /// static number, or the pool is unknown. Idle sessions of the pool end first.
  virtual std::optional<Assignment> assign(SessionRow session, Millis now) = 0;
  /// A heartbeat: the session keeps its number (stored before this returns). False if it
  /// holds none (ended, expired, erased).
  virtual bool touch(const SessionRow& session, Millis now) = 0;
  /// Erases sessions (a visitor's withdrawal) and gives their numbers back to their pools;
  /// returns once the erasure is durable.
  virtual void erase(const Store::Erasure& erasure) = 0;
  /// A data-subject erasure is about to erase `session` through the store: its number goes
  /// back to its pool (the store's erasure records the release for the cool-down).
  virtual void release_for_erasure(const SessionRow& session, Millis now) = 0;
  /// Ends every session idle for longer than its pool's hold.
  virtual void expire(Millis now) = 0;
  /// A pool's state now (exhausted and reused count this instance's assignments).
  [[nodiscard]] virtual PoolStats stats(const std::string& site, const std::string& pool,
                                        Millis now) = 0;
};

/// Pools in memory, rebuilt from the store's sessions and releases, every change written to
/// the store in the pools' order (one serving process per store).
std::unique_ptr<Assignments> memory_assignments(std::vector<PoolSpec> pools, Store& store);

}  // namespace callswap::server
