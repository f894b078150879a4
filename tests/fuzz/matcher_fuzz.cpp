// libFuzzer target for the matcher and the formatter: any bytes as UTF-8 and as
// UTF-16 must give in-bounds, ordered, non-overlapping matches, and every text match must
// reformat to itself. A broken invariant traps, so the fuzzer reports it as a crash.

#include <callswap/formatter.hpp>
#include <callswap/matcher.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

const std::vector<callswap::Matcher>& matchers() {
  static const std::vector<callswap::Matcher> all = [] {
    const std::vector<std::string> targets = {"+49301234567",  "+4930123456",  "+15551234567",
                                              "+442079460958", "+33123456789", "+390612345678",
                                              "+4315123456"};
    std::vector<callswap::Matcher> out;
    for (const char* country : {"DE", "US", "GB", "FR", "IT", "AT"}) {
      out.push_back(std::move(callswap::Matcher::create(country, targets)).value());
    }
    return out;
  }();
  return all;
}

template <class CharT>
void check(const callswap::Matcher& matcher, std::basic_string_view<CharT> text,
           const callswap::PhoneNumber& replacement) {
  const auto matches = matcher.find(text);
  const callswap::Matcher again_matcher(matcher.default_region(), {replacement});
  std::size_t previous_end = 0;
  for (const callswap::Match& m : matches) {
    require(m.start >= previous_end && m.start < m.end && m.end <= text.size());
    require(m.extension_end >= m.end && m.extension_end <= text.size());
    require(m.national_start < m.end - m.start);
    require(m.target < matcher.targets().size());
    previous_end = m.extension_end;
    const auto matched = text.substr(m.start, m.end - m.start);
    const auto& target = matcher.targets()[m.target];
    const auto again = callswap::format_like(matched, m, target, target);
    if (m.kind == callswap::MatchKind::text) require(again == matched);
    // What callswap writes, it finds again: the replacement, whatever its length or
    // country, reads back as one whole number (rescans and revert rely on this).
    if (m.kind == callswap::MatchKind::text) {
      const auto swapped = callswap::format_like(matched, m, target, replacement);
      const auto found = again_matcher.find(std::basic_string_view<CharT>(swapped));
      require(found.size() == 1 && found[0].start == 0 && found[0].end == swapped.size());
    }
  }
  std::vector<std::optional<callswap::PhoneNumber>> replacements(matcher.targets().size(),
                                                                 replacement);
  const auto edits = callswap::plan_edits(text, matches, matcher, replacements);
  (void)callswap::apply_edits(text, edits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto& all = matchers();
  const callswap::Matcher& matcher = all[data[0] % all.size()];
  static const callswap::PhoneNumber replacements[] = {
      *callswap::parse_e164("+49309876543"), *callswap::parse_e164("+4989123456789"),
      *callswap::parse_e164("+12125550199"), *callswap::parse_e164("+4315123456")};
  const auto& replacement = replacements[data[1] % std::size(replacements)];
  const std::string_view utf8(reinterpret_cast<const char*>(data + 2), size - 2);
  check(matcher, utf8, replacement);
  std::u16string utf16((size - 2) / 2, u'\0');
  for (std::size_t i = 0; i < utf16.size(); ++i) {
    utf16[i] = static_cast<char16_t>(data[2 + 2 * i] | (data[3 + 2 * i] << 8));
  }
  check(matcher, std::u16string_view(utf16), replacement);
  // Also the UTF-8 text widened unit by unit, so ASCII inputs exercise the UTF-16 path.
  std::u16string widened(utf8.begin(), utf8.end());
  check(matcher, std::u16string_view(widened), replacement);
  return 0;
}
