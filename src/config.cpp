#include <algorithm>
#include <callswap/config.hpp>
#include <callswap/vocabulary.hpp>
#include <cmath>

#include "config_reader.hpp"

namespace callswap {

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

namespace {

using config_reader::index_path;
using config_reader::join_path;
using config_reader::quoted;
using Reader = config_reader::Reader;

bool valid_host_pattern(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.back() == '.') return false;
  if (host.ends_with(".*")) host.remove_suffix(2);
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

void read_number(Reader& r, const json::Value& v, const std::string& path,
                 std::optional<PhoneNumber>& out) {
  if (!v.is_string()) {
    r.error(path, std::string("must be an E.164 number as a string, not ") + v.type_name());
    return;
  }
  auto number = parse_e164(v.as_string());
  if (!number) {
    r.error(path, number.error().message);
    return;
  }
  out = std::move(number).value();
}

constexpr std::pair<std::string_view, ReferrerGroup> kGroups[] = {{"search", ReferrerGroup::search},
                                                                  {"social", ReferrerGroup::social},
                                                                  {"email", ReferrerGroup::email}};
constexpr std::pair<std::string_view, ConsentPlatform> kPlatforms[] = {
    {"tcf", ConsentPlatform::tcf},
    {"consent_mode", ConsentPlatform::consent_mode},
    {"onetrust", ConsentPlatform::onetrust},
    {"cookiebot", ConsentPlatform::cookiebot},
    {"usercentrics", ConsentPlatform::usercentrics},
    {"klaro", ConsentPlatform::klaro},
    {"cookieconsent", ConsentPlatform::cookieconsent},
    {"wp_consent_api", ConsentPlatform::wp_consent_api},
    {"manual", ConsentPlatform::manual}};

// {"params": {"utm_source": "google", "utm_medium": ["cpc", "ppc"]}, "click_ids": [...], ...}
std::optional<SourceRule> read_rule(Reader& r, const json::Value& v, const std::string& path) {
  const json::Object* o =
      r.object(v, path, {"params", "click_ids", "referrer_hosts", "referrer_groups"});
  if (!o) return std::nullopt;
  SourceRule rule;
  if (const json::Value* params = o->find("params")) {
    const std::string p = join_path(path, "params");
    if (!params->is_object()) {
      r.error(p, std::string("must be an object of parameter names to values, not ") +
                     params->type_name());
    } else if (params->as_object().size() == 0) {
      r.error(p, "must name at least one parameter");
    } else {
      const json::Object& po = params->as_object();
      for (std::size_t i = 0; i < po.size(); ++i) {
        const std::string pp = join_path(p, po.keys[i]);
        SourceRule::Param param{po.keys[i], {}};
        if (!is_valid_id(param.name)) {
          r.error(pp, "a parameter name is lower case letters, digits, '-' and '_'");
          continue;
        }
        if (po.values[i].is_string()) {
          if (po.values[i].as_string().empty()) {
            r.error(pp, "must not be empty (use \"*\" for any value)");
            continue;
          }
          param.values.push_back(po.values[i].as_string());
        } else if (auto values = r.strings_value(po.values[i], pp, false)) {
          param.values = std::move(*values);
        } else {
          continue;
        }
        rule.params.push_back(std::move(param));
      }
    }
  }
  if (auto ids = r.strings(*o, path, "click_ids", false, false)) {
    for (std::size_t i = 0; i < ids->size(); ++i) {
      if (std::find(std::begin(kClickIds), std::end(kClickIds), (*ids)[i]) == std::end(kClickIds)) {
        r.error(index_path(join_path(path, "click_ids"), i),
                quoted((*ids)[i]) + " is not a known click id (" + click_id_names() + ")");
      }
    }
    rule.click_ids = std::move(*ids);
  }
  if (auto hosts = r.strings(*o, path, "referrer_hosts", false, false)) {
    for (std::size_t i = 0; i < hosts->size(); ++i) {
      if (!valid_host_pattern((*hosts)[i])) {
        r.error(
            index_path(join_path(path, "referrer_hosts"), i),
            quoted((*hosts)[i]) + " is not a host name in lower case (\"bing.com\", \"google.*\")");
      }
    }
    rule.referrer_hosts = std::move(*hosts);
  }
  if (const json::Value* groups = o->find("referrer_groups")) {
    const std::string gp = join_path(path, "referrer_groups");
    if (auto names = r.strings_value(*groups, gp, false)) {
      for (std::size_t i = 0; i < names->size(); ++i) {
        if (auto g = r.choice(json::Value((*names)[i]), index_path(gp, i), kGroups))
          rule.referrer_groups.push_back(*g);
      }
    }
  }
  return rule;
}

void read_sources(Reader& r, const json::Value& v, SiteConfig& config) {
  const std::string path = "sources";
  if (!v.is_array() || v.as_array().empty()) {
    r.error(path, v.is_array() ? "must list at least one source"
                               : std::string("must be an array, not ") + v.type_name());
    return;
  }
  const json::Array& items = v.as_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string sp = index_path(path, i);
    const json::Object* o = r.object(items[i], sp, {"id", "static", "pool", "default", "match"});
    if (!o) continue;
    Source source;
    bool ok = true;
    if (auto id = r.string(*o, sp, "id", true)) {
      if (!is_valid_id(*id)) {
        r.error(join_path(sp, "id"), quoted(*id) + " is not an id (1 to 64 of a-z, 0-9, '-', '_')");
        ok = false;
      } else if (config.find_source(*id)) {
        r.error(join_path(sp, "id"), quoted(*id) + " is used by an earlier source");
        ok = false;
      }
      source.id = *id;
    } else {
      ok = false;
    }
    std::optional<PhoneNumber> number;
    if (const json::Value* s = r.field(*o, sp, "static", true))
      read_number(r, *s, join_path(sp, "static"), number);
    ok = ok && number.has_value();
    if (auto pool = r.string(*o, sp, "pool", false)) {
      if (std::find(config.pools.begin(), config.pools.end(), *pool) == config.pools.end()) {
        r.error(join_path(sp, "pool"),
                "pool " + quoted(*pool) + " does not exist (pools lists the pools)");
        ok = false;
      }
      source.pool = *pool;
    }
    source.is_default = r.boolean(*o, sp, "default").value_or(false);
    bool rule_ok = true;
    if (const json::Value* m = o->find("match")) {
      const std::size_t errors_before = r.error_count();
      if (auto rule = read_rule(r, *m, join_path(sp, "match"))) source.match = std::move(*rule);
      rule_ok = r.error_count() == errors_before;
    }
    // Rules that can never match (not said again of a rule whose parts were already refused).
    if (rule_ok && source.match.empty() && !source.is_default) {
      r.error(join_path(sp, "match"),
              "the source can never match: give params, click_ids, referrer_hosts or "
              "referrer_groups, or make it the default");
    }
    if (source.is_default) {
      if (const Source* other = config.default_source()) {
        r.error(join_path(sp, "default"),
                "source " + quoted(other->id) +
                    " is already the default; this one can never be chosen as default");
      }
    }
    if (!source.match.empty()) {
      for (std::size_t k = 0; k < config.sources.size(); ++k) {
        if (config.sources[k].match == source.match) {
          r.error(join_path(sp, "match"), "can never match: source " +
                                              quoted(config.sources[k].id) +
                                              " has the same rule and comes first");
        }
      }
    }
    if (ok) {
      source.static_number = std::move(*number);
      config.sources.push_back(std::move(source));
    } else {
      // Keep the id reserved so later duplicate-id errors stay meaningful.
      config.sources.push_back(Source{source.id, {}, {}, source.is_default, source.match});
    }
  }
}

// `consent`, and inside it `consent.advertising` and `consent.analytics` (`purpose`): the
// same members, a purpose's starting from the consent it is part of.
void read_consent(Reader& r, const json::Value& v, ConsentConfig& c,
                  const std::string& path = "consent", bool purpose = false) {
  const json::Object* o =
      r.object(v, path,
               {"require", "signals", "tcf", "consent_mode", "onetrust", "cookiebot",
                "usercentrics", "klaro", "cookieconsent", "wp_consent_api",
                "explicit_consent_overrides_gpc", "advertising", "analytics"});
  if (!o) return;
  if (const json::Value* req = o->find("require")) {
    constexpr std::pair<std::string_view, ConsentConfig::Require> kRequire[] = {
        {"any", ConsentConfig::Require::any}, {"all", ConsentConfig::Require::all}};
    if (auto value = r.choice(*req, join_path(path, "require"), kRequire)) c.require = *value;
  }
  if (const json::Value* signals = o->find("signals")) {
    const std::string sp = join_path(path, "signals");
    if (auto names = r.strings_value(*signals, sp, false)) {
      c.signals.clear();
      for (std::size_t i = 0; i < names->size(); ++i) {
        if (auto p = r.choice(json::Value((*names)[i]), index_path(sp, i), kPlatforms))
          c.signals.push_back(*p);
      }
    }
  }
  if (const json::Value* tcf = o->find("tcf")) {
    const std::string tp = join_path(path, "tcf");
    if (const json::Object* to = r.object(*tcf, tp, {"purposes", "vendor_id"})) {
      if (const json::Value* purposes = to->find("purposes")) {
        const std::string pp = join_path(tp, "purposes");
        if (!purposes->is_array() || purposes->as_array().empty()) {
          r.error(pp, "must be a non-empty array of TCF purpose numbers (1 to 11)");
        } else {
          c.tcf_purposes.clear();
          for (std::size_t i = 0; i < purposes->as_array().size(); ++i) {
            if (auto n = r.integer_value(purposes->as_array()[i], index_path(pp, i), 1, 11))
              c.tcf_purposes.push_back(*n);
          }
        }
      }
      if (const json::Value* vendor = to->find("vendor_id")) {
        if (!vendor->is_null())
          c.tcf_vendor_id = r.integer_value(*vendor, join_path(tp, "vendor_id"), 1, 65535);
      }
    }
  }
  auto list = [&](std::string_view platform, std::string_view key, std::vector<std::string>& out) {
    const json::Value* section = o->find(platform);
    if (!section) return;
    const std::string sp = join_path(path, platform);
    if (const json::Object* so = r.object(*section, sp, {key})) {
      if (auto values = r.strings(*so, sp, key, true, false)) out = std::move(*values);
    }
  };
  list("consent_mode", "types", c.consent_mode_types);
  list("onetrust", "groups", c.onetrust_groups);
  list("cookiebot", "categories", c.cookiebot_categories);
  list("usercentrics", "services", c.usercentrics_services);
  list("klaro", "services", c.klaro_services);
  list("cookieconsent", "categories", c.cookieconsent_categories);
  list("wp_consent_api", "categories", c.wp_consent_categories);
  constexpr std::string_view kModeTypes[] = {
      "ad_storage",         "analytics_storage",     "ad_user_data",
      "ad_personalization", "functionality_storage", "personalization_storage",
      "security_storage"};
  for (std::size_t i = 0; i < c.consent_mode_types.size(); ++i) {
    if (std::find(std::begin(kModeTypes), std::end(kModeTypes), c.consent_mode_types[i]) ==
        std::end(kModeTypes)) {
      r.error(index_path(join_path(path, "consent_mode.types"), i),
              quoted(c.consent_mode_types[i]) + " is not a Consent Mode type");
    }
  }
  if (auto b = r.boolean(*o, path, "explicit_consent_overrides_gpc"))
    c.explicit_consent_overrides_gpc = *b;
  for (auto [name, out] :
       {std::pair{"advertising", &c.advertising}, std::pair{"analytics", &c.analytics}}) {
    const json::Value* section = o->find(name);
    if (!section) continue;
    if (purpose) {
      r.error(join_path(path, name), "not allowed here");
      continue;
    }
    // The platforms, the rule and the TCF vendor carry over; the lists are the purpose's own.
    *out = std::vector<ConsentConfig>(1);
    ConsentConfig& narrowed = out->front();
    narrowed.require = c.require;
    narrowed.signals = c.signals;
    narrowed.tcf_vendor_id = c.tcf_vendor_id;
    read_consent(r, *section, narrowed, join_path(path, name), true);
  }
}

void read_session(Reader& r, const json::Value& v, SessionConfig& s) {
  const std::string path = "session";
  const json::Object* o =
      r.object(v, path,
               {"idle_timeout_seconds", "heartbeat_seconds", "request_timeout_ms", "storage",
                "cookie_domain", "touch", "keep_click_ids"});
  if (!o) return;
  if (auto n = r.integer(*o, path, "idle_timeout_seconds", 60, 86400)) s.idle_timeout_seconds = *n;
  if (auto n = r.integer(*o, path, "heartbeat_seconds", 10, 3600)) s.heartbeat_seconds = *n;
  if (auto n = r.integer(*o, path, "request_timeout_ms", 250, 30000)) s.request_timeout_ms = *n;
  if (s.heartbeat_seconds >= s.idle_timeout_seconds) {
    r.error("session.heartbeat_seconds", "must be shorter than session.idle_timeout_seconds");
  }
  if (const json::Value* storage = o->find("storage")) {
    constexpr std::pair<std::string_view, SessionStorage> kStorage[] = {
        {"cookie", SessionStorage::cookie}, {"localStorage", SessionStorage::local_storage}};
    if (auto value = r.choice(*storage, join_path(path, "storage"), kStorage)) s.storage = *value;
  }
  if (auto domain = r.string(*o, path, "cookie_domain", false)) {
    std::string_view d(*domain);
    if (d.starts_with(".")) d.remove_prefix(1);
    if (!valid_host_pattern(d) || d.ends_with(".*")) {
      r.error("session.cookie_domain", quoted(*domain) + " is not a domain name");
    }
    s.cookie_domain = *domain;
  }
  if (const json::Value* touch = o->find("touch")) {
    constexpr std::pair<std::string_view, TouchModel> kTouch[] = {
        {"first", TouchModel::first_touch}, {"last", TouchModel::last_touch}};
    if (auto value = r.choice(*touch, join_path(path, "touch"), kTouch)) s.touch = *value;
  }
  if (auto b = r.boolean(*o, path, "keep_click_ids")) s.keep_click_ids = *b;
}

void read_swap(Reader& r, const json::Value& v, SwapConfig& s) {
  const std::string path = "swap";
  const json::Object* o = r.object(v, path, {"noswap_attribute", "anti_flicker"});
  if (!o) return;
  if (auto attribute = r.string(*o, path, "noswap_attribute", false)) {
    const bool ok = attribute->starts_with("data-") && attribute->size() > 5 &&
                    std::all_of(attribute->begin(), attribute->end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                    });
    if (!ok)
      r.error("swap.noswap_attribute", quoted(*attribute) + " is not a data- attribute name");
    s.noswap_attribute = *attribute;
  }
  if (const json::Value* af = o->find("anti_flicker")) {
    const std::string ap = join_path(path, "anti_flicker");
    if (const json::Object* ao = r.object(*af, ap, {"selector", "timeout_ms"})) {
      if (auto selector = r.string(*ao, ap, "selector", true)) {
        if (selector->empty() || selector->find_first_of("<>{}") != std::string::npos) {
          r.error(join_path(ap, "selector"), "must be a CSS selector");
        }
        s.anti_flicker_selector = *selector;
      }
      if (auto n = r.integer(*ao, ap, "timeout_ms", 50, 3000)) s.anti_flicker_timeout_ms = *n;
    }
  }
}

}  // namespace

