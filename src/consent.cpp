#include <algorithm>
#include <callswap/consent.hpp>

namespace callswap {
namespace {

bool flag(const json::Value* object, std::string_view key) {
  const json::Value* v = object ? object->find(key) : nullptr;
  return v && v->is_bool() && v->as_bool();
}

std::string text(const json::Value* object, std::string_view key) {
  const json::Value* v = object ? object->find(key) : nullptr;
  return v && v->is_string() ? v->as_string() : std::string();
}

// A TCF id map ({"1": true}) at a path of members; missing means no.
bool consented(const json::Value& tc, std::string_view section, std::string_view map, int id) {
  const json::Value* s = tc.find(section);
  const json::Value* m = s ? s->find(map) : nullptr;
  return flag(m, std::to_string(id));
}

SignalVerdict verdict(ConsentPlatform p, ConsentState state, ConsentBasis basis,
                      std::string detail) {
  return SignalVerdict{p, state, basis, std::string(to_string(p)) + ": " + std::move(detail)};
}

// IAB TCF v2.2: act only on a loaded CMP's stored or fresh choice.
SignalVerdict decide_tcf(const ConsentConfig& config, const json::Value* tc) {
  const auto p = ConsentPlatform::tcf;
  if (!tc || !tc->is_object())
    return verdict(p, ConsentState::unknown, ConsentBasis::none, "no CMP");
  const json::Value* applies = tc->find("gdprApplies");
  if (text(tc, "cmpStatus") != "loaded")
    return verdict(p, ConsentState::unknown, ConsentBasis::none, "CMP not loaded");
  if (applies && applies->is_bool() && !applies->as_bool()) {
    // GDPR does not apply: TCF does not restrict. Not a choice, so GPC and DNT still veto.
    return verdict(p, ConsentState::granted, ConsentBasis::implied, "GDPR does not apply");
  }
  const std::string event = text(tc, "eventStatus");
  if (event != "tcloaded" && event != "useractioncomplete") {
    return verdict(p, ConsentState::unknown, ConsentBasis::none,
                   "no choice yet (" + (event.empty() ? "no event" : event) + ")");
  }
  if (!applies || !applies->is_bool()) {
    return verdict(p, ConsentState::unknown, ConsentBasis::none, "gdprApplies undecided");
  }
  if (config.tcf_vendor_id) {
    const int vendor = *config.tcf_vendor_id;
    if (!consented(*tc, "vendor", "consents", vendor)) {
      return verdict(p, ConsentState::denied, ConsentBasis::explicit_choice,
                     "vendor " + std::to_string(vendor) + " not consented");
    }
    const json::Value* restrictions =
        tc->find("publisher") ? tc->find("publisher")->find("restrictions") : nullptr;
    for (int purpose : config.tcf_purposes) {
      if (!consented(*tc, "purpose", "consents", purpose)) {
        return verdict(p, ConsentState::denied, ConsentBasis::explicit_choice,
                       "purpose " + std::to_string(purpose) + " not consented");
      }
      const json::Value* r = restrictions ? restrictions->find(std::to_string(purpose)) : nullptr;
      const json::Value* type = r ? r->find(std::to_string(vendor)) : nullptr;
      // 0: not allowed; 2: legitimate interest required — either way consent is not the basis.
      if (type && type->is_number() && type->as_number() != 1) {
        return verdict(p, ConsentState::denied, ConsentBasis::explicit_choice,
                       "publisher restricts purpose " + std::to_string(purpose));
      }
    }
  } else {
    for (int purpose : config.tcf_purposes) {
      if (!consented(*tc, "publisher", "consents", purpose)) {
        return verdict(p, ConsentState::denied, ConsentBasis::explicit_choice,
                       "publisher purpose " + std::to_string(purpose) + " not consented");
      }
    }
  }
  return verdict(p, ConsentState::granted, ConsentBasis::explicit_choice, event);
}

// Google Consent Mode v2: fold the default and update commands in order.
SignalVerdict decide_consent_mode(const ConsentConfig& config, const json::Value* commands) {
  const auto p = ConsentPlatform::consent_mode;
  if (!commands || !commands->is_array() || commands->as_array().empty()) {
    return verdict(p, ConsentState::unknown, ConsentBasis::none, "no consent commands");
  }
  struct TypeState {
    std::string value;  // "granted", "denied" or empty
    bool from_update = false;
  };
  std::vector<TypeState> states(config.consent_mode_types.size());
  for (const json::Value& command : commands->as_array()) {
    const std::string name = text(&command, "command");
    const json::Value* params = command.find("params");
    if ((name != "default" && name != "update") || !params || !params->is_object()) continue;
    // A region-scoped default cannot be resolved in the page: it stays unknown.
    if (name == "default" && params->find("region")) continue;
    for (std::size_t i = 0; i < states.size(); ++i) {
      const std::string value = text(params, config.consent_mode_types[i]);
      if (value == "granted" || value == "denied") states[i] = {value, name == "update"};
    }
  }
  bool all_updates = true;
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i].value == "denied") {
      return verdict(p, ConsentState::denied,
                     states[i].from_update ? ConsentBasis::explicit_choice : ConsentBasis::implied,
                     config.consent_mode_types[i] + " denied");
    }
    if (states[i].value.empty()) {
      return verdict(p, ConsentState::unknown, ConsentBasis::none,
                     config.consent_mode_types[i] + " not set");
    }
    all_updates = all_updates && states[i].from_update;
  }
  return verdict(p, ConsentState::granted,
                 all_updates ? ConsentBasis::explicit_choice : ConsentBasis::implied,
                 all_updates ? "granted by update" : "granted by default");
}

