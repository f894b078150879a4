// The operator config's relation to files: paths resolved against the config file's folder,
// site configs read from files, and the folders a running server needs. Apart from
// operator_config.cpp, whose field reader must not meet <filesystem>'s std::quoted.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config_reader.hpp"
#include "operator_config.hpp"

namespace callswap::server {
namespace {

// SQLite's special names are not files in a folder.
bool is_file_path(std::string_view database) {
  return !database.empty() && !database.starts_with(':') && !database.starts_with("file:") &&
         database.find("://") == std::string_view::npos;  // a store URL is no file path
}

void resolve_path_field(Json& o, const std::string& key, const std::filesystem::path& folder) {
  const Json* v = member(o, key);
  if (!v || !v->is_string() || !is_file_path(v->get_ref<const std::string&>())) return;
  const std::filesystem::path path(v->get<std::string>());
  if (path.is_relative()) o[key] = (folder / path).lexically_normal().string();
}

std::string in_quotes(const std::string& text) {
  return config_reader::quoted(std::string_view(text));
}

}  // namespace

std::vector<ConfigError> resolve_config_references(Json& document, const std::string& config_file) {
  std::vector<ConfigError> errors;
  if (!document.is_object()) return errors;  // load_operator_document names that error
  const std::filesystem::path folder = std::filesystem::absolute(config_file).parent_path();
  resolve_path_field(document, "database", folder);
  resolve_path_field(document, "static_dir", folder);
  const auto sites = document.find("sites");
  if (sites == document.end() || !sites->is_array()) return errors;
  for (std::size_t i = 0; i < sites->size(); ++i) {
    Json& site_entry = (*sites)[i];
    const Json* reference = member(site_entry, "config");
    if (!reference || !reference->is_string()) continue;
    const std::string where = config_reader::index_path("sites", i) + ".config";
    const std::filesystem::path file = (folder / reference->get<std::string>()).lexically_normal();
    std::ifstream in(file);
    std::ostringstream text;
    if (!std::filesystem::is_regular_file(file) || !(text << in.rdbuf())) {
      errors.push_back({where, "cannot read the site config file " + file.string()});
      continue;
    }
    auto site = parse_json(text.str());
    if (!site) {
      errors.push_back({where, file.string() + ": " + site.error().message});
      continue;
    }
    site_entry["config"] = std::move(*site);
  }
  return errors;
}

std::vector<ConfigError> check_operator_files(const OperatorConfig& config) {
  std::vector<ConfigError> errors;
  std::error_code ec;
  if (!config.static_dir.empty() && !std::filesystem::is_directory(config.static_dir, ec)) {
    errors.push_back(
        {"static_dir", "the folder " + in_quotes(config.static_dir) + " does not exist"});
  }
  if (config.store_url.empty() && is_file_path(config.database)) {
    const std::filesystem::path folder = std::filesystem::absolute(config.database).parent_path();
    if (!std::filesystem::is_directory(folder, ec)) {
      errors.push_back(
          {"database", "the folder " + in_quotes(folder.string()) +
                           " does not exist (the database file is created, its folder is not)"});
    } else if (access(folder.c_str(), W_OK | X_OK) != 0) {
      errors.push_back(
          {"database", "the folder " + in_quotes(folder.string()) +
                           " cannot be written (SQLite keeps its journal next to the file)"});
    }
  }
  return errors;
}

}  // namespace callswap::server
