#include "http_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <callswap/attribution.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <unordered_map>

#include "admin_page.hpp"
#include "assignments.hpp"
#include "caller_vault.hpp"
#include "conversions.hpp"
#include "crypto.hpp"
#include "http_listener.hpp"
#include "log_line.hpp"
#include "privacy_record.hpp"
#include "rate_limiter.hpp"
#include "report.hpp"
#include "requests.hpp"
#include "routes.hpp"
#include "subjects.hpp"

namespace callswap::server {

namespace {

constexpr const char* kJson = "application/json";

// {"error": {"code", "message"}}, the one error shape of the whole API.
void fail(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  res.status = status;
  res.set_content(dump_json(error_body(code, message)), kJson);
}

void reply(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(dump_json(body), kJson);
}

// The code and message for errors the router or httplib itself produced.
std::pair<const char*, const char*> default_error(int status) {
  switch (status) {
    case 400:
      return {"bad_request", "the request could not be read (a POST needs a Content-Length)"};
    case 404:
      return {"not_found", "no such resource"};
    case 405:
      return {"method_not_allowed", "this resource does not take that method"};
    case 413:
      return {"body_too_large", "the request body is too large"};
    case 414:
      return {"uri_too_long", "the request URI is too long"};
    case 415:
      return {"unsupported_media_type", "unsupported content type"};
    default:
      return {status >= 500 ? "internal_error" : "error", "the request failed"};
  }
}

// The report's view of the outbox: how many deliveries are pending, delivered and given up,
// and why each given-up one failed.
Json delivery_summary(const std::vector<Delivery>& deliveries) {
  double pending = 0;
  double delivered = 0;
  Json failed = Json::array();
  for (const Delivery& d : deliveries) {
    if (d.state == "pending") ++pending;
    if (d.state == "delivered") ++delivered;
    if (d.state != "failed") continue;
    Json item = Json::object();
    item["destination"] = d.destination;
    item["event"] = d.event;
    item["reason"] = d.last_error;
    item["created_at"] = d.created_at;
    failed.push_back(std::move(item));
  }
  Json out = Json::object();
  out["pending"] = pending;
  out["delivered"] = delivered;
  out["failed"] = std::move(failed);
  return out;
}

const PoolConfig* find_pool(const SiteEntry& site, const std::string& id) {
  const auto it = std::find_if(site.pools.begin(), site.pools.end(),
                               [&](const PoolConfig& p) { return p.id == id; });
  return it == site.pools.end() ? nullptr : &*it;
}

// "google-ads" or "microsoft-ads", as the feed routes match them.
AdPlatform ad_platform(std::string_view name) {
  return name == "google-ads" ? AdPlatform::google_ads : AdPlatform::microsoft_ads;
}

}  // namespace

struct Server::State {
  OperatorConfig config;
  std::unique_ptr<Store> store;
  Clock clock;
  std::optional<CallerVault> vault;
  // One token bucket per rate-limit class (routes.hpp), each keyed by client address; the
  // admin class also keeps one per admin key, so a leaked key cannot be used without limit.
  std::unique_ptr<RateLimiter> visitor_limiter, admin_limiter, webhook_limiter;

  RateLimiter* limiter_for(RateClass rate) const {
    switch (rate) {
      case RateClass::visitor:
        return visitor_limiter.get();
      case RateClass::admin:
        return admin_limiter.get();
      case RateClass::webhook:
        return webhook_limiter.get();
      case RateClass::unlimited:
        return nullptr;
    }
    return nullptr;
  }

  // Takes a token for `client` from the class's bucket; false after answering 429.
  bool within_rate(RateClass rate, const std::string& client, httplib::Response& res) {
    RateLimiter* limiter = limiter_for(rate);
    int retry_after = 0;
    if (!limiter || limiter->allow(client, clock(), retry_after)) return true;
    res.set_header("Retry-After", std::to_string(retry_after));
    fail(res, 429, "rate_limited", "too many requests; retry later");
    return false;
  }
  std::unique_ptr<Subjects> subjects;
  std::function<void(const std::string&)> log = [](const std::string& line) {
    std::cerr << line << "\n";
  };
  std::unique_ptr<OutboxSender> outbox;

  // Which session holds which number: decided in this process for SQLite, in the database
  // for PostgreSQL (assignments.hpp).
  std::unique_ptr<Assignments> assignments;

