#pragma once
/// \file Writing a replacement number in the style of the number it replaces.

#include <callswap/matcher.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callswap {

/// Writes `replacement` the way `matched` (the text of `match`) wrote `original`:
/// the same international or national form and the same separators and grouping when
/// the national numbers have the same length; otherwise the page's separators with the
/// replacement country's usual grouping. A tel: match becomes "tel:+<E.164>".
/// Formatting `original` itself reproduces `matched` byte for byte (text matches).
std::string format_like(std::string_view matched, const Match& match, const PhoneNumber& original,
                        const PhoneNumber& replacement);
std::u16string format_like(std::u16string_view matched, const Match& match,
                           const PhoneNumber& original, const PhoneNumber& replacement);

/// One replacement of text[start, end) by `text`.
template <class CharT>
struct Edit {
  std::size_t start = 0;
  std::size_t end = 0;
  std::basic_string<CharT> text;
};

/// The edits that put `replacements[m.target]` in place of every match whose target has a
/// replacement (std::nullopt leaves that target alone). `replacements` has one entry per target.
std::vector<Edit<char>> plan_edits(std::string_view text, std::span<const Match> matches,
                                   const Matcher& matcher,
                                   std::span<const std::optional<PhoneNumber>> replacements);
std::vector<Edit<char16_t>> plan_edits(std::u16string_view text, std::span<const Match> matches,
                                       const Matcher& matcher,
                                       std::span<const std::optional<PhoneNumber>> replacements);

/// Applies non-overlapping edits sorted by position.
std::string apply_edits(std::string_view text, std::span<const Edit<char>> edits);
std::u16string apply_edits(std::u16string_view text, std::span<const Edit<char16_t>> edits);

}  // namespace callswap
