#include "http_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <callswap/attribution.hpp>
#include <callswap/json.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <unordered_map>
#include <optional>

#include "admin_page.hpp"
#include "caller_vault.hpp"
#include "crypto.hpp"
#include "rate_limiter.hpp"
#include "report.hpp"
#include "subjects.hpp"

namespace callswap::server {

Millis system_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

constexpr const char* kJson = "application/json";

// {"error": {"code", "message"}}, the one error shape of the whole API.
void fail(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  res.status = status;
  res.set_content(error_body(code, message).dump(), kJson);
}

void reply(httplib::Response& res, int status, const json::Value& body) {
  res.status = status;
  res.set_content(body.dump(), kJson);
}

// The code and message for errors the router or httplib itself produced.
std::pair<const char*, const char*> default_error(int status) {
  switch (status) {
    case 400: return {"bad_request", "the request could not be read (a POST needs a Content-Length)"};
    case 404: return {"not_found", "no such resource"};
    case 405: return {"method_not_allowed", "this resource does not take that method"};
    case 413: return {"body_too_large", "the request body is too large"};
    case 414: return {"uri_too_long", "the request URI is too long"};
    case 415: return {"unsupported_media_type", "unsupported content type"};
    default: return {status >= 500 ? "internal_error" : "error", "the request failed"};
  }
}

// application/x-www-form-urlencoded, in order, keys as sent.
std::multimap<std::string, std::string> parse_form(std::string_view body) {
  std::multimap<std::string, std::string> out;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (!pair.empty()) out.emplace(url_decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1)));
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
  }
  return out;
}

std::string string_member(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_string() ? m->as_string() : std::string();
}

// The route a request took, with ids left out, for logs: no session id is ever logged.
std::string route_of(const std::string& path) {
  static constexpr std::string_view kSessions = "/v1/sessions/";
  if (path.starts_with(kSessions)) {
    const std::size_t end = path.find('/', kSessions.size());
    return std::string(kSessions) + ":id" + (end == std::string::npos ? "" : path.substr(end));
  }
  return path.size() > 200 ? path.substr(0, 200) : path;
}

}  // namespace

struct Server::State {
  OperatorConfig config;
  std::unique_ptr<Store> store;
  Clock clock;
  std::optional<CallerVault> vault;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<Subjects> subjects;
  std::function<void(const std::string&)> log = [](const std::string& line) { std::cerr << line << "\n"; };

  // One pool object per (site, pool id); one mutex guards them all: pool operations are
  // microseconds, and one lock keeps "assign, then store" atomic per site.
  std::mutex pools_mutex;
  std::map<std::pair<std::string, std::string>, Pool> pools;

  const SiteEntry* site(const std::string& id) const { return config.find_site(id); }

  Pool* pool(const std::string& site_id, const std::string& pool_id) {
    const auto it = pools.find({site_id, pool_id});
    return it == pools.end() ? nullptr : &it->second;
  }

  // Where a dialled number belongs: a pool's number or a source's static number. Built once
  // at start, so a webhook finds it in constant time however many numbers there are.
  struct NumberOwner {
    const SiteEntry* site = nullptr;
    const Source* static_source = nullptr;  // when it is a static number
  };
  std::unordered_map<std::string, NumberOwner> owners;

  void index_numbers() {
    for (const SiteEntry& s : config.sites) {
      for (const PoolConfig& p : s.pools) {
        for (const PhoneNumber& n : p.numbers) owners.emplace(n.e164(), NumberOwner{&s, nullptr});
      }
      for (const Source& source : s.config.sources) owners.emplace(source.static_number.e164(), NumberOwner{&s, &source});
    }
  }

  std::optional<NumberOwner> owner_of(const std::string& e164) const {
    const auto it = owners.find(e164);
    if (it == owners.end()) return std::nullopt;
    return it->second;
  }

  void expire_locked(Millis now) {
    for (auto& [key, pool] : pools) {
      for (const auto& [session, released_at] : pool.expire(now)) store->release_session(session, released_at);
    }
  }

  // CORS for the session endpoints: only the site's own origins (none configured: none).
  bool allow_origin(const SiteEntry& site, const httplib::Request& req, httplib::Response& res) const {
    if (!req.has_header("Origin")) return true;  // not a browser's cross-origin request
    const std::string origin = req.get_header_value("Origin");
    if (std::find(site.allowed_origins.begin(), site.allowed_origins.end(), origin) == site.allowed_origins.end()) {
      return false;
    }
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    return true;
  }

