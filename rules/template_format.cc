// Go's fmt and strconv output for template values: %v printing, Sprintf verbs and float
// formatting, so that templates print numbers byte for byte as Prometheus does.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rules/template_internal.h"

namespace alertd::template_internal {
namespace {

// Decimal digits and exponent of a finite, non-zero |v|: v = 0.d1d2d3... * 10^point.
struct Digits {
  std::string digits;  // no leading or trailing zeros
  int point = 0;       // Go's decimal.dp
};

Digits ShortestDigits(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(v), std::chars_format::scientific);
  std::string_view s(buf, res.ptr - buf);
  size_t e = s.find('e');
  Digits d;
  for (char c : s.substr(0, e)) {
    if (c != '.') {
      d.digits.push_back(c);
    }
  }
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (d.digits.size() > 1 && d.digits.back() == '0') {
    d.digits.pop_back();
  }
  d.point = exp + 1;
  return d;
}

std::string ExponentSuffix(int exp, char e) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%c%c%02d", e, exp < 0 ? '-' : '+', std::abs(exp));
  return buf;
}

// strconv's %e with `prec` digits after the point, from already rounded digits.
std::string FormatE(const Digits& d, int prec, char e) {
  std::string out(1, d.digits.empty() ? '0' : d.digits[0]);
  if (prec > 0) {
    out += '.';
    for (int i = 1; i <= prec; ++i) {
      out += i < static_cast<int>(d.digits.size()) ? d.digits[i] : '0';
    }
  }
  int exp = d.digits.empty() || d.digits == "0" ? 0 : d.point - 1;
  return out + ExponentSuffix(exp, e);
}

// strconv's %f with `prec` digits after the point.
std::string FormatF(const Digits& d, int prec) {
  std::string out;
  int nd = static_cast<int>(d.digits.size());
  if (d.point > 0) {
    for (int i = 0; i < d.point; ++i) {
      out += i < nd ? d.digits[i] : '0';
    }
  } else {
    out = "0";
  }
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      int j = d.point + i;
      out += (j >= 0 && j < nd) ? d.digits[j] : '0';
    }
  }
  return out;
}

// The value rounded to `significant` digits, as Go's decimal.Round (exact binary value,
// round half to even): obtained from glibc's exactly rounded %e.
Digits RoundedDigits(double v, int significant) {
  if (significant < 1) {
    significant = 1;
  }
  std::vector<char> buf(significant + 32);
  std::snprintf(buf.data(), buf.size(), "%.*e", significant - 1, std::fabs(v));
  std::string_view s(buf.data());
  size_t e = s.find('e');
  Digits d;
  for (char c : s.substr(0, e)) {
    if (c != '.') {
      d.digits.push_back(c);
    }
  }
  d.point = std::atoi(std::string(s.substr(e + 1)).c_str()) + 1;
  while (d.digits.size() > 1 && d.digits.back() == '0') {
    d.digits.pop_back();
  }
  return d;
}

// strconv's 'x' format (-0x1.8p+03): glibc's %a with a two-digit exponent.
std::string HexFloat(double v, char verb, int prec) {
  char buf[64];
  if (prec < 0) {
    std::snprintf(buf, sizeof(buf), verb == 'X' ? "%A" : "%a", v);
  } else {
    std::snprintf(buf, sizeof(buf), verb == 'X' ? "%.*A" : "%.*a", prec, v);
  }
  std::string out = buf;
  size_t p = out.find_first_of("pP");
  if (p != std::string::npos && out.size() - p == 3) {
    out.insert(p + 2, "0");
  }
  return out;
}

std::string SpecialFloat(double v, bool plus_inf) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (v > 0) {
    return plus_inf ? "+Inf" : "Inf";
  }
  return "-Inf";
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    // Keep a valid UTF-8 sequence; escape stray bytes as strconv.Quote does.
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len - 1;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