// A platform whose signal is a set of granted names plus whether the visitor chose.
template <class Granted>
SignalVerdict decide_named(ConsentPlatform p, const std::vector<std::string>& required,
                           bool present, bool chose, bool implied_when_not_chosen,
                           Granted granted) {
  if (!present) return verdict(p, ConsentState::unknown, ConsentBasis::none, "no signal");
  for (const std::string& name : required) {
    if (!granted(name)) {
      if (!chose) return verdict(p, ConsentState::unknown, ConsentBasis::none, "no choice yet");
      return verdict(p, ConsentState::denied, ConsentBasis::explicit_choice, name + " not granted");
    }
  }
  if (!chose && !implied_when_not_chosen)
    return verdict(p, ConsentState::unknown, ConsentBasis::none, "no choice yet");
  return verdict(p, ConsentState::granted,
                 chose ? ConsentBasis::explicit_choice : ConsentBasis::implied,
                 chose ? "granted" : "granted by default");
}

SignalVerdict decide_platform(const ConsentConfig& config, ConsentPlatform platform,
                              const json::Value& signals) {
  const json::Value* s = signals.find(to_string(platform));
  const bool present = s && s->is_object();
  switch (platform) {
    case ConsentPlatform::tcf:
      return decide_tcf(config, s);
    case ConsentPlatform::consent_mode:
      return decide_consent_mode(config, s);
    case ConsentPlatform::onetrust: {
      // OneTrust sets default groups before the visitor acts; only a closed banner is a choice.
      const std::string groups = text(s, "active_groups");
      return decide_named(
          platform, config.onetrust_groups, present, flag(s, "alert_box_closed"), true,
          [&](const std::string& g) { return groups.find("," + g + ",") != std::string::npos; });
    }
    case ConsentPlatform::cookiebot: {
      // Cookiebot's "implied" method is consent the visitor did not give by a choice.
      const json::Value* consent = s ? s->find("consent") : nullptr;
      const bool implied = text(s, "method") == "implied";
      return decide_named(platform, config.cookiebot_categories, present && flag(s, "has_response"),
                          !implied, implied,
                          [&](const std::string& c) { return flag(consent, c); });
    }
    case ConsentPlatform::usercentrics: {
      const json::Value* services = s ? s->find("services") : nullptr;
      return decide_named(platform, config.usercentrics_services, present, flag(s, "explicit"),
                          false, [&](const std::string& name) { return flag(services, name); });
    }
    case ConsentPlatform::klaro: {
      // Klaro reports defaults before the visitor confirms: only a confirmed choice counts.
      const json::Value* consents = s ? s->find("consents") : nullptr;
      return decide_named(platform, config.klaro_services, present, flag(s, "confirmed"), false,
                          [&](const std::string& name) { return flag(consents, name); });
    }
    case ConsentPlatform::cookieconsent: {
      const json::Value* accepted = s ? s->find("accepted") : nullptr;
      return decide_named(platform, config.cookieconsent_categories, present, flag(s, "valid"),
                          false, [&](const std::string& category) {
                            if (!accepted || !accepted->is_array()) return false;
                            const auto& list = accepted->as_array();
                            return std::any_of(list.begin(), list.end(), [&](const json::Value& v) {
                              return v.is_string() && v.as_string() == category;
                            });
                          });
    }
    case ConsentPlatform::wp_consent_api: {
      // {type, granted: {category: wp_has_consent(category)}, changed: {category: "allow"|"deny"}}.
      // An opt-in site grants a category only after the visitor allowed it, so a grant there
      // is a choice; on an opt-out site a grant is a default until the visitor changes it.
      const json::Value* granted = s ? s->find("granted") : nullptr;
      const json::Value* changed = s ? s->find("changed") : nullptr;
      const auto& categories = config.wp_consent_categories;
      const bool optin = text(s, "type") != "optout";
      const bool changed_any =
          std::any_of(categories.begin(), categories.end(),
                      [&](const std::string& c) { return !text(changed, c).empty(); });
      const bool granted_all = std::all_of(categories.begin(), categories.end(),
                                           [&](const std::string& c) { return flag(granted, c); });
      return decide_named(platform, categories, present, changed_any || (optin && granted_all),
                          !optin, [&](const std::string& c) { return flag(granted, c); });
    }
    case ConsentPlatform::manual: {
      const std::string choice = text(&signals, "manual");
      if (choice == "granted")
        return verdict(platform, ConsentState::granted, ConsentBasis::explicit_choice, "granted");
      if (choice == "denied")
        return verdict(platform, ConsentState::denied, ConsentBasis::explicit_choice, "denied");
      return verdict(platform, ConsentState::unknown, ConsentBasis::none, "no choice");
    }
  }
  return verdict(platform, ConsentState::unknown, ConsentBasis::none, "unsupported");
}

}  // namespace

