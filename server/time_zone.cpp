#include "time_zone.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace callswap::server {
namespace {

constexpr std::int64_t kDaySeconds = 86'400;
// The Gregorian calendar repeats itself, weekdays included, every 400 years (146,097 days,
// exactly 20,871 weeks): a rule gives the same offset to instants 400 years apart.
constexpr std::int64_t kCycleSeconds = 146'097 * kDaySeconds;
// RFC 8536: a time type's offset lies in [-89999, 93599] seconds (under 25 and 26 hours).
constexpr int kMinOffset = -89'999;
constexpr int kMaxOffset = 93'599;
// No zone file comes near this; it bounds what a damaged one can make the server read.
constexpr std::uintmax_t kMaxFileBytes = 1 << 20;

bool leap_year(long long y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int month_length(long long y, unsigned m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : kDays[m - 1];
}

// 1970-01-01 was a Thursday; 0 is Sunday.
int weekday(long long days) {
  return static_cast<int>(((days % 7) + 7 + 4) % 7);
}

// The local time (seconds since the epoch, as if local time were UTC) of a change in `year`.
std::int64_t change_local_time(const PosixTimeZone::Change& change, long long year) {
  const long long jan1 = days_from_civil(year, 1, 1);
  long long day = jan1;
  switch (change.kind) {
    case PosixTimeZone::Change::Kind::julian:
      day = jan1 + change.day - 1 + (leap_year(year) && change.day >= 60 ? 1 : 0);
      break;
    case PosixTimeZone::Change::Kind::day_of_year:
      day = jan1 + change.day;
      break;
    case PosixTimeZone::Change::Kind::month_week_day: {
      const auto month = static_cast<unsigned>(change.month);
      const long long first = days_from_civil(year, month, 1);
      day = first + (change.weekday - weekday(first) + 7) % 7 + 7LL * (change.week - 1);
      while (day >= first + month_length(year, month)) day -= 7;
      break;
    }
  }
  return day * kDaySeconds + change.time;
}

// Reads a POSIX TZ string from left to right.
class PosixReader {
 public:
  explicit PosixReader(std::string_view text) : text_(text) {}
  bool done() const { return pos_ == text_.size(); }
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  // "CET" (three or more letters) or "<+0530>" (three or more of letters, digits, + and -).
  bool name() {
    const auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    std::size_t count = 0;
    if (take('<')) {
      while (pos_ < text_.size() && text_[pos_] != '>') {
        const char c = text_[pos_];
        if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-') return false;
        ++pos_;
        ++count;
      }
      return take('>') && count >= 3;
    }
    while (pos_ < text_.size() && alpha(text_[pos_])) {
      ++pos_;
      ++count;
    }
    return count >= 3;
  }

  // [+-]hh[:mm[:ss]] with hh up to `max_hours`, in seconds.
  std::optional<int> duration(int max_hours) {
    int sign = 1;
    if (take('-')) {
      sign = -1;
    } else {
      take('+');
    }
    const auto hours = number(3);
    if (!hours || *hours > max_hours) return std::nullopt;
    int seconds = *hours * 3600;
    for (int factor : {60, 1}) {
      if (!take(':')) break;
      const auto part = number(2);
      if (!part || *part > 59) return std::nullopt;
      seconds += *part * factor;
    }
    return sign * seconds;
  }

  std::optional<PosixTimeZone::Change> change() {
    PosixTimeZone::Change c;
    if (take('J')) {
      c.kind = PosixTimeZone::Change::Kind::julian;
      const auto day = number(3);
      if (!day || *day < 1 || *day > 365) return std::nullopt;
      c.day = *day;
    } else if (take('M')) {
      c.kind = PosixTimeZone::Change::Kind::month_week_day;
      const auto month = number(2);
      if (!month || *month < 1 || *month > 12 || !take('.')) return std::nullopt;
      const auto week = number(1);
      if (!week || *week < 1 || *week > 5 || !take('.')) return std::nullopt;
      const auto day = number(1);
      if (!day || *day > 6) return std::nullopt;
      c.month = *month;
      c.week = *week;
      c.weekday = *day;
    } else {
      c.kind = PosixTimeZone::Change::Kind::day_of_year;
      const auto day = number(3);
      if (!day || *day > 365) return std::nullopt;
      c.day = *day;
    }
    if (take('/')) {
      // RFC 8536 (version 3) extends the hours of a change's time to -167..167.
      const auto time = duration(167);
      if (!time) return std::nullopt;
      c.time = *time;
    }
    return c;
  }

 private:
  // 1 to `max_digits` decimal digits.
  std::optional<int> number(int max_digits) {
    int value = 0;
    int digits = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (++digits > max_digits) return std::nullopt;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return digits == 0 ? std::nullopt : std::optional<int>(value);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Big-endian integers from the file, never past its end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  std::size_t left() const { return bytes_.size() - pos_; }
  bool skip(std::uint64_t count) {
    if (count > left()) return false;
    pos_ += static_cast<std::size_t>(count);
    return true;
  }
  std::string_view take(std::size_t count) {
    const std::string_view out = bytes_.substr(pos_, count);
    pos_ += count;
    return out;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bytes_[pos_++]); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
    return v;
  }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return static_cast<std::int64_t>(v);
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  // The bytes of the data block that follows, with `time_size`-byte times.
  std::uint64_t data_size(std::uint64_t time_size) const {
    return std::uint64_t{timecnt} * time_size + timecnt + std::uint64_t{typecnt} * 6 + charcnt +
           std::uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
  }
};

std::optional<TzifHeader> read_header(ByteReader& in, std::string& error) {
  if (in.left() < 44 || in.take(4) != "TZif") {
    error = "not a TZif file";
    return std::nullopt;
  }
  TzifHeader h;
  h.version = static_cast<char>(in.u8());
  in.skip(15);
  h.isutcnt = in.u32();
  h.isstdcnt = in.u32();
  h.leapcnt = in.u32();
  h.timecnt = in.u32();
  h.typecnt = in.u32();
  h.charcnt = in.u32();
  return h;
}

}  // namespace

long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = m > 2 ? m - 3 : m + 9;  // March is month 0
  const unsigned doy = (153 * mp + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

void civil_from_days(long long z, long long& y, unsigned& m, unsigned& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<long long>(yoe) + era * 400 + (m <= 2);
}

int PosixTimeZone::offset_at(std::int64_t t) const {
  if (!has_dst) return std_offset;
  // Into the first 400-year cycle after 1970, where the calendar arithmetic cannot overflow.
  t %= kCycleSeconds;
  if (t < 0) t += kCycleSeconds;
  long long year = 0;
  unsigned month = 0;
  unsigned day = 0;
  const std::int64_t local = t + std_offset;
  civil_from_days(local >= 0 ? local / kDaySeconds : (local - kDaySeconds + 1) / kDaySeconds, year,
                  month, day);
  // The changes of the years around t, in UTC: a start is given in standard time, an end in
  // daylight saving time. With a change's time up to 167 hours, a year's change can fall
  // into the next year, so the last change at or before t may belong to any of the three.
  struct Event {
    std::int64_t at;
    bool dst;
  };
  std::array<Event, 6> events{};
  std::size_t n = 0;
  for (long long y = year - 1; y <= year + 1; ++y) {
    events[n++] = {change_local_time(end, y) - dst_offset, false};
    events[n++] = {change_local_time(start, y) - std_offset, true};
  }
  // On a tie the start wins: "0/0,J365/25" (daylight saving time all year) ends one year
  // at the instant it starts the next.
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.at < b.at || (a.at == b.at && !a.dst && b.dst);
  });
  const Event* last = nullptr;
  for (const Event& e : events) {
    if (e.at <= t) last = &e;
  }
  // Before all six changes (only with extreme change times): the opposite of the first.
  const bool dst = last ? last->dst : !events.front().dst;
  return dst ? dst_offset : std_offset;
}

