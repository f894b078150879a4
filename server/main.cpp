// callswap-server: the HTTP server behind the SDK.
//   callswap-server --config callswap.json [--db callswap.db] [--listen 127.0.0.1:8080] [--static
//   dist/] callswap-server purge --config callswap.json [--db callswap.db]   (the retention purge,
//   once, for cron) callswap-server rotate-key --config callswap.json [--db callswap.db] (re-seal
//   caller numbers) callswap-server privacy-record --config callswap.json (the GDPR Art. 30 record,
//   Markdown) callswap-server check --config callswap.json     (validate everything, print what it
//   would serve) callswap-server keygen [--key-id ID]              (fresh keys in the form the
//   config reads them) callswap-server --version
// Each flag can also come from the environment: CALLSWAP_CONFIG, CALLSWAP_DB, CALLSWAP_LISTEN,
// CALLSWAP_STATIC. SIGTERM or SIGINT: stop accepting, finish in-flight requests, close the
// database. Exit codes: 0 stopped cleanly, 1 could not start, 2 bad arguments or config
// (`check`: 0 valid, 1 not). Relative paths in the config file are relative to its folder.

#include <pthread.h>
#include <signal.h>

#include <callswap/version.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "copy_store.hpp"
#include "http_server.hpp"
#include "log_line.hpp"
#include "operator_commands.hpp"
#include "privacy_record.hpp"

