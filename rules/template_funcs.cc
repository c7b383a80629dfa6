// Template functions: Go's text/template builtins (funcs.go of Go 1.19), Prometheus 2.42's
// template/template.go function map and Alertmanager 0.25's DefaultFuncs.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "common/duration.h"
#include "rules/template_internal.h"

namespace alertd::template_internal {
namespace {

using FunctionMap = std::map<std::string, FuncSpec, std::less<>>;
using P = ParamType;

[[noreturn]] void Fail(std::string message) {
  throw FuncError{std::move(message)};
}

const std::string& Str(const Value& v) {
  return v.json.get_ref<const std::string&>();
}

// ---- Go library behaviour ----

// strconv.ParseFloat(s, 64), with its error text.
double ParseGoFloat(const std::string& s) {
  std::string lower;
  for (char c : s) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string body = lower;
  double sign = 1;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body[0] == '-' ? -1 : 1;
    body.erase(0, 1);
  }
  if (body == "inf" || body == "infinity") {
    return sign * std::numeric_limits<double>::infinity();
  }
  if (body == "nan") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  bool hex = body.starts_with("0x");
  bool valid = !body.empty() && body.find_first_of(" \t\n\r\v\f(") == std::string::npos &&
               (!hex || body.find('p') != std::string::npos) &&
               body.find("inf") == std::string::npos && body.find("nan") == std::string::npos;
  std::string clean;
  for (char c : s) {
    if (c != '_') {
      clean.push_back(c);
    }
  }
  // Go accepts '_' only between digits after a base prefix; reject it elsewhere.
  if (!hex && clean.size() != s.size()) {
    valid = false;
  }
  if (valid) {
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(clean.c_str(), &end);
    if (end != clean.c_str() && *end == '\0') {
      if (errno == ERANGE && std::isinf(v)) {
        Fail("strconv.ParseFloat: parsing " + GoSprintf("%q", {Value::Json(s)}) +
             ": value out of range");
      }
      return v;
    }
  }
  Fail("strconv.ParseFloat: parsing " + GoSprintf("%q", {Value::Json(s)}) + ": invalid syntax");
}

// Prometheus's convertToFloat.
double ConvertToFloat(const Value& v) {
  if (v.kind == Value::Kind::kJson) {
    const nlohmann::json& j = v.json;
    if (j.is_number_float()) {
      return j.get<double>();
    }
    if (j.is_number_unsigned()) {
      return static_cast<double>(j.get<uint64_t>());
    }
    if (j.is_number_integer()) {
      return static_cast<double>(j.get<int64_t>());
    }
    if (j.is_string()) {
      return ParseGoFloat(Str(v));
    }
  }
  Fail("can't convert " + GoTypeName(v) + " to float");
}

std::string Sprintf4g(double v, const std::string& suffix) {
  return GoFormatFloat(v, 'g', 4) + suffix;
}

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) {
    return Sprintf4g(v, "");
  }
  if (std::fabs(v) >= 1) {
    std::string prefix;
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) {
        break;
      }
      prefix = p;
      v /= 1000;
    }
    return Sprintf4g(v, prefix);
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) {
      break;
    }
    prefix = p;
    v *= 1000;
  }
  return Sprintf4g(v, prefix);
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) {
    return Sprintf4g(v, "");
  }
  std::string prefix;
  for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) {
      break;
    }
    prefix = p;
    v /= 1024;
  }
  return Sprintf4g(v, prefix);
}

// Go's int64(v) for a float64: truncation, with the amd64 result for out-of-range values.
int64_t GoInt64(double v) {
  if (std::isnan(v) || v >= 9223372036854775808.0 || v < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(v);
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) {
    return Sprintf4g(v, "");
  }
  if (v == 0) {
    return Sprintf4g(v, "s");
  }
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    int64_t duration = GoInt64(v);
    int64_t seconds = duration % 60;
    int64_t minutes = (duration / 60) % 60;
    int64_t hours = (duration / 60 / 60) % 24;
    int64_t days = duration / 60 / 60 / 24;
    char buf[128];
    if (days != 0) {
      std::snprintf(buf,
                    sizeof(buf),
                    "%s%lldd %lldh %lldm %llds",
                    sign.c_str(),
                    static_cast<long long>(days),
                    static_cast<long long>(hours),
                    static_cast<long long>(minutes),
                    static_cast<long long>(seconds));
      return buf;
    }
    if (hours != 0) {
      std::snprintf(buf,
                    sizeof(buf),
                    "%s%lldh %lldm %llds",
                    sign.c_str(),
                    static_cast<long long>(hours),
                    static_cast<long long>(minutes),
                    static_cast<long long>(seconds));
      return buf;
    }
    if (minutes != 0) {
      std::snprintf(buf,
                    sizeof(buf),
                    "%s%lldm %llds",
                    sign.c_str(),
                    static_cast<long long>(minutes),
                    static_cast<long long>(seconds));
      return buf;
    }
    return sign + Sprintf4g(v, "s");
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) {
      break;
    }
    prefix = p;
    v *= 1000;
  }
  return Sprintf4g(v, prefix + "s");
}

