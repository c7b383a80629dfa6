// Unicode-aware string functions of the template function maps: Go's strings.ToUpper,
// ToLower and TrimSpace, and the word title casing of golang.org/x/text/cases that
// Alertmanager 0.25's `title` uses. Case mapping comes from the C library's C.UTF-8 locale.
#include <clocale>
#include <cwctype>
#include <string>
#include <string_view>

#include "rules/template_internal.h"

namespace alertd::template_internal {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes the rune at `s[*pos]` and advances `*pos`; an invalid byte gives kInvalid and
// advances by one, so the caller can copy it through unchanged.
char32_t NextRune(std::string_view s, size_t* pos) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(s[i]);
  };
  unsigned char lead = byte(*pos);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xE  ? 3
                  : (lead >> 3) == 0x1E ? 4
                                        : 0;
  if (length == 0 || *pos + length > s.size()) {
    ++*pos;
    return kInvalid;
  }
  char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(*pos + i) & 0xC0) != 0x80) {
      ++*pos;
      return kInvalid;
    }
    cp = (cp << 6) | (byte(*pos + i) & 0x3F);
  }
  *pos += length;
  return cp;
}

void AppendRune(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// NOTE: when the C.UTF-8 locale is missing, only ASCII letters change case.
locale_t Utf8Locale() {
  static const locale_t kLocale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return kLocale;
}

char32_t ToUpperRune(char32_t cp) {
  locale_t locale = Utf8Locale();
  if (locale == static_cast<locale_t>(0)) {
    return cp < 0x80 ? static_cast<char32_t>(std::toupper(static_cast<int>(cp))) : cp;
  }
  return static_cast<char32_t>(towupper_l(static_cast<wint_t>(cp), locale));
}

char32_t ToLowerRune(char32_t cp) {
  locale_t locale = Utf8Locale();
  if (locale == static_cast<locale_t>(0)) {
    return cp < 0x80 ? static_cast<char32_t>(std::tolower(static_cast<int>(cp))) : cp;
  }
  return static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), locale));
}

bool IsLetter(char32_t cp) {
  locale_t locale = Utf8Locale();
  if (locale == static_cast<locale_t>(0)) {
    return cp < 0x80 && std::isalpha(static_cast<int>(cp));
  }
  return iswalpha_l(static_cast<wint_t>(cp), locale) &&
         !iswdigit_l(static_cast<wint_t>(cp), locale);
}

bool IsDigit(char32_t cp) {
  locale_t locale = Utf8Locale();
  if (cp < 0x80 || locale == static_cast<locale_t>(0)) {
    return cp >= '0' && cp <= '9';
  }
  return iswalnum_l(static_cast<wint_t>(cp), locale) &&
         !iswalpha_l(static_cast<wint_t>(cp), locale);
}

template <typename Map>
std::string MapRunes(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    char32_t cp = NextRune(s, &pos);
    if (cp == kInvalid) {
      out.append(s.substr(start, pos - start));
    } else {
      AppendRune(map(cp), &out);
    }
  }
  return out;
}

// Word break classes of Unicode's UAX #29, as far as title casing needs them.
enum class WordClass { kLetter, kNumeric, kExtendNumLet, kMidLetter, kMidNum, kMidNumLet, kOther };

WordClass ClassOf(char32_t cp) {
  switch (cp) {
    case '_':
    case 0x203F:
    case 0x2040:
    case 0x2054:
    case 0xFE33:
    case 0xFE34:
    case 0xFE4D:
    case 0xFE4E:
    case 0xFE4F:
    case 0xFF3F:
      return WordClass::kExtendNumLet;
    case ':':
    case 0x00B7:
    case 0x0387:
    case 0x05F4:
    case 0x2027:
    case 0xFE13:
    case 0xFE55:
    case 0xFF1A:
      return WordClass::kMidLetter;
    case ',':
    case ';':
    case 0x037E:
    case 0x0589:
    case 0x060C:
    case 0x060D:
    case 0x066C:
    case 0x07F8:
    case 0x2044:
    case 0xFE10:
    case 0xFE14:
    case 0xFE50:
    case 0xFE54:
    case 0xFF0C:
    case 0xFF1B:
      return WordClass::kMidNum;
    case '.':
    case '\'':
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0xFE52:
    case 0xFF07:
    case 0xFF0E:
      return WordClass::kMidNumLet;
    default:
      break;
  }
  if (IsDigit(cp)) {
    return WordClass::kNumeric;
  }
  return IsLetter(cp) ? WordClass::kLetter : WordClass::kOther;
}

bool IsWordPart(WordClass c) {
  return c == WordClass::kLetter || c == WordClass::kNumeric || c == WordClass::kExtendNumLet;
}

