#pragma once
/// \file UTF-8 validation for callers that must reject bad input (the CLI).

#include <cstddef>
#include <string_view>

namespace callswap {

/// The byte offset of the first invalid UTF-8 sequence in `text`, or npos if it is valid.
std::size_t first_invalid_utf8(std::string_view text);

}  // namespace callswap
