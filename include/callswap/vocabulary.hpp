#pragma once
/// \file The campaign vocabulary: the click ids and UTM parameters callswap reads from a landing
/// URL. The one definition: the config validator, attribution and the server's request reader
/// use these tables; docs/config.md, docs/site-config.schema.json and the SDK (web/core.js)
/// spell the same names, and tests/vocabulary checks that they agree. Plain constexpr tables
/// of string_view, which the compiler folds into each use (no object of its own in the wasm).

#include <string>
#include <string_view>

namespace callswap {

/// The ad platforms' click id parameters, in the order the messages list them.
inline constexpr std::string_view kClickIds[] = {"gclid",   "gbraid", "wbraid",   "fbclid",
                                                 "msclkid", "ttclid", "li_fat_id"};

/// The campaign parameters kept (with a landing page only these survive), in Campaign's order.
inline constexpr std::string_view kUtmKeys[] = {"utm_source", "utm_medium", "utm_campaign",
                                                "utm_term", "utm_content"};

/// "gclid, gbraid, …" for the messages that name what is allowed.
inline std::string click_id_names() {
  std::string out;
  for (std::string_view id : kClickIds) {
    if (!out.empty()) out += ", ";
    out += id;
  }
  return out;
}

}  // namespace callswap
