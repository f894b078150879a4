// Durability under load: the real callswap-server binary on a real SQLite file, eight
// clients assigning, heartbeating, reporting calls for and releasing sessions, and the
// server killed with SIGKILL in the middle of it. After a restart on the same file every
// acknowledged assignment, heartbeat, release and call is there, no number is held by two
// live sessions, and the pool hands out exactly the numbers no live session holds.
// The server binary comes from CALLSWAP_SERVER_BIN (tests/CMakeLists.txt).

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "server_fixture.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int kPoolSize = 300;
constexpr const char* kCallsSecret = "kill9-calls-secret-0123456789";

std::string pool_number(int i) {
  return "+4930901" + std::string(4 - std::to_string(i).size(), '0') + std::to_string(i);
}

std::string kill9_config() {
  std::string numbers;
  for (int i = 0; i < kPoolSize; ++i) numbers += (i ? ", \"" : "\"") + pool_number(i) + "\"";
  return R"({
    "sites": [{
      "config": {"site": "acme", "country": "DE", "targets": ["+49301234567"], "pools": ["ads"],
                 "sources": [{"id": "google-ads", "static": "+49301111111", "pool": "ads", "match": {"click_ids": ["gclid"]}},
                             {"id": "direct", "static": "+49301234567", "default": true}]},
      "pools": {"ads": {"numbers": [)" +
         numbers + R"(], "cooldown_minutes": 0, "hold_minutes": 60}}
    }],
    "webhooks": {"calls_secret": ")" +
         kCallsSecret + R"("},
    "limits": {"rate_per_minute": 0}
  })";
}

