#pragma once
// Code-point reading over UTF-8 bytes or UTF-16 code units, for the matcher's separators.
// Private to the core.

#include <cstddef>
#include <string_view>

namespace callswap::detail {

struct CodePoint {
  char32_t value;
  std::size_t length;  // in code units
};

inline constexpr char32_t kReplacement = 0xFFFD;

/// Decodes the UTF-8 sequence at `at`. An invalid or truncated sequence reads as one
/// U+FFFD of length 1, so offsets never move past bytes that were not consumed.
inline CodePoint decode_at(std::string_view s, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, value = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, value = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, value = lead & 0x07, min = 0x10000;
  } else {
    return {kReplacement, 1};
  }
  if (at + length > s.size()) return {kReplacement, 1};
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char c = byte(at + i);
    if ((c & 0xC0) != 0x80) return {kReplacement, 1};
    value = (value << 6) | (c & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return {kReplacement, 1};
  }
  return {value, length};
}

/// UTF-16: every code unit stands for itself; the separators are all in the BMP.
inline CodePoint decode_at(std::u16string_view s, std::size_t at) {
  return {s[at], 1};
}

/// Where the first invalid UTF-8 sequence starts, or npos.
inline std::size_t first_invalid_utf8(std::string_view s) {
  for (std::size_t at = 0; at < s.size();) {
    const CodePoint cp = decode_at(s, at);
    if (cp.value == kReplacement && cp.length == 1) return at;
    at += cp.length;
  }
  return std::string_view::npos;
}

}  // namespace callswap::detail
