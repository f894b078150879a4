#include <algorithm>
#include <callswap/json.hpp>
#include <callswap/utf8.hpp>
#include <cmath>

#include "text.hpp"

namespace callswap::json {

const Value* Object::find(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &values[i];
  }
  return nullptr;
}

void Object::set(std::string key, Value value) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) {
      values[i] = std::move(value);
      return;
    }
  }
  keys.push_back(std::move(key));
  values.push_back(std::move(value));
}

const char* Value::type_name() const {
  switch (type()) {
    case Type::null:
      return "null";
    case Type::boolean:
      return "a boolean";
    case Type::number:
      return "a number";
    case Type::string:
      return "a string";
    case Type::array:
      return "an array";
    case Type::object:
      return "an object";
  }
  return "a value";
}

void write_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

namespace {

// Whole numbers exactly; others with at most 15 significant digits (so writing what was
// read gives the same text again) and at most 9 decimals below 1e15. The core only writes counts,
// milliseconds and ids, and printf's float formatting would double the size of the wasm.
void write_number(std::string& out, double n, int max_decimals = 9) {
  if (!std::isfinite(n)) {
    out += "null";
    return;
  }
  if (std::fabs(n) < 5e-10) {  // rounds to zero: no "-0"
    out += "0";
    return;
  }
  if (n < 0) {
    out.push_back('-');
    n = -n;
  }
  if (n >= 1e15) {
    // Beyond what a double holds digit for digit: mantissa and exponent.
    int exponent = static_cast<int>(std::floor(std::log10(n)));
    double mantissa = n / std::pow(10.0, exponent);
    if (mantissa >= 10) mantissa /= 10, ++exponent;
    write_number(out, mantissa, 14);
    out += "e" + std::to_string(exponent);
    return;
  }
  int whole_digits = 1;
  for (double w = std::floor(n); w >= 10; w /= 10) ++whole_digits;
  const int decimals = std::min(max_decimals, 15 - whole_digits);
  const double scale = std::pow(10.0, decimals);
  const auto scaled = static_cast<unsigned long long>(std::llround(n * scale));
  const auto unit = static_cast<unsigned long long>(scale);
  out += std::to_string(scaled / unit);
  if (scaled % unit == 0) return;
  std::string digits = std::to_string(scaled % unit);
  digits.insert(0, static_cast<std::size_t>(decimals) - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  out += "." + digits;
}

void dump_to(const Value& v, std::string& out) {
  switch (v.type()) {
    case Value::Type::null:
      out += "null";
      break;
    case Value::Type::boolean:
      out += v.as_bool() ? "true" : "false";
      break;
    case Value::Type::number:
      write_number(out, v.as_number());
      break;
    case Value::Type::string:
      write_string(out, v.as_string());
      break;
    case Value::Type::array: {
      out.push_back('[');
      bool first = true;
      for (const Value& item : v.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        dump_to(item, out);
      }
      out.push_back(']');
      break;
    }
    case Value::Type::object: {
      out.push_back('{');
      const Object& o = v.as_object();
      for (std::size_t i = 0; i < o.size(); ++i) {
        if (i > 0) out.push_back(',');
        write_string(out, o.keys[i]);
        out.push_back(':');
        dump_to(o.values[i], out);
      }
      out.push_back('}');
      break;
    }
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth) : text_(text), max_depth_(max_depth) {}

  Expected<Value> document() {
    Value v;
    if (!value(v, 0)) return Error{error_};
    skip_space();
    if (at_ < text_.size()) return fail("unexpected text after the JSON value");
    return v;
  }

 private:
  Error fail(const std::string& what) {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < at_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
    error_ = "invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) +
             ": " + what;
    return Error{error_};
  }
  bool failed(const std::string& what) {
    fail(what);
    return false;
  }

  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }

  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return failed("unexpected character");
    at_ += word.size();
    return true;
  }

