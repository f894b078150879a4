#include <algorithm>
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
  return callswap::format_like(
      std::string_view(written).substr(match.start, match.end - match.start), match, m.targets()[0],
      *callswap::parse_e164(replacement));
}

}  // namespace

TEST_CASE("Formatting a target in its own style reproduces the page byte for byte",
          "[formatter][roundtrip]") {
  for (const test::WrittenForm& row : test::format_table()) {
    for (const char* context : test::contexts()) {
      const std::string text = test::embed(context, row.written);
      const auto m = test::matcher(row.country, {row.target});
      const auto matches = m.find(text);
      REQUIRE(matches.size() == 1);
      const auto& match = matches[0];
      const std::string matched = text.substr(match.start, match.end - match.start);
      const std::string again =
          callswap::format_like(matched, match, m.targets()[0], m.targets()[0]);
      INFO(text);
      if (row.tel) {
        // tel: links are rewritten to E.164 by design; an E.164 link stays as it was.
        CHECK(again.substr(again.find(':')) ==
              std::string(":") + (again.find("//") != std::string::npos ? "//" : "") + row.target);
      } else {
        CHECK(again == matched);
      }
      // The same through UTF-16.
      const std::u16string wide = test::to_utf16(text);
      const auto wide_match = m.find(wide).at(0);
      const std::u16string wide_again = callswap::format_like(
          std::u16string_view(wide).substr(wide_match.start, wide_match.end - wide_match.start),
          wide_match, m.targets()[0], m.targets()[0]);
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
      {"DE", "+49301234567", "030\u00A0123\u00A045\u00A067", "+49309876543",
       "030\u00A0987\u00A065\u00A043"},
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
      // A trunk prefix in parentheses, with separators inside or on both sides: one separator
      // stays where it was, whole.
      {"FR", "+33123456789", "+33.(0.)123456789", "+4315123456", "+43.15123456"},
      {"FR", "+33123456789", "+33 (0 )1 23 45 67 89", "+4315123456", "+43 1 5123456"},
      {"FR", "+33123456789", "+33 ( 0 ) 1 23 45 67 89", "+4315123456", "+43 1 5123456"},
      {"FR", "+33123456789", "+33.(0).1.23.45.67.89", "+4315123456", "+43.1.5123456"},
      {"DE", "+49301234567", "+49-(0)-30-1234567", "+4315123456", "+43-1-5123456"},
      {"DE", "+49301234567", "+49\u2013(0)\u201330 1234567", "+4315123456", "+43\u20131 5123456"},
      {"DE", "+49301234567", "+49 ( 0 ) 30 1234567", "+49309876543", "+49 ( 0 ) 30 9876543"},
      // Found by the fuzzer (tests/fuzz/regressions): a split calling code, a multi-byte separator.
      {"GB", "+442079460958", "+4\u20094-20-7946 0958", "+4989123456789", "+49-89-123456789"},
      {"US", "+15551234567", "1(555)\u2013 123-4567", "+4989123456789", "+49 89 123456789"},
      {"US", "+15551234567", "1(555)\u2013123-4567", "+4989123456789",
       "+49\u201389\u2013123456789"},
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
      "<p>Tel. 030 1234567-0, Fax +49 (0)30 1234568</p><a href=\"tel:+49301234567;ext=1\">\u260E "
      "030/123 45 67</a>";
  std::vector<std::optional<callswap::PhoneNumber>> replacements = {
      *callswap::parse_e164("+49309876543"), std::nullopt};
  const auto matches = m.find(text);
  const auto edits = callswap::plan_edits(text, matches, m, replacements);
  CHECK(callswap::apply_edits(text, edits) ==
        "<p>Tel. 030 9876543-0, Fax +49 (0)30 1234568</p><a href=\"tel:+49309876543;ext=1\">\u260E "
        "030/987 65 43</a>");
  SECTION("the same in UTF-16") {
    const std::u16string wide = test::to_utf16(text);
    const auto wide_edits = callswap::plan_edits(wide, m.find(wide), m, replacements);
    CHECK(test::to_utf8(callswap::apply_edits(wide, wide_edits)) ==
          "<p>Tel. 030 9876543-0, Fax +49 (0)30 1234568</p><a "
          "href=\"tel:+49309876543;ext=1\">\u260E 030/987 65 43</a>");
  }
}

namespace {

// A national number of the region's shortest-to-longest range that begins with no trunk prefix.
std::string national_number_for(const callswap::Region& region) {
  const std::size_t length =
      std::clamp<std::size_t>(9, region.national_min_length, region.national_max_length);
  return std::string("23456789012345").substr(0, length);
}

}  // namespace

TEST_CASE(
    "A trunk prefix in parentheses swaps cleanly to another country, in every country with one",
    "[formatter][trunk]") {
  struct Spelling {
    const char* before;  // between the calling code and the trunk prefix
    const char* after;   // between the trunk prefix and the national number
    const char* gap;     // the one separator the international replacement keeps
  };
  const Spelling spellings[] = {
      {" (", ")", " "},
      {"(", ")", " "},
      {" (", ".)", " "},
      {".(", ".)", "."},
      {"(", ".)", "."},
      {" (", " )", " "},
      {" ( ", " ) ", " "},
      {"-(", ")-", "-"},
      {".(", ").", "."},
      {"/(", ")/", "/"},
      {"\u2013(", ")\u2013", "\u2013"},
      {"\u00A0(", ")\u00A0", "\u00A0"},
  };
  int countries = 0;
  for (const callswap::Region& region : callswap::known_regions()) {
    if (region.trunk_prefix.empty() || region.trunk_optional) continue;
    ++countries;
    const std::string national = national_number_for(region);
    const std::string target = "+" + std::string(region.calling_code) + national;
    REQUIRE(callswap::parse_e164(target).ok());
    const auto m = test::matcher(region.iso, {target});
    const bool austria = region.calling_code == "43";
    const auto replacement = *callswap::parse_e164(austria ? "+49309876543" : "+4315123456");
    const auto& found_again = test::matcher(region.iso, {replacement.e164()});
    for (const Spelling& s : spellings) {
      const std::string written = "+" + std::string(region.calling_code) + s.before +
                                  std::string(region.trunk_prefix) + s.after + national;
      INFO(region.iso << ": " << written);
      const auto matches = m.find(written);
      REQUIRE(matches.size() == 1);
      REQUIRE(matches[0].start == 0);
      REQUIRE(matches[0].end == written.size());
      CHECK(callswap::format_like(written, matches[0], m.targets()[0], m.targets()[0]) == written);
      const std::string swapped =
          callswap::format_like(written, matches[0], m.targets()[0], replacement);
      CHECK(swapped == "+" + replacement.calling_code + s.gap + replacement.national);
      // What callswap writes, it finds again as one whole number (rescans and revert).
      const auto again = found_again.find(swapped);
      REQUIRE(again.size() == 1);
      CHECK(again[0].start == 0);
      CHECK(again[0].end == swapped.size());
      // The same in UTF-16.
      const std::u16string wide = test::to_utf16(written);
      const auto wide_matches = m.find(wide);
      REQUIRE(wide_matches.size() == 1);
      CHECK(test::to_utf8(callswap::format_like(std::u16string_view(wide), wide_matches[0],
                                                m.targets()[0], replacement)) == swapped);
    }
  }
  CHECK(countries >= 30);
}

TEST_CASE("A trunk prefix in square brackets is not read as part of a number",
          "[formatter][trunk]") {
  // Brackets are no phone number punctuation (footnotes, citations: "[1]"), so such a
  // number is left as the page wrote it: nothing is swapped, nothing is half-swapped.
  for (const char* written : {"+49 [0] 30 1234567", "+49[0]30 1234567", "+49 [0]30 1234567"}) {
    INFO(written);
    CHECK(test::matcher("DE", {"+49301234567"}).find(std::string_view(written)).empty());
  }
  CHECK(
      test::matcher("FR", {"+33123456789"}).find(std::string_view("+33 [0]1 23 45 67 89")).empty());
}
