// Matcher throughput on a few MB of realistic page text, against Google's libphonenumber
// PhoneNumberMatcher on the same text in the same run. Prints MB/s and ratios.
// The text is cut into pages of 16 KB, as a swapper meets it; both engines scan page by
// page. (libphonenumber over one multi-megabyte string slows down far more than linearly:
// 1 MB in one piece took 50 s here.)
//   build/bin/matcher_bench [megabytes=4] [repetitions=7]

#include <phonenumbers/phonenumbermatch.h>
#include <phonenumbers/phonenumbermatcher.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <callswap/matcher.hpp>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using i18n::phonenumbers::PhoneNumberMatch;
using i18n::phonenumbers::PhoneNumberMatcher;
using i18n::phonenumbers::PhoneNumberUtil;

// A German shop's pages: words, prices, dates, postcodes, order numbers, markup, and now
// and then a phone number, the site's own in its many spellings or someone else's.
std::string make_page_text(std::size_t bytes) {
  const char* const words[] = {"Willkommen",
                               "bei",
                               "unserem",
                               "Shop",
                               "für",
                               "Gartenmöbel",
                               "und",
                               "Zubehör",
                               "Lieferung",
                               "in",
                               "2–4",
                               "Werktagen",
                               "versandkostenfrei",
                               "ab",
                               "49,90 €",
                               "Artikelnummer",
                               "A-10442",
                               "Bestellnr.",
                               "2024-118273",
                               "Größe",
                               "120×80 cm",
                               "Öffnungszeiten:",
                               "Mo–Fr",
                               "9–18 Uhr",
                               "Straße",
                               "des",
                               "17. Juni",
                               "12",
                               "10115",
                               "Berlin",
                               "Stand:",
                               "03.01.2024",
                               "<p>",
                               "</p>",
                               "<a href=\"/kontakt\">",
                               "</a>",
                               "<li>",
                               "&nbsp;",
                               "customer",
                               "service",
                               "returns",
                               "within",
                               "30",
                               "days",
                               "IBAN",
                               "DE89 3704 0044 0532 0130 00",
                               "Menge:",
                               "3",
                               "Stück",
                               "©",
                               "2026"};
  const char* const numbers[] = {
      "030 123456",     "+49 30 123456",    "+49 (0)30 123456", "(030) 12 34 56", "030/123456",
      "0151 23456789",  "+49 1512 3456789", "tel:+4930123456",  "089 98765432",   "+49 40 555 0199",
      "0800 111 22 33", "+1 201-555-0123",  "0049 30 123456"};
  std::mt19937 random(42);
  std::string text;
  text.reserve(bytes + 64);
  while (text.size() < bytes) {
    for (int i = 0; i < 300; ++i) {
      text += words[random() % std::size(words)];
      text += (random() % 12 == 0) ? ".\n" : " ";
    }
    text += "Telefon: ";
    text += numbers[random() % std::size(numbers)];
    text += "\n";
  }
  return text;
}

double seconds(const std::function<std::size_t()>& run, int repetitions, std::size_t& result) {
  std::vector<double> times;
  for (int i = 0; i < repetitions; ++i) {
    const auto start = std::chrono::steady_clock::now();
    result = run();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];  // the median
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t megabytes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 4;
  const int repetitions = argc > 2 ? std::atoi(argv[2]) : 7;
  const std::string text = make_page_text(megabytes << 20);
  const std::u16string wide(text.begin(),
                            text.end());  // byte-wise widening: same work, UTF-16 units
  constexpr std::size_t kPageBytes = 16 << 10;
  std::vector<std::string_view> pages;  // cut at line ends, so no number is split
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', std::min(text.size(), at + kPageBytes));
    end = end == std::string::npos ? text.size() : end + 1;
    pages.push_back(std::string_view(text).substr(at, end - at));
    at = end;
  }
  const std::vector<std::string> targets = {"+4930123456", "+4915123456789"};
  const auto matcher = std::move(callswap::Matcher::create("DE", targets)).value();
  const double mb = static_cast<double>(text.size()) / (1 << 20);

  std::size_t floor_count = 0, utf8_count = 0, utf16_count = 0, lib_count = 0;
  // The floor: one pass that only looks at every byte for a digit.
  const double floor_s = seconds(
      [&] {
        return static_cast<std::size_t>(
            std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }));
      },
      repetitions, floor_count);
  const double utf8_s = seconds(
      [&] {
        std::size_t found = 0;
        for (std::string_view page : pages) found += matcher.find(page).size();
        return found;
      },
      repetitions, utf8_count);
  const double utf16_s = seconds(
      [&] {
        std::size_t found = 0;
        std::size_t at = 0;
        for (std::string_view page : pages) {
          found += matcher.find(std::u16string_view(wide).substr(at, page.size())).size();
          at += page.size();
        }
        return found;
      },
      repetitions, utf16_count);
  const auto& util = *PhoneNumberUtil::GetInstance();
  const double lib_s = seconds(
      [&] {
        std::size_t found = 0;
        PhoneNumberMatch match;
        std::string e164;
        for (std::string_view page : pages) {
          PhoneNumberMatcher lib(util, std::string(page), "DE", PhoneNumberMatcher::VALID, INT_MAX);
          while (lib.HasNext() && lib.Next(&match)) {
            util.Format(match.number(), PhoneNumberUtil::E164, &e164);
            found += std::find(targets.begin(), targets.end(), e164) != targets.end();
          }
        }
        return found;
      },
      std::max(1, repetitions / 3), lib_count);

  std::printf(
      "text: %.1f MB of generated German shop pages in %zu pages, %d repetitions (median; "
      "libphonenumber %d)\n",
      mb, pages.size(), repetitions, std::max(1, repetitions / 3));
  std::printf("%-44s %10s %12s %18s\n", "", "MB/s", "matches", "speed vs callswap");
  std::printf("%-44s %10.1f %12s %17.2fx\n", "floor: count digits (one pass, no matching)",
              mb / floor_s, "-", utf8_s / floor_s);
  std::printf("%-44s %10.1f %12zu %17.2fx\n", "callswap Matcher::find, UTF-8", mb / utf8_s,
              utf8_count, 1.0);
  std::printf("%-44s %10.1f %12zu %17.2fx\n", "callswap Matcher::find, UTF-16", mb / utf16_s,
              utf16_count, utf8_s / utf16_s);
  std::printf("%-44s %10.1f %12zu %17.4fx\n", "libphonenumber PhoneNumberMatcher (VALID)",
              mb / lib_s, lib_count, utf8_s / lib_s);
  std::printf(
      "callswap is %.0fx faster than libphonenumber and takes %.1fx the time of the digit-counting "
      "floor\n",
      lib_s / utf8_s, utf8_s / floor_s);
  return utf8_count == utf16_count ? 0 : 1;
}