// callswap-server as a child process; SIGKILLed and reaped when it goes out of scope.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::string& config, const std::string& database,
                const std::string& log) {
    std::vector<std::string> args{binary,   "--config", config,       "--db",
                                  database, "--listen", "127.0.0.1:0"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    REQUIRE(log_fd >= 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      // The server dies with this test process, however the test ends.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(log_fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    REQUIRE(pid_ > 0);
    // The port is in the "listening" line of this start's own log.
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::this_thread::sleep_for(25ms);
      std::ifstream in(log);
      std::string line;
      while (std::getline(in, line)) {
        const std::size_t p = line.find("\"port\":");
        if (line.find("\"msg\":\"listening\"") != std::string::npos && p != std::string::npos)
          port_ = std::stoi(line.substr(p + 7));
      }
    }
    REQUIRE(port_ > 0);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { kill_now(); }

  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  [[nodiscard]] int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// What the clients were told had happened; a request without an answer is "uncertain".
struct Ledger {
  struct Session {
    std::string number;
    Millis last_heartbeat_sent = 0;  // sent before this, acknowledged
    bool released = false;
    bool uncertain = false;
  };
  std::mutex mutex;
  std::map<std::string, Session> sessions;
  std::map<std::string, std::string> calls;  // call id → session id
  long assigns = 0, heartbeats = 0, releases = 0, call_count = 0;
};

void load(int port, int worker, std::atomic<bool>& stop, Ledger& ledger) {
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(5, 0);
  std::mt19937 random(static_cast<unsigned>(worker));
  for (int round = 0; !stop; ++round) {
    const auto created = c.Post("/v1/sites/acme/sessions",
                                R"({"source": "google-ads", "consent": true})", "application/json");
    if (!created)
      continue;  // not acknowledged: a session may exist that no one knows of (checked by count
                 // below)
    if (created->status != 201) continue;
    const auto body = json::parse(created->body);
    if (!body) continue;
    const std::string id = body->find("session")->as_string();
    const std::string number = body->find("number")->as_string();
    {
      std::lock_guard lock(ledger.mutex);
      ledger.sessions[id].number = number;
      ++ledger.assigns;
    }
    // Records what an answer acknowledged, or marks the session uncertain without one.
    const auto acknowledged = [&](const httplib::Result& answer, int status, auto&& record) {
      std::lock_guard lock(ledger.mutex);
      if (!answer || answer->status != status) {
        ledger.sessions[id].uncertain = true;
        return false;
      }
      record();
      return true;
    };
    const Millis sent = callswap::server::system_now();
    if (!acknowledged(c.Post("/v1/sessions/" + id + "/heartbeat", "", "application/json"), 200,
                      [&] {
                        ledger.sessions[id].last_heartbeat_sent = sent;
                        ++ledger.heartbeats;
                      })) {
      continue;
    }
    const std::string call_id = "kill9-" + std::to_string(worker) + "-" + std::to_string(round);
    json::Object event;
    event.set("call_id", call_id);
    event.set("to", number);
    event.set("from", "+4915112345678");
    event.set("status", "completed");
    event.set("duration_seconds", 42);
    if (!acknowledged(post_call(c, json::Value(std::move(event)).dump(),
                                callswap::server::system_now(), kCallsSecret),
                      201, [&] {
                        ledger.calls[call_id] = id;
                        ++ledger.call_count;
                      })) {
      continue;
    }
    if (random() % 2 == 0) continue;  // half the sessions stay, holding their numbers
    acknowledged(c.Delete("/v1/sessions/" + id), 204, [&] {
      ledger.sessions[id].released = true;
      ++ledger.releases;
    });
  }
}

// Runs a query on the database and answers the rows, each as columns joined by '|'.
std::vector<std::string> query(const std::string& database, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  std::vector<std::string> rows;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      const auto* text = sqlite3_column_text(statement, i);
      row += (i ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

}  // namespace

TEST_CASE("kill -9 under load: every acknowledged write survives, and no number is held twice") {
  const char* binary = std::getenv("CALLSWAP_SERVER_BIN");
  REQUIRE(binary);
  TempDir dir;
  const std::string config = dir.file("callswap.json");
  const std::string database = dir.file("callswap.db");
  std::ofstream(config) << kill9_config();

  Ledger ledger;
  {
    ServerProcess server(binary, config, database, dir.file("first.log"));
    std::atomic<bool> stop{false};
    std::vector<std::jthread> clients;
    for (int worker = 0; worker < 8; ++worker)
      clients.emplace_back([&, worker] { load(server.port(), worker, stop, ledger); });
    // Bounded: the kill comes after 1.5 s of load, once at least 100 sessions were assigned.
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(50ms);
      std::lock_guard lock(ledger.mutex);
      if (i >= 30 && ledger.assigns >= 100) break;
    }
    server.kill_now();
    stop = true;
  }
  WARN("acknowledged before the kill: " << ledger.assigns << " assigns, " << ledger.heartbeats
                                        << " heartbeats, " << ledger.call_count << " calls, "
                                        << ledger.releases << " releases");
  REQUIRE(ledger.assigns >= 100);
  REQUIRE(ledger.releases > 0);

  ServerProcess restarted(binary, config, database, dir.file("restarted.log"));
  // The database as the restarted server recovered it.
  std::map<std::string, std::string> rows;  // session id → "number|last_activity|released_at"
  for (const std::string& row :
       query(database, "SELECT id, number, last_activity, released_at FROM sessions")) {
    rows[row.substr(0, row.find('|'))] = row.substr(row.find('|') + 1);
  }
  std::set<std::string> live_numbers;
  long live = 0;
  for (const auto& [id, row] : rows) {
    if (row.ends_with("|NULL")) {
      ++live;
      live_numbers.insert(row.substr(0, row.find('|')));
    }
  }
  CHECK(query(database,
              "SELECT number FROM sessions WHERE released_at IS NULL GROUP BY site, number HAVING "
              "count(*) > 1")
            .empty());
  CHECK(static_cast<long>(live_numbers.size()) == live);

  long checked_live = 0, checked_released = 0;
  for (const auto& [id, session] : ledger.sessions) {
    if (session.uncertain) continue;
    const auto row = rows.find(id);
    INFO("session " << id);
    if (session.released) {
      CHECK(row == rows.end());  // released and erased
      ++checked_released;
      continue;
    }
    REQUIRE(row != rows.end());
    CHECK(row->second.starts_with(session.number + "|"));
    CHECK(row->second.ends_with("|NULL"));
    const std::string last_activity = row->second.substr(
        session.number.size() + 1, row->second.rfind('|') - session.number.size() - 1);
    if (session.last_heartbeat_sent)
      CHECK(std::stoll(last_activity) >= session.last_heartbeat_sent);
    ++checked_live;
  }
  CHECK(checked_live > 0);
  CHECK(checked_released > 0);
  for (const auto& [call_id, session_id] : ledger.calls) {
    INFO("call " << call_id);
    // A released session was erased (the withdrawal path): its calls keep the attribution
    // but no longer point at it.
    // A withdrawal cut short by the kill may or may not have been committed.
    const auto session = ledger.sessions.find(session_id);
    const bool erased = session != ledger.sessions.end() && session->second.released;
    const bool uncertain = session != ledger.sessions.end() && session->second.uncertain;
    const auto stored =
        query(database, "SELECT session_id, attribution FROM calls WHERE provider_call_id = '" +
                            call_id + "'");
    if (uncertain) {
      CHECK((stored == std::vector<std::string>{"NULL|session"} ||
             stored == std::vector<std::string>{session_id + "|session"}));
    } else {
      CHECK(stored == std::vector<std::string>{(erased ? "NULL" : session_id) + "|session"});
    }
  }

  // The restarted pool hands out exactly the numbers no live session holds, then falls back.
  httplib::Client c("127.0.0.1", restarted.port());
  std::set<std::string> handed_out;
  for (long i = 0; i < kPoolSize - live; ++i) {
    const auto created = new_session(c);
    REQUIRE(created);
    REQUIRE(created->status == 201);
    const std::string number = body_of(created).find("number")->as_string();
    CHECK(live_numbers.count(number) == 0);
    CHECK(handed_out.insert(number).second);
  }
  const auto exhausted = new_session(c);
  REQUIRE(exhausted);
  CHECK(exhausted->status == 200);
  CHECK(body_of(exhausted).find("reason")->as_string() == "pool_exhausted");
  if (const char* logs = std::getenv("CALLSWAP_TEST_LOG_DIR")) {
    for (const char* name : {"first.log", "restarted.log"}) {
      std::ifstream in(dir.file(name));
      std::ofstream(std::string(logs) + "/server_kill9.log", std::ios::app) << in.rdbuf();
    }
  }
}