const char* to_string(ConsentPlatform platform) {
  for (const auto& [name, value] : kPlatforms) {
    if (value == platform) return name.data();
  }
  return "unknown";
}

const char* to_string(ReferrerGroup group) {
  for (const auto& [name, value] : kGroups) {
    if (value == group) return name.data();
  }
  return "unknown";
}

}  // namespace callswap

namespace callswap {

const Source* SiteConfig::find_source(std::string_view id) const {
  for (const Source& s : sources) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

const Source* SiteConfig::default_source() const {
  for (const Source& s : sources) {
    if (s.is_default) return &s;
  }
  return nullptr;
}

ConfigResult load_site_config(const json::Value& document) {
  ConfigResult result;
  Reader r(result.errors);
  const json::Object* o = r.object(document, "",
                                   {"$schema", "site", "country", "targets", "own_hosts", "pools",
                                    "sources", "consent", "session", "swap"});
  if (!o) return result;
  SiteConfig config;
  if (auto site = r.string(*o, "", "site", true)) {
    if (!is_valid_id(*site))
      r.error("site", quoted(*site) + " is not an id (1 to 64 of a-z, 0-9, '-', '_')");
    config.site = *site;
  }
  if (auto country = r.string(*o, "", "country", true)) {
    config.country = find_region(*country);
    if (!config.country)
      r.error("country",
              quoted(*country) + " is not a country callswap knows (ISO code like \"DE\")");
  }
  if (const json::Value* targets = r.field(*o, "", "targets", true)) {
    if (!targets->is_array() || targets->as_array().empty()) {
      r.error("targets", "must list the site's own numbers in E.164 (\"+49301234567\")");
    } else {
      for (std::size_t i = 0; i < targets->as_array().size(); ++i) {
        std::optional<PhoneNumber> number;
        read_number(r, targets->as_array()[i], index_path("targets", i), number);
        if (number) {
          if (std::find(config.targets.begin(), config.targets.end(), *number) !=
              config.targets.end()) {
            r.error(index_path("targets", i), quoted(number->e164()) + " is listed twice");
          }
          config.targets.push_back(std::move(*number));
        }
      }
    }
  }
  if (auto hosts = r.strings(*o, "", "own_hosts", false, true)) {
    for (std::size_t i = 0; i < hosts->size(); ++i) {
      if (!valid_host_pattern((*hosts)[i]) || (*hosts)[i].ends_with(".*")) {
        r.error(index_path("own_hosts", i),
                quoted((*hosts)[i]) + " is not a host name in lower case");
      }
    }
    config.own_hosts = std::move(*hosts);
  }
  if (auto pools = r.strings(*o, "", "pools", false, true)) {
    for (std::size_t i = 0; i < pools->size(); ++i) {
      if (!is_valid_id((*pools)[i]))
        r.error(index_path("pools", i),
                quoted((*pools)[i]) + " is not an id (1 to 64 of a-z, 0-9, '-', '_')");
    }
    config.pools = std::move(*pools);
  }
  if (const json::Value* sources = r.field(*o, "", "sources", true))
    read_sources(r, *sources, config);
  if (const json::Value* consent = o->find("consent")) read_consent(r, *consent, config.consent);
  if (const json::Value* session = o->find("session")) read_session(r, *session, config.session);
  if (const json::Value* swap = o->find("swap")) read_swap(r, *swap, config.swap);
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult parse_site_config(std::string_view json_text) {
  auto document = json::parse(json_text);
  if (!document) return ConfigResult{std::nullopt, {ConfigError{"", document.error().message}}};
  return load_site_config(*document);
}

std::string summarize(const SiteConfig& config) {
  std::size_t dynamic = 0;
  for (const Source& s : config.sources) dynamic += s.pool.empty() ? 0 : 1;
  std::string signals;
  for (ConsentPlatform p : config.consent.signals)
    signals += std::string(signals.empty() ? "" : ",") + to_string(p);
  const Source* fallback = config.default_source();
  return "site " + config.site + " (" + std::string(config.country->iso) +
         "): " + std::to_string(config.targets.size()) + " target number(s), " +
         std::to_string(config.sources.size()) + " source(s) (" + std::to_string(dynamic) +
         " with a dynamic pool, default " + (fallback ? fallback->id : std::string("none")) +
         "), consent " +
         (config.consent.require == ConsentConfig::Require::any ? "any of " : "all of ") + signals;
}

}  // namespace callswap