// UTF-8 of a rune; invalid code points become U+FFFD as in Go.
std::string EncodeRune(int64_t cp) {
  std::string out;
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
    cp = 0xfffd;
  }
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
  return out;
}

struct Spec {
  bool minus = false;
  bool plus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  int width = -1;
  int prec = -1;
  char verb = 'v';
};

std::string Pad(std::string s, const Spec& spec, bool numeric) {
  // Width counts runes, not bytes.
  int runes = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) {
      ++runes;
    }
  }
  if (spec.width <= runes) {
    return s;
  }
  size_t n = spec.width - runes;
  if (spec.minus) {
    return s + std::string(n, ' ');
  }
  if (spec.zero) {
    size_t sign = numeric && !s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ') ? 1 : 0;
    return s.substr(0, sign) + std::string(n, '0') + s.substr(sign);
  }
  return std::string(n, ' ') + s;
}

std::string FormatInteger(int64_t v, const Spec& spec) {
  uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits;
  int base = 10;
  switch (spec.verb) {
    case 'x':
    case 'X':
      base = 16;
      break;
    case 'o':
    case 'O':
      base = 8;
      break;
    case 'b':
      base = 2;
      break;
    default:
      break;
  }
  const char* alphabet = spec.verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits.insert(digits.begin(), alphabet[mag % base]);
    mag /= base;
  } while (mag > 0);
  if (spec.prec >= 0) {
    if (spec.prec == 0 && v == 0) {
      digits.clear();
    }
    while (static_cast<int>(digits.size()) < spec.prec) {
      digits.insert(digits.begin(), '0');
    }
  }
  if (spec.sharp) {
    if (base == 16) {
      digits = (spec.verb == 'X' ? "0X" : "0x") + digits;
    } else if (base == 8 && digits[0] != '0') {
      digits = "0" + digits;
    } else if (base == 2) {
      digits = "0b" + digits;
    }
  }
  if (spec.verb == 'O') {
    digits = "0o" + digits;
  }
  std::string sign = v < 0 ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  Spec pad = spec;
  pad.zero = spec.zero && spec.prec < 0;
  return Pad(sign + digits, pad, true);
}

std::string FormatFloatSpec(double v, const Spec& spec) {
  char verb = spec.verb == 'v' ? 'g' : spec.verb;
  int prec = spec.prec;
  if (prec < 0 && (verb == 'f' || verb == 'F' || verb == 'e' || verb == 'E')) {
    prec = 6;
  }
  std::string num;
  if (std::isnan(v) || std::isinf(v)) {
    // fmt always signs an infinity, and signs NaN only when asked to.
    num = SpecialFloat(v, true);
    if (std::isinf(v) && v > 0 && spec.space && !spec.plus) {
      num = " Inf";
    } else if (std::isnan(v) && (spec.plus || spec.space)) {
      num = (spec.plus ? "+" : " ") + num;
    }
    Spec pad = spec;
    pad.zero = false;
    return Pad(num, pad, true);
  }
  num = GoFormatFloat(v, verb, prec);
  if (num[0] != '-') {
    if (spec.plus) {
      num = "+" + num;
    } else if (spec.space) {
      num = " " + num;
    }
  }
  return Pad(num, spec, true);
}

std::string FormatValue(const Value& v, const Spec& spec);

// fmt's %!verb(type=value), the value printed with %v and the operand's flags.
std::string BadVerb(const Value& v, const Spec& spec) {
  std::string out = "%!";
  out += spec.verb;
  out += "(";
  if (!v.IsValid() || v.IsNil()) {
    return out + "<nil>)";
  }
  Spec as_v = spec;
  as_v.verb = 'v';
  return out + GoTypeName(v) + "=" + FormatValue(v, as_v) + ")";
}

