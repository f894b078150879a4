#include <algorithm>
#include <callswap/matcher.hpp>
#include <optional>

#include "text.hpp"

namespace callswap {
namespace {

using detail::decode_at;

enum class Separator { none, space, dash, other, open, close };

// The characters that may stand between the digit groups of one number.
// Newlines and tabs are deliberately not among them: they end a number.
Separator classify(char32_t c) {
  switch (c) {
    case U' ':
    case U'\u00A0':  // no-break space
    case U'\u202F':  // narrow no-break space
    case U'\u2009':  // thin space
      return Separator::space;
    case U'-':
    case U'\u2010':  // hyphen
    case U'\u2011':  // non-breaking hyphen
    case U'\u2013':  // en dash
      return Separator::dash;
    case U'.':
    case U'/':
      return Separator::other;
    case U'(':
      return Separator::open;
    case U')':
      return Separator::close;
    default:
      return Separator::none;
  }
}

constexpr bool is_digit(char32_t c) {
  return c >= U'0' && c <= U'9';
}
constexpr bool is_alpha(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
}
constexpr char32_t lower(char32_t c) {
  return (c >= U'A' && c <= U'Z') ? c - U'A' + U'a' : c;
}

// A separator can join at most this many code points: "030 / 1234567", "(030) 1234567".
constexpr int kMaxSeparatorLength = 3;
// Digits that make the rest of a run a number of its own ("030 1234567 030 7654321"),
// rather than more digits of this one ("030 1234567 89").
constexpr std::size_t kMinDigitsOfNeighbour = 6;
// Longest direct-dial suffix read as an extension: "030 1234567-0", "555-123-4567-1234".
constexpr std::size_t kMaxExtensionDigits = 5;
// "(0049 (0)30 1234567)": a number in parentheses may hold parentheses of its own.
constexpr int kMaxOpenParens = 2;

}  // namespace

/// One pass over a text: splits it into runs of digit groups and compares each run with
/// the targets' forms. Instantiated for UTF-8 bytes and UTF-16 code units.
template <class CharT>
class RunScanner {
 public:
  using View = std::basic_string_view<CharT>;

  RunScanner(const Matcher& matcher, View text) : matcher_(matcher), text_(text) {}

  std::vector<Match> scan() {
    const std::size_t n = text_.size();
    for (std::size_t i = 0; i < n;) {
      const char32_t c = unit(i);
      const bool starts_run =
          is_digit(c) || ((c == U'+' || c == U'(') && i + 1 < n && is_digit(unit(i + 1)));
      if (!starts_run) {
        ++i;
        continue;
      }
      i = read_run(i);
      match_run();
    }
    return std::move(matches_);
  }

 private:
  struct Group {
    std::size_t first_digit;  // index into digits_
    std::size_t digit_count;
    std::size_t begin;       // code unit of the first digit
    std::size_t end;         // one past the last digit
    bool parenthesized;      // "(0)" or "(030)"
    std::size_t open_paren;  // where the '(' before it stands, or npos
    // Between a '(' and a ')' with spaces inside: "( 0 )". Enough to read a trunk prefix
    // after a calling code, which the match spans anyway; a number never starts at such a '('.
    bool enclosed = false;
  };

  // Reads digits from the run, across group boundaries, as a target's form is compared.
  struct Cursor {
    const RunScanner* scanner;
    std::size_t group;
    std::size_t offset = 0;  // digits consumed of `group`
    std::size_t digit;       // next index into digits_

    Cursor(const RunScanner* s, std::size_t g)
        : scanner(s), group(g), digit(s->groups_[g].first_digit) {}

    bool eat(std::string_view want) {
      const auto& groups = scanner->groups_;
      for (char c : want) {
        if (group >= groups.size() || scanner->digits_[digit] != c) return false;
        ++digit;
        if (++offset == groups[group].digit_count) ++group, offset = 0;
      }
      return true;
    }
    // The trunk prefix written after the calling code is skipped: "+49 (0)30 ..." (DIN 5008
    // and British style), and the common slip "+49 030 ..." where a national number can
    // never begin with the trunk prefix "0" (so the 0 cannot belong to it).
    void skip_trunk_after_code(std::string_view trunk) {
      const auto& groups = scanner->groups_;
      if (trunk.empty() || offset != 0 || group >= groups.size()) return;
      const Group& g = groups[group];
      if ((g.parenthesized || g.enclosed) &&
          std::string_view(scanner->digits_).substr(g.first_digit, g.digit_count) == trunk) {
        digit += g.digit_count;
        ++group;
      } else if (trunk == "0" && scanner->digits_[digit] == '0' && g.digit_count > 1) {
        eat("0");
      }
    }
    [[nodiscard]] bool at_group_end() const { return offset == 0; }
  };

