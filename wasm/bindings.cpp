// The C ABI of callswap.wasm, the module a page needs for its first swap: the matcher, the
// formatter, the compact site config and attribution. One call per job (find, plan edits),
// results in flat tables the JS shim reads straight from wasm memory. The export list is
// exports.json. Text crosses as UTF-16 code units, so every offset is a JS string index.
// Consent and the session machine are in the second module (decide.cpp), which a page loads
// only when a source has a pool; this one has no JSON reader and no config validator.

#include <callswap/attribution.hpp>
#include <callswap/compact.hpp>
#include <callswap/config.hpp>
#include <callswap/formatter.hpp>
#include <callswap/matcher.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared.hpp"

namespace {

using callswap::wasm::Registry;

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

Registry<MatcherHandle> g_matchers;
using callswap::wasm::g_last_error;
using callswap::wasm::g_sites;

// Answers cross as compact tokens (include/callswap/compact.hpp) that core.js reads: this
// module carries no JSON code at all.
std::string g_result;
const char* answer(const callswap::CompactWriter& out) {
  g_result = out.str();
  return g_result.c_str();
}

MatcherHandle* lookup(int handle) {
  return g_matchers.get(handle);
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

/// Loads a compact site config (include/callswap/compact.hpp), already validated by the
/// server or by the second module. Returns a handle > 0, or 0 when it is not one.
int cs_site_load(const char* compact) {
  return callswap::wasm::load_site(compact, callswap::from_compact_without_consent);
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
/// never repeats a default: {site, targets (how many), target_numbers (E.164), storage,
/// cookie_domain, request_timeout_ms, noswap_attribute, signals: [...], wp_consent_categories:
/// [...], pools: whether any source has one (then the page needs the second module)}.
const char* cs_site_settings(int site) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) return nullptr;
  callswap::CompactWriter out;
  out.text(config->site);
  out.number(static_cast<std::uint32_t>(config->targets.size()));
  for (const auto& target : config->targets) out.text(target.e164());
  out.text(config->session.storage == callswap::SessionStorage::cookie ? "cookie" : "localStorage");
  out.text(config->session.cookie_domain);
  out.number(static_cast<std::uint32_t>(config->session.request_timeout_ms));
  out.text(config->swap.noswap_attribute);
  bool pools = false;
  for (const auto& source : config->sources) pools = pools || !source.pool.empty();
  out.number(pools ? 1 : 0);
  return answer(out);
}

/// The source of a visit, as JSON {source, reason, campaign, kept_earlier_touch, static, pool}.
/// `earlier` is the stored or carried touch in compact form (callswap::touch_from_compact) or "".
const char* cs_site_attribute(int site, const char* landing_url, const char* referrer,
                              const char* earlier) {
  const callswap::SiteConfig* config = g_sites.get(site);
  if (!config) return nullptr;
  std::optional<callswap::Touch> touch;
  if (*earlier) touch = callswap::touch_from_compact(earlier);
  const auto attribution = callswap::attribute(*config, landing_url, referrer, touch);
  callswap::CompactWriter out;
  out.text(attribution.reason);
  out.number(attribution.kept_earlier_touch ? 1 : 0);
  out.text(attribution.source ? attribution.source->static_number.e164() : std::string());
  out.text(attribution.source ? std::string_view(attribution.source->pool) : std::string_view());
  // The source and the campaign, as a touch is written (an empty source: none).
  out.text(attribution.source ? std::string_view(attribution.source->id) : std::string_view());
  callswap::write_campaign(out, attribution.campaign);
  return answer(out);
}

}  // extern "C"
