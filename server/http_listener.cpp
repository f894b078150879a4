#include "http_listener.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "subjects.hpp"

namespace callswap::server {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Set on the accept thread while it runs a connection it refuses (see ConnectionQueue).
thread_local bool refusing_connection = false;

// Waits for `events` on `sock` until `deadline`; with a `wake_fd`, also returns (false)
// as soon as that becomes readable.
bool wait_for(int sock, short events, SteadyClock::time_point deadline, int wake_fd = -1) {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) return false;
    std::array<pollfd, 2> fds{pollfd{sock, events, 0}, pollfd{wake_fd, POLLIN, 0}};
    const int ready = ::poll(fds.data(), wake_fd >= 0 ? 2 : 1,
                             static_cast<int>(std::min<long long>(left, 60'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return false;
    if (wake_fd >= 0 && fds[1].revents) return false;
    if (ready > 0)
      return fds[0].revents != 0;  // readable, writable, or closed (the read says which)
  }
}

void address_of(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  std::array<char, NI_MAXHOST> host{};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host.data(), host.size(),
                  nullptr, 0, NI_NUMERICHOST) == 0) {
    ip = host.data();
  }
  if (address.ss_family == AF_INET)
    port = ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6)
    port = ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
}

// One connection's byte stream for httplib's request parser. Kept for the whole connection,
// so bytes of a pipelined next request stay buffered; every read of a request shares one
// deadline, set when the request's first byte arrived.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int sock, std::chrono::seconds timeout) : sock_(sock), timeout_(timeout) {}

  // Waits for the first byte of the next request: buffered already, or arriving within
  // `keep_alive`, unless the server is stopping (`stop_fd`).
  bool wait_for_request(std::chrono::seconds keep_alive, int stop_fd) {
    if (offset_ < length_) return true;
    return wait_for(sock_, POLLIN, SteadyClock::now() + keep_alive, stop_fd);
  }
  void start_request() { deadline_ = SteadyClock::now() + timeout_; }

  bool is_readable() const override {
    return offset_ < length_ || wait_for(sock_, POLLIN, deadline_);
  }
  bool is_writable() const override {
    return wait_for(sock_, POLLOUT, SteadyClock::now() + timeout_);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (offset_ == length_) {
      if (!wait_for(sock_, POLLIN, deadline_)) return -1;
      ssize_t n = 0;
      do {
        n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      offset_ = 0;
      length_ = static_cast<std::size_t>(n);
    }
    const std::size_t count = std::min(size, length_ - offset_);
    std::memcpy(ptr, buffer_.data() + offset_, count);
    offset_ += count;
    return static_cast<ssize_t>(count);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n = 0;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      address_of(address, length, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      address_of(address, length, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  int sock_;
  std::chrono::seconds timeout_;
  SteadyClock::time_point deadline_ = SteadyClock::now();
  std::array<char, 4096> buffer_{};
  std::size_t offset_ = 0;
  std::size_t length_ = 0;
};

std::string overloaded_response(int retry_after_seconds) {
  const std::string body =
      error_body("overloaded", "the server has too many open connections; retry after " +
                                   std::to_string(retry_after_seconds) + " s")
          .dump();
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nRetry-After: " + std::to_string(retry_after_seconds) +
         "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

// A refused connection has been answered and shut for writing; closing it at once would
// reset it while the client's request is still arriving, and the reset can destroy the 503
// before the client reads it. This thread reads and discards until the client closes (or
// 2 s pass), then closes. It holds at most 1,024 such sockets; beyond that they close at once.
class HttpListener::LingeringCloser {
 public:
  LingeringCloser() : wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), thread_([this] { run(); }) {}
  ~LingeringCloser() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake();
    thread_.join();
    for (const Pending& p : pending_) ::close(p.sock);
    for (const Pending& p : added_) ::close(p.sock);
    ::close(wake_);
  }
  LingeringCloser(const LingeringCloser&) = delete;
  LingeringCloser& operator=(const LingeringCloser&) = delete;

  void add(int sock) {
    {
      std::lock_guard lock(mutex_);
      if (added_.size() + held_ < kMaxHeld) {
        added_.push_back({sock, SteadyClock::now() + std::chrono::seconds(2)});
        sock = -1;
      }
    }
    if (sock >= 0) {
      ::close(sock);
    } else {
      wake();
    }
  }

 private:
  struct Pending {
    int sock;
    SteadyClock::time_point deadline;
  };
  static constexpr std::size_t kMaxHeld = 1024;

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof(one));
  }

  void run() {
    std::array<char, 4096> scratch{};
    std::vector<pollfd> fds;
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        pending_.insert(pending_.end(), added_.begin(), added_.end());
        added_.clear();
        held_ = pending_.size();
      }
      fds.assign(1, pollfd{wake_, POLLIN, 0});
      for (const Pending& p : pending_) fds.push_back(pollfd{p.sock, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 100);
      std::uint64_t count = 0;
      [[maybe_unused]] const auto n = ::read(wake_, &count, sizeof(count));
      const auto now = SteadyClock::now();
      std::vector<Pending> kept;
      for (std::size_t i = 0; i < pending_.size(); ++i) {
        bool done = now >= pending_[i].deadline;
        if (!done && fds[i + 1].revents) {
          for (;;) {
            const ssize_t got =
                ::recv(pending_[i].sock, scratch.data(), scratch.size(), MSG_DONTWAIT);
            if (got > 0) continue;
            done = got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
            break;
          }
        }
        if (done) {
          ::close(pending_[i].sock);
        } else {
          kept.push_back(pending_[i]);
        }
      }
      pending_ = std::move(kept);
    }
  }

  int wake_;
  std::mutex mutex_;
  bool stopping_ = false;
  std::vector<Pending> added_;
  std::size_t held_ = 0;
  std::vector<Pending> pending_;  // the thread's own
  std::thread thread_;
};

