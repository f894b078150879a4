// A closed-loop client for bench/server: CONNECTIONS threads, each with one keep-alive
// connection, each assigning a session and releasing that same session, again and again,
// timing every request on its own (no coordinated-omission correction: a stalled request
// shows as itself). After SECONDS every thread finishes its pair, so every session it
// assigned is released. Prints one RESULT line; exits 1 if any request did not do its
// work (a fallback to a static number, another status, a socket error).
//   closed_loop PORT CONNECTIONS SECONDS
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Counts {
  std::vector<double> latencies_ms;
  long assigns = 0;
  long releases = 0;
  long fallbacks = 0;  // 200 with a static number: the pool gave none
  long other = 0;      // any other status
  long socket_errors = 0;
};

// The 32-hex-digit id in {"session":"…",…}, or "".
std::string session_of(const std::string& body) {
  const std::size_t at = body.find("\"session\":\"");
  if (at == std::string::npos || body.size() < at + 11 + 32) return {};
  return body.substr(at + 11, 32);
}

void run(int port, SteadyClock::time_point until, Counts& counts) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(30, 0);
  const std::string body =
      R"({"source": "ads", "consent": true, "landing_path": "/offer?utm_source=google"})";
  const auto timed = [&](auto&& send) {
    const auto start = SteadyClock::now();
    auto result = send();
    counts.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    return result;
  };
  while (SteadyClock::now() < until) {
    auto assigned =
        timed([&] { return client.Post("/v1/sites/acme/sessions", body, "application/json"); });
    if (!assigned) {
      ++counts.socket_errors;
      continue;
    }
    const std::string id = assigned->status == 201 ? session_of(assigned->body) : std::string();
    if (id.empty()) {
      const bool fallback =
          assigned->status == 200 && assigned->body.find("\"reason\"") != std::string::npos;
      ++(fallback ? counts.fallbacks : counts.other);
      continue;
    }
    ++counts.assigns;
    // The release is sent even past the end: no session is left holding a number. A socket
    // error is retried on a new connection, so the release is not lost with it.
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto released = timed([&] { return client.Delete("/v1/sessions/" + id); });
      if (!released) {
        ++counts.socket_errors;
        continue;
      }
      ++(released->status == 204 ? counts.releases : counts.other);
      break;
    }
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index =
      static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: closed_loop PORT CONNECTIONS SECONDS\n");
    return 2;
  }
  const int port = std::stoi(argv[1]);
  const int connections = std::stoi(argv[2]);
  const int seconds = std::stoi(argv[3]);
  std::vector<Counts> counts(static_cast<std::size_t>(connections));
  const auto start = SteadyClock::now();
  const auto until = start + std::chrono::seconds(seconds);
  {
    std::vector<std::jthread> threads;
    for (Counts& c : counts) threads.emplace_back([&] { run(port, until, c); });
  }
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  Counts total;
  for (Counts& c : counts) {
    total.latencies_ms.insert(total.latencies_ms.end(), c.latencies_ms.begin(),
                              c.latencies_ms.end());
    total.assigns += c.assigns;
    total.releases += c.releases;
    total.fallbacks += c.fallbacks;
    total.other += c.other;
    total.socket_errors += c.socket_errors;
  }
  std::sort(total.latencies_ms.begin(), total.latencies_ms.end());
  const long over_2s = std::count_if(total.latencies_ms.begin(), total.latencies_ms.end(),
                                     [](double ms) { return ms > 2000; });
  std::printf(
      "RESULT requests_per_second=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f over_2s=%ld "
      "socket_errors=%ld assigns=%ld releases=%ld "
      "fallbacks=%ld other=%ld\n",
      static_cast<double>(total.latencies_ms.size()) / elapsed, percentile(total.latencies_ms, 50),
      percentile(total.latencies_ms, 99),
      total.latencies_ms.empty() ? 0.0 : total.latencies_ms.back(), over_2s, total.socket_errors,
      total.assigns, total.releases, total.fallbacks, total.other);
  const bool all_did_their_work = total.assigns > 0 && total.assigns == total.releases &&
                                  total.fallbacks == 0 && total.other == 0 &&
                                  total.socket_errors == 0;
  if (!all_did_their_work)
    std::fprintf(stderr, "closed_loop: not every request did its work (see RESULT)\n");
  return all_did_their_work ? 0 : 1;
}