// Prometheus's floatToTime: seconds to a time truncated to milliseconds, as
// model.TimeFromUnixNano(...).Time() does. Returns false for NaN and infinities.
bool FloatToTime(double v, int64_t* unix_nanos) {
  if (std::isnan(v) || std::isinf(v)) {
    return false;
  }
  double timestamp = v * 1e9;
  if (timestamp > 9223372036854775807.0 || timestamp < -9223372036854775808.0) {
    Fail(GoFormatFloat(v, 'g', -1) +
         " cannot be represented as a nanoseconds timestamp since it overflows int64");
  }
  int64_t millis = GoInt64(timestamp) / 1000000;
  *unix_nanos = millis * 1000000;
  return true;
}

// url.QueryEscape.
std::string QueryEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// template.HTMLEscapeString.
std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\0':
        out += "\xef\xbf\xbd";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// template.JSEscapeString.
std::string JsEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (c < ' ') {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

// text/template's evalArgs: one string argument as is, otherwise fmt.Sprint of the
// printable values.
std::string EvalArgs(const std::vector<Value>& args) {
  if (args.size() == 1 && args[0].IsString()) {
    return Str(args[0]);
  }
  std::vector<Value> printable;
  for (const Value& a : args) {
    printable.push_back(!a.IsValid() || a.IsNil() ? Value::Json("<no value>") : a);
  }
  return GoSprint(printable);
}

// strings.Title over ASCII letters: a letter after a separator is upper-cased.
// NOTE: non-ASCII letters are left as they are, where Go maps them to title case.
std::string Title(const std::string& s) {
  std::string out;
  bool prev_separator = true;
  for (unsigned char c : s) {
    bool separator = c < 0x80 && !std::isalnum(c) && c != '_';
    if (prev_separator && c < 0x80 && std::islower(c)) {
      out.push_back(static_cast<char>(std::toupper(c)));
    } else {
      out.push_back(static_cast<char>(c));
    }
    // Continuation bytes of a UTF-8 sequence belong to a letter-like rune.
    prev_separator = separator;
  }
  return out;
}

// Go's regexp error text for an RE2 compile failure.
std::string RegexpError(const RE2& re) {
  std::string code;
  switch (re.error_code()) {
    case RE2::ErrorMissingParen:
      code = "missing closing )";
      break;
    case RE2::ErrorMissingBracket:
      code = "missing closing ]";
      break;
    case RE2::ErrorBadEscape:
      code = "invalid escape sequence";
      break;
    case RE2::ErrorTrailingBackslash:
      code = "trailing backslash at end of expression";
      break;
    case RE2::ErrorBadCharRange:
      code = "invalid character class range";
      break;
    case RE2::ErrorBadCharClass:
      code = "invalid character class";
      break;
    case RE2::ErrorRepeatArgument:
      code = "missing argument to repetition operator";
      break;
    case RE2::ErrorRepeatSize:
      code = "invalid repeat count";
      break;
    case RE2::ErrorRepeatOp:
      code = "invalid nested repetition operator";
      break;
    case RE2::ErrorBadPerlOp:
      code = "invalid or unsupported Perl syntax";
      break;
    case RE2::ErrorBadUTF8:
      code = "invalid UTF-8";
      break;
    case RE2::ErrorBadNamedCapture:
      code = "invalid named capture";
      break;
    default:
      return "error parsing regexp: " + re.error();
  }
  if (code == "missing closing )" && re.error_arg().empty()) {
    return "error parsing regexp: " + code + ": `" + re.pattern() + "`";
  }
  return "error parsing regexp: " + code + ": `" + re.error_arg() + "`";
}

std::unique_ptr<RE2> CompileRegexp(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_unique<RE2>(pattern, options);
}

// regexp's quote(): backquoted when possible.
std::string RegexpQuote(const std::string& s) {
  bool can_backquote = true;
  for (unsigned char c : s) {
    if (c == '`' || (c < ' ' && c != '\t') || c == 0x7f) {
      can_backquote = false;
    }
  }
  return can_backquote ? "`" + s + "`" : GoSprintf("%q", {Value::Json(s)});
}

// Regexp.Expand of a Go replacement template: $1, ${1}, $name, ${name} and $$.
void ExpandReplacement(const RE2& re,
                       const std::string& repl,
                       const std::vector<re2::StringPiece>& groups,
                       std::string* out) {
  const auto& names = re.NamedCapturingGroups();
  size_t i = 0;
  while (i < repl.size()) {
    char c = repl[i];
    if (c != '$' || i + 1 >= repl.size()) {
      out->push_back(c);
      ++i;
      continue;
    }
    if (repl[i + 1] == '$') {
      out->push_back('$');
      i += 2;
      continue;
    }
    std::string name;
    size_t next;
    if (repl[i + 1] == '{') {
      size_t close = repl.find('}', i + 2);
      name = close == std::string::npos ? "" : repl.substr(i + 2, close - i - 2);
      next = close == std::string::npos ? 0 : close + 1;
    } else {
      size_t j = i + 1;
      while (j < repl.size() &&
             (std::isalnum(static_cast<unsigned char>(repl[j])) || repl[j] == '_')) {
        ++j;
      }
      name = repl.substr(i + 1, j - i - 1);
      next = j;
    }
    bool valid = !name.empty();
    for (char n : name) {
      valid = valid && (std::isalnum(static_cast<unsigned char>(n)) || n == '_');
    }
    if (!valid) {
      out->push_back('$');  // malformed: the '$' is literal
      ++i;
      continue;
    }
    i = next;
    int index = -1;
    if (name.find_first_not_of("0123456789") == std::string::npos) {
      index = name.size() > 9 ? -1 : std::atoi(name.c_str());
    } else {
      auto it = names.find(name);
      if (it != names.end()) {
        index = it->second;
      }
    }
    if (index >= 0 && index < static_cast<int>(groups.size()) && groups[index].data() != nullptr) {
      out->append(groups[index].data(), groups[index].size());
    }
  }
}

// Regexp.ReplaceAllString, including its handling of empty matches.
std::string ReplaceAll(const std::string& pattern,
                       const std::string& repl,
                       const std::string& text) {
  auto re = CompileRegexp(pattern);
  if (!re->ok()) {
    Fail("regexp: Compile(" + RegexpQuote(pattern) + "): " + RegexpError(*re));
  }
  int ngroups = re->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(ngroups);
  std::string out;
  size_t last_match_end = 0;
  size_t search_pos = 0;
  re2::StringPiece input(text);
  while (search_pos <= text.size()) {
    if (!re->Match(input, search_pos, text.size(), RE2::UNANCHORED, groups.data(), ngroups)) {
      break;
    }
    size_t start = groups[0].data() - text.data();
    size_t end = start + groups[0].size();
    out.append(text, last_match_end, start - last_match_end);
    if (end > last_match_end || start == 0) {
      ExpandReplacement(*re, repl, groups, &out);
    }
    last_match_end = end;
    size_t width = 1;
    if (search_pos < text.size()) {
      unsigned char c = text[search_pos];
      width = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    }
    if (search_pos + width > end) {
      search_pos += width;
    } else if (search_pos + 1 > end) {
      ++search_pos;
    } else {
      search_pos = end;
    }
  }
  if (last_match_end < text.size()) {
    out.append(text, last_match_end, std::string::npos);
  }
  return out;
}

bool MatchString(const std::string& pattern, const std::string& text) {
  auto re = CompileRegexp(pattern);
  if (!re->ok()) {
    Fail(RegexpError(*re));
  }
  return RE2::PartialMatch(text, *re);
}

// net.SplitHostPort's host, or the input when it has no valid port part.
std::string StripPort(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return host_port;
  }
  if (!host_port.empty() && host_port[0] == '[') {
    size_t close = host_port.find(']');
    if (close == std::string::npos || close + 1 != colon) {
      return host_port;
    }
    std::string host = host_port.substr(1, close - 1);
    if (host_port.find('[', 1) != std::string::npos ||
        host_port.find(']', close + 1) != std::string::npos) {
      return host_port;
    }
    return host;
  }
  std::string host = host_port.substr(0, colon);
  if (host.find(':') != std::string::npos || host.find_first_of("[]") != std::string::npos ||
      host_port.find_first_of("[]", colon) != std::string::npos) {
    return host_port;
  }
  return host;
}

