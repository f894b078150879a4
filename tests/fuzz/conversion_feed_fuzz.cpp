// libFuzzer target for the offline conversion feeds Google Ads and Microsoft Ads fetch
// (server/conversions.cpp), written from fuzzed conversions and read back with a CSV reader
// of its own. The input is records separated by NUL bytes, each a click id, 0x01, a
// conversion name, 0x01, then bytes for the time, the value and the UTC offset. Records
// whose click id or name the server would never hold (checked where they arrive: a token;
// no quote or line break) are left out. Invariants: the file is the Parameters line, the
// platform's header and one line per conversion; each line reads back as exactly the click
// id, the name, the time, the value to the cent and the currency; the time is the moment
// at the offset to the second (checked with a calendar conversion of its own).

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "conversions.hpp"
#include "fuzz_check.hpp"

namespace {

using callswap::server::FeedRow;
using fuzz::require;

// Days since 1970-01-01 of a civil date (the inverse of the feed's conversion).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

// One CSV line into its fields (RFC 4180 quoting); false if it is not well-formed.
bool read_csv_line(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
    } else {
      while (i < line.size() && line[i] != ',') field += line[i++];
    }
    fields.push_back(field);
    if (i == line.size()) return true;
    if (line[i] != ',') return false;
    ++i;
  }
}

bool is_token(std::string_view text) {
  return !text.empty() && text.size() <= 512 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
  });
}

std::uint64_t number(std::string_view bytes, std::size_t from) {
  std::uint64_t out = 0;
  for (std::size_t i = from; i < from + 8 && i < bytes.size(); ++i)
    out = out << 8 | static_cast<unsigned char>(bytes[i]);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::text(data, size);
  callswap::server::ConversionConfig rules;
  rules.enabled = true;
  rules.currency = "EUR";
  const int offset_minutes = static_cast<int>(number(input, 0) % (2 * 14 * 60 + 1)) - 14 * 60;
  rules.zone = callswap::server::TimeZone::fixed(offset_minutes * 60);
  rules.time_zone = "+0000";  // the Parameters line is the config's text, checked as given
  std::vector<FeedRow> rows;
  while (!input.empty()) {
    const std::size_t end = input.find('\0');
    const std::string_view record = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
    const std::size_t a = record.find('\x01');
    const std::size_t b = a == std::string_view::npos ? a : record.find('\x01', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view click = record.substr(0, a);
    const std::string_view name = record.substr(a + 1, b - a - 1);
    const std::string_view rest = record.substr(b + 1);
    if (!is_token(click) || name.empty() || name.size() > 100 ||
        name.find_first_of("\"\r\n") != std::string_view::npos)
      continue;
    // From 1970 to the end of 9999, in milliseconds; values up to 10^9 in cents.
    const auto at = static_cast<callswap::Millis>(number(rest, 0) % 253402300799000ULL);
    const double value = static_cast<double>(number(rest, 8) % 100000000001ULL) / 100;
    rows.push_back(FeedRow{std::string(click), std::string(name), at, value});
  }
  for (const auto platform :
       {callswap::server::AdPlatform::google_ads, callswap::server::AdPlatform::microsoft_ads}) {
    const std::string feed = callswap::server::conversion_feed(platform, rules, rows);
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < feed.size();) {
      const std::size_t end = feed.find("\r\n", at);
      require(end != std::string::npos);  // every line ends with CRLF
      lines.push_back(feed.substr(at, end - at));
      at = end + 2;
    }
    require(lines.size() == rows.size() + 2);
    require(lines[0] == "Parameters:TimeZone=+0000");
    require(
        lines[1] ==
        std::string(platform == callswap::server::AdPlatform::google_ads ? "Google" : "Microsoft") +
            " Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency");
    std::vector<std::string> fields;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      require(read_csv_line(lines[i + 2], fields));
      require(fields.size() == 5);
      require(fields[0] == rows[i].click_id && fields[1] == rows[i].name && fields[4] == "EUR");
      const double value = std::strtod(fields[3].c_str(), nullptr);
      require(std::fabs(value - rows[i].value) <= 0.005 + rows[i].value * 1e-12);
      int y = 0;
      unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
      require(fields[2].size() == 19 && std::sscanf(fields[2].c_str(), "%4d-%2u-%2u %2u:%2u:%2u",
                                                    &y, &mo, &d, &h, &mi, &s) == 6);
      const long long seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
      const long long local_ms = rows[i].at + offset_minutes * 60'000LL;
      const long long expected = local_ms >= 0 ? local_ms / 1000 : (local_ms - 999) / 1000;
      require(seconds == expected);
    }
  }
  return 0;
}
