#pragma once
// Helpers shared by the core tests: UTF-8 ↔ UTF-16 and short ways to run the matcher.

#include <callswap/formatter.hpp>
#include <callswap/matcher.hpp>
#include <callswap/utf8.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace test {

inline std::u16string to_utf16(std::string_view utf8) {
  std::u16string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    char32_t cp = b;
    std::size_t len = 1;
    if (b >= 0xF0)
      cp = b & 0x07, len = 4;
    else if (b >= 0xE0)
      cp = b & 0x0F, len = 3;
    else if (b >= 0xC0)
      cp = b & 0x1F, len = 2;
    for (std::size_t k = 1; k < len; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

inline std::string to_utf8(std::u16string_view utf16) {
  std::string out;
  for (std::size_t i = 0; i < utf16.size(); ++i) {
    char32_t cp = utf16[i];
    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < utf16.size()) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (utf16[++i] - 0xDC00);
    }
    callswap::append_utf8(out, cp);
  }
  return out;
}

inline callswap::Matcher matcher(std::string_view country, std::vector<std::string> targets) {
  auto m = callswap::Matcher::create(country, targets);
  INFO((m.ok() ? std::string() : m.error().message));
  REQUIRE(m.ok());
  return std::move(m).value();
}

/// The matched substrings, in order.
inline std::vector<std::string> found(const callswap::Matcher& m, std::string_view text) {
  std::vector<std::string> out;
  for (const auto& match : m.find(text))
    out.emplace_back(text.substr(match.start, match.end - match.start));
  return out;
}

/// Replaces the single "{}" in `pattern` with `value`.
inline std::string embed(std::string_view pattern, std::string_view value) {
  std::string out(pattern);
  const auto at = out.find("{}");
  out.replace(at, 2, value);
  return out;
}

}  // namespace test
