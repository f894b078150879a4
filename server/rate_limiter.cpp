#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace callswap::server {

bool RateLimiter::allow(const std::string& client, std::int64_t now_ms, int& retry_after_s) {
  if (per_minute_ <= 0) return true;
  const double per_ms = per_minute_ / 60'000.0;
  std::lock_guard lock(mutex_);
  // Drop buckets that have refilled completely: they hold nothing worth keeping.
  if (now_ms - last_sweep_ms_ > 60'000) {
    const auto full_after = static_cast<std::int64_t>(burst_ / per_ms);
    std::erase_if(buckets_,
                  [&](const auto& entry) { return now_ms - entry.second.updated_ms > full_after; });
    last_sweep_ms_ = now_ms;
  }
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{static_cast<double>(burst_), now_ms});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min<double>(
        burst_,
        b.tokens + static_cast<double>(std::max<std::int64_t>(0, now_ms - b.updated_ms)) * per_ms);
    b.updated_ms = std::max(b.updated_ms, now_ms);
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  retry_after_s = std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / per_ms / 1000.0)));
  return false;
}

}  // namespace callswap::server