std::optional<PosixTimeZone> parse_posix_time_zone(std::string_view text) {
  PosixReader in(text);
  PosixTimeZone tz;
  if (!in.name()) return std::nullopt;
  // The string's offsets count west of Greenwich, up to 24:59:59 (POSIX).
  const auto std_west = in.duration(24);
  if (!std_west) return std::nullopt;
  tz.std_offset = -*std_west;
  if (in.done()) return tz;
  if (!in.name()) return std::nullopt;
  tz.has_dst = true;
  tz.dst_offset = tz.std_offset + 3600;
  if (in.peek() != ',') {
    const auto dst_west = in.duration(24);
    if (!dst_west) return std::nullopt;
    tz.dst_offset = -*dst_west;
  }
  if (!in.take(',')) return std::nullopt;
  const auto start = in.change();
  if (!start || !in.take(',')) return std::nullopt;
  const auto end = in.change();
  if (!end || !in.done()) return std::nullopt;
  tz.start = *start;
  tz.end = *end;
  return tz;
}

TimeZone TimeZone::fixed(int offset_seconds) {
  TimeZone zone;
  zone.initial_offset_ = offset_seconds;
  return zone;
}

std::optional<TimeZone> TimeZone::from_tzif(std::string_view bytes, std::string& error) {
  ByteReader in(bytes);
  const auto first = read_header(in, error);
  if (!first) return std::nullopt;
  if (first->version != '2' && first->version != '3' && first->version != '4') {
    error = first->version == 0 ? "a version 1 TZif file (32-bit times only)"
                                : "an unknown TZif version";
    return std::nullopt;
  }
  // The version 1 block comes first for old readers; the 64-bit block after it is the one.
  if (!in.skip(first->data_size(4))) {
    error = "the TZif file ends inside its version 1 data";
    return std::nullopt;
  }
  const auto h = read_header(in, error);
  if (!h) return std::nullopt;
  if (h->version != first->version) {
    error = "the TZif file's two headers disagree on the version";
    return std::nullopt;
  }
  if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 ||
      (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
      (h->isutcnt != 0 && h->isutcnt != h->typecnt)) {
    error = "the TZif file's counts are inconsistent";
    return std::nullopt;
  }
  if (h->leapcnt != 0) {
    error = "a TZif file with leap seconds (a \"right/\" zone)";
    return std::nullopt;
  }
  if (h->data_size(8) > in.left()) {
    error = "the TZif file ends inside its data";
    return std::nullopt;
  }
  std::vector<std::int64_t> times(h->timecnt);
  for (std::int64_t& t : times) t = in.i64();
  if (std::adjacent_find(times.begin(), times.end(), std::greater_equal<>()) != times.end()) {
    error = "the TZif file's transitions are not in ascending order";
    return std::nullopt;
  }
  std::vector<std::uint8_t> type_of(h->timecnt);
  for (std::uint8_t& t : type_of) {
    t = in.u8();
    if (t >= h->typecnt) {
      error = "a TZif transition names a time type that does not exist";
      return std::nullopt;
    }
  }
  std::vector<int> offsets(h->typecnt);
  for (int& offset : offsets) {
    const auto raw = static_cast<std::int32_t>(in.u32());
    const std::uint8_t is_dst = in.u8();
    const std::uint8_t designation = in.u8();
    if (raw < kMinOffset || raw > kMaxOffset || is_dst > 1 || designation >= h->charcnt) {
      error = "a TZif time type is out of range";
      return std::nullopt;
    }
    offset = raw;
  }
  in.skip(h->charcnt);
  std::vector<std::uint8_t> standard(h->isstdcnt);
  for (std::uint8_t& s : standard) s = in.u8();
  for (std::uint32_t i = 0; i < h->isutcnt; ++i) {
    const std::uint8_t ut = in.u8();
    if (ut > 1 || (ut == 1 && (standard.empty() || standard[i] != 1))) {
      error = "a TZif file's UT/local indicators are inconsistent";
      return std::nullopt;
    }
  }
  if (std::any_of(standard.begin(), standard.end(), [](std::uint8_t s) { return s > 1; })) {
    error = "a TZif file's standard/wall indicators are out of range";
    return std::nullopt;
  }
  // The footer: the POSIX TZ string between two newlines, then the end of the file.
  const std::string_view rest = in.take(in.left());
  if (rest.size() < 2 || rest.front() != '\n' || rest.back() != '\n' ||
      rest.substr(1, rest.size() - 2).find('\n') != std::string_view::npos) {
    error = "the TZif file's footer is missing or malformed";
    return std::nullopt;
  }
  TimeZone zone;
  const std::string_view footer = rest.substr(1, rest.size() - 2);
  if (!footer.empty()) {
    zone.rule_ = parse_posix_time_zone(footer);
    if (!zone.rule_) {
      error = "the TZif file's footer is not a POSIX TZ string it can follow";
      return std::nullopt;
    }
  }
  // RFC 8536: before the first transition, time type 0 applies.
  zone.initial_offset_ = offsets[0];
  zone.transitions_.reserve(times.size());
  for (std::size_t i = 0; i < times.size(); ++i)
    zone.transitions_.push_back({times[i], offsets[type_of[i]]});
  return zone;
}

