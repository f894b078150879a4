#pragma once
/// \file A value or an error message, for results that can fail on bad input.
/// The core does not throw: the browser build runs without exception support.

#include <string>
#include <utility>
#include <variant>

namespace callswap {

/// Why an input was rejected, in words a user can act on.
struct Error {
  std::string message;
};

/// Either a T or an Error (std::expected is C++23; Emscripten 3.1.6's libc++ lacks it).
template <class T>
class Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Expected(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  [[nodiscard]] const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace callswap
