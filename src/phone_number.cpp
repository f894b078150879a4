#include <algorithm>
#include <array>
#include <callswap/phone_number.hpp>

namespace callswap {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char to_upper_ascii(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Numbering facts per country. Lengths are of the national significant number (no trunk
// prefix); trunk and international prefixes as dialled from that country. Sources: ITU-T
// E.164 national numbering plans as summarised by the regulators and libphonenumber.
const std::vector<Region>& regions() {
  static const std::vector<Region> table = {
      {"DE", "49", "0", false, "", 5, 13, Grouping::de},
      {"AT", "43", "0", false, "", 4, 13, Grouping::at},
      {"CH", "41", "0", false, "", 9, 12, Grouping::ch},
      {"LI", "423", "", false, "", 7, 9, Grouping::generic},
      {"GB", "44", "0", false, "", 7, 10, Grouping::gb},
      {"GG", "44", "0", false, "", 7, 10, Grouping::gb},
      {"JE", "44", "0", false, "", 7, 10, Grouping::gb},
      {"IM", "44", "0", false, "", 7, 10, Grouping::gb},
      {"IE", "353", "0", false, "", 7, 10, Grouping::generic},
      {"FR", "33", "0", false, "", 9, 9, Grouping::fr},
      {"MC", "377", "", false, "", 8, 9, Grouping::generic},
      {"BE", "32", "0", false, "", 8, 9, Grouping::be},
      {"NL", "31", "0", false, "", 7, 10, Grouping::nl},
      {"LU", "352", "", false, "", 4, 11, Grouping::generic},
      {"IT", "39", "", false, "", 6, 11, Grouping::it},
      {"SM", "378", "", false, "", 6, 10, Grouping::generic},
      {"ES", "34", "", false, "", 9, 9, Grouping::es},
      {"PT", "351", "", false, "", 9, 9, Grouping::generic},
      {"DK", "45", "", false, "", 8, 8, Grouping::generic},
      {"NO", "47", "", false, "", 5, 8, Grouping::generic},
      {"SE", "46", "0", false, "", 6, 10, Grouping::generic},
      {"FI", "358", "0", false, "", 5, 12, Grouping::generic},
      {"IS", "354", "", false, "", 7, 9, Grouping::generic},
      {"PL", "48", "", false, "", 9, 9, Grouping::generic},
      {"CZ", "420", "", false, "", 9, 9, Grouping::generic},
      {"SK", "421", "0", false, "", 9, 9, Grouping::generic},
      {"HU", "36", "06", false, "", 8, 9, Grouping::generic},
      {"SI", "386", "0", false, "", 8, 8, Grouping::generic},
      {"HR", "385", "0", false, "", 8, 9, Grouping::generic},
      {"RO", "40", "0", false, "", 9, 9, Grouping::generic},
      {"BG", "359", "0", false, "", 7, 9, Grouping::generic},
      {"GR", "30", "", false, "", 10, 10, Grouping::generic},
      {"CY", "357", "", false, "", 8, 8, Grouping::generic},
      {"MT", "356", "", false, "", 8, 8, Grouping::generic},
      {"EE", "372", "", false, "", 7, 8, Grouping::generic},
      {"LV", "371", "", false, "", 8, 8, Grouping::generic},
      {"LT", "370", "8", false, "", 8, 8, Grouping::generic},
      {"US", "1", "1", true, "011", 10, 10, Grouping::nanp},
      {"CA", "1", "1", true, "011", 10, 10, Grouping::nanp},
      {"AU", "61", "0", false, "0011", 5, 10, Grouping::generic},
      {"NZ", "64", "0", false, "", 8, 10, Grouping::generic},
      {"JP", "81", "0", false, "010", 9, 10, Grouping::generic},
      {"IN", "91", "0", false, "", 10, 10, Grouping::generic},
      {"BR", "55", "0", false, "", 10, 11, Grouping::generic},
      {"MX", "52", "", false, "", 10, 10, Grouping::generic},
      {"AR", "54", "0", false, "", 10, 11, Grouping::generic},
      {"ZA", "27", "0", false, "", 9, 9, Grouping::generic},
      {"TR", "90", "0", false, "", 10, 10, Grouping::generic},
      {"IL", "972", "0", false, "", 8, 9, Grouping::generic},
      {"AE", "971", "0", false, "", 8, 9, Grouping::generic},
      {"SG", "65", "", false, "", 8, 8, Grouping::generic},
      {"HK", "852", "", false, "001", 8, 8, Grouping::generic},
      {"CN", "86", "0", false, "", 9, 11, Grouping::generic},
      {"RU", "7", "8", false, "810", 10, 10, Grouping::generic},
      {"KZ", "7", "8", false, "810", 10, 10, Grouping::generic},
      {"UA", "380", "0", false, "", 9, 9, Grouping::generic},
  };
  return table;
}

// Calling codes are prefix-free: one digit (1, 7), the assigned two-digit codes, or one of
// the assigned three-digit codes below (ITU-T E.164 list of assigned country codes).
constexpr std::string_view kTwoDigitCodes =
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 "
    "64 65 66 81 82 84 86 90 91 92 93 94 95 98";
constexpr std::string_view kThreeDigitCodes =
    "211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 "
    "237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 "
    "260 261 262 263 264 265 266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 "
    "357 358 359 370 371 372 373 374 375 376 377 378 379 380 381 382 383 385 386 387 389 420 "
    "421 423 500 501 502 503 504 505 506 507 508 509 590 591 592 593 594 595 596 597 598 599 "
    "670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692 800 "
    "808 850 852 853 855 856 870 878 880 881 882 883 886 888 960 961 962 963 964 965 966 967 "
    "968 970 971 972 973 974 975 976 977 979 992 993 994 995 996 998";

bool listed(std::string_view list, std::string_view code) {
  for (std::size_t at = list.find(code); at != std::string_view::npos;
       at = list.find(code, at + 1)) {
    bool starts_word = at == 0 || list[at - 1] == ' ';
    bool ends_word = at + code.size() == list.size() || list[at + code.size()] == ' ';
    if (starts_word && ends_word) return true;
  }
  return false;
}

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return s.starts_with(p); });
}