// The path of a URL, as url.URL.Path.
std::string UrlPath(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : url.find('/', scheme + 3);
  if (start == std::string::npos) {
    return "";
  }
  size_t end = url.find_first_of("?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// ---- Builtins ----

enum class Kind { kInvalid, kBool, kInt, kFloat, kString, kOther };

Kind BasicKind(const Value& v) {
  if (!v.IsValid()) {
    return Kind::kInvalid;
  }
  if (v.kind != Value::Kind::kJson) {
    return Kind::kOther;
  }
  const nlohmann::json& j = v.json;
  if (j.is_boolean()) {
    return Kind::kBool;
  }
  if (j.is_number_integer()) {
    return Kind::kInt;
  }
  if (j.is_number_float()) {
    return Kind::kFloat;
  }
  if (j.is_string()) {
    return Kind::kString;
  }
  return Kind::kOther;
}

bool Truth(const Value& v) {
  bool ok = true;
  return IsTrue(v, &ok);
}

bool Eq(const std::vector<Value>& args) {
  if (args.size() < 2) {
    Fail("missing argument for comparison");
  }
  const Value& a = args[0];
  Kind k1 = BasicKind(a);
  for (size_t i = 1; i < args.size(); ++i) {
    const Value& b = args[i];
    Kind k2 = BasicKind(b);
    bool truth = false;
    if (k1 != k2) {
      if (a.IsValid() && b.IsValid()) {
        Fail("incompatible types for comparison");
      }
    } else {
      switch (k1) {
        case Kind::kBool:
        case Kind::kString:
          truth = a.json == b.json;
          break;
        case Kind::kInt:
          truth = a.json.get<int64_t>() == b.json.get<int64_t>();
          break;
        case Kind::kFloat:
          truth = a.json.get<double>() == b.json.get<double>();
          break;
        case Kind::kInvalid:
          truth = false;
          break;
        case Kind::kOther:
          if (a.IsNil() || b.IsNil()) {
            truth = a.IsNil() == b.IsNil();
          } else if (a.kind == Value::Kind::kTime && b.kind == Value::Kind::kTime) {
            truth = false;  // distinct *time.Time pointers
          } else {
            Fail("non-comparable type " + GoPrint(b) + ": " + GoTypeName(b));
          }
          break;
      }
    }
    if (truth) {
      return true;
    }
  }
  return false;
}

bool Lt(const Value& a, const Value& b) {
  Kind k1 = BasicKind(a);
  Kind k2 = BasicKind(b);
  if (k1 == Kind::kInvalid || k1 == Kind::kOther || k2 == Kind::kInvalid || k2 == Kind::kOther) {
    Fail("invalid type for comparison");
  }
  if (k1 != k2) {
    Fail("incompatible types for comparison");
  }
  switch (k1) {
    case Kind::kBool:
      Fail("invalid type for comparison");
    case Kind::kInt:
      return a.json.get<int64_t>() < b.json.get<int64_t>();
    case Kind::kFloat:
      return a.json.get<double>() < b.json.get<double>();
    default:
      return Str(a) < Str(b);
  }
}

int64_t IndexArg(const Value& index, size_t size) {
  if (!index.IsValid() || index.IsNil()) {
    Fail("cannot index slice/array with nil");
  }
  if (!index.IsInt()) {
    Fail("cannot index slice/array with type " + GoTypeName(index));
  }
  int64_t x = index.json.get<int64_t>();
  if (x < 0 || static_cast<uint64_t>(x) >= size) {
    Fail("index out of range: " + std::to_string(x));
  }
  return x;
}

Value Index(const std::vector<Value>& args) {
  Value item = args[0];
  if (!item.IsValid() || item.IsNil()) {
    Fail("index of untyped nil");
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const Value& index = args[i];
    if (item.IsNil()) {
      Fail("index of nil pointer");
    }
    const nlohmann::json& j = item.json;
    if (item.kind == Value::Kind::kJson && j.is_array()) {
      item = Value::Json(j[IndexArg(index, j.size())]);
    } else if (item.kind == Value::Kind::kJson && j.is_string()) {
      const std::string& s = Str(item);
      item = Value::Json(
          static_cast<int64_t>(static_cast<unsigned char>(s[IndexArg(index, s.size())])));
    } else if (item.kind == Value::Kind::kJson && j.is_object()) {
      if (!index.IsString()) {
        if (!index.IsValid() || index.IsNil()) {
          Fail("value is nil; should be of type string");
        }
        Fail("value has type " + GoTypeName(index) + "; should be string");
      }
      auto it = j.find(Str(index));
      if (it != j.end()) {
        item = Value::Json(*it);
      } else {
        // The zero value of the map's element type: "" for a map[string]string.
        item = IsStringMap(j) ? Value::Json("") : Value::Json(nullptr);
      }
    } else {
      Fail("can't index item of type " + GoTypeName(item));
    }
  }
  return item;
}

Value Slice(const std::vector<Value>& args) {
  const Value& item = args[0];
  if (!item.IsValid() || item.IsNil()) {
    Fail("slice of untyped nil");
  }
  if (args.size() > 4) {
    Fail("too many slice indexes: " + std::to_string(args.size() - 1));
  }
  bool is_string = item.IsString();
  if (!is_string && !(item.kind == Value::Kind::kJson && item.json.is_array())) {
    Fail("can't slice item of type " + GoTypeName(item));
  }
  if (is_string && args.size() == 4) {
    Fail("cannot 3-index slice a string");
  }
  size_t cap = is_string ? Str(item).size() : item.json.size();
  std::vector<int64_t> idx = {0, static_cast<int64_t>(cap), static_cast<int64_t>(cap)};
  for (size_t i = 1; i < args.size(); ++i) {
    idx[i - 1] = IndexArg(args[i], cap + 1);
  }
  if (idx[0] > idx[1]) {
    Fail("invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1]));
  }
  if (args.size() == 4 && idx[1] > idx[2]) {
    Fail("invalid slice index: " + std::to_string(idx[1]) + " > " + std::to_string(idx[2]));
  }
  if (is_string) {
    return Value::Json(Str(item).substr(idx[0], idx[1] - idx[0]));
  }
  nlohmann::json out = nlohmann::json::array();
  for (int64_t i = idx[0]; i < idx[1]; ++i) {
    out.push_back(item.json[i]);
  }
  return Value::Json(std::move(out));
}

Value Len(const Value& v) {
  if (!v.IsValid() || v.IsNil()) {
    Fail("len of nil pointer");
  }
  const nlohmann::json& j = v.json;
  if (v.kind == Value::Kind::kJson && j.is_string()) {
    return Value::Json(static_cast<int64_t>(Str(v).size()));
  }
  if (v.kind == Value::Kind::kJson && (j.is_array() || j.is_object())) {
    return Value::Json(static_cast<int64_t>(j.size()));
  }
  Fail("len of type " + GoTypeName(v));
}

FuncSpec Spec(std::vector<ParamType> params,
              bool variadic,
              std::function<Value(const CallContext&, std::vector<Value>&)> fn) {
  return FuncSpec{std::move(params), variadic, std::move(fn)};
}

void AddBuiltins(FunctionMap* m) {
  auto& f = *m;
  f["not"] = Spec({P::kValue}, false, [](auto&, auto& a) { return Value::Json(!Truth(a[0])); });
  f["len"] = Spec({P::kValue}, false, [](auto&, auto& a) { return Len(a[0]); });
  f["index"] = Spec({P::kValue, P::kValue}, true, [](auto&, auto& a) { return Index(a); });
  f["slice"] = Spec({P::kValue, P::kValue}, true, [](auto&, auto& a) { return Slice(a); });
  f["print"] = Spec({P::kAny}, true, [](auto&, auto& a) { return Value::Json(GoSprint(a)); });
  f["println"] = Spec({P::kAny}, true, [](auto&, auto& a) { return Value::Json(GoSprintln(a)); });
  f["printf"] = Spec({P::kString, P::kAny}, true, [](auto&, auto& a) {
    std::vector<Value> rest(a.begin() + 1, a.end());
    return Value::Json(GoSprintf(Str(a[0]), rest));
  });
  f["html"] =
      Spec({P::kAny}, true, [](auto&, auto& a) { return Value::Json(HtmlEscape(EvalArgs(a))); });
  f["js"] =
      Spec({P::kAny}, true, [](auto&, auto& a) { return Value::Json(JsEscape(EvalArgs(a))); });
  f["urlquery"] =
      Spec({P::kAny}, true, [](auto&, auto& a) { return Value::Json(QueryEscape(EvalArgs(a))); });
  f["eq"] = Spec({P::kValue, P::kValue}, true, [](auto&, auto& a) { return Value::Json(Eq(a)); });
  f["ne"] = Spec({P::kValue, P::kValue}, false, [](auto&, auto& a) { return Value::Json(!Eq(a)); });
  f["lt"] = Spec(
      {P::kValue, P::kValue}, false, [](auto&, auto& a) { return Value::Json(Lt(a[0], a[1])); });
  f["le"] = Spec({P::kValue, P::kValue}, false, [](auto&, auto& a) {
    return Value::Json(Lt(a[0], a[1]) || Eq(a));
  });
  f["gt"] = Spec({P::kValue, P::kValue}, false, [](auto&, auto& a) {
    return Value::Json(!(Lt(a[0], a[1]) || Eq(a)));
  });
  f["ge"] = Spec(
      {P::kValue, P::kValue}, false, [](auto&, auto& a) { return Value::Json(!Lt(a[0], a[1])); });
}

// Functions both upstreams define with the same behaviour.
void AddStringFunctions(FunctionMap* m) {
  auto& f = *m;
  f["toUpper"] =
      Spec({P::kString}, false, [](auto&, auto& a) { return Value::Json(GoToUpper(Str(a[0]))); });
  f["toLower"] =
      Spec({P::kString}, false, [](auto&, auto& a) { return Value::Json(GoToLower(Str(a[0]))); });
  f["title"] =
      Spec({P::kString}, false, [](auto&, auto& a) { return Value::Json(Title(Str(a[0]))); });
  f["match"] = Spec({P::kString, P::kString}, false, [](auto&, auto& a) {
    return Value::Json(MatchString(Str(a[0]), Str(a[1])));
  });
  f["reReplaceAll"] = Spec({P::kString, P::kString, P::kString}, false, [](auto&, auto& a) {
    return Value::Json(ReplaceAll(Str(a[0]), Str(a[1]), Str(a[2])));
  });
  f["safeHtml"] = Spec({P::kString}, false, [](auto&, auto& a) { return a[0]; });
}

const nlohmann::json& SampleLabels(const Value& sample) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (sample.IsNil()) {
    Fail("runtime error: invalid memory address or nil pointer dereference");
  }
  auto it = sample.json.find("Labels");
  return it != sample.json.end() && it->is_object() ? *it : kEmpty;
}

std::string LabelOf(const Value& sample, const std::string& name) {
  const nlohmann::json& labels = SampleLabels(sample);
  auto it = labels.find(name);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
}

Value Query(const CallContext& context, const std::string& expr) {
  if (!context.options->query) {
    Fail("query function is not available");
  }
  Result<nlohmann::json> result = context.options->query(expr);
  if (!result.ok()) {
    Fail(result.error().message());
  }
  if (!result->is_array()) {
    Fail("query result is not a vector");
  }
  return Value::Json(*result);
}

void AddPrometheusFunctions(FunctionMap* m) {
  auto& f = *m;
  AddStringFunctions(m);
  f["query"] = Spec({P::kString}, false, [](auto& ctx, auto& a) { return Query(ctx, Str(a[0])); });
  f["first"] = Spec({P::kSamples}, false, [](auto&, auto& a) {
    if (a[0].IsNil() || a[0].json.empty()) {
      Fail("first() called on vector with no elements");
    }
    return Value::Json(a[0].json[0]);
  });
  f["label"] = Spec({P::kString, P::kSample}, false, [](auto&, auto& a) {
    return Value::Json(LabelOf(a[1], Str(a[0])));
  });
  f["value"] = Spec({P::kSample}, false, [](auto&, auto& a) {
    SampleLabels(a[0]);
    auto it = a[0].json.find("Value");
    return Value::Json(it != a[0].json.end() && it->is_number() ? it->template get<double>() : 0.0);
  });
  f["strvalue"] = Spec(
      {P::kSample}, false, [](auto&, auto& a) { return Value::Json(LabelOf(a[0], "__value__")); });
  f["args"] = Spec({P::kAny}, true, [](auto&, auto& a) {
    nlohmann::json out = nlohmann::json::object();
    for (size_t i = 0; i < a.size(); ++i) {
      out["arg" + std::to_string(i)] = a[i].kind == Value::Kind::kJson ? a[i].json : nullptr;
    }
    return Value::Json(std::move(out));
  });
  f["graphLink"] = Spec({P::kString}, false, [](auto&, auto& a) {
    return Value::Json("/graph?g0.expr=" + QueryEscape(Str(a[0])) + "&g0.tab=0");
  });
  f["tableLink"] = Spec({P::kString}, false, [](auto&, auto& a) {
    return Value::Json("/graph?g0.expr=" + QueryEscape(Str(a[0])) + "&g0.tab=1");
  });
  f["sortByLabel"] = Spec({P::kString, P::kSamples}, false, [](auto&, auto& a) {
    if (a[1].IsNil()) {
      return Value::Json(nullptr);
    }
    std::vector<nlohmann::json> samples(a[1].json.begin(), a[1].json.end());
    const std::string& label = Str(a[0]);
    std::stable_sort(samples.begin(), samples.end(), [&](const auto& x, const auto& y) {
      return LabelOf(Value::Json(x), label) < LabelOf(Value::Json(y), label);
    });
    return Value::Json(nlohmann::json(samples));
  });
  f["humanize"] = Spec(
      {P::kAny}, false, [](auto&, auto& a) { return Value::Json(Humanize(ConvertToFloat(a[0]))); });
  f["humanize1024"] = Spec({P::kAny}, false, [](auto&, auto& a) {
    return Value::Json(Humanize1024(ConvertToFloat(a[0])));
  });
  f["humanizeDuration"] = Spec({P::kAny}, false, [](auto&, auto& a) {
    return Value::Json(HumanizeDuration(ConvertToFloat(a[0])));
  });
  f["humanizePercentage"] = Spec({P::kAny}, false, [](auto&, auto& a) {
    return Value::Json(Sprintf4g(ConvertToFloat(a[0]) * 100, "%"));
  });
  f["humanizeTimestamp"] = Spec({P::kAny}, false, [](auto&, auto& a) {
    double v = ConvertToFloat(a[0]);
    int64_t nanos = 0;
    if (!FloatToTime(v, &nanos)) {
      return Value::Json(Sprintf4g(v, ""));
    }
    return Value::Json(GoPrint(Value::Time(nanos)));
  });
  f["toTime"] = Spec({P::kAny}, false, [](auto&, auto& a) {
    double v = ConvertToFloat(a[0]);
    int64_t nanos = 0;
    if (!FloatToTime(v, &nanos)) {
      Fail("value is NaN or Inf");
    }
    return Value::Time(nanos);
  });
  f["stripPort"] =
      Spec({P::kString}, false, [](auto&, auto& a) { return Value::Json(StripPort(Str(a[0]))); });
  f["parseDuration"] = Spec({P::kString}, false, [](auto&, auto& a) {
    const std::string& text = Str(a[0]);
    if (text.empty()) {
      Fail("empty duration string");
    }
    Result<Duration> d = ParseDuration(text);
    if (!d.ok()) {
      Fail("not a valid duration string: " + GoSprintf("%q", {a[0]}));
    }
    return Value::Json(static_cast<double>(d->count()) / 1000.0);
  });
  f["pathPrefix"] = Spec(
      {}, false, [](auto& ctx, auto&) { return Value::Json(UrlPath(ctx.options->external_url)); });
  f["externalURL"] =
      Spec({}, false, [](auto& ctx, auto&) { return Value::Json(ctx.options->external_url); });
}

void AddAlertmanagerFunctions(FunctionMap* m) {
  auto& f = *m;
  AddStringFunctions(m);
  // Alertmanager 0.25 titles with golang.org/x/text/cases, where Prometheus uses strings.Title.
  f["title"] =
      Spec({P::kString}, false, [](auto&, auto& a) { return Value::Json(CasesTitle(Str(a[0]))); });
  // NOTE: trimSpace joined Alertmanager's function map after 0.25 (0.25's amtool reports
  // "function "trimSpace" not defined"); alertd accepts it as later versions do.
  f["trimSpace"] =
      Spec({P::kString}, false, [](auto&, auto& a) { return Value::Json(GoTrimSpace(Str(a[0]))); });
  f["join"] = Spec({P::kString, P::kStringSlice}, false, [](auto&, auto& a) {
    std::string out;
    if (!a[1].IsNil()) {
      for (size_t i = 0; i < a[1].json.size(); ++i) {
        out += (i == 0 ? "" : Str(a[0])) + a[1].json[i].template get<std::string>();
      }
    }
    return Value::Json(out);
  });
  f["stringSlice"] = Spec({P::kString}, true, [](auto&, auto& a) {
    nlohmann::json out = nlohmann::json::array();
    for (const Value& v : a) {
      out.push_back(v.json);
    }
    return Value::Json(std::move(out));
  });
}

// ---- Alertmanager data methods ----

bool IsArrayOf(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  if (!j.is_array()) {
    return false;
  }
  for (const auto& e : j) {
    if (!e.is_object()) {
      return false;
    }
    for (const char* key : keys) {
      if (!e.contains(key)) {
        return false;
      }
    }
  }
  return true;
}

// KV.SortedPairs: "alertname" first, the other names in order.
nlohmann::json SortedPairs(const nlohmann::json& kv) {
  nlohmann::json pairs = nlohmann::json::array();
  auto alertname = kv.find("alertname");
  if (alertname != kv.end()) {
    pairs.push_back({{"Name", "alertname"}, {"Value", *alertname}});
  }
  for (const auto& [name, value] : kv.items()) {
    if (name != "alertname") {
      pairs.push_back({{"Name", name}, {"Value", value}});
    }
  }
  return pairs;
}

nlohmann::json PairField(const nlohmann::json& pairs, const char* field) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : pairs) {
    out.push_back(p.at(field));
  }
  return out;
}

