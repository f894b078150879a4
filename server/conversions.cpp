#include "conversions.hpp"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "crypto.hpp"
#include "log_line.hpp"
#include "requests.hpp"

namespace callswap::server {
namespace {

constexpr Millis kDay = 24 * 3600'000LL;

std::string iso_time(Millis at) {
  return local_time(at, 0).replace(10, 1, "T") + "Z";
}

// The idempotency key of one event for one destination: the same on every report of the
// call, so a replayed or repeated webhook queues nothing new. A hash, so the provider's id
// does not travel in headers.
std::string event_key(const std::string& site, const std::string& destination,
                      const std::string& event, const std::string& call_id) {
  return sha256_hex(site + '\n' + destination + '\n' + event + '\n' + call_id).substr(0, 32);
}

// "https://host:port/path?q" → {"https://host:port", "/path?q"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

bool call_ended(const CallRow& call) {
  static constexpr std::string_view kEnded[] = {"completed", "busy",     "no-answer",
                                                "failed",    "canceled", "cancelled"};
  return std::find(std::begin(kEnded), std::end(kEnded), call.status) != std::end(kEnded);
}

bool call_answered(const CallRow& call) {
  return call.status == "completed" && call.duration_seconds > 0;
}

bool counts_as_conversion(const ConversionConfig& rules, const CallRow& call, bool first_time) {
  if (!rules.enabled || !call_ended(call) || call.restricted) return false;
  if (rules.answered_only && !call_answered(call)) return false;
  if (call.duration_seconds < rules.min_duration_seconds) return false;
  return !rules.first_time_callers_only || first_time;
}

ConversionValue conversion_value(const ConversionConfig& rules, const std::string& source,
                                 const std::string& pool) {
  for (const ConversionValue& v : rules.values) {
    if ((v.source.empty() || v.source == source) && (v.pool.empty() || v.pool == pool)) return v;
  }
  return ConversionValue{};
}

bool platform_takes(AdPlatform platform, const std::string& click_id_type) {
  return platform == AdPlatform::google_ads ? click_id_type == "gclid" : click_id_type == "msclkid";
}

std::string local_time(Millis at, int utc_offset_seconds) {
  const Millis local = at + utc_offset_seconds * Millis{1000};
  const long long days = local >= 0 ? local / kDay : (local - kDay + 1) / kDay;
  const Millis in_day = local - days * kDay;
  long long y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  char out[64];
  std::snprintf(out, sizeof out, "%04lld-%02u-%02u %02d:%02d:%02d", y, m, d,
                static_cast<int>(in_day / 3600'000), static_cast<int>(in_day / 60'000 % 60),
                static_cast<int>(in_day / 1000 % 60));
  return out;
}

std::string feed_time(Millis at, const TimeZone& zone) {
  // The offset in force at that instant: floor to the second, also before 1970.
  const Millis seconds = at >= 0 ? at / 1000 : (at - 999) / 1000;
  return local_time(at, zone.offset_at(seconds));
}

std::string conversion_feed(AdPlatform platform, const ConversionConfig& rules,
                            const std::vector<FeedRow>& rows) {
  std::string out = "Parameters:TimeZone=" + rules.time_zone + "\r\n";
  out += platform == AdPlatform::google_ads ? "Google Click ID" : "Microsoft Click ID";
  out += ",Conversion Name,Conversion Time,Conversion Value,Conversion Currency\r\n";
  for (const FeedRow& row : rows) {
    char value[40];
    std::snprintf(value, sizeof value, "%.2f", row.value);
    // Click ids are tokens (checked when they arrived) and names carry no quote or line
    // break (checked in the config): a name with a comma is quoted, nothing else needs it.
    const std::string name =
        row.name.find(',') == std::string::npos ? row.name : '"' + row.name + '"';
    out += row.click_id + ',' + name + ',' + feed_time(row.at, rules.zone) + ',' + value + ',' +
           rules.currency + "\r\n";
  }
  return out;
}

Millis retry_delay(const OutboxSettings& settings, int attempts, double jitter) {
  double delay =
      static_cast<double>(settings.retry_base_ms) * std::pow(2.0, std::max(0, attempts - 1));
  delay = std::min(delay, static_cast<double>(settings.retry_max_ms));
  return static_cast<Millis>(delay / 2 + delay / 2 * std::clamp(jitter, 0.0, 1.0));
}

void queue_call_events(Store& store, const CallEvents& e) {
  const ConversionConfig& rules = e.site.conversions;
  if (!rules.enabled || e.call.restricted || (e.session && e.session->restricted)) return;
  const std::string& site = e.site.config.site;
  const std::string session_id = e.session ? e.session->id : std::string();
  const auto queue = [&](const std::string& destination, const std::string& event,
                         std::string body) {
    Delivery d;
    d.site = site;
    d.destination = destination;
    d.event = event;
    d.idempotency_key = event_key(site, destination, event, e.call.provider_call_id);
    d.body = std::move(body);
    d.call_id = e.call.provider_call_id;
    d.session_id = session_id;
    d.created_at = e.now;
    d.next_attempt_at = e.now;
    store.enqueue_delivery(d);
  };
  const bool ended = call_ended(e.call);
  const bool attributed = e.call.attribution != "unattributed";
  for (const WebhookDestination& hook : rules.webhooks) {
    for (const std::string& event : hook.events) {
      if (event == "call.attributed" ? !(e.first_report && attributed) : !ended) continue;
      Json call = Json::object();
      call["id"] = e.call.provider_call_id;
      call["called_number"] = e.call.called_number;
      call["status"] = e.call.status;
      call["duration_seconds"] = e.call.duration_seconds;
      call["started_at"] = iso_time(e.call.started_at);
      call["attribution"] = e.call.attribution;
      call["source"] = e.call.source;
      auto campaign = parse_json(e.call.campaign_json);
      call["campaign"] = campaign ? *campaign : Json::object();
      // The click id exists only when the visitor consented to advertising; it goes with that
      // consent.
      if (e.session && !e.session->click_id.empty()) {
        Json click = Json::object();
        click["type"] = e.session->click_id_type;
        click["value"] = e.session->click_id;
        click["consent"] = e.session->click_id_consent;
        call["click_id"] = std::move(click);
      }
      if (ended) call["conversion"] = counts_as_conversion(rules, e.call, e.first_time_caller);
      if (!hook.caller_number_key.empty() && !e.caller_number.empty())
        call["caller_number"] = e.caller_number;
      Json body = Json::object();
      body["id"] = event_key(site, "webhook:" + hook.id, event, e.call.provider_call_id);
      body["type"] = event;
      body["site"] = site;
      body["created_at"] = iso_time(e.now);
      body["call"] = std::move(call);
      queue("webhook:" + hook.id, event, dump_json(body));
    }
  }
  if (rules.ga4 && ended && e.session && !e.session->ga_client_id.empty() &&
      counts_as_conversion(rules, e.call, e.first_time_caller)) {
    // No caller number, no call id: the event says a call of this length came from this source.
    Json params = Json::object();
    params["duration_seconds"] = e.call.duration_seconds;
    params["source"] = e.call.source;
    const ConversionValue value = conversion_value(rules, e.call.source, e.session->pool);
    params["value"] = json_number(value.value);
    params["currency"] = rules.currency;
    Json event = Json::object();
    event["name"] = rules.ga4->event_name;
    event["params"] = std::move(params);
    Json events = Json::array();
    events.push_back(std::move(event));
    Json body = Json::object();
    body["client_id"] = e.session->ga_client_id;
    body["timestamp_micros"] = e.call.started_at * 1000;
    body["events"] = std::move(events);
    queue("ga4", rules.ga4->event_name, dump_json(body));
  }
}

OutboxSender::OutboxSender(Store& store, const OperatorConfig& config,
                           std::function<Millis()> clock, Log log)
    : store_(store), config_(config), clock_(std::move(clock)), log_(std::move(log)) {}

OutboxSender::~OutboxSender() {
  stop();
}

void OutboxSender::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void OutboxSender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxSender::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void OutboxSender::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      send_due();
    } catch (const std::exception& error) {
      log_(log_line(clock_(), LogLevel::error, "outbox pass failed", {{"error", error.what()}}));
    }
    lock.lock();
    // Due times come from the clock, which tests move: a short tick notices them.
    wake_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_ || woken_; });
    woken_ = false;
  }
}

