#include <callswap/formatter.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "format_table.hpp"
#include "text_helpers.hpp"

namespace {

// Finds the one occurrence of `target` in `written` and writes `replacement` in its style.
std::string reformat(const char* country, const char* target, const std::string& written,
                     const char* replacement) {
  const auto m = test::matcher(country, {target});
  const auto matches = m.find(written);
  INFO(written);
  REQUIRE(matches.size() == 1);
  const auto& match = matches[0];
  return callswap::format_like(std::string_view(written).substr(match.start, match.end - match.start),
                               match, m.targets()[0], *callswap::parse_e164(replacement));
}

}  // namespace

TEST_CASE("Formatting a target in its own style reproduces the page byte for byte", "[formatter][roundtrip]") {
  for (const test::WrittenForm& row : test::format_table()) {
    for (const char* context : test::contexts()) {
      const std::string text = test::embed(context, row.written);
      const auto m = test::matcher(row.country, {row.target});
      const auto matches = m.find(text);
      REQUIRE(matches.size() == 1);
      const auto& match = matches[0];
      const std::string matched = text.substr(match.start, match.end - match.start);
      const std::string again = callswap::format_like(matched, match, m.targets()[0], m.targets()[0]);
      INFO(text);
      if (row.tel) {
        // tel: links are rewritten to E.164 by design; an E.164 link stays as it was.
        CHECK(again.substr(again.find(':')) == std::string(":") + (again.find("//") != std::string::npos ? "//" : "") + row.target);
      } else {
        CHECK(again == matched);
      }
      // The same through UTF-16.
      const std::u16string wide = test::to_utf16(text);
      const auto wide_match = m.find(wide).at(0);
      const std::u16string wide_again = callswap::format_like(
          std::u16string_view(wide).substr(wide_match.start, wide_match.end - wide_match.start), wide_match,
          m.targets()[0], m.targets()[0]);
      CHECK(test::to_utf8(wide_again) == again);
    }
  }
}

