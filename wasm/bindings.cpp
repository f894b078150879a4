// The C ABI the browser calls: one call per job (find, plan edits), results in flat
// tables the JS shim reads straight from wasm memory. The export list is exports.json.
// Text crosses as UTF-16 code units, so every offset is a JS string index.

#include <callswap/formatter.hpp>
#include <callswap/matcher.hpp>
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

std::vector<std::unique_ptr<MatcherHandle>> g_handles;  // handle h is g_handles[h - 1]
std::string g_last_error;

MatcherHandle* lookup(int handle) {
  if (handle <= 0 || static_cast<std::size_t>(handle) > g_handles.size()) return nullptr;
  return g_handles[static_cast<std::size_t>(handle) - 1].get();
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
  for (std::size_t i = 0; i < g_handles.size(); ++i) {
    if (!g_handles[i]) {
      g_handles[i] = std::make_unique<MatcherHandle>(std::move(matcher).value());
      return static_cast<int>(i + 1);
    }
  }
  g_handles.push_back(std::make_unique<MatcherHandle>(std::move(matcher).value()));
  return static_cast<int>(g_handles.size());
}

void cs_matcher_destroy(int handle) {
  if (lookup(handle)) g_handles[static_cast<std::size_t>(handle) - 1].reset();
}

/// The reason the last call failed, as a NUL-terminated UTF-8 string.
const char* cs_last_error() { return g_last_error.c_str(); }

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
    h->match_table.insert(h->match_table.end(),
                          {static_cast<std::int32_t>(m.start), static_cast<std::int32_t>(m.end),
                           static_cast<std::int32_t>(m.target), static_cast<std::int32_t>(m.kind),
                           static_cast<std::int32_t>(m.form),
                           static_cast<std::int32_t>(m.extension_end),
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
    h->edit_table.insert(h->edit_table.end(),
                         {static_cast<std::int32_t>(e.start), static_cast<std::int32_t>(e.end),
                          static_cast<std::int32_t>(h->edit_text.size()),
                          static_cast<std::int32_t>(e.text.size())});
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

}  // extern "C"
