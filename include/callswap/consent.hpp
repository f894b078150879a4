#pragma once
/// \file The consent decision: static numbers for everyone, or a dynamic number (and storage)
/// for a visitor who consented. The browser's adapters only turn each platform's signals
/// into the JSON below; every rule lives here (see ../shared/reference/consent.md).
///
/// Signals JSON (every member optional; a missing one is unknown, never consent):
/// {
///   "tcf": {"cmpStatus", "eventStatus", "gdprApplies", "purpose": {"consents": {"1": true}},
///           "vendor": {"consents": {}}, "publisher": {"consents": {}, "restrictions": {"1":
///           {"755": 1}}}},
///   "consent_mode": [{"command": "default"|"update", "params": {"analytics_storage": "granted",
///   "region": [..]}}], "onetrust": {"active_groups": ",C0001,C0002,", "alert_box_closed": true},
///   "cookiebot": {"has_response": true, "method": "explicit"|"implied", "consent": {"statistics":
///   true}}, "usercentrics": {"services": {"callswap": true}, "explicit": true}, "klaro":
///   {"confirmed": true, "consents": {"callswap": true}}, "cookieconsent": {"valid": true,
///   "accepted": ["necessary", "analytics"]}, "manual": "granted"|"denied", "gpc": true, "dnt":
///   true
/// }

#include <callswap/config.hpp>
#include <callswap/json.hpp>
#include <string>
#include <vector>

namespace callswap {

enum class ConsentState { unknown, denied, granted };

/// Why a grant holds: a choice the visitor made, or a default or implied consent (which
/// Global Privacy Control and Do Not Track veto).
enum class ConsentBasis { none, implied, explicit_choice };

struct SignalVerdict {
  ConsentPlatform platform;
  ConsentState state = ConsentState::unknown;
  ConsentBasis basis = ConsentBasis::none;
  std::string detail;  ///< why, for debugging: "tcf: purpose 7 not consented"
};

struct ConsentDecision {
  bool dynamic = false;    ///< may ask the server for a per-visitor number
  bool may_store = false;  ///< may write a cookie or storage key
  std::string reason;
  std::vector<SignalVerdict> verdicts;  ///< one per configured platform
  /// The platforms whose grant covers advertising ("consent_mode", "tcf+onetrust"), empty
  /// when not granted; only ever set with `dynamic`. Likewise for analytics.
  std::string advertising;
  std::string analytics;

  [[nodiscard]] json::Value to_json() const;
};

/// Decides from normalised signals (see the file comment). Malformed members read as unknown.
ConsentDecision decide_consent(const ConsentConfig& config, const json::Value& signals);

const char* to_string(ConsentState state);

}  // namespace callswap