  char32_t unit(std::size_t i) const {
    if constexpr (sizeof(CharT) == 1) {
      return static_cast<unsigned char>(text_[i]);
    } else {
      return static_cast<char32_t>(text_[i]);
    }
  }

  bool ascii_at(std::size_t i, char32_t want) const { return i < text_.size() && unit(i) == want; }

  // Returns one past the run's last digit.
  std::size_t read_run(std::size_t begin) {
    const std::size_t n = text_.size();
    digits_.clear();
    digit_pos_.clear();
    groups_.clear();
    run_begin_ = begin;
    std::size_t i = begin;
    plus_ = unit(i) == U'+';
    if (plus_) ++i;
    opens_with_paren_ = unit(i) == U'(';
    std::size_t open_paren = opens_with_paren_ ? i : View::npos;
    if (opens_with_paren_) ++i;
    read_context_before(begin);

    int open_parens = opens_with_paren_ ? 1 : 0;
    bool opened = opens_with_paren_;  // a '(' in the separator before this group
    while (true) {
      Group group{digits_.size(), 0, i, 0, false, open_paren};
      while (i < n && is_digit(unit(i))) {
        digits_.push_back(static_cast<char>(unit(i)));
        digit_pos_.push_back(i);
        ++i;
      }
      group.digit_count = digits_.size() - group.first_digit;
      group.end = i;
      const std::size_t j = read_separator(i, open_parens);
      open_paren = View::npos;
      bool closes = false;
      for (std::size_t k = i; k < j; ++k) closes = closes || unit(k) == U')';
      group.parenthesized = closes && group.open_paren != View::npos;
      group.enclosed = closes && opened;
      opened = false;
      for (std::size_t k = i; k < j; ++k) opened = opened || unit(k) == U'(';
      // A '(' opens the next group only right before its first digit: "(030)", not "( 030)",
      // which a run never starts with (what is written must read back the same).
      if (j > i && unit(j - 1) == U'(') open_paren = j - 1;
      groups_.push_back(group);
      if (j == i || j >= n || !is_digit(unit(j))) return i;
      i = j;
    }
  }

  // Reads the separator at `at` and returns where it ends (`at` itself if there is none).
  // One separator character joins groups; longer ones must read like a number's:
  // " / ", " - ", ") ", " (", ")-", ").". Not ". " (a sentence ends), not two spaces, not a
  // ')' that closes nothing.
  std::size_t read_separator(std::size_t at, int& open_parens) const {
    Separator kinds[kMaxSeparatorLength];
    std::size_t ends[kMaxSeparatorLength];
    int length = 0;
    for (std::size_t j = at; j < text_.size() && length < kMaxSeparatorLength;) {
      const auto cp = decode_at(text_, j);
      const Separator kind = classify(cp.value);
      if (kind == Separator::none) break;
      j += cp.length;
      kinds[length] = kind;
      ends[length++] = j;
    }
    bool space = false;
    bool dot = false;
    for (int k = 0; k < length; ++k) {
      space = space || kinds[k] == Separator::space;
      dot = dot || (kinds[k] == Separator::other && unit(ends[k] - 1) == U'.');
    }
    // A tel: URI has no spaces; a dot beside a space ends a sentence.
    if (space && (tel_ || dot)) return at;
    int parens = open_parens;
    int marks = 0;  // dashes, dots and slashes
    for (int k = 0; k < length; ++k) {
      switch (kinds[k]) {
        case Separator::space:
          if (k > 0 && kinds[k - 1] == Separator::space) return at;
          break;
        case Separator::dash:
        case Separator::other:
          if (++marks > 1) return at;
          break;
        case Separator::open:
          if (++parens > kMaxOpenParens) return at;
          break;
        case Separator::close:
          if (--parens < 0) return at;
          break;
        case Separator::none:
          break;
      }
    }
    open_parens = parens;
    return length == 0 ? at : ends[length - 1];
  }

