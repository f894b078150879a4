// libFuzzer target for everything that reads JSON from outside: the JSON reader,
// the site config loader, the consent decision, the session events and what the browser
// stores (a session, an earlier touch). No input may crash; what the writer writes, the
// reader reads back the same.

#include <callswap/attribution.hpp>
#include <callswap/config.hpp>
#include <callswap/consent.hpp>
#include <callswap/json.hpp>
#include <callswap/session.hpp>
#include <cstdint>
#include <string_view>

namespace {
void require(bool condition) {
  if (!condition) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = callswap::parse_site_config(text);
  require(config.ok() != !config.errors.empty());
  if (config.ok()) (void)callswap::summarize(*config.config);

  auto value = callswap::json::parse(text);
  if (!value) return 0;
  const std::string once = value->dump();
  auto again = callswap::json::parse(once);
  require(again.ok() && again->dump() == once);

  static const callswap::ConsentConfig consent = [] {
    callswap::ConsentConfig c;
    c.signals = {
        callswap::ConsentPlatform::tcf,           callswap::ConsentPlatform::consent_mode,
        callswap::ConsentPlatform::onetrust,      callswap::ConsentPlatform::cookiebot,
        callswap::ConsentPlatform::usercentrics,  callswap::ConsentPlatform::klaro,
        callswap::ConsentPlatform::cookieconsent, callswap::ConsentPlatform::wp_consent_api,
        callswap::ConsentPlatform::manual};
    c.tcf_vendor_id = 755;
    return c;
  }();
  const auto decision = callswap::decide_consent(consent, *value);
  require(decision.may_store == decision.dynamic);
  (void)decision.to_json().dump();

  // What the browser kept (a stored session, an earlier touch) is page input too: what the
  // writer writes from it reads back the same.
  if (const auto stored = callswap::stored_session_from_json(*value)) {
    const auto again_stored = callswap::stored_session_from_json(callswap::to_json(*stored));
    require(again_stored && again_stored->id == stored->id &&
            again_stored->number == stored->number && again_stored->source == stored->source &&
            again_stored->expires_at == stored->expires_at &&
            again_stored->last_activity == stored->last_activity);
  }
  if (const auto touch = callswap::Touch::from_json(*value)) {
    require(!touch->source.empty());
    require(callswap::Campaign::from_json(touch->campaign.to_json()) == touch->campaign);
  }

  if (auto event = callswap::session_event_from_json(*value)) {
    callswap::SessionMachine machine(callswap::SessionConfig{}, "google");
    for (const auto& action : machine.handle(*event)) (void)callswap::to_json(action).dump();
    (void)machine.next_wakeup();
  }
  return 0;
}