TEST_CASE("A replacement is written in the page's style", "[formatter]") {
  struct Row {
    const char* country;
    const char* target;
    const char* written;
    const char* replacement;
    const char* expected;
  };
  const Row rows[] = {
      // Same length: the page's separators and grouping, digit for digit.
      {"DE", "+49301234567", "+49 (0)30 1234567", "+49309876543", "+49 (0)30 9876543"},
      {"DE", "+49301234567", "030/123 45 67", "+49309876543", "030/987 65 43"},
      {"DE", "+49301234567", "(030) 1234567", "+49309876543", "(030) 9876543"},
      {"DE", "+49301234567", "0049 30 123 45 67", "+49309876543", "0049 30 987 65 43"},
      {"DE", "+49301234567", "030\u00A0123\u00A045\u00A067", "+49309876543", "030\u00A0987\u00A065\u00A043"},
      {"DE", "+49301234567", "+49 030 1234567", "+49309876543", "+49 030 9876543"},
      {"US", "+15551234567", "(555) 123-4567", "+15559876543", "(555) 987-6543"},
      {"US", "+15551234567", "1-555-123-4567", "+15559876543", "1-555-987-6543"},
      {"US", "+15551234567", "+1 (555) 123-4567", "+12125550199", "+1 (212) 555-0199"},
      {"FR", "+33123456789", "01 23 45 67 89", "+33987654321", "09 87 65 43 21"},
      {"FR", "+33123456789", "+33 (0)1 23 45 67 89", "+33987654321", "+33 (0)9 87 65 43 21"},
      {"GB", "+442079460958", "020 7946 0958", "+442079460000", "020 7946 0000"},
      {"CH", "+41446681800", "044 668 18 00", "+41435550000", "043 555 00 00"},
      // Same length, area code of another length: the country's usual grouping.
      {"GB", "+442079460958", "020 7946 0958", "+441214960000", "0121 496 0000"},
      {"GB", "+442079460958", "+44 (0)20 7946 0958", "+441214960000", "+44 (0)121 496 0000"},
      // Another length, same area code: the area code group stays, the rest follows the page.
      {"DE", "+49301234567", "030 123 45 67", "+493012345678", "030 123 45 678"},
      {"DE", "+49301234567", "(030) 1234567", "+493012345678", "(030) 12345678"},
      {"DE", "+49301234567", "030 1234567", "+493098765", "030 98765"},
      // Another length and area code.
      {"DE", "+49301234567", "030 1234567", "+4989123456789", "089 123456789"},
      {"DE", "+49301234567", "+49 (0)30 1234567", "+4922112345678", "+49 (0)221 12345678"},
      {"DE", "+49301234567", "030 123 45 67", "+4922112345678", "0221 123 45 678"},
      {"DE", "+49301234567", "0301234567", "+4989123456789", "089123456789"},
      // Another country: a national form becomes international.
      {"DE", "+49301234567", "030 1234567", "+4315123456", "+43 1 5123456"},
      {"DE", "+49301234567", "030/1234567", "+4315123456", "+43/1/5123456"},
      {"DE", "+49301234567", "(030) 1234567", "+4315123456", "+43 1 5123456"},
      {"DE", "+49301234567", "+49 (0)30 1234567", "+4315123456", "+43 1 5123456"},
      {"DE", "+49301234567", "0049 30 1234567", "+4315123456", "0043 1 5123456"},
      {"DE", "+49301234567", "+49-30-123 45 67", "+15551234567", "+1-555-123 4567"},
      {"DE", "+49301234567", "0301234567", "+4315123456", "+4315123456"},
      // Found by the fuzzer (tests/fuzz/regressions): a split calling code, a multi-byte separator.
      {"GB", "+442079460958", "+4\u20094-20-7946 0958", "+4989123456789", "+49-89-123456789"},
      {"US", "+15551234567", "1(555)\u2013 123-4567", "+4989123456789", "+49 89 123456789"},
      {"US", "+15551234567", "1(555)\u2013123-4567", "+4989123456789", "+49\u201389\u2013123456789"},
      // tel: links carry E.164 whatever the page wrote; parameters stay outside the match.
      {"DE", "+49301234567", "tel:030-123-4567", "+49309876543", "tel:+49309876543"},
      {"DE", "+49301234567", "TEL:+49-30-1234567", "+4989123456789", "TEL:+4989123456789"},
      {"DE", "+49301234567", "tel://0301234567", "+49309876543", "tel://+49309876543"},
  };
  for (const Row& row : rows) {
    SECTION(std::string(row.written) + " -> " + row.replacement) {
      CHECK(reformat(row.country, row.target, row.written, row.replacement) == row.expected);
    }
  }
}

TEST_CASE("Edits swap every occurrence and leave the rest of the text alone", "[formatter]") {
  const auto m = test::matcher("DE", {"+49301234567", "+49301234568"});
  const std::string text =
      "<p>Tel. 030 1234567-0, Fax +49 (0)30 1234568</p><a href=\"tel:+49301234567;ext=1\">\u260E 030/123 45 67</a>";
  std::vector<std::optional<callswap::PhoneNumber>> replacements = {
      *callswap::parse_e164("+49309876543"), std::nullopt};
  const auto matches = m.find(text);
  const auto edits = callswap::plan_edits(text, matches, m, replacements);
  CHECK(callswap::apply_edits(text, edits) ==
        "<p>Tel. 030 9876543-0, Fax +49 (0)30 1234568</p><a href=\"tel:+49309876543;ext=1\">\u260E 030/987 65 43</a>");
  SECTION("the same in UTF-16") {
    const std::u16string wide = test::to_utf16(text);
    const auto wide_edits = callswap::plan_edits(wide, m.find(wide), m, replacements);
    CHECK(test::to_utf8(callswap::apply_edits(wide, wide_edits)) ==
          "<p>Tel. 030 9876543-0, Fax +49 (0)30 1234568</p><a href=\"tel:+49309876543;ext=1\">\u260E 030/987 65 43</a>");
  }
}
