#include <callswap/phone_number.hpp>
#include <catch2/catch.hpp>

using callswap::parse_e164;

TEST_CASE("E.164 numbers split into calling code and national number", "[phone_number]") {
  struct Row {
    const char* e164;
    const char* calling_code;
    const char* national;
  };
  const Row rows[] = {
      {"+49301234567", "49", "301234567"},     {"+4315123456", "43", "15123456"},
      {"+41446681800", "41", "446681800"},     {"+442079460958", "44", "2079460958"},
      {"+33123456789", "33", "123456789"},     {"+31201234567", "31", "201234567"},
      {"+15551234567", "1", "5551234567"},     {"+74951234567", "7", "4951234567"},
      {"+390612345678", "39", "0612345678"},   {"+35312345678", "353", "12345678"},
      {"+97142345678", "971", "42345678"},     {"+8613812345678", "86", "13812345678"},
      {"+2348012345678", "234", "8012345678"},  // no numbering facts: generic length limits
  };
  for (const Row& row : rows) {
    SECTION(row.e164) {
      auto number = parse_e164(row.e164);
      REQUIRE(number.ok());
      CHECK(number->calling_code == row.calling_code);
      CHECK(number->national == row.national);
      CHECK(number->e164() == row.e164);
    }
  }
}

TEST_CASE("Malformed E.164 numbers are rejected with the reason", "[phone_number]") {
  struct Row {
    const char* text;
    const char* reason;
  };
  const Row rows[] = {
      {"", "must start with '+'"},
      {"49301234567", "must start with '+'"},
      {"+49 30 1234567", "only digits"},
      {"+49-30-1234567", "only digits"},
      {"+49 30", "only digits"},
      {"+4930123456789012", "more than 15 digits"},
      {"+2101234567", "unassigned country calling code"},
      {"+0123456789", "unassigned country calling code"},
      {"+4930", "5 to 13 digits"},
      {"+1555123456", "10 digits"},
      {"+490301234567", "trunk prefix 0"},
      {"+", "unassigned"},
  };
  for (const Row& row : rows) {
    SECTION(row.text) {
      auto number = parse_e164(row.text);
      REQUIRE_FALSE(number.ok());
      CHECK_THAT(number.error().message, Catch::Contains(row.reason));
      CHECK_THAT(number.error().message, Catch::Contains(std::string("\"") + row.text + "\""));
    }
  }
}

TEST_CASE("Regions are found by ISO code in any case", "[phone_number]") {
  REQUIRE(callswap::find_region("de") != nullptr);
  CHECK(callswap::find_region("de")->calling_code == "49");
  CHECK(callswap::find_region("Us")->trunk_optional);
  CHECK(callswap::find_region("XX") == nullptr);
  CHECK(callswap::find_region("DEU") == nullptr);
  CHECK(callswap::region_for_calling_code("1")->iso == "US");
  CHECK(callswap::region_for_calling_code("44")->iso == "GB");
  CHECK(callswap::region_for_calling_code("234") == nullptr);
}

TEST_CASE("Usual grouping follows each country's habit", "[phone_number]") {
  auto grouping = [](const char* e164) { return callswap::usual_grouping(*parse_e164(e164)); };
  using G = std::vector<std::size_t>;
  CHECK(grouping("+49301234567") == G{2, 7});
  CHECK(grouping("+4922112345678") == G{3, 8});
  CHECK(grouping("+15551234567") == G{3, 3, 4});
  CHECK(grouping("+442079460958") == G{2, 4, 4});
  CHECK(grouping("+447700900123") == G{4, 6});
  CHECK(grouping("+441214960000") == G{3, 3, 4});
  CHECK(grouping("+33123456789") == G{1, 2, 2, 2, 2});
  CHECK(grouping("+41446681800") == G{2, 3, 2, 2});
  CHECK(grouping("+31201234567") == G{2, 3, 4});
  CHECK(grouping("+31612345678") == G{1, 8});
  CHECK(grouping("+4315123456") == G{1, 7});
  CHECK(grouping("+2348012345678") == G{3, 3, 4});
}

TEST_CASE("Numbers are displayed as the site's country writes them", "[phone_number]") {
  auto display = [](const char* e164, const char* home) {
    return callswap::format_for_display(*parse_e164(e164), *callswap::find_region(home));
  };
  CHECK(display("+49301234567", "DE") == "030 1234567");
  CHECK(display("+4922112345678", "DE") == "0221 12345678");
  CHECK(display("+15551234567", "US") == "(555) 123-4567");
  CHECK(display("+33123456789", "FR") == "01 23 45 67 89");
  CHECK(display("+442079460958", "GB") == "020 7946 0958");
  CHECK(display("+390612345678", "IT") == "06 1234 5678");
  CHECK(display("+393471234567", "IT") == "347 123 4567");
  CHECK(display("+49301234567", "AT") == "+49 30 1234567");
  CHECK(display("+15551234567", "DE") == "+1 555 123 4567");
}
