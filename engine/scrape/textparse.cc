#include "engine/scrape/textparse.h"

#include <cerrno>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

namespace alertd {
namespace {

constexpr size_t kMaxQuotedLength = 64;

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsLabelStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsLabelChar(char c) {
  return IsLabelStart(c) || IsDigit(c);
}

bool IsMetricStart(char c) {
  return IsLabelStart(c) || c == ':';
}

bool IsMetricChar(char c) {
  return IsMetricStart(c) || IsDigit(c);
}

// Quotes `text` for an error message, escaping control bytes and shortening long text.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  bool truncated = text.size() > kMaxQuotedLength;
  for (char c : text.substr(0, kMaxQuotedLength)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += truncated ? "...\"" : "\"";
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t extra;
    uint32_t code_point;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code_point = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code_point = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code_point = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) {
      return false;
    }
    for (size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) {
        return false;
      }
      code_point = (code_point << 6) | (next & 0x3f);
    }
    // Overlong encodings, UTF-16 surrogates and values past U+10FFFF are invalid, as in Go.
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[extra] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string_view TrimTrailingBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Parses a string that IsDecimalFloat accepted, independent of the process's locale.
double ParseDecimal(const std::string& text, bool* overflow) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", nullptr);
  errno = 0;
  double value = strtod_l(text.c_str(), nullptr, c_locale);
  // strtod sets ERANGE on underflow too, which Go's ParseFloat accepts as zero or subnormal.
  *overflow = errno == ERANGE && std::isinf(value);
  return value;
}

// Replaces the escapes \\ and \n of HELP text; other backslashes stay, as in Prometheus.
std::string UnescapeHelp(std::string_view text) {
  std::string help;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == 'n')) {
      help += text[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      help += text[i];
    }
  }
  return help;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) {
      return false;
    }
  }
  return true;
}

// Whether `text` is a decimal float in the syntax Go's strconv.ParseFloat accepts, minus the
// hexadecimal and underscore forms that Prometheus rejects.
bool IsDecimalFloat(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    ++i;
  }
  size_t digits = 0;
  while (i < text.size() && IsDigit(text[i])) {
    ++i;
    ++digits;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) {
    return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      ++i;
    }
    size_t exponent_digits = 0;
    while (i < text.size() && IsDigit(text[i])) {
      ++i;
      ++exponent_digits;
    }
    if (exponent_digits == 0) {
      return false;
    }
  }
  return i == text.size();
}

// Parses one line at a time; each method reads from `line_` at `pos_`.
class Parser {
 public:
  explicit Parser(std::string_view body) : body_(body) {}

  Result<ParsedExposition> Run();

 private:
  Error Fail(const std::string& message) const {
    return Error::Invalid("line " + std::to_string(line_number_) + ": " + message,
                          line_number_,
                          static_cast<int>(pos_) + 1);
  }

  void SkipBlanks() {
    while (pos_ < line_.size() && IsBlank(line_[pos_])) {
      ++pos_;
    }
  }

  bool AtEnd() const { return pos_ >= line_.size(); }

  // Returns the text from `pos_` up to the next blank or one of `stops`, for error messages.
  std::string_view TokenAt(std::string_view stops = "") const {
    size_t end = pos_;
    while (end < line_.size() && !IsBlank(line_[end]) &&
           stops.find(line_[end]) == std::string_view::npos) {
      ++end;
    }
    if (end == pos_ && end < line_.size()) {
      ++end;
    }
    return line_.substr(pos_, end - pos_);
  }

  std::string Found() const { return AtEnd() ? "end of line" : Quote(TokenAt()); }

  std::optional<Error> ParseLine();
  std::optional<Error> ParseComment();
  std::optional<Error> ParseSample();
  std::optional<Error> ParseLabels(std::string_view metric, std::vector<Label>& labels);
  Result<std::string> ParseLabelValue(std::string_view name);
  Result<double> ParseValue(std::string_view series);
  std::optional<Error> ParseTimestamp(std::optional<int64_t>& timestamp);

  std::string_view body_;
  std::string_view line_;
  size_t pos_ = 0;
  int line_number_ = 0;
  ParsedExposition out_;
};