std::string FormatString(const std::string& s, const Spec& spec) {
  std::string str = s;
  if (spec.prec >= 0) {
    // Precision truncates to that many runes.
    int runes = 0;
    size_t i = 0;
    for (; i < str.size(); ++i) {
      if ((static_cast<unsigned char>(str[i]) & 0xc0) != 0x80) {
        if (runes == spec.prec) {
          break;
        }
        ++runes;
      }
    }
    str = str.substr(0, i);
  }
  switch (spec.verb) {
    case 'v':
    case 's':
      return Pad(str, spec, false);
    case 'q':
      if (spec.sharp && str.find('`') == std::string::npos) {
        return Pad("`" + str + "`", spec, false);
      }
      return Pad(GoQuote(str), spec, false);
    case 'x':
    case 'X': {
      std::string out;
      const char* alphabet = spec.verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
      for (unsigned char c : str) {
        if (spec.space && !out.empty()) {
          out += ' ';
        }
        out += alphabet[c >> 4];
        out += alphabet[c & 0xf];
      }
      return Pad(out, spec, false);
    }
    default:
      return "";
  }
}

std::string FormatJson(const Value& v, const Spec& spec) {
  const nlohmann::json& j = v.json;
  char verb = spec.verb;
  if (j.is_null()) {
    if (verb == 'v') {
      return Pad("<nil>", spec, false);
    }
    return BadVerb(v, spec);
  }
  if (j.is_boolean()) {
    if (verb == 'v' || verb == 't') {
      return Pad(j.get<bool>() ? "true" : "false", spec, false);
    }
    return BadVerb(v, spec);
  }
  if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) &&
      (verb == 'v' || verb == 'd')) {
    // Only a uint64 exceeds int64; it prints in decimal like any integer.
    std::string digits = std::to_string(j.get<uint64_t>());
    return Pad(spec.plus ? "+" + digits : digits, spec, true);
  }
  if (j.is_number_integer() || j.is_number_unsigned()) {
    int64_t i = j.is_number_unsigned() ? static_cast<int64_t>(j.get<uint64_t>()) : j.get<int64_t>();
    switch (verb) {
      case 'v':
      case 'd':
      case 'x':
      case 'X':
      case 'o':
      case 'O':
      case 'b': {
        Spec s = spec;
        if (verb == 'v') {
          s.verb = 'd';
        }
        return FormatInteger(i, s);
      }
      case 'c':
        return Pad(EncodeRune(i), spec, false);
      case 'q': {
        std::string r = EncodeRune(i);
        if (r == "'") {
          return Pad("'\\''", spec, false);
        }
        std::string quoted = r == "\"" ? "\"" : GoQuote(r).substr(1);
        if (r != "\"") {
          quoted.pop_back();
        }
        return Pad("'" + quoted + "'", spec, false);
      }
      case 'U': {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "U+%04llX", static_cast<unsigned long long>(i));
        return Pad(buf, spec, false);
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
      default:
        return BadVerb(v, spec);
    }
  }
  if (j.is_number_float()) {
    switch (verb) {
      case 'v':
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        return FormatFloatSpec(j.get<double>(), spec);
      default:
        return BadVerb(v, spec);
    }
  }
  if (j.is_string()) {
    switch (verb) {
      case 'v':
      case 's':
      case 'q':
      case 'x':
      case 'X':
        return FormatString(j.get<std::string>(), spec);
      default:
        return BadVerb(v, spec);
    }
  }
  if (j.is_array()) {
    std::string out = "[";
    bool first = true;
    for (const auto& e : j) {
      if (!first) {
        out += " ";
      }
      first = false;
      out += FormatValue(Value::Json(e), spec);
    }
    return out + "]";
  }
  if (j.size() == 2 && j.contains("Name") && j.contains("Value")) {
    // Alertmanager's template.Pair, a Go struct, prints as {Name Value}.
    return "{" + FormatValue(Value::Json(j["Name"]), spec) + " " +
           FormatValue(Value::Json(j["Value"]), spec) + "}";
  }
  std::string out = "map[";
  bool first = true;
  for (const auto& [k, e] : j.items()) {
    if (!first) {
      out += " ";
    }
    first = false;
    out += FormatValue(Value::Json(k), spec) + ":" + FormatValue(Value::Json(e), spec);
  }
  return out + "]";
}

