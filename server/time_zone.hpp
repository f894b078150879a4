#pragma once
// Time zones for the times the conversion feeds write: a fixed UTC offset, or an IANA name
// ("Europe/Berlin") read from the system's compiled zoneinfo (TZif files, RFC 8536, from
// Debian's tzdata). gcc 12's libstdc++ has no std::chrono time zone database, so the server
// reads the files itself: the transitions they list, then the POSIX TZ rule in their footer
// for every instant after the last one (the files stop listing transitions in 2037 or
// earlier).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callswap::server {

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar, and back.
long long days_from_civil(long long year, unsigned month, unsigned day);
void civil_from_days(long long days, long long& year, unsigned& month, unsigned& day);

/// A POSIX TZ string as a TZif footer carries it: "CET-1CEST,M3.5.0,M10.5.0/3".
/// Offsets are seconds east of UTC (the string itself counts west).
struct PosixTimeZone {
  /// The day of the year a change happens: "Jn" (1-365, February 29 never counted), "n"
  /// (0-365, counted), or "Mm.w.d" (weekday d of week w of month m, week 5: the last).
  struct Change {
    enum class Kind { julian, day_of_year, month_week_day } kind = Kind::month_week_day;
    int day = 0;  ///< julian and day_of_year
    int month = 0;
    int week = 0;
    int weekday = 0;
    int time = 7200;  ///< seconds after local midnight, -167 h to 167 h
  };
  int std_offset = 0;
  bool has_dst = false;
  int dst_offset = 0;
  Change start;  ///< in local standard time
  Change end;    ///< in local daylight saving time

  /// Seconds east of UTC at `unix_seconds`.
  int offset_at(std::int64_t unix_seconds) const;
};
/// nullopt for anything that is not a POSIX TZ string with, if it has daylight saving
/// time, both its rules (a footer without them names no rule to follow).
std::optional<PosixTimeZone> parse_posix_time_zone(std::string_view text);

class TimeZone {
 public:
  /// One offset from `at` on (seconds since the epoch) until the next transition.
  struct Transition {
    std::int64_t at = 0;
    int offset = 0;
  };

  /// UTC.
  TimeZone() = default;
  /// `offset_seconds` east of UTC, always.
  static TimeZone fixed(int offset_seconds);
  /// A zone from the bytes of a TZif file of version 2 or later; nullopt with `error` set to
  /// why not. Version 1 files (32-bit times only) and leap-second ("right/") files are
  /// refused: their times would be wrong after 2038 or by the leap seconds.
  static std::optional<TimeZone> from_tzif(std::string_view bytes, std::string& error);

  /// Seconds east of UTC at `unix_seconds`: the offset before the first transition, the one
  /// the last transition at or before it set, or after the last one the footer's rule.
  int offset_at(std::int64_t unix_seconds) const;

  const std::vector<Transition>& transitions() const { return transitions_; }
  int initial_offset() const { return initial_offset_; }
  const std::optional<PosixTimeZone>& rule() const { return rule_; }

 private:
  int initial_offset_ = 0;
  std::vector<Transition> transitions_;
  std::optional<PosixTimeZone> rule_;
};

/// An IANA time zone name as tzdata spells it: components of letters, digits, '_', '+' and
/// '-' separated by single slashes, at most 255 bytes. Nothing else reaches the file system
/// ("..", a leading slash, an empty component are all refused).
bool valid_time_zone_name(std::string_view name);

/// The zone `name` from the compiled zoneinfo in `zoneinfo_dir` (/usr/share/zoneinfo): the
/// name must be valid, listed as a zone or link in the directory's tzdata.zi when it has
/// one (so "localtime" or "posixrules" are not taken for zones), and its file a TZif file
/// the server reads. nullopt with `error` saying why otherwise.
std::optional<TimeZone> load_time_zone(std::string_view name, const std::string& zoneinfo_dir,
                                       std::string& error);

}  // namespace callswap::server
