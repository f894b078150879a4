// libFuzzer target for Twilio's status callback (POST /v1/webhooks/twilio) as the server
// reads it (server/requests.cpp). The input is the request URL, a NUL, then the form body.
// Invariants: a form written out (every key and value percent-encoded) parses back to the
// same fields; the signature Twilio would send verifies; a one-byte change of the URL fails,
// and so does one of the body whenever it changes the parsed fields; an accepted call has a
// CallSid of 1 to 64 bytes, a status of 1 to 32 bytes and a duration of at most 7 digits.

#include <string>

#include "crypto.hpp"
#include "fuzz_check.hpp"
#include "requests.hpp"

namespace {

using fuzz::require;
using Form = std::multimap<std::string, std::string>;
constexpr std::string_view kToken = "fuzzing-auth-token-0123";

std::string encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [url, body] = fuzz::split(fuzz::text(data, size));
  const Form form = callswap::server::parse_form(body);

  std::string written;
  for (const auto& [key, value] : form) {
    if (!written.empty()) written += '&';
    written += encode(key) + '=' + encode(value);
  }
  // An empty key with an empty value is written as "=", which reads back as itself.
  require(callswap::server::parse_form(written) == form);

  const std::string signature = callswap::server::twilio_signature(kToken, url, form);
  require(callswap::server::equal_in_constant_time(
      signature, callswap::server::twilio_signature(kToken, url, form)));
  require(!callswap::server::equal_in_constant_time(signature, fuzz::flipped(signature, size)));
  if (!url.empty()) {
    require(!callswap::server::equal_in_constant_time(
        signature, callswap::server::twilio_signature(kToken, fuzz::flipped(url, size), form)));
  }
  if (!body.empty()) {
    const Form changed = callswap::server::parse_form(fuzz::flipped(body, size));
    if (changed != form) {
      require(!callswap::server::equal_in_constant_time(
          signature, callswap::server::twilio_signature(kToken, url, changed)));
    }
  }

  const auto parsed = callswap::server::parse_twilio_call(form);
  if (const auto* error = std::get_if<callswap::server::RequestError>(&parsed)) {
    require(error->status == 400 && error->code == "invalid_body" && !error->message.empty());
    return 0;
  }
  const auto& call = std::get<callswap::server::CallReport>(parsed);
  require(!call.id.empty() && call.id.size() <= 64 && call.id == form.find("CallSid")->second);
  require(!call.status.empty() && call.status.size() <= 32);
  require(call.duration_seconds >= 0 && call.duration_seconds <= 9'999'999);
  return 0;
}
