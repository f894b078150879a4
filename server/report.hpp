#pragma once
// What a site owner reads: calls per day, per source and campaign, answered,
// durations, first-time callers, and each pool's utilisation with a recommended size.
// Plain functions over rows and samples, so they are tested without HTTP.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_text.hpp"
#include "pool.hpp"
#include "store.hpp"

namespace callswap::server {

/// A call a person picked up: completed with a duration, or still going.
bool answered(const CallRow& call);

/// Calls with from <= started_at < to (restricted ones already left out by the store).
/// `first_call_at` answers when a caller (keyed hash) first called the site.
Json call_report(
    const std::vector<CallRow>& calls, Millis from, Millis to,
    const std::function<std::optional<Millis>(const std::string& caller_hash)>& first_call_at);

/// One pool: its state now, its utilisation over the samples, and the size at which its
/// peak would fill it only to `target_utilisation`.
Json pool_report(std::string_view pool_id, const PoolStats& now,
                 const std::vector<PoolSample>& samples, double target_utilisation);

/// "2026-11-29" for the UTC day containing `at`, and back (nullopt for anything else).
std::string utc_date(Millis at);
std::optional<Millis> parse_utc_date(std::string_view date);

}  // namespace callswap::server
