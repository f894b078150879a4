#pragma once
/// \file Finding a site's phone numbers in text, in any common written form.
///
/// The matcher is linear in the text's length: one forward pass splits the text into
/// "runs" (digits joined by separators), and each run is compared digit by digit with
/// the targets' international and national forms. No regular expressions. It works on
/// UTF-8 (CLI, server) and on UTF-16 code units (browser: offsets are JS string indices).
/// See docs/matching.md for what is matched, what is not, and why.

#include <callswap/expected.hpp>
#include <callswap/phone_number.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callswap {

/// Where a match stood: in running text, or in a tel: URI (RFC 3966).
enum class MatchKind : std::uint8_t { text, tel };

/// How the number was written, which the formatter keeps.
enum class NumberForm : std::uint8_t {
  international,      ///< "+49 30 1234567", "+49 (0)30 1234567"
  international_idd,  ///< "0049 30 1234567", "011 49 30 1234567"
  national,           ///< "030 1234567", "(555) 123-4567", "1-555-123-4567"
};

/// One occurrence of a target. Offsets are in code units of the scanned text
/// (bytes for UTF-8, UTF-16 units for UTF-16); `end` is one past the last digit.
struct Match {
  std::size_t start = 0;           ///< first code unit ('+', '(', a digit, or the 't' of "tel:")
  std::size_t end = 0;             ///< one past the number's last digit
  std::size_t national_start = 0;  ///< offset of the first national-number digit from `start`
  std::size_t calling_code_end =
      0;                          ///< offset just past the calling code from `start`; 0 if national
  std::size_t extension_end = 0;  ///< one past a "-12" direct-dial suffix; equals `end` if none
  std::uint32_t target = 0;       ///< index into Matcher::targets()
  MatchKind kind = MatchKind::text;
  NumberForm form = NumberForm::national;

  [[nodiscard]] bool has_extension() const { return extension_end > end; }
  friend bool operator==(const Match&, const Match&) = default;
};

/// Finds the occurrences of a fixed set of target numbers in text.
class Matcher {
 public:
  /// `default_region` decides which national forms are read (those of targets in that
  /// country) and which international dialling prefix is understood besides "00".
  Matcher(const Region& default_region, std::vector<PhoneNumber> targets);

  /// Parses an ISO region and E.164 targets, with an error naming the bad one.
  static Expected<Matcher> create(std::string_view default_region_iso,
                                  std::span<const std::string> targets_e164);

  /// All matches in order of position; they never overlap. Invalid UTF-8 is read as
  /// opaque bytes: it never matches, never crashes, and never shifts an offset.
  [[nodiscard]] std::vector<Match> find(std::string_view utf8) const;
  /// The same over UTF-16 code units.
  [[nodiscard]] std::vector<Match> find(std::u16string_view utf16) const;

  [[nodiscard]] const std::vector<PhoneNumber>& targets() const { return targets_; }
  [[nodiscard]] const Region& default_region() const { return *default_region_; }

 private:
  template <class CharT>
  friend class RunScanner;

  const Region* default_region_;
  std::vector<PhoneNumber> targets_;
  // Each target's region, looked up once: the scanner needs it for every candidate run.
  std::vector<const Region*> target_regions_;
};

}  // namespace callswap