  const SiteEntry* site(const std::string& id) const { return config.find_site(id); }

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
      for (const Source& source : s.config.sources)
        owners.emplace(source.static_number.e164(), NumberOwner{&s, &source});
    }
  }

  std::optional<NumberOwner> owner_of(const std::string& e164) const {
    const auto it = owners.find(e164);
    if (it == owners.end()) return std::nullopt;
    return it->second;
  }

  // CORS for the session endpoints: only the site's own origins (none configured: none).
  bool allow_origin(const SiteEntry& site, const httplib::Request& req,
                    httplib::Response& res) const {
    if (!req.has_header("Origin")) return true;  // not a browser's cross-origin request
    const std::string origin = req.get_header_value("Origin");
    if (!origin_allowed(origin, &site)) return false;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    return true;
  }

  // Whether `origin` is one of `site`'s allowed origins, or, without a site (the session-id
  // routes name none), one of any site's.
  bool origin_allowed(const std::string& origin, const SiteEntry* only_site) const {
    for (const SiteEntry& candidate : config.sites) {
      if (only_site && &candidate != only_site) continue;
      if (std::find(candidate.allowed_origins.begin(), candidate.allowed_origins.end(), origin) !=
          candidate.allowed_origins.end())
        return true;
    }
    return false;
  }

  // A visitor request refused before its handler ran (a 429) is still readable by the page
  // that the handler would have answered, so the SDK can tell the site owner it was rate
  // limited instead of seeing an opaque CORS failure.
  void let_page_read_refusal(const Route& route, const httplib::Request& req,
                             httplib::Response& res) const {
    if (route.rate != RateClass::visitor || !req.has_header("Origin")) return;
    // The site config, in either form, is readable from any origin.
    if (&route == &kRoutes[route_ids::site_config] ||
        &route == &kRoutes[route_ids::site_config_compact]) {
      res.set_header("Access-Control-Allow-Origin", "*");
      return;
    }
    const std::string origin = req.get_header_value("Origin");
    const SiteEntry* only_site = nullptr;
    if (route.pattern.find("/sites/") != std::string_view::npos) {
      only_site = req.matches.size() > 1 ? site(req.matches[1]) : nullptr;
      if (!only_site) return;  // no such site: no page of it to answer
    }
    if (!origin_allowed(origin, only_site)) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
  }

  // The client's address for rate limiting. Behind a trusted reverse proxy it is the
  // right-most X-Forwarded-For entry that is not a trusted proxy itself: entries further
  // left were written by the client and can be anything.
  std::string client_address(const httplib::Request& req) const {
    const auto trusted = [&](std::string_view address) {
      return std::find(config.trust_proxy.begin(), config.trust_proxy.end(), address) !=
             config.trust_proxy.end();
    };
    if (!trusted(req.remote_addr)) return req.remote_addr;
    std::string chain;
    for (auto [it, end] = req.headers.equal_range("X-Forwarded-For"); it != end; ++it)
      chain += (chain.empty() ? "" : ",") + it->second;
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

  static bool has_scope(const AdminKey& key, Scope scope) {
    return std::find(key.scopes.begin(), key.scopes.end(), scope_name(scope)) != key.scopes.end();
  }

  // Admin API keys: "Authorization: Bearer <key>", compared by SHA-256 in constant time.
  // Answers the key, or nullptr after answering 401 or 403.
  const AdminKey* authorize(const httplib::Request& req, httplib::Response& res,
                            Scope needed) const {
    const std::string_view scope = scope_name(needed);
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
    if (!has_scope(*match, needed)) {
      fail(res, 403, "forbidden", "this key lacks the scope \"" + std::string(scope) + "\"");
      return nullptr;
    }
    return match;
  }

  // Every admin action goes to the audit log: who, what, which site, never personal data.
  void audit(const AdminKey& key, std::string action, const std::string& site, Json detail = {}) {
    store->append_audit(AuditEntry{clock(), key.id, std::move(action), site, dump_json(detail)});
  }

  // A session erased on request while it still holds a number gives the number back to its
  // pool (the store records the release for the cool-down as it erases).
  void release_for_erasure(const SessionRow& session) {
    assignments->release_for_erasure(session, clock());
  }

  // A site's offline conversion import for one platform: its converting calls of the feed
  // window whose session carried a click id the platform takes, one line per call.
  std::string conversion_feed_of(const SiteEntry& site, AdPlatform platform) {
    const ConversionConfig& rules = site.conversions;
    const Millis now = clock();
    const std::string& site_id = site.config.site;
    std::vector<FeedRow> rows;
    // One line per call: each call is stored once, so each appears once in a window.
    for (const ClickedCall& c :
         store->clicked_calls(site_id, now - rules.feed_window_days * 24 * 3600'000LL, now + 1)) {
      if (!platform_takes(platform, c.click_id_type)) continue;
      const bool first_time =
          !c.call.caller_hash.empty() &&
          store->first_call_at(site_id, c.call.caller_hash) == c.call.started_at;
      if (!counts_as_conversion(rules, c.call, first_time)) continue;
      const ConversionValue value = conversion_value(rules, c.call.source, c.pool);
      rows.push_back(FeedRow{c.click_id, value.name, c.call.started_at, value.value});
    }
    return conversion_feed(platform, rules, rows);
  }

  // The report's pool section and the pools endpoint: each pool now and over [from, to).
  Json pool_reports(const SiteEntry& site, Millis from, Millis to, double target) {
    Json out = Json::array();
    const Millis now = clock();
    for (const PoolConfig& pool_config : site.pools) {
      out.push_back(
          pool_report(pool_config.id, assignments->stats(site.config.site, pool_config.id, now),
                      store->pool_samples(site.config.site, pool_config.id, from, to), target));
    }
    return out;
  }

  // Records a call from either webhook and attributes it.
  Json record_call(const std::string& provider_id, const std::string& to, const std::string& from,
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
    // An erased call stays erased: a replay of its webhook (Twilio signs no timestamp) is
    // acknowledged, so the provider stops retrying, and stores nothing.
    if (store->call_erased(erased_call_key(vault ? &*vault : nullptr, provider_id))) {
      Json body = Json::object();
      body["call"] = provider_id;
      body["new"] = false;
      body["stored"] = false;
      res.status = 200;
      return body;
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
    if (const auto held = store->session_holding(call.site, call.called_number, at,
                                                 owner->site->attribution_grace_ms)) {
      call.session_id = held->id;
      call.source = held->source;
      call.attribution = "session";
      call.campaign_json = held->campaign_json;
      call.restricted = held->restricted;
    } else if (owner->static_source) {
      call.source = owner->static_source->id;
      call.attribution = "static";
    }
    // A restriction (Art. 18) of the caller or of the visit reaches calls made after it.
    if (!call.caller_hash.empty() && store->caller_restricted(call.caller_hash, at))
      call.restricted = true;
    const bool fresh = store->insert_call(call);
    const auto stored = store->find_call(provider_id);
    if (stored && owner->site->conversions.enabled) {
      const auto session =
          stored->session_id.empty() ? std::nullopt : store->find_session(stored->session_id);
      const bool first_time =
          !stored->caller_hash.empty() &&
          store->first_call_at(stored->site, stored->caller_hash) == stored->started_at;
      std::string caller;
      if (!stored->caller_ciphertext.empty()) {
        if (auto caller_number = parse_e164(from)) caller = caller_number->e164();
      }
      queue_call_events(
          *store, CallEvents{*owner->site, *stored, session, fresh, first_time, caller, clock()});
      outbox->wake();
    }
    Json body = Json::object();
    body["call"] = provider_id;
    body["new"] = fresh;
    body["attribution"] = stored ? stored->attribution : call.attribution;
    body["source"] = stored ? stored->source : call.source;
    res.status = fresh ? 201 : 200;
    return body;
  }
};

Server::Server(OperatorConfig config, std::unique_ptr<Store> store, Clock clock)
    : state_(std::make_unique<State>()),
      http_(std::make_unique<HttpListener>(ConnectionLimits{
          .max_connections = config.max_connections,
          .ready_threads = config.threads,
          .keep_alive = std::chrono::seconds(config.keep_alive_seconds),
          .request_timeout = std::chrono::seconds(config.request_timeout_seconds),
          .listen_backlog = config.listen_backlog,
      })) {
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
  s.visitor_limiter =
      std::make_unique<RateLimiter>(s.config.visitor_rate.per_minute, s.config.visitor_rate.burst);
  s.admin_limiter =
      std::make_unique<RateLimiter>(s.config.admin_rate.per_minute, s.config.admin_rate.burst);
  s.webhook_limiter =
      std::make_unique<RateLimiter>(s.config.webhook_rate.per_minute, s.config.webhook_rate.burst);
  s.outbox = std::make_unique<OutboxSender>(
      *s.store, s.config, [&s] { return s.clock(); },
      [&s](const std::string& line) { s.log(line); });
  std::vector<PoolSpec> pool_specs;
  for (const SiteEntry& site : s.config.sites) {
    for (const PoolConfig& p : site.pools) {
      PoolSpec spec{site.config.site, p.id, {}, p.settings};
      for (const PhoneNumber& n : p.numbers) spec.numbers.push_back(n.e164());
      pool_specs.push_back(std::move(spec));
    }
  }
  s.assignments = s.store->shared_assignments(pool_specs);
  if (!s.assignments) s.assignments = memory_assignments(std::move(pool_specs), *s.store);

  // Connections, timeouts and workers are the listener's (http_listener.hpp).
  httplib::Server& http = *http_;
  http.set_payload_max_length(s.config.max_body_bytes);

  // Every error the router or the server itself produces gets the API's JSON error body.
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const auto [code, message] = default_error(res.status);
        fail(res, res.status, code, message);
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [&s](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown";
        try {
          if (error) std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        s.log(log_line(s.clock(), LogLevel::error, "handler failed", {{"error", what}}));
        fail(res, 500, "internal_error", "the server could not complete the request");
      });
  http.set_logger([&s](const httplib::Request& req, const httplib::Response& res) {
    s.log(
        log_line(s.clock(), LogLevel::info, "request",
                 {{"method", req.method}, {"route", route_of(req.path)}, {"status", res.status}}));
  });
  http.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    // API answers are per visitor: never cached (the site config sets its own policy).
    if (req.path.starts_with("/v1/") && !res.has_header("Cache-Control"))
      res.set_header("Cache-Control", "no-store");
    // The SDK files (static_dir) are fetched from the sites' pages without credentials.
    const bool api =
        req.path.starts_with("/v1/") || req.path.starts_with("/amp/") || req.path == "/healthz";
    if (!api && res.status == 200) {
      res.set_header("Access-Control-Allow-Origin", "*");
      res.set_header("Cross-Origin-Resource-Policy", "cross-origin");
      res.set_header("Cache-Control", "public, max-age=3600");
    }
  });

  // Each route of the table gets its handler here, behind the same middleware: its rate-limit
  // class, then its admin scope. A route left without a handler stops the server at start.
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, const AdminKey*)>;
  std::array<bool, route_ids::count> wired{};
  const auto on = [&s, &http, &wired](std::size_t id, Handler handler) {
    const Route& route = kRoutes[id];
    wired[id] = true;
    httplib::Server::Handler wrapped = [&s, &route, handler = std::move(handler)](
                                           const httplib::Request& req, httplib::Response& res) {
      const std::string client = s.client_address(req);
      if (!s.within_rate(route.rate, client, res)) return s.let_page_read_refusal(route, req, res);
      const AdminKey* key = nullptr;
      if (route.scope != Scope::none) {
        key = s.authorize(req, res, route.scope);
        if (!key || !s.within_rate(route.rate, "key:" + key->id, res)) return;
      }
      handler(req, res, key);
    };
    const std::string pattern(route.pattern);
    if (route.method == "GET")
      http.Get(pattern, std::move(wrapped));
    else if (route.method == "POST")
      http.Post(pattern, std::move(wrapped));
    else if (route.method == "DELETE")
      http.Delete(pattern, std::move(wrapped));
    else if (route.method == "OPTIONS")
      http.Options(pattern, std::move(wrapped));
    else
      throw std::logic_error("routes.hpp: unknown method " + std::string(route.method));
  };

  on(route_ids::health, [](const httplib::Request&, httplib::Response& res, const AdminKey*) {
    Json body = Json::object();
    body["status"] = "ok";
    reply(res, 200, body);
  });

  // The public site config, and its compact form the SDK reads: cacheable, cookie-free,
  // readable from any origin.
  const auto serve_site_config = [&s](std::string SiteEntry::*body) {
    return [&s, body](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
      // Readable from any origin, the 404 too: the SDK then tells the site owner that its
      // data-site is wrong instead of seeing an opaque CORS failure.
      res.set_header("Access-Control-Allow-Origin", "*");
      const SiteEntry* site = s.site(req.matches[1]);
      if (!site) return fail(res, 404, "unknown_site", "no such site");
      const std::string etag = "\"" + sha256_hex(site->*body).substr(0, 32) + "\"";
      res.set_header("ETag", etag);
      res.set_header("Cache-Control", "public, max-age=300");
      if (req.get_header_value("If-None-Match") == etag) {
        res.status = 304;
        return;
      }
      res.status = 200;
      res.set_content(site->*body, kJson);
    };
  };
  on(route_ids::site_config, serve_site_config(&SiteEntry::public_json));
  on(route_ids::site_config_compact, serve_site_config(&SiteEntry::public_compact));

  const auto preflight = [&s](const httplib::Request& req, httplib::Response& res,
                              const SiteEntry* site) {
    const std::string origin = req.get_header_value("Origin");
    if (!s.origin_allowed(origin, site))
      return fail(res, 403, "origin_not_allowed", "this origin may not call this endpoint");
    res.status = 204;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Access-Control-Allow-Methods", "POST, DELETE");
    res.set_header("Access-Control-Allow-Headers", "Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    res.set_header("Vary", "Origin");
  };
  on(route_ids::session_preflight,
     [&s, preflight](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
       const SiteEntry* site = s.site(req.matches[1]);
       if (!site) return fail(res, 404, "unknown_site", "no such site");
       preflight(req, res, site);
     });
  on(route_ids::session_id_preflight,
     [preflight](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
       preflight(req, res, nullptr);
     });

  // A dynamic number for a consenting visitor's session.
  on(route_ids::session_create,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
       const SiteEntry* site = s.site(req.matches[1]);
       if (!site) return fail(res, 404, "unknown_site", "no such site");
       if (!s.allow_origin(*site, req, res))
         return fail(res, 403, "origin_not_allowed",
                     "this origin may not ask for numbers for this site");
       auto parsed = parse_session_request(req.body, site->config);
       if (const auto* error = std::get_if<RequestError>(&parsed))
         return fail(res, error->status, error->code, error->message);
       SessionRequest& request = std::get<SessionRequest>(parsed);
       const Source* source = request.source;
       const std::string& landing_path = request.landing_path;
       const Json& campaign = request.campaign;

       const auto static_reply = [&](const char* reason) {
         Json out = Json::object();
         out["number"] = source->static_number.e164();
         out["display"] = format_for_display(source->static_number, *site->config.country);
         out["reason"] = reason;
         reply(res, 200, out);
       };
       if (source->pool.empty()) return static_reply("static_only");

       const PoolConfig* pool = find_pool(*site, source->pool);
       if (!pool) return static_reply("static_only");
       const Millis now = s.clock();
       const std::string id = random_id();
       const Millis hold_ms = pool->settings.hold_ms;
       const std::optional<Assignment> assignment = s.assignments->assign(
           SessionRow{id, site->config.site, source->pool, "", source->id, dump_json(campaign),
                      landing_path, now, now, std::nullopt, false, request.click_id_type,
                      request.click_id, request.click_id_consent, request.ga_client_id,
                      request.ga_consent},
           now);
       if (!assignment) return static_reply("pool_exhausted");
       Json out = Json::object();
       out["session"] = id;
       out["number"] = assignment->number;
       out["display"] = format_for_display(*parse_e164(assignment->number), *site->config.country);
       out["expires_in"] = hold_ms / 1000;
       if (!assignment->displaced_session.empty()) out["reason"] = "reused_least_active";
       reply(res, 201, out);
     });

  on(route_ids::session_heartbeat, [&s](const httplib::Request& req, httplib::Response& res,
                                        const AdminKey*) {
    const std::string id = req.matches[1];
    const auto row = s.store->find_session(id);
    if (!row || row->released_at)
      return fail(res, 404, "unknown_session", "no such session, or it has ended");
    const SiteEntry* site = s.site(row->site);
    if (site && !s.allow_origin(*site, req, res))
      return fail(res, 403, "origin_not_allowed", "this origin may not use this session");
    // Ids the visitor consented to later in the visit, or whose consent was withdrawn.
    auto parsed = site ? parse_heartbeat(req.body, site->config) : HeartbeatIds{};
    if (const auto* error = std::get_if<RequestError>(&parsed))
      return fail(res, error->status, error->code, error->message);
    const HeartbeatIds& ids = std::get<HeartbeatIds>(parsed);
    const PoolConfig* pool = site ? find_pool(*site, row->pool) : nullptr;
    if (!pool || !s.assignments->touch(*row, s.clock()))
      return fail(res, 404, "unknown_session", "no such session, or it has ended");
    if (ids.click_id_named || ids.ga_named) {
      s.store
          ->update_session_ids(id, SessionIdsUpdate{ids.click_id_named, ids.click_id_type,
                                                    ids.click_id, ids.click_id_consent,
                                                    ids.ga_named, ids.ga_client_id, ids.ga_consent})
          .get();
    }
    Json out = Json::object();
    out["expires_in"] = pool->settings.hold_ms / 1000;
    reply(res, 200, out);
  });

  // The visitor withdrew consent or left: the number goes back and the session is erased.
  on(route_ids::session_delete,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
       const std::string id = req.matches[1];
       const auto row = s.store->find_session(id);
       if (!row) return fail(res, 404, "unknown_session", "no such session");
       const SiteEntry* site = s.site(row->site);
       if (site && !s.allow_origin(*site, req, res))
         return fail(res, 403, "origin_not_allowed", "this origin may not use this session");
       // Acknowledged once durable, like a data-subject erasure (the same mechanism).
       const Millis now = s.clock();
       Store::Erasure erasure;
       erasure.session_ids.push_back(id);
       erasure.at = now;
       s.assignments->erase(erasure);
       res.status = 204;
     });

  // Twilio's status callback: form-encoded, signed with HMAC-SHA1 over the URL and the
  // sorted parameters (https://www.twilio.com/docs/usage/security).
  on(route_ids::twilio_webhook,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
       if (s.config.twilio_auth_token.empty())
         return fail(res, 404, "not_configured", "Twilio webhooks are not configured");
       if (req.get_header_value("Content-Type").find("application/x-www-form-urlencoded") != 0) {
         return fail(res, 415, "unsupported_media_type",
                     "Twilio posts application/x-www-form-urlencoded");
       }
       const auto form = parse_form(req.body);
       const std::string expected =
           twilio_signature(s.config.twilio_auth_token, s.config.public_url + req.target, form);
       if (!equal_in_constant_time(expected, req.get_header_value("X-Twilio-Signature"))) {
         return fail(res, 403, "bad_signature", "X-Twilio-Signature does not match");
       }
       const auto parsed = parse_twilio_call(form);
       if (const auto* error = std::get_if<RequestError>(&parsed))
         return fail(res, error->status, error->code, error->message);
       const CallReport& call = std::get<CallReport>(parsed);
       Json body = s.record_call(call.id, call.to, call.from, call.status, call.duration_seconds,
                                 s.clock(), res);
       if (!body.is_null()) res.set_content(dump_json(body), kJson);
     });

  // A generic call event: JSON signed with HMAC-SHA256 over "<timestamp>.<body>".
  on(route_ids::calls_webhook,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
       if (s.config.calls_secret.empty())
         return fail(res, 404, "not_configured", "call webhooks are not configured");
       const std::string timestamp = req.get_header_value("X-Callswap-Timestamp");
       const std::string signature = req.get_header_value("X-Callswap-Signature");
       const auto seconds = parse_webhook_timestamp(timestamp);
       if (!seconds)
         return fail(res, 401, "bad_timestamp", "X-Callswap-Timestamp: Unix seconds required");
       const std::string expected = calls_signature(s.config.calls_secret, timestamp, req.body);
       if (!equal_in_constant_time(expected, signature))
         return fail(res, 403, "bad_signature", "X-Callswap-Signature does not match");
       const Millis now = s.clock();
       const Millis sent = *seconds * 1000;
       if (sent < now - s.config.replay_window_seconds * Millis{1000} ||
           sent > now + s.config.replay_window_seconds * Millis{1000}) {
         return fail(res, 401, "stale_request", "the timestamp is outside the replay window");
       }
       const auto parsed = parse_call_event(req.body);
       if (const auto* error = std::get_if<RequestError>(&parsed))
         return fail(res, error->status, error->code, error->message);
       const CallReport& call = std::get<CallReport>(parsed);
       Json out =
           s.record_call(call.id, call.to, call.from, call.status, call.duration_seconds, now, res);
       if (!out.is_null()) res.set_content(dump_json(out), kJson);
     });

  // amp-call-tracking: the static number of the default source (AMP pages carry no consent).
  on(route_ids::amp_number,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey*) {
       const SiteEntry* site = s.site(req.matches[1]);
       if (!site) return fail(res, 404, "unknown_site", "no such site");
       const Source* source = site->config.default_source();
       const PhoneNumber number = source ? source->static_number : site->config.targets.front();
       Json out = Json::object();
       out["phoneNumber"] = number.e164();
       out["formattedPhoneNumber"] = format_for_display(number, *site->config.country);
       // AMP's rules for its CORS requests (the "CORS in AMP" guide, "Verify CORS requests"): the
       // Origin must be one of the publisher's own origins or an AMP cache serving the page; a
       // request without Origin must carry "AMP-Same-Origin: true" (the AMP runtime on the
       // publisher's own page); and __amp_source_origin, the page's real origin, must be one of the
       // publisher's. amp-call-tracking sends credentials, so only a checked origin is echoed.
       const auto own_origin = [site](std::string_view origin) {
         return std::find(site->allowed_origins.begin(), site->allowed_origins.end(), origin) !=
                site->allowed_origins.end();
       };
       const std::string source_origin = req.get_param_value("__amp_source_origin");
       std::string allowed_origin;
       if (req.has_header("Origin")) {
         allowed_origin = req.get_header_value("Origin");
         if (!own_origin(allowed_origin) && !is_amp_cache_origin(allowed_origin)) {
           return fail(res, 403, "origin_not_allowed",
                       "this origin is neither the site's nor an AMP cache's");
         }
       } else if (req.get_header_value("AMP-Same-Origin") == "true") {
         allowed_origin = source_origin;  // the runtime on the publisher's own page: checked below
       } else {
         return fail(res, 403, "origin_not_allowed",
                     "an AMP request carries an Origin or AMP-Same-Origin: true");
       }
       if (!own_origin(source_origin)) {
         return fail(res, 403, "source_origin_not_allowed",
                     "__amp_source_origin must be one of the site's own origins");
       }
       res.set_header("Access-Control-Allow-Origin", allowed_origin);
       res.set_header("Access-Control-Allow-Credentials", "true");
       res.set_header("AMP-Access-Control-Allow-Source-Origin", source_origin);
       res.set_header("Access-Control-Expose-Headers", "AMP-Access-Control-Allow-Source-Origin");
       res.set_header("Vary", "Origin, AMP-Same-Origin");
       res.set_header("Cache-Control", "public, max-age=300");
       reply(res, 200, out);
     });

  // Pool statistics for the operator: utilisation over time, peak concurrent sessions,
  // exhaustion events and the pool size that would keep utilisation at the target.
  on(route_ids::admin_pools, [&s](const httplib::Request& req, httplib::Response& res,
                                  const AdminKey* key) {
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    const Millis now = s.clock();
    const auto number_param = [&](const char* name, double fallback, double min,
                                  double max) -> std::optional<double> {
      if (!req.has_param(name)) return fallback;
      return parse_number_parameter(req.get_param_value(name), min, max);
    };
    const auto from = number_param("from", static_cast<double>(now - 7 * 24 * 3600'000LL), 0, 1e15);
    const auto to = number_param("to", static_cast<double>(now + 1), 0, 1e15);
    const auto target = number_param("target", 0.75, 0.05, 1.0);
    if (!from || !to || *from >= *to)
      return fail(res, 400, "invalid_range",
                  "from and to: milliseconds since the epoch, from before to");
    if (!target)
      return fail(res, 400, "invalid_target", "target: a utilisation between 0.05 and 1");
    Json body = Json::object();
    body["site"] = site->config.site;
    body["pools"] =
        s.pool_reports(*site, static_cast<Millis>(*from), static_cast<Millis>(*to), *target);
    s.audit(*key, "pools", site->config.site);
    reply(res, 200, body);
  });

  // The sites an admin key may report on (for the admin page).
  on(route_ids::admin_sites,
     [&s](const httplib::Request&, httplib::Response& res, const AdminKey* key) {
       Json sites = Json::array();
       for (const SiteEntry& site : s.config.sites) sites.emplace_back(site.config.site);
       Json body = Json::object();
       body["sites"] = std::move(sites);
       s.audit(*key, "sites", "");
       reply(res, 200, body);
     });

  // The site owner's report: calls per day, source and campaign; pools and their sizes.
  on(route_ids::admin_report,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey* key) {
       const SiteEntry* site = s.site(req.matches[1]);
       if (!site) return fail(res, 404, "unknown_site", "no such site");
       constexpr Millis kDay = 24 * 3600'000LL;
       const Millis today = s.clock() / kDay * kDay;
       const auto date = [&](const char* name, Millis fallback) -> std::optional<Millis> {
         return req.has_param(name) ? parse_utc_date(req.get_param_value(name))
                                    : std::optional<Millis>(fallback);
       };
       const auto from = date("from", today - 29 * kDay);
       const auto last = date("to", today);
       if (!from || !last || *from > *last || *last - *from > 366 * kDay) {
         return fail(res, 400, "invalid_range",
                     "from and to: dates YYYY-MM-DD (UTC, both included), from not after to, at "
                     "most 366 days");
       }
       const Millis to = *last + kDay;
       const std::string site_id = site->config.site;
       Json report = call_report(
           s.store->reportable_calls(site_id, *from, to), *from, to,
           [&](const std::string& hash) { return s.store->first_call_at(site_id, hash); });
       report["site"] = site_id;
       report["from"] = utc_date(*from);
       report["to"] = utc_date(*last);
       report["pools"] = s.pool_reports(*site, *from, to, 0.75);
       if (site->conversions.enabled)
         report["deliveries"] = delivery_summary(s.store->deliveries(site_id, *from, to));
       Json detail = Json::object();
       detail["from"] = utc_date(*from);
       detail["to"] = utc_date(*last);
       s.audit(*key, "report", site_id, std::move(detail));
       reply(res, 200, report);
     });

  // Data-subject rights: access, erase, restrict, unrestrict, rectify (subjects.hpp).
  on(route_ids::admin_subjects,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey* key) {
       auto body = parse_json(req.body);
       if (!body) return fail(res, 400, "invalid_json", body.error().message);
       const SubjectOutcome outcome = s.subjects->handle(
           std::string(req.matches[1]), *body, {key->id, State::has_scope(*key, Scope::callers)});
       reply(res, outcome.status, outcome.body);
     });

  // What the server holds for a site, for the operator's and the DPO's checks: origins,
  // pools, retention and what is kept of callers. Never a secret or a key.
  on(route_ids::admin_site_settings,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey* key) {
       const SiteEntry* site = s.site(req.matches[1]);
       if (!site) return fail(res, 404, "unknown_site", "no such site");
       Json origins = Json::array();
       for (const std::string& origin : site->allowed_origins) origins.emplace_back(origin);
       Json pools = Json::array();
       for (const PoolConfig& pool : site->pools) {
         Json numbers = Json::array();
         for (const PhoneNumber& n : pool.numbers) numbers.emplace_back(n.e164());
         Json p = Json::object();
         p["id"] = pool.id;
         p["numbers"] = std::move(numbers);
         p["hold_minutes"] = pool.settings.hold_ms / 60'000;
         p["cooldown_minutes"] = pool.settings.cooldown_ms / 60'000;
         p["when_exhausted"] =
             pool.settings.when_exhausted == PoolSettings::WhenExhausted::static_number
                 ? "static_number"
                 : "reuse_least_active";
         pools.push_back(std::move(p));
       }
       Json retention = Json::object();
       retention["sessions_days"] = site->retention.sessions_days;
       retention["calls_days"] = site->retention.calls_days;
       retention["audit_days"] = site->retention.audit_days;
       Json callers = Json::object();
       callers["kept"] = s.vault.has_value() && site->keep_caller_numbers;
       callers["hashed"] = s.vault.has_value();
       Json body = Json::object();
       body["site"] = site->config.site;
       body["allowed_origins"] = std::move(origins);
       body["pools"] = std::move(pools);
       body["attribution_grace_minutes"] = site->attribution_grace_ms / 60'000;
       body["retention"] = std::move(retention);
       body["callers"] = std::move(callers);
       s.audit(*key, "settings", site->config.site);
       reply(res, 200, body);
     });

  // The record of processing (GDPR Art. 30) for the configured sites, as Markdown: what
  // `callswap-server privacy-record` prints, for the DPO who holds a config-scoped key.
  on(route_ids::admin_privacy_record,
     [&s](const httplib::Request&, httplib::Response& res, const AdminKey* key) {
       s.audit(*key, "privacy-record", "");
       res.status = 200;
       res.set_content(privacy_record_markdown(s.config), "text/markdown; charset=utf-8");
     });

  // The admin page: the report with its charts, for a person with a key (scope reports).
  on(route_ids::admin_page, [](const httplib::Request&, httplib::Response& res, const AdminKey*) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    res.set_header("Cache-Control", "no-store");
    res.set_content(kAdminPage, "text/html; charset=utf-8");
  });
  on(route_ids::admin_script, [](const httplib::Request&, httplib::Response& res, const AdminKey*) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(kAdminScript, "text/javascript; charset=utf-8");
  });

  // The offline conversion import Google Ads and Microsoft Ads fetch on a schedule, with the
  // user name and password the site owner entered there (HTTP Basic, over HTTPS in front).
  on(route_ids::conversion_feed, [&s](const httplib::Request& req, httplib::Response& res,
                                      const AdminKey*) {
    const SiteEntry* site = s.site(req.matches[1]);
    const ConversionConfig* rules = site ? &site->conversions : nullptr;
    if (!rules || rules->feed_username.empty())
      return fail(res, 404, "unknown_feed", "no conversion feed for this site");
    const std::string expected =
        "Basic " + base64(rules->feed_username + ":" + rules->feed_password);
    if (!equal_in_constant_time(sha256_hex(expected),
                                sha256_hex(req.get_header_value("Authorization")))) {
      res.set_header("WWW-Authenticate", "Basic realm=\"callswap conversions\", charset=\"UTF-8\"");
      return fail(res, 401, "unauthorized",
                  "the feed's user name and password are required (HTTP Basic)");
    }
    res.set_header("Cache-Control", "no-store");
    res.status = 200;
    res.set_content(s.conversion_feed_of(*site, ad_platform(req.matches[2].str())),
                    "text/csv; charset=utf-8");
  });

  // The same file for the site owner on the report page, with the report's key, as a
  // download. It reads exactly what the platforms fetch and changes nothing: the feed marks
  // no call as exported (each call is listed once per window, and the platforms ignore a
  // conversion they already imported), so a download never takes a call from the schedule.
  on(route_ids::admin_conversion_feed, [&s](const httplib::Request& req, httplib::Response& res,
                                            const AdminKey* key) {
    const SiteEntry* site = s.site(req.matches[1]);
    if (!site) return fail(res, 404, "unknown_site", "no such site");
    if (!site->conversions.enabled)
      return fail(res, 404, "no_conversions", "this site has no conversion rules");
    const std::string platform = req.matches[2];
    Json detail = Json::object();
    detail["platform"] = platform;
    s.audit(*key, "conversion-feed", site->config.site, std::move(detail));
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition", "attachment; filename=\"" + site->config.site + '-' +
                                              platform + "-conversions-" + utc_date(s.clock()) +
                                              ".csv\"");
    res.status = 200;
    res.set_content(s.conversion_feed_of(*site, ad_platform(platform)), "text/csv; charset=utf-8");
  });

  // What went out and what did not: each delivery's state, attempts and the reason it failed
  // or was given up (never its body, which may carry a click id or a caller's number).
  on(route_ids::admin_deliveries,
     [&s](const httplib::Request& req, httplib::Response& res, const AdminKey* key) {
       const SiteEntry* site = s.site(req.matches[1]);
       if (!site) return fail(res, 404, "unknown_site", "no such site");
       const Millis now = s.clock();
       const auto bound = [&](const char* name, double fallback) -> std::optional<double> {
         return req.has_param(name) ? parse_number_parameter(req.get_param_value(name), 0, 1e15)
                                    : std::optional<double>(fallback);
       };
       const auto from = bound("from", static_cast<double>(now - 7 * 24 * 3600'000LL));
       const auto to = bound("to", static_cast<double>(now + 1));
       if (!from || !to || *from >= *to)
         return fail(res, 400, "invalid_range",
                     "from and to: milliseconds since the epoch, from before to");
       Json list = Json::array();
       for (const Delivery& d : s.store->deliveries(site->config.site, static_cast<Millis>(*from),
                                                    static_cast<Millis>(*to))) {
         Json item = Json::object();
         item["idempotency_key"] = d.idempotency_key;
         item["destination"] = d.destination;
         item["event"] = d.event;
         item["state"] = d.state;
         item["attempts"] = d.attempts;
         item["last_error"] = d.last_error;
         item["created_at"] = d.created_at;
         if (d.state == "pending") item["next_attempt_at"] = d.next_attempt_at;
         if (d.state != "pending") item["finished_at"] = d.finished_at;
         list.push_back(std::move(item));
       }
       Json body = Json::object();
       body["site"] = site->config.site;
       body["deliveries"] = std::move(list);
       s.audit(*key, "deliveries", site->config.site);
       reply(res, 200, body);
     });

  if (!s.config.static_dir.empty()) http.set_mount_point("/", s.config.static_dir);
  for (std::size_t id = 0; id < wired.size(); ++id) {
    if (!wired[id])
      throw std::logic_error("routes.hpp: no handler for " + std::string(kRoutes[id].path));
  }
}

Server::~Server() {
  stop();
}

int Server::bind_to_any_port(const std::string& host) {
  const int port = http_->bind_to_any_port(host);
  return port > 0 && http_->apply_backlog() ? port : -1;
}
bool Server::bind() {
  return http_->bind_to_port(state_->config.listen_host, state_->config.listen_port) &&
         http_->apply_backlog();
}
bool Server::listen_after_bind() {
  state_->outbox->start();
  // Each connection is a socket; the database, logs and refused connections still closing
  // need a few hundred more.
  const long wanted = state_->config.max_connections + 1024L + 64L;
  if (const long limit = HttpListener::raise_open_file_limit(wanted); limit < wanted) {
    state_->log(log_line(
        state_->clock(), LogLevel::warning,
        "the open-file limit is below what limits.max_connections needs; raise LimitNOFILE or "
        "lower max_connections",
        {{"open_files", limit}, {"wanted", wanted}}));
  }
  return http_->listen_after_bind();
}
void Server::stop() {
  http_->stop_serving();
  state_->outbox->stop();
}
bool Server::is_running() const {
  return http_->is_running();
}

void Server::expire_sessions() {
  state_->assignments->expire(state_->clock());
}

void Server::sample_pools() {
  State& s = *state_;
  const Millis now = s.clock();
  s.assignments->expire(now);
  for (const SiteEntry& site : s.config.sites) {
    for (const PoolConfig& pool : site.pools) {
      const PoolStats stats = s.assignments->stats(site.config.site, pool.id, now);
      s.store->insert_pool_sample(PoolSample{
          site.config.site, pool.id, now, static_cast<std::int64_t>(stats.active),
          static_cast<std::int64_t>(stats.size), static_cast<std::int64_t>(stats.exhausted)});
    }
  }
}

std::int64_t Server::purge(bool accept_clock) {
  State& s = *state_;
  constexpr Millis kDay = 24 * 3600'000LL;
  const Millis now = s.clock();
  // The purge measures age by the clock, so a clock that jumps would purge wrongly: forward,
  // it would delete rows long before their time; backward, it would keep them for as long as
  // the jump. So the purge keeps its own time, advanced by how far the clock moved since the
  // last purge (kept in the store): a clock far ahead holds the purge until the operator
  // confirms it (`callswap-server purge --accept-clock`); a clock gone back does not move the
  // purge's time back, and it goes on advancing with the clock from there.
  Millis effective = now;
  const Millis max_step = s.config.purge_max_step_hours * Millis{3600'000};
  if (const auto mark = s.store->purge_mark(); mark && !accept_clock) {
    const Millis moved = now - mark->clock;
    if (moved > max_step) {
      s.log(log_line(now, LogLevel::error,
                     "clock moved far ahead since the last purge: purge held; if the clock is "
                     "right, run callswap-server purge --accept-clock",
                     {{"ahead_ms", moved}, {"max_step_hours", s.config.purge_max_step_hours}}));
      return 0;
    }
    effective = mark->purged_by + std::max<Millis>(moved, 0);
    if (moved < 0 || effective != now) {
      s.log(log_line(now, LogLevel::warning,
                     "clock differs from the purge's time (it went back): purging by the purge's "
                     "time; rows stamped by this clock look older",
                     {{"purge_time_minus_clock_ms", effective - now}}));
    }
  }

  std::vector<std::string> sites;
  for (const SiteEntry& site : s.config.sites) sites.push_back(site.config.site);
  for (std::string& site : s.store->sites_with_data()) {
    if (std::find(sites.begin(), sites.end(), site) == sites.end())
      sites.push_back(std::move(site));
  }
  std::int64_t total = 0;
  int longest_calls_days = s.config.default_retention.calls_days;
  for (const std::string& site_id : sites) {
    const SiteEntry* site = s.site(site_id);
    const Retention& keep = site ? site->retention : s.config.default_retention;
    longest_calls_days = std::max(longest_calls_days, keep.calls_days);
    Store::PurgeCutoffs cutoffs;
    cutoffs.sessions_before = effective - keep.sessions_days * kDay;
    cutoffs.calls_before = effective - keep.calls_days * kDay;
    cutoffs.audit_before = effective - keep.audit_days * kDay;
    cutoffs.tombstones_before = cutoffs.calls_before;
    cutoffs.deliveries_before = cutoffs.calls_before;
    const auto purged = s.store->purge(site_id, cutoffs);
    total += purged.sessions + purged.calls + purged.samples + purged.audit + purged.tombstones +
             purged.deliveries;
    s.log(log_line(now, LogLevel::info, "retention purge",
                   {{"site", site_id},
                    {"configured", site != nullptr},
                    {"sessions", purged.sessions},
                    {"calls", purged.calls},
                    {"samples", purged.samples},
                    {"audit", purged.audit},
                    {"tombstones", purged.tombstones},
                    {"deliveries", purged.deliveries}}));
  }
  // A restriction marker lives while calls it restricted may still be stored.
  total += s.store->purge_restrictions(effective - longest_calls_days * kDay);
  s.store->set_purge_mark({effective, now});
  // What the purge deleted must not stay readable in the write-ahead log either.
  if (total > 0) s.store->scrub();
  return total;
}

SubjectOutcome Server::subject(std::string_view action, const Json& request,
                               const std::string& actor) {
  // The operator at the machine's console sees callers' numbers in clear, as the keys allow.
  return state_->subjects->handle(action, request, {actor, true});
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
  s.log(log_line(s.clock(), LogLevel::info, "caller numbers re-sealed",
                 {{"key", s.vault->current_key_id()}, {"calls", count}, {"left", left}}));
  return count;
}

void Server::set_log_sink(std::function<void(const std::string&)> sink) {
  state_->log = std::move(sink);
}

}  // namespace callswap::server
