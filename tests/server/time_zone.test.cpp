// Time zones for the conversion feeds (server/time_zone.cpp): the system's compiled zoneinfo
// read by the server's own TZif parser, checked against a table worked out with Python's
// zoneinfo and against the C library's own reader (`date`) over sweeps of instants, across
// daylight saving time in both hemispheres, a half-hour zone and far-future dates that only
// the files' POSIX TZ footers cover. Then the parser's refusals, on files built here.

#include "time_zone.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "conversions.hpp"
#include "temp_dir.hpp"

namespace {

using callswap::server::load_time_zone;
using callswap::server::parse_posix_time_zone;
using callswap::server::TimeZone;

const std::string kZoneinfo = "/usr/share/zoneinfo";

TimeZone zone(const std::string& name) {
  std::string error;
  auto loaded = load_time_zone(name, kZoneinfo, error);
  INFO(name << ": " << error);
  REQUIRE(loaded);
  return *loaded;
}

// "yyyy-mm-dd HH:MM:SS" local, as the feeds write it.
std::string local(const TimeZone& z, std::int64_t unix_seconds) {
  return callswap::server::feed_time(unix_seconds * 1000, z);
}

// The local times the C library's reader gives for `instants` in zone `name`: one `date`
// process reads them all (`-f`, one "@seconds" a line).
std::vector<std::string> reference_local_times(const std::string& name,
                                               const std::vector<std::int64_t>& instants) {
  test::TempDir dir;
  const std::string input = dir.file("instants");
  {
    std::ofstream out(input);
    for (const std::int64_t t : instants) out << '@' << t << '\n';
  }
  const std::string command = "TZ=':" + name + "' date -f " + input + " '+%Y-%m-%d %H:%M:%S'";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::vector<std::string> lines;
  char line[64];
  while (std::fgets(line, sizeof line, pipe)) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    lines.push_back(text);
  }
  REQUIRE(::pclose(pipe) == 0);
  REQUIRE(lines.size() == instants.size());
  return lines;
}

// A TZif file of version 2 as RFC 8536 lays it out: an empty version 1 block (one UTC type),
// then the 64-bit block and the footer. Each piece can be spoiled by the tests.
struct TzifBuilder {
  char version = '2';
  std::vector<std::int64_t> times;
  std::vector<std::uint8_t> type_of;
  std::vector<std::int32_t> offsets = {0};
  std::uint32_t leap_count = 0;
  std::string footer;
  std::string trailer;

  static void be32(std::string& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
  }
  static void header(std::string& out, char v, std::uint32_t leaps, std::uint32_t timecnt,
                     std::uint32_t typecnt) {
    out += "TZif";
    out += v;
    out.append(15, '\0');
    for (const std::uint32_t count : {0U, 0U, leaps, timecnt, typecnt, 4U}) be32(out, count);
  }
  std::string bytes() const {
    std::string out;
    header(out, version, 0, 0, 1);
    out.append(6, '\0');  // one type: UTC, not DST, designation 0
    out += "UTC";
    out += '\0';
    header(out, version, leap_count, static_cast<std::uint32_t>(times.size()),
           static_cast<std::uint32_t>(offsets.size()));
    for (const std::int64_t t : times) {
      be32(out, static_cast<std::uint32_t>(static_cast<std::uint64_t>(t) >> 32));
      be32(out, static_cast<std::uint32_t>(t));
    }
    for (const std::uint8_t i : type_of) out += static_cast<char>(i);
    for (const std::int32_t o : offsets) {
      be32(out, static_cast<std::uint32_t>(o));
      out += '\0';
      out += '\0';
    }
    out += "XYZ";
    out += '\0';
    for (std::uint32_t i = 0; i < leap_count; ++i) out.append(12, '\0');
    return out + '\n' + footer + '\n' + trailer;
  }
};

std::string refusal(const std::string& bytes) {
  std::string error;
  const auto z = TimeZone::from_tzif(bytes, error);
  return z ? std::string("accepted") : error;
}

}  // namespace

