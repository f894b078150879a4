#pragma once
// The server's wall clock, in the core's time type. Everything that decides by time takes a
// clock as a parameter (the tests move theirs); this is the one that reads the system's.

#include <callswap/millis.hpp>
#include <chrono>

namespace callswap::server {

inline Millis system_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace callswap::server
