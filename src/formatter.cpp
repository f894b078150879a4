#include <algorithm>
#include <callswap/formatter.hpp>

namespace callswap {
namespace {

template <class CharT>
constexpr bool is_digit(CharT c) {
  return c >= CharT('0') && c <= CharT('9');
}

template <class CharT>
std::basic_string<CharT> widen(std::string_view ascii) {
  return std::basic_string<CharT>(ascii.begin(), ascii.end());
}

// The one separator left where a number loses its parentheses and the trunk prefix inside
// them: "(0) " → " ", ")–" → "–", ".(0.)" → ".", "-(0)-" → "-". The gap after a calling
// code can hold a separator on each side of "(0)"; writing both would give "+43..1", which
// no page writes and the matcher rightly does not read as one number. So: a space if there
// is one, else the first mark, whole (a multi-byte NBSP or en dash stays one character in
// UTF-8); parentheses alone become a space.
template <class CharT>
std::basic_string<CharT> plain(std::basic_string_view<CharT> separator) {
  if (separator.find(CharT(' ')) != std::basic_string_view<CharT>::npos) return widen<CharT>(" ");
  for (std::size_t i = 0; i < separator.size(); ++i) {
    const CharT c = separator[i];
    if (c == CharT('(') || c == CharT(')') || is_digit(c)) continue;
    std::size_t end = i + 1;
    if constexpr (sizeof(CharT) == 1) {
      while (end < separator.size() && (static_cast<unsigned char>(separator[end]) & 0xC0) == 0x80)
        ++end;
    }
    return std::basic_string<CharT>(separator.substr(i, end - i));
  }
  return separator.empty() ? std::basic_string<CharT>() : widen<CharT>(" ");
}

// The national number as the page grouped it: group sizes and the separators between them.
template <class CharT>
struct Layout {
  std::vector<std::size_t> sizes;
  std::vector<std::basic_string_view<CharT>> separators;
};

template <class CharT>
Layout<CharT> read_layout(std::basic_string_view<CharT> national) {
  Layout<CharT> layout;
  std::size_t separator_start = 0;
  for (std::size_t i = 0; i < national.size(); ++i) {
    if (!is_digit(national[i])) continue;
    if (layout.sizes.empty() || separator_start < i) {
      if (!layout.sizes.empty()) {
        layout.separators.push_back(national.substr(separator_start, i - separator_start));
      }
      layout.sizes.push_back(0);
    }
    ++layout.sizes.back();
    separator_start = i + 1;
  }
  return layout;
}

// Pours `length` digits into the page's own group sizes; what is left joins the last group.
std::vector<std::size_t> pour(std::span<const std::size_t> pattern, std::size_t length) {
  std::vector<std::size_t> sizes;
  for (std::size_t size : pattern) {
    if (length == 0) break;
    sizes.push_back(std::min(size, length));
    length -= sizes.back();
  }
  if (length > 0) {
    if (sizes.empty()) sizes.push_back(0);
    sizes.back() += length;
  }
  return sizes;
}

template <class CharT>
std::basic_string<CharT> format_impl(std::basic_string_view<CharT> matched, const Match& match,
                                     const PhoneNumber& original, const PhoneNumber& replacement) {
  using String = std::basic_string<CharT>;
  using View = std::basic_string_view<CharT>;

  if (match.kind == MatchKind::tel) {
    // Keep the scheme as written ("tel:", "TEL:", "tel://"); the number becomes E.164,
    // which every dialler reads the same way wherever the visitor is.
    std::size_t scheme = matched.find(CharT(':')) + 1;
    while (scheme < matched.size() && matched[scheme] == CharT('/')) ++scheme;
    return String(matched.substr(0, scheme)) + widen<CharT>(replacement.e164());
  }

  const bool same_country = replacement.calling_code == original.calling_code;
  const View national = matched.substr(match.national_start);
  const Layout<CharT> layout = read_layout(national);
  const std::vector<std::size_t> usual = usual_grouping(replacement);
  // Same length and an area code of the same length: the page's grouping fits digit for
  // digit. (A London number in a Birmingham number's place is regrouped: 020 → 0121.)
  if (same_country && replacement.national.size() == original.national.size() &&
      (layout.sizes.size() == 1 || usual.front() == usual_grouping(original).front())) {
    String out(matched);
    std::size_t next = 0;
    for (std::size_t i = match.national_start; i < out.size(); ++i) {
      if (is_digit(out[i])) out[i] = static_cast<CharT>(replacement.national[next++]);
    }
    return out;
  }

  const std::string& digits = replacement.national;
  std::vector<std::size_t> sizes;
  String prefix;
  std::vector<String> separators;
  for (View s : layout.separators) separators.emplace_back(s);

  if (same_country) {
    prefix = String(matched.substr(0, match.national_start));
    if (layout.sizes.size() == 1) {
      sizes = {digits.size()};
    } else if (digits.size() == original.national.size()) {
      sizes = usual;
    } else {
      // Keep the page's area-code group when the replacement shares it; otherwise the
      // country's usual area code length. The subscriber part follows the page's grouping.
      const std::string original_area = original.national.substr(0, layout.sizes.front());
      std::size_t area = digits.starts_with(original_area) ? original_area.size() : usual.front();
      area = std::min(area, digits.size());
      sizes = {area};
      const auto subscriber = pour(std::span(layout.sizes).subspan(1), digits.size() - area);
      sizes.insert(sizes.end(), subscriber.begin(), subscriber.end());
    }
  } else {
    // Another country: a national form cannot be kept, so write it internationally with
    // the page's separators and the new country's usual grouping.
    sizes = layout.sizes.size() == 1 ? std::vector<std::size_t>{digits.size()} : usual;
    for (String& s : separators) s = plain<CharT>(s);
    if (match.form == NumberForm::national) {
      prefix = widen<CharT>("+" + replacement.calling_code) +
               (separators.empty() ? String() : separators.front());
    } else {
      // Walk back over the calling code's digits: a page may split them ("+4 4 20 ...").
      std::size_t code_start = match.calling_code_end;
      for (std::size_t seen = 0; seen < original.calling_code.size();) {
        if (is_digit(matched[--code_start])) ++seen;
      }
      prefix = String(matched.substr(0, code_start)) + widen<CharT>(replacement.calling_code) +
               plain<CharT>(matched.substr(match.calling_code_end,
                                           match.national_start - match.calling_code_end));
    }
  }

  String out = prefix;
  std::size_t at = 0;
  for (std::size_t g = 0; g < sizes.size(); ++g) {
    if (g > 0 && !separators.empty()) out += separators[std::min(g - 1, separators.size() - 1)];
    out += widen<CharT>(std::string_view(digits).substr(at, sizes[g]));
    at += sizes[g];
  }
  return out;
}

template <class CharT>
std::vector<Edit<CharT>> plan_impl(std::basic_string_view<CharT> text,
                                   std::span<const Match> matches, const Matcher& matcher,
                                   std::span<const std::optional<PhoneNumber>> replacements) {
  std::vector<Edit<CharT>> edits;
  edits.reserve(matches.size());
  for (const Match& m : matches) {
    if (m.target >= replacements.size() || !replacements[m.target]) continue;
    edits.push_back({m.start, m.end,
                     format_impl<CharT>(text.substr(m.start, m.end - m.start), m,
                                        matcher.targets()[m.target], *replacements[m.target])});
  }
  return edits;
}

template <class CharT>
std::basic_string<CharT> apply_impl(std::basic_string_view<CharT> text,
                                    std::span<const Edit<CharT>> edits) {
  std::basic_string<CharT> out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (const Edit<CharT>& e : edits) {
    out.append(text.substr(at, e.start - at));
    out.append(e.text);
    at = e.end;
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace

std::string format_like(std::string_view matched, const Match& match, const PhoneNumber& original,
                        const PhoneNumber& replacement) {
  return format_impl<char>(matched, match, original, replacement);
}
std::u16string format_like(std::u16string_view matched, const Match& match,
                           const PhoneNumber& original, const PhoneNumber& replacement) {
  return format_impl<char16_t>(matched, match, original, replacement);
}

std::vector<Edit<char>> plan_edits(std::string_view text, std::span<const Match> matches,
                                   const Matcher& matcher,
                                   std::span<const std::optional<PhoneNumber>> replacements) {
  return plan_impl<char>(text, matches, matcher, replacements);
}
std::vector<Edit<char16_t>> plan_edits(std::u16string_view text, std::span<const Match> matches,
                                       const Matcher& matcher,
                                       std::span<const std::optional<PhoneNumber>> replacements) {
  return plan_impl<char16_t>(text, matches, matcher, replacements);
}

std::string apply_edits(std::string_view text, std::span<const Edit<char>> edits) {
  return apply_impl<char>(text, edits);
}
std::u16string apply_edits(std::u16string_view text, std::span<const Edit<char16_t>> edits) {
  return apply_impl<char16_t>(text, edits);
}

}  // namespace callswap