nlohmann::json AlertsWithStatus(const nlohmann::json& alerts, const std::string& status) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : alerts) {
    if (a.at("Status") == status) {
      out.push_back(a);
    }
  }
  return out;
}

const FunctionMap& KvMethods() {
  static const FunctionMap kMethods = [] {
    FunctionMap m;
    m["SortedPairs"] =
        Spec({}, false, [](auto&, auto& a) { return Value::Json(SortedPairs(a[0].json)); });
    m["Names"] = Spec({}, false, [](auto&, auto& a) {
      return Value::Json(PairField(SortedPairs(a[0].json), "Name"));
    });
    m["Values"] = Spec({}, false, [](auto&, auto& a) {
      return Value::Json(PairField(SortedPairs(a[0].json), "Value"));
    });
    m["Remove"] = Spec({P::kStringSlice}, false, [](auto&, auto& a) {
      nlohmann::json out = a[0].json;
      if (!a[1].IsNil()) {
        for (const auto& key : a[1].json) {
          out.erase(key.template get<std::string>());
        }
      }
      return Value::Json(std::move(out));
    });
    return m;
  }();
  return kMethods;
}

const FunctionMap& PairsMethods() {
  static const FunctionMap kMethods = [] {
    FunctionMap m;
    m["Names"] =
        Spec({}, false, [](auto&, auto& a) { return Value::Json(PairField(a[0].json, "Name")); });
    m["Values"] =
        Spec({}, false, [](auto&, auto& a) { return Value::Json(PairField(a[0].json, "Value")); });
    return m;
  }();
  return kMethods;
}

