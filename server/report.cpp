#include "report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

namespace callswap::server {
namespace {

constexpr Millis kDay = 24 * 3600'000LL;

std::string campaign_of(const CallRow& call) {
  auto value = parse_json(call.campaign_json);
  if (!value) return {};
  const Json* campaign = member(*value, "utm_campaign");
  return campaign && campaign->is_string() ? campaign->get<std::string>() : std::string();
}

struct Tally {
  std::int64_t calls = 0;
  std::int64_t answered = 0;
  std::int64_t duration_seconds = 0;
  std::int64_t first_time_callers = 0;

  void add(const CallRow& call, bool first_time) {
    ++calls;
    if (server::answered(call)) ++answered;
    duration_seconds += call.duration_seconds;
    if (first_time) ++first_time_callers;
  }
  void write(Json& o) const {
    o["calls"] = calls;
    o["answered"] = answered;
    o["missed"] = calls - answered;
    o["duration_seconds"] = duration_seconds;
    o["average_duration_seconds"] =
        answered
            ? std::llround(static_cast<double>(duration_seconds) / static_cast<double>(answered))
            : 0LL;
    o["first_time_callers"] = first_time_callers;
  }
};

}  // namespace

bool answered(const CallRow& call) {
  return (call.status == "completed" && call.duration_seconds > 0) ||
         call.status == "in-progress" || call.status == "answered";
}

std::string utc_date(Millis at) {
  const std::chrono::sys_days day{std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{at}})};
  const std::chrono::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

std::optional<Millis> parse_utc_date(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < lengths[i]; ++k) {
      const char c = date[starts[i] + k];
      if (c < '0' || c > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year{parts[0]},
                                        std::chrono::month{static_cast<unsigned>(parts[1])},
                                        std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::sys_days{ymd}.time_since_epoch())
      .count();
}

Json call_report(const std::vector<CallRow>& calls, Millis from, Millis to,
                 const std::function<std::optional<Millis>(const std::string&)>& first_call_at) {
  Tally total;
  std::map<std::string, std::pair<Tally, std::map<std::string, std::int64_t>>>
      days;                                                      // date → tally, per source
  std::map<std::pair<std::string, std::string>, Tally> sources;  // (source, campaign)
  std::map<std::string, std::int64_t> attribution;
  std::set<std::string> first_seen;
  for (Millis day = from - from % kDay; day < to; day += kDay) days[utc_date(day)];
  for (const CallRow& call : calls) {
    // A first-time caller: this is the earliest call from that number the site still holds.
    bool first_time = false;
    if (!call.caller_hash.empty() && !first_seen.contains(call.caller_hash)) {
      const auto first = first_call_at(call.caller_hash);
      first_time = first && *first == call.started_at;
      if (first_time) first_seen.insert(call.caller_hash);
    }
    const std::string source = call.source.empty() ? "(unattributed)" : call.source;
    total.add(call, first_time);
    auto& day = days[utc_date(call.started_at)];
    day.first.add(call, first_time);
    ++day.second[source];
    sources[{source, campaign_of(call)}].add(call, first_time);
    ++attribution[call.attribution];
  }
  Json totals = Json::object();
  total.write(totals);
  Json by_attribution = Json::object();
  for (const char* kind : {"session", "static", "unattributed"})
    by_attribution[kind] = attribution[kind];
  totals["by_attribution"] = std::move(by_attribution);

  Json day_list = Json::array();
  for (const auto& [date, entry] : days) {
    Json o = Json::object();
    o["date"] = date;
    entry.first.write(o);
    Json by_source = Json::object();
    for (const auto& [source, count] : entry.second) by_source[source] = count;
    o["by_source"] = std::move(by_source);
    day_list.push_back(std::move(o));
  }
  Json source_list = Json::array();
  for (const auto& [key, tally] : sources) {
    Json o = Json::object();
    o["source"] = key.first;
    o["campaign"] = key.second;
    tally.write(o);
    source_list.push_back(std::move(o));
  }
  Json out = Json::object();
  out["totals"] = std::move(totals);
  out["days"] = std::move(day_list);
  out["sources"] = std::move(source_list);
  return out;
}

Json pool_report(std::string_view pool_id, const PoolStats& now,
                 const std::vector<PoolSample>& samples, double target_utilisation) {
  std::int64_t peak = 0;
  Json series = Json::array();
  for (const PoolSample& sample : samples) {
    peak = std::max(peak, sample.active);
    Json point = Json::object();
    point["at"] = sample.at;
    point["active"] = sample.active;
    point["utilisation"] = json_number(
        sample.size ? static_cast<double>(sample.active) / static_cast<double>(sample.size) : 0.0);
    series.push_back(std::move(point));
  }
  const std::int64_t exhausted =
      samples.size() >= 2 ? samples.back().exhausted_total - samples.front().exhausted_total : 0;
  peak = std::max<std::int64_t>(peak, static_cast<std::int64_t>(now.active));
  Json out = Json::object();
  out["pool"] = pool_id;
  out["size"] = now.size;
  out["active"] = now.active;
  out["cooling"] = now.cooling;
  out["free"] = now.free;
  out["peak_active"] = peak;
  out["exhausted_events"] = std::max<std::int64_t>(exhausted, 0);
  out["exhausted_since_start"] = now.exhausted;
  out["reused_since_start"] = now.reused;
  // Enough numbers that the peak fills the pool only to the target utilisation, and never
  // fewer than one; exhaustion says the real peak was higher than any sample saw.
  const double needed = std::ceil(static_cast<double>(peak) / target_utilisation);
  out["recommended_size"] = static_cast<std::int64_t>(
      std::max(1.0, needed + (exhausted > 0 || now.exhausted > 0 ? 1.0 : 0.0)));
  out["target_utilisation"] = json_number(target_utilisation);
  out["utilisation"] = std::move(series);
  return out;
}

}  // namespace callswap::server
