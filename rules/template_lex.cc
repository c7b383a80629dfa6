// Go text/template lexer (text/template/parse/lex.go of Go 1.19), with the token shapes
// (identifiers, numbers, string literals) recognised by Spirit X3 parsers.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/spirit/home/x3.hpp>

#include "rules/template_internal.h"

namespace alertd::template_internal {
namespace {

namespace x3 = boost::spirit::x3;

constexpr std::string_view kLeftDelim = "{{";
constexpr std::string_view kRightDelim = "}}";
constexpr std::string_view kLeftComment = "/*";
constexpr std::string_view kRightComment = "*/";

// Go's identifier characters: letters, digits and '_'. Bytes of multi-byte UTF-8 sequences
// count as letters, which accepts the Unicode letters Go accepts (and a few more symbols).
const auto kIdentChar = x3::char_("a-zA-Z0-9_") | x3::char_('\x80', '\xff');
const auto kIdentifier = x3::raw[+kIdentChar];

const auto kDecDigits = *x3::char_("0-9_");
const auto kHexDigits = *x3::char_("0-9a-fA-F_");
const auto kDecBody = kDecDigits >> -(x3::lit('.') >> kDecDigits) >>
                      -(x3::char_("eE") >> -x3::char_("+-") >> kDecDigits);
const auto kHexBody = kHexDigits >> -(x3::lit('.') >> kHexDigits) >>
                      -(x3::char_("pP") >> -x3::char_("+-") >> kDecDigits);
const auto kNumber =
    x3::raw[-x3::char_("+-") >> ((x3::lit('0') >> x3::char_("xX") >> kHexBody) |
                                 (x3::lit('0') >> x3::char_("oObB") >> kDecDigits) | kDecBody) >>
            -x3::lit('i')];

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsAlphaNumeric(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Decodes the UTF-8 rune at the start of `s`; returns U+FFFD for an invalid sequence.
uint32_t DecodeRune(std::string_view s) {
  unsigned char c = s[0];
  size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
  if (len == 0 || s.size() < len) {
    return 0xfffd;
  }
  uint32_t cp = c & (0x7f >> len);
  for (size_t i = 1; i < len; ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3f);
  }
  return cp;
}

// Whether a non-ASCII rune may start an identifier. Go uses unicode.IsLetter; this rejects
// the Latin-1 and general punctuation, symbol and space blocks and accepts the rest.
bool IsLetterRune(uint32_t cp) {
  if (cp >= 0x80 && cp <= 0xbf) {
    return cp == 0xaa || cp == 0xb5 || cp == 0xba;
  }
  if (cp == 0xd7 || cp == 0xf7 || cp == 0xfeff || cp == 0xfffd) {
    return false;
  }
  return !(cp >= 0x2000 && cp <= 0x2bff) && !(cp >= 0x3000 && cp <= 0x303f);
}

bool HasLeftTrimMarker(std::string_view s) {
  return s.size() >= 2 && s[0] == '-' && IsSpace(s[1]);
}

bool HasRightTrimMarker(std::string_view s) {
  return s.size() >= 2 && IsSpace(s[0]) && s[1] == '-';
}

size_t LeftTrimLength(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsSpace(s[n])) {
    ++n;
  }
  return n;
}

size_t RightTrimLength(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && IsSpace(s[s.size() - 1 - n])) {
    ++n;
  }
  return n;
}

// Go's %#U of an ASCII or single-byte character.
std::string QuoteRune(unsigned char c) {
  char buf[32];
  if (c >= 0x20 && c < 0x7f) {
    std::snprintf(buf, sizeof(buf), "U+%04X '%c'", c, c);
  } else {
    std::snprintf(buf, sizeof(buf), "U+%04X", c);
  }
  return buf;
}

