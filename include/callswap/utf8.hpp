#pragma once
/// \file UTF-8 validation and encoding.

#include <cstddef>
#include <string>
#include <string_view>

namespace callswap {

/// The byte offset of the first invalid UTF-8 sequence in `text`, or npos if it is valid.
std::size_t first_invalid_utf8(std::string_view text);

/// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF) to `out`.
void append_utf8(std::string& out, char32_t cp);

}  // namespace callswap