TEST_CASE("Zone offsets across daylight saving time, worked out independently", "[time_zone]") {
  struct Row {
    const char* zone;
    std::int64_t at;
    int offset;
    const char* local;
  };
  // Python's zoneinfo over the same tzdata: the second before and at each change.
  const Row rows[] = {
      {"Europe/Berlin", 1774745999, 3600, "2026-03-29 01:59:59"},
      {"Europe/Berlin", 1774746000, 7200, "2026-03-29 03:00:00"},
      {"Europe/Berlin", 1792889999, 7200, "2026-10-25 02:59:59"},
      {"Europe/Berlin", 1792890000, 3600, "2026-10-25 02:00:00"},
      // Past the file's last transition (2037): the footer's rule.
      {"Europe/Berlin", 7265725199, 3600, "2200-03-30 01:59:59"},
      {"Europe/Berlin", 7265725200, 7200, "2200-03-30 03:00:00"},
      {"America/New_York", 1772953199, -18000, "2026-03-08 01:59:59"},
      {"America/New_York", 1772953200, -14400, "2026-03-08 03:00:00"},
      {"America/New_York", 1793512799, -14400, "2026-11-01 01:59:59"},
      {"America/New_York", 1793512800, -18000, "2026-11-01 01:00:00"},
      {"America/New_York", 4108690799, -18000, "2100-03-14 01:59:59"},
      {"America/New_York", 4108690800, -14400, "2100-03-14 03:00:00"},
      // The southern hemisphere: summer time over the new year, ending in April.
      {"Australia/Sydney", 1775318399, 39600, "2026-04-05 02:59:59"},
      {"Australia/Sydney", 1775318400, 36000, "2026-04-05 02:00:00"},
      {"Australia/Sydney", 1791043199, 36000, "2026-10-04 01:59:59"},
      {"Australia/Sydney", 1791043200, 39600, "2026-10-04 03:00:00"},
      {"Australia/Sydney", 10413792000, 39600, "2300-01-01 11:00:00"},
      {"Australia/Sydney", 10429430400, 36000, "2300-07-01 10:00:00"},
      // Half an hour, and an hour more in the war years.
      {"Asia/Kolkata", -891561600, 23400, "1941-10-01 06:30:00"},
      {"Asia/Kolkata", 1780315200, 19800, "2026-06-01 17:30:00"},
      {"Asia/Kolkata", 16725225600, 19800, "2500-01-01 05:30:00"},
      {"UTC", 1780272000, 0, "2026-06-01 00:00:00"},
      {"UTC", 13569465600, 0, "2400-01-01 00:00:00"},
  };
  for (const Row& row : rows) {
    INFO(row.zone << " at " << row.at);
    const TimeZone z = zone(row.zone);
    CHECK(z.offset_at(row.at) == row.offset);
    CHECK(local(z, row.at) == row.local);
  }
  // The far-future rows above are past every transition the files list.
  CHECK(zone("Europe/Berlin").transitions().back().at < 7265725199);
  CHECK(zone("Europe/Berlin").rule().has_value());
}

TEST_CASE("Zone offsets agree with the C library's reader over sweeps of instants", "[time_zone]") {
  for (const std::string name :
       {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC",
        "America/Nuuk", "Pacific/Chatham", "Europe/Dublin"}) {
    const TimeZone z = zone(name);
    std::vector<std::int64_t> instants;
    // 1850 to 2400 in steps of 97 h 13 min: every season of every year, LMT before 1900.
    for (std::int64_t t = -3'786'825'600; t < 13'569'465'600; t += 97 * 3600 + 13 * 60)
      instants.push_back(t);
    // Every quarter hour of 2026 (the files' transitions) and of 2300 (the footer's rule).
    for (const std::int64_t year_start : {1'767'225'600LL, 10'413'792'000LL}) {
      for (std::int64_t t = year_start; t < year_start + 366 * 86'400; t += 900)
        instants.push_back(t);
    }
    // Each listed transition and the second before it.
    for (const TimeZone::Transition& tr : z.transitions()) {
      instants.push_back(tr.at - 1);
      instants.push_back(tr.at);
    }
    const std::vector<std::string> expected = reference_local_times(name, instants);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < instants.size(); ++i) {
      if (local(z, instants[i]) == expected[i]) continue;
      if (++mismatches <= 5)
        FAIL_CHECK(name << " at " << instants[i] << ": " << local(z, instants[i]) << ", date says "
                        << expected[i]);
    }
    INFO(name << ": " << instants.size() << " instants");
    CHECK(mismatches == 0);
  }
}