const std::vector<std::pair<std::string_view, TokenType>>& Keywords() {
  static const std::vector<std::pair<std::string_view, TokenType>> kKeywords = {
      {"block", TokenType::kKeyword},
      {"break", TokenType::kKeyword},
      {"continue", TokenType::kKeyword},
      {"define", TokenType::kKeyword},
      {"else", TokenType::kKeyword},
      {"end", TokenType::kKeyword},
      {"if", TokenType::kKeyword},
      {"range", TokenType::kKeyword},
      {"nil", TokenType::kKeyword},
      {"template", TokenType::kKeyword},
      {"with", TokenType::kKeyword},
      {"true", TokenType::kBool},
      {"false", TokenType::kBool},
  };
  return kKeywords;
}

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  std::vector<Token> Run() {
    while (!done_) {
      LexText();
    }
    return std::move(tokens_);
  }

 private:
  std::string_view Rest() const { return input_.substr(pos_); }

  void Emit(TokenType type) { Emit(type, std::string(input_.substr(start_, pos_ - start_))); }

  void Emit(TokenType type, std::string val) {
    tokens_.push_back(Token{type, std::move(val), start_, start_line_});
    Ignore();
  }

  // Skips input_[start_, pos_), keeping the line count.
  void Ignore() {
    for (size_t i = start_; i < pos_; ++i) {
      if (input_[i] == '\n') {
        ++line_;
      }
    }
    start_ = pos_;
    start_line_ = line_;
  }

  void Error(std::string message) {
    tokens_.push_back(Token{TokenType::kError, std::move(message), start_, start_line_});
    done_ = true;
  }

  void LexText() {
    size_t x = input_.find(kLeftDelim, pos_);
    if (x == std::string_view::npos) {
      pos_ = input_.size();
      if (pos_ > start_) {
        Emit(TokenType::kText);
      }
      tokens_.push_back(Token{TokenType::kEof, "", pos_, line_});
      done_ = true;
      return;
    }
    size_t delim_pos = x;
    size_t text_end = x;
    bool trim = HasLeftTrimMarker(input_.substr(x + kLeftDelim.size()));
    if (trim) {
      text_end -= RightTrimLength(input_.substr(start_, x - start_));
    }
    pos_ = text_end;
    if (pos_ > start_) {
      Emit(TokenType::kText);
    }
    pos_ = delim_pos;
    Ignore();
    LexLeftDelim(trim);
  }

  void LexLeftDelim(bool trim) {
    pos_ += kLeftDelim.size();
    size_t after_marker = trim ? 2 : 0;
    if (Rest().substr(after_marker).starts_with(kLeftComment)) {
      pos_ += after_marker;
      Ignore();
      LexComment();
      return;
    }
    Emit(TokenType::kLeftDelim);
    pos_ += after_marker;
    Ignore();
    paren_depth_ = 0;
    LexInsideAction();
  }

  void LexComment() {
    pos_ += kLeftComment.size();
    size_t x = input_.find(kRightComment, pos_);
    if (x == std::string_view::npos) {
      Error("unclosed comment");
      return;
    }
    pos_ = x + kRightComment.size();
    bool trim = false;
    if (!AtRightDelim(&trim)) {
      Error("comment ends before closing delimiter");
      return;
    }
    Emit(TokenType::kComment);
    if (trim) {
      pos_ += 2;
    }
    pos_ += kRightDelim.size();
    if (trim) {
      pos_ += LeftTrimLength(Rest());
    }
    Ignore();
  }

  bool AtRightDelim(bool* trim) const {
    if (HasRightTrimMarker(Rest()) && Rest().substr(2).starts_with(kRightDelim)) {
      *trim = true;
      return true;
    }
    *trim = false;
    return Rest().starts_with(kRightDelim);
  }

  void LexRightDelim() {
    bool trim = HasRightTrimMarker(Rest());
    if (trim) {
      pos_ += 2;
      Ignore();
    }
    pos_ += kRightDelim.size();
    Emit(TokenType::kRightDelim);
    if (trim) {
      pos_ += LeftTrimLength(Rest());
      Ignore();
    }
  }

  bool AtTerminator() const {
    if (pos_ >= input_.size()) {
      return true;
    }
    char c = input_[pos_];
    if (IsSpace(c)) {
      return true;
    }
    switch (c) {
      case '.':
      case ',':
      case '|':
      case ':':
      case ')':
      case '(':
        return true;
      default:
        return Rest().starts_with(kRightDelim);
    }
  }

  // Lexes the tokens of one action up to and including its right delimiter.
  void LexInsideAction() {
    while (!done_) {
      bool trim = false;
      if (AtRightDelim(&trim)) {
        if (paren_depth_ == 0) {
          LexRightDelim();
          return;
        }
        Error("unclosed left paren");
        return;
      }
      if (pos_ >= input_.size()) {
        Error("unclosed action");
        return;
      }
      char c = input_[pos_];
      if (IsSpace(c)) {
        if (LexSpace()) {
          return;
        }
        continue;
      }
      ++pos_;
      switch (c) {
        case '=':
          Emit(TokenType::kAssign);
          continue;
        case ':':
          if (pos_ >= input_.size() || input_[pos_] != '=') {
            Error("expected :=");
            return;
          }
          ++pos_;
          Emit(TokenType::kDeclare);
          continue;
        case '|':
        case ',':
          Emit(TokenType::kPunct);
          continue;
        case '"':
          LexQuote();
          continue;
        case '`':
          LexRawQuote();
          continue;
        case '$':
          LexVariable();
          continue;
        case '\'':
          LexChar();
          continue;
        case '(':
          Emit(TokenType::kPunct);
          ++paren_depth_;
          continue;
        case ')':
          // Go emits the paren before the error, so the parser reports it as unexpected.
          Emit(TokenType::kPunct);
          --paren_depth_;
          if (paren_depth_ < 0) {
            Error("unexpected right paren " + QuoteRune(')'));
            return;
          }
          continue;
        default:
          break;
      }
      if (c == '.' && pos_ < input_.size() && (input_[pos_] < '0' || input_[pos_] > '9')) {
        LexFieldOrVariable(TokenType::kField);
        continue;
      }
      if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        --pos_;
        LexNumber();
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        uint32_t cp = DecodeRune(input_.substr(pos_ - 1));
        if (!IsLetterRune(cp)) {
          char buf[16];
          std::snprintf(buf, sizeof(buf), "U+%04X", cp);
          Error(std::string("unrecognized character in action: ") + buf);
          return;
        }
      }
      if (IsAlphaNumeric(c)) {
        --pos_;
        LexIdentifier();
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x80 && c >= 0x20 && c < 0x7f) {
        Emit(TokenType::kPunct);
        continue;
      }
      Error("unrecognized character in action: " + QuoteRune(static_cast<unsigned char>(c)));
      return;
    }
  }

  // Lexes a run of spaces; returns true when it ended the action at a " -}}" delimiter.
  bool LexSpace() {
    size_t num_spaces = 0;
    while (pos_ < input_.size() && IsSpace(input_[pos_])) {
      ++pos_;
      ++num_spaces;
    }
    std::string_view from_last_space = input_.substr(pos_ - 1);
    if (HasRightTrimMarker(from_last_space) && from_last_space.substr(2).starts_with(kRightDelim)) {
      --pos_;
      if (num_spaces == 1) {
        LexRightDelim();
        return true;
      }
    }
    Emit(TokenType::kSpace);
    return false;
  }

  void LexIdentifier() {
    auto first = input_.begin() + pos_;
    std::string word;
    x3::parse(first, input_.end(), kIdentifier, word);
    pos_ = first - input_.begin();
    if (!AtTerminator()) {
      Error("bad character " + QuoteRune(static_cast<unsigned char>(input_[pos_])));
      return;
    }
    for (const auto& [keyword, type] : Keywords()) {
      if (keyword == word) {
        Emit(type);
        return;
      }
    }
    Emit(TokenType::kIdentifier);
  }

  // After the '.' or '$' that starts a field or variable.
  void LexFieldOrVariable(TokenType type) {
    if (AtTerminator()) {
      Emit(type == TokenType::kVariable ? TokenType::kVariable : TokenType::kKeyword,
           type == TokenType::kVariable ? "$" : ".");
      return;
    }
    auto first = input_.begin() + pos_;
    x3::parse(first, input_.end(), kIdentifier);
    pos_ = first - input_.begin();
    if (!AtTerminator()) {
      Error("bad character " + QuoteRune(static_cast<unsigned char>(input_[pos_])));
      return;
    }
    Emit(type);
  }

  void LexVariable() { LexFieldOrVariable(TokenType::kVariable); }

  void LexNumber() {
    auto first = input_.begin() + pos_;
    x3::parse(first, input_.end(), kNumber);
    pos_ = first - input_.begin();
    if (pos_ < input_.size() && IsAlphaNumeric(input_[pos_])) {
      ++pos_;
      Error("bad number syntax: \"" + std::string(input_.substr(start_, pos_ - start_)) + "\"");
      return;
    }
    Emit(TokenType::kNumber);
  }

  void LexQuote() {
    while (true) {
      if (pos_ >= input_.size() || input_[pos_] == '\n') {
        Error("unterminated quoted string");
        return;
      }
      char c = input_[pos_++];
      if (c == '\\') {
        if (pos_ >= input_.size() || input_[pos_] == '\n') {
          Error("unterminated quoted string");
          return;
        }
        ++pos_;
      } else if (c == '"') {
        break;
      }
    }
    Emit(TokenType::kString);
  }

  void LexRawQuote() {
    size_t x = input_.find('`', pos_);
    if (x == std::string_view::npos) {
      Error("unterminated raw quoted string");
      return;
    }
    pos_ = x + 1;
    Emit(TokenType::kRawString);
  }

  void LexChar() {
    while (true) {
      if (pos_ >= input_.size() || input_[pos_] == '\n') {
        Error("unterminated character constant");
        return;
      }
      char c = input_[pos_++];
      if (c == '\\') {
        if (pos_ >= input_.size() || input_[pos_] == '\n') {
          Error("unterminated character constant");
          return;
        }
        ++pos_;
      } else if (c == '\'') {
        break;
      }
    }
    Emit(TokenType::kChar);
  }

  std::string_view input_;
  size_t pos_ = 0;
  size_t start_ = 0;
  int line_ = 1;
  int start_line_ = 1;
  int paren_depth_ = 0;
  bool done_ = false;
  std::vector<Token> tokens_;
};

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The body of a Go quoted literal (strconv.Unquote), delimited by `quote`. Appends the
// decoded text to `out`; \x and octal escapes append raw bytes, \u and \U encode UTF-8.
bool DecodeQuoted(std::string_view body, char quote, std::string* out) {
  auto append_char = [out](auto& ctx) {
    out->push_back(x3::_attr(ctx));
  };
  auto append_byte = [out](auto& ctx) {
    out->push_back(static_cast<char>(static_cast<unsigned>(x3::_attr(ctx))));
  };
  bool valid_rune = true;
  auto append_rune = [out, &valid_rune](auto& ctx) {
    uint32_t cp = x3::_attr(ctx);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
      valid_rune = false;
      return;
    }
    AppendUtf8(cp, out);
  };
  x3::symbols<char> simple;
  simple.add("a", '\a')("b", '\b')("f", '\f')("n", '\n')("r", '\r')("t", '\t')("v", '\v')("\\",
                                                                                          '\\');
  simple.add(std::string(1, quote), quote);
  x3::uint_parser<unsigned, 16, 2, 2> hex2;
  x3::uint_parser<unsigned, 8, 3, 3> oct3;
  x3::uint_parser<uint32_t, 16, 4, 4> hex4;
  x3::uint_parser<uint32_t, 16, 8, 8> hex8;
  auto plain = x3::char_ - x3::char_('\\') - x3::char_(quote) - x3::char_('\n');
  auto escape = x3::lit('\\') >> (simple[append_char] | (x3::lit('x') >> hex2[append_byte]) |
                                  (x3::lit('u') >> hex4[append_rune]) |
                                  (x3::lit('U') >> hex8[append_rune]) | oct3[append_byte]);
  auto first = body.begin();
  bool ok = x3::parse(first, body.end(), *(escape | plain[append_char]));
  return ok && first == body.end() && valid_rune;
}

}  // namespace