std::string FormatValue(const Value& v, const Spec& spec) {
  switch (v.kind) {
    case Value::Kind::kInvalid:
      return spec.verb == 'v' ? Pad("<nil>", spec, false) : BadVerb(v, spec);
    case Value::Kind::kTime:
      if (spec.verb == 'v' || spec.verb == 's' || spec.verb == 'q' || spec.verb == 'x' ||
          spec.verb == 'X') {
        return FormatString(GoTimeString(v), spec);
      }
      return "%!" + std::string(1, spec.verb) + "(*time.Time=" + GoTimeString(v) + ")";
    case Value::Kind::kJson:
      return FormatJson(v, spec);
  }
  return "";
}

}  // namespace

std::string GoFormatFloat(double v, char verb, int prec) {
  if (std::isnan(v) || std::isinf(v)) {
    return SpecialFloat(v, true);
  }
  if (verb == 'x' || verb == 'X') {
    return HexFloat(v, verb, prec);
  }
  bool neg = std::signbit(v);
  std::string sign = neg ? "-" : "";
  char e = (verb == 'E' || verb == 'G') ? 'E' : 'e';
  bool shortest = prec < 0;
  if (v == 0) {
    Digits zero{"0", 1};
    switch (verb) {
      case 'e':
      case 'E':
        return sign + FormatE(zero, shortest ? 0 : prec, e);
      case 'f':
      case 'F':
        return sign + FormatF(zero, shortest ? 0 : prec);
      default:
        return sign + "0";
    }
  }
  switch (verb) {
    case 'e':
    case 'E': {
      Digits d = shortest ? ShortestDigits(v) : RoundedDigits(v, prec + 1);
      return sign + FormatE(d, shortest ? static_cast<int>(d.digits.size()) - 1 : prec, e);
    }
    case 'f':
    case 'F': {
      if (shortest) {
        Digits d = ShortestDigits(v);
        int frac = std::max(static_cast<int>(d.digits.size()) - d.point, 0);
        return sign + FormatF(d, frac);
      }
      std::vector<char> buf(400 + prec);
      std::snprintf(buf.data(), buf.size(), "%.*f", prec, std::fabs(v));
      return sign + buf.data();
    }
    default: {  // 'g', 'G'
      int p = prec == 0 ? 1 : prec;
      Digits d = shortest ? ShortestDigits(v) : RoundedDigits(v, p);
      int nd = static_cast<int>(d.digits.size());
      int eprec = shortest ? 6 : p;
      if (!shortest && eprec > nd && nd >= d.point) {
        eprec = nd;
      }
      int exp = d.point - 1;
      if (exp < -4 || exp >= eprec) {
        int digits = shortest ? nd : std::min(p, nd);
        return sign + FormatE(d, digits - 1, e);
      }
      int fprec = shortest ? nd : p;
      if (fprec > d.point) {
        fprec = nd;
      }
      return sign + FormatF(d, std::max(fprec - d.point, 0));
    }
  }
}

std::string GoTypeName(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kInvalid:
      return "<nil>";
    case Value::Kind::kTime:
      return "*time.Time";
    case Value::Kind::kJson:
      break;
  }
  const nlohmann::json& j = v.json;
  if (j.is_null()) {
    return "<nil>";
  }
  if (j.is_boolean()) {
    return "bool";
  }
  if (j.is_number_integer() || j.is_number_unsigned()) {
    return "int";
  }
  if (j.is_number_float()) {
    return "float64";
  }
  if (j.is_string()) {
    return "string";
  }
  // Objects and arrays of strings model Go's label maps and string slices.
  if (j.is_array()) {
    bool strings =
        !j.empty() && std::all_of(j.begin(), j.end(), [](const auto& e) { return e.is_string(); });
    return strings ? "[]string" : "[]interface {}";
  }
  return IsStringMap(j) ? "map[string]string" : "map[string]interface {}";
}

