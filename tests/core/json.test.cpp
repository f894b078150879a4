#include <callswap/json.hpp>
#include <catch2/catch.hpp>

using callswap::json::parse;

TEST_CASE("JSON documents are read and written back", "[json]") {
  const char* rows[][2] = {
      {"null", "null"},
      {" true ", "true"},
      {"[1, -2.5, 3e2, 0]", "[1,-2.5,300,0]"},
      {R"({"a": {"b": [null, false, "x"]}, "c": ""})", R"({"a":{"b":[null,false,"x"]},"c":""})"},
      {R"("\u00e4\ud83d\udcde \"q\" \\ \/ \n")",
       "\"\xC3\xA4\xF0\x9F\x93\x9E \\\"q\\\" \\\\ / \\n\""},
      {R"("\u0001")", R"("\u0001")"},
      {"\"Stra\xC3\x9F"
       "e\"",
       "\"Stra\xC3\x9F"
       "e\""},
      // Found by the fuzzer: fractions are written so that reading them back gives the same text.
      {"8.2074", "8.2074"},
      {"0.1", "0.1"},
      {"-2.0000000001", "-2"},
      {"1.9999999999", "2"},
      {"1e20", "1e20"},
      {"-0.5e-61", "0"},
      {"-0", "0"},
      {"-202111111111505e-3", "-202111111111.505"},
      {"123456789012345678901234", "1.23456789012346e23"},
  };
  for (const auto& [in, out] : rows) {
    auto v = parse(in);
    INFO(in);
    REQUIRE(v.ok());
    CHECK(v->dump() == out);
  }
}

TEST_CASE("Malformed JSON is refused with line and column", "[json]") {
  const char* rows[][2] = {
      {"", "line 1, column 1: unexpected end of input"},
      {"{", "line 1, column 2: expected a member name in quotes"},
      {"{\"a\" 1}", "line 1, column 6: expected ':' after a member name"},
      {"[1,]", "line 1, column 4: unexpected character"},
      {"[1 2]", "line 1, column 4: expected ',' or ']' in an array"},
      {"01", "line 1, column 2: unexpected text after the JSON value"},
      {"1.", "line 1, column 3: a number needs digits after '.'"},
      {"1e", "line 1, column 3: a number needs digits in its exponent"},
      {"1e999", "number out of range"},
      {"\"abc", "unterminated string"},
      {"\"a\tb\"", "control character in a string"},
      {"\"\\x\"", "unknown escape"},
      {"\"\\ud800\"", "lone surrogate"},
      {"\"\\udc00\"", "lone surrogate"},
      {"\"\\u12\"", "four hex digits"},
      {"\"\xFF\"", "invalid UTF-8"},
      {"\n\n  tru", "line 3, column 3: unexpected character"},
      {"{\"a\":1,\"a\":2}", "duplicate member \"a\""},
      {"NaN", "unexpected character"},
  };
  for (const auto& [in, reason] : rows) {
    auto v = parse(in);
    INFO(in);
    REQUIRE_FALSE(v.ok());
    CHECK_THAT(v.error().message, Catch::Contains(reason));
  }
}
