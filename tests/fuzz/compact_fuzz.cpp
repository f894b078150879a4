// libFuzzer target for the compact site config (include/callswap/compact.hpp), the form the
// browser's first-swap module reads without a validator: no input may crash the reader or
// the decisions made from what it accepts (attribution, consent, the session machine), and
// what it accepts writes back in one canonical form that reads back the same. Also the
// compact earlier touch the SDK hands to attribution.

#include <callswap/attribution.hpp>
#include <callswap/compact.hpp>
#include <callswap/consent.hpp>
#include <callswap/json.hpp>
#include <callswap/session.hpp>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::text(data, size);
  if (const auto touch = callswap::touch_from_compact(text)) {
    require(!touch->source.empty());
    require(callswap::to_compact(*touch) == text);
  }
  const auto config = callswap::from_compact(text);
  // What the whole reader accepts, the first-swap reader (which stops before consent) does too.
  require(!config || callswap::from_compact_without_consent(text));
  if (!config) return 0;
  // The country code is read case-insensitively; everything else has one spelling.
  const std::string canonical = callswap::to_compact(*config);
  const auto again = callswap::from_compact(canonical);
  require(again && callswap::to_compact(*again) == canonical);
  require(config->country != nullptr);
  (void)callswap::summarize(*config);

  static const std::string_view kVisits[][2] = {
      {"https://site.example/?utm_source=google&gclid=x", "https://www.google.de/"},
      {"https://site.example/?fbclid=1&utm_campaign=c", "https://m.facebook.com/"},
      {"https://site.example/", "https://mail.google.com/"},
      {"https://site.example/", ""}};
  for (const auto& [url, referrer] : kVisits) {
    const auto a = callswap::attribute(*config, url, referrer);
    (void)a.to_json().dump();
    if (a.source) require(callswap::parse_e164(a.source->static_number.e164()).ok());
  }
  static const auto kSignals = *callswap::json::parse(
      R"({"manual": "granted", "consent_mode": [{"command": "update", "params": {"analytics_storage": "granted"}}],
          "cookieconsent": {"valid": true, "accepted": ["analytics", "marketing"]}})");
  const auto decision = callswap::decide_consent(config->consent, kSignals);
  require(decision.may_store == decision.dynamic);
  callswap::SessionMachine machine(config->session,
                                   config->sources.empty() ? "" : config->sources[0].id);
  // The session config's timeouts come from the text too: a whole visit runs on them.
  callswap::SessionEvent event;
  event.kind = callswap::SessionEvent::Kind::start;
  event.consent = true;
  for (const auto& action : machine.handle(event)) (void)callswap::to_json(action).dump();
  event = {};
  event.kind = callswap::SessionEvent::Kind::assigned;
  event.now = 1000;
  event.session_id = "s";
  event.number = "+49301234567";
  event.expires_in_ms = 60000;
  for (const auto& action : machine.handle(event)) (void)callswap::to_json(action).dump();
  (void)machine.next_wakeup();
  return 0;
}
