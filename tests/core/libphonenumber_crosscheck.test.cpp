// Cross-check against Google's libphonenumber: on a generated corpus of mixed
// text, every occurrence that PhoneNumberMatcher finds at VALID leniency and that equals a
// target must be found by callswap. Where the two disagree otherwise, the test prints why.

#include <phonenumbers/phonenumbermatch.h>
#include <phonenumbers/phonenumbermatcher.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <callswap/matcher.hpp>
#include <catch2/catch.hpp>
#include <climits>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "text_helpers.hpp"

namespace {

using i18n::phonenumbers::PhoneNumberMatch;
using i18n::phonenumbers::PhoneNumberMatcher;
using i18n::phonenumbers::PhoneNumberUtil;
using LibNumber = i18n::phonenumbers::PhoneNumber;

const PhoneNumberUtil& util() {
  return *PhoneNumberUtil::GetInstance();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

struct Writing {
  std::string style;  // how it was written, for the report
  std::string text;
};

// The ways a page writes `number`: libphonenumber's own formats and the variants people use.
std::vector<Writing> writings(const LibNumber& number, const std::string& region) {
  std::string national, international, e164, rfc3966;
  util().Format(number, PhoneNumberUtil::NATIONAL, &national);
  util().Format(number, PhoneNumberUtil::INTERNATIONAL, &international);
  util().Format(number, PhoneNumberUtil::E164, &e164);
  util().Format(number, PhoneNumberUtil::RFC3966, &rfc3966);
  std::string nsn;
  util().GetNationalSignificantNumber(number, &nsn);
  const std::string cc = std::to_string(number.country_code());
  std::vector<Writing> out = {
      {"national", national},
      {"international", international},
      {"e164", e164},
      {"rfc3966", rfc3966},
      {"idd 00", "00" + international.substr(1)},
      {"national dashes", replace_all(national, " ", "-")},
      {"national dots", replace_all(national, " ", ".")},
      {"national nbsp", replace_all(national, " ", "\u00A0")},
      {"national narrow nbsp", replace_all(national, " ", "\u202F")},
      {"international dashes", replace_all(international, " ", "-")},
  };
  std::string trunk_national;
  util().GetNddPrefixForRegion(region, true, &trunk_national);
  if (trunk_national == "0" && national.starts_with("0")) {
    out.push_back({"international (0)", "+" + cc + " (0)" + international.substr(cc.size() + 2)});
    const std::size_t space = national.find(' ');
    if (space != std::string::npos && national.substr(0, space).find('-') == std::string::npos) {
      out.push_back(
          {"national slash", national.substr(0, space) + "/" + national.substr(space + 1)});
      out.push_back(
          {"national parens", "(" + national.substr(0, space) + ") " + national.substr(space + 1)});
    }
  }
  return out;
}

const char* const kWords[] = {"Kontakt",    "Service",
                              "call",       "us",
                              "today",      "Öffnungszeiten",
                              "Mo–Fr",      "appelez-nous",
                              "bel",        "ons",
                              "Straße",     "12",
                              "2024",       "€",
                              "19,99",      "Bestellnr.",
                              "A-1234",     "von",
                              "9",          "bis",
                              "18",         "Uhr",
                              "·",          "—",
                              "ÜBER",       "uns",
                              "10115",      "Berlin",
                              "03.01.2024", "Fax:",
                              "Tel.:",      "→"};
const char* const kBefore[] = {" ", " Tel. ", " (", " »", ": ", "\n", " ☎ ", " <b>", " call "};
const char* const kAfter[] = {" ", ") ", "« ", ". ", ", ", "\n", "</b> ", "* ", " ext. 12 "};

struct Report {
  int targets_found_by_libphonenumber = 0;
  int also_found_by_callswap = 0;
  int same_span = 0;
  int inserted = 0;
  std::map<std::string, int> only_callswap;        // style → count
  std::map<std::string, int> only_libphonenumber;  // style → count
  std::vector<std::string> span_differences;
  std::vector<std::string> misses;
};

}  // namespace

TEST_CASE("callswap finds every target that libphonenumber finds at VALID leniency",
          "[matcher][libphonenumber]") {
  const std::vector<std::string> regions = {"DE", "AT", "CH", "GB", "FR", "NL", "US", "CA",
                                            "IT", "ES", "BE", "DK", "SE", "PL", "IE", "AU"};
  std::mt19937 random(20261129);
  Report report;
  for (const std::string& region : regions) {
    // The targets: libphonenumber's own example numbers, valid by its metadata.
    std::vector<LibNumber> numbers;
    for (auto type : {PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE}) {
      LibNumber number;
      if (util().GetExampleNumberForType(region, type, &number) && util().IsValidNumber(number)) {
        numbers.push_back(number);
      }
    }
    REQUIRE_FALSE(numbers.empty());
    std::vector<std::string> targets;
    for (const LibNumber& n : numbers) {
      std::string e164;
      util().Format(n, PhoneNumberUtil::E164, &e164);
      INFO(region << " example " << e164);
      REQUIRE(callswap::parse_e164(e164).ok());
      targets.push_back(e164);
    }
    const auto matcher = test::matcher(region, targets);

    // The corpus: filler words with every writing of every target, in shuffled contexts,
    // and the same writings with one digit changed as distractors.
    std::string text;
    std::map<std::size_t, std::string> style_at;  // offset of an inserted target → style
    for (int round = 0; round < 4; ++round) {
      for (const LibNumber& n : numbers) {
        for (const Writing& w : writings(n, region)) {
          for (int k = 0; k < 3; ++k)
            text += std::string(kWords[random() % std::size(kWords)]) + " ";
          text += kBefore[random() % std::size(kBefore)];
          style_at[text.size()] = w.style;
          text += w.text;
          text += kAfter[random() % std::size(kAfter)];
          std::string distractor = w.text;
          const std::size_t last_digit = distractor.find_last_of("0123456789");
          distractor[last_digit] =
              distractor[last_digit] == '9' ? '0' : static_cast<char>(distractor[last_digit] + 1);
          text += kWords[random() % std::size(kWords)];
          text += " " + distractor + kAfter[random() % std::size(kAfter)];
        }
      }
    }

    std::vector<callswap::Match> ours = matcher.find(text);
    std::set<std::size_t> ours_confirmed;
    PhoneNumberMatcher theirs(util(), text, region, PhoneNumberMatcher::VALID, INT_MAX);
    PhoneNumberMatch match;
    while (theirs.HasNext()) {
      REQUIRE(theirs.Next(&match));
      std::string e164;
      util().Format(match.number(), PhoneNumberUtil::E164, &e164);
      const auto target = std::find(targets.begin(), targets.end(), e164);
      if (target == targets.end()) continue;
      ++report.targets_found_by_libphonenumber;
      const std::size_t start = static_cast<std::size_t>(match.start());
      const std::size_t end = start + match.raw_string().size();
      REQUIRE(text.substr(start, end - start) == match.raw_string());  // offsets are bytes
      const auto overlapping =
          std::find_if(ours.begin(), ours.end(), [&](const callswap::Match& m) {
            return m.start < end && start < m.end && targets[m.target] == e164;
          });
      if (overlapping == ours.end()) {
        report.misses.push_back(region + ": \"" + match.raw_string() + "\" in \"" +
                                text.substr(start >= 20 ? start - 20 : 0, 60) + "\"");
        continue;
      }
      ++report.also_found_by_callswap;
      ours_confirmed.insert(overlapping->start);
      if (overlapping->start == start && overlapping->end == end) {
        ++report.same_span;
      } else if (report.span_differences.size() < 12) {
        report.span_differences.push_back(
            region + ": libphonenumber \"" + match.raw_string() + "\", callswap \"" +
            text.substr(overlapping->start, overlapping->end - overlapping->start) + "\"");
      }
    }
    for (const callswap::Match& m : ours) {
      if (ours_confirmed.count(m.start)) continue;
      const auto style = style_at.find(m.start);
      report.only_callswap[region + " " + (style == style_at.end() ? "other" : style->second)]++;
    }
    report.inserted += static_cast<int>(style_at.size());
    for (const auto& [offset, style] : style_at) {
      const bool found = std::any_of(ours.begin(), ours.end(),
                                     [&](const callswap::Match& m) { return m.start == offset; });
      if (!found && report.only_libphonenumber[region + " " + style]++ == 0) {
        std::cout << "  example not found by callswap: " << region << " "
                  << text.substr(offset >= 12 ? offset - 12 : 0, 50) << "\n";
      }
    }
  }

  std::cout << "libphonenumber cross-check: libphonenumber found "
            << report.targets_found_by_libphonenumber << " target occurrences; callswap found "
            << report.also_found_by_callswap << " of them (" << report.same_span
            << " with the same span)\n";
  for (const auto& d : report.span_differences) std::cout << "  span differs: " << d << "\n";
  for (const auto& [style, count] : report.only_callswap) {
    std::cout << "  found by callswap only: " << style << " x" << count << "\n";
  }
  int not_found = 0;
  for (const auto& [style, count] : report.only_libphonenumber) {
    std::cout << "  inserted, found by neither: " << style << " x" << count << "\n";
    not_found += count;
  }
  for (const auto& miss : report.misses) std::cout << "  MISSED: " << miss << "\n";
  CHECK(report.targets_found_by_libphonenumber > 500);
  CHECK(report.misses.empty());
  // The rest were written into ambiguous neighbourhoods ("030 123456 9": is the 9 part of
  // the number?) that neither finds; they must stay rare.
  std::cout << "  inserted " << report.inserted << " writings of targets; " << not_found
            << " found by neither\n";
  CHECK(not_found * 100 <= report.inserted);
}