  // The client's address for rate limiting. Behind a trusted reverse proxy it is the
  // right-most X-Forwarded-For entry that is not a trusted proxy itself: entries further
  // left were written by the client and can be anything.
  std::string client_address(const httplib::Request& req) const {
    const auto trusted = [&](std::string_view address) {
      return std::find(config.trust_proxy.begin(), config.trust_proxy.end(), address) != config.trust_proxy.end();
    };
    if (!trusted(req.remote_addr)) return req.remote_addr;
    std::string chain;
    for (auto [it, end] = req.headers.equal_range("X-Forwarded-For"); it != end; ++it) chain += (chain.empty() ? "" : ",") + it->second;
    std::string_view rest(chain);
    while (!rest.empty()) {
      const std::size_t comma = rest.rfind(',');
      std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
      while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
      while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
      if (!entry.empty() && !trusted(entry)) return std::string(entry);
    }
    return req.remote_addr;
  }

  // Admin API keys: "Authorization: Bearer <key>", compared by SHA-256 in constant time.
  // Answers the key, or nullptr after answering 401 or 403.
  const AdminKey* authorize(const httplib::Request& req, httplib::Response& res, std::string_view scope) const {
    const std::string header = req.get_header_value("Authorization");
    if (!header.starts_with("Bearer ") || header.size() < 8) {
      fail(res, 401, "unauthorized", "an admin API key is required (Authorization: Bearer <key>)");
      return nullptr;
    }
    const std::string hash = sha256_hex(std::string_view(header).substr(7));
    const AdminKey* match = nullptr;
    for (const AdminKey& key : config.admin_keys) {
      if (equal_in_constant_time(hash, key.sha256_hex)) match = &key;
    }
    if (!match) {
      fail(res, 401, "unauthorized", "unknown admin API key");
      return nullptr;
    }
    if (std::find(match->scopes.begin(), match->scopes.end(), scope) == match->scopes.end()) {
      fail(res, 403, "forbidden", "this key lacks the scope \"" + std::string(scope) + "\"");
      return nullptr;
    }
    return match;
  }

  // Every admin action goes to the audit log: who, what, which site, never personal data.
  void audit(const AdminKey& key, std::string action, const std::string& site, json::Object detail = {}) {
    store->append_audit(AuditEntry{clock(), key.id, std::move(action), site, json::Value(std::move(detail)).dump()});
  }

  // A session erased on request while it still holds a number gives the number back.
  void release_for_erasure(const SessionRow& session) {
    const Millis now = clock();
    std::lock_guard lock(pools_mutex);
    if (Pool* p = pool(session.site, session.pool)) p->release(session.id, now);
    store->release_session(session.id, now);
  }

  // The report's pool section and the pools endpoint: each pool now and over [from, to).
  json::Array pool_reports(const SiteEntry& site, Millis from, Millis to, double target) {
    json::Array out;
    const Millis now = clock();
    std::lock_guard lock(pools_mutex);
    for (const PoolConfig& pool_config : site.pools) {
      Pool* p = pool(site.config.site, pool_config.id);
      out.push_back(pool_report(pool_config.id, p->stats(now), store->pool_samples(site.config.site, pool_config.id, from, to), target));
    }
    return out;
  }

  // Records a call from either webhook and attributes it.
  json::Value record_call(const std::string& provider_id, const std::string& to, const std::string& from,
                          const std::string& status, int duration, Millis at, httplib::Response& res) {
    auto number = parse_e164(to);
    if (!number) {
      fail(res, 400, "invalid_number", "to: " + number.error().message);
      return {};
    }
    const auto owner = owner_of(number->e164());
    if (!owner) {
      fail(res, 404, "unknown_number", "the called number belongs to no site");
      return {};
    }
    CallRow call;
    call.provider_call_id = provider_id;
    call.site = owner->site->config.site;
    call.called_number = number->e164();
    call.status = status;
    call.duration_seconds = duration;
    call.started_at = at;
    call.attribution = "unattributed";
    // The caller's number: sealed and hashed with the operator's keys, or only hashed if the
    // site says so, or not kept at all without keys. Withheld numbers ("anonymous") are not kept.
    if (auto caller = parse_e164(from); caller && vault) {
      call.caller_hash = vault->hash(caller->e164());
      if (owner->site->keep_caller_numbers) {
        const SealedCaller sealed = vault->seal(caller->e164());
        call.caller_key_id = sealed.key_id;
        call.caller_ciphertext = sealed.ciphertext;
      }
    }
    if (const auto held = store->session_holding(call.site, call.called_number, at, owner->site->attribution_grace_ms)) {
      call.session_id = held->id;
      call.source = held->source;
      call.attribution = "session";
      call.campaign_json = held->campaign_json;
    } else if (owner->static_source) {
      call.source = owner->static_source->id;
      call.attribution = "static";
    }
    const bool fresh = store->insert_call(call);
    const auto stored = store->find_call(provider_id);
    json::Object body;
    body.set("call", provider_id);
    body.set("new", fresh);
    body.set("attribution", stored ? stored->attribution : call.attribution);
    body.set("source", stored ? stored->source : call.source);
    res.status = fresh ? 201 : 200;
    return body;
  }
};

