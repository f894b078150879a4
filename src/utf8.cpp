#include <callswap/utf8.hpp>

#include "text.hpp"

namespace callswap {

std::size_t first_invalid_utf8(std::string_view text) { return detail::first_invalid_utf8(text); }

}  // namespace callswap
