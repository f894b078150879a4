#pragma once
// The server's JSON: nlohmann_json, read strictly and written without throwing. Objects keep
// their members in the order they were read or set (ordered_json): response bodies and log
// lines list their fields in a documented order.
//
// The core (src/) keeps its own small reader, callswap::json, because the browser build uses
// it; where the server hands a value to the core or takes one back, it converts with
// to_core() and from_core() here.

#include <callswap/expected.hpp>
#include <callswap/json.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace callswap::server {

using Json = nlohmann::ordered_json;

/// One JSON document, strictly: a duplicate member, nesting deeper than `max_depth` (the
/// outermost value is at depth 0), invalid UTF-8, a number beyond a double's range, a byte
/// order mark, a NUL byte or text after the value is an error naming the line and column
/// ("invalid JSON at line 1, column 5: ..."). The error quotes nothing of the input but a
/// duplicate member's name, so it can be logged.
Expected<Json> parse_json(std::string_view text, std::size_t max_depth = 64);

/// Compact JSON text. Never throws: invalid UTF-8 in a string (text from URLs, headers and
/// form bodies) is written as U+FFFD.
std::string dump_json(const Json& value);

/// A number as the core writes it: a whole number within ±2^53 as an integer (written without
/// a fraction, "50" rather than "50.0"), any other as a double.
Json json_number(double n);

/// The member `key` of an object, or nullptr (also when `value` is not an object).
const Json* member(const Json& value, std::string_view key);

/// The same value as the core's callswap::json reads and writes it (numbers become doubles).
json::Value to_core(const Json& value);
/// A core value as the server's Json: whole numbers within ±2^53 become integers, so they are
/// written without a fraction as the core writes them.
Json from_core(const json::Value& value);

}  // namespace callswap::server
