#pragma once
// A client connection on loopback with nothing between the test and the bytes: for clients
// that stall, trickle or keep a connection idle, which an HTTP client library will not do.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>

namespace test {

class RawSocket {
 public:
  explicit RawSocket(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  RawSocket(RawSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RawSocket& operator=(RawSocket&&) = delete;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }

  [[nodiscard]] bool connected() const { return fd_ >= 0; }

  bool send(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // True while the server has neither answered nor closed: nothing to read yet.
  [[nodiscard]] bool quiet() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  // Reads one HTTP response (headers and a Content-Length body), or what arrived until the
  // server closed or `timeout` passed.
  [[nodiscard]] std::string read_response(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string got;
    for (;;) {
      const std::size_t head_end = got.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t at = got.find("Content-Length: ");
        if (at != std::string::npos && at < head_end) length = std::stoul(got.substr(at + 16));
        if (got.size() >= head_end + 4 + length) return got;
      }
      char buffer[4096];
      const ssize_t n = receive(deadline, buffer, sizeof(buffer));
      if (n <= 0) return got;
      got.append(buffer, static_cast<std::size_t>(n));
    }
  }

  // Waits until the server closes the connection (reading and dropping what it sends).
  [[nodiscard]] bool closed_within(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    for (;;) {
      const ssize_t n = receive(deadline, buffer, sizeof(buffer));
      if (n < 0) return false;
      if (n == 0) return true;
    }
  }

 private:
  // Reads what arrives before `deadline`: its size; 0 when the server closed the connection
  // (or reset it); -1 when nothing came in time.
  ssize_t receive(std::chrono::steady_clock::time_point deadline, char* buffer,
                  std::size_t size) const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return -1;
    const ssize_t n = ::recv(fd_, buffer, size, 0);
    return n < 0 ? 0 : n;
  }

  int fd_;
};

}  // namespace test
