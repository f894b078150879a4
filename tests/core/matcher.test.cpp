#include <callswap/matcher.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "format_table.hpp"
#include "text_helpers.hpp"

using callswap::MatchKind;
using callswap::NumberForm;

TEST_CASE("Every written form is found in every context, once and exactly", "[matcher]") {
  for (const test::WrittenForm& row : test::format_table()) {
    const auto m = test::matcher(row.country, {row.target});
    for (const char* context : test::contexts()) {
      const std::string text = test::embed(context, row.written);
      INFO(row.country << " " << row.target << " in: " << text);
      const auto matches = m.find(text);
      REQUIRE(matches.size() == 1);
      const std::size_t at = std::string_view(context).find("{}");
      CHECK(matches[0].start == at);
      CHECK(matches[0].end == at + std::string_view(row.written).size());
      CHECK(matches[0].kind == (row.tel ? MatchKind::tel : MatchKind::text));
      CHECK_FALSE(matches[0].has_extension());
    }
  }
}

TEST_CASE("UTF-16 text gives the same matches at the same characters", "[matcher][utf16]") {
  for (const test::WrittenForm& row : test::format_table()) {
    const auto m = test::matcher(row.country, {row.target});
    for (const char* context : test::contexts()) {
      const std::string text = test::embed(context, row.written);
      const std::u16string wide = test::to_utf16(text);
      INFO(text);
      const auto narrow_matches = m.find(text);
      const auto wide_matches = m.find(wide);
      REQUIRE(wide_matches.size() == narrow_matches.size());
      for (std::size_t i = 0; i < wide_matches.size(); ++i) {
        const auto& w = wide_matches[i];
        const auto& n = narrow_matches[i];
        // Offsets differ by encoding; the text before and within each match must not.
        CHECK(test::to_utf8(wide.substr(0, w.start)) == text.substr(0, n.start));
        CHECK(test::to_utf8(wide.substr(w.start, w.end - w.start)) ==
              text.substr(n.start, n.end - n.start));
        CHECK(w.form == n.form);
        CHECK(w.kind == n.kind);
      }
    }
  }
}

TEST_CASE("The form of each match is reported", "[matcher]") {
  struct Row {
    const char* country;
    const char* written;
    NumberForm form;
  };
  const Row rows[] = {
      {"DE", "+49 30 1234567", NumberForm::international},
      {"DE", "+49 (0)30 1234567", NumberForm::international},
      {"DE", "0049 30 1234567", NumberForm::international_idd},
      {"DE", "030 1234567", NumberForm::national},
      {"US", "1-555-123-4567", NumberForm::national},
      {"US", "011 49 30 1234567", NumberForm::international_idd},
  };
  for (const Row& row : rows) {
    const auto m = test::matcher(row.country, {"+49301234567", "+15551234567"});
    const auto matches = m.find(row.written);
    REQUIRE(matches.size() == 1);
    CHECK(matches[0].form == row.form);
  }
}

