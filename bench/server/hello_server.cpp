// The ceiling for bench/server: a minimal cpp-httplib server doing the least a session
// endpoint could do (answer a small JSON body), with what callswap-server's connection
// handling also has: TCP_NODELAY, 1,000 requests per keep-alive connection, and a worker
// free for every benchmark connection (256 threads; callswap starts one per connection), so
// no connection waits for a thread here either, and the same listen backlog. Prints its
// port, serves until killed.
#include <httplib.h>
#include <sys/socket.h>

#include <iostream>
#include <string>

// httplib listens with a backlog of 5, so connection bursts see 1 s SYN retries; callswap
// raises it to 1024 (Linux takes a second listen() on a bound socket as the new backlog).
struct HelloServer : httplib::Server {
  void raise_backlog() { ::listen(svr_sock_, 1024); }
};

int main() {
  HelloServer server;
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000);
  server.new_task_queue = [] {
    return new httplib::ThreadPool(256);
  };  // httplib's API takes a raw pointer
  server.Post(R"(/v1/sites/([a-z0-9_-]+)/sessions)", [](const httplib::Request&,
                                                        httplib::Response& res) {
    res.status = 201;
    res.set_content(
        R"({"session":"0123456789abcdef0123456789abcdef","number":"+4930900001","display":"030 900001","expires_in":1800})",
        "application/json");
  });
  server.Delete(R"(/v1/sessions/([0-9a-f]{32}))",
                [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  const int port = server.bind_to_any_port("127.0.0.1");
  server.raise_backlog();
  std::cout << port << std::endl;
  server.listen_after_bind();
}