const char* to_string(ConsentState state) {
  switch (state) {
    case ConsentState::granted:
      return "granted";
    case ConsentState::denied:
      return "denied";
    case ConsentState::unknown:
      return "unknown";
  }
  return "unknown";
}

json::Value ConsentDecision::to_json() const {
  json::Object o;
  o.set("mode", dynamic ? "dynamic" : "static");
  o.set("may_store", may_store);
  o.set("reason", reason);
  json::Array list;
  for (const SignalVerdict& v : verdicts) {
    json::Object item;
    item.set("platform", to_string(v.platform));
    item.set("state", to_string(v.state));
    item.set("basis", v.basis == ConsentBasis::explicit_choice ? "explicit"
                      : v.basis == ConsentBasis::implied       ? "implied"
                                                               : "none");
    item.set("detail", v.detail);
    list.push_back(std::move(item));
  }
  o.set("signals", std::move(list));
  o.set("advertising", advertising);
  o.set("analytics", analytics);
  return o;
}

namespace {
ConsentDecision decide_session(const ConsentConfig& config, const json::Value& signals,
                               bool purpose);

// The platforms that grant a further purpose, joined by '+'; empty when it is not granted by
// the purpose's rule (any or all).
std::string purpose_grant(const std::vector<ConsentConfig>& purpose, const json::Value& signals) {
  std::string granted;
  if (purpose.empty()) return granted;
  const ConsentDecision decided = decide_session(purpose.front(), signals, true);
  for (const SignalVerdict& v : decided.verdicts) {
    if (!decided.dynamic || v.state != ConsentState::granted) continue;
    if (!granted.empty()) granted += '+';
    granted += to_string(v.platform);
  }
  return granted;
}
}  // namespace

ConsentDecision decide_consent(const ConsentConfig& config, const json::Value& signals) {
  ConsentDecision decision = decide_session(config, signals, false);
  if (decision.dynamic) {
    decision.advertising = purpose_grant(config.advertising, signals);
    decision.analytics = purpose_grant(config.analytics, signals);
  }
  return decision;
}

namespace {
// `purpose`: a further purpose's decision, which the manual signal (a yes to the dynamic
// number only) never grants.
ConsentDecision decide_session(const ConsentConfig& config, const json::Value& signals,
                               bool purpose) {
  ConsentDecision decision;
  const bool gpc = flag(&signals, "gpc");
  const bool dnt = flag(&signals, "dnt");
  for (ConsentPlatform platform : config.signals) {
    if (purpose && platform == ConsentPlatform::manual) continue;
    SignalVerdict v = decide_platform(config, platform, signals);
    // GPC and DNT veto implied or default consent; GPC also vetoes an explicit opt-in unless
    // the site lets an explicit choice override it.
    if (v.state == ConsentState::granted) {
      const bool gpc_veto =
          gpc && (v.basis == ConsentBasis::implied || !config.explicit_consent_overrides_gpc);
      const bool dnt_veto = dnt && v.basis == ConsentBasis::implied;
      if (gpc_veto || dnt_veto) {
        v.state = ConsentState::denied;
        v.detail += gpc_veto ? " (vetoed by Global Privacy Control)" : " (vetoed by Do Not Track)";
      }
    }
    decision.verdicts.push_back(std::move(v));
  }
  const auto count = [&](ConsentState s) {
    return std::count_if(decision.verdicts.begin(), decision.verdicts.end(),
                         [&](const SignalVerdict& v) { return v.state == s; });
  };
  const auto granted = count(ConsentState::granted);
  const auto denied = count(ConsentState::denied);
  if (config.require == ConsentConfig::Require::all) {
    decision.dynamic =
        !decision.verdicts.empty() && granted == static_cast<long>(decision.verdicts.size());
  } else {
    // Any one platform suffices, but a refusal on another is never overruled.
    decision.dynamic = granted > 0 && denied == 0;
  }
  decision.may_store = decision.dynamic;
  if (decision.dynamic) {
    decision.reason = "consent granted";
  } else if (denied > 0) {
    decision.reason = "consent refused";
  } else if (granted > 0) {
    decision.reason = "not every required platform has granted consent";
  } else {
    decision.reason = "no consent yet";
  }
  return decision;
}
}  // namespace

}  // namespace callswap