TEST_CASE("POSIX TZ footers", "[time_zone]") {
  const auto berlin = parse_posix_time_zone("CET-1CEST,M3.5.0,M10.5.0/3");
  REQUIRE(berlin);
  CHECK(berlin->std_offset == 3600);
  CHECK(berlin->dst_offset == 7200);
  const auto kolkata = parse_posix_time_zone("IST-5:30");
  REQUIRE(kolkata);
  CHECK_FALSE(kolkata->has_dst);
  CHECK(kolkata->offset_at(0) == 19800);
  const auto quoted = parse_posix_time_zone("<+0545>-5:45");
  REQUIRE(quoted);
  CHECK(quoted->offset_at(1'780'000'000) == 20700);
  // Daylight saving time all year: the end at 25:00 on the last day meets the next start.
  const auto always = parse_posix_time_zone("EST5EDT,0/0,J365/25");
  REQUIRE(always);
  for (const std::int64_t t : {1'767'225'600LL, 1'767'243'600LL, 1'780'000'000LL, 1'798'761'599LL})
    CHECK(always->offset_at(t) == -14400);
  // Negative change times (version 3), as Greenland's: Sunday 2026-03-29 at -1:00 local
  // time is Saturday 23:00 at -02:00, 2026-03-29 01:00 UTC.
  const auto nuuk = parse_posix_time_zone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  REQUIRE(nuuk);
  CHECK(nuuk->offset_at(1'774'745'999) == -7200);
  CHECK(nuuk->offset_at(1'774'746'000) == -3600);
  // Julian days never count February 29; plain day numbers do.
  const auto julian = parse_posix_time_zone("AAA0BBB,J60/0,J300/0");
  const auto counted = parse_posix_time_zone("AAA0BBB,59/0,300/0");
  REQUIRE(julian);
  REQUIRE(counted);
  // 2028 is a leap year: J60 is March 1, day 59 (from 0) is February 29.
  CHECK(julian->offset_at(1'835'481'600 - 1) == 0);   // 2028-02-29 23:59:59
  CHECK(julian->offset_at(1'835'481'600) == 3600);    // 2028-03-01 00:00
  CHECK(counted->offset_at(1'835'395'200 - 1) == 0);  // 2028-02-28 23:59:59
  CHECK(counted->offset_at(1'835'395'200) == 3600);   // 2028-02-29 00:00
  for (const char* bad :
       {"", "CE-1", "CET", "CET-25", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J365",
        "CET-1CEST,366,0", "CET-1CEST,M3.5.0/168,M10.5.0", "<AB>1", "<A/B>1", "CET-1:60",
        "CET-1CEST,M3.5.0,M10.5.0x", "CET-1\n"}) {
    INFO('"' << bad << '"');
    CHECK_FALSE(parse_posix_time_zone(bad));
  }
}

TEST_CASE("Only zone names from tzdata reach the file system", "[time_zone]") {
  using callswap::server::valid_time_zone_name;
  for (const char* good : {"Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+1",
                           "Etc/GMT-14", "UTC", "EST5EDT"})
    CHECK(valid_time_zone_name(good));
  for (const char* bad : {"", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd",
                          "Europe/./Berlin", "Europe//Berlin", "Europe/Berlin/", "Europe\\Berlin",
                          "Europe/Ber lin", "Europe/Berlin\n", ".", "..", "Europe/Berlin.bak"})
    CHECK_FALSE(valid_time_zone_name(bad));
  CHECK_FALSE(valid_time_zone_name(std::string(256, 'A')));

  std::string error;
  CHECK_FALSE(load_time_zone("../../../etc/passwd", kZoneinfo, error));
  CHECK(error.starts_with("is not a time zone name"));
  // Files in the directory that tzdata does not list as a zone or link.
  for (const char* not_zone :
       {"localtime", "posixrules", "right/Europe/Berlin", "Europe/Berln", "leapseconds"}) {
    INFO(not_zone);
    CHECK_FALSE(load_time_zone(not_zone, kZoneinfo, error));
    CHECK(error == "is not a time zone in /usr/share/zoneinfo");
  }
  // A link is a zone by another name.
  CHECK(zone("Asia/Calcutta").offset_at(1780315200) == 19800);
}

TEST_CASE("TZif files the server refuses, and what it reads from a small one", "[time_zone]") {
  // A zone of its own: -01:00 until 1,000,000 s, then +02:00, then the footer's +03:00.
  TzifBuilder made;
  made.times = {1'000'000};
  made.type_of = {1};
  made.offsets = {-3600, 7200};
  made.footer = "<+03>-3";
  const std::string bytes = made.bytes();
  std::string error;
  const auto z = TimeZone::from_tzif(bytes, error);
  INFO(error);
  REQUIRE(z);
  CHECK(z->offset_at(-5'000'000'000) == -3600);
  CHECK(z->offset_at(999'999) == -3600);
  CHECK(z->offset_at(1'000'000) == 7200);
  CHECK(z->offset_at(1'000'001) == 10800);

  // Every prefix of a real file is refused, none crashes.
  std::ifstream in(kZoneinfo + "/Europe/Berlin", std::ios::binary);
  const std::string berlin((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(refusal(berlin) == "accepted");
  for (std::size_t n = 0; n < berlin.size(); ++n) CHECK(refusal(berlin.substr(0, n)) != "accepted");

  auto spoiled = [&](auto change) {
    TzifBuilder b = made;
    change(b);
    return refusal(b.bytes());
  };
  CHECK(spoiled([](TzifBuilder& b) { b.version = '\0'; }) ==
        "a version 1 TZif file (32-bit times only)");
  CHECK(spoiled([](TzifBuilder& b) { b.leap_count = 1; }) ==
        "a TZif file with leap seconds (a \"right/\" zone)");
  CHECK(spoiled([](TzifBuilder& b) {
          b.times = {5, 5};
          b.type_of = {0, 1};
        }) == "the TZif file's transitions are not in ascending order");
  CHECK(spoiled([](TzifBuilder& b) { b.type_of = {2}; }) ==
        "a TZif transition names a time type that does not exist");
  CHECK(spoiled([](TzifBuilder& b) {
          b.offsets = {-3600, 93600};
        }) == "a TZif time type is out of range");
  CHECK(spoiled([](TzifBuilder& b) { b.footer = "Berlin"; }) ==
        "the TZif file's footer is not a POSIX TZ string it can follow");
  CHECK(spoiled([](TzifBuilder& b) { b.trailer = "x"; }) ==
        "the TZif file's footer is missing or malformed");
  CHECK(refusal("TZif") == "not a TZif file");
  CHECK(refusal(std::string(44, 'x')) == "not a TZif file");
}