const FunctionMap& AlertsMethods() {
  static const FunctionMap kMethods = [] {
    FunctionMap m;
    m["Firing"] = Spec({}, false, [](auto&, auto& a) {
      return Value::Json(AlertsWithStatus(a[0].json, "firing"));
    });
    m["Resolved"] = Spec({}, false, [](auto&, auto& a) {
      return Value::Json(AlertsWithStatus(a[0].json, "resolved"));
    });
    return m;
  }();
  return kMethods;
}

const FuncSpec* Lookup(const FunctionMap& methods, std::string_view name) {
  auto it = methods.find(name);
  return it == methods.end() ? nullptr : &it->second;
}

}  // namespace

const FuncSpec* FindMethod(TemplateDialect dialect, const Value& receiver, std::string_view name) {
  if (receiver.kind == Value::Kind::kTime) {
    return Lookup(TimeMethods(), name);
  }
  if (receiver.kind != Value::Kind::kJson) {
    return nullptr;
  }
  const nlohmann::json& j = receiver.json;
  if (j.is_string()) {
    Value time;
    const FuncSpec* method = Lookup(TimeMethods(), name);
    if (method != nullptr && ParseRfc3339(j.get_ref<const std::string&>(), &time)) {
      return method;
    }
    return nullptr;
  }
  if (dialect != TemplateDialect::kAlertmanager) {
    return nullptr;
  }
  if (j.is_object() && IsStringMap(j)) {
    return Lookup(KvMethods(), name);
  }
  if (IsArrayOf(j, {"Name", "Value"})) {
    if (const FuncSpec* method = Lookup(PairsMethods(), name)) {
      return method;
    }
  }
  if (IsArrayOf(j, {"Status"})) {
    return Lookup(AlertsMethods(), name);
  }
  return nullptr;
}

const FunctionMap& Functions(TemplateDialect dialect) {
  static const FunctionMap kPrometheus = [] {
    FunctionMap m;
    AddBuiltins(&m);
    AddPrometheusFunctions(&m);
    return m;
  }();
  static const FunctionMap kAlertmanager = [] {
    FunctionMap m;
    AddBuiltins(&m);
    AddAlertmanagerFunctions(&m);
    return m;
  }();
  return dialect == TemplateDialect::kPrometheus ? kPrometheus : kAlertmanager;
}

bool HasFunction(TemplateDialect dialect, std::string_view name) {
  if (name == "and" || name == "or") {
    return true;
  }
  const auto& functions = Functions(dialect);
  return functions.find(name) != functions.end();
}

}  // namespace alertd::template_internal
