// The store contract: every backend passes these same tests. Each test runs once per
// backend (GENERATE over backend_kinds()); a fixture gives it a fresh, empty database of that
// kind and can open a store on it again, as a restarted server would.

#include <sqlite3.h>
#ifdef CALLSWAP_HAVE_POSTGRESQL
#include <libpq-fe.h>
#endif

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "assignments.hpp"
#include "store.hpp"
#include "temp_dir.hpp"

using callswap::server::CallRow;
using callswap::server::SessionRow;
using callswap::server::Store;

namespace {

// One empty database of one backend, for one test.
class BackendDatabase {
 public:
  virtual ~BackendDatabase() = default;
  /// A store on this database; may be called again (a restart).
  [[nodiscard]] virtual std::unique_ptr<Store> open() const = 0;
  /// Runs SQL on the database directly, as an operator's tool would.
  virtual void exec(const std::string& sql) const = 0;
};

// A fresh SQLite file in its own folder.
class SqliteDatabase final : public BackendDatabase {
 public:
  [[nodiscard]] std::string path() const { return dir_.file("callswap.db"); }
  [[nodiscard]] std::unique_ptr<Store> open() const override {
    return callswap::server::open_sqlite_store(path());
  }
  void exec(const std::string& sql) const override {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path().c_str(), &raw) == SQLITE_OK);
    const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    REQUIRE(rc == SQLITE_OK);
  }

 private:
  test::TempDir dir_;
};

#ifdef CALLSWAP_HAVE_POSTGRESQL
// The cluster tests/server/with_postgres.sh started; its libpq connection string (no dbname).
std::string postgres_cluster() {
  const char* cluster = std::getenv("CALLSWAP_TEST_POSTGRES");
  if (!cluster || !*cluster) {
    FAIL(
        "CALLSWAP_TEST_POSTGRES is not set: run this suite through tests/server/with_postgres.sh "
        "(ctest does)");
  }
  return cluster;
}

void postgres_exec(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(result.get());
  INFO(PQresultErrorMessage(result.get()));
  REQUIRE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
}

