#pragma once
// What every fuzz target shares: a broken invariant traps, so libFuzzer reports a wrong
// answer as a crash and keeps the input, not only a memory error.

#include <cstdint>
#include <string>
#include <string_view>

namespace fuzz {

inline void require(bool condition) {
  if (!condition) __builtin_trap();
}

/// The input as text.
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Splits the input at the first NUL byte: two fields from one input, so the fuzzer can
/// vary both (a header and a body, a URL and a form).
inline std::pair<std::string_view, std::string_view> split(std::string_view input) {
  const std::size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return {input, {}};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

/// `text` with one bit of one byte changed (which byte: `at`, wrapped); `text` not empty.
inline std::string flipped(std::string_view text, std::size_t at) {
  std::string out(text);
  out[at % out.size()] = static_cast<char>(out[at % out.size()] ^ 0x01);
  return out;
}

}  // namespace fuzz
