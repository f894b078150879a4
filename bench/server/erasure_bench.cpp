// What it costs that erasures and withdrawals reach the disk: the SQLite store on a real
// file, one operation after another, three ways in the same run:
//   release   a session created and released (the hot path, synchronous=NORMAL): the baseline;
//   withdraw  a session created and erased as a consent withdrawal is: a synced commit, the
//             write-ahead log emptied by the batched background checkpoint;
//   unbatched the same, but checkpointing after every erasure (what batching saves).
// Each mode checks that every operation did its work (no session left, none findable, the
// log empty after the last scrub) and exits non-zero otherwise.
//   erasure_bench [operations=2000] [directory=/tmp]

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "store.hpp"

namespace {

using callswap::Millis;
using callswap::server::SessionRow;
using callswap::server::Store;

enum class Mode { release, withdraw, unbatched };

struct Result {
  double seconds = 0;
  bool all_done = false;
  std::uintmax_t wal_bytes_after = 0;
};

Result run(Mode mode, int operations, const std::filesystem::path& file) {
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
  auto store = callswap::server::open_sqlite_store(file.string());
  std::vector<std::string> ids;
  for (int i = 0; i < operations; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "%032x", i + 1);
    ids.emplace_back(id);
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < operations; ++i) {
    const Millis at = 1'790'000'000'000 + i;
    store
        ->insert_session(SessionRow{ids[static_cast<std::size_t>(i)], "acme", "ads", "+49309000001",
                                    "google-ads", R"({"utm_source":"google"})", "/offer", at, at,
                                    std::nullopt})
        .get();
    if (mode == Mode::release) {
      store->release_session(ids[static_cast<std::size_t>(i)], at + 1).get();
      continue;
    }
    Store::Erasure erasure;
    erasure.session_ids.push_back(ids[static_cast<std::size_t>(i)]);
    erasure.at = at + 1;
    store->erase(erasure).get();
    if (mode == Mode::unbatched) store->scrub();
  }
  Result result;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The work each operation claims: released sessions are kept and ended; erased ones are gone.
  result.all_done = store->active_sessions().empty();
  for (const std::string& id : ids) {
    const auto row = store->find_session(id);
    result.all_done = result.all_done && (mode == Mode::release ? row && row->released_at : !row);
  }
  if (mode != Mode::release) {
    store->scrub();
    std::error_code ignored;
    result.wal_bytes_after = std::filesystem::file_size(file.string() + "-wal", ignored);
    result.all_done = result.all_done && result.wal_bytes_after == 0;
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const int operations = argc > 1 ? std::stoi(argv[1]) : 2000;
  const std::filesystem::path dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path();
  const std::filesystem::path file = dir / "callswap-erasure-bench.db";
  const Result release = run(Mode::release, operations, file);
  const Result withdraw = run(Mode::withdraw, operations, file);
  const Result unbatched = run(Mode::unbatched, operations, file);
  std::printf("%d operations each, SQLite file in %s\n", operations, dir.c_str());
  std::printf("%-10s %10s %12s %14s %s\n", "mode", "ops/s", "ms per op", "vs release",
              "every operation did its work");
  bool ok = true;
  for (const auto& [name, r] :
       {std::pair{"release", release}, {"withdraw", withdraw}, {"unbatched", unbatched}}) {
    std::printf("%-10s %10.0f %12.3f %13.2fx %s\n", name, operations / r.seconds,
                1000 * r.seconds / operations, release.seconds / r.seconds,
                r.all_done ? "yes" : "NO");
    ok = ok && r.all_done;
  }
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
  return ok ? 0 : 1;
}