// The title case of a letter starting a word, from Unicode's UnicodeData and SpecialCasing
// files: digraphs have a title form of their own, and a few letters become two.
std::string TitleRune(char32_t cp) {
  std::string out;
  switch (cp) {
    case 0x01C4:
    case 0x01C5:
    case 0x01C6:
      AppendRune(0x01C5, &out);
      return out;
    case 0x01C7:
    case 0x01C8:
    case 0x01C9:
      AppendRune(0x01C8, &out);
      return out;
    case 0x01CA:
    case 0x01CB:
    case 0x01CC:
      AppendRune(0x01CB, &out);
      return out;
    case 0x01F1:
    case 0x01F2:
    case 0x01F3:
      AppendRune(0x01F2, &out);
      return out;
    case 0x00DF:
      return "Ss";
    case 0x0149:
      return "\u02BCN";
    case 0xFB00:
      return "Ff";
    case 0xFB01:
      return "Fi";
    case 0xFB02:
      return "Fl";
    case 0xFB03:
      return "Ffi";
    case 0xFB04:
      return "Ffl";
    case 0xFB05:
    case 0xFB06:
      return "St";
    default:
      AppendRune(ToUpperRune(cp), &out);
      return out;
  }
}

struct Rune {
  char32_t cp;
  std::string_view bytes;
  WordClass word_class;
};

std::vector<Rune> SplitRunes(std::string_view s) {
  std::vector<Rune> runes;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    char32_t cp = NextRune(s, &pos);
    WordClass c = cp == kInvalid ? WordClass::kOther : ClassOf(cp);
    runes.push_back({cp, s.substr(start, pos - start), c});
  }
  return runes;
}

// Whether runes[i] continues the word that runes[i - 1] is in (UAX #29 rules WB5 to WB13b,
// without the Katakana, Hebrew and regional indicator rules).
bool ContinuesWord(const std::vector<Rune>& runes, size_t i) {
  if (i == 0) {
    return false;
  }
  WordClass prev = runes[i - 1].word_class;
  WordClass cur = runes[i].word_class;
  if (IsWordPart(prev) && IsWordPart(cur)) {
    return true;
  }
  const auto at = [&](size_t j) {
    return j < runes.size() ? runes[j].word_class : WordClass::kOther;
  };
  const auto is_mid_letter = [](WordClass c) {
    return c == WordClass::kMidLetter || c == WordClass::kMidNumLet;
  };
  const auto is_mid_num = [](WordClass c) {
    return c == WordClass::kMidNum || c == WordClass::kMidNumLet;
  };
  // Letter (MidLetter | MidNumLet) Letter, on both sides of the middle rune.
  if (prev == WordClass::kLetter && is_mid_letter(cur) && at(i + 1) == WordClass::kLetter) {
    return true;
  }
  if (i >= 2 && is_mid_letter(prev) && cur == WordClass::kLetter &&
      runes[i - 2].word_class == WordClass::kLetter) {
    return true;
  }
  // Numeric (MidNum | MidNumLet) Numeric.
  if (prev == WordClass::kNumeric && is_mid_num(cur) && at(i + 1) == WordClass::kNumeric) {
    return true;
  }
  return i >= 2 && is_mid_num(prev) && cur == WordClass::kNumeric &&
         runes[i - 2].word_class == WordClass::kNumeric;
}

bool IsGoSpace(char32_t cp) {
  switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x0085:
    case 0x00A0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

}  // namespace

std::string GoToUpper(std::string_view s) {
  return MapRunes(s, ToUpperRune);
}

std::string GoToLower(std::string_view s) {
  return MapRunes(s, ToLowerRune);
}

std::string CasesTitle(std::string_view s) {
  std::vector<Rune> runes = SplitRunes(s);
  std::string out;
  out.reserve(s.size());
  bool seen_letter = false;
  for (size_t i = 0; i < runes.size(); ++i) {
    if (!ContinuesWord(runes, i)) {
      seen_letter = false;
    }
    const Rune& rune = runes[i];
    if (rune.word_class != WordClass::kLetter) {
      out.append(rune.bytes);
      continue;
    }
    if (seen_letter) {
      AppendRune(ToLowerRune(rune.cp), &out);
    } else {
      out += TitleRune(rune.cp);
      seen_letter = true;
    }
  }
  return out;
}

std::string GoTrimSpace(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    char32_t cp = NextRune(s, &next);
    if (cp == kInvalid || !IsGoSpace(cp)) {
      break;
    }
    begin = next;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the last rune.
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    size_t next = start;
    char32_t cp = NextRune(s, &next);
    if (cp == kInvalid || next != end || !IsGoSpace(cp)) {
      break;
    }
    end = start;
  }
  return std::string(s.substr(begin, end - begin));
}

}  // namespace alertd::template_internal
