#pragma once
/// \file The compact site config: a site config the server (or the full loader) has already
/// validated, written so that the browser's first-swap module reads it with a few dozen lines
/// of code, no JSON parser, no validator and no error messages. docs/config.md ("The compact
/// form") describes the format; the server serves it at /v1/sites/{site}/config/compact.
///
/// The text is a sequence of tokens, each a decimal number (no sign, no leading zero, at most
/// nine digits) followed by ',' (a number) or ':' (a string of that many bytes follows). The
/// first token is the format version, kCompactVersion.

#include <callswap/attribution.hpp>
#include <callswap/config.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callswap {

inline constexpr int kCompactVersion = 1;

/// Reads the tokens of a compact text; any malformed token makes every later read fail.
class CompactReader {
 public:
  explicit CompactReader(std::string_view text) : rest_(text) {}

  std::optional<std::uint32_t> number();
  std::optional<std::string_view> text();
  /// Whether every token was well-formed and all of the text was read.
  [[nodiscard]] bool finished() const { return ok_ && rest_.empty(); }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  std::optional<std::uint32_t> head(char kind);
  std::string_view rest_;
  bool ok_ = true;
};

/// Writes the tokens CompactReader reads.
class CompactWriter {
 public:
  void number(std::uint32_t value);
  void text(std::string_view value);
  [[nodiscard]] const std::string& str() const { return out_; }

 private:
  std::string out_;
};

/// The compact form of a config that parse_site_config/load_site_config accepted.
std::string to_compact(const SiteConfig& config);

/// Reads what to_compact wrote. Checks only what keeps the result safe to use (a known
/// country, valid E.164 numbers, enum values in range); nullopt when the text is not a
/// compact config of this version. A config that passed validation reads back equal.
std::optional<SiteConfig> from_compact(std::string_view text);

/// The same without the consent section, which is written last and left unread (`consent`
/// keeps its defaults): what the first-swap module needs, and all of its reader's code.
std::optional<SiteConfig> from_compact_without_consent(std::string_view text);

/// An earlier touch as the browser hands it to the core: the source, then the campaign's
/// utm_source, utm_medium, utm_campaign, utm_term, utm_content, click_id and click_id_value,
/// as compact strings. nullopt when malformed or without a source.
std::optional<Touch> touch_from_compact(std::string_view text);
std::string to_compact(const Touch& touch);
/// The campaign's seven strings in that order, as a touch writes them after its source.
void write_campaign(CompactWriter& out, const Campaign& campaign);

}  // namespace callswap
