// libFuzzer target for the generic call webhook (POST /v1/webhooks/calls) as the server
// reads it (server/requests.cpp). The input is the X-Callswap-Timestamp header, a NUL, then
// the body. Invariants: a timestamp is accepted exactly when it is 1 to 12 digits, and
// reads as their value; the signature the sender computes verifies, and changing any one
// byte of the body or the timestamp makes it fail; an accepted body has a call id of 1 to
// 128 bytes, a status of 1 to 32 bytes and a duration of 0 to 10^7 seconds.

#include <algorithm>
#include <string>

#include "crypto.hpp"
#include "fuzz_check.hpp"
#include "requests.hpp"

namespace {

using fuzz::require;
constexpr std::string_view kSecret = "fuzzing-secret-0123456789";

bool digits_only(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [timestamp, body] = fuzz::split(fuzz::text(data, size));
  const auto seconds = callswap::server::parse_webhook_timestamp(timestamp);
  require(seconds.has_value() ==
          (!timestamp.empty() && timestamp.size() <= 12 && digits_only(timestamp)));
  if (seconds) {
    std::string expected(
        timestamp.substr(std::min(timestamp.find_first_not_of('0'), timestamp.size() - 1)));
    require(std::to_string(*seconds) == expected);
  }

  const std::string signature = callswap::server::calls_signature(kSecret, timestamp, body);
  require(signature.size() == 7 + 64 && signature.starts_with("sha256="));
  require(callswap::server::equal_in_constant_time(
      signature, callswap::server::calls_signature(kSecret, timestamp, body)));
  if (!body.empty()) {
    const std::string other =
        callswap::server::calls_signature(kSecret, timestamp, fuzz::flipped(body, size));
    require(!callswap::server::equal_in_constant_time(signature, other));
  }
  if (!timestamp.empty()) {
    const std::string other =
        callswap::server::calls_signature(kSecret, fuzz::flipped(timestamp, size), body);
    require(!callswap::server::equal_in_constant_time(signature, other));
  }
  // A signature one byte off does not verify either.
  require(!callswap::server::equal_in_constant_time(signature, fuzz::flipped(signature, size)));

  const auto parsed = callswap::server::parse_call_event(body);
  if (const auto* error = std::get_if<callswap::server::RequestError>(&parsed)) {
    require(error->status == 400 &&
            (error->code == "invalid_json" || error->code == "invalid_body"));
    require(!error->message.empty());
    return 0;
  }
  const auto& call = std::get<callswap::server::CallReport>(parsed);
  require(!call.id.empty() && call.id.size() <= 128);
  require(!call.status.empty() && call.status.size() <= 32);
  require(call.duration_seconds >= 0 && call.duration_seconds <= 10'000'000);
  return 0;
}