std::string GoPrint(const Value& v) {
  return FormatValue(v, Spec{});
}

std::string GoSprint(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    // fmt.Sprint adds a space between operands when neither is a string.
    if (i > 0 && !args[i].IsString() && !args[i - 1].IsString()) {
      out += " ";
    }
    out += GoPrint(args[i]);
  }
  return out;
}

std::string GoSprintln(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) {
      out += " ";
    }
    out += GoPrint(args[i]);
  }
  return out + "\n";
}

// Go's fmt rejects widths and precisions beyond this (fmt.tooLarge).
constexpr int kMaxFormatNumber = 1000000;

std::string GoSprintf(std::string_view format, const std::vector<Value>& args) {
  std::string out;
  size_t arg = 0;
  size_t i = 0;
  // Go's fmt.parsenum: a number that grows past 1e6 before its last digit is dropped together
  // with the rest of the format, which then has no verb.
  auto read_number = [&](int* n) {
    bool any = false;
    *n = 0;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
      if (*n > kMaxFormatNumber) {
        *n = 0;
        i = format.size();
        return false;
      }
      *n = *n * 10 + (format[i] - '0');
      ++i;
      any = true;
    }
    return any;
  };
  // Go's fmt.intFromArg: a width or precision argument beyond +-1e6 is invalid.
  auto int_arg = [&](int* n) {
    if (arg >= args.size() || !args[arg].IsInt()) {
      return false;
    }
    int64_t v = args[arg].json.get<int64_t>();
    if (v > kMaxFormatNumber || v < -kMaxFormatNumber) {
      return false;
    }
    *n = static_cast<int>(v);
    return true;
  };
  while (i < format.size()) {
    if (format[i] != '%') {
      out.push_back(format[i++]);
      continue;
    }
    ++i;
    Spec spec;
    for (; i < format.size(); ++i) {
      char c = format[i];
      if (c == '-') {
        spec.minus = true;
        spec.zero = false;
      } else if (c == '+') {
        spec.plus = true;
      } else if (c == '#') {
        spec.sharp = true;
      } else if (c == ' ') {
        spec.space = true;
      } else if (c == '0') {
        spec.zero = !spec.minus;
      } else {
        break;
      }
    }
    if (i < format.size() && format[i] == '*') {
      ++i;
      if (int w; int_arg(&w)) {
        spec.width = w;
        if (spec.width < 0) {
          spec.minus = true;
          spec.width = -spec.width;
        }
      } else {
        out += "%!(BADWIDTH)";
      }
      ++arg;
    } else {
      int w;
      if (read_number(&w)) {
        spec.width = w;
      }
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      if (i < format.size() && format[i] == '*') {
        ++i;
        if (int p; int_arg(&p)) {
          spec.prec = p;
        } else {
          out += "%!(BADPREC)";
        }
        ++arg;
      } else {
        int p;
        read_number(&p);
        spec.prec = p;
      }
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    spec.verb = format[i++];
    if (spec.verb == '%') {
      out += "%";
      continue;
    }
    if (arg >= args.size()) {
      out += "%!" + std::string(1, spec.verb) + "(MISSING)";
      continue;
    }
    if (spec.verb == 'T') {
      const Value& a = args[arg++];
      out += Pad(!a.IsValid() || a.IsNil() ? "<nil>" : GoTypeName(a), spec, false);
      continue;
    }
    out += FormatValue(args[arg++], spec);
  }
  if (arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = arg; k < args.size(); ++k) {
      if (k > arg) {
        out += ", ";
      }
      if (!args[k].IsValid() || args[k].IsNil()) {
        out += "<nil>";
      } else {
        out += GoTypeName(args[k]) + "=" + GoPrint(args[k]);
      }
    }
    out += ")";
  }
  return out;
}

}  // namespace alertd::template_internal

namespace alertd {

std::string FormatGoFloat(double v) {
  return template_internal::GoFormatFloat(v, 'g', -1);
}

}  // namespace alertd