Server::Server(OperatorConfig config, std::unique_ptr<Store> store, Clock clock)
    : state_(std::make_unique<State>()), http_(std::make_unique<httplib::Server>()) {
  State& s = *state_;
  s.config = std::move(config);
  s.store = std::move(store);
  s.clock = std::move(clock);
  if (s.config.caller_keys) {
    std::vector<CallerVault::Key> keys;
    for (const auto& k : s.config.caller_keys->keys) keys.push_back({k.id, k.bytes});
    s.vault.emplace(std::move(keys), s.config.caller_keys->current, s.config.caller_keys->hash_key);
  }
  s.index_numbers();
  s.subjects = std::make_unique<Subjects>(
      *s.store, s.vault ? &*s.vault : nullptr,
      Subjects::Hooks{[&s](const SessionRow& session) { s.release_for_erasure(session); },
                      [&s](const std::string& site, const std::string& source) {
                        const SiteEntry* entry = s.site(site);
                        return entry && entry->config.find_source(source) != nullptr;
                      }},
      [&s] { return s.clock(); });
  s.limiter = std::make_unique<RateLimiter>(s.config.rate_per_minute, s.config.rate_burst);
  for (const SiteEntry& site : s.config.sites) {
    for (const PoolConfig& p : site.pools) s.pools.emplace(std::pair{site.config.site, p.id}, Pool(p.numbers, p.settings));
    // Rebuild the pools from the store: cool-downs, then the sessions still holding numbers.
    for (const auto& [number, released_at] : s.store->last_releases(site.config.site)) {
      for (auto& [key, pool] : s.pools) {
        if (key.first == site.config.site) pool.restore_released(number, released_at);
      }
    }
  }
  for (const SessionRow& row : s.store->active_sessions()) {
    if (Pool* pool = s.pool(row.site, row.pool)) pool->restore_active(row.id, row.number, row.last_activity);
  }

  httplib::Server& http = *http_;
  http.set_tcp_nodelay(true);  // keep-alive requests otherwise stall 40 ms each
  http.set_payload_max_length(s.config.max_body_bytes);
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  http.set_keep_alive_max_count(1000);
  const auto threads = static_cast<std::size_t>(s.config.threads);
  // httplib owns the queue it is given; its API takes a raw pointer.
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  // Every error the router or the server itself produces gets the API's JSON error body.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const auto [code, message] = default_error(res.status);
    fail(res, res.status, code, message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([&s](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    std::string what = "unknown";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    json::Object line;
    line.set("level", "error");
    line.set("msg", "handler failed");
    line.set("error", what);
    s.log(json::Value(std::move(line)).dump());
    fail(res, 500, "internal_error", "the server could not complete the request");
  });
  http.set_logger([&s](const httplib::Request& req, const httplib::Response& res) {
    json::Object line;
    line.set("ts", static_cast<double>(s.clock()));
    line.set("level", "info");
    line.set("method", req.method);
    line.set("route", route_of(req.path));
    line.set("status", res.status);
    s.log(json::Value(std::move(line)).dump());
  });
  // The public endpoints a browser reaches are limited per client address (kept in memory
  // only); webhooks are signed and the admin API needs a key, so they are not.
  http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    const bool limited = req.path.starts_with("/v1/sites/") || req.path.starts_with("/v1/sessions/") || req.path.starts_with("/amp/");
    int retry_after = 0;
    if (!limited || s.limiter->allow(s.client_address(req), s.clock(), retry_after)) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("Retry-After", std::to_string(retry_after));
    fail(res, 429, "rate_limited", "too many requests from this address; retry later");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    // API answers are per visitor: never cached (the site config sets its own policy).
    if (req.path.starts_with("/v1/") && !res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
    // The SDK files (static_dir) are fetched from the sites' pages without credentials.
    const bool api = req.path.starts_with("/v1/") || req.path.starts_with("/amp/") || req.path == "/healthz";
    if (!api && res.status == 200) {
      res.set_header("Access-Control-Allow-Origin", "*");
      res.set_header("Cross-Origin-Resource-Policy", "cross-origin");
      res.set_header("Cache-Control", "public, max-age=3600");
    }
  });

  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    json::Object body;
    body.set("status", "ok");
    reply(res, 200, body);
  });

  // The public site config: cacheable, cookie-free, readable from any origin.
  http.Get(R"(/v1/sites/([a-z0-9_-]{1,64})/config)", [&s](const httplib::Request& req, httplib::Response& res) {
    // Readable from any origin, the 404 too: the SDK then tells the site owner that its
    // data-site is wrong instead of seeing an opaque CORS failure.
    res.set_header("Access-Control-Allow-Origin", "*");
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    const std::string etag = "\"" + sha256_hex(site->public_json).substr(0, 32) + "\"";
    res.set_header("ETag", etag);
    res.set_header("Cache-Control", "public, max-age=300");
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
    res.status = 200;
    res.set_content(site->public_json, kJson);
  });

  const auto preflight = [&s](const httplib::Request& req, httplib::Response& res, const SiteEntry* site) {
    const std::string origin = req.get_header_value("Origin");
    bool allowed = false;
    for (const SiteEntry& candidate : s.config.sites) {
      if (site && &candidate != site) continue;
      allowed = allowed || std::find(candidate.allowed_origins.begin(), candidate.allowed_origins.end(), origin) !=
                               candidate.allowed_origins.end();
    }
    if (!allowed) return fail(res, 403, "origin_not_allowed", "this origin may not call this endpoint");
    res.status = 204;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Access-Control-Allow-Methods", "POST, DELETE");
    res.set_header("Access-Control-Allow-Headers", "Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    res.set_header("Vary", "Origin");
  };
  http.Options(R"(/v1/sites/([a-z0-9_-]{1,64})/sessions)", [&s, preflight](const httplib::Request& req, httplib::Response& res) {
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    preflight(req, res, site);
  });
  http.Options(R"(/v1/sessions/([0-9a-f]{32})(/heartbeat)?)", [preflight](const httplib::Request& req, httplib::Response& res) {
    preflight(req, res, nullptr);
  });

  // A dynamic number for a consenting visitor's session.
  http.Post(R"(/v1/sites/([a-z0-9_-]{1,64})/sessions)", [&s](const httplib::Request& req, httplib::Response& res) {
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    if (!s.allow_origin(*site, req, res)) return fail(res, 403, "origin_not_allowed", "this origin may not ask for numbers for this site");
    auto body = json::parse(req.body);
    if (!body) return fail(res, 400, "invalid_json", body.error().message);
    if (!body->is_object()) return fail(res, 400, "invalid_body", "the body must be a JSON object");
    for (const std::string& key : body->as_object().keys) {
      if (key != "source" && key != "landing_path" && key != "consent" && key != "campaign") {
        return fail(res, 400, "invalid_body", "unknown field \"" + key + "\"");
      }
    }
    const json::Value* consent = body->find("consent");
    if (!consent || !((consent->is_bool() && consent->as_bool()) || (consent->is_string() && consent->as_string() == "granted"))) {
      return fail(res, 400, "consent_required", "consent: a dynamic number needs the visitor's consent (true)");
    }
    const json::Value* source_id = body->find("source");
    if (!source_id || !source_id->is_string()) return fail(res, 400, "invalid_body", "source: must be a string");
    const Source* source = site->config.find_source(source_id->as_string());
    if (!source) return fail(res, 400, "unknown_source", "source: no such source for this site");
    const json::Value* landing = body->find("landing_path");
    if (landing && (!landing->is_string() || landing->as_string().size() > 2048 || !landing->as_string().starts_with("/"))) {
      return fail(res, 400, "invalid_body", "landing_path: must be a path starting with '/', at most 2048 characters");
    }
    // Only the path and the campaign parameters are kept: no full URL, nothing else.
    static const std::vector<std::string> kKeep = {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"};
    const std::string landing_path = landing ? url_path_with(landing->as_string(), kKeep) : std::string("/");
    json::Object campaign;
    if (const json::Value* c = body->find("campaign")) {
      if (!c->is_object()) return fail(res, 400, "invalid_body", "campaign: must be an object");
      for (std::size_t i = 0; i < c->as_object().size(); ++i) {
        const std::string& key = c->as_object().keys[i];
        const json::Value& value = c->as_object().values[i];
        const bool allowed = std::find(kKeep.begin(), kKeep.end(), key) != kKeep.end() || key == "click_id" ||
                             (key == "click_id_value" && site->config.session.keep_click_ids);
        if (!allowed || !value.is_string() || value.as_string().size() > 512) {
          return fail(res, 400, "invalid_body", "campaign." + key + ": not a campaign detail this site keeps");
        }
        campaign.set(key, value);
      }
    }

    const auto static_reply = [&](const char* reason) {
      json::Object out;
      out.set("number", source->static_number.e164());
      out.set("display", format_for_display(source->static_number, *site->config.country));
      out.set("reason", reason);
      reply(res, 200, out);
    };
    if (source->pool.empty()) return static_reply("static_only");

    const Millis now = s.clock();
    std::lock_guard lock(s.pools_mutex);
    Pool* pool = s.pool(site->config.site, source->pool);
    if (!pool) return static_reply("static_only");
    s.expire_locked(now);
    const std::string id = random_id();
    const auto assignment = pool->assign(id, now);
    if (!assignment) return static_reply("pool_exhausted");
    if (!assignment->displaced_session.empty()) s.store->release_session(assignment->displaced_session, now);
    s.store->insert_session(SessionRow{id, site->config.site, source->pool, assignment->number, source->id,
                                       json::Value(std::move(campaign)).dump(), landing_path, now, now, std::nullopt});
    json::Object out;
    out.set("session", id);
    out.set("number", assignment->number);
    out.set("display", format_for_display(*parse_e164(assignment->number), *site->config.country));
    out.set("expires_in", static_cast<double>(pool->settings().hold_ms / 1000));
    if (!assignment->displaced_session.empty()) out.set("reason", "reused_least_active");
    reply(res, 201, out);
  });

  http.Post(R"(/v1/sessions/([0-9a-f]{32})/heartbeat)", [&s](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    const auto row = s.store->find_session(id);
    if (!row || row->released_at) return fail(res, 404, "unknown_session", "no such session, or it has ended");
    const SiteEntry* site = s.site(row->site);
    if (site && !s.allow_origin(*site, req, res)) return fail(res, 403, "origin_not_allowed", "this origin may not use this session");
    const Millis now = s.clock();
    std::lock_guard lock(s.pools_mutex);
    s.expire_locked(now);
    Pool* pool = s.pool(row->site, row->pool);
    if (!pool || !pool->touch(id, now)) return fail(res, 404, "unknown_session", "no such session, or it has ended");
    s.store->touch_session(id, now);
    json::Object out;
    out.set("expires_in", static_cast<double>(pool->settings().hold_ms / 1000));
    reply(res, 200, out);
  });

  // The visitor withdrew consent or left: the number goes back and the session is erased.
  http.Delete(R"(/v1/sessions/([0-9a-f]{32}))", [&s](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    const auto row = s.store->find_session(id);
    if (!row) return fail(res, 404, "unknown_session", "no such session");
    const SiteEntry* site = s.site(row->site);
    if (site && !s.allow_origin(*site, req, res)) return fail(res, 403, "origin_not_allowed", "this origin may not use this session");
    const Millis now = s.clock();
    std::lock_guard lock(s.pools_mutex);
    if (Pool* pool = s.pool(row->site, row->pool)) pool->release(id, now);
    if (!row->released_at) s.store->release_session(id, now);
    s.store->erase_session(id);
    res.status = 204;
  });

  // Twilio's status callback: form-encoded, signed with HMAC-SHA1 over the URL and the
  // sorted parameters (https://www.twilio.com/docs/usage/security).
  http.Post("/v1/webhooks/twilio", [&s](const httplib::Request& req, httplib::Response& res) {
    if (s.config.twilio_auth_token.empty()) return fail(res, 404, "not_configured", "Twilio webhooks are not configured");
    if (req.get_header_value("Content-Type").find("application/x-www-form-urlencoded") != 0) {
      return fail(res, 415, "unsupported_media_type", "Twilio posts application/x-www-form-urlencoded");
    }
    const auto form = parse_form(req.body);
    std::string signed_data = s.config.public_url + req.target;
    for (const auto& [key, value] : form) signed_data += key + value;  // multimap: sorted by key
    const std::string expected = hmac_sha1_base64(s.config.twilio_auth_token, signed_data);
    if (!equal_in_constant_time(expected, req.get_header_value("X-Twilio-Signature"))) {
      return fail(res, 403, "bad_signature", "X-Twilio-Signature does not match");
    }
    const auto field = [&](const char* name) {
      const auto it = form.find(name);
      return it == form.end() ? std::string() : it->second;
    };
    const std::string sid = field("CallSid");
    if (sid.empty() || sid.size() > 64) return fail(res, 400, "invalid_body", "CallSid: required");
    const std::string duration = field("CallDuration");
    int seconds = 0;
    if (!duration.empty()) {
      if (duration.size() > 7 || !std::all_of(duration.begin(), duration.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return fail(res, 400, "invalid_body", "CallDuration: must be whole seconds");
      }
      seconds = std::stoi(duration);
    }
    const std::string status = field("CallStatus").empty() ? "unknown" : field("CallStatus").substr(0, 32);
    json::Value body = s.record_call(sid, field("To"), field("From"), status, seconds, s.clock(), res);
    if (!body.is_null()) res.set_content(body.dump(), kJson);
  });

  // A generic call event: JSON signed with HMAC-SHA256 over "<timestamp>.<body>".
  http.Post("/v1/webhooks/calls", [&s](const httplib::Request& req, httplib::Response& res) {
    if (s.config.calls_secret.empty()) return fail(res, 404, "not_configured", "call webhooks are not configured");
    const std::string timestamp = req.get_header_value("X-Callswap-Timestamp");
    const std::string signature = req.get_header_value("X-Callswap-Signature");
    if (timestamp.empty() || timestamp.size() > 12 ||
        !std::all_of(timestamp.begin(), timestamp.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return fail(res, 401, "bad_timestamp", "X-Callswap-Timestamp: Unix seconds required");
    }
    const std::string expected = "sha256=" + hmac_sha256_hex(s.config.calls_secret, timestamp + "." + req.body);
    if (!equal_in_constant_time(expected, signature)) return fail(res, 403, "bad_signature", "X-Callswap-Signature does not match");
    const Millis now = s.clock();
    const Millis sent = std::stoll(timestamp) * 1000;
    if (sent < now - s.config.replay_window_seconds * Millis{1000} || sent > now + s.config.replay_window_seconds * Millis{1000}) {
      return fail(res, 401, "stale_request", "the timestamp is outside the replay window");
    }
    auto body = json::parse(req.body);
    if (!body) return fail(res, 400, "invalid_json", body.error().message);
    const std::string id = string_member(*body, "call_id");
    if (id.empty() || id.size() > 128) return fail(res, 400, "invalid_body", "call_id: required string");
    const json::Value* duration = body->find("duration_seconds");
    if (duration && (!duration->is_number() || duration->as_number() < 0 || duration->as_number() > 1e7)) {
      return fail(res, 400, "invalid_body", "duration_seconds: must be a number of seconds");
    }
    const std::string status = string_member(*body, "status").empty() ? "unknown" : string_member(*body, "status").substr(0, 32);
    json::Value out = s.record_call(id, string_member(*body, "to"), string_member(*body, "from"), status,
                                    duration ? static_cast<int>(duration->as_number()) : 0, now, res);
    if (!out.is_null()) res.set_content(out.dump(), kJson);
  });

  // amp-call-tracking: the static number of the default source (AMP pages carry no consent).
  http.Get(R"(/amp/v1/sites/([a-z0-9_-]{1,64})/number)", [&s](const httplib::Request& req, httplib::Response& res) {
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    const Source* source = site->config.default_source();
    const PhoneNumber number = source ? source->static_number : site->config.targets.front();
    json::Object out;
    out.set("phoneNumber", number.e164());
    out.set("formattedPhoneNumber", format_for_display(number, *site->config.country));
    // AMP's CORS rules: amp-call-tracking sends credentials, so the origin is echoed (the
    // answer is the same public number for everyone; no cookie is read or set), and the
    // source origin AMP names in __amp_source_origin is confirmed.
    const std::string origin = req.get_header_value("Origin");
    if (origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", "*");
    } else {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Access-Control-Allow-Credentials", "true");
      res.set_header("Vary", "Origin");
    }
    const std::string source_origin = req.get_param_value("__amp_source_origin");
    const bool looks_like_origin =
        (source_origin.starts_with("https://") || source_origin.starts_with("http://")) && source_origin.size() <= 256 &&
        std::all_of(source_origin.begin(), source_origin.end(),
                    [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == ':' || ch == '/' || ch == '-'; });
    if (looks_like_origin) {
      res.set_header("AMP-Access-Control-Allow-Source-Origin", source_origin);
      res.set_header("Access-Control-Expose-Headers", "AMP-Access-Control-Allow-Source-Origin");
    }
    res.set_header("Cache-Control", "public, max-age=300");
    reply(res, 200, out);
  });

  // Pool statistics for the operator: utilisation over time, peak concurrent sessions,
  // exhaustion events and the pool size that would keep utilisation at the target.
  http.Get(R"(/v1/admin/sites/([a-z0-9_-]{1,64})/pools)", [&s](const httplib::Request& req, httplib::Response& res) {
    const AdminKey* key = s.authorize(req, res, "reports");
    if (!key) return;
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    const Millis now = s.clock();
    const auto number_param = [&](const char* name, double fallback, double min, double max) -> std::optional<double> {
      if (!req.has_param(name)) return fallback;
      const std::string text = req.get_param_value(name);
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(v >= min && v <= max)) return std::nullopt;
      return v;
    };
    const auto from = number_param("from", static_cast<double>(now - 7 * 24 * 3600'000LL), 0, 1e15);
    const auto to = number_param("to", static_cast<double>(now + 1), 0, 1e15);
    const auto target = number_param("target", 0.75, 0.05, 1.0);
    if (!from || !to || *from >= *to) return fail(res, 400, "invalid_range", "from and to: milliseconds since the epoch, from before to");
    if (!target) return fail(res, 400, "invalid_target", "target: a utilisation between 0.05 and 1");
    json::Object body;
    body.set("site", site->config.site);
    body.set("pools", s.pool_reports(*site, static_cast<Millis>(*from), static_cast<Millis>(*to), *target));
    s.audit(*key, "pools", site->config.site);
    reply(res, 200, body);
  });

  // The sites an admin key may report on (for the admin page).
  http.Get("/v1/admin/sites", [&s](const httplib::Request& req, httplib::Response& res) {
    const AdminKey* key = s.authorize(req, res, "reports");
    if (!key) return;
    json::Array sites;
    for (const SiteEntry& site : s.config.sites) sites.emplace_back(site.config.site);
    json::Object body;
    body.set("sites", std::move(sites));
    s.audit(*key, "sites", "");
    reply(res, 200, body);
  });

  // The site owner's report: calls per day, source and campaign; pools and their sizes.
  http.Get(R"(/v1/admin/sites/([a-z0-9_-]{1,64})/report)", [&s](const httplib::Request& req, httplib::Response& res) {
    const AdminKey* key = s.authorize(req, res, "reports");
    if (!key) return;
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    constexpr Millis kDay = 24 * 3600'000LL;
    const Millis today = s.clock() / kDay * kDay;
    const auto date = [&](const char* name, Millis fallback) -> std::optional<Millis> {
      return req.has_param(name) ? parse_utc_date(req.get_param_value(name)) : std::optional<Millis>(fallback);
    };
    const auto from = date("from", today - 29 * kDay);
    const auto last = date("to", today);
    if (!from || !last || *from > *last || *last - *from > 366 * kDay) {
      return fail(res, 400, "invalid_range", "from and to: dates YYYY-MM-DD (UTC, both included), from not after to, at most 366 days");
    }
    const Millis to = *last + kDay;
    const std::string site_id = site->config.site;
    json::Value report = call_report(s.store->reportable_calls(site_id, *from, to), *from, to,
                                     [&](const std::string& hash) { return s.store->first_call_at(site_id, hash); });
    report.as_object().set("site", site_id);
    report.as_object().set("from", utc_date(*from));
    report.as_object().set("to", utc_date(*last));
    report.as_object().set("pools", s.pool_reports(*site, *from, to, 0.75));
    json::Object detail;
    detail.set("from", utc_date(*from));
    detail.set("to", utc_date(*last));
    s.audit(*key, "report", site_id, std::move(detail));
    reply(res, 200, report);
  });

  // Data-subject rights: access, erase, restrict, unrestrict, rectify (subjects.hpp).
  http.Post(R"(/v1/admin/subjects/([a-z]{1,16}))", [&s](const httplib::Request& req, httplib::Response& res) {
    const AdminKey* key = s.authorize(req, res, "subjects");
    if (!key) return;
    auto body = json::parse(req.body);
    if (!body) return fail(res, 400, "invalid_json", body.error().message);
    const SubjectOutcome outcome = s.subjects->handle(std::string(req.matches[1]), *body, key->id);
    reply(res, outcome.status, outcome.body);
  });

  // The admin page: the report with its charts, for a person with a key (scope reports).
  http.Get("/admin", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    res.set_header("Cache-Control", "no-store");
    res.set_content(kAdminPage, "text/html; charset=utf-8");
  });
  http.Get("/admin/admin.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(kAdminScript, "text/javascript; charset=utf-8");
  });

  if (!s.config.static_dir.empty()) http.set_mount_point("/", s.config.static_dir);
}

Server::~Server() { stop(); }

int Server::bind_to_any_port(const std::string& host) { return http_->bind_to_any_port(host); }
bool Server::bind() { return http_->bind_to_port(state_->config.listen_host, state_->config.listen_port); }
bool Server::listen_after_bind() { return http_->listen_after_bind(); }
void Server::stop() {
  if (http_->is_running()) http_->stop();
}
bool Server::is_running() const { return http_->is_running(); }

void Server::expire_sessions() {
  std::lock_guard lock(state_->pools_mutex);
  state_->expire_locked(state_->clock());
}

void Server::sample_pools() {
  State& s = *state_;
  std::lock_guard lock(s.pools_mutex);
  const Millis now = s.clock();
  s.expire_locked(now);
  for (const auto& [key, pool] : s.pools) {
    const PoolStats stats = pool.stats(now);
    s.store->insert_pool_sample(PoolSample{key.first, key.second, now, static_cast<std::int64_t>(stats.active),
                                           static_cast<std::int64_t>(stats.size), static_cast<std::int64_t>(stats.exhausted)});
  }
}

std::int64_t Server::purge() {
  State& s = *state_;
  const Millis now = s.clock();
  constexpr Millis kDay = 24 * 3600'000LL;
  std::int64_t total = 0;
  for (const SiteEntry& site : s.config.sites) {
    const auto purged = s.store->purge(site.config.site, now - site.retention.sessions_days * kDay,
                                       now - site.retention.calls_days * kDay);
    total += purged.sessions + purged.calls + purged.samples;
    json::Object line;
    line.set("ts", static_cast<double>(now));
    line.set("level", "info");
    line.set("msg", "retention purge");
    line.set("site", site.config.site);
    line.set("sessions", static_cast<double>(purged.sessions));
    line.set("calls", static_cast<double>(purged.calls));
    line.set("samples", static_cast<double>(purged.samples));
    const std::int64_t audit = s.store->purge_audit(site.config.site, now - site.retention.audit_days * kDay);
    total += audit;
    line.set("audit", static_cast<double>(audit));
    s.log(json::Value(std::move(line)).dump());
  }
  return total;
}

SubjectOutcome Server::subject(std::string_view action, const json::Value& request, const std::string& actor) {
  return state_->subjects->handle(action, request, actor);
}

std::int64_t Server::rotate_caller_key() {
  State& s = *state_;
  if (!s.vault) return 0;
  std::int64_t count = 0;
  std::int64_t left = 0;  // sealed with a key no longer configured: left as they are, reported
  for (const CallRow& call : s.store->calls_to_reseal(s.vault->current_key_id())) {
    const auto number = s.vault->open({call.caller_key_id, call.caller_ciphertext});
    if (!number) {
      ++left;
      continue;
    }
    const SealedCaller sealed = s.vault->seal(*number);
    s.store->reseal_caller(call.provider_call_id, sealed.key_id, sealed.ciphertext);
    ++count;
  }
  json::Object line;
  line.set("level", "info");
  line.set("msg", "caller numbers re-sealed");
  line.set("key", s.vault->current_key_id());
  line.set("calls", static_cast<double>(count));
  line.set("left", static_cast<double>(left));
  s.log(json::Value(std::move(line)).dump());
  return count;
}

void Server::set_log_sink(std::function<void(const std::string&)> sink) { state_->log = std::move(sink); }

}  // namespace callswap::server
