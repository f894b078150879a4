#include "operator_config.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <callswap/compact.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "config_reader.hpp"
#include "hex.hpp"
#include "routes.hpp"

namespace callswap::server {
namespace {

using config_reader::index_path;
using config_reader::join_path;
using config_reader::Reader;

// The SDK's config response: the compact form for callswap.wasm, and beside it, in JSON the
// browser parses natively, the one setting the SDK applies before the wasm is ready.
std::string compact_response(const SiteConfig& config) {
  Json out = Json::object();
  out["format"] = kCompactVersion;
  out["compact"] = to_compact(config);
  if (!config.swap.anti_flicker_selector.empty()) {
    Json flicker = Json::object();
    flicker["selector"] = config.swap.anti_flicker_selector;
    flicker["timeout_ms"] = config.swap.anti_flicker_timeout_ms;
    out["anti_flicker"] = std::move(flicker);
  }
  return dump_json(out);
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool valid_origin(std::string_view origin) {
  const bool https = origin.starts_with("https://");
  const bool http = origin.starts_with("http://");
  if (!https && !http) return false;
  const std::string_view host = origin.substr(https ? 8 : 7);
  return !host.empty() && host.find_first_of("/?# ") == std::string_view::npos;
}

// Secret files are small; anything larger is not a key file and is not read whole.
constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

// Closes the file however the read ends.
struct OpenFile {
  explicit OpenFile(int descriptor) : fd(descriptor) {}
  int fd;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() { ::close(fd); }
};

// Reads a secret file as systemd credentials and container secrets hand them over. A path the
// server cannot pin down, a file other users can read, or anything but a regular file is refused
// with the reason and the fix, because a key any local account can copy protects nothing.
std::optional<std::string> read_secret_file(const std::string& path, std::string& problem) {
  if (!path.starts_with("/")) {
    problem = config_reader::quoted(path) +
              " is not an absolute path: give the full path (a relative one would depend on the "
              "folder the server starts in)";
    return std::nullopt;
  }
  // O_NONBLOCK: opening a FIFO must not hang the start; fstat on the open file leaves no gap
  // between the check and the read. Symbolic links are followed (Kubernetes mounts secrets so).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    problem = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  const OpenFile closer(fd);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    problem = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(info.st_mode)) {
    problem = path + " is not a regular file: name the key file itself";
    return std::nullopt;
  }
  if (info.st_mode & S_IROTH) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    problem = path + " is readable by every user on this machine (mode " + mode + "): chmod 600 " +
              path + " (or 0640 with the server's group)";
    return std::nullopt;
  }
  if (static_cast<std::size_t>(info.st_size) > kMaxSecretFileBytes) {
    problem = path + " is larger than 64 KiB: not a key file";
    return std::nullopt;
  }
  std::string text(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      problem = "cannot read " + path +
                (n < 0 ? std::string(": ") + std::strerror(errno)
                       : std::string(": it shrank while being read"));
      return std::nullopt;
    }
    got += static_cast<std::size_t>(n);
  }
  // `echo KEY > file` and most editors end the file with one newline that is not part of the key.
  if (text.ends_with("\r\n")) {
    text.resize(text.size() - 2);
  } else if (text.ends_with('\n')) {
    text.pop_back();
  }
  if (text.empty()) {
    problem = path + " is empty";
    return std::nullopt;
  }
  return text;
}

// A secret as a string, {"env": "NAME"} read from the environment variable NAME or from the file
// named by NAME_FILE, or {"file": "/path"}.
std::optional<std::string> secret(Reader& r, const json::Object& o, const std::string& path,
                                  std::string_view key, const Environment& environment) {
  const json::Value* v = o.find(key);
  if (!v) return std::nullopt;
  const std::string p = join_path(path, key);
  if (v->is_string()) {
    if (v->as_string().size() < 16)
      r.error(p, "is too short to be a secret (16 characters at least)");
    return v->as_string();
  }
  const json::Object* source = r.object(*v, p, {"env", "file"});
  if (!source) return std::nullopt;
  if (source->find("env") && source->find("file")) {
    r.error(
        p, "gives both \"env\" and \"file\": give one, so it is clear where the secret comes from");
    return std::nullopt;
  }
  std::string problem;
  if (source->find("file")) {
    if (auto file = r.string(*source, p, "file", true)) {
      if (auto value = read_secret_file(*file, problem)) return value;
      r.error(join_path(p, "file"), problem);
    }
    return std::nullopt;
  }
  auto name = r.string(*source, p, "env", true);
  if (!name) return std::nullopt;
  const std::string file_variable = *name + "_FILE";
  auto value = environment(*name);
  auto file = environment(file_variable);
  if (value && value->empty()) value.reset();
  if (file && file->empty()) file.reset();
  if (value && file) {
    r.error(join_path(p, "env"), "both " + *name + " and " + file_variable +
                                     " are set: unset one, so it is clear which secret is used");
    return std::nullopt;
  }
  if (value) return value;
  if (file) {
    if (auto text = read_secret_file(*file, problem)) return text;
    r.error(join_path(p, "env"), file_variable + ": " + problem);
    return std::nullopt;
  }
  r.error(join_path(p, "env"), "the environment variable " + *name + " is not set (nor " +
                                   file_variable + ", a file holding it)");
  return std::nullopt;
}

