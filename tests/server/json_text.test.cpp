#include "json_text.hpp"

#include <catch2/catch.hpp>
#include <string>

using callswap::server::dump_json;
using callswap::server::from_core;
using callswap::server::Json;
using callswap::server::parse_json;
using callswap::server::to_core;

namespace {

// The error text of a document parse_json refuses, or "accepted".
std::string refusal(std::string_view text, std::size_t max_depth = 64) {
  const auto parsed = parse_json(text, max_depth);
  return parsed ? std::string("accepted") : parsed.error().message;
}

}  // namespace

TEST_CASE("The server reads JSON strictly and says where it breaks", "[json]") {
  CHECK(refusal(R"({"a": 1, "b": [true, null, "x"]})") == "accepted");
  // A duplicate is reported at the end of its name.
  CHECK(refusal(R"({"a": 1, "a": 2})") ==
        R"(invalid JSON at line 1, column 12: duplicate member "a")");
  // The example docs/api.md gives.
  CHECK(refusal(R"({"consent": true, "consent": false})") ==
        R"(invalid JSON at line 1, column 27: duplicate member "consent")");
  // The same name in different objects is no duplicate.
  CHECK(refusal(R"({"a": {"a": 1}, "b": {"a": 2}})") == "accepted");
  CHECK(refusal("{\"a\": 1,\n \"b\": {\"c\": 1, \"c\": 2}}") ==
        R"(invalid JSON at line 2, column 18: duplicate member "c")");
  CHECK(refusal("{} x") ==
        "invalid JSON at line 1, column 4: syntax error while parsing value - invalid literal");
  CHECK(refusal("[1, 2") ==
        "invalid JSON at line 1, column 6: syntax error while parsing array "
        "- unexpected end of input; expected ']'");
  CHECK(refusal("") ==
        "invalid JSON at line 1, column 1: syntax error while parsing value - "
        "unexpected end of input; expected '[', '{', or a literal");
  CHECK(refusal("\xEF\xBB\xBF{}") ==
        "invalid JSON at line 1, column 1: a byte order mark before the value");
  // nlohmann alone would stop reading at a NUL byte and accept what came before it.
  CHECK(refusal(std::string("{}\0 trailing", 12)) ==
        "invalid JSON at line 1, column 3: a NUL byte");
  CHECK(refusal(std::string("{}\0", 3)) == "invalid JSON at line 1, column 3: a NUL byte");
  CHECK(refusal(std::string("[\"a\0\"]", 6)) == "invalid JSON at line 1, column 4: a NUL byte");
  CHECK(refusal("1e400") == "invalid JSON at line 1, column 5: number out of range");
  CHECK(refusal("-1e400") == "invalid JSON at line 1, column 6: number out of range");
  CHECK(refusal("[\"caf\xC3\xA9\"]") == "accepted");
  CHECK(refusal("[\"\xFF\"]").starts_with("invalid JSON at line 1, column 3: "));
  CHECK(refusal("[\"\xC3\"]").starts_with("invalid JSON at line 1, column "));
  CHECK(refusal(R"(["\ud800"])").starts_with("invalid JSON at line 1, column "));
  CHECK(refusal(R"(["\ud83d\ude00"])") == "accepted");
  CHECK(refusal("[1,]").starts_with("invalid JSON at line 1, column 4: "));
  CHECK(refusal("// no comments\n1").starts_with("invalid JSON at line 1, column 1: "));
  CHECK(refusal("[01]").starts_with("invalid JSON at line 1, column "));
  // The error never quotes the input: it may be logged, and the input may be personal data.
  CHECK(refusal(R"({"caller": +4930123})").find("4930") == std::string::npos);
  CHECK(refusal(R"({"caller": "+4930123", "caller": 1})").find("4930") == std::string::npos);
}

TEST_CASE("Nesting deeper than the limit is refused, values included", "[json]") {
  const auto nested = [](std::size_t arrays, const std::string& inner) {
    return std::string(arrays, '[') + inner + std::string(arrays, ']');
  };
  // The outermost value is at depth 0: 64 arrays hold depths 0 to 63.
  CHECK(refusal(nested(64, "")) == "accepted");
  CHECK(refusal(nested(65, "")).ends_with(": nested too deeply"));
  CHECK(refusal(nested(63, "1")) == "accepted");
  CHECK(refusal(nested(64, "1")).ends_with(": nested too deeply"));
  CHECK(refusal(R"({"a": {"b": {"c": {}}}})", 3) ==
        "invalid JSON at line 1, column 19: nested too deeply");
  CHECK(refusal(R"({"a": {"b": {"c": 1}}})", 3).ends_with(": nested too deeply"));
  CHECK(refusal(R"({"a": {"b": {"c": 1}}})", 4) == "accepted");
  // Far beyond the limit stays an error, not a stack overflow.
  CHECK(refusal(nested(100000, "")).ends_with(": nested too deeply"));
}

TEST_CASE("Numbers keep their kind", "[json]") {
  const auto parsed = parse_json(R"([1, -2, 1.5, 18446744073709551615, 1e3])");
  REQUIRE(parsed);
  CHECK(parsed->at(0).is_number_integer());
  CHECK(parsed->at(2).is_number_float());
  CHECK(parsed->at(3).is_number_unsigned());
  CHECK(parsed->at(4).get<double>() == 1000);
  CHECK(callswap::server::json_number(50) == Json(50));
  CHECK(dump_json(callswap::server::json_number(50)) == "50");
  CHECK(dump_json(callswap::server::json_number(49.5)) == "49.5");
  CHECK(dump_json(callswap::server::json_number(1e300)) == "1e+300");
}

TEST_CASE("Writing never throws and keeps the order members were set in", "[json]") {
  Json o = Json::object();
  o["z"] = 1;
  o["a"] = "caf\xC3\xA9";
  o["from_a_header"] = std::string("bad \xFF byte\n\"quoted\"");
  CHECK(dump_json(o) ==
        "{\"z\":1,\"a\":\"caf\xC3\xA9\",\"from_a_header\":\"bad \xEF\xBF\xBD "
        "byte\\n\\\"quoted\\\"\"}");
  CHECK(dump_json(Json(std::string("\x01"))) == R"("\u0001")");
}

TEST_CASE("Core values convert both ways unchanged", "[json]") {
  const std::string text =
      R"({"site":"acme","n":3,"f":0.25,"list":[true,false,null,"x",{"k":-7}],"empty":{}})";
  const auto core = callswap::json::parse(text);
  REQUIRE(core);
  const Json server = from_core(*core);
  CHECK(dump_json(server) == text);
  CHECK(to_core(server).dump() == text);
  const auto parsed = parse_json(text);
  REQUIRE(parsed);
  CHECK(*parsed == server);
}