TEST_CASE("Near misses are not matched", "[matcher][negative]") {
  struct Row {
    const char* country;
    const char* text;
    const char* why;
  };
  const Row rows[] = {
      {"DE", "0301234567890", "the target's digits inside a longer run"},
      {"DE", "10301234567", "a digit glued before"},
      {"DE", "030 12345678", "a different, longer number sharing the prefix"},
      {"DE", "030 1234567 8", "a trailing group continues the number"},
      {"DE", "030 1234567 89", "a trailing group continues the number"},
      {"DE", "030 123 45 67 89", "a trailing group continues the number"},
      {"DE", "12 030 1234567", "a short leading group belongs to the number"},
      {"DE", "+49 30 12345678", "longer international number"},
      {"DE", "+49 30 123456", "shorter international number"},
      {"DE", "030 123456", "shorter national number"},
      {"DE", "030 1234568", "a neighbouring number"},
      {"DE", "+49 30 1234560", "a neighbouring number"},
      {"DE", "+1 30 1234567", "another country code"},
      {"DE", "4930 1234567", "no '+' and no 00"},
      {"DE", "DE89 0301 2345 6700 0000 00", "an IBAN"},
      {"DE", "IBAN DE89 3704 0044 0301 2345 67", "an IBAN"},
      {"DE", "Bestellnummer 0301234567-12345678", "an order number"},
      {"DE", "Order #0301234567", "an order number"},
      {"DE", "Kundennr. KD0301234567", "a customer number"},
      {"DE", "ID-0301234567", "an identifier"},
      {"DE", "https://example.com/0301234567", "a URL path"},
      {"DE", "?phone=0301234567&x=1", "a query string"},
      {"DE", "0301234567@example.com", "an e-mail address"},
      {"DE", "12,0301234567", "a decimal number"},
      {"DE", "0301234567,50 EUR", "a price"},
      {"DE", "3.012.345,67 EUR", "a price with the same digits"},
      {"DE", "0301234567%", "a percentage"},
      {"DE", "03.01.2345 67", "a date"},
      {"DE", "3/1/2345 67", "a date"},
      {"DE", "10:0301234567", "a time"},
      {"DE", "0301234567_backup", "part of a file name"},
      {"DE", "10115 Berlin", "a postcode"},
      {"AT", "030 1234567", "a German national form on an Austrian site"},
      {"DE", "020 7946 0958", "a British national form on a German site"},
      {"US", "555-123-45678", "a longer number"},
      {"US", "2555-123-4567", "a digit glued to the area code"},
      {"US", "5551 2345 67", "North American digits grouped otherwise than 3-3-4"},
      {"US", "4111 1111 5551 2345 67", "a card number"},
      {"US", "(555) 123-4567-123456", "an over-long extension"},
      {"DE", "tel:+4930123456789", "a longer number in a tel: URI"},
      {"DE", "tel:+49301234567-89", "a tel: URI that runs on"},
      {"DE", "+49\n30 1234567", "a newline ends a number"},
      {"DE", "030\t1234567", "a tab ends a number"},
      {"DE", "030    1234567", "four spaces end a number"},
  };
  const auto m = [](const char* country) {
    return test::matcher(country, {"+49301234567", "+15551234567"});
  };
  for (const Row& row : rows) {
    SECTION(std::string(row.text) + " (" + row.why + ")") {
      CHECK(test::found(m(row.country), row.text).empty());
    }
  }
}

TEST_CASE("Several numbers in one stretch of text are each found", "[matcher]") {
  const auto m = test::matcher("DE", {"+49301234567", "+49301234568"});
  using V = std::vector<std::string>;
  CHECK(test::found(m, "030 1234567 030 1234568") == V{"030 1234567", "030 1234568"});
  CHECK(test::found(m, "030 1234567 / 030 1234568") == V{"030 1234567", "030 1234568"});
  CHECK(test::found(m, "030 1234567 (030) 1234568") == V{"030 1234567", "(030) 1234568"});
  CHECK(test::found(m, "030 1234567 +49 30 1234568") == V{"030 1234567", "+49 30 1234568"});
  CHECK(test::found(m, "Tel 030 1234567 Fax 030 1234568") == V{"030 1234567", "030 1234568"});
  CHECK(test::found(m, "030 1234567, 030 1234567; 0301234567") ==
        V{"030 1234567", "030 1234567", "0301234567"});
  CHECK(test::found(m, "030 1234567 030 9999999") == V{"030 1234567"});
  CHECK(test::found(m, "030 9999999 030 1234567") == V{"030 1234567"});
  const auto us = test::matcher("US", {"+15551234567"});
  CHECK(test::found(us, "555-123-4567 555-765-4321") == V{"555-123-4567"});
  CHECK(test::found(us, "Updated 3/12/2024 555-123-4567") == V{"555-123-4567"});
  // Found by the libphonenumber cross-check: numbers beside prices, identifiers, sentence ends.
  CHECK(test::found(us, "(555) 123-4567 19,99") == V{"(555) 123-4567"});
  CHECK(test::found(us, "555.123.4567 19 units") == V{"555.123.4567"});
  CHECK(test::found(us, "tel:+1-555-123-4567 19") == V{"tel:+1-555-123-4567"});
  CHECK(test::found(us, "(555).123-4567") == V{"(555).123-4567"});
  CHECK(test::found(m, "A-1234 030-1234567") == V{"030-1234567"});
  CHECK(test::found(m, "A-1234  030 123 45 67") == V{"030 123 45 67"});
  CHECK(test::found(m, "Ruf 030 1234567. 9 Uhr") == V{"030 1234567"});
  CHECK(test::found(m, "(0049 (0)30 1234567)") == V{"0049 (0)30 1234567"});
  CHECK(test::found(m, "030 1234567) 12") == V{"030 1234567"});
  // Found by the fuzzer: parentheses inside a match must balance, so it reads alone too.
  CHECK(test::found(us, "(555 ) 123-4567") == V{"(555 ) 123-4567"});
  CHECK(test::found(m, "(030 123) 4567").empty());
  CHECK(test::found(us, "+49( 555)\u2013 123-4567").empty());  // a '(' apart from its digits
  CHECK(test::found(m, "Stand 03.01.2024 030 1234567") == V{"030 1234567"});
}