  // A run glued to a word, a URL or another figure is not a phone number: "DE89 3704 ...",
  // "ID-0301234567", "?tel=0301234567", "12,0301234567". Only ASCII context counts.
  void read_context_before(std::size_t begin) {
    tel_ = false;
    left_tainted_ = false;
    for (std::size_t prefix : {std::size_t{6}, std::size_t{4}}) {
      if (begin < prefix) continue;
      static constexpr std::u32string_view kScheme = U"tel://";
      bool same = true;
      for (std::size_t k = 0; k < prefix && same; ++k) {
        same = lower(unit(begin - prefix + k)) == kScheme[k];
      }
      if (same) {
        tel_ = true;
        tel_start_ = begin - prefix;
        return;
      }
    }
    if (begin == 0) return;
    const char32_t c1 = unit(begin - 1);
    const char32_t c2 = begin >= 2 ? unit(begin - 2) : U' ';
    if (is_alpha(c1) || is_digit(c1) ||
        std::u32string_view(U"_#@$%&=+").find(c1) != std::u32string_view::npos) {
      left_tainted_ = true;
    } else if ((c1 == U',' || c1 == U':') && is_digit(c2)) {
      left_tainted_ = true;
    } else if ((classify(c1) == Separator::dash || c1 == U'/') && is_alpha(c2)) {
      left_tainted_ = true;
    }
  }

  // True when the number ending at `end` runs on into a word or a figure.
  bool tainted_after(std::size_t end) const {
    if (end >= text_.size()) return false;
    const char32_t c = unit(end);
    if (is_alpha(c))
      return !((c == U'x' || c == U'X') && end + 1 < text_.size() && is_digit(unit(end + 1)));
    if (is_digit(c) || c == U'_' || c == U'@' || c == U'%') return true;
    return (c == U',' || c == U':') && end + 1 < text_.size() && is_digit(unit(end + 1));
  }

  // The separator between group k and group k + 1.
  template <class Visit>
  void each_separator_code_point(std::size_t k, Visit visit) const {
    for (std::size_t i = groups_[k].end; i < groups_[k + 1].begin;) {
      const auto cp = decode_at(text_, i);
      visit(classify(cp.value));
      i += cp.length;
    }
  }
  bool separator_has_space(std::size_t k) const {
    bool space = false;
    each_separator_code_point(k, [&](Separator s) { space = space || s == Separator::space; });
    return space;
  }
  bool separator_is_one_dash(std::size_t k) const {
    int count = 0;
    bool dash = false;
    each_separator_code_point(k, [&](Separator s) { ++count, dash = s == Separator::dash; });
    return count == 1 && dash;
  }

  // Could the digits from group k on begin a phone number by themselves?
  bool starts_like_number(std::size_t k) const {
    if ((k == 0 && plus_) || groups_[k].open_paren != View::npos) return true;
    const Region& home = matcher_.default_region();
    if (home.trunk_prefix.empty() || home.trunk_optional) return true;
    return std::string_view(digits_).substr(groups_[k].first_digit).starts_with(home.trunk_prefix);
  }

  // Every ')' inside the number closes a '(' inside it, so the number reads the same when
  // it stands alone (a swapped number must be found again).
  bool balanced(std::size_t start, std::size_t first, std::size_t last) const {
    int depth = unit(start) == U'(' ? 1 : 0;
    for (std::size_t k = first; k < last; ++k) {
      for (std::size_t i = groups_[k].end; i < groups_[k + 1].begin; ++i) {
        if (unit(i) == U'(') ++depth;
        if (unit(i) == U')' && --depth < 0) return false;
      }
    }
    return true;
  }

  // North American numbers are grouped 3-3-4 everywhere; digits grouped otherwise
  // ("5551 2345 67" inside a card number) are something else.
  bool plausible_grouping(std::size_t national_digit, std::size_t last_group,
                          std::uint32_t target) const {
    const Region* region = matcher_.target_regions_[target];
    if (!region || region->grouping != Grouping::nanp) return true;
    for (std::size_t g = 0; g < last_group; ++g) {
      const std::size_t boundary = groups_[g].first_digit + groups_[g].digit_count;
      if (boundary <= national_digit) continue;
      const std::size_t offset = boundary - national_digit;
      if (offset != 3 && offset != 6) return false;
    }
    return true;
  }