// A fresh database in the throwaway cluster, dropped after the test.
class PostgresDatabase final : public BackendDatabase {
 public:
  PostgresDatabase() : cluster_(postgres_cluster()) {
    static std::atomic<int> made{0};
    name_ = "contract_" + std::to_string(::getpid()) + "_" + std::to_string(made++);
    postgres_exec(cluster_ + " dbname=postgres", "CREATE DATABASE " + name_);
  }
  ~PostgresDatabase() override {
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn(
        PQconnectdb((cluster_ + " dbname=postgres").c_str()), &PQfinish);
    PQclear(PQexec(conn.get(), ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
  }
  [[nodiscard]] std::string conninfo() const { return cluster_ + " dbname=" + name_; }
  [[nodiscard]] std::unique_ptr<Store> open() const override {
    return callswap::server::open_postgres_store(conninfo());
  }
  void exec(const std::string& sql) const override { postgres_exec(conninfo(), sql); }

 private:
  std::string cluster_;
  std::string name_;
};

#endif

std::vector<std::string> backend_kinds() {
#ifdef CALLSWAP_HAVE_POSTGRESQL
  return {"sqlite", "postgresql"};
#else
  return {"sqlite"};
#endif
}

std::unique_ptr<BackendDatabase> make_database(const std::string& kind) {
#ifdef CALLSWAP_HAVE_POSTGRESQL
  if (kind == "postgresql") return std::make_unique<PostgresDatabase>();
#endif
  return std::make_unique<SqliteDatabase>();
}

SessionRow session(const char* id, const char* number, callswap::Millis at) {
  return SessionRow{id,
                    "acme",
                    "google-ads",
                    number,
                    "google-ads",
                    R"({"utm_source":"google"})",
                    "/landing?utm_source=google",
                    at,
                    at,
                    std::nullopt};
}

// A webhook delivery of a call of a session, due at once.
callswap::server::Delivery delivery(const std::string& key, const std::string& body,
                                    const std::string& call, const std::string& session_id) {
  callswap::server::Delivery d;
  d.site = "acme";
  d.destination = "webhook:crm";
  d.event = "call.attributed";
  d.idempotency_key = key;
  d.body = body;
  d.call_id = call;
  d.session_id = session_id;
  d.created_at = 1000;
  d.next_attempt_at = 1000;
  return d;
}

}  // namespace

// Every contract test starts so: `db` is an empty database of the backend this run is for.
#define FOR_EACH_BACKEND                                             \
  const std::string backend = GENERATE(from_range(backend_kinds())); \
  INFO("backend: " << backend);                                      \
  const auto db = make_database(backend)

TEST_CASE("The store creates its schema in a new file and keeps everything across a restart",
          "[store]") {
  FOR_EACH_BACKEND;
  {
    auto store = db->open();
    store->insert_session(session("s1", "+493055510000", 1000)).get();
    store->insert_session(session("s2", "+493055510001", 2000)).get();
    store->touch_session("s1", 5000).get();
    store->release_session("s2", 6000).get();
    CHECK(store->insert_call(CallRow{"CA1", "acme", "+493055510000", "completed", 42, 7000, "s1",
                                     "google-ads", "session"}));
  }
  auto store = db->open();
  const auto s1 = store->find_session("s1");
  REQUIRE(s1);
  CHECK(s1->last_activity == 5000);
  CHECK_FALSE(s1->released_at);
  CHECK(s1->campaign_json == R"({"utm_source":"google"})");
  CHECK(store->find_session("s2")->released_at == 6000);
  const auto active = store->active_sessions();
  REQUIRE(active.size() == 1);
  CHECK(active[0].id == "s1");
  CHECK(store->last_releases("acme") ==
        std::vector<std::pair<std::string, callswap::Millis>>{{"+493055510001", 6000}});
  const auto call = store->find_call("CA1");
  REQUIRE(call);
  CHECK(call->duration_seconds == 42);
  CHECK(call->session_id == "s1");
  CHECK(store->count_calls("acme") == 1);
}

TEST_CASE("A call is stored once per provider id", "[store]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  const CallRow call{"CA1", "acme", "+493055510000", "ringing", 0, 7000, "", "", "unattributed"};
  CHECK(store->insert_call(call));
  CHECK_FALSE(store->insert_call(call));
  CallRow completed = call;
  completed.status = "completed";
  completed.duration_seconds = 42;
  completed.attribution = "session";  // a later delivery does not change the attribution
  CHECK_FALSE(store->insert_call(completed));
  CHECK(store->count_calls("acme") == 1);
  CHECK(store->find_call("CA1")->status == "completed");
  CHECK(store->find_call("CA1")->duration_seconds == 42);
  CHECK(store->find_call("CA1")->attribution == "unattributed");
  CHECK(store->find_call("CA1")->session_id.empty());
}

TEST_CASE("The session that held a number at a call's time is found, also within the grace period",
          "[store]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  store->insert_session(session("early", "+493055510000", 1000)).get();
  store->release_session("early", 2000).get();
  store->insert_session(session("late", "+493055510000", 50'000)).get();
  const callswap::Millis grace = 10'000;
  CHECK(store->session_holding("acme", "+493055510000", 1500, grace)->id == "early");  // while held
  CHECK(store->session_holding("acme", "+493055510000", 11'999, grace)->id ==
        "early");  // in the grace period
  CHECK_FALSE(store->session_holding("acme", "+493055510000", 12'001, grace));  // after it
  CHECK(store->session_holding("acme", "+493055510000", 60'000, grace)->id == "late");
  CHECK_FALSE(store->session_holding("acme", "+493055510001", 60'000, grace));
  CHECK_FALSE(store->session_holding("other", "+493055510000", 60'000, grace));
  store->release_session("late", 70'000).get();
  store->erase({{"late"}, {}, {}, "", 80'000}).get();
  CHECK_FALSE(store->find_session("late"));
  // The number's release outlives the erased session, for the pool's cool-down.
  CHECK(store->last_releases("acme") ==
        std::vector<std::pair<std::string, callswap::Millis>>{{"+493055510000", 70'000}});
}

TEST_CASE("Erasing a session still holding its number records the release, for the cool-down",
          "[store][erase]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  store->insert_session(session("held", "+493055510000", 1000)).get();
  store->erase({{"held"}, {}, {}, "", 5000}).get();
  CHECK(store->last_releases("acme") ==
        std::vector<std::pair<std::string, callswap::Millis>>{{"+493055510000", 5000}});
  CHECK(store->active_sessions().empty());
}

TEST_CASE("A deleted session is cut from every call attributed to it, whatever deleted it",
          "[store][erase]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  for (const char* id : {"erased", "purged"}) {
    store->insert_session(session(id, "+493055510000", 1000)).get();
    store->release_session(id, 2000).get();
  }
  for (const auto& [call_id, session_id] :
       {std::pair{"CA1", "erased"}, {"CA2", "erased"}, {"CA3", "purged"}}) {
    CallRow call{call_id, "acme",     "+493055510000", "completed", 30,
                 1500,    session_id, "google",        "session",   R"({"utm_campaign":"x"})"};
    REQUIRE(store->insert_call(call));
  }
  store->erase({{"erased"}, {"CA1"}, {{"key-CA1", "acme"}}, "", 3000}).get();
  CHECK_FALSE(store->find_call("CA1"));
  CHECK(store->find_call("CA2")->session_id.empty());
  CHECK(store->calls_by_session("erased").empty());
  // The attribution facts a report needs stay.
  CHECK(store->find_call("CA2")->source == "google");
  CHECK(store->find_call("CA2")->attribution == "session");
  CHECK(store->find_call("CA2")->campaign_json == R"({"utm_campaign":"x"})");
  CHECK(store->call_erased("key-CA1"));
  CHECK_FALSE(store->call_erased("key-CA2"));

  callswap::server::Store::PurgeCutoffs cutoffs;
  cutoffs.sessions_before = 10'000;  // sessions only: the calls stay
  const auto purged = store->purge("acme", cutoffs);
  CHECK(purged.sessions == 1);
  CHECK(purged.calls == 0);
  CHECK(store->find_call("CA3")->session_id.empty());
  CHECK(store->find_call("CA3")->source == "google");
}

TEST_CASE("The purge applies a cut-off to every table, rows of no site included",
          "[store][purge]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  store->append_audit({1000, "ops", "key.rotate", "", "{}"});
  store->append_audit({1000, "ops", "report", "gone-site", "{}"});
  store->append_audit({9000, "ops", "report", "", "{}"});
  store->erase({{}, {}, {{"tomb", "acme"}}, "", 1000}).get();
  const auto sites = store->sites_with_data();
  CHECK(std::find(sites.begin(), sites.end(), "") != sites.end());
  CHECK(std::find(sites.begin(), sites.end(), "gone-site") != sites.end());
  CHECK(std::find(sites.begin(), sites.end(), "acme") != sites.end());

  callswap::server::Store::PurgeCutoffs cutoffs{5000, 5000, 5000, 5000};
  CHECK(store->purge("", cutoffs).audit == 1);
  CHECK(store->purge("gone-site", cutoffs).audit == 1);
  CHECK(store->purge("acme", cutoffs).tombstones == 1);
  CHECK_FALSE(store->call_erased("tomb"));
  CHECK(store->audit_entries(0, 100'000).size() == 1);  // the newer server-level entry stays
}

TEST_CASE(
    "A caller's restriction marker reaches later calls until lifted, and is purged when stale",
    "[store][restrict]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  CHECK_FALSE(store->caller_restricted("hash-a", 1000));
  store->restrict({{}, {}, "hash-a", true, 1000});
  CHECK(store->caller_restricted("hash-a", 5000));  // refreshes the marker to 5000
  CHECK(store->purge_restrictions(4000) == 0);
  CHECK(store->caller_restricted("hash-a", 6000));
  store->restrict({{}, {}, "hash-a", false, 7000});
  CHECK_FALSE(store->caller_restricted("hash-a", 8000));
  store->restrict({{}, {}, "hash-b", true, 1000});
  CHECK(store->purge_restrictions(2000) == 1);
  CHECK_FALSE(store->caller_restricted("hash-b", 3000));
  // An erasure of the caller takes the marker with it.
  store->restrict({{}, {}, "hash-c", true, 1000});
  store->erase({{}, {}, {}, "hash-c", 2000}).get();
  CHECK_FALSE(store->caller_restricted("hash-c", 3000));
}

TEST_CASE("The purge's clock reading survives a reopen", "[store][purge]") {
  FOR_EACH_BACKEND;
  {
    auto store = db->open();
    CHECK_FALSE(store->purge_mark());
    store->set_purge_mark({123'456, 100'000});
  }
  auto store = db->open();
  REQUIRE(store->purge_mark());
  CHECK(store->purge_mark()->purged_by == 123'456);
  CHECK(store->purge_mark()->clock == 100'000);
}

TEST_CASE("A database from a newer server is refused with the reason", "[store]") {
  FOR_EACH_BACKEND;
  { db->open(); }
  db->exec("INSERT INTO schema_version VALUES (99)");
  CHECK_THROWS_WITH(db->open(), Catch::Contains("schema version 99, newer than this server's"));
}

TEST_CASE("A SQLite file that is not a database, or cannot be made, is refused with the reason",
          "[store][sqlite]") {
  test::TempDir dir;
  std::ofstream(dir.file("callswap.db"))
      << "this is not a database, just text that is long enough to have a header";
  CHECK_THROWS_WITH(callswap::server::open_sqlite_store(dir.file("callswap.db")),
                    Catch::Contains("sqlite"));
  CHECK_THROWS_WITH(callswap::server::open_sqlite_store("/nonexistent-dir/x/callswap.db"),
                    Catch::Contains("cannot open database"));
}

#ifdef CALLSWAP_HAVE_POSTGRESQL

TEST_CASE("A PostgreSQL database that cannot be reached is refused with the reason",
          "[store][postgresql]") {
  PostgresDatabase db;
  CHECK_THROWS_WITH(
      callswap::server::open_postgres_store(postgres_cluster() + " dbname=no_such_database"),
      Catch::Contains("cannot connect") && Catch::Contains("no_such_database"));
}

TEST_CASE("Instances starting together on one PostgreSQL database migrate it once",
          "[store][postgresql]") {
  PostgresDatabase db;
  std::vector<std::thread> starts;
  std::atomic<int> opened{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < 4; ++i) {
    starts.emplace_back([&] {
      try {
        auto store = db.open();
        ++opened;
      } catch (const std::exception&) {
        ++failed;
      }
    });
  }
  for (auto& t : starts) t.join();
  CHECK(opened == 4);
  CHECK(failed == 0);
  // One row per version: nobody applied a migration twice.
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(db.conninfo().c_str()), &PQfinish);
  std::unique_ptr<PGresult, void (*)(PGresult*)> r(
      PQexec(conn.get(), "SELECT count(*), max(version) FROM schema_version"), &PQclear);
  REQUIRE(PQresultStatus(r.get()) == PGRES_TUPLES_OK);
  CHECK(std::string(PQgetvalue(r.get(), 0, 0)) ==
        std::to_string(callswap::server::postgres_schema_version()));
  CHECK(std::string(PQgetvalue(r.get(), 0, 1)) ==
        std::to_string(callswap::server::postgres_schema_version()));
}

TEST_CASE("The same call delivered to two instances at the same moment is stored once",
          "[store][postgresql]") {
  PostgresDatabase db;
  auto first = db.open();
  auto second = db.open();
  constexpr int kCalls = 200;
  std::atomic<int> inserted{0};
  const auto deliver = [&](Store& store) {
    for (int i = 0; i < kCalls; ++i) {
      const CallRow call{"CA" + std::to_string(i),
                         "acme",
                         "+493055510000",
                         "ringing",
                         0,
                         7000,
                         "",
                         "",
                         "unattributed"};
      if (store.insert_call(call)) ++inserted;
    }
  };
  std::thread a([&] { deliver(*first); });
  std::thread b([&] { deliver(*second); });
  a.join();
  b.join();
  CHECK(inserted == kCalls);  // each call reported new exactly once, by one of the two
  CHECK(first->count_calls("acme") == kCalls);
}

TEST_CASE("Purges running on two instances at once delete each row once",
          "[store][postgresql][purge]") {
  PostgresDatabase db;
  auto first = db.open();
  auto second = db.open();
  constexpr int kCalls = 12'000;  // more than one batch
  db.exec(
      "INSERT INTO calls (provider_call_id, site, called_number, status, started_at, attribution) "
      "SELECT 'CA' || i, 'acme', '+493055510000', 'completed', 1000, 'unattributed' FROM "
      "generate_series(1, " +
      std::to_string(kCalls) + ") AS i");
  const Store::PurgeCutoffs cutoffs{0, 5000, 0, 0};
  Store::Purged by_first, by_second;
  std::thread a([&] { by_first = first->purge("acme", cutoffs); });
  std::thread b([&] { by_second = second->purge("acme", cutoffs); });
  a.join();
  b.join();
  CHECK(by_first.calls + by_second.calls == kCalls);
  CHECK(first->count_calls("acme") == 0);
}

#endif

TEST_CASE("The outbox queues a delivery once, hands out what is due and records each attempt",
          "[store][outbox]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  using callswap::server::Delivery;
  Delivery d = delivery("call.attributed:CA1:crm", R"({"call":"CA1"})", "CA1", "s1");
  CHECK(store->enqueue_delivery(d));
  CHECK_FALSE(store->enqueue_delivery(d));  // the same event again: queued once
  Delivery other = d;
  other.idempotency_key = "call.attributed:CA2:crm";
  other.call_id = "CA2";
  other.session_id = "s2";
  other.next_attempt_at = 5000;
  CHECK(store->enqueue_delivery(other));

  auto due = store->due_deliveries(2000, 10);
  REQUIRE(due.size() == 1);  // the other is not due yet
  CHECK(due[0].idempotency_key == d.idempotency_key);
  CHECK(due[0].body == d.body);
  CHECK(due[0].state == "pending");
  Delivery attempt = due[0];
  attempt.attempts = 1;
  attempt.next_attempt_at = 3000;
  attempt.last_error = "HTTP 503";
  store->record_attempt(attempt);
  CHECK(store->due_deliveries(2000, 10).empty());
  CHECK(store->due_deliveries(6000, 10).size() == 2);
  attempt.state = "delivered";
  attempt.attempts = 2;
  attempt.last_error.clear();
  attempt.finished_at = 6000;
  store->record_attempt(attempt);
  const auto all = store->deliveries("acme", 0, 10'000);
  REQUIRE(all.size() == 2);
  CHECK(all[0].state == "delivered");
  CHECK(all[0].attempts == 2);
  CHECK(all[0].finished_at == 6000);
  // After any lease a shared store took when it handed it out.
  CHECK(store->due_deliveries(6000 + 5 * 60'000, 10).size() == 1);

  // A restriction drops pending deliveries only; an erasure every delivery of the call.
  store->restrict({{}, {"CA2"}, "", true, 7000});
  CHECK(store->deliveries("acme", 0, 10'000).size() == 1);
  store->erase({{}, {"CA1"}, {}, "", 8000}).get();
  CHECK(store->deliveries("acme", 0, 10'000).empty());

  // Retention reaches the outbox.
  other.idempotency_key = "call.attributed:CA3:crm";
  other.call_id = "CA3";
  other.created_at = 9000;
  CHECK(store->enqueue_delivery(other));
  Store::PurgeCutoffs cutoffs;
  cutoffs.deliveries_before = 10'000;
  CHECK(store->purge("acme", cutoffs).deliveries == 1);
  CHECK(store->deliveries("acme", 0, 20'000).empty());
}

TEST_CASE("Ids consented to later join a session; removing one drops the deliveries carrying it",
          "[store][conversions]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  store->insert_session(session("later", "+493055510002", 1000)).get();
  using callswap::server::SessionIdsUpdate;
  store->update_session_ids("later", {true, "gclid", "Cj0KCQ-later", "consent_mode", false, "", ""})
      .get();
  auto kept = store->find_session("later");
  REQUIRE(kept);
  CHECK(kept->click_id_type == "gclid");
  CHECK(kept->click_id == "Cj0KCQ-later");
  CHECK(kept->click_id_consent == "consent_mode");
  CHECK(kept->ga_client_id.empty());
  store->update_session_ids("later", {false, "", "", "", true, "123.456", "tcf"}).get();
  kept = store->find_session("later");
  CHECK(kept->click_id == "Cj0KCQ-later");
  CHECK(kept->ga_client_id == "123.456");
  CHECK(kept->ga_consent == "tcf");

  // Two deliveries of the session, one carrying the click id; one of another session.
  using callswap::server::Delivery;
  const std::string with_click = R"({"click_id":{"value":"Cj0KCQ-later"}})";
  CHECK(store->enqueue_delivery(delivery("with-click", with_click, "CA1", "later")));
  CHECK(store->enqueue_delivery(delivery("without", R"({"call":"CA1"})", "CA1", "later")));
  CHECK(store->enqueue_delivery(delivery("other-session", with_click, "CA1", "other")));

  // Advertising consent withdrawn: the click id goes, with the delivery that carries it.
  store->update_session_ids("later", {true, "", "", "", false, "", ""}).get();
  kept = store->find_session("later");
  CHECK(kept->click_id_type.empty());
  CHECK(kept->click_id.empty());
  CHECK(kept->click_id_consent.empty());
  CHECK(kept->ga_client_id == "123.456");
  std::vector<std::string> left;
  for (const Delivery& delivery : store->deliveries("acme", 0, 10'000))
    left.push_back(delivery.idempotency_key);
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{"other-session", "without"});
  // A session that has ended takes no ids.
  store->release_session("later", 2000).get();
  store->update_session_ids("later", {true, "gclid", "Cj0KCQ-late", "consent_mode", false, "", ""})
      .get();
  CHECK(store->find_session("later")->click_id.empty());
}

TEST_CASE("A session keeps the click id it came with, and its calls are listed for the feeds",
          "[store][conversions]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  SessionRow clicked = session("clicked", "+493055510000", 1000);
  clicked.click_id_type = "gclid";
  clicked.click_id = "Cj0KCQ-test";
  clicked.click_id_consent = "consent_mode";
  clicked.ga_client_id = "123.456";
  clicked.ga_consent = "consent_mode";
  store->insert_session(clicked).get();
  store->insert_session(session("plain", "+493055510001", 1000)).get();
  const auto kept = store->find_session("clicked");
  REQUIRE(kept);
  CHECK(kept->click_id_type == "gclid");
  CHECK(kept->click_id == "Cj0KCQ-test");
  CHECK(kept->click_id_consent == "consent_mode");
  CHECK(kept->ga_client_id == "123.456");
  CHECK(kept->ga_consent == "consent_mode");
  CHECK(store->find_session("plain")->click_id.empty());

  CHECK(store->insert_call(
      {"CA1", "acme", "+493055510000", "completed", 90, 2000, "clicked", "google-ads", "session"}));
  CHECK(store->insert_call(
      {"CA2", "acme", "+493055510001", "completed", 90, 2000, "plain", "google-ads", "session"}));
  auto listed = store->clicked_calls("acme", 0, 10'000);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].call.provider_call_id == "CA1");
  CHECK(listed[0].click_id_type == "gclid");
  CHECK(listed[0].click_id == "Cj0KCQ-test");
  CHECK(listed[0].pool == "google-ads");
  CHECK(store->clicked_calls("acme", 3000, 10'000).empty());
  // Restricted, or its session erased: no longer in any feed.
  store->restrict({{}, {"CA1"}, "", true, 3000});
  CHECK(store->clicked_calls("acme", 0, 10'000).empty());
  store->restrict({{}, {"CA1"}, "", false, 3000});
  CHECK(store->clicked_calls("acme", 0, 10'000).size() == 1);
  store->erase({{"clicked"}, {}, {}, "", 4000}).get();
  CHECK(store->clicked_calls("acme", 0, 10'000).empty());
}

// The pools: who holds which number. On SQLite the one serving process decides in memory and
// writes through to the store; on PostgreSQL the database decides. Both pass the same cases.
namespace {

using callswap::server::Assignment;
using callswap::server::Assignments;
using callswap::server::PoolSettings;
using callswap::server::PoolSpec;

const std::vector<std::string> kNumbers{"+493055510000", "+493055510001", "+493055510002"};

PoolSpec pool_of(std::vector<std::string> numbers, PoolSettings settings) {
  return PoolSpec{"acme", "google-ads", std::move(numbers), settings};
}

// The pools a serving instance of this backend would use on `store`.
std::unique_ptr<Assignments> assignments_on(Store& store, const PoolSpec& spec) {
  if (auto shared = store.shared_assignments({spec})) return shared;
  return callswap::server::memory_assignments({spec}, store);
}

std::optional<std::string> assign(Assignments& pools, const std::string& id, callswap::Millis at) {
  const auto got = pools.assign(session(id.c_str(), "", at), at);
  if (!got) return std::nullopt;
  return got->number;
}

void erase_session(Assignments& pools, const std::string& id, callswap::Millis at) {
  Store::Erasure erasure;
  erasure.session_ids.push_back(id);
  erasure.at = at;
  pools.erase(erasure);
}

}  // namespace

TEST_CASE(
    "Pools hand out the least recently released number after its cool-down and end idle "
    "sessions",
    "[store][pool]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  auto pools = assignments_on(*store, pool_of(kNumbers, {1000, 500}));
  CHECK(assign(*pools, "s1", 0) == kNumbers[0]);  // never-held numbers in the configured order
  CHECK(assign(*pools, "s2", 0) == kNumbers[1]);
  CHECK(assign(*pools, "s3", 0) == kNumbers[2]);
  CHECK_FALSE(assign(*pools, "s4", 0));  // exhausted: the static number
  CHECK(store->find_session("s2")->number == kNumbers[1]);
  CHECK(pools->touch(*store->find_session("s1"), 100));

  erase_session(*pools, "s2", 200);
  CHECK_FALSE(store->find_session("s2"));
  CHECK_FALSE(assign(*pools, "s5", 300));  // s2's number rests until 700
  CHECK(assign(*pools, "s5", 700) == kNumbers[1]);

  // s3 has been idle since 0: its hold ran out at 1000, s1's at 1100.
  CHECK_FALSE(pools->touch(*store->find_session("s3"), 1001));
  CHECK(assign(*pools, "s6", 1600) == kNumbers[2]);
  CHECK(store->find_session("s3")->released_at == 1000);
  pools->expire(1600);
  CHECK(store->find_session("s1")->released_at == 1100);
  const auto stats = pools->stats("acme", "google-ads", 1600);
  CHECK(stats.size == 3);
  CHECK(stats.active == 2);  // s5 and s6
  CHECK(stats.free == 1);    // s1's, rested since 1100
  CHECK(stats.exhausted >= 2);

  // A restart keeps the holders and the cool-downs.
  pools.reset();
  store.reset();
  store = db->open();
  pools = assignments_on(*store, pool_of(kNumbers, {1000, 500}));
  CHECK(pools->touch(*store->find_session("s6"), 1700));
  CHECK_FALSE(assign(*pools, "s7", 1500));  // s1's number rests until 1600
  CHECK(assign(*pools, "s7", 1650) == kNumbers[0]);
}

TEST_CASE("A full pool that reuses numbers displaces the session idle the longest",
          "[store][pool]") {
  FOR_EACH_BACKEND;
  auto store = db->open();
  auto pools = assignments_on(
      *store, pool_of({kNumbers[0], kNumbers[1]},
                      {60'000, 60'000, PoolSettings::WhenExhausted::reuse_least_active}));
  CHECK(assign(*pools, "s1", 0) == kNumbers[0]);
  CHECK(assign(*pools, "s2", 10) == kNumbers[1]);
  CHECK(pools->touch(*store->find_session("s1"), 20));
  const auto got = pools->assign(session("s3", "", 30), 30);
  REQUIRE(got);
  CHECK(got->number == kNumbers[1]);
  CHECK(got->displaced_session == "s2");
  CHECK(store->find_session("s2")->released_at == 30);
  CHECK_FALSE(pools->touch(*store->find_session("s2"), 40));
  CHECK(store->find_session("s3")->number == kNumbers[1]);
  CHECK(pools->stats("acme", "google-ads", 40).reused == 1);
}

// Many clients at once, on one serving instance (SQLite) or on two instances sharing the
// database (PostgreSQL): a number is never held by two sessions, and every acknowledged
// assignment is stored.
TEST_CASE("Concurrent assignments never give one number to two live sessions", "[store][pool]") {
  FOR_EACH_BACKEND;
  std::vector<std::string> numbers;
  for (int i = 0; i < 12; ++i) numbers.push_back("+4930555100" + std::to_string(10 + i));
  const PoolSpec spec = pool_of(numbers, {3'600'000, 0});
  auto first = db->open();
  auto first_pools = assignments_on(*first, spec);
  std::unique_ptr<Store> second;
  std::unique_ptr<Assignments> second_pools;
  Assignments* instances[2] = {first_pools.get(), first_pools.get()};
  if (backend == "postgresql") {
    second = db->open();
    second_pools = assignments_on(*second, spec);
    instances[1] = second_pools.get();
  }

  std::mutex holders_mutex;
  std::map<std::string, std::string> holders;  // number -> session, as the clients saw them
  std::atomic<int> double_holds{0}, lost{0}, assigned{0}, exhausted{0};
  const auto client = [&](int index) {
    Assignments& pools = *instances[index % 2];
    for (int i = 0; i < 150; ++i) {
      const std::string id = "c" + std::to_string(index) + "_" + std::to_string(i);
      const callswap::Millis now = 1000 + i;
      const auto number = assign(pools, id, now);
      if (!number) {
        ++exhausted;
        continue;
      }
      ++assigned;
      {
        std::lock_guard lock(holders_mutex);
        std::string& holder = holders[*number];
        if (!holder.empty()) ++double_holds;
        holder = id;
      }
      const auto row = first->find_session(id);
      if (!row || row->number != *number || row->released_at) ++lost;
      if (!pools.touch(*row, now + 1)) ++lost;
      {
        std::lock_guard lock(holders_mutex);
        holders[*number].clear();  // before the number can go to anyone else
      }
      erase_session(pools, id, now + 2);
    }
  };
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) clients.emplace_back(client, i);
  for (auto& t : clients) t.join();
  CHECK(double_holds == 0);
  CHECK(lost == 0);
  CHECK(assigned > 0);
  CHECK(assigned + exhausted == 8 * 150);
  CHECK(first->active_sessions().empty());
  CHECK(first_pools->stats("acme", "google-ads", 5000).active == 0);
}

#ifdef CALLSWAP_HAVE_POSTGRESQL
// Two serving instances on one database: two stores, as two processes would open them.
struct TwoInstances {
  PostgresDatabase db;
  std::unique_ptr<Store> first = db.open();
  std::unique_ptr<Store> second = db.open();
};

TEST_CASE("Two instances' outbox passes at the same moment hand each delivery to one of them",
          "[store][postgresql][outbox]") {
  const TwoInstances instances;
  Store& first = *instances.first;
  constexpr int kDeliveries = 300;
  for (int i = 0; i < kDeliveries; ++i) {
    callswap::server::Delivery d;
    d.site = "acme";
    d.destination = "webhook:crm";
    d.event = "call.attributed";
    d.idempotency_key = "k" + std::to_string(i);
    d.body = "{}";
    d.created_at = d.next_attempt_at = 1000;
    REQUIRE(first.enqueue_delivery(d));
  }
  std::mutex seen_mutex;
  std::map<std::string, int> seen;
  const auto pass = [&](Store& store) {
    for (int round = 0; round < 20; ++round) {
      for (const auto& d : store.due_deliveries(2000, 7)) {
        std::lock_guard lock(seen_mutex);
        ++seen[d.idempotency_key];
      }
    }
  };
  std::thread a([&] { pass(first); });
  std::thread b([&] { pass(*instances.second); });
  a.join();
  b.join();
  int twice = 0;
  for (const auto& [key, times] : seen) twice += times > 1;
  CHECK(twice == 0);
  CHECK(seen.size() == 280);  // 2 instances x 20 rounds x 7
  // An instance that died with its deliveries: they are due again once the lease runs out.
  CHECK(first.due_deliveries(2000 + 5 * 60'000, 1000).size() == kDeliveries);
}

TEST_CASE("PostgreSQL refuses two live sessions on one number, whoever writes them",
          "[store][postgresql][pool]") {
  PostgresDatabase db;
  auto store = db.open();
  store->insert_session(session("s1", "+493055510000", 1000)).get();
  CHECK_THROWS_WITH(store->insert_session(session("s2", "+493055510000", 1000)).get(),
                    Catch::Contains("sessions_one_live_holder_per_number"));
  store->release_session("s1", 2000).get();
  CHECK_NOTHROW(store->insert_session(session("s2", "+493055510000", 3000)).get());
}
#endif
