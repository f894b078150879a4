#include "assignments.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace callswap::server {
namespace {

// Pools in memory: the one serving process decides, the store records. One mutex guards all
// pools: pool operations are microseconds, and one lock keeps "decide, then submit the write"
// in the same order for the pools and the store.
class MemoryAssignments final : public Assignments {
 public:
  MemoryAssignments(std::vector<PoolSpec> specs, Store& store) : store_(store) {
    for (PoolSpec& spec : specs) {
      std::vector<PhoneNumber> numbers;
      for (const std::string& n : spec.numbers) {
        if (auto parsed = parse_e164(n)) numbers.push_back(std::move(*parsed));
      }
      pools_.emplace(std::pair{spec.site, spec.pool}, Pool(std::move(numbers), spec.settings));
    }
    // Rebuilt from the store: cool-downs, then the sessions still holding numbers.
    std::vector<std::string> sites;
    for (const auto& [key, pool] : pools_) {
      if (sites.empty() || sites.back() != key.first) sites.push_back(key.first);
    }
    for (const std::string& site : sites) {
      for (const auto& [number, released_at] : store_.last_releases(site)) {
        for (auto& [key, pool] : pools_) {
          if (key.first == site) pool.restore_released(number, released_at);
        }
      }
    }
    for (const SessionRow& row : store_.active_sessions()) {
      if (Pool* pool = find(row.site, row.pool))
        pool->restore_active(row.id, row.number, row.last_activity);
    }
  }

  std::optional<Assignment> assign(SessionRow session, Millis now) override {
    PendingWrites writes;
    std::optional<Assignment> assignment;
    {
      std::lock_guard lock(mutex_);
      Pool* pool = find(session.site, session.pool);
      if (!pool) return std::nullopt;
      expire_locked(now, writes);
      assignment = pool->assign(session.id, now);
      if (assignment && !assignment->displaced_session.empty())
        writes.add(store_.release_session(assignment->displaced_session, now));
      if (assignment) {
        session.number = assignment->number;
        writes.add(store_.insert_session(session));
      }
    }
    writes.wait();
    return assignment;
  }

  bool touch(const SessionRow& session, Millis now) override {
    PendingWrites writes;
    bool held = false;
    {
      std::lock_guard lock(mutex_);
      expire_locked(now, writes);
      Pool* pool = find(session.site, session.pool);
      held = pool && pool->touch(session.id, now);
      if (held) writes.add(store_.touch_session(session.id, now));
    }
    writes.wait();
    return held;
  }

  void erase(const Store::Erasure& erasure) override {
    Store::Committed erased;
    {
      std::lock_guard lock(mutex_);
      for (const std::string& id : erasure.session_ids) {
        for (auto& [key, pool] : pools_) {
          if (pool.release(id, erasure.at)) break;
        }
      }
      erased = store_.erase(erasure);
    }
    erased.get();
  }

  void release_for_erasure(const SessionRow& session, Millis now) override {
    std::lock_guard lock(mutex_);
    if (Pool* pool = find(session.site, session.pool)) pool->release(session.id, now);
  }

  void expire(Millis now) override {
    PendingWrites writes;
    {
      std::lock_guard lock(mutex_);
      expire_locked(now, writes);
    }
    writes.wait();
  }

  PoolStats stats(const std::string& site, const std::string& pool, Millis now) override {
    std::lock_guard lock(mutex_);
    const Pool* p = find(site, pool);
    return p ? p->stats(now) : PoolStats{};
  }

 private:
  // Store writes submitted while the mutex is held, so the store applies them in the pools'
  // order, and waited for once it is let go: the requests of one moment then share one
  // commit (the store's group commit) instead of queueing behind each other's.
  struct PendingWrites {
    std::vector<Store::Committed> committed;
    void add(Store::Committed c) { committed.push_back(std::move(c)); }
    void wait() {
      for (Store::Committed& c : committed) c.get();
    }
  };

  Pool* find(const std::string& site, const std::string& pool) {
    const auto it = pools_.find({site, pool});
    return it == pools_.end() ? nullptr : &it->second;
  }

  void expire_locked(Millis now, PendingWrites& writes) {
    for (auto& [key, pool] : pools_) {
      for (const auto& [session, released_at] : pool.expire(now))
        writes.add(store_.release_session(session, released_at));
    }
  }

  Store& store_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Pool> pools_;
};

}  // namespace

std::unique_ptr<Assignments> memory_assignments(std::vector<PoolSpec> pools, Store& store) {
  return std::make_unique<MemoryAssignments>(std::move(pools), store);
}

}  // namespace callswap::server
