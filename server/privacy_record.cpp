#include "privacy_record.hpp"

#include <algorithm>

namespace callswap::server {
namespace {

// Config values go into Markdown as text, never as markup: a '|' would split a table cell.
std::string text(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (std::string_view("\\`*_[]<>|#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// A config value as inline code: a fence longer than any run of backticks inside it.
std::string code(std::string_view value) {
  std::size_t longest = 0;
  std::size_t run = 0;
  for (char c : value) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = value.starts_with('`') || value.ends_with('`');
  return fence + (pad ? " " : "") + std::string(value) + (pad ? " " : "") + fence;
}

std::string rate(const RateLimit& limit, std::string_view what, std::string_view field) {
  if (limit.per_minute == 0) return std::string(what) + " off (`" + std::string(field) + ": 0`)";
  return std::string(what) + " " + std::to_string(limit.per_minute) + " a minute (bursts of " +
         std::to_string(limit.burst) + ")";
}

std::string days(int n) {
  return std::to_string(n) + (n == 1 ? " day" : " days");
}

std::string minutes(Millis ms) {
  const auto n = ms / 60'000;
  return std::to_string(n) + (n == 1 ? " minute" : " minutes");
}

std::string joined(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

bool has_dynamic_numbers(const SiteEntry& site) {
  return std::any_of(site.config.sources.begin(), site.config.sources.end(),
                     [](const Source& s) { return !s.pool.empty(); });
}

std::string consent_basis(const SiteEntry& site) {
  std::vector<std::string> signals;
  for (ConsentPlatform p : site.config.consent.signals)
    signals.push_back(std::string("`") + to_string(p) + "`");
  return "consent, Art. 6(1)(a) GDPR and Art. 5(3) ePrivacy Directive: " +
         std::string(site.config.consent.require == ConsentConfig::Require::any ? "any of "
                                                                                : "all of ") +
         joined(signals) + " (`config.consent`); a withdrawal erases the session at once";
}

std::string calls_basis(const SiteEntry& site) {
  switch (site.calls_legal_basis) {
    case SiteEntry::CallsLegalBasis::legitimate_interest:
      return "legitimate interest, Art. 6(1)(f) GDPR (`legal_basis.calls`): knowing which "
             "advertising brings calls; "
             "*to complete*: the balancing test";
    case SiteEntry::CallsLegalBasis::consent:
      return "consent, Art. 6(1)(a) GDPR (`legal_basis.calls`): *to complete*: how callers give it "
             "(for example an "
             "announcement before the call is connected)";
    case SiteEntry::CallsLegalBasis::contract:
      return "performance of a contract, Art. 6(1)(b) GDPR (`legal_basis.calls`)";
  }
  return {};
}

std::string caller_number_kept(const OperatorConfig& config, const SiteEntry& site) {
  if (!config.caller_keys) return "not kept: the config has no `caller_numbers` keys";
  if (!site.keep_caller_numbers) {
    return "only a keyed hash (HMAC-SHA256), never the number itself (`keep_caller_numbers: "
           "false`)";
  }
  return "encrypted (AES-256-GCM, stored with its key id) and a keyed hash (HMAC-SHA256); withheld "
         "numbers are not kept";
}

void site_section(std::string& out, const OperatorConfig& config, const SiteEntry& site) {
  const auto& keep = site.retention;
  const bool dynamic = has_dynamic_numbers(site);
  // Click id values reach the server with the visitor's consent to advertising, or with
  // session.keep_click_ids.
  const bool click_ids =
      site.config.session.keep_click_ids || !site.config.consent.advertising.empty();
  const bool twilio = !config.twilio_auth_token.empty();
  const bool generic = !config.calls_secret.empty();

  out += "\n## Site " + code(site.config.site) + "\n\n";
  std::vector<std::string> origins;
  for (const std::string& o : site.allowed_origins) origins.push_back(text(o));
  out += "Pages: " +
         (origins.empty() ? std::string("no allowed origins (no browser may create sessions)")
                          : joined(origins)) +
         ". Sources: " + std::to_string(site.config.sources.size()) + ".";
  if (dynamic) {
    std::vector<std::string> pools;
    for (const PoolConfig& pool : site.pools)
      pools.push_back(text(pool.id) + " (" + std::to_string(pool.numbers.size()) + " numbers)");
    out += " Pools of dynamic numbers: " + joined(pools) + ".";
  } else {
    out += " No source has a pool: only static numbers, no sessions.";
  }
  out += "\n";

  out += "\n### Purposes and legal bases\n\n";
  out += "| processing | purpose | legal basis | data subjects |\n| --- | --- | --- | --- |\n";
  out +=
      "| static number by source | show each visit the number of its marketing source, so calls "
      "are counted per source | "
      "none needed: the number is chosen in the visitor's browser; nothing about the visitor is "
      "stored or sent | website visitors |\n";
  if (dynamic) {
    out +=
        "| dynamic number per visit (session) | tie a call to the visit (source, campaign, landing "
        "page) that showed the number | " +
        consent_basis(site) + " | website visitors who consent |\n";
  }
  out +=
      "| call records | report which sources and campaigns bring calls and first-time callers; "
      "answer data-subject requests | " +
      calls_basis(site) + " | callers to the site's tracking numbers |\n";
  out +=
      "| audit log | accountability for admin actions and data-subject requests (Art. 5(2) GDPR) | "
      "legitimate interest, "
      "Art. 6(1)(f) GDPR | staff holding admin keys (by key id) |\n";
  out += "| pool statistics | size the pools | none needed: counts, no personal data | none |\n";

  out += "\n### Categories of data and retention\n\n";
  out += "| where | data | kept |\n| --- | --- | --- |\n";
  if (dynamic) {
    out +=
        "| server table `sessions` (with consent only) | session id (random, 128 bits), source, "
        "campaign details (`utm_*`, the name "
        "of a click id; click id values: " +
        std::string(
            !click_ids ? "not kept"
            : site.config.session.keep_click_ids
                ? "kept (`session.keep_click_ids`)"
                : "kept with the visitor's consent to advertising (`consent.advertising`)") +
        "), landing page path with only its `utm_*` parameters, the tracking number, start, last "
        "activity and end times | " +
        days(keep.sessions_days) +
        " after the last activity of an ended session (`retention.sessions_days`); erased at once "
        "when consent is withdrawn |\n";
    std::vector<std::string> holds;
    for (const PoolConfig& pool : site.pools)
      holds.push_back(text(pool.id) + ": " + minutes(pool.settings.hold_ms));
    out += "| the visitor's browser: " +
           std::string(site.config.session.storage == SessionStorage::cookie
                           ? "first-party cookie `callswap`"
                           : "`localStorage` key `callswap`") +
           " (with consent only) | the session id, the number, the source | until the number's "
           "hold ends after the last heartbeat (" +
           joined(holds) + "); deleted at once when consent is withdrawn |\n";
  }
  out +=
      "| server table `calls` | provider call id, number dialled, status, duration, start time, "
      "attributed source, campaign" +
      std::string(dynamic ? " and session (the link is cut when the session is deleted)" : "") +
      " | " + days(keep.calls_days) + " (`retention.calls_days`) |\n";
  out += "| server table `calls`: the caller's number | " + caller_number_kept(config, site) +
         " | with the call |\n";
  out +=
      "| server table `audit` | admin key id, action, site, time, counts of sessions and calls "
      "affected; no phone number, no session "
      "id | " +
      days(keep.audit_days) + " (`retention.audit_days`) |\n";
  out += "| server table `pool_samples` | numbers in use per pool and minute; no personal data | " +
         days(keep.calls_days) + " (with the calls) |\n";
  out += "| server table `erased_calls` | " +
         std::string(config.caller_keys ? "a keyed hash (HMAC-SHA256)" : "a SHA-256 hash") +
         " of each erased call's provider id, so a replayed webhook stores nothing; no phone "
         "number | " +
         days(keep.calls_days) + " after the erasure |\n";
  if (config.caller_keys) {
    out +=
        "| server table `restricted_callers` | a keyed hash of each caller whose processing is "
        "restricted (Art. 18) | " +
        days(keep.calls_days) + " after it last applied, or when lifted or erased |\n";
  }
  out +=
      "| server table `number_releases` | when each pool number was last released; no personal "
      "data | while the number is configured |\n";
  out += "\nNever stored: IP addresses, user agents, full URLs, referrers, fingerprints" +
         std::string(click_ids ? "" : ", click id values") +
         ". The server sets no cookies; its logs hold route patterns and status codes, never a "
         "session id or a phone number.\n";

  out += "\n### Recipients\n\n";
  if (twilio) {
    out +=
        "- Twilio, the telephony provider (a processor of the site owner): sends signed call "
        "status callbacks to " +
        text(config.public_url) +
        "/v1/webhooks/twilio and holds the call data, the caller's number included, in its own "
        "systems. "
        "*To complete*: the data processing agreement with Twilio.\n";
  }
  if (generic) {
    out +=
        "- The telephony provider that sends the generic call webhook (/v1/webhooks/calls, signed "
        "with HMAC-SHA256): "
        "*to complete*: its name and the data processing agreement.\n";
  }
  if (!twilio && !generic)
    out += "- No telephony provider: no call webhook is configured, so no calls are recorded.\n";
  for (const AdminKey& key : config.admin_keys) {
    std::vector<std::string> scopes;
    for (const std::string& scope : key.scopes) scopes.push_back(text(scope));
    out += "- Staff holding the admin key " + code(key.id) + " (scopes: " + joined(scopes) + ").\n";
  }
  const ConversionConfig& conversions = site.conversions;
  if (!conversions.feed_username.empty()) {
    out +=
        "- Google Ads and Microsoft Advertising (advertising platforms): fetch the offline "
        "conversion feeds, which list the ad click id (kept only with the visitor's consent to "
        "advertising), the conversion name, time and value of converting calls. *To complete*: "
        "the site owner's agreement with each platform.\n";
  }
  if (conversions.ga4) {
    out += "- Google Analytics (GA4 property of " + code(conversions.ga4->measurement_id) +
           "): receives an event per converting call with the GA client id (kept only with the "
           "visitor's consent to analytics), the call's duration and source; never the caller.\n";
  }
  for (const WebhookDestination& hook : conversions.webhooks) {
    out += "- The site owner's endpoint " + code(hook.url) + " (webhook " + code(hook.id) +
           "): signed call events with source, campaign and the click id when consented" +
           std::string(hook.caller_number_key.empty() ? "" : ", and the caller's number") + ".\n";
  }
  if (!conversions.enabled)
    out += "- No one else: callswap sends nothing to analytics or advertising platforms.\n";

  out += "\n### International transfers\n\n";
  out +=
      "- callswap itself: none. The database stays where this server runs; *to complete*: the "
      "hosting location.\n";
  if (twilio) {
    out +=
        "- Twilio is a US company: *to complete*: where it processes the call data and the "
        "transfer mechanism in the contract "
        "(for example the EU-US Data Privacy Framework or standard contractual clauses).\n";
  }
  if (generic) {
    out +=
        "- The generic webhook's provider: *to complete*: its location and, outside the EEA, the "
        "transfer mechanism.\n";
  }

  out += "\n### Technical and organisational measures (Art. 32)\n\n";
  if (config.caller_keys) {
    std::vector<std::string> ids;
    for (const CallerKeys::Key& key : config.caller_keys->keys) {
      ids.push_back(code(key.id) + (key.id == config.caller_keys->current ? " (current)" : ""));
    }
    if (site.keep_caller_numbers) {
      out += "- Caller numbers encrypted with AES-256-GCM under keys " + joined(ids) +
             "; each value is stored with its key id, and `callswap-server rotate-key` re-encrypts "
             "under the current key.\n";
    }
    out +=
        "- Callers are found by a keyed hash (HMAC-SHA256) with a key of its own, without "
        "decrypting anything.\n";
  } else {
    out += "- Caller numbers are not kept at all (no `caller_numbers` keys).\n";
  }
  out +=
      "- Masking: in answers to data-subject requests a caller's number is masked (`+49 151 "
      "*****678`) unless the admin key has the `callers` scope; reports hold counts, never a "
      "caller's number.\n";
  out +=
      "- Erasure reaches the disk: SQLite's `secure_delete` overwrites deleted rows; after an "
      "erasure, a withdrawal or a purge that deleted anything the write-ahead log is emptied "
      "into the file, and erasures and withdrawals are acknowledged only once durable.\n";
  out += "- A purge moves on by at most " + std::to_string(config.purge_max_step_hours) +
         " hours (`purge.max_step_hours`) since its last run unless `callswap-server purge "
         "--accept-clock` says so, so a clock that jumps forward deletes nothing early.\n";
  out +=
      "- Retention is enforced: what is older than the periods above is deleted at start and then "
      "hourly (`callswap-server purge` "
      "does it once, for cron).\n";
  out +=
      "- No IP address or user agent is stored; the rate limiter counts per address in memory "
      "only.\n";
  out += "- Rate limits per client address: " +
         rate(config.visitor_rate, "visitors' endpoints", "limits.rate_per_minute") + "; " +
         rate(config.admin_rate, "admin API (also per key)", "limits.admin_rate_per_minute") +
         "; " + rate(config.webhook_rate, "call webhooks", "limits.webhook_rate_per_minute") +
         ".\n";
  out +=
      "- Admin API keys are stored only as SHA-256 hashes and carry scopes; every admin action is "
      "in the audit log.\n";
  if (twilio || generic) {
    out += "- Call webhooks are signed" + std::string(twilio ? " (Twilio's signature)" : "") +
           (generic ? std::string(twilio ? " or" : "") +
                          " with HMAC-SHA256 over a timestamp, replays older than " +
                          std::to_string(config.replay_window_seconds) + " seconds refused"
                    : std::string()) +
           ".\n";
  }
  out += "- Browsers may create sessions only from the site's allowed origins (CORS).\n";
  out +=
      "- *To complete*: TLS at the reverse proxy in front of the server, backups (encrypted, kept "
      "no longer than the "
      "retention periods), access to the server.\n";
}

}  // namespace

std::string privacy_record_markdown(const OperatorConfig& config) {
  std::string out = "# Record of processing activities (GDPR Art. 30)\n\n";
  out +=
      "Generated by `callswap-server privacy-record` from the operator config: it describes what "
      "this server is set up to do. "
      "Regenerate it after every change to the config. Items marked *to complete* need facts the "
      "config does not hold.\n\n";
  out +=
      "- Controller: *to complete*: the site owner's name and contact details, their "
      "representative and data protection "
      "officer.\n";
  out +=
      "- Processor: *to complete*: who runs this server, if not the controller (then a data "
      "processing agreement, Art. 28).\n";
  out += "- System: callswap-server with its SQLite database " + code(config.database) +
         (config.public_url.empty() ? std::string() : ", reached at " + text(config.public_url)) +
         ".\n";
  std::vector<std::string> sites;
  for (const SiteEntry& site : config.sites) sites.push_back(code(site.config.site));
  out += "- Sites: " + joined(sites) + ".\n";
  out +=
      "- Rows of no site (admin actions not about a site) and of sites no longer configured: "
      "kept by the top-level `retention` (audit entries " +
      days(config.default_retention.audit_days) + ").\n";
  for (const SiteEntry& site : config.sites) site_section(out, config, site);
  return out;
}

}  // namespace callswap::server
