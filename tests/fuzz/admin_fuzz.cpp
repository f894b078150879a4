// libFuzzer target for the admin API's bodies: the data-subject requests (POST
// /v1/admin/subjects/{action}) as the server carries them out (server/subjects.cpp), on a
// real SQLite store (in memory) holding one visit's session and its call. The first byte
// picks the action; the rest is the body. Invariants: the answer is 200, 400, 404 or 409,
// and every refusal is an error body with a code and a reason; access hands over exactly
// the stored subject (its caller number decrypted); restrict and unrestrict set the flag on
// the rows found; erase leaves none of them in the store, and a tombstone for the call;
// rectify stores what it was given.

#include <memory>
#include <string>

#include "caller_vault.hpp"
#include "fuzz_check.hpp"
#include "store.hpp"
#include "subjects.hpp"

namespace {

using fuzz::require;
namespace server = callswap::server;

constexpr const char* kSession = "0123456789abcdef0123456789abcdef";
constexpr const char* kCall = "CA0123";
constexpr const char* kCaller = "+4917612345678";
constexpr callswap::Millis kNow = 1'760'000'000'000;

struct World {
  std::unique_ptr<server::Store> store = server::open_sqlite_store(":memory:");
  server::CallerVault vault{{{"k1", std::string(32, 'k')}}, "k1", std::string(32, 'h')};
  server::Subjects subjects{
      *store, &vault,
      server::Subjects::Hooks{[](const server::SessionRow&) {},
                              [](const std::string& site, const std::string& source) {
                                return site == "acme" && (source == "ads" || source == "direct");
                              }},
      [] { return kNow; }};
  int runs = 0;

  // The visit and its call, stored again whenever an erasure took them.
  void seed() {
    if (!store->find_session(kSession)) {
      store
          ->insert_session(server::SessionRow{kSession, "acme", "ads", "+49301111111", "ads",
                                              R"({"utm_source":"x"})", "/landing", kNow - 60'000,
                                              kNow - 30'000, std::nullopt})
          .get();
    }
    if (!store->find_call(kCall)) {
      server::CallRow call;
      call.provider_call_id = kCall;
      call.site = "acme";
      call.called_number = "+49301111111";
      call.status = "completed";
      call.started_at = kNow - 20'000;
      call.session_id = kSession;
      call.source = "ads";
      call.attribution = "session";
      const server::SealedCaller sealed = vault.seal(kCaller);
      call.caller_key_id = sealed.key_id;
      call.caller_ciphertext = sealed.ciphertext;
      call.caller_hash = vault.hash(kCaller);
      store->insert_call(call);
    }
    // Successful actions write audit entries; the fuzzer runs millions of them.
    if (++runs % 4096 == 0) {
      server::Store::PurgeCutoffs audit_only;
      audit_only.audit_before = kNow + 1;
      (void)store->purge("acme", audit_only);
    }
  }
};

World& world() {
  static World w;
  return w;
}

void check_error(const server::Json& body) {
  const server::Json* error = server::member(body, "error");
  require(error && error->is_object());
  const server::Json* code = server::member(*error, "code");
  const server::Json* message = server::member(*error, "message");
  require(code && code->is_string() && !code->get_ref<const std::string&>().empty());
  require(message && message->is_string() && !message->get_ref<const std::string&>().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr std::string_view kActions[] = {"access",     "erase",   "restrict",
                                                  "unrestrict", "rectify", "export"};
  const std::string_view action = kActions[data[0] % std::size(kActions)];
  auto request = server::parse_json(fuzz::text(data + 1, size - 1));
  if (!request) return 0;  // the server answers invalid_json before the subjects see it
  World& w = world();
  w.seed();
  const server::SubjectOutcome outcome = w.subjects.handle(action, *request, {"fuzz", true});
  require(outcome.status == 200 || outcome.status == 400 || outcome.status == 404 ||
          outcome.status == 409);
  if (outcome.status != 200) {
    check_error(outcome.body);
    if (action == "export") require(outcome.status == 404);
    return 0;
  }
  require(action != "export");
  const auto session = w.store->find_session(kSession);
  const auto call = w.store->find_call(kCall);
  if (action == "erase") {
    require(!session && !call);
    // A replay of the erased call's webhook would find its tombstone.
    require(w.store->call_erased(server::erased_call_key(&w.vault, kCall)));
  } else if (action == "restrict" || action == "unrestrict") {
    require(session && call && session->restricted == (action == "restrict") &&
            call->restricted == session->restricted);
  } else if (action == "rectify") {
    require(call.has_value());
    if (const auto* source = server::member(*request, "source")) require(call->source == *source);
    if (const auto* classification = server::member(*request, "classification")) {
      require(call->classification == *classification);
    }
  } else {
    const auto* calls = server::member(outcome.body, "calls");
    require(calls && calls->is_array() && calls->size() == 1);
    const auto* caller = server::member(calls->at(0), "caller");
    require(caller && caller->is_string() && *caller == kCaller);
  }
  return 0;
}
