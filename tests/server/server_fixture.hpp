#pragma once
// What the in-process server tests share: the test operator config, a running server on an
// ephemeral port with its log captured, the real httplib client, signed webhook helpers and
// a clock the test moves.

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <callswap/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "crypto.hpp"
#include "http_server.hpp"
#include "temp_dir.hpp"

using callswap::Millis;
namespace json = callswap::json;

namespace {

constexpr Millis kStart = 1'790'000'000'000;  // 2026-09
constexpr Millis kMinute = 60'000;

std::string operator_config(const char* when_exhausted = "static", int cooldown_minutes = 15) {
  return std::string(R"({
    "public_url": "https://track.example.com",
    "sites": [{
      "config": {
        "site": "acme", "country": "DE", "targets": ["+49301234567"], "pools": ["ads"],
        "sources": [
          {"id": "google-ads", "static": "+49301111111", "pool": "ads", "match": {"click_ids": ["gclid"]}},
          {"id": "newsletter", "static": "+49301111113", "match": {"params": {"utm_medium": "email"}}},
          {"id": "direct", "static": "+49301234567", "default": true}
        ]
      },
      "allowed_origins": ["https://acme.example"],
      "pools": {"ads": {"numbers": ["+49309000001", "+49309000002", "+49309000003"], "hold_minutes": 30,
                        "cooldown_minutes": )") +
         std::to_string(cooldown_minutes) + R"(, "when_exhausted": ")" + when_exhausted + R"("}},
      "attribution_grace_minutes": 30
    }],
    "webhooks": {"twilio_auth_token": "twilio-auth-token-0123456789", "calls_secret": "calls-secret-0123456789abcdef"},
    "limits": {"max_body_bytes": 4096, "threads": 8, "rate_per_minute": 0, "admin_rate_per_minute": 0, "webhook_rate_per_minute": 0}
  })";
}

using test::TempDir;

// The test config with caller keys and three admin keys: "reports-key", "dpo-key" (subjects,
// callers' numbers in clear) and "support-key" (subjects, numbers masked).
inline std::string config_with_keys() {
  std::string config = operator_config();
  config.insert(config.rfind('}'),
                R"(, "caller_numbers": {"keys": [{"id": "k1", "key": ")" + std::string(64, '1') +
                    R"("}], "current": "k1", "hash_key": ")" + std::string(64, '3') + R"("})");
  // The config holds the keys' SHA-256, never the keys themselves.
  config.insert(config.rfind('}'), R"(, "admin_keys": [
      {"id": "reports", "sha256": ")" + callswap::server::sha256_hex("reports-key") +
                                       R"(", "scopes": ["reports"]},
      {"id": "dpo", "sha256": ")" + callswap::server::sha256_hex("dpo-key") +
                                       R"(", "scopes": ["subjects", "callers"]},
      {"id": "support", "sha256": ")" + callswap::server::sha256_hex("support-key") +
                                       R"(", "scopes": ["subjects"]}])");
  return config;
}

// True once no file of the SQLite database at `path` (the database, its write-ahead log and
// its shared-memory index) holds `value` anywhere in its raw bytes. An erasure is
// acknowledged once durable and scrubbed from the log within a moment: waits up to 3 s.
inline bool erased_from_disk(const std::string& path, const std::string& value) {
  for (int attempt = 0; attempt < 30; ++attempt) {
    bool found = false;
    for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      found = found || bytes.find(value) != std::string::npos;
    }
    if (!found) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// One running server; stops and joins when it goes out of scope.
class Running {
 public:
  Running(const std::string& config_json, const std::string& database, std::atomic<Millis>& clock) {
    auto config = callswap::server::load_operator_config(
        config_json, [](const std::string&) { return std::nullopt; });
    INFO((config.ok() ? std::string() : config.errors.front().to_string()));
    REQUIRE(config.ok());
    server_ = std::make_unique<callswap::server::Server>(
        std::move(*config.config), callswap::server::open_sqlite_store(database),
        [&clock] { return clock.load(); });
    server_->set_log_sink([this](const std::string& line) {
      std::lock_guard lock(log_mutex_);
      logs_ += line + "\n";
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::yield();
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  ~Running() {
    server_->stop();
    thread_.join();
    // Every log line of the suite goes to one place the privacy scan reads (tests/privacy).
    if (const char* dir = std::getenv("CALLSWAP_TEST_LOG_DIR")) {
      std::ofstream(std::string(dir) + "/server_tests.log", std::ios::app) << logs();
    }
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_tcp_nodelay(true);
    return c;
  }
  [[nodiscard]] std::string logs() {
    std::lock_guard lock(log_mutex_);
    return logs_;
  }
  callswap::server::Server& server() { return *server_; }

 private:
  std::unique_ptr<callswap::server::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex log_mutex_;
  std::string logs_;
};

json::Value body_of(const httplib::Result& r) {
  REQUIRE(r);
  auto v = json::parse(r->body);
  INFO(r->body);
  REQUIRE(v.ok());
  return *v;
}

std::string error_code(const httplib::Result& r) {
  const json::Value body = body_of(r);
  REQUIRE(body.find("error"));
  CHECK(body.find("error")->find("message")->is_string());
  return body.find("error")->find("code")->as_string();
}

httplib::Result new_session(httplib::Client& c, const char* source = "google-ads") {
  return c.Post(
      "/v1/sites/acme/sessions",
      std::string(R"({"source": ")") + source +
          R"(", "landing_path": "/offer?utm_source=google&email=jane%40example.com", "consent": true, "campaign": {"utm_source": "google", "click_id": "gclid"}})",
      "application/json");
}

// Twilio's signature, computed here independently of the server's code.
std::string twilio_signature(const std::string& token, const std::string& url,
                             const std::map<std::string, std::string>& params) {
  std::string data = url;
  for (const auto& [k, v] : params) data += k + v;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha1(), token.data(), static_cast<int>(token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  std::string out(64, '\0');
  out.resize(static_cast<std::size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(size))));
  return out;
}

std::string form(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    out += (out.empty() ? "" : "&") + k + "=";
    for (char c : v) {
      if (c == '+')
        out += "%2B";
      else if (c == ' ')
        out += "+";
      else
        out.push_back(c);
    }
  }
  return out;
}

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) out += std::string{kHex[mac[i] >> 4], kHex[mac[i] & 0xF]};
  return out;
}

httplib::Result post_call(httplib::Client& c, const std::string& body, Millis sent_ms,
                          const std::string& secret = "calls-secret-0123456789abcdef") {
  const std::string ts = std::to_string(sent_ms / 1000);
  return c.Post("/v1/webhooks/calls",
                httplib::Headers{
                    {"X-Callswap-Timestamp", ts},
                    {"X-Callswap-Signature", "sha256=" + hmac_sha256_hex(secret, ts + "." + body)}},
                body, "application/json");
}

// The usual setup: the test config, a fresh database, a clock at kStart, a client.
struct ServerFixture {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server{operator_config(), dir.file("callswap.db"), now};
  httplib::Client c = server.client();
};

}  // namespace
