#pragma once
// The few cryptographic pieces the server needs, from OpenSSL's libcrypto.

#include <string>
#include <string_view>

namespace callswap::server {

std::string base64(std::string_view bytes);  ///< standard alphabet, padded (HTTP Basic)
std::string hmac_sha1_base64(std::string_view key, std::string_view data);  ///< Twilio's signature
std::string hmac_sha256_hex(std::string_view key,
                            std::string_view data);  ///< the generic webhook's
std::string sha256_hex(std::string_view data);       ///< admin keys are stored so
/// Compares in time that does not depend on where the inputs differ.
bool equal_in_constant_time(std::string_view a, std::string_view b);
/// `bytes` random bytes from the operating system's generator, as hex.
std::string random_hex(std::size_t bytes);
/// 128 random bits from the operating system's generator, as 32 hex characters.
std::string random_id();

}  // namespace callswap::server