struct HttpListener::Shared {
  explicit Shared(const ConnectionLimits& l)
      : limits(l), refusal(overloaded_response(l.retry_after_seconds)) {}
  ConnectionLimits limits;
  std::string refusal;  ///< the whole 503 answer, built once
  std::atomic<int> open{0};
  std::atomic<long> refused{0};
  int stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  LingeringCloser closer;
  ~Shared() { ::close(stop_fd); }
};

// httplib hands each accepted connection to a TaskQueue as an opaque job that serves it to
// the end. This one admits up to max_connections of them, each to a worker of its own
// (started when no worker is free, ended after a minute idle down to ready_threads), and
// runs the job of any connection beyond that on the accept thread at once, marked so that
// process_and_close_socket refuses it instead of queueing it.
class HttpListener::ConnectionQueue final : public httplib::TaskQueue {
 public:
  explicit ConnectionQueue(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < shared_->limits.ready_threads; ++i) start_worker_locked();
  }
  ~ConnectionQueue() override { shutdown(); }
  ConnectionQueue(const ConnectionQueue&) = delete;
  ConnectionQueue& operator=(const ConnectionQueue&) = delete;

  void enqueue(std::function<void()> serve) override {
    {
      std::lock_guard lock(mutex_);
      if (shared_->open.load() < shared_->limits.max_connections) {
        shared_->open.fetch_add(1);
        jobs_.push_back(std::move(serve));
        if (idle_ < jobs_.size() &&
            threads_.size() < static_cast<std::size_t>(shared_->limits.max_connections)) {
          start_worker_locked();
        }
        for (std::thread& t : finished_) t.join();  // ended idle: joining them is immediate
        finished_.clear();
        ready_.notify_one();
        return;
      }
    }
    refusing_connection = true;
    serve();
    refusing_connection = false;
  }

  void shutdown() override {
    std::list<std::thread> running;
    std::vector<std::thread> finished;
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      running.swap(threads_);
      finished.swap(finished_);
    }
    ready_.notify_all();
    for (std::thread& t : running) t.join();
    for (std::thread& t : finished) t.join();
  }

 private:
  void start_worker_locked() {
    threads_.emplace_back();
    const auto self = std::prev(threads_.end());
    *self = std::thread([this, self] { work(self); });  // work() takes the lock we hold first
  }

  void work(std::list<std::thread>::iterator self) {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      const bool woken = ready_.wait_for(lock, std::chrono::minutes(1),
                                         [&] { return stopped_ || !jobs_.empty(); });
      --idle_;
      if (!jobs_.empty()) {
        std::function<void()> serve = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        serve();
        shared_->open.fetch_sub(1);
        lock.lock();
        continue;
      }
      if (stopped_) return;
      if (!woken && threads_.size() > static_cast<std::size_t>(shared_->limits.ready_threads)) {
        finished_.push_back(std::move(*self));  // joined by the next enqueue or shutdown
        threads_.erase(self);
        return;
      }
    }
  }

  std::shared_ptr<Shared> shared_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::list<std::thread> threads_;
  std::vector<std::thread> finished_;
  std::size_t idle_ = 0;
  bool stopped_ = false;
};

HttpListener::HttpListener(ConnectionLimits limits) : shared_(std::make_shared<Shared>(limits)) {
  set_tcp_nodelay(true);  // keep-alive requests otherwise stall 40 ms each (Nagle + delayed ACK)
  // httplib owns the queue it is given; its API takes a raw pointer.
  new_task_queue = [shared = shared_]() -> httplib::TaskQueue* {
    return new ConnectionQueue(shared);
  };
}

HttpListener::~HttpListener() {
  stop_serving();
}

bool HttpListener::apply_backlog() {
  const socket_t sock = svr_sock_;
  return sock != INVALID_SOCKET && ::listen(sock, shared_->limits.listen_backlog) == 0;
}

void HttpListener::stop_serving() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(shared_->stop_fd, &one, sizeof(one));
  if (is_running()) stop();
}

int HttpListener::open_connections() const {
  return shared_->open.load();
}
long HttpListener::refused_connections() const {
  return shared_->refused.load();
}

long HttpListener::raise_open_file_limit(long wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < static_cast<rlim_t>(wanted)) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY
                          ? static_cast<rlim_t>(wanted)
                          : std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(wanted));
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? wanted : static_cast<long>(limit.rlim_cur);
}

bool HttpListener::process_and_close_socket(socket_t sock) {
  if (refusing_connection) {
    refuse(sock);
    return false;
  }
  const int on = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  const ConnectionLimits& limits = shared_->limits;
  ConnectionStream stream(sock, limits.request_timeout);
  bool served = false;
  for (std::size_t left = limits.keep_alive_max_requests; left > 0 && svr_sock_ != INVALID_SOCKET;
       --left) {
    if (!stream.wait_for_request(limits.keep_alive, shared_->stop_fd)) break;
    stream.start_request();
    bool closed = false;
    served = process_request(stream, left == 1, closed, nullptr);
    if (!served || closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return served;
}

void HttpListener::refuse(socket_t sock) {
  shared_->refused.fetch_add(1);
  // A fresh socket's send buffer is empty: this never blocks the accept thread.
  const std::string& answer = shared_->refusal;
  [[maybe_unused]] const auto n =
      ::send(sock, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(sock, SHUT_WR);
  shared_->closer.add(sock);
}

}  // namespace callswap::server