int OutboxSender::send_due() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  int sent = 0;
  for (Delivery d : store_.due_deliveries(clock_(), 50)) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    const std::string error = attempt(d);
    const Millis now = clock_();
    ++d.attempts;
    LogLevel level = LogLevel::info;
    std::string_view msg = "delivered";
    if (error.empty()) {
      d.state = "delivered";
      d.last_error.clear();
      d.finished_at = now;
      ++sent;
    } else {
      const Millis next = now + retry_delay(config_.outbox, d.attempts,
                                            std::uniform_real_distribution<double>(0, 1)(random));
      if (next - d.created_at > config_.outbox.give_up_after_ms) {
        d.state = "failed";
        d.last_error = "gave up after " + std::to_string(d.attempts) + " attempts: " + error;
        d.finished_at = now;
        level = LogLevel::error;
        msg = "delivery given up";
      } else {
        d.last_error = error;
        d.next_attempt_at = next;
        level = LogLevel::warning;
        msg = "delivery failed; will retry";
      }
    }
    store_.record_attempt(d);
    if (error.empty()) {
      log_(log_line(now, level, msg,
                    {{"site", d.site},
                     {"destination", d.destination},
                     {"event", d.event},
                     {"attempt", d.attempts}}));
    } else {
      log_(log_line(now, level, msg,
                    {{"site", d.site},
                     {"destination", d.destination},
                     {"event", d.event},
                     {"attempt", d.attempts},
                     {"reason", error}}));
    }
  }
  return sent;
}

