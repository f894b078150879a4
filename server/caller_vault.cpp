#include "caller_vault.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <callswap/phone_number.hpp>
#include <memory>
#include <stdexcept>

#include "crypto.hpp"
#include "hex.hpp"

namespace callswap::server {
namespace {

constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  if (text.ends_with("=="))
    size -= 2;
  else if (text.ends_with("="))
    size -= 1;
  out.resize(size);
  return out;
}

}  // namespace

CallerVault::CallerVault(std::vector<Key> keys, std::string current_id, std::string hash_key)
    : keys_(std::move(keys)), current_(std::move(current_id)), hash_key_(std::move(hash_key)) {
  bool found = false;
  for (const Key& k : keys_) {
    if (k.bytes.size() != 32)
      throw std::invalid_argument("caller key " + k.id + " is not 32 bytes");
    found = found || k.id == current_;
  }
  if (!found)
    throw std::invalid_argument("the current caller key " + current_ + " is not among the keys");
  if (hash_key_.size() != 32) throw std::invalid_argument("the caller hash key is not 32 bytes");
}

SealedCaller CallerVault::seal(std::string_view e164) const {
  const Key* key = nullptr;
  for (const Key& k : keys_) {
    if (k.id == current_) key = &k;
  }
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, kNonceBytes) != 1) throw std::runtime_error("no random bytes for a nonce");
  CipherContext ctx(EVP_CIPHER_CTX_new());
  std::string out(reinterpret_cast<const char*>(nonce), kNonceBytes);
  out.resize(kNonceBytes + e164.size() + kTagBytes);
  int length = 0;
  auto* cipher = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key->bytes.data()), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher, &length,
                        reinterpret_cast<const unsigned char*>(e164.data()),
                        static_cast<int>(e164.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, cipher + e164.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return SealedCaller{key->id, base64(out)};
}

std::optional<std::string> CallerVault::open(const SealedCaller& sealed) const {
  const Key* key = nullptr;
  for (const Key& k : keys_) {
    if (k.id == sealed.key_id) key = &k;
  }
  const auto bytes = unbase64(sealed.ciphertext);
  if (!key || !bytes || bytes->size() < kNonceBytes + kTagBytes) return std::nullopt;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes->data());
  const int text_length = static_cast<int>(bytes->size()) - kNonceBytes - kTagBytes;
  std::string plain(static_cast<std::size_t>(text_length), '\0');
  CipherContext ctx(EVP_CIPHER_CTX_new());
  int length = 0;
  std::string tag(reinterpret_cast<const char*>(data + kNonceBytes + text_length), kTagBytes);
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key->bytes.data()), data) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length,
                        data + kNonceBytes, text_length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + length,
                          &length) != 1) {
    return std::nullopt;  // wrong key or altered: the tag does not verify
  }
  return plain;
}

std::string CallerVault::hash(std::string_view e164) const {
  return hmac_sha256_hex(hash_key_, e164);
}

std::string erased_call_key(const CallerVault* vault, std::string_view provider_call_id) {
  const std::string labelled = "call:" + std::string(provider_call_id);
  return vault ? vault->hash(labelled) : sha256_hex(labelled);
}

std::string CallerVault::mask(std::string_view e164) {
  auto number = parse_e164(e164);
  if (!number) return "****";
  const std::vector<std::size_t> groups = usual_grouping(*number);
  const std::string& n = number->national;
  std::string out = "+" + number->calling_code + " " + n.substr(0, groups.front()) + " ";
  const std::size_t rest = n.size() - groups.front();
  const std::size_t shown = std::min<std::size_t>(3, rest);
  out += std::string(rest - shown, '*') + n.substr(n.size() - shown);
  return out;
}

std::optional<std::string> CallerVault::key_from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  return from_hex(hex);
}

}  // namespace callswap::server
