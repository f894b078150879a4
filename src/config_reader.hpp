#pragma once
/// \file Reading typed fields out of a JSON config while collecting every error with its
/// path ("sources[2].static: ..."). Shared by the site config and the server's operator
/// config, so both report errors the same way.

#include <algorithm>
#include <callswap/config.hpp>
#include <callswap/json.hpp>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callswap::config_reader {

inline std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
inline std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

inline std::string quoted(std::string_view s) {
  std::string out;
  json::write_string(out, s);
  return out;
}

// Reads typed fields out of JSON objects and collects every error with its path.
class Reader {
 public:
  explicit Reader(std::vector<ConfigError>& errors) : errors_(errors) {}

  void error(std::string path, std::string message) {
    errors_.push_back({std::move(path), std::move(message)});
  }
  [[nodiscard]] std::size_t error_count() const { return errors_.size(); }

  const json::Object* object(const json::Value& v, const std::string& path,
                             std::initializer_list<std::string_view> known) {
    if (!v.is_object()) {
      error(path, std::string("must be an object, not ") + v.type_name());
      return nullptr;
    }
    const json::Object& o = v.as_object();
    for (const std::string& key : o.keys) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        error(join_path(path, key), "unknown field");
      }
    }
    return &o;
  }

  const json::Value* field(const json::Object& o, const std::string& path, std::string_view key,
                           bool required) {
    const json::Value* v = o.find(key);
    if (!v && required) error(join_path(path, key), "is required");
    return v;
  }

  std::optional<std::string> string(const json::Object& o, const std::string& path,
                                    std::string_view key, bool required) {
    const json::Value* v = field(o, path, key, required);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      error(join_path(path, key), std::string("must be a string, not ") + v->type_name());
      return std::nullopt;
    }
    return v->as_string();
  }

  std::optional<bool> boolean(const json::Object& o, const std::string& path,
                              std::string_view key) {
    const json::Value* v = field(o, path, key, false);
    if (!v) return std::nullopt;
    if (!v->is_bool()) {
      error(join_path(path, key), std::string("must be true or false, not ") + v->type_name());
      return std::nullopt;
    }
    return v->as_bool();
  }

  std::optional<int> integer(const json::Object& o, const std::string& path, std::string_view key,
                             int min, int max) {
    const json::Value* v = field(o, path, key, false);
    if (!v) return std::nullopt;
    return integer_value(*v, join_path(path, key), min, max);
  }

  std::optional<int> integer_value(const json::Value& v, const std::string& path, int min,
                                   int max) {
    if (!v.is_number() || v.as_number() != std::floor(v.as_number())) {
      error(path, std::string("must be a whole number, not ") +
                      (v.is_number() ? "a fraction" : v.type_name()));
      return std::nullopt;
    }
    if (v.as_number() < min || v.as_number() > max) {
      error(path, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      ", not " + v.dump());
      return std::nullopt;
    }
    return static_cast<int>(v.as_number());
  }

  // An array of non-empty, distinct strings.
  std::optional<std::vector<std::string>> strings(const json::Object& o, const std::string& path,
                                                  std::string_view key, bool required,
                                                  bool allow_empty_list) {
    const json::Value* v = field(o, path, key, required);
    if (!v) return std::nullopt;
    return strings_value(*v, join_path(path, key), allow_empty_list);
  }

  std::optional<std::vector<std::string>> strings_value(const json::Value& v,
                                                        const std::string& path,
                                                        bool allow_empty_list) {
    if (!v.is_array()) {
      error(path, std::string("must be an array of strings, not ") + v.type_name());
      return std::nullopt;
    }
    if (v.as_array().empty() && !allow_empty_list) {
      error(path, "must not be empty");
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
      const json::Value& item = v.as_array()[i];
      if (!item.is_string() || item.as_string().empty()) {
        error(index_path(path, i), item.is_string()
                                       ? "must not be empty"
                                       : std::string("must be a string, not ") + item.type_name());
        ok = false;
      } else if (std::find(out.begin(), out.end(), item.as_string()) != out.end()) {
        error(index_path(path, i), config_reader::quoted(item.as_string()) + " is listed twice");
        ok = false;
      } else {
        out.push_back(item.as_string());
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  template <class Enum, std::size_t N>
  std::optional<Enum> choice(const json::Value& v, const std::string& path,
                             const std::pair<std::string_view, Enum> (&options)[N]) {
    std::string list;
    for (const auto& [name, value] : options) {
      if (v.is_string() && v.as_string() == name) return value;
      list += (list.empty() ? "" : ", ") + config_reader::quoted(name);
    }
    error(path,
          (v.is_string() ? config_reader::quoted(v.as_string()) : std::string(v.type_name())) +
              " is not one of " + list);
    return std::nullopt;
  }

 private:
  std::vector<ConfigError>& errors_;
};

}  // namespace callswap::config_reader