namespace {

constexpr const char* kUsage =
    "usage: callswap-server --config FILE [--db FILE] [--listen HOST:PORT] [--static DIR]\n"
    "       callswap-server purge --config FILE [--db FILE] [--accept-clock]\n"
    "       callswap-server rotate-key --config FILE [--db FILE]\n"
    "       callswap-server migrate --config FILE [--db FILE|URL]   (create or upgrade the schema, "
    "then exit)\n"
    "       callswap-server privacy-record --config FILE\n"
    "       callswap-server check --config FILE [--db FILE] [--static DIR]\n"
    "       callswap-server keygen [--key-id ID]\n"
    "       callswap-server copy-store --from sqlite:///FILE --to postgresql://…   (into an empty "
    "database)\n"
    "       callswap-server --version\n"
    "       callswap-server subject access|erase|restrict|unrestrict --config FILE [--db FILE]\n"
    "                               (--caller E164 | --session ID)\n"
    "       callswap-server subject rectify --config FILE [--db FILE] --call ID [--source ID] "
    "[--classification WORD]\n"
    "  (or CALLSWAP_CONFIG, CALLSWAP_DB, CALLSWAP_LISTEN, CALLSWAP_STATIC)\n";

void log(callswap::server::LogLevel level, std::string_view msg,
         callswap::server::LogFields fields = {}) {
  std::cerr << callswap::server::log_line(callswap::server::system_now(), level, msg, fields)
            << std::endl;
}

std::optional<std::string> environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

int fail(const std::string& message, int code) {
  log(callswap::server::LogLevel::error, message);
  return code;
}

// `keygen [--key-id ID]`: needs no config, so it is answered before one is looked for.
int keygen(int argc, char** argv) {
  std::string key_id;
  if (argc == 4 && std::string(argv[2]) == "--key-id" && argv[3][0] != '\0') {
    key_id = argv[3];
  } else if (argc == 2) {
    // Today's date: a later rotation on another day gets another id.
    const std::time_t now = std::time(nullptr);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
    key_id = date;
  } else {
    std::cerr << "callswap-server: keygen takes only --key-id ID\n" << kUsage;
    return 2;
  }
  try {
    std::cout << callswap::server::fresh_keys(key_id);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
  return 0;
}

// `copy-store --from sqlite:///FILE --to postgresql://…`: needs no config (the password, if
// any, comes from libpq's environment: PGPASSWORD, PGPASSFILE).
int copy_store(int argc, char** argv) {
  std::string from, to;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--from") {
      from = argv[i + 1];
    } else if (arg == "--to") {
      to = argv[i + 1];
    } else {
      std::cerr << "callswap-server: copy-store takes --from and --to, not '" << arg << "'\n";
      return 2;
    }
  }
  if (argc % 2 != 0 || from.empty() || to.empty()) {
    std::cerr << "callswap-server: copy-store needs --from sqlite:///FILE and --to "
                 "postgresql://…\n"
              << kUsage;
    return 2;
  }
  if (!from.starts_with("sqlite:///")) {
    std::cerr << "callswap-server: copy-store --from: '" << from
              << "' is not sqlite:///absolute/path/to/callswap.db\n";
    return 2;
  }
  if (!to.starts_with("postgresql://") && !to.starts_with("postgres://")) {
    std::cerr << "callswap-server: copy-store --to: '" << to
              << "' is not a postgresql://user@host/database URL\n";
    return 2;
  }
  try {
    const std::string path = from.substr(std::string_view("sqlite://").size());
    for (const auto& t : callswap::server::copy_store(path, to))
      std::cout << t.table << ": " << t.rows_copied << " rows copied, " << t.rows_in_target
                << " in the target\n";
    std::cout << "callswap-server: copied; the counts match table by table\n";
    return 0;
  } catch (const std::exception& e) {
    return fail(std::string("copy-store: ") + e.what(), 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::cout << "callswap-server " << callswap::kVersion << "\n";
    return 0;
  }
  if (argc > 1 && std::string(argv[1]) == "keygen") return keygen(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "copy-store") return copy_store(argc, argv);
  std::string config_path = environment("CALLSWAP_CONFIG").value_or("");
  std::optional<std::string> database = environment("CALLSWAP_DB");
  std::optional<std::string> listen = environment("CALLSWAP_LISTEN");
  std::optional<std::string> static_dir = environment("CALLSWAP_STATIC");
  const std::string command = argc > 1 && !std::string(argv[1]).starts_with("-") ? argv[1] : "";
  if (!command.empty() && command != "purge" && command != "rotate-key" && command != "subject" &&
      command != "migrate" && command != "privacy-record" && command != "check") {
    std::cerr << "callswap-server: unknown command '" << command << "'\n" << kUsage;
    return 2;
  }
  // `subject ACTION`: the request is built from the flags exactly as the admin API takes it.
  bool accept_clock = false;  // purge: the operator confirms a clock far ahead of the last purge
  std::string subject_action;
  callswap::server::Json subject_request = callswap::server::Json::object();
  if (command == "subject") {
    if (argc < 3 || std::string(argv[2]).starts_with("-")) {
      std::cerr << "callswap-server: subject needs an action\n" << kUsage;
      return 2;
    }
    subject_action = argv[2];
  }
  for (int i = command.empty() ? 1 : command == "subject" ? 3 : 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (command == "purge" && arg == "--accept-clock") {
      accept_clock = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "callswap-server: " << arg
                << (arg.starts_with("--") ? " needs a value\n" : ": unknown argument\n") << kUsage;
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--config")
      config_path = value;
    else if (arg == "--db")
      database = value;
    else if (arg == "--listen")
      listen = value;
    else if (arg == "--static")
      static_dir = value;
    else if (command == "subject" && (arg == "--caller" || arg == "--session" || arg == "--call" ||
                                      arg == "--source" || arg == "--classification")) {
      subject_request[arg.substr(2)] = value;
    } else {
      std::cerr << "callswap-server: unknown option '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (config_path.empty()) {
    std::cerr << "callswap-server: --config is required\n" << kUsage;
    return 2;
  }
  // `check` answers "is this config valid": 1 for no, as a script expects; 2 stays for bad
  // arguments.
  const int config_error = command == "check" ? 1 : 2;
  std::ifstream file(config_path);
  if (!file) return fail("cannot read config file " + config_path, config_error);
  std::ostringstream text;
  text << file.rdbuf();
  // Flags override the file: apply them as config fields so they are validated alike.
  auto document = callswap::server::parse_json(text.str());
  if (document) {
    // Before the flags: a flag's path is relative to where the command runs, the file's to the
    // file.
    const auto reference_errors =
        callswap::server::resolve_config_references(*document, config_path);
    for (const auto& error : reference_errors)
      std::cerr << config_path << ": " << error.to_string() << "\n";
    if (!reference_errors.empty()) return config_error;
  }
  if (document && document->is_object()) {
    // --db overrides the config's store: a file path or a sqlite:// or postgresql:// URL.
    if (database) (*document)[document->contains("store") ? "store" : "database"] = *database;
    if (listen) (*document)["listen"] = *listen;
    if (static_dir) (*document)["static_dir"] = *static_dir;
  }
  auto result = document ? callswap::server::load_operator_document(*document, environment)
                         : callswap::server::load_operator_config(
                               text.str(), environment);  // names where the JSON breaks
  if (!result.ok()) {
    for (const auto& error : result.errors)
      std::cerr << config_path << ": " << error.to_string() << "\n";
    return config_error;
  }
  callswap::server::OperatorConfig& config = *result.config;
  if (command.empty() || command == "check") {
    // What serving needs on disk; the one-shot commands need only the database.
    const auto file_errors = callswap::server::check_operator_files(config);
    for (const auto& error : file_errors)
      std::cerr << config_path << ": " << error.to_string() << "\n";
    if (!file_errors.empty()) return config_error;
  }
  if (command == "check") {
    std::cout << "callswap-server " << callswap::kVersion << ": " << config_path << " is valid\n"
              << callswap::server::describe_operator_config(config);
    return 0;
  }
  const std::string host = config.listen_host;
  const int port = config.listen_port;

  // The record is made from the config alone: no database is opened.
  if (command == "privacy-record") {
    std::cout << callswap::server::privacy_record_markdown(config);
    return 0;
  }
  if (!command.empty()) {
    try {
      callswap::server::Server server(config, callswap::server::open_configured_store(config));
      if (command == "migrate") {
        // Opening the store migrated it (under the database's lock when it is shared).
        std::cout << "callswap-server: the store's schema is current\n";
        return 0;
      }
      if (command == "purge") server.purge(accept_clock);
      if (command == "subject") {
        // The answer goes to stdout as JSON (an export is what the data subject receives).
        const auto outcome = server.subject(subject_action, subject_request, "cli");
        std::cout << callswap::server::dump_json(outcome.body) << "\n";
        return outcome.status < 300 ? 0 : 1;
      }
      if (command == "rotate-key") {
        if (!config.caller_keys)
          return fail("rotate-key needs caller_numbers keys in the config", 2);
        server.rotate_caller_key();
      }
      return 0;
    } catch (const std::exception& e) {
      return fail(e.what(), 1);
    }
  }

  // Signals go to one thread that stops the server; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<callswap::server::Server> server;
  try {
    server = std::make_unique<callswap::server::Server>(
        config, callswap::server::open_configured_store(config));
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
  int bound_port = port;
  if (port == 0) {
    bound_port = server->bind_to_any_port(host);
  } else if (!server->bind()) {
    bound_port = -1;
  }
  if (bound_port <= 0) return fail("cannot listen on " + host + ":" + std::to_string(port), 1);

  std::mutex mutex;
  std::condition_variable stopping;
  bool stop = false;
  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    log(callswap::server::LogLevel::info, "stopping",
        {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    stopping.notify_all();
    server->stop();  // finishes in-flight requests before listen_after_bind returns
  });
  // The background work: idle sessions end every 30 seconds, the pools are sampled every
  // minute, and what retention says is too old is deleted at start and then hourly.
  std::thread expiry([&] {
    server->purge();
    std::unique_lock lock(mutex);
    for (int tick = 1; !stopping.wait_for(lock, std::chrono::seconds(30), [&] { return stop; });
         ++tick) {
      lock.unlock();
      server->expire_sessions();
      if (tick % 2 == 0) server->sample_pools();
      if (tick % 120 == 0) server->purge();
      lock.lock();
    }
  });

  log(callswap::server::LogLevel::info, "listening",
      {{"host", host}, {"port", bound_port}, {"sites", static_cast<int>(config.sites.size())}});
  const bool served = server->listen_after_bind();
  if (!served) {
    // listen failed without a signal: wake the signal thread so it can end.
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  }
  signal_thread.join();
  expiry.join();
  server.reset();  // closes the database cleanly (checkpoints the WAL)
  log(callswap::server::LogLevel::info, "stopped");
  return served ? 0 : 1;
}