  bool value(Value& out, std::size_t depth) {
    skip_space();
    if (at_ >= text_.size()) return failed("unexpected end of input");
    if (depth >= max_depth_) return failed("nested too deeply");
    switch (text_[at_]) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = Value(std::move(s));
        return true;
      }
      case 't':
        out = Value(true);
        return literal("true");
      case 'f':
        out = Value(false);
        return literal("false");
      case 'n':
        out = Value(nullptr);
        return literal("null");
      default:
        return number(out);
    }
  }

  bool object(Value& out, std::size_t depth) {
    ++at_;
    Object o;
    skip_space();
    if (at_ < text_.size() && text_[at_] == '}') {
      ++at_;
      out = Value(std::move(o));
      return true;
    }
    while (true) {
      skip_space();
      if (at_ >= text_.size() || text_[at_] != '"')
        return failed("expected a member name in quotes");
      std::string key;
      if (!string(key)) return false;
      if (o.find(key)) return failed("duplicate member \"" + key + "\"");
      skip_space();
      if (at_ >= text_.size() || text_[at_] != ':')
        return failed("expected ':' after a member name");
      ++at_;
      Value member;
      if (!value(member, depth + 1)) return false;
      o.keys.push_back(std::move(key));
      o.values.push_back(std::move(member));
      skip_space();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == '}') {
        ++at_;
        out = Value(std::move(o));
        return true;
      }
      return failed("expected ',' or '}' in an object");
    }
  }

  bool array(Value& out, std::size_t depth) {
    ++at_;
    Array a;
    skip_space();
    if (at_ < text_.size() && text_[at_] == ']') {
      ++at_;
      out = Value(std::move(a));
      return true;
    }
    while (true) {
      Value item;
      if (!value(item, depth + 1)) return false;
      a.push_back(std::move(item));
      skip_space();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == ']') {
        ++at_;
        out = Value(std::move(a));
        return true;
      }
      return failed("expected ',' or ']' in an array");
    }
  }

  bool hex4(char32_t& out) {
    if (at_ + 4 > text_.size()) return failed("a \\u escape needs four hex digits");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[at_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<char32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<char32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<char32_t>(c - 'A' + 10);
      else
        return failed("a \\u escape needs four hex digits");
    }
    return true;
  }

  bool string(std::string& out) {
    ++at_;  // the opening quote
    while (true) {
      if (at_ >= text_.size()) return failed("unterminated string");
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c < 0x20) return failed("control character in a string");
      if (c == '\\') {
        if (++at_ >= text_.size()) return failed("unterminated string");
        const char e = text_[at_++];
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            char32_t cp = 0;
            if (!hex4(cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              char32_t low = 0;
              if (text_.substr(at_, 2) != "\\u") return failed("a lone surrogate in a \\u escape");
              at_ += 2;
              if (!hex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) return failed("a lone surrogate in a \\u escape");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              return failed("a lone surrogate in a \\u escape");
            }
            append_utf8(out, cp);
            break;
          }
          default:
            return failed("unknown escape in a string");
        }
        continue;
      }
      const auto cp = detail::decode_at(text_, at_);
      if (cp.value == detail::kReplacement && cp.length == 1)
        return failed("invalid UTF-8 in a string");
      out.append(text_.substr(at_, cp.length));
      at_ += cp.length;
    }
  }

  bool number(Value& out) {
    const std::size_t start = at_;
    auto digits = [&] {
      const std::size_t from = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ - from;
    };
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    if (at_ < text_.size() && text_[at_] == '0') {
      ++at_;
    } else if (digits() == 0) {
      at_ = start;
      return failed("unexpected character");
    }
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (digits() == 0) return failed("a number needs digits after '.'");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (digits() == 0) return failed("a number needs digits in its exponent");
    }
    // The grammar was checked above; read the value without strtod, whose locale and
    // float machinery would cost more wasm than this whole parser.
    const std::string_view literal = text_.substr(start, at_ - start);
    std::size_t i = 0;
    const bool negative = literal[i] == '-';
    if (negative) ++i;
    double n = 0;
    for (; i < literal.size() && literal[i] >= '0' && literal[i] <= '9'; ++i)
      n = n * 10 + (literal[i] - '0');
    int exponent = 0;
    if (i < literal.size() && literal[i] == '.') {
      for (++i; i < literal.size() && literal[i] >= '0' && literal[i] <= '9'; ++i) {
        n = n * 10 + (literal[i] - '0');
        --exponent;
      }
    }
    if (i < literal.size() && (literal[i] == 'e' || literal[i] == 'E')) {
      ++i;
      const bool negative_exponent = literal[i] == '-';
      if (literal[i] == '+' || literal[i] == '-') ++i;
      int e = 0;
      for (; i < literal.size(); ++i) e = std::min(e * 10 + (literal[i] - '0'), 100000);
      exponent += negative_exponent ? -e : e;
    }
    n *= std::pow(10.0, exponent);
    if (!std::isfinite(n)) return failed("number out of range");
    out = Value(negative ? -n : n);
    return true;
  }

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t at_ = 0;
  std::string error_;
};

}  // namespace

std::string Value::dump() const {
  std::string out;
  dump_to(*this, out);
  return out;
}

Expected<Value> parse(std::string_view text, std::size_t max_depth) {
  return Parser(text, max_depth).document();
}

}  // namespace callswap::json
