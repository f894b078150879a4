#pragma once
/// \file Which marketing source a visit came from, decided locally from the landing URL and
/// the referrer. Only what the site config allows leaves this function: no full URLs, no
/// arbitrary query strings, no click id values unless `session.keep_click_ids` is set.

#include <callswap/config.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace callswap {

/// The campaign details worth keeping about a visit.
struct Campaign {
  std::string utm_source, utm_medium, utm_campaign, utm_term, utm_content;
  std::string click_id;        ///< which click id was present ("gclid"), or empty
  std::string click_id_value;  ///< only when the config keeps click ids

  [[nodiscard]] json::Value to_json() const;
  /// Reads what to_json wrote; members that are missing or not strings stay empty.
  static Campaign from_json(const json::Value& value);
  friend bool operator==(const Campaign&, const Campaign&) = default;
};

/// A source a visitor was attributed to earlier in the session (kept only with consent).
struct Touch {
  std::string source;
  Campaign campaign;

  /// {"source", "campaign"} as the browser stores it; nullopt without a source.
  static std::optional<Touch> from_json(const json::Value& value);
};

struct Attribution {
  const Source* source = nullptr;  ///< nullptr: no rule matched and there is no default
  std::string reason;  ///< why, in words: "click id gclid", "referrer www.bing.com in group search"
  Campaign campaign;
  bool kept_earlier_touch = false;

  [[nodiscard]] json::Value to_json() const;
  /// The touch to keep for the rest of the session.
  [[nodiscard]] std::optional<Touch> touch() const;
};

/// Decides the source. `earlier` is the session's stored touch, if any.
Attribution attribute(const SiteConfig& config, std::string_view landing_url,
                      std::string_view referrer,
                      const std::optional<Touch>& earlier = std::nullopt);

/// The host of an absolute http(s) URL, lower-cased, without port; empty if there is none.
std::string url_host(std::string_view url);

/// The value of query parameter `name` in `url` (percent-decoded), if present.
std::optional<std::string> url_parameter(std::string_view url, std::string_view name);

/// Decodes a query-string or form value: "%40" → "@", "+" → " ". Malformed escapes stay as written.
std::string url_decode(std::string_view text);

/// The path of a URL with only the named query parameters kept (for storing landing pages).
std::string url_path_with(std::string_view url, std::span<const std::string_view> keep);

}  // namespace callswap
