#include <algorithm>
#include <callswap/attribution.hpp>
#include <callswap/vocabulary.hpp>

namespace callswap {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct UrlParts {
  std::string_view host;
  std::string_view path;
  std::string_view query;
};

UrlParts split_url(std::string_view url) {
  UrlParts parts;
  const std::size_t fragment = url.find('#');
  if (fragment != std::string_view::npos) url = url.substr(0, fragment);
  std::size_t at = 0;
  const std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos && url.find_first_of("/?") > scheme) {
    at = scheme + 3;
    const std::size_t host_end = std::min(url.find_first_of("/?", at), url.size());
    std::string_view authority = url.substr(at, host_end - at);
    if (const std::size_t userinfo = authority.rfind('@'); userinfo != std::string_view::npos) {
      authority = authority.substr(userinfo + 1);
    }
    if (const std::size_t port = authority.rfind(':');
        port != std::string_view::npos && authority.find(']') == std::string_view::npos) {
      authority = authority.substr(0, port);
    }
    parts.host = authority;
    at = host_end;
  }
  const std::size_t query = url.find('?', at);
  parts.path = url.substr(at, (query == std::string_view::npos ? url.size() : query) - at);
  if (query != std::string_view::npos) parts.query = url.substr(query + 1);
  return parts;
}

template <class Visit>
void each_parameter(std::string_view query, Visit visit) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    const std::string name = url_decode(pair.substr(0, eq));
    const std::string value =
        eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    if (!name.empty() && !visit(name, value)) return;
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
}

// "bing.com" matches bing.com and its subdomains; "google.*" matches google under any
// top-level domain, also a two-part one (google.co.uk), and its subdomains.
bool host_matches(std::string_view host, std::string_view pattern) {
  if (pattern.ends_with(".*")) {
    const std::string_view base = pattern.substr(0, pattern.size() - 2);
    for (std::size_t at = host.find(base); at != std::string_view::npos;
         at = host.find(base, at + 1)) {
      if (at > 0 && host[at - 1] != '.') continue;
      const std::size_t after = at + base.size();
      if (after >= host.size() || host[after] != '.') continue;
      const std::string_view suffix = host.substr(after + 1);
      const std::size_t dot = suffix.find('.');
      if (dot == std::string_view::npos) return !suffix.empty();  // google.de
      // google.co.uk: a short second level and nothing after the top level.
      if (dot <= 3 && suffix.find('.', dot + 1) == std::string_view::npos &&
          dot + 1 < suffix.size())
        return true;
    }
    return false;
  }
  return host == pattern || (host.size() > pattern.size() && host.ends_with(pattern) &&
                             host[host.size() - pattern.size() - 1] == '.');
}

// The hosts of each referrer group: the big search engines, social networks and webmail.
constexpr std::string_view kSearch[] = {
    "google.*",         "bing.com", "duckduckgo.com", "yahoo.*",       "search.yahoo.com",
    "ecosia.org",       "yandex.*", "baidu.com",      "startpage.com", "qwant.com",
    "search.brave.com", "ask.com",  "metager.de",     "seznam.cz",     "naver.com"};
constexpr std::string_view kSocial[] = {
    "facebook.com", "instagram.com", "t.co",        "twitter.com",     "x.com",
    "linkedin.com", "lnkd.in",       "pinterest.*", "reddit.com",      "youtube.com",
    "tiktok.com",   "xing.com",      "threads.net", "mastodon.social", "snapchat.com",
    "whatsapp.com", "telegram.org"};
constexpr std::string_view kEmail[] = {"mail.google.com",
                                       "outlook.live.com",
                                       "outlook.office.com",
                                       "outlook.office365.com",
                                       "mail.yahoo.com",
                                       "mail.proton.me",
                                       "gmx.net",
                                       "gmx.de",
                                       "web.de",
                                       "t-online.de",
                                       "mail.aol.com",
                                       "icloud.com"};