std::string OutboxSender::attempt(const Delivery& d) {
  const SiteEntry* site = config_.find_site(d.site);
  if (!site) return "the site is no longer configured";
  const ConversionConfig& rules = site->conversions;
  std::string url;
  httplib::Headers headers;
  if (d.destination == "ga4") {
    if (!rules.ga4) return "GA4 is no longer configured";
    url = rules.ga4->endpoint +
          "/mp/collect?measurement_id=" + percent_encode(rules.ga4->measurement_id) +
          "&api_secret=" + percent_encode(rules.ga4->api_secret);
  } else {
    const auto hook = std::find_if(
        rules.webhooks.begin(), rules.webhooks.end(),
        [&](const WebhookDestination& w) { return "webhook:" + w.id == d.destination; });
    if (hook == rules.webhooks.end()) return "the webhook is no longer configured";
    url = hook->url;
    // Signed like the inbound generic webhook: HMAC-SHA256 over "<timestamp>.<body>".
    const std::string timestamp = std::to_string(clock_() / 1000);
    headers.emplace("X-Callswap-Timestamp", timestamp);
    headers.emplace("X-Callswap-Signature", calls_signature(hook->secret, timestamp, d.body));
    headers.emplace("X-Callswap-Event", d.event);
    headers.emplace("Idempotency-Key", d.idempotency_key);
  }
  const auto [origin, path] = split_url(url);
  httplib::Client client(origin);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  client.set_write_timeout(10);
  const auto result = client.Post(path, headers, d.body, "application/json");
  if (!result) return "no answer: " + httplib::to_string(result.error());
  if (result->status < 200 || result->status > 299) return "HTTP " + std::to_string(result->status);
  return "";
}

}  // namespace callswap::server