Result<ParsedExposition> Parser::Run() {
  size_t start = 0;
  while (start < body_.size()) {
    size_t end = body_.find('\n', start);
    if (end == std::string_view::npos) {
      end = body_.size();
    }
    line_ = body_.substr(start, end - start);
    pos_ = 0;
    ++line_number_;
    if (!line_.empty() && line_.back() == '\r') {
      pos_ = line_.size() - 1;
      return Fail(
          "unexpected carriage return at the end of the line: end lines with \"\\n\", "
          "not \"\\r\\n\"");
    }
    if (auto error = ParseLine()) {
      return *error;
    }
    start = end + 1;
  }
  return std::move(out_);
}

std::optional<Error> Parser::ParseLine() {
  SkipBlanks();
  if (AtEnd()) {
    return std::nullopt;
  }
  if (line_[pos_] == '#') {
    return ParseComment();
  }
  return ParseSample();
}

std::optional<Error> Parser::ParseComment() {
  ++pos_;  // '#'
  // As in Prometheus, only "#", blanks, then HELP or TYPE and a blank start a metadata line.
  if (AtEnd() || !IsBlank(line_[pos_])) {
    return std::nullopt;
  }
  SkipBlanks();
  std::string_view rest = line_.substr(pos_);
  bool is_help = rest.starts_with("HELP");
  bool is_type = rest.starts_with("TYPE");
  if ((!is_help && !is_type) || rest.size() < 5 || !IsBlank(rest[4])) {
    return std::nullopt;
  }

  std::string_view keyword = is_help ? "HELP" : "TYPE";
  pos_ += 4;
  SkipBlanks();
  if (AtEnd()) {
    return Fail("missing metric name after \"# " + std::string(keyword) + "\"");
  }
  std::string_view name = TokenAt();
  if (!IsValidMetricName(name)) {
    return Fail("invalid metric name " + Quote(name) + " after \"# " + std::string(keyword) + "\"");
  }
  pos_ += name.size();

  // The text starts after exactly one blank, so further blanks belong to it, as in Prometheus.
  std::string_view text = AtEnd() ? std::string_view() : line_.substr(pos_ + 1);
  MetricMetadata& metadata = out_.metadata[std::string(name)];
  if (is_type) {
    if (text != "counter" && text != "gauge" && text != "histogram" && text != "summary" &&
        text != "untyped") {
      ++pos_;
      return Fail("invalid metric type " + Quote(text) + " for metric \"" + std::string(name) +
                  "\": use counter, gauge, histogram, summary or untyped");
    }
    metadata.type = std::string(text);
    return std::nullopt;
  }
  std::string help = UnescapeHelp(text);
  if (!IsValidUtf8(help)) {
    return Fail("help text of metric \"" + std::string(name) + "\" is not valid UTF-8");
  }
  metadata.help = std::move(help);
  return std::nullopt;
}

std::optional<Error> Parser::ParseSample() {
  size_t name_start = pos_;
  while (pos_ < line_.size() && IsMetricChar(line_[pos_])) {
    ++pos_;
  }
  std::string_view name = line_.substr(name_start, pos_ - name_start);
  if (name.empty() && line_[pos_] == '{') {
    return Fail("missing metric name before \"{\"");
  }
  if (name.empty() || !IsMetricStart(name[0]) ||
      (!AtEnd() && !IsBlank(line_[pos_]) && line_[pos_] != '{')) {
    pos_ = name_start;
    return Fail("invalid metric name " + Quote(TokenAt("{")));
  }

  std::vector<Label> labels;
  labels.push_back({std::string(kMetricName), std::string(name)});
  SkipBlanks();
  if (!AtEnd() && line_[pos_] == '{') {
    if (auto error = ParseLabels(name, labels)) {
      return error;
    }
  }

  std::string_view series = TrimTrailingBlanks(line_.substr(name_start, pos_ - name_start));
  SkipBlanks();
  auto value = ParseValue(series);
  if (!value.ok()) {
    return value.error();
  }
  ParsedSample sample;
  sample.value = *value;
  SkipBlanks();
  if (auto error = ParseTimestamp(sample.timestamp_ms)) {
    return error;
  }
  sample.labels = Labels(std::move(labels));
  out_.samples.push_back(std::move(sample));
  return std::nullopt;
}

