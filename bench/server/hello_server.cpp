// The baseline for bench/server: a minimal cpp-httplib server doing the least a session
// endpoint could do (answer a small JSON body), configured as callswap-server is
// (TCP_NODELAY, same thread count). Prints its port, serves until killed.
#include <httplib.h>

#include <iostream>
#include <string>

int main() {
  httplib::Server server;
  server.set_tcp_nodelay(true);
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };  // httplib's API takes a raw pointer
  server.Post(R"(/v1/sites/([a-z0-9_-]+)/sessions)", [](const httplib::Request&, httplib::Response& res) {
    res.status = 201;
    res.set_content(R"({"session":"0123456789abcdef0123456789abcdef","number":"+4930900001","display":"030 900001","expires_in":1800})",
                    "application/json");
  });
  server.Delete(R"(/v1/sessions/([0-9a-f]{32}))", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::cout << port << std::endl;
  server.listen_after_bind();
}