// `store`: the database as a URL. SQLite stays the default; `database` is the older key, a
// SQLite file's path, and takes a URL too (so `--db` can name either). PostgreSQL is for
// several instances sharing one database.
void read_store(Reader& r, const json::Object& o, const Environment& environment,
                OperatorConfig& config) {
  const bool both = o.find("store") && o.find("database");
  if (both)
    r.error(
        "store",
        "is given with \"database\": give one (\"database\" is the older name of a SQLite file)");
  const char* key = o.find("store") ? "store" : "database";
  auto url = both ? std::nullopt : r.string(o, "", key, false);
  if (url && url->starts_with("sqlite://")) {
    const std::string path = url->substr(std::string_view("sqlite://").size());
    if (path.starts_with("/")) {
      config.database = path;
    } else {
      r.error(key, config_reader::quoted(*url) +
                       " has no absolute path: write sqlite:///var/lib/callswap/callswap.db");
    }
  } else if (url && (url->starts_with("postgresql://") || url->starts_with("postgres://"))) {
    const std::size_t at = url->find('@');
    if (at != std::string::npos && url->find(':', url->find("//") + 2) < at) {
      r.error(key,
              "holds a password: give it in \"store_password\" ({\"env\": …} or {\"file\": …}) or "
              "in PGPASSFILE");
    }
    config.store_url = *url;
  } else if (url && std::string_view(key) == "store") {
    r.error("store", config_reader::quoted(*url) +
                         " is neither sqlite:///path nor postgresql://user@host/database");
  }
  if (auto password = secret(r, o, "", "store_password", environment)) {
    if (config.store_url.empty()) r.error("store_password", "is only for a postgresql:// store");
    config.store_password = *password;
  }
}

