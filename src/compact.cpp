#include <callswap/compact.hpp>

// Written by to_compact from a validated config and read in the browser by from_compact: the
// order of the fields below is the format, so the writer and the reader of each section sit
// side by side. A change of order or meaning needs a new kCompactVersion.

namespace callswap {

std::optional<std::uint32_t> CompactReader::head(char kind) {
  std::uint32_t value = 0;
  std::size_t digits = 0;
  while (ok_ && digits < rest_.size() && rest_[digits] >= '0' && rest_[digits] <= '9') {
    value = value * 10 + static_cast<std::uint32_t>(rest_[digits] - '0');
    ++digits;
  }
  // One spelling per value (no leading zero), and small enough not to overflow.
  ok_ = ok_ && digits > 0 && digits <= 9 && (digits == 1 || rest_[0] != '0') &&
        digits < rest_.size() && rest_[digits] == kind;
  if (!ok_) return std::nullopt;
  rest_.remove_prefix(digits + 1);
  return value;
}

std::optional<std::uint32_t> CompactReader::number() {
  return head(',');
}

std::optional<std::string_view> CompactReader::text() {
  const auto length = head(':');
  ok_ = ok_ && *length <= rest_.size();
  if (!ok_) return std::nullopt;
  const std::string_view value = rest_.substr(0, *length);
  rest_.remove_prefix(*length);
  return value;
}

void CompactWriter::number(std::uint32_t value) {
  out_ += std::to_string(value);
  out_ += ',';
}

void CompactWriter::text(std::string_view value) {
  out_ += std::to_string(value.size());
  out_ += ':';
  out_ += value;
}

namespace {

// Enums travel as their position in the declaration.
template <class Enum>
std::uint32_t ordinal(Enum value) {
  return static_cast<std::uint32_t>(value);
}

template <class Enum, Enum last>
bool read_enum(CompactReader& r, Enum& out) {
  const auto value = r.number();
  if (!value || *value > ordinal(last)) return false;
  out = static_cast<Enum>(*value);
  return true;
}

bool read_bool(CompactReader& r, bool& out) {
  const auto value = r.number();
  if (!value || *value > 1) return false;
  out = *value == 1;
  return true;
}

bool read_int(CompactReader& r, int& out) {
  const auto value = r.number();
  if (!value) return false;
  out = static_cast<int>(*value);
  return true;
}

bool read_string(CompactReader& r, std::string& out) {
  const auto value = r.text();
  if (!value) return false;
  out = *value;
  return true;
}

bool read_e164(CompactReader& r, PhoneNumber& out) {
  const auto value = r.text();
  if (!value) return false;
  auto number = parse_e164(*value);
  if (!number) return false;
  out = std::move(number).value();
  return true;
}

// A list: its length, then each item. The items are read one by one, never reserved from
// the length, so a hostile length costs nothing.
template <class T, class ReadItem>
bool read_list(CompactReader& r, std::vector<T>& out, ReadItem read_item) {
  const auto count = r.number();
  if (!count) return false;
  out.clear();
  for (std::uint32_t i = 0; i < *count; ++i) {
    T item{};
    if (!read_item(r, item)) return false;
    out.push_back(std::move(item));
  }
  return true;
}

template <class T, class WriteItem>
void write_list(CompactWriter& w, const std::vector<T>& items, WriteItem write_item) {
  w.number(static_cast<std::uint32_t>(items.size()));
  for (const T& item : items) write_item(w, item);
}

void write_strings(CompactWriter& w, const std::vector<std::string>& items) {
  write_list(w, items, [](CompactWriter& out, const std::string& s) { out.text(s); });
}
bool read_strings(CompactReader& r, std::vector<std::string>& out) {
  return read_list(r, out, read_string);
}

void write_rule(CompactWriter& w, const SourceRule& rule) {
  write_list(w, rule.params, [](CompactWriter& out, const SourceRule::Param& p) {
    out.text(p.name);
    write_strings(out, p.values);
  });
  write_strings(w, rule.click_ids);
  write_strings(w, rule.referrer_hosts);
  write_list(w, rule.referrer_groups,
             [](CompactWriter& out, ReferrerGroup g) { out.number(ordinal(g)); });
}
bool read_rule(CompactReader& r, SourceRule& rule) {
  return read_list(r, rule.params,
                   [](CompactReader& in, SourceRule::Param& p) {
                     return read_string(in, p.name) && read_strings(in, p.values);
                   }) &&
         read_strings(r, rule.click_ids) && read_strings(r, rule.referrer_hosts) &&
         read_list(r, rule.referrer_groups, read_enum<ReferrerGroup, ReferrerGroup::email>);
}

void write_source(CompactWriter& w, const Source& s) {
  w.text(s.id);
  w.text(s.static_number.e164());
  w.text(s.pool);
  w.number(s.is_default ? 1 : 0);
  write_rule(w, s.match);
}
bool read_source(CompactReader& r, Source& s) {
  return read_string(r, s.id) && read_e164(r, s.static_number) && read_string(r, s.pool) &&
         read_bool(r, s.is_default) && read_rule(r, s.match);
}

// A purpose (advertising, analytics) is a consent section of its own, one level deep.
void write_consent(CompactWriter& w, const ConsentConfig& c) {
  w.number(ordinal(c.require));
  write_list(w, c.signals, [](CompactWriter& out, ConsentPlatform p) { out.number(ordinal(p)); });
  write_list(w, c.tcf_purposes,
             [](CompactWriter& out, int n) { out.number(static_cast<std::uint32_t>(n)); });
  w.number(c.tcf_vendor_id ? static_cast<std::uint32_t>(*c.tcf_vendor_id) : 0);
  for (const auto* list : {&c.consent_mode_types, &c.onetrust_groups, &c.cookiebot_categories,
                           &c.usercentrics_services, &c.klaro_services, &c.cookieconsent_categories,
                           &c.wp_consent_categories})
    write_strings(w, *list);
  w.number(c.explicit_consent_overrides_gpc ? 1 : 0);
  for (const auto* purpose : {&c.advertising, &c.analytics}) write_list(w, *purpose, write_consent);
}
bool read_consent(CompactReader& r, ConsentConfig& c, bool purpose) {
  int vendor = 0;
  if (!read_enum<ConsentConfig::Require, ConsentConfig::Require::all>(r, c.require) ||
      !read_list(r, c.signals, read_enum<ConsentPlatform, ConsentPlatform::manual>) ||
      !read_list(r, c.tcf_purposes, read_int) || !read_int(r, vendor))
    return false;
  c.tcf_vendor_id = vendor > 0 ? std::optional<int>(vendor) : std::nullopt;
  for (auto* list : {&c.consent_mode_types, &c.onetrust_groups, &c.cookiebot_categories,
                     &c.usercentrics_services, &c.klaro_services, &c.cookieconsent_categories,
                     &c.wp_consent_categories})
    if (!read_strings(r, *list)) return false;
  if (!read_bool(r, c.explicit_consent_overrides_gpc)) return false;
  for (auto* out : {&c.advertising, &c.analytics}) {
    // Purposes nest once: a hostile text cannot recurse deeper.
    const bool read = read_list(r, *out, [purpose](CompactReader& in, ConsentConfig& narrowed) {
      return !purpose && read_consent(in, narrowed, true);
    });
    if (!read) return false;
  }
  return true;
}

}  // namespace

std::string to_compact(const SiteConfig& config) {
  CompactWriter w;
  w.number(kCompactVersion);
  w.text(config.site);
  w.text(config.country->iso);
  write_list(w, config.targets,
             [](CompactWriter& out, const PhoneNumber& n) { out.text(n.e164()); });
  write_strings(w, config.own_hosts);
  write_strings(w, config.pools);
  write_list(w, config.sources, write_source);
  const SessionConfig& s = config.session;
  for (int n : {s.idle_timeout_seconds, s.heartbeat_seconds, s.request_timeout_ms})
    w.number(static_cast<std::uint32_t>(n));
  w.number(ordinal(s.storage));
  w.text(s.cookie_domain);
  w.number(ordinal(s.touch));
  w.number(s.keep_click_ids ? 1 : 0);
  w.text(config.swap.noswap_attribute);
  w.text(config.swap.anti_flicker_selector);
  w.number(static_cast<std::uint32_t>(config.swap.anti_flicker_timeout_ms));
  // Last, so that the first swap's reader can leave it unread (from_compact_without_consent).
  write_consent(w, config.consent);
  return w.str();
}

namespace {

// The consent section is a third of the reader's code; the first-swap module never decides
// consent, so it reads a config without it (a template, so that its copy has none of it).
template <bool kWithConsent>
std::optional<SiteConfig> read_compact(std::string_view text) {
  CompactReader r(text);
  SiteConfig config;
  if (r.number() != std::optional<std::uint32_t>(kCompactVersion) || !read_string(r, config.site))
    return std::nullopt;
  const auto country = r.text();
  if (!country || !(config.country = find_region(*country))) return std::nullopt;
  SessionConfig& s = config.session;
  const bool read = read_list(r, config.targets, read_e164) && read_strings(r, config.own_hosts) &&
                    read_strings(r, config.pools) && read_list(r, config.sources, read_source) &&
                    read_int(r, s.idle_timeout_seconds) && read_int(r, s.heartbeat_seconds) &&
                    read_int(r, s.request_timeout_ms) &&
                    read_enum<SessionStorage, SessionStorage::local_storage>(r, s.storage) &&
                    read_string(r, s.cookie_domain) &&
                    read_enum<TouchModel, TouchModel::last_touch>(r, s.touch) &&
                    read_bool(r, s.keep_click_ids) &&
                    read_string(r, config.swap.noswap_attribute) &&
                    read_string(r, config.swap.anti_flicker_selector) &&
                    read_int(r, config.swap.anti_flicker_timeout_ms);
  if (!read) return std::nullopt;
  if constexpr (kWithConsent) {
    if (!read_consent(r, config.consent, false) || !r.finished()) return std::nullopt;
  } else if (!r.ok()) {
    return std::nullopt;
  }
  return config;
}

}  // namespace

std::optional<SiteConfig> from_compact(std::string_view text) {
  return read_compact<true>(text);
}

std::optional<SiteConfig> from_compact_without_consent(std::string_view text) {
  return read_compact<false>(text);
}

namespace {
std::string Campaign::*const kTouchFields[] = {
    &Campaign::utm_source,  &Campaign::utm_medium, &Campaign::utm_campaign,  &Campaign::utm_term,
    &Campaign::utm_content, &Campaign::click_id,   &Campaign::click_id_value};
}  // namespace

std::optional<Touch> touch_from_compact(std::string_view text) {
  CompactReader r(text);
  Touch touch;
  if (!read_string(r, touch.source)) return std::nullopt;
  for (auto field : kTouchFields)
    if (!read_string(r, touch.campaign.*field)) return std::nullopt;
  if (!r.finished() || touch.source.empty()) return std::nullopt;
  return touch;
}

void write_campaign(CompactWriter& out, const Campaign& campaign) {
  for (auto field : kTouchFields) out.text(campaign.*field);
}

std::string to_compact(const Touch& touch) {
  CompactWriter w;
  w.text(touch.source);
  write_campaign(w, touch.campaign);
  return w.str();
}

}  // namespace callswap