// Splits `length` digits after a leading group into groups of three, keeping the last
// group at two to four digits ("123 45", "123 4567") as most plans write subscriber numbers.
void append_subscriber_groups(std::vector<std::size_t>& groups, std::size_t length) {
  while (length > 4) {
    groups.push_back(3);
    length -= 3;
  }
  if (length > 0) groups.push_back(length);
}

std::vector<std::size_t> with_area(std::size_t area, std::size_t total) {
  if (area >= total) return {total};
  return {area, total - area};
}

}  // namespace

const std::vector<Region>& known_regions() {
  return regions();
}

const Region* find_region(std::string_view iso) {
  if (iso.size() != 2) return nullptr;
  for (const Region& r : regions()) {
    if (r.iso[0] == to_upper_ascii(iso[0]) && r.iso[1] == to_upper_ascii(iso[1])) return &r;
  }
  return nullptr;
}

const Region* region_for_calling_code(std::string_view calling_code) {
  // The first entry for a shared code is its main region (US for 1, GB for 44, RU for 7).
  for (const Region& r : regions()) {
    if (r.calling_code == calling_code) return &r;
  }
  return nullptr;
}

std::size_t calling_code_length(std::string_view digits) {
  if (digits.empty()) return 0;
  if (digits[0] == '1' || digits[0] == '7') return 1;
  if (digits.size() >= 2 && listed(kTwoDigitCodes, digits.substr(0, 2))) return 2;
  if (digits.size() >= 3 && listed(kThreeDigitCodes, digits.substr(0, 3))) return 3;
  return 0;
}

Expected<PhoneNumber> parse_e164(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Error{"\"" + std::string(text) + "\" is not a valid E.164 number (" + std::string(why) +
                 ")"};
  };
  if (text.empty() || text[0] != '+') return invalid("it must start with '+'");
  std::string_view digits = text.substr(1);
  if (!std::all_of(digits.begin(), digits.end(), is_digit)) {
    return invalid("only digits may follow '+', without spaces or separators");
  }
  if (digits.size() > 15) return invalid("more than 15 digits");
  std::size_t cc_length = calling_code_length(digits);
  if (cc_length == 0) return invalid("unassigned country calling code");
  PhoneNumber number{std::string(digits.substr(0, cc_length)),
                     std::string(digits.substr(cc_length))};
  std::size_t min = 4;
  std::size_t max = 15 - cc_length;
  if (const Region* region = number.region()) {
    min = region->national_min_length;
    max = region->national_max_length;
  }
  if (number.national.size() < min || number.national.size() > max) {
    return invalid("a number for +" + number.calling_code + " has " + std::to_string(min) +
                   (min == max ? "" : " to " + std::to_string(max)) +
                   " digits after the code, not " + std::to_string(number.national.size()));
  }
  if (const Region* region = number.region();
      region && region->trunk_prefix == "0" && number.national.starts_with('0')) {
    // Only where "0" is the trunk prefix can a national number never begin with it
    // (Russia's "8" trunk prefix also begins its 800 numbers).
    return invalid("the national part must not start with the trunk prefix " +
                   std::string(region->trunk_prefix));
  }
  return number;
}

