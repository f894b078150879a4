#pragma once
/// \file Phone numbers in E.164 and the numbering facts the matcher and formatter need.

#include <callswap/expected.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace callswap {

/// How a country groups the digits of a national number when it writes them.
enum class Grouping : std::uint8_t { generic, nanp, de, at, ch, gb, fr, nl, it, es, be };

/// What callswap knows of a country's numbering plan: enough to recognise its national
/// forms and to group digits the way its people write them.
struct Region {
  std::string_view iso;              ///< ISO 3166-1 alpha-2, upper case ("DE")
  std::string_view calling_code;     ///< ITU country calling code, digits only ("49")
  std::string_view trunk_prefix;     ///< dialled before a national number ("0"); empty where none
  bool trunk_optional;               ///< NANP: "1-555-..." and "555-..." are both national
  std::string_view extra_idd;        ///< international prefix besides "00" ("011" in NANP)
  std::uint8_t national_min_length;  ///< shortest national significant number
  std::uint8_t national_max_length;  ///< longest national significant number
  Grouping grouping;
};

/// The region with this ISO code (case-insensitive), or nullptr.
const Region* find_region(std::string_view iso);

/// The main region for a calling code ("1" → US, "44" → GB), or nullptr when the
/// code is assigned but callswap has no numbering facts for it.
const Region* region_for_calling_code(std::string_view calling_code);

/// Every region callswap knows, for listings and tests.
const std::vector<Region>& known_regions();

/// A phone number split into its country calling code and national significant number.
struct PhoneNumber {
  std::string calling_code;  ///< "49"
  std::string national;      ///< national significant number, no trunk prefix: "301234567"

  /// "+49301234567"
  [[nodiscard]] std::string e164() const { return "+" + calling_code + national; }
  /// The numbering facts for this number's country, or nullptr.
  [[nodiscard]] const Region* region() const { return region_for_calling_code(calling_code); }

  friend bool operator==(const PhoneNumber&, const PhoneNumber&) = default;
};

/// Parses the canonical E.164 form: '+', then 2 to 15 digits, no separators; the calling
/// code must be assigned and the national part's length possible for its country.
Expected<PhoneNumber> parse_e164(std::string_view text);

/// How many digits the assigned calling code at the start of `digits` has (1 to 3), or 0.
std::size_t calling_code_length(std::string_view digits);

/// The sizes of the digit groups a national number is usually written in at home,
/// e.g. {2, 7} for "30 1234567" in Germany or {3, 3, 4} for "555 123 4567" in the US.
/// Without area-code data this is a heuristic; the formatter prefers the page's own grouping.
std::vector<std::size_t> usual_grouping(const PhoneNumber& number);

/// How a site in `home` shows the number when no page style is at hand (AMP, API replies):
/// nationally with the usual grouping for a number of the home country ("030 9876543",
/// "(555) 123-4567"), internationally otherwise ("+49 30 9876543").
std::string format_for_display(const PhoneNumber& number, const Region& home);

}  // namespace callswap
