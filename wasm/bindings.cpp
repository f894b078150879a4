// The C ABI the browser calls: one call per job (find, plan edits), results in flat
// tables the JS shim reads straight from wasm memory. The export list is exports.json.
// Text crosses as UTF-16 code units, so every offset is a JS string index.

#include <callswap/attribution.hpp>
#include <callswap/config.hpp>
#include <callswap/consent.hpp>
#include <callswap/formatter.hpp>
#include <callswap/matcher.hpp>
#include <callswap/session.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

struct MatcherHandle {
  explicit MatcherHandle(callswap::Matcher m)
      : matcher(std::move(m)), replacements(matcher.targets().size()) {}

  callswap::Matcher matcher;
  std::vector<std::optional<callswap::PhoneNumber>> replacements;
  std::vector<callswap::Match> matches;
  std::vector<std::int32_t> match_table;  // kMatchFields per match
  std::vector<std::int32_t> edit_table;   // kEditFields per edit
  std::u16string edit_text;               // replacement texts, back to back
};

constexpr int kMatchFields = 7;  // start, end, target, kind, form, extension_end, national_start
constexpr int kEditFields = 4;   // start, end, text offset, text length

// Objects handed to JS as small integers: handle h is slots[h - 1].
template <class T>
class Registry {
 public:
  int add(std::unique_ptr<T> item) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i]) {
        slots_[i] = std::move(item);
        return static_cast<int>(i + 1);
      }
    }
    slots_.push_back(std::move(item));
    return static_cast<int>(slots_.size());
  }
  T* get(int handle) {
    if (handle <= 0 || static_cast<std::size_t>(handle) > slots_.size()) return nullptr;
    return slots_[static_cast<std::size_t>(handle) - 1].get();
  }
  void remove(int handle) {
    if (get(handle)) slots_[static_cast<std::size_t>(handle) - 1].reset();
  }

 private:
  std::vector<std::unique_ptr<T>> slots_;
};

Registry<MatcherHandle> g_matchers;
Registry<callswap::SiteConfig> g_sites;
Registry<callswap::SessionMachine> g_sessions;
std::string g_last_error;
std::string g_result;  // the JSON answer of the last call that returns one

MatcherHandle* lookup(int handle) {
  return g_matchers.get(handle);
}

const char* answer(const callswap::json::Value& value) {
  g_result = value.dump();
  return g_result.c_str();
}

const char* answer_error(const std::string& message) {
  callswap::json::Object o;
  o.set("error", message);
  return answer(o);
}

std::u16string_view view(const char16_t* text, int length) {
  return {text, length > 0 ? static_cast<std::size_t>(length) : 0};
}

}  // namespace