  // "03.01.2024", "3/1/2024": a date opening a run is no phone number (day and month of one
  // or two digits, a four-digit year, the same separator twice). Later groups may still be.
  std::size_t date_groups() const {
    if (groups_.size() < 3) return 0;
    const auto value = [&](std::size_t g) {
      int v = 0;
      for (std::size_t k = 0; k < groups_[g].digit_count; ++k)
        v = v * 10 + (digits_[groups_[g].first_digit + k] - '0');
      return v;
    };
    for (std::size_t g = 0; g < 2; ++g) {
      if (groups_[g].digit_count > 2 || groups_[g + 1].begin - groups_[g].end != 1) return 0;
    }
    const char32_t separator = unit(groups_[0].end);
    if (unit(groups_[1].end) != separator ||
        (separator != U'.' && separator != U'/' && separator != U'-')) {
      return 0;
    }
    if (groups_[2].digit_count != 4) return 0;
    const int a = value(0);
    const int b = value(1);
    const bool day_month = a >= 1 && a <= 31 && b >= 1 && b <= 12;
    const bool month_day = a >= 1 && a <= 12 && b >= 1 && b <= 31;
    return day_month || month_day ? 3 : 0;
  }

  // A later group may begin a second number after a space: "030 1234567 030 7654321".
  bool may_start_at(std::size_t g) const {
    if (g < skip_groups_) return false;
    if (g == 0) return !left_tainted_;
    return !tel_ && separator_has_space(g - 1);
  }

  bool same_separator(std::size_t a, std::size_t b) const {
    return text_.substr(groups_[a].end, groups_[a + 1].begin - groups_[a].end) ==
           text_.substr(groups_[b].end, groups_[b + 1].begin - groups_[b].end);
  }

  // The separator after group k sets apart the number spanning groups [first, last] when it
  // is unlike every separator inside that number: "512.345.678 19,99", "A-1234 0470-12-34-56".
  // A space like the number's own ("030 123 45 67 89") more likely continues it.
  bool sets_apart(std::size_t k, std::size_t first, std::size_t last) const {
    for (std::size_t inner = first; inner < last; ++inner) {
      if (same_separator(inner, k)) return false;
    }
    return true;
  }

  // May a number spanning groups [g, j] stand apart from the groups before it?
  bool apart_from_left(std::size_t g, std::size_t j) const {
    if (g == 0) return true;
    const bool left_is_a_number =
        !left_tainted_ && groups_[g].first_digit >= kMinDigitsOfNeighbour && starts_like_number(0);
    return left_is_a_number || sets_apart(g - 1, g, j);
  }

  // May it stand apart from the groups after it? Then also returns where the next number may
  // start and where a direct-dial extension ends.
  bool apart_from_right(std::size_t g, std::size_t j, std::size_t& next,
                        std::size_t& extension_end) const {
    const std::size_t last = groups_.size() - 1;
    extension_end = groups_[j].end;
    next = j + 1;
    if (j == last) return !tainted_after(groups_[j].end);
    if (tel_) return false;
    if (j + 1 == last && separator_is_one_dash(j) &&
        groups_[last].digit_count <= kMaxExtensionDigits && !tainted_after(groups_[last].end)) {
      extension_end = groups_[last].end;  // DIN 5008 direct dial: "030 1234567-0"
      next = last + 1;
      return true;
    }
    if (!separator_has_space(j)) return false;
    const bool right_is_a_number =
        digits_.size() - groups_[j + 1].first_digit >= kMinDigitsOfNeighbour &&
        starts_like_number(j + 1);
    // "+32 470 12 34 56 19,99": what follows is a figure of its own (a price, a word).
    return right_is_a_number || sets_apart(j, g, j) || tainted_after(groups_[last].end);
  }

  struct Candidate {
    Match match;
    std::size_t next_group = 0;
  };

  // Accepts a form that ended at a group boundary if what follows lets it stand alone.
  void consider(std::size_t start_group, const Cursor& end, std::size_t national_digit,
                std::size_t calling_code_end, std::uint32_t target, NumberForm form,
                std::optional<Candidate>& best) const {
    if (!end.at_group_end()) return;
    const std::size_t j = end.group - 1;
    const std::size_t number_end = groups_[j].end;
    std::size_t next = 0;
    std::size_t extension_end = 0;
    if (!apart_from_left(start_group, j) || !apart_from_right(start_group, j, next, extension_end))
      return;
    if (best && best->match.end >= number_end) return;  // the longest target wins
    if (!plausible_grouping(national_digit, j, target)) return;

    // A '(' belongs to the number only when it closes after a group inside it: "(030) 123",
    // not "(030 1234567)" or "(0301234567)", whose parentheses wrap the whole number.
    std::size_t start = groups_[start_group].begin;
    if (tel_) {
      start = tel_start_;
    } else if (start_group == 0 && plus_) {
      start = run_begin_;
    } else if (groups_[start_group].parenthesized && start_group < j) {
      start = groups_[start_group].open_paren;
    }
    if (!balanced(start, start_group, j)) return;
    Match m;
    m.start = start;
    m.end = number_end;
    m.national_start = digit_pos_[national_digit] - start;
    m.calling_code_end = calling_code_end == 0 ? 0 : calling_code_end - start;
    m.extension_end = extension_end;
    m.target = target;
    m.kind = tel_ ? MatchKind::tel : MatchKind::text;
    m.form = form;
    best = Candidate{m, next};
  }

