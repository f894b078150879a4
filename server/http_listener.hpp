#pragma once
// How callswap-server holds its connections, so that slow and idle clients cannot take the
// workers a new visitor needs. cpp-httplib gives every connection a worker thread for its
// whole life; this keeps that model (handlers stay plain blocking code) and bounds what a
// connection may cost:
//   - a worker per connection, started on demand up to `max_connections`, so connections
//     never wait in a queue behind idle or stalled ones;
//   - past `max_connections` the accept thread answers 503 with Retry-After at once;
//   - a whole request (headers and body) must arrive within `request_timeout`, so a client
//     trickling a byte a second is cut, not served forever;
//   - an idle keep-alive connection waits in poll() (no polling loop) for `keep_alive`.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace callswap::server {

struct ConnectionLimits {
  int max_connections = 2048;
  int ready_threads = 32;  ///< workers kept running while idle
  std::chrono::seconds keep_alive{5};
  std::chrono::seconds request_timeout{10};
  int listen_backlog = 1024;
  std::size_t keep_alive_max_requests = 1000;
  int retry_after_seconds = 1;
};

class HttpListener : public httplib::Server {
 public:
  explicit HttpListener(ConnectionLimits limits);
  ~HttpListener() override;
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  /// httplib listens with a backlog of 5 (compiled into Debian's library); Linux lets a
  /// listening socket's backlog be raised by calling listen() again. Call after binding.
  bool apply_backlog();
  /// Wakes every connection waiting idle for its next request, then stops httplib.
  void stop_serving();

  /// Connections admitted and not yet closed, and those refused with 503 since start.
  [[nodiscard]] int open_connections() const;
  [[nodiscard]] long refused_connections() const;

  /// The open-file limit is raised as far as the hard limit allows; answers the soft limit
  /// now in force, so the caller can warn when it is below what max_connections needs.
  static long raise_open_file_limit(long wanted);

 private:
  bool process_and_close_socket(socket_t sock) override;
  void refuse(socket_t sock);

  class ConnectionQueue;
  class LingeringCloser;
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace callswap::server