void read_pools(Reader& r, const json::Value& v, const std::string& path, SiteEntry& site,
                std::map<std::string, std::string>& owner_of_number) {
  if (!v.is_object()) {
    r.error(path, std::string("must be an object of pool ids to pools, not ") + v.type_name());
    return;
  }
  const json::Object& pools = v.as_object();
  for (std::size_t i = 0; i < pools.size(); ++i) {
    const std::string pp = join_path(path, pools.keys[i]);
    const json::Object* o = r.object(
        pools.values[i], pp, {"numbers", "hold_minutes", "cooldown_minutes", "when_exhausted"});
    if (!o) continue;
    PoolConfig pool{pools.keys[i], {}, {}};
    if (std::find(site.config.pools.begin(), site.config.pools.end(), pool.id) ==
        site.config.pools.end()) {
      r.error(pp, "pool " + config_reader::quoted(pool.id) +
                      " is not listed in the site config's pools");
    }
    if (auto numbers = r.strings(*o, pp, "numbers", true, false)) {
      for (std::size_t k = 0; k < numbers->size(); ++k) {
        const std::string np = index_path(join_path(pp, "numbers"), k);
        auto number = parse_e164((*numbers)[k]);
        if (!number) {
          r.error(np, number.error().message);
          continue;
        }
        const auto [it, fresh] = owner_of_number.emplace(number->e164(), np);
        if (!fresh)
          r.error(np, number->e164() + " is already used at " + it->second +
                          ": a number belongs to one place only");
        pool.numbers.push_back(std::move(*number));
      }
    }
    if (auto hold = r.integer(*o, pp, "hold_minutes", 1, 24 * 60))
      pool.settings.hold_ms = *hold * Millis{60'000};
    if (auto cooldown = r.integer(*o, pp, "cooldown_minutes", 0, 7 * 24 * 60))
      pool.settings.cooldown_ms = *cooldown * Millis{60'000};
    if (const json::Value* policy = o->find("when_exhausted")) {
      constexpr std::pair<std::string_view, PoolSettings::WhenExhausted> kPolicies[] = {
          {"static", PoolSettings::WhenExhausted::static_number},
          {"reuse_least_active", PoolSettings::WhenExhausted::reuse_least_active}};
      if (auto p = r.choice(*policy, join_path(pp, "when_exhausted"), kPolicies))
        pool.settings.when_exhausted = *p;
    }
    site.pools.push_back(std::move(pool));
  }
  for (const std::string& id : site.config.pools) {
    if (std::none_of(site.pools.begin(), site.pools.end(),
                     [&](const PoolConfig& p) { return p.id == id; })) {
      r.error(path, "the site config lists pool " + config_reader::quoted(id) +
                        " but it has no numbers here");
    }
  }
}

}  // namespace

const SiteEntry* OperatorConfig::find_site(std::string_view id) const {
  for (const SiteEntry& s : sites) {
    if (s.config.site == id) return &s;
  }
  return nullptr;
}

namespace {

// {"sessions_days", "calls_days", "audit_days"} under `parent`.retention, over `into`.
void read_retention(Reader& r, const json::Object& parent, const std::string& parent_path,
                    Retention& into) {
  const json::Value* retention = parent.find("retention");
  if (!retention) return;
  const std::string rp = join_path(parent_path, "retention");
  const json::Object* ro = r.object(*retention, rp, {"sessions_days", "calls_days", "audit_days"});
  if (!ro) return;
  if (auto d = r.integer(*ro, rp, "sessions_days", 1, 3650)) into.sessions_days = *d;
  if (auto d = r.integer(*ro, rp, "calls_days", 1, 3650)) into.calls_days = *d;
  if (auto d = r.integer(*ro, rp, "audit_days", 1, 3650)) into.audit_days = *d;
}

// limits.<prefix>_per_minute and limits.<prefix>_burst.
void read_rate(Reader& r, const json::Object& limits, const std::string& prefix, RateLimit& into) {
  if (auto rate = r.integer(limits, "limits", prefix + "_per_minute", 0, 1'000'000))
    into.per_minute = *rate;
  if (auto burst = r.integer(limits, "limits", prefix + "_burst", 1, 1'000'000))
    into.burst = *burst;
}

// "https://host[:port][/path]" or "http://..." (a receiver on this machine in tests).
bool valid_url(std::string_view url) {
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) return false;
  const std::string_view rest = url.substr(https ? 8 : 7);
  const std::size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  return !host.empty() && host.find_first_of("?# @") == std::string_view::npos &&
         rest.find_first_of(" \t\r\n#") == std::string_view::npos;
}

// "+01:00", "-0530", "UTC": a fixed offset the feeds' times are written in, in minutes.
std::optional<int> utc_offset(std::string_view zone, std::string& written) {
  if (zone == "UTC" || zone == "Z") {
    written = "+0000";
    return 0;
  }
  if (zone.size() != 5 && zone.size() != 6) return std::nullopt;
  if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
  std::string digits;
  for (std::size_t i = 1; i < zone.size(); ++i) {
    if (i == 3 && zone.size() == 6) {
      if (zone[i] != ':') return std::nullopt;
      continue;
    }
    if (zone[i] < '0' || zone[i] > '9') return std::nullopt;
    digits += zone[i];
  }
  const int hours = std::stoi(digits.substr(0, 2));
  const int minutes = std::stoi(digits.substr(2));
  if (hours > 14 || minutes > 59) return std::nullopt;
  written = std::string(1, zone[0]) + digits;
  return (zone[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
}

void read_conversions(Reader& r, const json::Value& v, const std::string& path, SiteEntry& entry,
                      const Environment& environment) {
  const json::Object* o =
      r.object(v, path,
               {"currency", "time_zone", "min_duration_seconds", "first_time_callers_only",
                "answered_only", "values", "feeds", "ga4", "webhooks"});
  if (!o) return;
  ConversionConfig& c = entry.conversions;
  c.enabled = true;
  if (auto currency = r.string(*o, path, "currency", false)) {
    if (currency->size() != 3 || !std::all_of(currency->begin(), currency->end(),
                                              [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
      r.error(join_path(path, "currency"),
              config_reader::quoted(*currency) + " is not an ISO 4217 code like \"EUR\"");
    }
    c.currency = *currency;
  }
  if (auto zone = r.string(*o, path, "time_zone", false)) {
    // An offset, or an IANA name from the system's zoneinfo (TZDIR, as the C library reads
    // it, else Debian's tzdata), read here once so a feed never touches the file system.
    std::string why;
    if (auto offset = utc_offset(*zone, c.time_zone)) {
      c.zone = TimeZone::fixed(*offset * 60);
    } else if (zone->starts_with('+') || zone->starts_with('-')) {
      r.error(join_path(path, "time_zone"),
              config_reader::quoted(*zone) +
                  " is not a UTC offset like \"+01:00\", \"-0530\" or \"UTC\"");
    } else if (auto loaded = load_time_zone(
                   *zone, environment("TZDIR").value_or("/usr/share/zoneinfo"), why)) {
      c.zone = std::move(*loaded);
      c.time_zone = *zone;
    } else {
      r.error(join_path(path, "time_zone"),
              config_reader::quoted(*zone) + " " + why +
                  " (an IANA name like \"Europe/Berlin\", or a UTC offset like \"+01:00\")");
    }
  }
  if (auto n = r.integer(*o, path, "min_duration_seconds", 0, 86'400)) c.min_duration_seconds = *n;
  if (auto b = r.boolean(*o, path, "first_time_callers_only")) c.first_time_callers_only = *b;
  if (auto b = r.boolean(*o, path, "answered_only")) c.answered_only = *b;
  if (const json::Value* values = o->find("values")) {
    const std::string vp = join_path(path, "values");
    if (!values->is_array())
      r.error(vp, std::string("must be an array, not ") + values->type_name());
    for (std::size_t i = 0; values->is_array() && i < values->as_array().size(); ++i) {
      const std::string ip = index_path(vp, i);
      const json::Object* io =
          r.object(values->as_array()[i], ip, {"source", "pool", "name", "value"});
      if (!io) continue;
      ConversionValue value;
      if (auto source = r.string(*io, ip, "source", false)) {
        if (!entry.config.find_source(*source))
          r.error(join_path(ip, "source"),
                  config_reader::quoted(*source) + " is not a source of this site");
        value.source = *source;
      }
      if (auto pool = r.string(*io, ip, "pool", false)) {
        if (std::find(entry.config.pools.begin(), entry.config.pools.end(), *pool) ==
            entry.config.pools.end()) {
          r.error(join_path(ip, "pool"),
                  config_reader::quoted(*pool) + " is not a pool of this site");
        }
        value.pool = *pool;
      }
      if (auto name = r.string(*io, ip, "name", true)) {
        if (name->empty() || name->size() > 100 ||
            name->find_first_of("\r\n\"") != std::string::npos) {
          r.error(join_path(ip, "name"),
                  "must be the conversion action's name: 1 to 100 characters, no quotes or line "
                  "breaks");
        }
        value.name = *name;
      }
      if (const json::Value* amount = io->find("value")) {
        if (!amount->is_number() || amount->as_number() < 0 || amount->as_number() > 1e9) {
          r.error(join_path(ip, "value"), "must be a number from 0 to 1000000000");
        } else {
          value.value = amount->as_number();
        }
      }
      c.values.push_back(std::move(value));
    }
  }
  if (const json::Value* feeds = o->find("feeds")) {
    const std::string fp = join_path(path, "feeds");
    if (const json::Object* fo = r.object(*feeds, fp, {"username", "password", "window_days"})) {
      if (auto user = r.string(*fo, fp, "username", true)) {
        if (user->empty() || user->find(':') != std::string::npos)
          r.error(join_path(fp, "username"), "must be a name without ':'");
        c.feed_username = *user;
      }
      c.feed_password = secret(r, *fo, fp, "password", environment).value_or("");
      if (!fo->find("password"))
        r.error(join_path(fp, "password"),
                "is required: the platforms fetch the feed with a user name and password");
      if (auto days = r.integer(*fo, fp, "window_days", 1, 90)) c.feed_window_days = *days;
    }
  }
  if (const json::Value* ga4 = o->find("ga4")) {
    const std::string gp = join_path(path, "ga4");
    if (const json::Object* go =
            r.object(*ga4, gp, {"measurement_id", "api_secret", "event_name", "endpoint"})) {
      Ga4Destination g;
      if (auto id = r.string(*go, gp, "measurement_id", true)) {
        if (!id->starts_with("G-") || id->size() > 32)
          r.error(join_path(gp, "measurement_id"),
                  config_reader::quoted(*id) + " is not a GA4 measurement id like \"G-XXXXXXX\"");
        g.measurement_id = *id;
      }
      g.api_secret = secret(r, *go, gp, "api_secret", environment).value_or("");
      if (!go->find("api_secret"))
        r.error(join_path(gp, "api_secret"),
                "is required: the Measurement Protocol refuses events without it");
      if (auto name = r.string(*go, gp, "event_name", false)) {
        const bool ok = !name->empty() && name->size() <= 40 &&
                        ((*name)[0] >= 'a' && (*name)[0] <= 'z') &&
                        std::all_of(name->begin(), name->end(), [](char ch) {
                          return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
                        });
        if (!ok)
          r.error(join_path(gp, "event_name"),
                  config_reader::quoted(*name) +
                      " is not a GA4 event name (lower-case letters, digits and '_', at most 40)");
        g.event_name = *name;
      }
      if (auto endpoint = r.string(*go, gp, "endpoint", false)) {
        if (!valid_url(*endpoint))
          r.error(join_path(gp, "endpoint"),
                  config_reader::quoted(*endpoint) +
                      " is not a URL like \"https://www.google-analytics.com\"");
        g.endpoint = *endpoint;
        while (g.endpoint.ends_with("/")) g.endpoint.pop_back();
      }
      c.ga4 = std::move(g);
    }
  }
  if (const json::Value* hooks = o->find("webhooks")) {
    const std::string hp = join_path(path, "webhooks");
    if (!hooks->is_array()) r.error(hp, std::string("must be an array, not ") + hooks->type_name());
    for (std::size_t i = 0; hooks->is_array() && i < hooks->as_array().size(); ++i) {
      const std::string ip = index_path(hp, i);
      const json::Object* ho = r.object(hooks->as_array()[i], ip,
                                        {"id", "url", "secret", "events", "caller_number_key"});
      if (!ho) continue;
      WebhookDestination w;
      if (auto id = r.string(*ho, ip, "id", true)) {
        const bool ok =
            !id->empty() && id->size() <= 32 && std::all_of(id->begin(), id->end(), [](char ch) {
              return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
            });
        if (!ok)
          r.error(join_path(ip, "id"), "must be 1 to 32 lower-case letters, digits, '-' or '_'");
        for (const WebhookDestination& other : c.webhooks) {
          if (other.id == *id)
            r.error(join_path(ip, "id"),
                    config_reader::quoted(*id) + " is used by an earlier webhook");
        }
        w.id = *id;
      }
      if (auto url = r.string(*ho, ip, "url", true)) {
        if (!valid_url(*url))
          r.error(join_path(ip, "url"),
                  config_reader::quoted(*url) +
                      " is not a URL like \"https://crm.example/hooks/calls\"");
        w.url = *url;
      }
      w.secret = secret(r, *ho, ip, "secret", environment).value_or("");
      if (!ho->find("secret"))
        r.error(join_path(ip, "secret"), "is required: every webhook is signed");
      w.events = {"call.attributed", "call.completed"};
      if (auto events = r.strings(*ho, ip, "events", false, false)) {
        for (std::size_t k = 0; k < events->size(); ++k) {
          if ((*events)[k] != "call.attributed" && (*events)[k] != "call.completed") {
            r.error(index_path(join_path(ip, "events"), k),
                    config_reader::quoted((*events)[k]) +
                        " is not an event (call.attributed, call.completed)");
          }
        }
        w.events = std::move(*events);
      }
      if (auto key = r.string(*ho, ip, "caller_number_key", false)) w.caller_number_key = *key;
      c.webhooks.push_back(std::move(w));
    }
  }
}

}  // namespace

OperatorConfigResult load_operator_config(std::string_view json_text,
                                          const Environment& environment) {
  auto document = parse_json(json_text);
  if (!document)
    return OperatorConfigResult{std::nullopt, {ConfigError{"", document.error().message}}};
  return load_operator_document(*document, environment);
}

OperatorConfigResult load_operator_document(const Json& operator_document,
                                            const Environment& environment) {
  // The fields are read with the core's config reader, which the site configs inside this
  // document go through too: one reader, so both name a field and its error alike.
  const json::Value document = to_core(operator_document);
  OperatorConfigResult result;
  Reader r(result.errors);
  const json::Object* o = r.object(
      document, "",
      {"listen", "database", "store", "store_password", "static_dir", "public_url", "sites",
       "admin_keys", "caller_numbers", "webhooks", "limits", "retention", "purge", "outbox"});
  if (!o) return result;
  OperatorConfig config;
  if (auto listen = r.string(*o, "", "listen", false)) {
    const std::size_t colon = listen->rfind(':');
    int port = -1;
    if (colon != std::string::npos && colon + 1 < listen->size() && listen->size() - colon <= 6 &&
        std::all_of(listen->begin() + static_cast<long>(colon) + 1, listen->end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      port = std::stoi(listen->substr(colon + 1));
    }
    if (colon == 0 || port < 0 || port > 65535) {
      r.error("listen", config_reader::quoted(*listen) + " is not host:port (\"127.0.0.1:8080\")");
    } else {
      config.listen_host = listen->substr(0, colon);
      config.listen_port = port;
    }
  }
  if (auto database = r.string(*o, "", "database", false)) config.database = *database;
  read_store(r, *o, environment, config);
  if (auto dir = r.string(*o, "", "static_dir", false)) config.static_dir = *dir;
  if (auto url = r.string(*o, "", "public_url", false)) {
    if (!valid_origin(*url))
      r.error("public_url",
              config_reader::quoted(*url) + " is not an origin like \"https://track.example.com\"");
    config.public_url = *url;
  }

  std::map<std::string, std::string> owner_of_number;  // E.164 → where it is used
  // Before the sites: a site's retention starts from these defaults.
  read_retention(r, *o, "", config.default_retention);
  if (const json::Value* purge = o->find("purge")) {
    if (const json::Object* po = r.object(*purge, "purge", {"max_step_hours"})) {
      if (auto h = r.integer(*po, "purge", "max_step_hours", 1, 24 * 3650))
        config.purge_max_step_hours = *h;
    }
  }
  if (const json::Value* sites = r.field(*o, "", "sites", true)) {
    if (!sites->is_array() || sites->as_array().empty()) {
      r.error("sites", "must list at least one site");
    } else {
      for (std::size_t i = 0; i < sites->as_array().size(); ++i) {
        const std::string sp = index_path("sites", i);
        const json::Object* so =
            r.object(sites->as_array()[i], sp,
                     {"config", "allowed_origins", "pools", "attribution_grace_minutes",
                      "retention", "keep_caller_numbers", "legal_basis", "conversions"});
        if (!so) continue;
        const json::Value* site_json = r.field(*so, sp, "config", true);
        if (!site_json) continue;
        auto site = load_site_config(*site_json);
        for (const ConfigError& e : site.errors)
          r.error(join_path(join_path(sp, "config"), e.path), e.message);
        if (!site.ok()) continue;
        SiteEntry entry;
        entry.config = std::move(*site.config);
        entry.public_json = dump_json(from_core(*site_json));
        entry.public_compact = compact_response(entry.config);
        if (config.find_site(entry.config.site))
          r.error(join_path(sp, "config.site"),
                  config_reader::quoted(entry.config.site) + " is used by an earlier site");
        for (std::size_t k = 0; k < entry.config.sources.size(); ++k) {
          const std::string where =
              join_path(sp, "config.sources") + "[" + std::to_string(k) + "].static";
          // A static number may serve several sources of one site, but no other site or pool.
          const auto [it, fresh] =
              owner_of_number.emplace(entry.config.sources[k].static_number.e164(), where);
          if (!fresh && !it->second.starts_with(sp + ".config.sources")) {
            r.error(where, entry.config.sources[k].static_number.e164() + " is already used at " +
                               it->second);
          }
        }
        if (auto origins = r.strings(*so, sp, "allowed_origins", false, true)) {
          for (std::size_t k = 0; k < origins->size(); ++k) {
            if (!valid_origin((*origins)[k])) {
              r.error(index_path(join_path(sp, "allowed_origins"), k),
                      config_reader::quoted((*origins)[k]) +
                          " is not an origin like \"https://shop.example\"");
            }
          }
          entry.allowed_origins = std::move(*origins);
        }
        if (const json::Value* pools = so->find("pools")) {
          read_pools(r, *pools, join_path(sp, "pools"), entry, owner_of_number);
        } else if (!entry.config.pools.empty()) {
          r.error(join_path(sp, "pools"), "is required: the site config lists pools");
        }
        if (auto grace = r.integer(*so, sp, "attribution_grace_minutes", 0, 7 * 24 * 60))
          entry.attribution_grace_ms = *grace * Millis{60'000};
        if (auto keep = r.boolean(*so, sp, "keep_caller_numbers"))
          entry.keep_caller_numbers = *keep;
        entry.retention = config.default_retention;
        read_retention(r, *so, sp, entry.retention);
        if (const json::Value* basis = so->find("legal_basis")) {
          const std::string bp = join_path(sp, "legal_basis");
          if (const json::Object* bo = r.object(*basis, bp, {"calls"})) {
            constexpr std::pair<std::string_view, SiteEntry::CallsLegalBasis> kBases[] = {
                {"legitimate_interest", SiteEntry::CallsLegalBasis::legitimate_interest},
                {"consent", SiteEntry::CallsLegalBasis::consent},
                {"contract", SiteEntry::CallsLegalBasis::contract}};
            if (const json::Value* calls = bo->find("calls")) {
              if (auto b = r.choice(*calls, join_path(bp, "calls"), kBases))
                entry.calls_legal_basis = *b;
            }
          }
        }
        if (const json::Value* conversions = so->find("conversions")) {
          read_conversions(r, *conversions, join_path(sp, "conversions"), entry, environment);
        }
        config.sites.push_back(std::move(entry));
      }
    }
  }
  if (const json::Value* outbox = o->find("outbox")) {
    if (const json::Object* ob = r.object(
            *outbox, "outbox", {"retry_base_ms", "retry_max_ms", "give_up_after_seconds"})) {
      if (auto n = r.integer(*ob, "outbox", "retry_base_ms", 10, 3'600'000))
        config.outbox.retry_base_ms = *n;
      if (auto n = r.integer(*ob, "outbox", "retry_max_ms", 10, 24 * 3'600'000))
        config.outbox.retry_max_ms = *n;
      if (auto n = r.integer(*ob, "outbox", "give_up_after_seconds", 1, 30 * 86'400))
        config.outbox.give_up_after_ms = *n * Millis{1000};
      if (config.outbox.retry_max_ms < config.outbox.retry_base_ms)
        r.error("outbox.retry_max_ms", "is less than outbox.retry_base_ms");
    }
  }

  if (const json::Value* keys = o->find("admin_keys")) {
    if (!keys->is_array()) {
      r.error("admin_keys", std::string("must be an array, not ") + keys->type_name());
    } else {
      for (std::size_t i = 0; i < keys->as_array().size(); ++i) {
        const std::string kp = index_path("admin_keys", i);
        const json::Object* ko = r.object(keys->as_array()[i], kp, {"id", "sha256", "scopes"});
        if (!ko) continue;
        AdminKey key;
        key.id = r.string(*ko, kp, "id", true).value_or("");
        key.sha256_hex = r.string(*ko, kp, "sha256", true).value_or("");
        if (ko->find("sha256") && !is_hex64(key.sha256_hex)) {
          r.error(join_path(kp, "sha256"),
                  "must be the SHA-256 of the key in lower-case hex (64 characters), never the key "
                  "itself");
        }
        if (auto scopes = r.strings(*ko, kp, "scopes", true, false)) {
          for (std::size_t k = 0; k < scopes->size(); ++k) {
            const std::string& scope = (*scopes)[k];
            if (std::none_of(kKeyScopes.begin(), kKeyScopes.end(),
                             [&](Scope known) { return scope_name(known) == scope; })) {
              r.error(index_path(join_path(kp, "scopes"), k),
                      config_reader::quoted(scope) +
                          " is not one of \"reports\", \"subjects\", \"callers\", \"config\"");
            }
          }
          key.scopes = std::move(*scopes);
        }
        config.admin_keys.push_back(std::move(key));
      }
    }
  }

  if (const json::Value* callers = o->find("caller_numbers")) {
    // {"keys": [{"id", "key": hex or {"env"}}], "current": id, "hash_key": hex or {"env"}}
    if (const json::Object* co =
            r.object(*callers, "caller_numbers", {"keys", "current", "hash_key"})) {
      CallerKeys keys;
      const auto key_bytes = [&](const json::Object& holder, const std::string& path,
                                 std::string_view field) -> std::string {
        const auto text = secret(r, holder, path, field, environment);
        if (!text) {
          if (!holder.find(field)) r.error(join_path(path, field), "is required");
          return {};
        }
        if (text->size() == 64) {
          if (auto bytes = from_hex(*text)) return *bytes;
        }
        r.error(join_path(path, field), "must be 64 hex characters (32 bytes)");
        return {};
      };
      if (const json::Value* list = r.field(*co, "caller_numbers", "keys", true)) {
        if (!list->is_array() || list->as_array().empty()) {
          r.error("caller_numbers.keys", "must list at least one key");
        } else {
          for (std::size_t i = 0; i < list->as_array().size(); ++i) {
            const std::string kp = index_path("caller_numbers.keys", i);
            if (const json::Object* ko = r.object(list->as_array()[i], kp, {"id", "key"})) {
              auto id = r.string(*ko, kp, "id", true);
              std::string bytes = key_bytes(*ko, kp, "key");
              if (id) keys.keys.push_back({*id, std::move(bytes)});
            }
          }
        }
      }
      keys.current = r.string(*co, "caller_numbers", "current", true).value_or("");
      if (co->find("current") &&
          std::none_of(keys.keys.begin(), keys.keys.end(),
                       [&](const auto& k) { return k.id == keys.current; })) {
        r.error("caller_numbers.current",
                config_reader::quoted(keys.current) + " is not one of the keys");
      }
      keys.hash_key = key_bytes(*co, "caller_numbers", "hash_key");
      config.caller_keys = std::move(keys);
    }
  }

  if (const json::Value* webhooks = o->find("webhooks")) {
    if (const json::Object* wo =
            r.object(*webhooks, "webhooks",
                     {"twilio_auth_token", "calls_secret", "replay_window_seconds"})) {
      config.twilio_auth_token =
          secret(r, *wo, "webhooks", "twilio_auth_token", environment).value_or("");
      config.calls_secret = secret(r, *wo, "webhooks", "calls_secret", environment).value_or("");
      if (auto window = r.integer(*wo, "webhooks", "replay_window_seconds", 10, 3600))
        config.replay_window_seconds = *window;
    }
  }
  if (!config.twilio_auth_token.empty() && config.public_url.empty()) {
    r.error("public_url",
            "is required with webhooks.twilio_auth_token: Twilio signs the URL it calls");
  }
  if (const json::Value* limits = o->find("limits")) {
    if (const json::Object* lo =
            r.object(*limits, "limits",
                     {"max_body_bytes", "threads", "rate_per_minute", "rate_burst",
                      "admin_rate_per_minute", "admin_rate_burst", "webhook_rate_per_minute",
                      "webhook_rate_burst", "trust_proxy", "max_connections", "keep_alive_seconds",
                      "request_timeout_seconds", "listen_backlog"})) {
      if (auto proxies = r.strings(*lo, "limits", "trust_proxy", false, true)) {
        for (std::size_t k = 0; k < proxies->size(); ++k) {
          unsigned char address[16];
          const char* text = (*proxies)[k].c_str();
          if (inet_pton(AF_INET, text, address) != 1 && inet_pton(AF_INET6, text, address) != 1) {
            r.error(index_path("limits.trust_proxy", k),
                    config_reader::quoted((*proxies)[k]) + " is not an IP address");
          }
        }
        config.trust_proxy = std::move(*proxies);
      }
      read_rate(r, *lo, "rate", config.visitor_rate);
      read_rate(r, *lo, "admin_rate", config.admin_rate);
      read_rate(r, *lo, "webhook_rate", config.webhook_rate);
      if (auto bytes = r.integer(*lo, "limits", "max_body_bytes", 1024, 1 << 20))
        config.max_body_bytes = static_cast<std::size_t>(*bytes);
      if (auto threads = r.integer(*lo, "limits", "threads", 2, 1024)) config.threads = *threads;
      if (auto n = r.integer(*lo, "limits", "max_connections", 16, 65536))
        config.max_connections = *n;
      if (auto n = r.integer(*lo, "limits", "keep_alive_seconds", 1, 300))
        config.keep_alive_seconds = *n;
      if (auto n = r.integer(*lo, "limits", "request_timeout_seconds", 1, 300))
        config.request_timeout_seconds = *n;
      if (auto n = r.integer(*lo, "limits", "listen_backlog", 16, 65535))
        config.listen_backlog = *n;
      if (config.threads > config.max_connections) {
        r.error("limits.threads", "is more than limits.max_connections (" +
                                      std::to_string(config.max_connections) +
                                      "): a ready worker serves one connection");
      }
    }
  }
  // A webhook that sends callers' numbers names a key allowed to see them.
  for (std::size_t i = 0; i < config.sites.size(); ++i) {
    const auto& hooks = config.sites[i].conversions.webhooks;
    for (std::size_t k = 0; k < hooks.size(); ++k) {
      const std::string& key_id = hooks[k].caller_number_key;
      if (key_id.empty()) continue;
      const auto key = std::find_if(config.admin_keys.begin(), config.admin_keys.end(),
                                    [&](const AdminKey& a) { return a.id == key_id; });
      const bool callers =
          key != config.admin_keys.end() &&
          std::find(key->scopes.begin(), key->scopes.end(), "callers") != key->scopes.end();
      if (!callers) {
        r.error(
            index_path(index_path("sites", i) + ".conversions.webhooks", k) + ".caller_number_key",
            config_reader::quoted(key_id) +
                " is not an admin key with the \"callers\" scope: only such a key may receive "
                "callers' numbers");
      }
    }
  }
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

}  // namespace callswap::server
