#include "json_text.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_set>
#include <vector>

namespace callswap::server {
namespace {

// nlohmann's parser reads through an iterator a byte at a time; this one remembers how far it
// got, because the SAX events carry no position and a duplicate member or too deep nesting
// should still be reported where it is.
class TrackedChars {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackedChars(const char* at, const char** reached) : at_(at), reached_(reached) {}
  reference operator*() const { return *at_; }
  TrackedChars& operator++() {
    *reached_ = ++at_;
    return *this;
  }
  TrackedChars operator++(int) {
    TrackedChars before = *this;
    ++*this;
    return before;
  }
  bool operator==(const TrackedChars& other) const { return at_ == other.at_; }

 private:
  const char* at_;
  const char** reached_;
};

// Builds the document with nlohmann's own DOM builder and adds what its strict mode lacks: a
// depth limit and duplicate member names (nlohmann keeps the last one silently).
class StrictHandler {
 public:
  StrictHandler(Json& out, std::size_t max_depth) : dom_(out, false), max_depth_(max_depth) {}

  bool null() { return value() && dom_.null(); }
  bool boolean(bool b) { return value() && dom_.boolean(b); }
  bool number_integer(Json::number_integer_t n) { return value() && dom_.number_integer(n); }
  bool number_unsigned(Json::number_unsigned_t n) { return value() && dom_.number_unsigned(n); }
  bool number_float(Json::number_float_t n, const Json::string_t& text) {
    return value() && dom_.number_float(n, text);
  }
  bool string(Json::string_t& s) { return value() && dom_.string(s); }
  bool binary(Json::binary_t& b) { return dom_.binary(b); }
  bool start_object(std::size_t n) {
    if (!value()) return false;
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(Json::string_t& k) {
    if (!keys_.back().insert(k).second) return fail("duplicate member \"" + k + "\"");
    return dom_.key(k);
  }
  bool end_object() {
    keys_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (!value()) return false;
    ++open_arrays_;
    return dom_.start_array(n);
  }
  bool end_array() {
    --open_arrays_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& e) {
    error_position_ = position;
    error_ = reason(e.what());
    return dom_.parse_error(position, last_token, e);
  }

  [[nodiscard]] const std::string& error() const { return error_; }
  /// Where nlohmann's own error was found (bytes read), or 0 for one of this handler's.
  [[nodiscard]] std::size_t error_position() const { return error_position_; }

 private:
  // Every value counts: a scalar inside max_depth arrays is as deep as an array would be.
  bool value() {
    if (keys_.size() + open_arrays_ >= max_depth_) return fail("nested too deeply");
    return true;
  }
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }

  // nlohmann's message without its "[json.exception...] parse error at line L, column C: "
  // prefix (the caller adds the position in its own words) and without the "last read: '...'"
  // it ends with: an error text may be logged, and the input may hold personal data.
  static std::string reason(std::string_view what) {
    if (what.starts_with("[json.exception.out_of_range.406]")) return "number out of range";
    if (const std::size_t bracket = what.find("] "); bracket != std::string_view::npos)
      what.remove_prefix(bracket + 2);
    if (what.starts_with("parse error")) {
      if (const std::size_t colon = what.find(": "); colon != std::string_view::npos)
        what.remove_prefix(colon + 2);
    }
    if (const std::size_t last = what.find("; last read:"); last != std::string_view::npos)
      what = what.substr(0, last);
    return std::string(what);
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::size_t max_depth_;
  std::vector<std::unordered_set<std::string>> keys_;  // the member names of each open object
  std::size_t open_arrays_ = 0;
  std::string error_;
  std::size_t error_position_ = 0;
};

// Line and column (1-based, a column counting UTF-8 characters) of the byte at `offset`.
std::string position_of(std::string_view text, std::size_t offset) {
  const std::string_view before = text.substr(0, std::min(offset, text.size()));
  const std::size_t newline = before.rfind('\n');
  const std::string_view line_so_far =
      newline == std::string_view::npos ? before : before.substr(newline + 1);
  const auto line = std::count(before.begin(), before.end(), '\n') + 1;
  // Each character has one byte that is not a continuation byte (10xxxxxx).
  const auto column =
      std::count_if(line_so_far.begin(), line_so_far.end(),
                    [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }) +
      1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

Expected<Json> parse_json(std::string_view text, std::size_t max_depth) {
  // nlohmann skips a UTF-8 byte order mark; RFC 8259 lets a parser refuse one, and the server
  // always has (the core's reader refuses it too).
  if (text.starts_with("\xEF\xBB\xBF"))
    return Error{"invalid JSON at line 1, column 1: a byte order mark before the value"};
  // nlohmann takes a NUL byte between tokens for the end of the input, so text after one would
  // pass unread; JSON allows a raw NUL nowhere, not even in a string.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    return Error{"invalid JSON at " + position_of(text, nul) + ": a NUL byte"};
  Json out;
  const char* reached = text.data();
  StrictHandler handler(out, max_depth);
  const bool ok = Json::sax_parse(TrackedChars(text.data(), &reached),
                                  TrackedChars(text.data() + text.size(), &reached), &handler,
                                  nlohmann::detail::input_format_t::json, true);
  if (ok) return out;
  // nlohmann reports how many bytes it read, the offending one included; this handler's own
  // errors come while the iterator stands just past what was read.
  const std::size_t read = handler.error_position() > 0
                               ? handler.error_position()
                               : static_cast<std::size_t>(reached - text.data());
  return Error{"invalid JSON at " + position_of(text, read > 0 ? read - 1 : 0) + ": " +
               handler.error()};
}

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json json_number(double n) {
  constexpr double kExact = 9007199254740992.0;  // 2^53: every whole double up to it is exact
  if (std::trunc(n) == n && std::fabs(n) <= kExact) return static_cast<std::int64_t>(n);
  return n;
}

const Json* member(const Json& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  const auto it = value.find(key);
  return it == value.end() ? nullptr : &*it;
}

json::Value to_core(const Json& value) {
  switch (value.type()) {
    case Json::value_t::boolean:
      return value.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return value.get<double>();
    case Json::value_t::string:
      return value.get_ref<const std::string&>();
    case Json::value_t::array: {
      json::Array out;
      out.reserve(value.size());
      for (const Json& item : value) out.push_back(to_core(item));
      return out;
    }
    case Json::value_t::object: {
      json::Object out;
      for (const auto& [key, member] : value.items()) {
        out.keys.push_back(key);
        out.values.push_back(to_core(member));
      }
      return out;
    }
    default:
      return nullptr;
  }
}

Json from_core(const json::Value& value) {
  switch (value.type()) {
    case json::Value::Type::null:
      return nullptr;
    case json::Value::Type::boolean:
      return value.as_bool();
    case json::Value::Type::number:
      return json_number(value.as_number());
    case json::Value::Type::string:
      return value.as_string();
    case json::Value::Type::array: {
      Json out = Json::array();
      for (const json::Value& item : value.as_array()) out.push_back(from_core(item));
      return out;
    }
    case json::Value::Type::object: {
      Json out = Json::object();
      const json::Object& o = value.as_object();
      for (std::size_t i = 0; i < o.size(); ++i) out[o.keys[i]] = from_core(o.values[i]);
      return out;
    }
  }
  return nullptr;
}

}  // namespace callswap::server
