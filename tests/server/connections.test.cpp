// Slow and idle clients against the server's connection handling (server/http_listener.hpp):
// with the default limits, 256 stalled or trickling connections and 1,000 idle keep-alive
// connections leave a new visitor served within a second; past limits.max_connections a
// fast 503 with Retry-After; the request and keep-alive timeouts cut what holds on.

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "http_listener.hpp"
#include "raw_socket.hpp"
#include "server_fixture.hpp"

using namespace std::chrono_literals;
using test::RawSocket;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The test operator config with `limits` in place of its own.
std::string config_with_limits(const std::string& limits) {
  std::string config = operator_config();
  const std::size_t at = config.find(R"("limits": {)");
  const std::size_t end = config.find('}', at);
  return config.substr(0, at) + R"("limits": )" + limits + config.substr(end + 1);
}

std::chrono::milliseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
}

constexpr std::string_view kSessionBody = R"({"source": "google-ads", "consent": true})";

std::string session_request() {
  return "POST /v1/sites/acme/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(kSessionBody.size()) + "\r\n\r\n" + std::string(kSessionBody);
}

}  // namespace

TEST_CASE(
    "256 stalled or trickling connections and 1,000 idle keep-alive ones leave a new visitor "
    "served within 1 s") {
  // Two sockets per connection live in this process (client and server side).
  REQUIRE(callswap::server::HttpListener::raise_open_file_limit(4096) >= 4096);
  TempDir dir;
  std::atomic<Millis> now{kStart};
  // The default connection limits: no limits.max_connections, timeouts or threads here.
  Running server(config_with_limits(R"({"rate_per_minute": 0})"), dir.file("callswap.db"), now);

  const std::string request = session_request();
  std::vector<RawSocket> slow;
  // 64 stop inside the headers, 64 inside the body; 128 trickle a byte a second.
  for (int i = 0; i < 256; ++i) {
    RawSocket& s = slow.emplace_back(server.port());
    REQUIRE(s.connected());
    if (i < 64)
      REQUIRE(s.send(request.substr(0, 40)));
    else if (i < 128)
      REQUIRE(s.send(request.substr(0, request.size() - 10)));
    else
      REQUIRE(s.send(request.substr(0, 1)));
  }
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    for (std::size_t at = 1; trickling && at < request.size(); ++at) {
      for (std::size_t i = 128; i < slow.size(); ++i) slow[i].send(request.substr(at, 1));
      for (int tick = 0; tick < 10 && trickling; ++tick) std::this_thread::sleep_for(100ms);
    }
  });
  struct StopTrickle {
    std::atomic<bool>& flag;
    std::thread& thread;
    ~StopTrickle() {
      flag = false;
      thread.join();
    }
  } stop_trickle{trickling, trickle};

  // 1,000 browsers that asked for something and keep the connection open.
  std::vector<RawSocket> idle;
  for (int i = 0; i < 1000; ++i) {
    RawSocket& s = idle.emplace_back(server.port());
    REQUIRE(s.connected());
    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  }
  for (const RawSocket& s : idle) REQUIRE(s.read_response(5s).starts_with("HTTP/1.1 200"));

  // A new visitor, three times, and the health check on a new connection each.
  for (int attempt = 0; attempt < 3; ++attempt) {
    httplib::Client visitor = server.client();
    const auto start = SteadyClock::now();
    const auto created = new_session(visitor);
    const auto took = since(start);
    REQUIRE(created);
    CHECK(created->status == 201);
    CHECK(took < 1000ms);
    httplib::Client monitor = server.client();
    const auto health_start = SteadyClock::now();
    const auto health = monitor.Get("/healthz");
    const auto health_took = since(health_start);
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(health_took < 250ms);
    INFO("session " << took.count() << " ms, healthz " << health_took.count() << " ms");
  }
  // All of them were admitted and are still held open: none was refused or cut.
  int still_open = 0;
  for (const RawSocket& s : slow) still_open += s.quiet() ? 1 : 0;
  for (const RawSocket& s : idle) still_open += s.quiet() ? 1 : 0;
  CHECK(still_open == 1256);
}

TEST_CASE(
    "past limits.max_connections a new connection gets a fast 503 with Retry-After, and is served "
    "again once others close") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server(
      config_with_limits(R"({"rate_per_minute": 0, "max_connections": 16, "threads": 2})"),
      dir.file("callswap.db"), now);

  std::vector<RawSocket> held;
  for (int i = 0; i < 16; ++i) {
    RawSocket& s = held.emplace_back(server.port());
    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    REQUIRE(s.read_response(5s).starts_with("HTTP/1.1 200"));  // admitted, now idle
  }

  RawSocket over(server.port());
  const auto start = SteadyClock::now();
  REQUIRE(over.send(session_request()));
  const std::string answer = over.read_response(2s);
  const auto took = since(start);
  INFO(answer);
  CHECK(answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
  CHECK(answer.find("\r\nRetry-After: 1\r\n") != std::string::npos);
  CHECK(answer.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(took < 200ms);
  CHECK(over.closed_within(1s));
  // The body is the API's error shape, read by the same client the SDK tests use.
  httplib::Client c = server.client();
  const auto refused = new_session(c);
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->get_header_value("Retry-After") == "1");
  CHECK(error_code(refused) == "overloaded");

  held.clear();
  // The slots come back as the held connections close.
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    httplib::Client again = server.client();
    const auto created = new_session(again);
    served = created && created->status == 201;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  CHECK(served);
}

TEST_CASE(
    "a request that does not arrive within limits.request_timeout_seconds, and an idle connection, "
    "are cut") {
  TempDir dir;
  std::atomic<Millis> now{kStart};
  Running server(
      config_with_limits(
          R"({"rate_per_minute": 0, "request_timeout_seconds": 1, "keep_alive_seconds": 1, "threads": 2})"),
      dir.file("callswap.db"), now);
  const std::string request = session_request();

  // A byte every 100 ms never waits long enough for a per-read timeout; the request's
  // deadline still ends it.
  RawSocket trickler(server.port());
  const auto start = SteadyClock::now();
  bool cut = false;
  for (std::size_t at = 0; at < request.size() && since(start) < 5s; ++at) {
    if (!trickler.quiet() || !trickler.send(request.substr(at, 1))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  CHECK(cut);
  CHECK(since(start) < 2500ms);
  CHECK(since(start) >= 900ms);

  // Connected and silent: closed after the keep-alive time.
  RawSocket silent(server.port());
  const auto silent_start = SteadyClock::now();
  CHECK(silent.closed_within(3s));
  CHECK(since(silent_start) >= 900ms);

  // A prompt request on the same server is unaffected.
  httplib::Client c = server.client();
  const auto created = new_session(c);
  REQUIRE(created);
  CHECK(created->status == 201);
}