std::vector<std::size_t> usual_grouping(const PhoneNumber& number) {
  const std::string& n = number.national;
  const std::size_t len = n.size();
  const Region* region = number.region();
  const Grouping grouping = region ? region->grouping : Grouping::generic;
  std::vector<std::size_t> groups;
  switch (grouping) {
    case Grouping::nanp:
      if (len == 10) return {3, 3, 4};
      break;
    case Grouping::fr:
      if (len == 9) return {1, 2, 2, 2, 2};
      break;
    case Grouping::ch:
      if (len == 9)
        return starts_with_any(n, {"800", "84", "90"}) ? std::vector<std::size_t>{3, 3, 3}
                                                       : std::vector<std::size_t>{2, 3, 2, 2};
      break;
    case Grouping::de:
      // Area codes are 2 to 5 digits; the big cities and mobile prefixes are known, the
      // rest most often 3 digits. The subscriber number is written unbroken.
      if (starts_with_any(n, {"30", "40", "69", "89"})) return with_area(2, len);
      return with_area(3, len);
    case Grouping::at:
      if (n.starts_with("1")) return with_area(1, len);
      return with_area(3, len);
    case Grouping::gb:
      if (len == 10) {
        if (n.starts_with("2")) return {2, 4, 4};
        if (n.starts_with("7") || (n.starts_with("1") && n[1] != '1' && n[2] != '1')) return {4, 6};
        return {3, 3, 4};
      }
      if (len == 9) return {4, 5};
      if (len == 7) return {3, 4};
      break;
    case Grouping::nl:
      if (n.starts_with("6")) return with_area(1, len);
      if (len == 9 &&
          starts_with_any(n, {"10", "13", "15", "20", "23", "24", "26", "30", "33", "35",
                              "36", "38", "40", "43", "45", "46", "50", "53", "55", "58",
                              "70", "71", "72", "73", "74", "75", "76", "77", "78", "79"}))
        return {2, 3, 4};
      return with_area(3, len);
    case Grouping::it: {
      // "06 1234 5678", "02 1234 5678", "0471 123456", "347 123 4567".
      const std::size_t area = n.starts_with("02") || n.starts_with("06") ? 2
                               : n.starts_with("0")                       ? 4
                                                                          : 3;
      if (area >= len) return {len};
      groups.push_back(area);
      if (len - area == 8) return {area, 4, 4};
      if (n.starts_with("0")) return with_area(area, len);
      append_subscriber_groups(groups, len - area);
      return groups;
    }
    case Grouping::es:
      if (len == 9) return {3, 3, 3};
      break;
    case Grouping::be:
      if (len == 9) return {3, 2, 2, 2};
      if (len == 8) return {1, 3, 2, 2};
      break;
    case Grouping::generic:
      break;
  }
  if (len <= 4) return {len};
  groups.push_back(len >= 9 ? 3 : 2);
  append_subscriber_groups(groups, len - groups.front());
  return groups;
}

std::string format_for_display(const PhoneNumber& number, const Region& home) {
  const std::vector<std::size_t> groups = usual_grouping(number);
  std::vector<std::string> parts;
  std::size_t at = 0;
  for (std::size_t size : groups) {
    parts.push_back(number.national.substr(at, size));
    at += size;
  }
  std::string out;
  if (number.calling_code == home.calling_code) {
    if (home.grouping == Grouping::nanp && parts.size() == 3)
      return "(" + parts[0] + ") " + parts[1] + "-" + parts[2];
    out = std::string(home.trunk_optional ? "" : home.trunk_prefix);
  } else {
    out = "+" + number.calling_code + " ";
  }
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : " ") + parts[i];
  return out;
}

}  // namespace callswap