extern "C" {

/// Creates a matcher for `region` (ISO code) and comma-separated E.164 `targets`.
/// Returns a handle > 0, or 0 with the reason in cs_last_error().
int cs_matcher_create(const char* region, const char* targets) {
  std::vector<std::string> list;
  std::string_view rest(targets);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    list.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  auto matcher = callswap::Matcher::create(region, list);
  if (!matcher) {
    g_last_error = matcher.error().message;
    return 0;
  }
  return g_matchers.add(std::make_unique<MatcherHandle>(std::move(matcher).value()));
}

void cs_matcher_destroy(int handle) {
  g_matchers.remove(handle);
}

/// The reason the last call failed, as a NUL-terminated UTF-8 string.
const char* cs_last_error() {
  return g_last_error.c_str();
}

/// Sets what target `index` is replaced by (E.164), or clears it with "". 1 on success.
int cs_set_replacement(int handle, int index, const char* e164) {
  MatcherHandle* h = lookup(handle);
  if (!h || index < 0 || static_cast<std::size_t>(index) >= h->replacements.size()) {
    g_last_error = "no such matcher or target";
    return 0;
  }
  auto& slot = h->replacements[static_cast<std::size_t>(index)];
  if (*e164 == '\0') {
    slot.reset();
    return 1;
  }
  auto number = callswap::parse_e164(e164);
  if (!number) {
    g_last_error = number.error().message;
    return 0;
  }
  slot = std::move(number).value();
  return 1;
}

/// Finds the targets in `length` UTF-16 units at `text`. Returns the match count;
/// cs_match_table() then holds kMatchFields int32 per match.
int cs_find_utf16(int handle, const char16_t* text, int length) {
  MatcherHandle* h = lookup(handle);
  if (!h) return -1;
  h->matches = h->matcher.find(view(text, length));
  h->match_table.clear();
  for (const callswap::Match& m : h->matches) {
    h->match_table.insert(
        h->match_table.end(),
        {static_cast<std::int32_t>(m.start), static_cast<std::int32_t>(m.end),
         static_cast<std::int32_t>(m.target), static_cast<std::int32_t>(m.kind),
         static_cast<std::int32_t>(m.form), static_cast<std::int32_t>(m.extension_end),
         static_cast<std::int32_t>(m.national_start)});
  }
  return static_cast<int>(h->matches.size());
}

const std::int32_t* cs_match_table(int handle) {
  MatcherHandle* h = lookup(handle);
  return h ? h->match_table.data() : nullptr;
}

/// Finds the targets in `text` and plans the edits that swap in the replacements.
/// Returns the edit count; cs_edit_table() holds kEditFields int32 per edit, whose text
/// offset and length point into cs_edit_text() (UTF-16).
int cs_plan_edits_utf16(int handle, const char16_t* text, int length) {
  MatcherHandle* h = lookup(handle);
  if (!h) return -1;
  const auto input = view(text, length);
  h->matches = h->matcher.find(input);
  const auto edits = callswap::plan_edits(input, h->matches, h->matcher, h->replacements);
  h->edit_table.clear();
  h->edit_text.clear();
  for (const auto& e : edits) {
    h->edit_table.insert(
        h->edit_table.end(),
        {static_cast<std::int32_t>(e.start), static_cast<std::int32_t>(e.end),
         static_cast<std::int32_t>(h->edit_text.size()), static_cast<std::int32_t>(e.text.size())});
    h->edit_text += e.text;
  }
  return static_cast<int>(edits.size());
}

const std::int32_t* cs_edit_table(int handle) {
  MatcherHandle* h = lookup(handle);
  return h ? h->edit_table.data() : nullptr;
}

const char16_t* cs_edit_text(int handle) {
  MatcherHandle* h = lookup(handle);
  return h ? h->edit_text.data() : nullptr;
}

/// 1 if `text` is a valid E.164 number (the SDK checks a server's answer before showing it).
int cs_is_e164(const char* text) {
  return callswap::parse_e164(text) ? 1 : 0;
}

/// Loads a site config (JSON text). Returns a handle > 0, or 0 with cs_last_error() holding
/// a JSON array of every error ("path: reason").
int cs_site_load(const char* json_text) {
  auto result = callswap::parse_site_config(json_text);
  if (!result.ok()) {
    callswap::json::Array errors;
    for (const auto& e : result.errors) errors.emplace_back(e.to_string());
    g_last_error = callswap::json::Value(std::move(errors)).dump();
    return 0;
  }
  return g_sites.add(std::make_unique<callswap::SiteConfig>(std::move(*result.config)));
}

void cs_site_destroy(int site) {
  g_sites.remove(site);
}

/// A matcher for the site's own numbers in its default country.
int cs_site_matcher(int site) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) {
    g_last_error = "no such site";
    return 0;
  }
  return g_matchers.add(
      std::make_unique<MatcherHandle>(callswap::Matcher(*config->country, config->targets)));
}

/// What the browser shim needs from the validated config, defaults applied, so JavaScript
/// never repeats a default: {site, targets (how many), storage, cookie_domain, request_timeout_ms,
/// noswap_attribute, signals: [...], wp_consent_categories: [...]}.
const char* cs_site_settings(int site) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) return answer_error("no such site");
  callswap::json::Object out;
  out.set("site", config->site);
  out.set("targets", static_cast<double>(config->targets.size()));
  out.set("storage",
          config->session.storage == callswap::SessionStorage::cookie ? "cookie" : "localStorage");
  out.set("cookie_domain", config->session.cookie_domain);
  out.set("request_timeout_ms", static_cast<double>(config->session.request_timeout_ms));
  out.set("noswap_attribute", config->swap.noswap_attribute);
  callswap::json::Array signals;
  for (const auto platform : config->consent.signals)
    signals.emplace_back(callswap::to_string(platform));
  out.set("signals", std::move(signals));
  // The WP Consent API has no list of what was chosen: the adapter asks about each category.
  callswap::json::Array wp_categories;
  for (const auto& category : config->consent.wp_consent_categories)
    wp_categories.emplace_back(category);
  out.set("wp_consent_categories", std::move(wp_categories));
  return answer(out);
}

/// The source of a visit, as JSON {source, reason, campaign, kept_earlier_touch, static, pool}.
/// `earlier` is the stored touch as JSON ({source, campaign}) or "".
const char* cs_site_attribute(int site, const char* landing_url, const char* referrer,
                              const char* earlier) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) return answer_error("no such site");
  std::optional<callswap::Touch> touch;
  if (*earlier) {
    if (auto v = callswap::json::parse(earlier)) touch = callswap::Touch::from_json(*v);
  }
  const auto attribution = callswap::attribute(*config, landing_url, referrer, touch);
  callswap::json::Value out = attribution.to_json();
  if (attribution.source) {
    out.as_object().set("static", attribution.source->static_number.e164());
    out.as_object().set("pool", attribution.source->pool);
  }
  return answer(out);
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
