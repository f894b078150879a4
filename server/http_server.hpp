#pragma once
// The callswap HTTP server: thin handlers that parse and validate, call the
// pools or the store, and answer JSON. Time comes from an injected clock.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "clock.hpp"
#include "operator_config.hpp"
#include "store.hpp"
#include "subjects.hpp"

namespace callswap::server {

class HttpListener;

using Clock = std::function<Millis()>;

class Server {
 public:
  Server(OperatorConfig config, std::unique_ptr<Store> store, Clock clock = system_now);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds to `host` on a free port (tests) and returns it, or -1.
  int bind_to_any_port(const std::string& host);
  /// Binds to the configured host and port.
  bool bind();
  /// Serves until stop(); returns false if serving failed.
  bool listen_after_bind();
  /// Stops accepting, lets in-flight requests finish, and returns.
  void stop();
  [[nodiscard]] bool is_running() const;

  /// Ends idle sessions in every pool (the background purge calls it; tests too).
  void expire_sessions();
  /// Records every pool's state for utilisation over time (the background thread calls it
  /// every minute; tests too).
  void sample_pools();

  /// Deletes what each site's retention settings say is too old (storage limitation), and
  /// for rows of no site or of a site no longer configured, what the default retention says.
  /// The background thread runs it hourly; `callswap-server purge` once. With the clock far
  /// ahead of the last purge it holds unless `accept_clock` (docs/privacy.md). Logs and
  /// returns the number of rows deleted.
  std::int64_t purge(bool accept_clock = false);

  /// Re-seals every caller number sealed with an older key under the current one
  /// (`callswap-server rotate-key`). Returns how many were re-sealed.
  std::int64_t rotate_caller_key();

  /// A data-subject request (`callswap-server subject ...`), as the admin API would answer it.
  SubjectOutcome subject(std::string_view action, const Json& request, const std::string& actor);

  /// Where one-line JSON logs go (stderr by default). No personal data is ever logged.
  void set_log_sink(std::function<void(const std::string&)> sink);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<HttpListener> http_;
};

}  // namespace callswap::server