std::optional<Error> Parser::ParseLabels(std::string_view metric, std::vector<Label>& labels) {
  ++pos_;  // '{'
  while (true) {
    SkipBlanks();
    if (AtEnd()) {
      return Fail("missing \"}\" after the labels of metric \"" + std::string(metric) + "\"");
    }
    if (line_[pos_] == '}') {
      ++pos_;
      return std::nullopt;
    }
    size_t name_start = pos_;
    while (pos_ < line_.size() && IsLabelChar(line_[pos_])) {
      ++pos_;
    }
    std::string_view name = line_.substr(name_start, pos_ - name_start);
    if (name.empty() || !IsLabelStart(name[0])) {
      pos_ = name_start;
      return Fail("invalid label name " + Quote(TokenAt("=,}\"")));
    }
    SkipBlanks();
    if (AtEnd() || line_[pos_] != '=') {
      return Fail("expected \"=\" after label name \"" + std::string(name) + "\", found " +
                  Found());
    }
    ++pos_;
    SkipBlanks();
    auto value = ParseLabelValue(name);
    if (!value.ok()) {
      return value.error();
    }
    for (const Label& existing : labels) {
      if (existing.name == name) {
        pos_ = name_start;
        return Fail("duplicate label name \"" + std::string(name) + "\" in metric \"" +
                    std::string(metric) + "\"");
      }
    }
    labels.push_back({std::string(name), std::move(*value)});
    SkipBlanks();
    // A comma may follow every label, the last one too; Prometheus also accepts none.
    if (!AtEnd() && line_[pos_] == ',') {
      ++pos_;
    }
  }
}

Result<std::string> Parser::ParseLabelValue(std::string_view name) {
  if (AtEnd() || line_[pos_] != '"') {
    return Fail("label value of \"" + std::string(name) + "\" must be a double-quoted string, " +
                "found " + Found());
  }
  size_t value_start = pos_;
  ++pos_;
  std::string value;
  while (true) {
    if (AtEnd()) {
      pos_ = value_start;
      return Fail("missing closing quote in the label value of \"" + std::string(name) + "\"");
    }
    char c = line_[pos_++];
    if (c == '"') {
      break;
    }
    if (c == '\\' && !AtEnd()) {
      char escaped = line_[pos_++];
      if (escaped == 'n') {
        value += '\n';
      } else if (escaped == '\\' || escaped == '"') {
        value += escaped;
      } else {
        value += '\\';
        value += escaped;
      }
      continue;
    }
    value += c;
  }
  if (!IsValidUtf8(value)) {
    pos_ = value_start;
    return Fail("label value of \"" + std::string(name) + "\" is not valid UTF-8");
  }
  return value;
}

Result<double> Parser::ParseValue(std::string_view series) {
  if (AtEnd()) {
    return Fail("missing sample value after " + Quote(series));
  }
  std::string_view text = TokenAt();
  std::string_view unsigned_text = text;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    unsigned_text = text.substr(1);
  }
  double value;
  if (EqualsIgnoreCase(unsigned_text, "inf") || EqualsIgnoreCase(unsigned_text, "infinity")) {
    value = negative ? -std::numeric_limits<double>::infinity()
                     : std::numeric_limits<double>::infinity();
  } else if (EqualsIgnoreCase(text, "nan")) {
    value = std::numeric_limits<double>::quiet_NaN();
  } else if (IsDecimalFloat(text)) {
    bool overflow = false;
    value = ParseDecimal(std::string(text), &overflow);
    if (overflow) {
      return Fail("sample value " + Quote(text) + " is out of range");
    }
  } else {
    return Fail("invalid sample value " + Quote(text) +
                ": use a decimal number, NaN, +Inf or -Inf");
  }
  pos_ += text.size();
  return value;
}

std::optional<Error> Parser::ParseTimestamp(std::optional<int64_t>& timestamp) {
  if (AtEnd()) {
    return std::nullopt;
  }
  std::string_view text = TokenAt();
  int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  bool digits_only = !text.empty() && IsDigit(text[0]);
  if (!digits_only || end != text.data() + text.size() || ec == std::errc::result_out_of_range) {
    if (ec == std::errc::result_out_of_range) {
      return Fail("timestamp " + Quote(text) + " is out of range");
    }
    return Fail("invalid timestamp " + Quote(text) +
                ": use integer milliseconds since the Unix epoch");
  }
  timestamp = parsed;
  pos_ += text.size();
  SkipBlanks();
  if (!AtEnd()) {
    return Fail("unexpected text " + Quote(line_.substr(pos_)) + " after the timestamp");
  }
  return std::nullopt;
}

}  // namespace

Result<ParsedExposition> ParseTextExposition(std::string_view body) {
  return Parser(body).Run();
}

Result<std::vector<ParsedSample>> ParseTextFormat(std::string_view body) {
  auto parsed = ParseTextExposition(body);
  if (!parsed.ok()) {
    return parsed.error();
  }
  return std::move(parsed->samples);
}

}  // namespace alertd