std::vector<Token> Lex(std::string_view text) {
  return Lexer(text).Run();
}

bool UnquoteGoString(std::string_view literal, std::string* out) {
  out->clear();
  if (literal.size() < 2) {
    return false;
  }
  char quote = literal.front();
  if (literal.back() != quote) {
    return false;
  }
  std::string_view body = literal.substr(1, literal.size() - 2);
  if (quote == '`') {
    if (body.find('`') != std::string_view::npos) {
      return false;
    }
    for (char c : body) {
      if (c != '\r') {  // strconv.Unquote drops carriage returns from raw strings
        out->push_back(c);
      }
    }
    return true;
  }
  if (quote != '"' && quote != '\'') {
    return false;
  }
  return DecodeQuoted(body, quote, out);
}

bool ParseGoNumber(std::string_view text, bool is_char, Number* out, std::string* error) {
  out->text = std::string(text);
  if (is_char) {
    std::string decoded;
    if (!UnquoteGoString(text, &decoded) || decoded.empty()) {
      *error = "malformed character constant: " + std::string(text);
      return false;
    }
    // Decode one UTF-8 rune.
    uint32_t cp = static_cast<unsigned char>(decoded[0]);
    size_t len = 1;
    if (cp >= 0xf0) {
      cp &= 0x07;
      len = 4;
    } else if (cp >= 0xe0) {
      cp &= 0x0f;
      len = 3;
    } else if (cp >= 0xc0) {
      cp &= 0x1f;
      len = 2;
    }
    for (size_t i = 1; i < len && i < decoded.size(); ++i) {
      cp = (cp << 6) | (static_cast<unsigned char>(decoded[i]) & 0x3f);
    }
    if (len != decoded.size()) {
      *error = "malformed character constant: " + std::string(text);
      return false;
    }
    out->is_int = out->is_uint = out->is_float = true;
    out->i = cp;
    out->u = cp;
    out->f = cp;
    return true;
  }
  if (!text.empty() && text.back() == 'i') {
    *error = "complex numbers are not supported: " + std::string(text);
    return false;
  }
  std::string clean;
  for (char c : text) {
    if (c != '_') {
      clean.push_back(c);
    }
  }
  std::string body = clean;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.erase(0, 1);
  }
  int base = 10;
  std::string digits = body;
  if (body.size() > 1 && body[0] == '0') {
    char p = body[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      digits = body.substr(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      digits = body.substr(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      digits = body.substr(2);
    } else if (body.find_first_not_of("01234567") == std::string::npos) {
      base = 8;
      digits = body.substr(1);
    }
  }
  bool all_digits = !digits.empty();
  for (char c : digits) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : 99;
    if (d >= base) {
      all_digits = false;
    }
  }
  if (all_digits) {
    errno = 0;
    char* end = nullptr;
    unsigned long long u = std::strtoull(digits.c_str(), &end, base);
    if (errno == 0 && *end == '\0') {
      if (!negative) {
        out->is_uint = true;
        out->u = u;
      }
      if (!negative && u <= static_cast<unsigned long long>(INT64_MAX)) {
        out->is_int = true;
        out->i = static_cast<int64_t>(u);
      } else if (negative && u <= static_cast<unsigned long long>(INT64_MAX) + 1) {
        out->is_int = true;
        out->i = static_cast<int64_t>(0 - u);
      }
    }
  }
  if (out->is_int) {
    out->is_float = true;
    out->f = static_cast<double>(out->i);
    return true;
  }
  if (out->is_uint) {
    out->is_float = true;
    out->f = static_cast<double>(out->u);
    return true;
  }
  if (base == 10 || base == 16) {
    errno = 0;
    char* end = nullptr;
    double f = std::strtod(clean.c_str(), &end);
    bool hex_float_ok = base != 16 || body.find_first_of("pP") != std::string::npos;
    if (end != clean.c_str() && *end == '\0' && errno != ERANGE && hex_float_ok &&
        clean.find_first_of("nN") == std::string::npos) {
      out->is_float = true;
      out->f = f;
      // The range check comes first: converting a double outside int64's range is undefined.
      if (f > -9.2e18 && f < 9.2e18 && static_cast<double>(static_cast<int64_t>(f)) == f) {
        out->is_int = true;
        out->i = static_cast<int64_t>(f);
      }
      return true;
    }
  }
  *error = "illegal number syntax: \"" + std::string(text) + "\"";
  return false;
}

}  // namespace alertd::template_internal