bool in_group(std::string_view host, ReferrerGroup group) {
  auto any = [&](const auto& list) {
    return std::any_of(std::begin(list), std::end(list),
                       [&](std::string_view p) { return host_matches(host, p); });
  };
  switch (group) {
    case ReferrerGroup::search:
      // Webmail under a search engine's domain (mail.google.com) is e-mail, not search.
      return any(kSearch) && !any(kEmail);
    case ReferrerGroup::social:
      return any(kSocial);
    case ReferrerGroup::email:
      return any(kEmail) || host.starts_with("webmail.") || host.starts_with("mail.");
  }
  return false;
}

// UTM values are short campaign labels; anything longer is cut so no free text leaks.
constexpr std::size_t kMaxCampaignValue = 100;

Campaign read_campaign(std::string_view query, bool keep_click_ids) {
  Campaign c;
  std::string* fields[] = {&c.utm_source, &c.utm_medium, &c.utm_campaign, &c.utm_term,
                           &c.utm_content};
  each_parameter(query, [&](const std::string& name, const std::string& value) {
    for (std::size_t i = 0; i < std::size(kUtmKeys); ++i) {
      if (equals_ignoring_case(name, kUtmKeys[i]) && fields[i]->empty())
        *fields[i] = value.substr(0, kMaxCampaignValue);
    }
    if (c.click_id.empty()) {
      for (std::string_view id : kClickIds) {
        if (name == id && !value.empty()) {
          c.click_id = std::string(id);
          if (keep_click_ids) c.click_id_value = value.substr(0, 512);
        }
      }
    }
    return true;
  });
  return c;
}

// Does the landing page's query satisfy the rule's parameters or click ids?
std::optional<std::string> parameter_match(const SourceRule& rule, std::string_view query) {
  for (const std::string& id : rule.click_ids) {
    std::optional<std::string> found;
    each_parameter(query, [&](const std::string& name, const std::string& value) {
      if (name == id && !value.empty()) found = "click id " + id;
      return !found;
    });
    if (found) return found;
  }
  if (rule.params.empty()) return std::nullopt;
  std::string reason = "landing parameter";
  for (const SourceRule::Param& param : rule.params) {
    std::optional<std::string> value;
    each_parameter(query, [&](const std::string& name, const std::string& v) {
      if (equals_ignoring_case(name, param.name)) value = v;
      return !value;
    });
    if (!value) return std::nullopt;
    const bool ok =
        std::any_of(param.values.begin(), param.values.end(), [&](const std::string& want) {
          return want == "*" ? !value->empty() : equals_ignoring_case(*value, want);
        });
    if (!ok) return std::nullopt;
    reason += " " + param.name + "=" + value->substr(0, kMaxCampaignValue);
  }
  return reason;
}

}  // namespace

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string url_host(std::string_view url) {
  std::string host(split_url(url).host);
  std::transform(host.begin(), host.end(), host.begin(), lower);
  return host;
}

std::optional<std::string> url_parameter(std::string_view url, std::string_view wanted) {
  std::optional<std::string> found;
  each_parameter(split_url(url).query, [&](const std::string& name, const std::string& value) {
    if (name == wanted) found = value;
    return !found;
  });
  return found;
}

std::string url_path_with(std::string_view url, std::span<const std::string_view> keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto encode = [](std::string& out, std::string_view text) {
    for (char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.' || c == '~') {
        out.push_back(c);
      } else {
        out.push_back('%');
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 0xF]);
      }
    }
  };
  const UrlParts parts = split_url(url);
  std::string out(parts.path.empty() ? "/" : parts.path);
  char separator = '?';
  each_parameter(parts.query, [&](const std::string& name, const std::string& value) {
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) {
      out.push_back(separator);
      separator = '&';
      encode(out, name);
      out.push_back('=');
      encode(out, value);
    }
    return true;
  });
  return out;
}

namespace {

// The campaign's members by their JSON names, for writing and reading alike.
constexpr std::pair<std::string_view, std::string Campaign::*> kCampaignFields[] = {
    {kUtmKeys[0], &Campaign::utm_source},         {kUtmKeys[1], &Campaign::utm_medium},
    {kUtmKeys[2], &Campaign::utm_campaign},       {kUtmKeys[3], &Campaign::utm_term},
    {kUtmKeys[4], &Campaign::utm_content},        {"click_id", &Campaign::click_id},
    {"click_id_value", &Campaign::click_id_value}};

}  // namespace

