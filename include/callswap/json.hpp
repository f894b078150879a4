#pragma once
/// \file A small strict JSON (RFC 8259) reader and writer, kept for the browser.
/// The core's site config reader (config.cpp), consent signals (consent.cpp), sessions
/// (session.cpp) and attribution (attribution.cpp) use it because the second browser module
/// (wasm/decide.cpp) validates an inline site config and reads consent signals with that code,
/// and nlohmann_json would cost more wasm there than the whole matcher. The server and the CLI
/// use nlohmann_json; the server converts at the boundary (server/json_text.hpp).

#include <callswap/expected.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace callswap::json {

class Value;

/// An object keeps its members in document order; duplicate keys are rejected by parse().
struct Object {
  std::vector<std::string> keys;
  std::vector<Value> values;

  [[nodiscard]] const Value* find(std::string_view key) const;
  void set(std::string key, Value value);
  [[nodiscard]] std::size_t size() const { return keys.size(); }
};

using Array = std::vector<Value>;

class Value {
 public:
  enum class Type { null, boolean, number, string, array, object };

  Value() = default;
  Value(std::nullptr_t) {}                              // NOLINT(google-explicit-constructor)
  Value(bool b) : data_(b) {}                           // NOLINT(google-explicit-constructor)
  Value(double n) : data_(n) {}                         // NOLINT(google-explicit-constructor)
  Value(int n) : data_(static_cast<double>(n)) {}       // NOLINT(google-explicit-constructor)
  Value(std::string s) : data_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  Value(const char* s) : data_(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  Value(std::string_view s) : data_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Value(Array a) : data_(std::move(a)) {}               // NOLINT(google-explicit-constructor)
  Value(Object o) : data_(std::move(o)) {}              // NOLINT(google-explicit-constructor)

  [[nodiscard]] Type type() const { return static_cast<Type>(data_.index()); }
  [[nodiscard]] bool is_null() const { return type() == Type::null; }
  [[nodiscard]] bool is_bool() const { return type() == Type::boolean; }
  [[nodiscard]] bool is_number() const { return type() == Type::number; }
  [[nodiscard]] bool is_string() const { return type() == Type::string; }
  [[nodiscard]] bool is_array() const { return type() == Type::array; }
  [[nodiscard]] bool is_object() const { return type() == Type::object; }

  [[nodiscard]] bool as_bool() const { return std::get<bool>(data_); }
  [[nodiscard]] double as_number() const { return std::get<double>(data_); }
  [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(data_); }
  [[nodiscard]] const Array& as_array() const { return std::get<Array>(data_); }
  [[nodiscard]] const Object& as_object() const { return std::get<Object>(data_); }
  Array& as_array() { return std::get<Array>(data_); }
  Object& as_object() { return std::get<Object>(data_); }

  /// The member `key` of an object, or nullptr (also when this is not an object).
  [[nodiscard]] const Value* find(std::string_view key) const {
    return is_object() ? as_object().find(key) : nullptr;
  }

  /// Compact JSON text. Strings are written as UTF-8 with the required escapes.
  [[nodiscard]] std::string dump() const;

  /// "a string", "a number", ... for error messages.
  [[nodiscard]] const char* type_name() const;

 private:
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> data_;
};

/// Parses one JSON document. Errors name the line and column.
Expected<Value> parse(std::string_view text, std::size_t max_depth = 64);

/// Appends `text` to `out` as a JSON string literal (quotes included).
void write_string(std::string& out, std::string_view text);

}  // namespace callswap::json
