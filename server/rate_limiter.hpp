#pragma once
// Rate limiting per client address on the public endpoints: a token bucket per
// address, in memory only. Addresses are never stored, logged or written anywhere else, and
// idle buckets are dropped.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace callswap::server {

class RateLimiter {
 public:
  /// `per_minute` tokens are added each minute, up to `burst`; 0 disables the limit.
  RateLimiter(int per_minute, int burst) : per_minute_(per_minute), burst_(burst) {}

  /// Takes a token for `client` at `now_ms`. False: over the limit; `retry_after_s` says when
  /// the next token comes.
  bool allow(const std::string& client, std::int64_t now_ms, int& retry_after_s);

 private:
  struct Bucket {
    double tokens;
    std::int64_t updated_ms;
  };
  int per_minute_;
  int burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::int64_t last_sweep_ms_ = 0;
};

}  // namespace callswap::server