int TimeZone::offset_at(std::int64_t t) const {
  // A file without transitions but with a rule (a zone with daylight saving time all along,
  // written compactly) follows the rule everywhere, as tzcode does.
  if (rule_ && (transitions_.empty() || t > transitions_.back().at)) return rule_->offset_at(t);
  const auto after =
      std::upper_bound(transitions_.begin(), transitions_.end(), t,
                       [](std::int64_t at, const Transition& tr) { return at < tr.at; });
  return after == transitions_.begin() ? initial_offset_ : std::prev(after)->offset;
}

bool valid_time_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  std::size_t component = 0;
  for (const char c : name) {
    if (c == '/') {
      if (component == 0) return false;
      component = 0;
      continue;
    }
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-';
    if (!allowed) return false;
    ++component;
  }
  // '.' is not allowed at all, so no component is "." or "..".
  return component != 0;
}

std::optional<TimeZone> load_time_zone(std::string_view name, const std::string& zoneinfo_dir,
                                       std::string& error) {
  if (!valid_time_zone_name(name)) {
    error = "is not a time zone name (letters, digits, '_', '+' and '-' between single slashes)";
    return std::nullopt;
  }
  const std::filesystem::path dir(zoneinfo_dir);
  // tzdata.zi lists every zone ("Z name ...") and link ("L target name"): a file in the
  // directory that is not on it (localtime, posixrules, the right/ copies) is not a zone.
  if (std::ifstream index(dir / "tzdata.zi"); index) {
    bool listed = false;
    for (std::string line; !listed && std::getline(index, line);) {
      std::istringstream words(line);
      std::string kind;
      std::string first;
      std::string second;
      words >> kind >> first >> second;
      listed = (kind == "Z" && first == name) || (kind == "L" && second == name);
    }
    if (!listed) {
      error = "is not a time zone in " + zoneinfo_dir;
      return std::nullopt;
    }
  }
  const std::filesystem::path file = dir / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec) ||
      std::filesystem::file_size(file, ec) > kMaxFileBytes || ec) {
    error = "is not a time zone in " + zoneinfo_dir;
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    error = "could not be read from " + zoneinfo_dir;
    return std::nullopt;
  }
  std::string why;
  auto zone = TimeZone::from_tzif(bytes, why);
  if (!zone) error = "cannot be used: " + file.string() + " is " + why;
  return zone;
}

}  // namespace callswap::server