  void try_target(std::size_t g, std::uint32_t t, std::optional<Candidate>& best) const {
    const PhoneNumber& target = matcher_.targets()[t];
    const Region* target_region = matcher_.target_regions_[t];
    const std::string_view trunk = target_region ? target_region->trunk_prefix : std::string_view{};
    const Region& home = matcher_.default_region();

    auto international = [&](std::string_view idd, NumberForm form) {
      Cursor c(this, g);
      if (!c.eat(idd) || !c.eat(target.calling_code)) return;
      const std::size_t code_end = scanner_position_after(c);
      c.skip_trunk_after_code(trunk);
      const std::size_t national_digit = c.digit;
      if (c.eat(target.national)) consider(g, c, national_digit, code_end, t, form, best);
    };
    if (g == 0 && plus_) {
      international({}, NumberForm::international);
      return;
    }
    international("00", NumberForm::international_idd);
    if (!home.extra_idd.empty()) international(home.extra_idd, NumberForm::international_idd);

    if (target.calling_code != home.calling_code) return;
    auto national = [&](std::string_view prefix) {
      Cursor c(this, g);
      if (!c.eat(prefix)) return;
      const std::size_t national_digit = c.digit;
      if (c.eat(target.national)) consider(g, c, national_digit, 0, t, NumberForm::national, best);
    };
    if (!home.trunk_prefix.empty()) national(home.trunk_prefix);
    if (home.trunk_prefix.empty() || home.trunk_optional) national({});
  }

  // One past the last digit the cursor consumed.
  std::size_t scanner_position_after(const Cursor& c) const { return digit_pos_[c.digit - 1] + 1; }

  void match_run() {
    skip_groups_ = tel_ ? 0 : date_groups();
    const auto target_count = static_cast<std::uint32_t>(matcher_.targets().size());
    for (std::size_t g = 0; g < groups_.size();) {
      if (!may_start_at(g) || (tel_ && g > 0)) {
        ++g;
        continue;
      }
      std::optional<Candidate> best;
      for (std::uint32_t t = 0; t < target_count; ++t) try_target(g, t, best);
      if (!best) {
        ++g;
        continue;
      }
      matches_.push_back(best->match);
      g = best->next_group;
    }
  }

  const Matcher& matcher_;
  View text_;
  std::vector<Match> matches_;

  // The run being read.
  std::size_t run_begin_ = 0;
  std::size_t tel_start_ = 0;
  bool plus_ = false;
  bool opens_with_paren_ = false;
  bool tel_ = false;
  bool left_tainted_ = false;
  std::size_t skip_groups_ = 0;  // groups that are known not to start a number (a date)
  std::string digits_;
  std::vector<std::size_t> digit_pos_;
  std::vector<Group> groups_;
};

Matcher::Matcher(const Region& default_region, std::vector<PhoneNumber> targets)
    : default_region_(&default_region), targets_(std::move(targets)) {
  target_regions_.reserve(targets_.size());
  for (const PhoneNumber& target : targets_) target_regions_.push_back(target.region());
}

Expected<Matcher> Matcher::create(std::string_view default_region_iso,
                                  std::span<const std::string> targets_e164) {
  const Region* region = find_region(default_region_iso);
  if (!region) return Error{"unknown country \"" + std::string(default_region_iso) + "\""};
  std::vector<PhoneNumber> targets;
  targets.reserve(targets_e164.size());
  for (const std::string& text : targets_e164) {
    auto number = parse_e164(text);
    if (!number) return number.error();
    targets.push_back(std::move(number).value());
  }
  return Matcher(*region, std::move(targets));
}

std::vector<Match> Matcher::find(std::string_view utf8) const {
  return RunScanner<char>(*this, utf8).scan();
}

std::vector<Match> Matcher::find(std::u16string_view utf16) const {
  return RunScanner<char16_t>(*this, utf16).scan();
}

}  // namespace callswap
