// libFuzzer target for the time zone files the server reads (server/time_zone.cpp): TZif
// bytes, or, for input that does not start with "TZif", a POSIX TZ string as a TZif footer
// holds it. Invariants: a refused file says why; an accepted one has offsets within RFC
// 8536's range and transitions in ascending order; the offset at each transition is the one
// it sets and the second before it has the one before; before the first transition the
// initial offset holds; after the last, the footer's rule gives its standard or daylight
// offset and the same offset 400 years later (the calendar's cycle).

#include <limits>
#include <string>

#include "fuzz_check.hpp"
#include "time_zone.hpp"

namespace {

using callswap::server::PosixTimeZone;
using callswap::server::TimeZone;
using fuzz::require;

constexpr std::int64_t kCycle = 146'097LL * 86'400;

bool offset_in_range(int offset) {
  return offset >= -89'999 && offset <= 93'599;
}

// Instants the input's last bytes pick, and the edges.
std::int64_t instant(std::string_view input, std::size_t i) {
  std::uint64_t v = 0x9e3779b97f4a7c15ULL * (i + 1);
  for (std::size_t k = 0; k < 8 && k < input.size(); ++k)
    v = (v << 8 | static_cast<unsigned char>(input[input.size() - 1 - k])) ^ (v >> 56);
  return static_cast<std::int64_t>(v);
}

void check_rule(const PosixTimeZone& rule, std::string_view input) {
  for (std::size_t i = 0; i < 8; ++i) {
    const std::int64_t t = instant(input, i);
    const int offset = rule.offset_at(t);
    require(offset == rule.std_offset || (rule.has_dst && offset == rule.dst_offset));
    if (t < std::numeric_limits<std::int64_t>::max() - kCycle)
      require(rule.offset_at(t + kCycle) == offset);
  }
  for (const std::int64_t t : {std::numeric_limits<std::int64_t>::min(), std::int64_t{0},
                               std::numeric_limits<std::int64_t>::max()}) {
    const int offset = rule.offset_at(t);
    require(offset == rule.std_offset || (rule.has_dst && offset == rule.dst_offset));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::text(data, size);
  if (!input.starts_with("TZif")) {
    if (const auto rule = callswap::server::parse_posix_time_zone(input)) {
      require(rule->std_offset >= -89'999 && rule->std_offset <= 89'999);
      require(!rule->has_dst || (rule->dst_offset >= -89'999 && rule->dst_offset <= 89'999));
      check_rule(*rule, input);
    }
    return 0;
  }
  std::string error;
  const auto zone = TimeZone::from_tzif(input, error);
  if (!zone) {
    require(!error.empty());
    return 0;
  }
  require(offset_in_range(zone->initial_offset()));
  const auto& transitions = zone->transitions();
  int before = zone->initial_offset();
  for (std::size_t i = 0; i < transitions.size(); ++i) {
    const TimeZone::Transition& tr = transitions[i];
    require(offset_in_range(tr.offset));
    require(i == 0 || transitions[i - 1].at < tr.at);
    require(zone->offset_at(tr.at) == tr.offset);
    if (tr.at != std::numeric_limits<std::int64_t>::min())
      require(zone->offset_at(tr.at - 1) == before);
    before = tr.offset;
  }
  if (!transitions.empty() && transitions.front().at != std::numeric_limits<std::int64_t>::min())
    require(zone->offset_at(std::numeric_limits<std::int64_t>::min()) == zone->initial_offset());
  if (zone->rule()) {
    check_rule(*zone->rule(), input);
    for (std::size_t i = 0; i < 8; ++i) {
      const std::int64_t t = instant(input, i);
      if (transitions.empty() || t > transitions.back().at)
        require(zone->offset_at(t) == zone->rule()->offset_at(t));
    }
  } else if (!transitions.empty()) {
    require(zone->offset_at(std::numeric_limits<std::int64_t>::max()) == transitions.back().offset);
  }
  return 0;
}
