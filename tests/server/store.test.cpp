#include <sqlite3.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "store.hpp"
#include "temp_dir.hpp"

using callswap::server::CallRow;
using callswap::server::SessionRow;

namespace {

// A fresh SQLite file in its own folder for each test.
struct TempDatabase {
  test::TempDir dir;
  [[nodiscard]] std::string path() const { return dir.file("callswap.db"); }
};

SessionRow session(const char* id, const char* number, callswap::Millis at) {
  return SessionRow{id, "acme", "google-ads", number, "google-ads", R"({"utm_source":"google"})", "/landing?utm_source=google", at, at, std::nullopt};
}

}  // namespace

TEST_CASE("The store creates its schema in a new file and keeps everything across a restart", "[store]") {
  TempDatabase db;
  {
    auto store = callswap::server::open_sqlite_store(db.path());
    store->insert_session(session("s1", "+493055510000", 1000)).get();
    store->insert_session(session("s2", "+493055510001", 2000)).get();
    store->touch_session("s1", 5000).get();
    store->release_session("s2", 6000).get();
    CHECK(store->insert_call(CallRow{"CA1", "acme", "+493055510000", "completed", 42, 7000, "s1", "google-ads", "session"}));
  }
  auto store = callswap::server::open_sqlite_store(db.path());
  const auto s1 = store->find_session("s1");
  REQUIRE(s1);
  CHECK(s1->last_activity == 5000);
  CHECK_FALSE(s1->released_at);
  CHECK(s1->campaign_json == R"({"utm_source":"google"})");
  CHECK(store->find_session("s2")->released_at == 6000);
  const auto active = store->active_sessions();
  REQUIRE(active.size() == 1);
  CHECK(active[0].id == "s1");
  CHECK(store->last_releases("acme") == std::vector<std::pair<std::string, callswap::Millis>>{{"+493055510001", 6000}});
  const auto call = store->find_call("CA1");
  REQUIRE(call);
  CHECK(call->duration_seconds == 42);
  CHECK(call->session_id == "s1");
  CHECK(store->count_calls("acme") == 1);
}

TEST_CASE("A call is stored once per provider id", "[store]") {
  TempDatabase db;
  auto store = callswap::server::open_sqlite_store(db.path());
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

TEST_CASE("The session that held a number at a call's time is found, also within the grace period", "[store]") {
  TempDatabase db;
  auto store = callswap::server::open_sqlite_store(db.path());
  store->insert_session(session("early", "+493055510000", 1000)).get();
  store->release_session("early", 2000).get();
  store->insert_session(session("late", "+493055510000", 50'000)).get();
  const callswap::Millis grace = 10'000;
  CHECK(store->session_holding("acme", "+493055510000", 1500, grace)->id == "early");   // while held
  CHECK(store->session_holding("acme", "+493055510000", 11'999, grace)->id == "early");  // in the grace period
  CHECK_FALSE(store->session_holding("acme", "+493055510000", 12'001, grace));          // after it
  CHECK(store->session_holding("acme", "+493055510000", 60'000, grace)->id == "late");
  CHECK_FALSE(store->session_holding("acme", "+493055510001", 60'000, grace));
  CHECK_FALSE(store->session_holding("other", "+493055510000", 60'000, grace));
  store->release_session("late", 70'000).get();
  store->erase({{"late"}, {}, {}, "", 80'000}).get();
  CHECK_FALSE(store->find_session("late"));
  // The number's release outlives the erased session, for the pool's cool-down.
  CHECK(store->last_releases("acme") == std::vector<std::pair<std::string, callswap::Millis>>{{"+493055510000", 70'000}});
}

TEST_CASE("Erasing a session still holding its number records the release, for the cool-down", "[store][erase]") {
  TempDatabase db;
  auto store = callswap::server::open_sqlite_store(db.path());
  store->insert_session(session("held", "+493055510000", 1000)).get();
  store->erase({{"held"}, {}, {}, "", 5000}).get();
  CHECK(store->last_releases("acme") == std::vector<std::pair<std::string, callswap::Millis>>{{"+493055510000", 5000}});
  CHECK(store->active_sessions().empty());
}

TEST_CASE("A deleted session is cut from every call attributed to it, whatever deleted it", "[store][erase]") {
  TempDatabase db;
  auto store = callswap::server::open_sqlite_store(db.path());
  for (const char* id : {"erased", "purged"}) {
    store->insert_session(session(id, "+493055510000", 1000)).get();
    store->release_session(id, 2000).get();
  }
  for (const auto& [call_id, session_id] : {std::pair{"CA1", "erased"}, {"CA2", "erased"}, {"CA3", "purged"}}) {
    CallRow call{call_id, "acme", "+493055510000", "completed", 30, 1500, session_id, "google", "session", R"({"utm_campaign":"x"})"};
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

TEST_CASE("The purge applies a cut-off to every table, rows of no site included", "[store][purge]") {
  TempDatabase db;
  auto store = callswap::server::open_sqlite_store(db.path());
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

TEST_CASE("A caller's restriction marker reaches later calls until lifted, and is purged when stale", "[store][restrict]") {
  TempDatabase db;
  auto store = callswap::server::open_sqlite_store(db.path());
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
  TempDatabase db;
  {
    auto store = callswap::server::open_sqlite_store(db.path());
    CHECK_FALSE(store->purge_mark());
    store->set_purge_mark({123'456, 100'000});
  }
  auto store = callswap::server::open_sqlite_store(db.path());
  REQUIRE(store->purge_mark());
  CHECK(store->purge_mark()->purged_by == 123'456);
  CHECK(store->purge_mark()->clock == 100'000);
}

TEST_CASE("A database from a newer server, or not a database at all, is refused with the reason", "[store]") {
  TempDatabase db;
  { callswap::server::open_sqlite_store(db.path()); }
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "INSERT INTO schema_version VALUES (99)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  CHECK_THROWS_WITH(callswap::server::open_sqlite_store(db.path()), Catch::Contains("schema version 99, newer than this server's"));

  TempDatabase other;
  std::ofstream(other.path()) << "this is not a database, just text that is long enough to have a header";
  CHECK_THROWS_WITH(callswap::server::open_sqlite_store(other.path()), Catch::Contains("sqlite"));
  CHECK_THROWS_WITH(callswap::server::open_sqlite_store("/nonexistent-dir/x/callswap.db"), Catch::Contains("cannot open database"));
}
