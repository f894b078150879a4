#pragma once
/// \file The one time type of callswap: milliseconds since the Unix epoch. The core never
/// reads a clock (time is passed in, so tests move it); the server's wall clock is
/// server/clock.hpp.

#include <cstdint>

namespace callswap {

using Millis = std::int64_t;

}  // namespace callswap