json::Value Campaign::to_json() const {
  json::Object o;
  for (const auto& [name, member] : kCampaignFields) {
    if (!(this->*member).empty()) o.set(std::string(name), this->*member);
  }
  return o;
}

Campaign Campaign::from_json(const json::Value& value) {
  Campaign c;
  for (const auto& [name, member] : kCampaignFields) {
    if (const json::Value* v = value.find(name); v && v->is_string()) c.*member = v->as_string();
  }
  return c;
}

std::optional<Touch> Touch::from_json(const json::Value& value) {
  const json::Value* source = value.find("source");
  if (!source || !source->is_string() || source->as_string().empty()) return std::nullopt;
  const json::Value* campaign = value.find("campaign");
  return Touch{source->as_string(), campaign ? Campaign::from_json(*campaign) : Campaign{}};
}

json::Value Attribution::to_json() const {
  json::Object o;
  o.set("source", source ? json::Value(source->id) : json::Value(nullptr));
  o.set("reason", reason);
  o.set("campaign", campaign.to_json());
  o.set("kept_earlier_touch", kept_earlier_touch);
  return o;
}

std::optional<Touch> Attribution::touch() const {
  if (!source) return std::nullopt;
  return Touch{source->id, campaign};
}

Attribution attribute(const SiteConfig& config, std::string_view landing_url,
                      std::string_view referrer, const std::optional<Touch>& earlier) {
  const UrlParts landing = split_url(landing_url);
  std::string landing_host(landing.host);
  std::transform(landing_host.begin(), landing_host.end(), landing_host.begin(), lower);
  std::string referrer_host = url_host(referrer);
  // A referrer from the site itself is navigation, not a source.
  const bool internal =
      !referrer_host.empty() &&
      (referrer_host == landing_host ||
       std::any_of(config.own_hosts.begin(), config.own_hosts.end(),
                   [&](const std::string& own) { return host_matches(referrer_host, own); }));
  if (internal) referrer_host.clear();

  Attribution result;
  const Campaign campaign = read_campaign(landing.query, config.session.keep_click_ids);
  // The tiers, in the market's priority order: landing-page parameters, then a specific
  // referrer host, then a referrer group. Within a tier, the config's order decides.
  for (const Source& s : config.sources) {
    if (auto reason = parameter_match(s.match, landing.query)) {
      result.source = &s;
      result.reason = *reason;
      break;
    }
  }
  for (const Source& s : config.sources) {
    if (result.source || referrer_host.empty()) break;
    for (const std::string& pattern : s.match.referrer_hosts) {
      if (host_matches(referrer_host, pattern)) {
        result.source = &s;
        result.reason = "referrer host " + referrer_host;
        break;
      }
    }
  }
  for (const Source& s : config.sources) {
    if (result.source || referrer_host.empty()) break;
    for (ReferrerGroup group : s.match.referrer_groups) {
      if (in_group(referrer_host, group)) {
        result.source = &s;
        result.reason = "referrer " + referrer_host + " in group " + to_string(group);
        break;
      }
    }
  }
  const bool matched = result.source != nullptr;
  if (matched) result.campaign = campaign;

  // Within a session: first touch keeps the earlier source; last touch lets a new matched
  // source replace it, but a visit with no source of its own (direct, internal) never does.
  if (earlier) {
    if (const Source* kept = config.find_source(earlier->source);
        kept && (config.session.touch == TouchModel::first_touch || !matched)) {
      result.source = kept;
      result.reason = config.session.touch == TouchModel::first_touch ? "first touch kept"
                                                                      : "earlier touch kept";
      result.campaign = earlier->campaign;
      if (!config.session.keep_click_ids) result.campaign.click_id_value.clear();
      result.kept_earlier_touch = true;
      return result;
    }
  }
  if (!matched) {
    result.source = config.default_source();
    result.reason = result.source ? (internal ? "default (internal referrer)" : "default")
                                  : "no source matched";
  }
  return result;
}

}  // namespace callswap
