#include "caller_vault.hpp"

#include <catch2/catch.hpp>

using callswap::server::CallerVault;

namespace {
CallerVault vault(const char* current = "k2") {
  return CallerVault({{"k1", std::string(32, '\x01')}, {"k2", std::string(32, '\x02')}}, current,
                     std::string(32, '\x03'));
}
}  // namespace

TEST_CASE("Caller numbers are sealed with AES-256-GCM and open only with their key, unaltered",
          "[privacy][vault]") {
  const auto v = vault();
  const auto sealed = v.seal("+4915112345678");
  CHECK(sealed.key_id == "k2");
  CHECK(sealed.ciphertext.find("4915112345678") == std::string::npos);
  CHECK(v.open(sealed) == std::optional<std::string>("+4915112345678"));
  CHECK(v.seal("+4915112345678").ciphertext != sealed.ciphertext);  // a fresh nonce each time
  // An older key still opens what it sealed: rotation re-seals at leisure.
  const auto old = vault("k1").seal("+4915112345678");
  CHECK(old.key_id == "k1");
  CHECK(v.open(old) == std::optional<std::string>("+4915112345678"));

  auto altered = sealed;
  altered.ciphertext[20] = altered.ciphertext[20] == 'A' ? 'B' : 'A';
  CHECK_FALSE(v.open(altered));
  CHECK_FALSE(v.open({"k9", sealed.ciphertext}));
  CHECK_FALSE(v.open({"k2", "not base64!"}));
  CHECK_FALSE(v.open({"k2", ""}));
}

TEST_CASE("The keyed hash finds a caller; the mask shows a caller to people", "[privacy][vault]") {
  const auto v = vault();
  CHECK(v.hash("+4915112345678") == v.hash("+4915112345678"));
  CHECK(v.hash("+4915112345678") != v.hash("+4915112345679"));
  CHECK(v.hash("+4915112345678").size() == 64);
  CHECK(CallerVault::mask("+49301234567") == "+49 30 ****567");
  CHECK(CallerVault::mask("+15551234567") == "+1 555 ****567");
  CHECK(CallerVault::mask("+4915112345678") == "+49 151 *****678");
  CHECK(CallerVault::mask("anonymous") == "****");
  CHECK(CallerVault::key_from_hex(std::string(64, 'a')) ==
        std::optional<std::string>(std::string(32, '\xaa')));
  CHECK_FALSE(CallerVault::key_from_hex("abc"));
  CHECK_FALSE(CallerVault::key_from_hex(std::string(64, 'g')));
  CHECK_THROWS_WITH(CallerVault({{"k1", "short"}}, "k1", std::string(32, 'x')),
                    Catch::Contains("not 32 bytes"));
  CHECK_THROWS_WITH(CallerVault({{"k1", std::string(32, 'x')}}, "k2", std::string(32, 'x')),
                    Catch::Contains("not among the keys"));
}
