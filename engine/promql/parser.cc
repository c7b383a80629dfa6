#include "engine/promql/parser.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <boost/spirit/home/x3.hpp>
#include <re2/re2.h>

#include "common/duration.h"
#include "common/labels.h"
#include "engine/promql/functions_table.h"
#include "engine/promql/printer.h"

// The query is lexed into tokens first, with the same modes as Prometheus's lexer (inside
// braces, inside brackets), and the tokens are parsed by recursive descent with precedence
// climbing for binary operators. Spirit X3 rules recognise the lexemes. A hand-written
// descent over tokens, rather than one X3 grammar for the whole language, is what lets every
// syntax error name the unexpected token and its context in Prometheus's words.

namespace alertd::promql {
namespace {

namespace x3 = boost::spirit::x3;

// ---------------------------------------------------------------------------------------
// Lexemes (Spirit X3)

// Identifiers and metric identifiers: [a-zA-Z_:][a-zA-Z0-9_:]*. The lexer only calls this at
// a letter, '_' or ':'.
const auto kIdentifierLexeme = x3::raw[x3::lexeme[(x3::ascii::alpha | x3::char_("_:")) >>
                                                  *(x3::ascii::alnum | x3::char_("_:"))]];
// Label names inside braces: [a-zA-Z_][a-zA-Z0-9_]*.
const auto kLabelNameLexeme = x3::raw[x3::lexeme[(x3::ascii::alpha | x3::char_('_')) >>
                                                 *(x3::ascii::alnum | x3::char_('_'))]];
// The characters Prometheus's scanNumber accepts: hex integers, or decimal digits with an
// optional fraction and exponent. Whether a number or a duration follows is decided after.
const auto kHexLexeme = x3::no_case[x3::lit("0x")] >> *x3::ascii::xdigit >>
                        -('.' >> *x3::ascii::xdigit) >>
                        -(x3::ascii::char_("eE") >> -x3::ascii::char_("+-") >> *x3::ascii::digit);
const auto kDecimalLexeme = *x3::ascii::digit >> -('.' >> *x3::ascii::digit) >>
                            -(x3::ascii::char_("eE") >> -x3::ascii::char_("+-") >>
                              *x3::ascii::digit);
const auto kNumberLexeme = x3::raw[x3::lexeme[kHexLexeme | kDecimalLexeme]];

// Matches `lexeme` at `pos`; returns the length matched, 0 when it does not match.
template <typename Lexeme>
size_t MatchLexeme(const Lexeme& lexeme, std::string_view input, size_t pos) {
  auto first = input.begin() + pos;
  auto it = first;
  if (!x3::parse(it, input.end(), lexeme)) {
    return 0;
  }
  return static_cast<size_t>(it - first);
}

// ---------------------------------------------------------------------------------------
// Tokens

enum class Tok {
  kEof,
  kError,
  kIdentifier,
  kMetricIdentifier,
  kNumber,
  kString,
  kDuration,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kColon,
  kEql,  // '='
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,  // '=='
  kNeq,
  kLte,
  kLss,
  kGte,
  kGtr,
  kEqlRegex,
  kNeqRegex,
  kAt,
  kLand,
  kLor,
  kLunless,
  kAtan2,
  // Aggregators.
  kAggregator,
  // Keywords.
  kBy,
  kWithout,
  kOn,
  kIgnoring,
  kGroupLeft,
  kGroupRight,
  kBool,
  kOffset,
  kStart,
  kEnd,
};

struct Token {
  Tok type = Tok::kEof;
  std::string_view text;  // as written; for kError the message
  uint32_t pos = 0;
  uint32_t end = 0;
  std::string error;  // kError only
};

bool IsOperatorTok(Tok t) {
  return t >= Tok::kAdd && t <= Tok::kAtan2;
}

bool IsKeywordTok(Tok t) {
  return t >= Tok::kBy;
}

std::string GoQuoteString(std::string_view s) {
  return QuoteString(s);
}

// Prometheus's Item.desc(): how an unexpected token is named in error messages.
std::string Describe(const Token& t) {
  switch (t.type) {
    case Tok::kEof:
      return "end of input";
    case Tok::kIdentifier:
      return "identifier " + GoQuoteString(t.text);
    case Tok::kMetricIdentifier:
      return "metric identifier " + GoQuoteString(t.text);
    case Tok::kNumber:
    case Tok::kString:
    case Tok::kDuration: {
      std::string kind = t.type == Tok::kNumber   ? "number "
                         : t.type == Tok::kString ? "string "
                                                  : "duration ";
      if (t.text.size() > 10) {
        // Go's %.10q truncates to 10 characters before quoting.
        return kind + GoQuoteString(t.text.substr(0, 10)) + "...";
      }
      return kind + GoQuoteString(t.text);
    }
    default:
      break;
  }
  // start and end are "preprocessors" in Prometheus, printed like a plain value.
  if (IsKeywordTok(t.type) && t.type != Tok::kStart && t.type != Tok::kEnd) {
    return "<" + std::string(t.text) + ">";
  }
  if (IsOperatorTok(t.type)) {
    return "<op:" + std::string(t.text) + ">";
  }
  if (t.type == Tok::kAggregator) {
    return "<aggr:" + std::string(t.text) + ">";
  }
  return GoQuoteString(t.text);
}

struct KeywordEntry {
  std::string_view word;
  Tok type;
};

constexpr KeywordEntry kKeywords[] = {
    {"and", Tok::kLand},
    {"or", Tok::kLor},
    {"unless", Tok::kLunless},
    {"atan2", Tok::kAtan2},
    {"sum", Tok::kAggregator},
    {"avg", Tok::kAggregator},
    {"count", Tok::kAggregator},
    {"min", Tok::kAggregator},
    {"max", Tok::kAggregator},
    {"group", Tok::kAggregator},
    {"stddev", Tok::kAggregator},
    {"stdvar", Tok::kAggregator},
    {"topk", Tok::kAggregator},
    {"bottomk", Tok::kAggregator},
    {"count_values", Tok::kAggregator},
    {"quantile", Tok::kAggregator},
    {"offset", Tok::kOffset},
    {"by", Tok::kBy},
    {"without", Tok::kWithout},
    {"on", Tok::kOn},
    {"ignoring", Tok::kIgnoring},
    {"group_left", Tok::kGroupLeft},
    {"group_right", Tok::kGroupRight},
    {"bool", Tok::kBool},
    {"start", Tok::kStart},
    {"end", Tok::kEnd},
    {"inf", Tok::kNumber},
    {"nan", Tok::kNumber},
};

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsAlpha(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsAlphaNumeric(char c) {
  return IsAlpha(c) || IsDigit(c);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Go's %#U for a byte: U+002E '.'
std::string GoRuneDescription(std::string_view s, size_t pos) {
  char buf[32];
  if (pos >= s.size()) {
    return "U+FFFFFFFFFFFFFFFF";
  }
  unsigned char c = static_cast<unsigned char>(s[pos]);
  uint32_t rune = c;
  size_t len = 1;
  if (c >= 0xc0 && c < 0xe0 && pos + 1 < s.size()) {
    rune = ((c & 0x1f) << 6) | (s[pos + 1] & 0x3f);
    len = 2;
  } else if (c >= 0xe0 && c < 0xf0 && pos + 2 < s.size()) {
    rune = ((c & 0x0f) << 12) | ((s[pos + 1] & 0x3f) << 6) | (s[pos + 2] & 0x3f);
    len = 3;
  } else if (c >= 0xf0 && pos + 3 < s.size()) {
    rune = ((c & 0x07) << 18) | ((s[pos + 1] & 0x3f) << 12) | ((s[pos + 2] & 0x3f) << 6) |
           (s[pos + 3] & 0x3f);
    len = 4;
  }
  if (rune < 0x20 || rune == 0x7f) {
    std::snprintf(buf, sizeof(buf), "U+%04X", rune);
    return buf;
  }
  std::snprintf(buf, sizeof(buf), "U+%04X '", rune);
  return std::string(buf) + std::string(s.substr(pos, len)) + "'";
}

// Go's %q for one character, as Prometheus's lexer errors print it.
std::string GoQuoteChar(char c) {
  if (c == '\'') {
    return "'\\''";
  }
  if (c == '\\') {
    return "'\\\\'";
  }
  std::string quoted = GoQuoteString(std::string_view(&c, 1));
  return "'" + quoted.substr(1, quoted.size() - 2) + "'";
}

// ---------------------------------------------------------------------------------------
// Lexer: Prometheus's lex.go state machine, producing all tokens up to EOF or the first error.

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  std::vector<Token> Run() {
    while (!done_) {
      if (brace_open_) {
        LexInsideBraces();
      } else {
        LexStatements();
      }
    }
    return std::move(tokens_);
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < input_.size() ? input_[pos_ + ahead] : '\0';
  }

  bool AtEnd(size_t ahead = 0) const { return pos_ + ahead >= input_.size(); }

  void Emit(Tok type) {
    Token t;
    t.type = type;
    t.text = input_.substr(start_, pos_ - start_);
    t.pos = static_cast<uint32_t>(start_);
    t.end = static_cast<uint32_t>(pos_);
    tokens_.push_back(t);
    start_ = pos_;
  }

  void Fail(std::string message) {
    Token t;
    t.type = Tok::kError;
    t.pos = static_cast<uint32_t>(start_);
    t.end = static_cast<uint32_t>(input_.size());
    t.error = std::move(message);
    tokens_.push_back(std::move(t));
    done_ = true;
  }

  void SkipSpaces() {
    while (!AtEnd() && IsSpace(Peek())) {
      ++pos_;
    }
    start_ = pos_;
  }

  void SkipComment() {
    while (!AtEnd() && Peek() != '\n') {
      ++pos_;
    }
    start_ = pos_;
  }

  void LexStatements() {
    if (AtEnd()) {
      start_ = pos_;
      if (paren_depth_ != 0) {
        Fail("unclosed left parenthesis");
      } else if (bracket_open_) {
        Fail("unclosed left bracket");
      } else {
        Emit(Tok::kEof);
        done_ = true;
      }
      return;
    }
    start_ = pos_;
    char c = input_[pos_++];
    switch (c) {
      case '#':
        SkipComment();
        return;
      case ',':
        return Emit(Tok::kComma);
      case '*':
        return Emit(Tok::kMul);
      case '/':
        return Emit(Tok::kDiv);
      case '%':
        return Emit(Tok::kMod);
      case '+':
        return Emit(Tok::kAdd);
      case '-':
        return Emit(Tok::kSub);
      case '^':
        return Emit(Tok::kPow);
      case '@':
        return Emit(Tok::kAt);
      case '=':
        if (Peek() == '=') {
          ++pos_;
          return Emit(Tok::kEqlc);
        }
        if (Peek() == '~') {
          return Fail("unexpected character after '=': " + GoQuoteChar('~'));
        }
        return Emit(Tok::kEql);
      case '!':
        if (Peek() == '=') {
          ++pos_;
          return Emit(Tok::kNeq);
        }
        return Fail("unexpected character after '!': " + QuoteNext());
      case '<':
        if (Peek() == '=') {
          ++pos_;
          return Emit(Tok::kLte);
        }
        return Emit(Tok::kLss);
      case '>':
        if (Peek() == '=') {
          ++pos_;
          return Emit(Tok::kGte);
        }
        return Emit(Tok::kGtr);
      case '"':
      case '\'':
        return LexString(c);
      case '`':
        return LexRawString();
      case '(':
        ++paren_depth_;
        return Emit(Tok::kLeftParen);
      case ')':
        --paren_depth_;
        if (paren_depth_ < 0) {
          // Prometheus reports this after the parenthesis, where its lexer has moved on.
          start_ = pos_;
          return Fail("unexpected right parenthesis ')'");
        }
        return Emit(Tok::kRightParen);
      case '{':
        brace_open_ = true;
        return Emit(Tok::kLeftBrace);
      case '}':
        return Fail("unexpected character: '}'");
      case '[':
        if (bracket_open_) {
          return Fail("unexpected left bracket '['");
        }
        got_colon_ = false;
        bracket_open_ = true;
        Emit(Tok::kLeftBracket);
        SkipSpaces();
        return LexDuration();
      case ']':
        if (!bracket_open_) {
          return Fail("unexpected right bracket ']'");
        }
        bracket_open_ = false;
        return Emit(Tok::kRightBracket);
      default:
        break;
    }
    if (IsSpace(c)) {
      SkipSpaces();
      return;
    }
    if (IsDigit(c) || (c == '.' && IsDigit(Peek()))) {
      --pos_;
      return LexNumberOrDuration();
    }
    if (IsAlpha(c) || c == ':') {
      // NOTE: Prometheus 2.42's lexer takes any letter inside brackets for the subquery
      // colon, so it accepts `x[5m s]` as `x[5m:]`. This lexer does the same so that both
      // accept the same queries and report the same errors.
      if (bracket_open_) {
        if (got_colon_) {
          return Fail("unexpected colon " + GoQuoteChar(c));
        }
        got_colon_ = true;
        return Emit(Tok::kColon);
      }
      --pos_;
      return LexKeywordOrIdentifier();
    }
    --pos_;
    Fail("unexpected character: " + QuoteNext());
  }

  std::string QuoteNext() {
    if (AtEnd()) {
      return "'\xef\xbf\xbd'";  // Go prints its end-of-input rune as U+FFFD
    }
    unsigned char c = static_cast<unsigned char>(Peek());
    if (c >= 0x80) {
      size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return "'" + std::string(input_.substr(pos_, len)) + "'";
    }
    return GoQuoteChar(Peek());
  }

  void LexInsideBraces() {
    if (AtEnd()) {
      start_ = pos_;
      return Fail("unexpected end of input inside braces");
    }
    start_ = pos_;
    char c = input_[pos_];
    if (IsSpace(c)) {
      SkipSpaces();
      return;
    }
    if (c == '#') {
      SkipComment();
      return;
    }
    if (IsAlpha(c)) {
      pos_ += MatchLexeme(kLabelNameLexeme, input_, pos_);
      return Emit(Tok::kIdentifier);
    }
    ++pos_;
    switch (c) {
      case '"':
      case '\'':
        return LexString(c);
      case '`':
        return LexRawString();
      case ',':
        return Emit(Tok::kComma);
      case '=':
        if (Peek() == '~') {
          ++pos_;
          return Emit(Tok::kEqlRegex);
        }
        return Emit(Tok::kEql);
      case '!':
        if (Peek() == '~') {
          ++pos_;
          return Emit(Tok::kNeqRegex);
        }
        if (Peek() == '=') {
          ++pos_;
          return Emit(Tok::kNeq);
        }
        return Fail("unexpected character after '!' inside braces: " + QuoteNext());
      case '{':
        return Fail("unexpected left brace '{'");
      case '}':
        brace_open_ = false;
        return Emit(Tok::kRightBrace);
      default:
        --pos_;
        return Fail("unexpected character inside braces: " + QuoteNext());
    }
  }

  // Prometheus's scanNumber: consumes a number; false when an alphanumeric character follows,
  // which makes the text a duration or an error.
  bool ScanNumber() {
    pos_ += MatchLexeme(kNumberLexeme, input_, pos_);
    return AtEnd() || !IsAlphaNumeric(Peek());
  }

  bool Accept(std::string_view chars) {
    if (!AtEnd() && chars.find(Peek()) != std::string_view::npos) {
      ++pos_;
      return true;
    }
    return false;
  }

  // Prometheus's acceptRemainingDuration; bad unit orders are rejected later by ParseDuration.
  bool AcceptRemainingDuration() {
    if (!Accept("smhdwy")) {
      return false;
    }
    Accept("s");
    while (Accept("0123456789")) {
      while (Accept("0123456789")) {
      }
      if (!Accept("smhdw")) {
        return false;
      }
      Accept("s");
    }
    // Go's lexer consumes the character after the duration here, so a rejected duration's
    // text in the error message includes it. An accepted one gives it back.
    if (AtEnd()) {
      return true;
    }
    ++pos_;
    if (IsAlphaNumeric(input_[pos_ - 1])) {
      return false;
    }
    --pos_;
    return true;
  }

  void LexNumberOrDuration() {
    if (ScanNumber()) {
      return Emit(Tok::kNumber);
    }
    if (AcceptRemainingDuration()) {
      return Emit(Tok::kDuration);
    }
    Fail("bad number or duration syntax: " + GoQuoteString(input_.substr(start_, pos_ - start_)));
  }

  void LexDuration() {
    if (ScanNumber()) {
      return Fail("missing unit character in duration");
    }
    if (AcceptRemainingDuration()) {
      return Emit(Tok::kDuration);
    }
    Fail("bad duration syntax: " + GoQuoteString(input_.substr(start_, pos_ - start_)));
  }

  void LexKeywordOrIdentifier() {
    pos_ += MatchLexeme(kIdentifierLexeme, input_, pos_);
    std::string_view word = input_.substr(start_, pos_ - start_);
    std::string lower = ToLower(word);
    for (const KeywordEntry& kw : kKeywords) {
      if (kw.word == lower) {
        return Emit(kw.type);
      }
    }
    Emit(word.find(':') == std::string_view::npos ? Tok::kIdentifier : Tok::kMetricIdentifier);
  }

  // Validates escapes as Prometheus's lexEscape; the value is decoded by the parser.
  bool LexEscape(char quote) {
    if (AtEnd()) {
      Fail("escape sequence not terminated");
      return false;
    }
    char c = input_[pos_++];
    int digits = 0;
    uint32_t base = 0;
    uint32_t max = 0;
    switch (c) {
      case 'a':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '\\':
        return true;
      case 'x':
        digits = 2, base = 16, max = 255;
        break;
      case 'u':
        digits = 4, base = 16, max = 0x10ffff;
        break;
      case 'U':
        digits = 8, base = 16, max = 0x10ffff;
        break;
      default:
        if (c == quote) {
          return true;
        }
        if (c >= '0' && c <= '7') {
          --pos_;
          digits = 3, base = 8, max = 255;
          break;
        }
        Fail("unknown escape sequence " + GoRuneDescription(input_, pos_ - 1));
        return false;
    }
    uint32_t value = 0;
    for (int i = 0; i < digits; ++i) {
      if (AtEnd()) {
        Fail("escape sequence not terminated");
        return false;
      }
      char d = input_[pos_];
      uint32_t v = IsDigit(d)               ? static_cast<uint32_t>(d - '0')
                   : (d >= 'a' && d <= 'f') ? static_cast<uint32_t>(d - 'a' + 10)
                   : (d >= 'A' && d <= 'F') ? static_cast<uint32_t>(d - 'A' + 10)
                                            : 99;
      if (v >= base) {
        Fail("illegal character " + GoRuneDescription(input_, pos_) + " in escape sequence");
        return false;
      }
      value = value * base + v;
      ++pos_;
    }
    if (value > max || (value >= 0xd800 && value < 0xe000)) {
      Fail("escape sequence is an invalid Unicode code point");
      return false;
    }
    return true;
  }

  void LexString(char quote) {
    while (true) {
      if (AtEnd() || Peek() == '\n') {
        return Fail("unterminated quoted string");
      }
      char c = input_[pos_++];
      if (c == '\\') {
        if (!LexEscape(quote)) {
          return;
        }
      } else if (c == quote) {
        return Emit(Tok::kString);
      }
    }
  }

  void LexRawString() {
    while (true) {
      if (AtEnd()) {
        return Fail("unterminated raw string");
      }
      if (input_[pos_++] == '`') {
        return Emit(Tok::kString);
      }
    }
  }

  std::string_view input_;
  size_t start_ = 0;
  size_t pos_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool done_ = false;
  std::vector<Token> tokens_;
};

void AppendUtf8(std::string& out, uint32_t rune) {
  if (rune < 0x80) {
    out += static_cast<char>(rune);
  } else if (rune < 0x800) {
    out += static_cast<char>(0xc0 | (rune >> 6));
    out += static_cast<char>(0x80 | (rune & 0x3f));
  } else if (rune < 0x10000) {
    out += static_cast<char>(0xe0 | (rune >> 12));
    out += static_cast<char>(0x80 | ((rune >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (rune & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (rune >> 18));
    out += static_cast<char>(0x80 | ((rune >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((rune >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (rune & 0x3f));
  }
}

// Decodes a string token the lexer has validated, quotes included.
std::string UnquoteString(std::string_view token) {
  std::string_view body = token.substr(1, token.size() - 2);
  if (token[0] == '`') {
    return std::string(body);
  }
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = body[++i];
    auto hex = [&](size_t n) {
      uint32_t v =
          static_cast<uint32_t>(std::stoul(std::string(body.substr(i + 1, n)), nullptr, 16));
      i += n;
      return v;
    };
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        out += static_cast<char>(hex(2));
        break;
      case 'u':
        AppendUtf8(out, hex(4));
        break;
      case 'U':
        AppendUtf8(out, hex(8));
        break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v =
              static_cast<uint32_t>(std::stoul(std::string(body.substr(i, 3)), nullptr, 8));
          i += 2;
          out += static_cast<char>(v);
        } else {
          out += e;  // \\, \' or \"
        }
    }
  }
  return out;
}

// Describes why `value` is not a valid regular expression in the words of Go's regexp/syntax,
// which Prometheus reports: "error parsing regexp: missing closing ): `^(?:()$`". The
// fragment is taken from RE2, whose error codes and fragments follow Go's parser.
std::string RegexErrorMessage(const std::string& value, const std::string& fallback) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re("^(?:" + value + ")$", options);
  const char* cause = nullptr;
  switch (re.error_code()) {
    case RE2::ErrorBadEscape:
      cause = "invalid escape sequence";
      break;
    case RE2::ErrorBadCharClass:
      cause = "invalid character class";
      break;
    case RE2::ErrorBadCharRange:
      cause = "invalid character class range";
      break;
    case RE2::ErrorMissingBracket:
      cause = "missing closing ]";
      break;
    case RE2::ErrorMissingParen:
      cause = "missing closing )";
      break;
    case RE2::ErrorUnexpectedParen:
      cause = "unexpected )";
      break;
    case RE2::ErrorTrailingBackslash:
      cause = "trailing backslash at end of expression";
      break;
    case RE2::ErrorRepeatArgument:
      cause = "missing argument to repetition operator";
      break;
    case RE2::ErrorRepeatSize:
      cause = "invalid repeat count";
      break;
    case RE2::ErrorRepeatOp:
      cause = "invalid nested repetition operator";
      break;
    case RE2::ErrorBadPerlOp:
      cause = "invalid or unsupported Perl syntax";
      break;
    case RE2::ErrorBadUTF8:
      cause = "invalid UTF-8";
      break;
    case RE2::ErrorBadNamedCapture:
      cause = "invalid named capture";
      break;
    default:
      return fallback;
  }
  return std::string("error parsing regexp: ") + cause + ": `" + re.error_arg() + "`";
}

// ---------------------------------------------------------------------------------------
// Parser

struct ParseFailure {
  std::string message;
  uint32_t pos;
};

[[noreturn]] void FailAt(uint32_t pos, std::string message) {
  throw ParseFailure{std::move(message), pos};
}

using MutableExpr = std::shared_ptr<Expr>;

// Nodes are created non-const by the parser and only frozen when returned, so the parser may
// still adjust a node it built (offsets, @ modifiers, vector matching) through this.
Expr& Mutable(const ExprPtr& e) {
  return const_cast<Expr&>(*e);
}

MutableExpr MakeExpr(Expr::Node node, uint32_t start, uint32_t end) {
  auto e = std::make_shared<Expr>();
  e->node = std::move(node);
  e->pos = PositionRange{start, end};
  return e;
}

int Precedence(Tok t) {
  switch (t) {
    case Tok::kLor:
      return 1;
    case Tok::kLand:
    case Tok::kLunless:
      return 2;
    case Tok::kEqlc:
    case Tok::kNeq:
    case Tok::kLte:
    case Tok::kLss:
    case Tok::kGte:
    case Tok::kGtr:
      return 3;
    case Tok::kAdd:
    case Tok::kSub:
      return 4;
    case Tok::kMul:
    case Tok::kDiv:
    case Tok::kMod:
    case Tok::kAtan2:
      return 5;
    case Tok::kPow:
      return 6;
    default:
      return 0;
  }
}

constexpr int kMulPrecedence = 5;

BinaryOp ToBinaryOp(Tok t) {
  switch (t) {
    case Tok::kLor:
      return BinaryOp::kOr;
    case Tok::kLand:
      return BinaryOp::kAnd;
    case Tok::kLunless:
      return BinaryOp::kUnless;
    case Tok::kEqlc:
      return BinaryOp::kEql;
    case Tok::kNeq:
      return BinaryOp::kNeq;
    case Tok::kLte:
      return BinaryOp::kLte;
    case Tok::kLss:
      return BinaryOp::kLss;
    case Tok::kGte:
      return BinaryOp::kGte;
    case Tok::kGtr:
      return BinaryOp::kGtr;
    case Tok::kAdd:
      return BinaryOp::kAdd;
    case Tok::kSub:
      return BinaryOp::kSub;
    case Tok::kMul:
      return BinaryOp::kMul;
    case Tok::kDiv:
      return BinaryOp::kDiv;
    case Tok::kMod:
      return BinaryOp::kMod;
    case Tok::kAtan2:
      return BinaryOp::kAtan2;
    default:
      return BinaryOp::kPow;
  }
}

AggregateOp ToAggregateOp(std::string_view word) {
  std::string lower = ToLower(word);
  static constexpr std::pair<std::string_view, AggregateOp> kOps[] = {
      {"sum", AggregateOp::kSum},
      {"avg", AggregateOp::kAvg},
      {"count", AggregateOp::kCount},
      {"min", AggregateOp::kMin},
      {"max", AggregateOp::kMax},
      {"group", AggregateOp::kGroup},
      {"stddev", AggregateOp::kStddev},
      {"stdvar", AggregateOp::kStdvar},
      {"topk", AggregateOp::kTopk},
      {"bottomk", AggregateOp::kBottomk},
      {"count_values", AggregateOp::kCountValues},
      {"quantile", AggregateOp::kQuantile},
  };
  for (const auto& [name, op] : kOps) {
    if (name == lower) {
      return op;
    }
  }
  return AggregateOp::kSum;
}

bool IsAggregatorWithParam(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk || op == AggregateOp::kQuantile ||
         op == AggregateOp::kCountValues;
}

// Go's strconv.ParseInt(s, 0, 64), falling back to ParseFloat, as Prometheus's number().
std::optional<double> ParseNumber(std::string_view text) {
  std::string s(text);
  std::string lower = ToLower(s);
  if (lower == "inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  errno = 0;
  char* end = nullptr;
  if (lower.size() > 2 && lower[0] == '0' && lower[1] == 'x') {
    // Go's ParseFloat only takes hex with a 'p' exponent, which never lexes as a number.
    unsigned long long v = std::strtoull(s.c_str() + 2, &end, 16);
    if (errno == 0 && *end == '\0' && v <= static_cast<unsigned long long>(INT64_MAX)) {
      return static_cast<double>(v);
    }
    return std::nullopt;
  } else if (s.size() > 1 && s[0] == '0' && s.find_first_not_of("01234567") == std::string::npos) {
    unsigned long long v = std::strtoull(s.c_str(), &end, 8);
    if (errno == 0 && v <= static_cast<unsigned long long>(INT64_MAX)) {
      return static_cast<double>(v);
    }
  }
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return d;
}

std::string GoFloatF(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%f", v);
  return buf;
}

class Parser {
 public:
  Parser(std::string_view input, std::vector<Token> tokens)
      : input_(input), tokens_(std::move(tokens)) {}

  ExprPtr ParseQuery() {
    if (Peek().type == Tok::kEof) {
      FailAt(0, "no expression found in input");
    }
    ExprPtr expr = ParseBinary(1);
    if (Peek().type != Tok::kEof) {
      Unexpected("", "");
    }
    return expr;
  }

 private:
  // Returns the next token; a lexer error is reported as soon as the parser reaches it.
  const Token& Peek() const {
    const Token& t = tokens_[index_];
    if (t.type == Tok::kError) {
      FailAt(t.pos, t.error);
    }
    return t;
  }

  const Token& PeekAt(size_t ahead) const {
    size_t i = std::min(index_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }

  const Token& Next() {
    const Token& t = Peek();
    if (index_ + 1 < tokens_.size()) {
      ++index_;
    }
    return t;
  }

  // Prometheus's parser.unexpected(context, expected) for the next token.
  [[noreturn]] void Unexpected(std::string_view context, std::string_view expected) const {
    const Token& t = Peek();
    std::string message = "unexpected " + Describe(t);
    if (context.empty()) {
      context = enclosing_context_;
    }
    if (!context.empty()) {
      message += " in ";
      message += context;
    }
    if (!expected.empty()) {
      message += ", expected ";
      message += expected;
    }
    FailAt(t.pos, std::move(message));
  }

  // Bounds the depth of the tree, so that deeply nested or very long operator chains are
  // rejected instead of overflowing the stack of the recursive passes. The count is an upper
  // bound of the depth: operators and postfix modifiers of one operand chain all add to it.
  void Nest(uint32_t pos) {
    if (++nesting_ > kMaxNesting) {
      FailAt(pos,
             "expression is nested too deeply: at most " + std::to_string(kMaxNesting) +
                 " levels of operators, parentheses, calls and modifiers are allowed");
    }
  }

  ExprPtr ParseBinary(int min_precedence) {
    int outer_nesting = nesting_;
    Nest(Peek().pos);
    ExprPtr lhs = ParseUnary();
    while (true) {
      Tok op = Peek().type;
      int precedence = Precedence(op);
      if (precedence == 0 || precedence < min_precedence) {
        nesting_ = outer_nesting;
        return lhs;
      }
      Nest(Peek().pos);
      Next();
      BinaryExpr binary;
      binary.op = ToBinaryOp(op);
      VectorMatching matching;
      ParseBinaryModifiers(binary, matching);
      binary.matching = std::move(matching);
      // '^' is right-associative, all other binary operators left-associative.
      ExprPtr rhs = ParseBinary(op == Tok::kPow ? precedence : precedence + 1);
      uint32_t start = lhs->pos.start;
      uint32_t end = rhs->pos.end;
      binary.lhs = std::move(lhs);
      binary.rhs = std::move(rhs);
      lhs = MakeExpr(std::move(binary), start, end);
    }
  }

  void ParseBinaryModifiers(BinaryExpr& binary, VectorMatching& matching) {
    if (Peek().type == Tok::kBool) {
      Next();
      binary.return_bool = true;
    }
    Tok t = Peek().type;
    if (t != Tok::kOn && t != Tok::kIgnoring) {
      return;
    }
    Next();
    matching.matching_on = t == Tok::kOn;
    matching.matching_labels = ParseGroupingLabels();
    t = Peek().type;
    if (t != Tok::kGroupLeft && t != Tok::kGroupRight) {
      return;
    }
    Next();
    matching.card = t == Tok::kGroupLeft ? VectorMatchCardinality::kManyToOne
                                         : VectorMatchCardinality::kOneToMany;
    if (Peek().type == Tok::kLeftParen) {
      matching.include_labels = ParseGroupingLabels();
    } else if (!CanStartExpression(Peek().type)) {
      // Prometheus reports a missing right operand here as a missing label list.
      Unexpected("grouping opts", "\"(\"");
    }
  }

  static bool CanStartExpression(Tok t) {
    switch (t) {
      case Tok::kNumber:
      case Tok::kString:
      case Tok::kLeftParen:
      case Tok::kLeftBrace:
      case Tok::kAdd:
      case Tok::kSub:
        return true;
      default:
        return IsMetricIdentifier(t);
    }
  }

  // Tokens Prometheus accepts as a label in grouping lists (maybe_label).
  static bool IsMaybeLabel(Tok t) {
    return t == Tok::kIdentifier || t == Tok::kMetricIdentifier || t == Tok::kAggregator ||
           IsKeywordTok(t) || t == Tok::kLand || t == Tok::kLor || t == Tok::kLunless ||
           t == Tok::kAtan2;
  }

  std::vector<std::string> ParseGroupingLabels() {
    if (Peek().type != Tok::kLeftParen) {
      Unexpected("grouping opts", "\"(\"");
    }
    Next();
    std::vector<std::string> labels;
    while (true) {
      if (Peek().type == Tok::kRightParen) {
        Next();
        return labels;
      }
      const Token& label = Peek();
      if (!IsMaybeLabel(label.type) || !IsValidLabelName(label.text)) {
        Unexpected("grouping opts", "label");
      }
      labels.emplace_back(Next().text);
      if (Peek().type == Tok::kComma) {
        Next();
      } else if (Peek().type != Tok::kRightParen) {
        Unexpected("grouping opts", "\",\" or \")\"");
      }
    }
  }

  ExprPtr ParseUnary() {
    Tok t = Peek().type;
    if (t != Tok::kAdd && t != Tok::kSub) {
      return ParsePostfix();
    }
    uint32_t start = Next().pos;
    // Unary operators bind like '*' (Prometheus: `unary_op expr %prec MUL`), so only '^'
    // binds tighter: -a^b is -(a^b) and -a*b is (-a)*b.
    ExprPtr operand = ParseBinary(kMulPrecedence + 1);
    if (const auto* number = operand->As<NumberLiteral>()) {
      double v = t == Tok::kSub ? -number->value : number->value;
      return MakeExpr(NumberLiteral{v}, start, operand->pos.end);
    }
    UnaryExpr unary;
    unary.negate = t == Tok::kSub;
    uint32_t end = operand->pos.end;
    unary.expr = std::move(operand);
    return MakeExpr(std::move(unary), start, end);
  }

  ExprPtr ParsePostfix() {
    ExprPtr expr = ParsePrimary();
    while (true) {
      if (Peek().type == Tok::kLeftBracket) {
        Nest(Peek().pos);
      }
      switch (Peek().type) {
        case Tok::kLeftBracket:
          expr = ParseRangeOrSubquery(std::move(expr));
          break;
        case Tok::kOffset:
          ParseOffset(expr);
          break;
        case Tok::kAt:
          ParseAt(expr);
          break;
        default:
          return expr;
      }
    }
  }

  int64_t ParseDurationToken(const Token& t) {
    Result<Duration> d = ParseDuration(t.text);
    if (!d.ok()) {
      FailAt(t.pos, "not a valid duration string: " + GoQuoteString(t.text));
    }
    if (d->count() == 0) {
      FailAt(t.pos, "duration must be greater than 0");
    }
    return d->count();
  }

  ExprPtr ParseRangeOrSubquery(ExprPtr expr) {
    const Token& open = Next();
    uint32_t open_pos = open.pos;
    if (Peek().type != Tok::kDuration) {
      Unexpected("subquery selector", "duration");
    }
    int64_t range = ParseDurationToken(Next());
    if (Peek().type == Tok::kRightBracket) {
      uint32_t end = Next().end;
      const auto* vs = expr->As<VectorSelector>();
      if (vs == nullptr) {
        FailAt(open_pos, "ranges only allowed for vector selectors");
      }
      if (vs->offset_ms != 0) {
        FailAt(open_pos, "no offset modifiers allowed before range");
      }
      if (vs->at.has_value()) {
        FailAt(open_pos, "no @ modifiers allowed before range");
      }
      MatrixSelector matrix;
      matrix.range_ms = range;
      uint32_t start = expr->pos.start;
      matrix.vector_selector = std::move(expr);
      return MakeExpr(std::move(matrix), start, end);
    }
    if (Peek().type != Tok::kColon) {
      Unexpected("subquery or range", "\":\" or \"]\"");
    }
    Next();
    SubqueryExpr subquery;
    subquery.range_ms = range;
    if (Peek().type == Tok::kDuration) {
      subquery.step_ms = ParseDurationToken(Next());
      if (Peek().type != Tok::kRightBracket) {
        Unexpected("subquery selector", "\"]\"");
      }
    } else if (Peek().type != Tok::kRightBracket) {
      Unexpected("subquery selector", "duration or \"]\"");
    }
    uint32_t end = Next().end;
    uint32_t start = expr->pos.start;
    subquery.expr = std::move(expr);
    return MakeExpr(std::move(subquery), start, end);
  }

  // The node an offset or @ modifier applies to: the selector itself, the vector selector of
  // a range selector, or the subquery.
  struct ModifierTarget {
    int64_t* offset_ms = nullptr;
    std::optional<AtModifier>* at = nullptr;
  };

  ModifierTarget TargetOf(const ExprPtr& expr, std::string_view modifier) {
    Expr& e = Mutable(expr);
    if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
      return {&vs->offset_ms, &vs->at};
    }
    if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
      auto& vs = std::get<VectorSelector>(Mutable(ms->vector_selector).node);
      return {&vs.offset_ms, &vs.at};
    }
    if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
      return {&sq->offset_ms, &sq->at};
    }
    FailAt(expr->pos.start,
           std::string(modifier) +
               " modifier must be preceded by an instant vector selector or range vector "
               "selector or a subquery");
  }

  void ParseOffset(const ExprPtr& expr) {
    Next();
    bool negative = false;
    if (Peek().type == Tok::kSub) {
      Next();
      negative = true;
    }
    if (Peek().type != Tok::kDuration) {
      Unexpected("offset", "duration");
    }
    const Token& t = Next();
    int64_t offset = ParseDurationToken(t);
    ModifierTarget target = TargetOf(expr, "offset");
    if (*target.offset_ms != 0) {
      FailAt(expr->pos.start, "offset may not be set multiple times");
    }
    *target.offset_ms = negative ? -offset : offset;
    Mutable(expr).pos.end = t.end;
  }

  void ParseAt(const ExprPtr& expr) {
    Next();
    AtModifier at;
    uint32_t end = 0;
    Tok t = Peek().type;
    if (t == Tok::kStart || t == Tok::kEnd) {
      Next();
      if (Peek().type != Tok::kLeftParen) {
        Unexpected("@", "timestamp");
      }
      Next();
      if (Peek().type != Tok::kRightParen) {
        Unexpected("@", "timestamp");
      }
      end = Next().end;
      at.kind = t == Tok::kStart ? AtModifier::Kind::kStart : AtModifier::Kind::kEnd;
    } else {
      bool negative = false;
      if (t == Tok::kAdd || t == Tok::kSub) {
        Next();
        negative = t == Tok::kSub;
      }
      if (Peek().type != Tok::kNumber) {
        Unexpected("@", "timestamp");
      }
      const Token& number = Next();
      double seconds = NumberValue(number);
      if (negative) {
        seconds = -seconds;
      }
      end = number.end;
      if (!std::isfinite(seconds) ||
          seconds >= static_cast<double>(std::numeric_limits<int64_t>::max()) / 1000 ||
          seconds <= static_cast<double>(std::numeric_limits<int64_t>::min()) / 1000) {
        FailAt(expr->pos.start, "timestamp out of bounds for @ modifier: " + GoFloatF(seconds));
      }
      at.kind = AtModifier::Kind::kTimestamp;
      at.timestamp_ms = static_cast<int64_t>(std::llround(seconds * 1000));
    }
    ModifierTarget target = TargetOf(expr, "@");
    if (target.at->has_value()) {
      FailAt(expr->pos.start, "@ <timestamp> may not be set multiple times");
    }
    *target.at = at;
    Mutable(expr).pos.end = end;
  }

  double NumberValue(const Token& t) {
    std::optional<double> v = ParseNumber(t.text);
    if (!v.has_value()) {
      FailAt(t.pos,
             "error parsing number: strconv.ParseFloat: parsing " + GoQuoteString(t.text) +
                 ": invalid syntax");
    }
    return *v;
  }

  // Tokens that name a metric in expression position (Prometheus's metric_identifier).
  static bool IsMetricIdentifier(Tok t) {
    switch (t) {
      case Tok::kIdentifier:
      case Tok::kMetricIdentifier:
      case Tok::kAggregator:
      case Tok::kBy:
      case Tok::kWithout:
      case Tok::kLand:
      case Tok::kLor:
      case Tok::kLunless:
      case Tok::kOffset:
      case Tok::kStart:
      case Tok::kEnd:
        return true;
      default:
        return false;
    }
  }

  ExprPtr ParsePrimary() {
    const Token& t = Peek();
    switch (t.type) {
      case Tok::kNumber: {
        Next();
        return MakeExpr(NumberLiteral{NumberValue(t)}, t.pos, t.end);
      }
      case Tok::kString:
        Next();
        return MakeExpr(StringLiteral{UnquoteString(t.text)}, t.pos, t.end);
      case Tok::kLeftParen: {
        Next();
        ExprPtr inner = ParseBinary(1);
        if (Peek().type != Tok::kRightParen) {
          Unexpected("", "");
        }
        uint32_t end = Next().end;
        return MakeExpr(ParenExpr{std::move(inner)}, t.pos, end);
      }
      case Tok::kLeftBrace:
        return ParseVectorSelector("", t.pos, t.pos);
      default:
        break;
    }
    if (t.type == Tok::kAggregator) {
      Tok next = PeekAt(1).type;
      if (next == Tok::kLeftParen || next == Tok::kBy || next == Tok::kWithout) {
        return ParseAggregation();
      }
    }
    if (t.type == Tok::kIdentifier && PeekAt(1).type == Tok::kLeftParen) {
      return ParseCall();
    }
    if (IsMetricIdentifier(t.type)) {
      Next();
      return ParseVectorSelector(std::string(t.text), t.pos, t.end);
    }
    Unexpected("", "");
  }

  ExprPtr ParseVectorSelector(std::string name, uint32_t start, uint32_t end) {
    VectorSelector vs;
    if (Peek().type == Tok::kLeftBrace) {
      Next();
      ParseLabelMatchers(vs.matchers);
      end = Next().end;  // the closing brace
    }
    if (!name.empty()) {
      Result<LabelMatcher> m = LabelMatcher::Create(MatchType::kEqual, "__name__", name);
      vs.matchers.push_back(std::move(m).value());
    }
    vs.name = std::move(name);
    return MakeExpr(std::move(vs), start, end);
  }

  // Parses matchers up to, not including, the closing brace.
  void ParseLabelMatchers(std::vector<LabelMatcher>& out) {
    while (Peek().type != Tok::kRightBrace) {
      if (Peek().type != Tok::kIdentifier) {
        Unexpected("label matching", "identifier or \"}\"");
      }
      const Token& name = Next();
      MatchType type;
      switch (Peek().type) {
        case Tok::kEql:
          type = MatchType::kEqual;
          break;
        case Tok::kNeq:
          type = MatchType::kNotEqual;
          break;
        case Tok::kEqlRegex:
          type = MatchType::kRegexMatch;
          break;
        case Tok::kNeqRegex:
          type = MatchType::kRegexNoMatch;
          break;
        default:
          Unexpected("label matching", "label matching operator");
      }
      Next();
      if (Peek().type != Tok::kString) {
        Unexpected("label matching", "string");
      }
      const Token& value = Next();
      std::string text = UnquoteString(value.text);
      Result<LabelMatcher> m = LabelMatcher::Create(type, std::string(name.text), text);
      if (!m.ok()) {
        FailAt(name.pos, RegexErrorMessage(text, m.error().message()));
      }
      out.push_back(std::move(m).value());
      if (Peek().type == Tok::kComma) {
        Next();
      } else if (Peek().type != Tok::kRightBrace) {
        Unexpected("label matching", "\",\" or \"}\"");
      }
    }
  }

  // Parses `( args )` after a function or aggregation name; trailing commas are an error.
  std::vector<ExprPtr> ParseCallBody(uint32_t& end) {
    Next();  // '('
    std::vector<ExprPtr> args;
    if (Peek().type != Tok::kRightParen) {
      while (true) {
        args.push_back(ParseBinary(1));
        if (Peek().type == Tok::kRightParen) {
          break;
        }
        if (Peek().type != Tok::kComma) {
          Unexpected("", "");
        }
        const Token& comma = Next();
        // Prometheus's error recovery blames the comma when no argument follows it.
        if (!CanStartExpression(Peek().type)) {
          FailAt(comma.pos, "trailing commas not allowed in function call args");
        }
      }
    }
    end = Next().end;
    return args;
  }

  ExprPtr ParseCall() {
    const Token& name = Next();
    uint32_t end = 0;
    std::vector<ExprPtr> args = ParseCallBody(end);
    if (LookupFunction(name.text) == nullptr) {
      FailAt(name.pos, "unknown function with name " + GoQuoteString(name.text));
    }
    Call call;
    call.func = std::string(name.text);
    call.args = std::move(args);
    return MakeExpr(std::move(call), name.pos, end);
  }

  void ParseAggregateModifier(AggregateExpr& agg) {
    agg.without = Next().type == Tok::kWithout;
    agg.grouping = ParseGroupingLabels();
  }

  ExprPtr ParseAggregation() {
    const Token& op = Next();
    AggregateExpr agg;
    agg.op = ToAggregateOp(op.text);
    bool modifier_first = false;
    if (Peek().type == Tok::kBy || Peek().type == Tok::kWithout) {
      ParseAggregateModifier(agg);
      modifier_first = true;
    }
    if (Peek().type != Tok::kLeftParen) {
      Unexpected("aggregation", "");
    }
    uint32_t end = 0;
    // Prometheus's error recovery names the aggregation for any syntax error inside its
    // arguments that no inner rule reports, even inside nested calls.
    std::string_view outer_context = enclosing_context_;
    enclosing_context_ = "aggregation";
    std::vector<ExprPtr> args = ParseCallBody(end);
    enclosing_context_ = outer_context;
    if (!modifier_first && (Peek().type == Tok::kBy || Peek().type == Tok::kWithout)) {
      ParseAggregateModifier(agg);
      end = tokens_[index_ - 1].end;
    }
    if (args.empty()) {
      FailAt(op.pos, "no arguments for aggregate expression provided");
    }
    size_t desired = IsAggregatorWithParam(agg.op) ? 2 : 1;
    if (args.size() != desired) {
      FailAt(op.pos,
             "wrong number of arguments for aggregate expression provided, expected " +
                 std::to_string(desired) + ", got " + std::to_string(args.size()));
    }
    if (desired == 2) {
      agg.param = args[0];
    }
    agg.expr = args.back();
    return MakeExpr(std::move(agg), op.pos, end);
  }

  std::string_view input_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  static constexpr int kMaxNesting = 1000;
  int nesting_ = 0;
  // The context named by syntax errors that have none of their own.
  std::string_view enclosing_context_;
};

// ---------------------------------------------------------------------------------------
// Type checking: Prometheus's checkAST, run only when the query has no syntax error. Errors
// are reported in the order checkAST would report them.

class Checker {
 public:
  explicit Checker(std::string_view input) : input_(input) {}

  ValueType Check(const ExprPtr& expr) {
    Expr& e = Mutable(expr);
    if (auto* agg = std::get_if<AggregateExpr>(&e.node)) {
      ExpectType(agg->expr, ValueType::kVector, "aggregation expression");
      if (agg->op == AggregateOp::kTopk || agg->op == AggregateOp::kBottomk ||
          agg->op == AggregateOp::kQuantile) {
        ExpectType(agg->param, ValueType::kScalar, "aggregation parameter");
      }
      if (agg->op == AggregateOp::kCountValues) {
        ExpectType(agg->param, ValueType::kString, "aggregation parameter");
      }
    } else if (auto* binary = std::get_if<BinaryExpr>(&e.node)) {
      CheckBinary(e, *binary);
    } else if (auto* call = std::get_if<Call>(&e.node)) {
      CheckCall(e, *call);
    } else if (auto* paren = std::get_if<ParenExpr>(&e.node)) {
      Check(paren->expr);
    } else if (auto* unary = std::get_if<UnaryExpr>(&e.node)) {
      ValueType t = Check(unary->expr);
      if (t != ValueType::kScalar && t != ValueType::kVector) {
        FailAt(e.pos.start,
               std::string("unary expression only allowed on expressions of type scalar or "
                           "instant vector, got \"") +
                   ValueTypeName(t) + "\"");
      }
    } else if (auto* subquery = std::get_if<SubqueryExpr>(&e.node)) {
      ValueType t = Check(subquery->expr);
      if (t != ValueType::kVector) {
        FailAt(e.pos.start,
               std::string("subquery is only allowed on instant vector, got ") +
                   GoValueTypeString(t) + " instead");
      }
    } else if (auto* matrix = std::get_if<MatrixSelector>(&e.node)) {
      Check(matrix->vector_selector);
    } else if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
      CheckVectorSelector(e, *vs);
    }
    return TypeOf(e);
  }

 private:
  // Go's ValueType.String(), used by the subquery message.
  static const char* GoValueTypeString(ValueType t) {
    switch (t) {
      case ValueType::kScalar:
        return "scalar";
      case ValueType::kVector:
        return "vector";
      case ValueType::kMatrix:
        return "matrix";
      case ValueType::kString:
        return "string";
      case ValueType::kNone:
        break;
    }
    return "none";
  }

  void ExpectType(const ExprPtr& expr, ValueType want, const std::string& context) {
    ValueType t = Check(expr);
    if (t != want) {
      FailAt(expr->pos.start,
             std::string("expected type ") + ValueTypeName(want) + " in " + context + ", got " +
                 ValueTypeName(t));
    }
  }

  // The operator's position: from the first non-space after the left operand.
  uint32_t OperatorPos(const BinaryExpr& b) const {
    uint32_t p = b.lhs->pos.end;
    while (p < input_.size() && IsSpace(input_[p])) {
      ++p;
    }
    return p;
  }

  void CheckBinary(Expr& e, BinaryExpr& b) {
    ValueType lt = Check(b.lhs);
    ValueType rt = Check(b.rhs);
    if (b.return_bool && !IsComparison(b.op)) {
      FailAt(OperatorPos(b), "bool modifier can only be used on comparison operators");
    }
    if (IsComparison(b.op) && !b.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      FailAt(OperatorPos(b), "comparisons between scalars must use BOOL modifier");
    }
    VectorMatching& m = *b.matching;
    if (IsSetOperator(b.op) && m.card == VectorMatchCardinality::kOneToOne) {
      m.card = VectorMatchCardinality::kManyToMany;
    }
    if (m.matching_on) {
      for (const std::string& l1 : m.matching_labels) {
        if (std::find(m.include_labels.begin(), m.include_labels.end(), l1) !=
            m.include_labels.end()) {
          FailAt(OperatorPos(b),
                 "label " + GoQuoteString(l1) + " must not occur in ON and GROUP clause at once");
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      FailAt(b.lhs->pos.start,
             "binary expression must contain only scalar and instant vector types");
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      FailAt(b.rhs->pos.start,
             "binary expression must contain only scalar and instant vector types");
    }
    std::string op = BinaryOpString(b.op);
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!m.matching_labels.empty()) {
        FailAt(e.pos.start, "vector matching only allowed between instant vectors");
      }
      b.matching.reset();
    } else if (IsSetOperator(b.op)) {
      if (m.card == VectorMatchCardinality::kOneToMany ||
          m.card == VectorMatchCardinality::kManyToOne) {
        FailAt(e.pos.start, "no grouping allowed for " + GoQuoteString(op) + " operation");
      }
      if (m.card != VectorMatchCardinality::kManyToMany) {
        FailAt(e.pos.start, "set operations must always be many-to-many");
      }
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(b.op)) {
      FailAt(e.pos.start,
             "set operator " + GoQuoteString(op) + " not allowed in binary scalar expression");
    }
  }

  void CheckCall(Expr& e, Call& call) {
    const FunctionSignature* sig = LookupFunction(call.func);
    int nargs = static_cast<int>(sig->arg_types.size());
    int arg_count = static_cast<int>(call.args.size());
    std::string quoted = GoQuoteString(call.func);
    if (sig->variadic == 0) {
      if (nargs != arg_count) {
        FailAt(e.pos.start,
               "expected " + std::to_string(nargs) + " argument(s) in call to " + quoted +
                   ", got " + std::to_string(arg_count));
      }
    } else if (sig->min_args() > arg_count) {
      FailAt(e.pos.start,
             "expected at least " + std::to_string(sig->min_args()) + " argument(s) in call to " +
                 quoted + ", got " + std::to_string(arg_count));
    } else if (sig->max_args() >= 0 && sig->max_args() < arg_count) {
      FailAt(e.pos.start,
             "expected at most " + std::to_string(sig->max_args()) + " argument(s) in call to " +
                 quoted + ", got " + std::to_string(arg_count));
    }
    for (size_t i = 0; i < call.args.size(); ++i) {
      ExpectType(call.args[i], sig->ArgType(i), "call to function " + quoted);
    }
  }

  void CheckVectorSelector(const Expr& e, const VectorSelector& vs) {
    if (!vs.name.empty()) {
      // The last matcher is the one for the name written before the braces.
      for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
        if (vs.matchers[i].name() == kMetricName) {
          FailAt(e.pos.start,
                 "metric name must not be set twice: " + GoQuoteString(vs.name) + " or " +
                     GoQuoteString(vs.matchers[i].value()));
        }
      }
      return;
    }
    for (const LabelMatcher& m : vs.matchers) {
      if (!m.MatchesEmpty()) {
        return;
      }
    }
    FailAt(e.pos.start, "vector selector must contain at least one non-empty matcher");
  }

  std::string_view input_;
};

void LineAndColumn(std::string_view input, uint32_t pos, int& line, int& column) {
  line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos && i < input.size(); ++i) {
    if (input[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  column = static_cast<int>(pos - line_start) + 1;
}

struct LookbackVisitor {
  int64_t lookback_delta_ms;

  int64_t Of(const ExprPtr& e) const { return std::visit(*this, e->node); }

  static int64_t Combine(int64_t a, int64_t b) {
    if (a == kUnboundedLookback || b == kUnboundedLookback) {
      return kUnboundedLookback;
    }
    return std::max(a, b);
  }

  int64_t operator()(const NumberLiteral&) const { return 0; }

  int64_t operator()(const StringLiteral&) const { return 0; }

  int64_t operator()(const VectorSelector& vs) const {
    if (vs.at.has_value()) {
      return kUnboundedLookback;
    }
    return std::max<int64_t>(0, vs.offset_ms + lookback_delta_ms);
  }

  int64_t operator()(const MatrixSelector& ms) const {
    const auto& vs = std::get<VectorSelector>(ms.vector_selector->node);
    if (vs.at.has_value()) {
      return kUnboundedLookback;
    }
    return std::max<int64_t>(0, vs.offset_ms + ms.range_ms);
  }

  int64_t operator()(const SubqueryExpr& sq) const {
    int64_t inner = Of(sq.expr);
    if (sq.at.has_value() || inner == kUnboundedLookback) {
      return kUnboundedLookback;
    }
    return std::max<int64_t>(0, inner + sq.range_ms + sq.offset_ms);
  }

  int64_t operator()(const ParenExpr& p) const { return Of(p.expr); }

  int64_t operator()(const UnaryExpr& u) const { return Of(u.expr); }

  int64_t operator()(const BinaryExpr& b) const { return Combine(Of(b.lhs), Of(b.rhs)); }

  int64_t operator()(const AggregateExpr& a) const {
    int64_t n = Of(a.expr);
    return a.param ? Combine(n, Of(a.param)) : n;
  }

  int64_t operator()(const Call& c) const {
    int64_t n = 0;
    for (const ExprPtr& arg : c.args) {
      n = Combine(n, Of(arg));
    }
    return n;
  }
};

}  // namespace

Result<ExprPtr> ParseExpr(std::string_view query) {
  try {
    Parser parser(query, Lexer(query).Run());
    ExprPtr expr = parser.ParseQuery();
    Checker(query).Check(expr);
    return expr;
  } catch (const ParseFailure& failure) {
    int line = 0;
    int column = 0;
    LineAndColumn(query, failure.pos, line, column);
    return Error::Invalid(failure.message, line, column);
  } catch (const x3::expectation_failure<std::string_view::const_iterator>& failure) {
    int line = 0;
    int column = 0;
    LineAndColumn(query, static_cast<uint32_t>(failure.where() - query.begin()), line, column);
    return Error::Invalid("unexpected input, expected " + failure.which(), line, column);
  }
}

int64_t MaxLookbackMs(const Expr& expr, int64_t lookback_delta_ms) {
  return std::visit(LookbackVisitor{lookback_delta_ms}, expr.node);
}

}  // namespace alertd::promql
