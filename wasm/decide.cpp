// The C ABI of callswap-decide.wasm, the second module: what a page needs only when a
// source has a pool (the consent decision and the session machine, both fed JSON), and
// what it needs only for a config that did not come from the server (the full validator,
// which turns an inline config into the compact form callswap.wasm reads). A page that
// shows static numbers only never downloads it. The export list is decide-exports.json.

#include <callswap/compact.hpp>
#include <callswap/config.hpp>
#include <callswap/consent.hpp>
#include <callswap/session.hpp>
#include <memory>
#include <string>

#include "shared.hpp"

namespace {

using callswap::wasm::g_last_error;
using callswap::wasm::Registry;

using callswap::wasm::g_sites;
Registry<callswap::SessionMachine> g_sessions;
std::string g_compact;
std::string g_result;  // the JSON answer of the last call that returns one

const char* answer(const callswap::json::Value& value) {
  g_result = value.dump();
  return g_result.c_str();
}

const char* answer_error(const std::string& message) {
  callswap::json::Object o;
  o.set("error", message);
  return answer(o);
}

}  // namespace

extern "C" {

/// The reason the last call failed, as a NUL-terminated UTF-8 string.
const char* cs_last_error() {
  return g_last_error.c_str();
}

/// Validates a site config (JSON text) and answers its compact form, or nullptr with
/// cs_last_error() holding a JSON array of every error ("path: reason").
const char* cs_site_compact(const char* json_text) {
  auto result = callswap::parse_site_config(json_text);
  if (!result.ok()) {
    callswap::json::Array errors;
    for (const auto& e : result.errors) errors.emplace_back(e.to_string());
    g_last_error = callswap::json::Value(std::move(errors)).dump();
    return nullptr;
  }
  g_compact = callswap::to_compact(*result.config);
  return g_compact.c_str();
}

/// Loads a compact site config. Returns a handle > 0, or 0 when it is not one.
int cs_site_load(const char* compact) {
  return callswap::wasm::load_site(compact, callswap::from_compact);
}

void cs_site_destroy(int site) {
  g_sites.remove(site);
}

/// The consent decision for normalised signals (JSON), as JSON {mode, may_store, reason, signals}.
const char* cs_site_consent(int site, const char* signals_json) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) return answer_error("no such site");
  auto signals = callswap::json::parse(signals_json);
  if (!signals) return answer_error(signals.error().message);
  return answer(callswap::decide_consent(config->consent, *signals).to_json());
}

/// A session state machine for the visit's source.
int cs_session_create(int site, const char* source) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) {
    g_last_error = "no such site";
    return 0;
  }
  return g_sessions.add(std::make_unique<callswap::SessionMachine>(config->session, source));
}

void cs_session_destroy(int session) {
  g_sessions.remove(session);
}

/// What the consent adapters read, as JSON {signals: [...], wp_consent_categories: [...]}.
const char* cs_site_consent_settings(int site) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) return answer_error("no such site");
  callswap::json::Array signals;
  for (const auto platform : config->consent.signals)
    signals.emplace_back(callswap::to_string(platform));
  // The WP Consent API has no list of what was chosen: the adapter asks about each category.
  callswap::json::Array wp_categories;
  for (const auto& category : config->consent.wp_consent_categories)
    wp_categories.emplace_back(category);
  callswap::json::Object out;
  out.set("signals", std::move(signals));
  out.set("wp_consent_categories", std::move(wp_categories));
  return answer(out);
}

/// Feeds one event (JSON) to a session; answers {mode, actions: [...], wakeup: ms|null}.
const char* cs_session_handle(int session, const char* event_json) {
  callswap::SessionMachine* machine = g_sessions.get(session);
  if (!machine) return answer_error("no such session");
  auto parsed = callswap::json::parse(event_json);
  if (!parsed) return answer_error(parsed.error().message);
  auto event = callswap::session_event_from_json(*parsed);
  if (!event) return answer_error(event.error().message);
  callswap::json::Array actions;
  for (const auto& action : machine->handle(*event)) actions.push_back(callswap::to_json(action));
  callswap::json::Object out;
  out.set("mode", callswap::to_string(machine->mode()));
  out.set("actions", std::move(actions));
  const auto wakeup = machine->next_wakeup();
  out.set("wakeup", wakeup ? callswap::json::Value(static_cast<double>(*wakeup))
                           : callswap::json::Value(nullptr));
  return answer(out);
}

}  // extern "C"
