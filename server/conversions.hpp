#pragma once
// Calls as conversions: which calls count (the site's rules), the offline conversion feeds
// Google Ads and Microsoft Ads fetch, and the outbox sender that delivers GA4 events and
// signed webhooks with retries (docs/conversions.md). The store keeps the outbox durable.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator_config.hpp"
#include "store.hpp"

namespace callswap::server {

/// A call that ended: completed, busy, no answer, failed or cancelled.
bool call_ended(const CallRow& call);
/// Answered: it ended with talk time.
bool call_answered(const CallRow& call);
/// Whether an ended call counts by the site's rules; `first_time` says whether no earlier
/// call of the same caller (keyed hash) is stored.
bool counts_as_conversion(const ConversionConfig& rules, const CallRow& call, bool first_time);
/// The name and value for a call of `source` from `pool`: the first entry that matches.
ConversionValue conversion_value(const ConversionConfig& rules, const std::string& source,
                                 const std::string& pool);

enum class AdPlatform { google_ads, microsoft_ads };
/// The click ids a platform's import takes ("gclid"; "msclkid").
bool platform_takes(AdPlatform platform, const std::string& click_id_type);

struct FeedRow {
  std::string click_id;
  std::string name;
  Millis at = 0;
  double value = 0;
};
/// The offline conversion import file as each platform documents it for scheduled uploads:
/// a "Parameters:TimeZone=" line (the configured IANA name, or an offset as "+0100"), the
/// header, one line per conversion with its time as "yyyy-MM-dd HH:mm:ss" in that zone's
/// local time at the conversion's instant (daylight saving time included).
std::string conversion_feed(AdPlatform platform, const ConversionConfig& rules,
                            const std::vector<FeedRow>& rows);
/// "yyyy-MM-dd HH:mm:ss" at a fixed offset from UTC, in seconds.
std::string local_time(Millis at, int utc_offset_seconds);
/// "yyyy-MM-dd HH:mm:ss" in `zone`'s local time at that instant: the feeds' Conversion Time.
std::string feed_time(Millis at, const TimeZone& zone);

/// The wait before attempt `attempts + 1`: the base doubled per attempt, at most the maximum,
/// then a random part of it (`jitter` in [0, 1)) so receivers that were down together are not
/// hit together when they come back: between half and all of the delay.
Millis retry_delay(const OutboxSettings& settings, int attempts, double jitter);

/// Queues the deliveries a call's webhook brings (once each, by idempotency key): webhooks'
/// call.attributed on its first report, call.completed and the GA4 event when it ends.
struct CallEvents {
  const SiteEntry& site;
  const CallRow& call;                       ///< as stored
  const std::optional<SessionRow>& session;  ///< the session it is attributed to, if any
  bool first_report = false;
  bool first_time_caller = false;
  std::string caller_number;  ///< E.164 in clear when kept; sent only where the config allows
  Millis now = 0;
};
void queue_call_events(Store& store, const CallEvents& events);

/// Sends due deliveries on its own thread, never a request handler's.
class OutboxSender {
 public:
  using Log = std::function<void(const std::string&)>;
  OutboxSender(Store& store, const OperatorConfig& config, std::function<Millis()> clock, Log log);
  ~OutboxSender();
  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;
  void start();
  void stop();
  /// Something was queued: look now rather than at the next tick.
  void wake();
  /// One pass over what is due (the thread's work; public for the tests).
  int send_due();

 private:
  void loop();
  std::string attempt(const Delivery& delivery);  ///< "" when delivered, else why not

  Store& store_;
  const OperatorConfig& config_;
  std::function<Millis()> clock_;
  Log log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace callswap::server
