#pragma once
// Caller numbers at rest: encrypted with AES-256-GCM under a key id, so keys can
// be rotated; a keyed hash beside them finds a data subject without decrypting everything;
// reports and logs see them masked.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callswap::server {

struct SealedCaller {
  std::string key_id;
  std::string ciphertext;  ///< base64 of nonce (12 bytes), ciphertext and tag (16 bytes)
};

class CallerVault {
 public:
  struct Key {
    std::string id;
    std::string bytes;  ///< 32 bytes
  };
  /// `keys` must contain `current_id`; every key and `hash_key` is 32 bytes.
  CallerVault(std::vector<Key> keys, std::string current_id, std::string hash_key);

  [[nodiscard]] SealedCaller seal(std::string_view e164) const;
  /// The number, or nullopt if the key is unknown or the ciphertext was altered.
  [[nodiscard]] std::optional<std::string> open(const SealedCaller& sealed) const;
  /// HMAC-SHA256 of the number under the hash key, hex: equal numbers, equal hashes.
  [[nodiscard]] std::string hash(std::string_view e164) const;
  [[nodiscard]] const std::string& current_key_id() const { return current_; }

  /// "+49 30 ****567": the country and area code and the last three digits.
  static std::string mask(std::string_view e164);
  /// 64 hex characters to 32 bytes, or nullopt.
  static std::optional<std::string> key_from_hex(std::string_view hex);

 private:
  std::vector<Key> keys_;
  std::string current_;
  std::string hash_key_;
};

/// What an erased call's tombstone holds: a keyed hash of the provider's call id under the
/// vault's hash key, so the id itself is never kept. Without caller keys there is no secret
/// to key it with, and it is a SHA-256 (docs/privacy.md says so).
std::string erased_call_key(const CallerVault* vault, std::string_view provider_call_id);

}  // namespace callswap::server
