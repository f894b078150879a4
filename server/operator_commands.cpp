#include "operator_commands.hpp"

#include <callswap/version.hpp>
#include <cctype>
#include <filesystem>
#include <sstream>

#include "crypto.hpp"
#include "json_text.hpp"

namespace callswap::server {
namespace {

std::string minutes(Millis ms) {
  return std::to_string(ms / 60'000) + " min";
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

// A secret the config reads from the environment: {"env": "NAME"}.
Json env_reference(const std::string& name) {
  Json reference = Json::object();
  reference["env"] = name;
  return reference;
}

}  // namespace

std::unique_ptr<Store> open_configured_store(const OperatorConfig& config) {
  if (config.store_url.empty()) return open_sqlite_store(config.database);
  return open_postgres_store(config.store_url, config.store_password);
}

std::string describe_operator_config(const OperatorConfig& config) {
  std::ostringstream out;
  std::error_code ec;
  out << "listen      " << config.listen_host << ":" << config.listen_port << "\n";
  if (config.store_url.empty()) {
    out << "database    " << config.database
        << (std::filesystem::exists(config.database, ec) ? " (exists)" : " (created at start)")
        << "\n";
  } else {
    out << "database    PostgreSQL " << config.store_url << " (schema migrated at start)\n";
  }
  if (config.static_dir.empty()) {
    out << "static      none (the SDK files are served elsewhere)\n";
  } else {
    out << "static      " << config.static_dir << " at /";
    // The files a page's script tag needs (the second module for sites with pools or an
    // inline config); a missing one is worth seeing before pages break.
    for (const char* file : {"callswap.js", "callswap.wasm", "callswap-decide.wasm"}) {
      if (!std::filesystem::exists(std::filesystem::path(config.static_dir) / file, ec))
        out << " (" << file << " is missing)";
    }
    out << "\n";
  }
  out << "public_url  " << (config.public_url.empty() ? "none" : config.public_url) << "\n";
  for (const SiteEntry& site : config.sites) {
    out << "site " << site.config.site << ": " << site.config.sources.size()
        << " sources, config at /v1/sites/" << site.config.site << "/config, origins "
        << joined(site.allowed_origins) << "\n";
    for (const PoolConfig& pool : site.pools) {
      out << "  pool " << pool.id << ": " << pool.numbers.size() << " numbers, hold "
          << minutes(pool.settings.hold_ms) << ", cool-down " << minutes(pool.settings.cooldown_ms)
          << "\n";
    }
    out << "  retention " << site.retention.sessions_days << " / " << site.retention.calls_days
        << " / " << site.retention.audit_days << " days (sessions / calls / audit), caller numbers "
        << (!config.caller_keys        ? "not kept"
            : site.keep_caller_numbers ? "sealed"
                                       : "hashed only")
        << "\n";
  }
  std::vector<std::string> admin_keys;
  for (const AdminKey& key : config.admin_keys)
    admin_keys.push_back(key.id + " (" + joined(key.scopes) + ")");
  out << "admin keys  " << joined(admin_keys) << "\n";
  if (config.caller_keys) {
    out << "caller keys " << config.caller_keys->keys.size() << ", current "
        << config.caller_keys->current << "\n";
  }
  std::vector<std::string> webhooks;
  if (!config.twilio_auth_token.empty()) webhooks.push_back("/v1/webhooks/twilio");
  if (!config.calls_secret.empty()) webhooks.push_back("/v1/webhooks/calls");
  out << "webhooks    " << joined(webhooks) << "\n";
  return out.str();
}

std::string fresh_keys(const std::string& key_id) {
  // Environment variable names allow letters, digits and '_' only.
  std::string key_variable = "CALLSWAP_CALLER_KEY_";
  for (const char c : key_id)
    key_variable +=
        std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  const std::string admin_key = random_hex(32);

  Json caller_key = Json::object();
  caller_key["id"] = key_id;
  caller_key["key"] = env_reference(key_variable);
  Json caller_numbers = Json::object();
  caller_numbers["keys"] = Json::array({std::move(caller_key)});
  caller_numbers["current"] = key_id;
  caller_numbers["hash_key"] = env_reference("CALLSWAP_CALLER_HASH_KEY");
  Json admin = Json::object();
  admin["id"] = "admin";
  admin["sha256"] = sha256_hex(admin_key);
  admin["scopes"] = Json::array({"reports", "subjects", "config"});
  Json webhooks = Json::object();
  webhooks["calls_secret"] = env_reference("CALLSWAP_CALLS_SECRET");

  std::ostringstream out;
  out << "# Fresh keys from callswap-server " << kVersion
      << " (the operating system's random generator).\n"
      << "# 1. The server's environment, and nowhere else (e.g. a systemd EnvironmentFile= "
         "readable\n"
      << "#    by the service user only). Keep a backup: sealed caller numbers die with their "
         "key.\n"
      << key_variable << "=" << random_hex(32) << "\n"
      << "CALLSWAP_CALLER_HASH_KEY=" << random_hex(32) << "\n"
      << "CALLSWAP_CALLS_SECRET=" << random_hex(32) << "\n"
      << "# 2. The admin key, for whoever reads reports and answers data-subject requests\n"
      << "#    (\"Authorization: Bearer <key>\", or the admin page). The config keeps only its "
         "SHA-256.\n"
      << "CALLSWAP_ADMIN_KEY=" << admin_key << "\n"
      << "# 3. These fields of the operator config refer to them:\n";
  Json fields = Json::object();
  fields["caller_numbers"] = std::move(caller_numbers);
  fields["admin_keys"] = Json::array({std::move(admin)});
  fields["webhooks"] = std::move(webhooks);
  out << dump_json(fields) << "\n";
  return out.str();
}

}  // namespace callswap::server