TEST_CASE("A longer target is preferred over a shorter one with the same start", "[matcher]") {
  const auto m = test::matcher("DE", {"+4930123456", "+49301234567"});
  const auto matches = m.find("030 1234567");
  REQUIRE(matches.size() == 1);
  CHECK(matches[0].target == 1);
}

TEST_CASE("A direct-dial suffix is kept outside the match", "[matcher][extension]") {
  struct Row {
    const char* country;
    const char* text;
    const char* number;
    const char* extension;
  };
  const Row rows[] = {
      {"DE", "030 1234567-0", "030 1234567", "0"},
      {"DE", "030 1234567-12", "030 1234567", "12"},
      {"DE", "+49 30 1234567-250", "+49 30 1234567", "250"},
      {"DE", "030/1234567\u20110", "030/1234567", "0"},
      {"US", "555-123-4567-1234", "555-123-4567", "1234"},
  };
  for (const Row& row : rows) {
    const auto m = test::matcher(row.country, {"+49301234567", "+15551234567"});
    const std::string text = row.text;
    const auto matches = m.find(text);
    INFO(text);
    REQUIRE(matches.size() == 1);
    const auto& match = matches[0];
    CHECK(text.substr(match.start, match.end - match.start) == row.number);
    REQUIRE(match.has_extension());
    CHECK(text.substr(match.extension_end - std::strlen(row.extension),
                      std::strlen(row.extension)) == row.extension);
    CHECK(match.extension_end == text.size());
  }
  SECTION("written-out extensions end the number and stay as they are") {
    const auto m = test::matcher("US", {"+15551234567"});
    using V = std::vector<std::string>;
    CHECK(test::found(m, "555-123-4567 ext. 12") == V{"555-123-4567"});
    CHECK(test::found(m, "555-123-4567 x12") == V{"555-123-4567"});
    CHECK(test::found(m, "555-123-4567x12") == V{"555-123-4567"});
    CHECK(test::found(m, "tel:+15551234567;ext=12") == V{"tel:+15551234567"});
  }
}

TEST_CASE("Invalid UTF-8 never matches, never crashes and never shifts offsets",
          "[matcher][utf8]") {
  const auto m = test::matcher("DE", {"+49301234567"});
  struct Row {
    std::string text;
    std::size_t start;  // npos: no match
  };
  const std::size_t none = std::string::npos;
  const Row rows[] = {
      {"\xFF"
       "030 1234567",
       1},
      {"\xE2\x80 030 1234567", 3},
      {"030 1234567\xC3", 0},
      {"\xC0\xAF"
       "030 1234567",
       2},
      {"030\xC2 1234567", none},  // a broken no-break space is no separator
      {"030\xC2\xA0"
       "1234567",
       0},
      {"\xED\xA0\x80"
       "030 1234567",
       3},  // an encoded surrogate
      {"030\xE2\x80\xAF\xFF"
       "1234567",
       none},
      {std::string("\0"
                   "030 1234567",
                   12),
       1},
  };
  for (const Row& row : rows) {
    const auto matches = m.find(row.text);
    if (row.start == none) {
      CHECK(matches.empty());
    } else {
      REQUIRE(matches.size() == 1);
      CHECK(matches[0].start == row.start);
      CHECK(row.text.substr(matches[0].end - 7, 7) == "1234567");
    }
  }
}

TEST_CASE("Unknown countries and bad targets are refused when the matcher is made", "[matcher]") {
  const std::vector<std::string> good = {"+49301234567"};
  CHECK_THAT(callswap::Matcher::create("XX", good).error().message,
             Catch::Contains("unknown country"));
  const std::vector<std::string> bad = {"+49301234567", "030 1234567"};
  CHECK_THAT(callswap::Matcher::create("DE", bad).error().message,
             Catch::Contains("\"030 1234567\""));
}
