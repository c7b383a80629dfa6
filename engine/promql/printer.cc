#include "engine/promql/printer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common/duration.h"

namespace alertd::promql {
namespace {

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += items[i];
  }
  return out;
}

std::string FormatMs(int64_t ms) {
  return FormatDuration(Duration(ms));
}

// " @ 12.000", " @ start()" or "" (printer.go prints seconds with 3 decimals).
std::string AtString(const std::optional<AtModifier>& at) {
  if (!at.has_value()) {
    return "";
  }
  switch (at->kind) {
    case AtModifier::Kind::kStart:
      return " @ start()";
    case AtModifier::Kind::kEnd:
      return " @ end()";
    case AtModifier::Kind::kTimestamp:
      break;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), " @ %.3f", static_cast<double>(at->timestamp_ms) / 1000.0);
  return buf;
}

std::string OffsetString(int64_t offset_ms) {
  if (offset_ms > 0) {
    return " offset " + FormatMs(offset_ms);
  }
  if (offset_ms < 0) {
    return " offset -" + FormatMs(-offset_ms);
  }
  return "";
}

std::string MatcherString(const LabelMatcher& m) {
  return m.name() + std::string(MatchTypeString(m.type())) + QuoteString(m.value());
}

// The selector without its offset and @ modifier.
std::string SelectorBody(const VectorSelector& vs) {
  std::vector<std::string> labels;
  for (const LabelMatcher& m : vs.matchers) {
    // The name written before the braces is printed there, not as a matcher.
    if (m.name() == "__name__" && m.type() == MatchType::kEqual && m.value() == vs.name) {
      continue;
    }
    labels.push_back(MatcherString(m));
  }
  if (labels.empty()) {
    return vs.name;
  }
  std::sort(labels.begin(), labels.end());
  return vs.name + "{" + Join(labels, ",") + "}";
}

std::string GroupingLabels(const std::vector<std::string>& labels) {
  return "(" + Join(labels, ", ") + ")";
}

std::string MatchingString(const BinaryExpr& b) {
  if (!b.matching.has_value()) {
    return "";
  }
  const VectorMatching& vm = *b.matching;
  if (vm.matching_labels.empty() && !vm.matching_on) {
    return "";
  }
  std::string out = vm.matching_on ? " on " : " ignoring ";
  out += GroupingLabels(vm.matching_labels);
  if (vm.card == VectorMatchCardinality::kManyToOne) {
    out += " group_left " + GroupingLabels(vm.include_labels);
  } else if (vm.card == VectorMatchCardinality::kOneToMany) {
    out += " group_right " + GroupingLabels(vm.include_labels);
  }
  return out;
}

struct PrintVisitor {
  std::string operator()(const NumberLiteral& n) const { return FormatNumber(n.value); }

  std::string operator()(const StringLiteral& s) const { return QuoteString(s.value); }

  std::string operator()(const VectorSelector& vs) const {
    return SelectorBody(vs) + AtString(vs.at) + OffsetString(vs.offset_ms);
  }

  std::string operator()(const MatrixSelector& ms) const {
    const auto& vs = std::get<VectorSelector>(ms.vector_selector->node);
    return SelectorBody(vs) + "[" + FormatMs(ms.range_ms) + "]" + AtString(vs.at) +
           OffsetString(vs.offset_ms);
  }

  std::string operator()(const SubqueryExpr& sq) const {
    std::string step = sq.step_ms == 0 ? "" : FormatMs(sq.step_ms);
    return Format(*sq.expr) + "[" + FormatMs(sq.range_ms) + ":" + step + "]" + AtString(sq.at) +
           OffsetString(sq.offset_ms);
  }

  std::string operator()(const ParenExpr& p) const { return "(" + Format(*p.expr) + ")"; }

  std::string operator()(const UnaryExpr& u) const {
    return (u.negate ? "-" : "+") + Format(*u.expr);
  }

  std::string operator()(const BinaryExpr& b) const {
    std::string lhs = Format(*b.lhs);
    // `^` binds tighter than a unary sign, so "+Inf ^ x" parses back as +(Inf ^ x). The
    // literal +Inf is written without its sign there, which parses back the same.
    if (const NumberLiteral* n = b.lhs->As<NumberLiteral>();
        n != nullptr && b.op == BinaryOp::kPow && lhs == "+Inf") {
      lhs = "Inf";
    }
    std::string out = lhs + " " + BinaryOpString(b.op);
    if (b.return_bool) {
      out += " bool";
    }
    return out + MatchingString(b) + " " + Format(*b.rhs);
  }

  std::string operator()(const AggregateExpr& a) const {
    std::string out = AggregateOpString(a.op);
    if (a.without) {
      out += " without " + GroupingLabels(a.grouping) + " ";
    } else if (!a.grouping.empty()) {
      out += " by " + GroupingLabels(a.grouping) + " ";
    }
    out += "(";
    if (a.param) {
      out += Format(*a.param) + ", ";
    }
    return out + Format(*a.expr) + ")";
  }

  std::string operator()(const Call& c) const {
    std::vector<std::string> args;
    for (const ExprPtr& arg : c.args) {
      args.push_back(Format(*arg));
    }
    return c.func + "(" + Join(args, ", ") + ")";
  }
};

// Whether Go's unicode.IsPrint is false for a valid rune above ASCII. Covers the C1
// controls, the non-ASCII spaces, the common format characters and the noncharacters.
// NOTE: unassigned and private-use code points count as printable here, unlike in Go.
bool IsNonPrintableRune(uint32_t r) {
  return (r >= 0x80 && r <= 0xa0) || r == 0xad || r == 0x1680 || (r >= 0x2000 && r <= 0x200f) ||
         (r >= 0x2028 && r <= 0x202f) || (r >= 0x205f && r <= 0x206f) || r == 0x3000 ||
         r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb) || (r & 0xfffe) == 0xfffe ||
         (r >= 0xfdd0 && r <= 0xfdef) || (r >= 0xe0000 && r <= 0xe007f);
}

// Appends the UTF-8 sequence at value[i] as Go's strconv.Quote does: printable runes as they
// are, other runes as \uXXXX or \UXXXXXXXX, and each byte of invalid UTF-8 as \xXX.
// Returns the number of bytes consumed.
size_t AppendNonAscii(std::string_view value, size_t i, std::string& out) {
  unsigned char c = static_cast<unsigned char>(value[i]);
  size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  uint32_t rune = len == 4 ? c & 0x07 : len == 3 ? c & 0x0f : c & 0x1f;
  bool valid = len > 0 && c <= 0xf4 && i + len <= value.size();
  for (size_t k = 1; valid && k < len; ++k) {
    unsigned char cont = static_cast<unsigned char>(value[i + k]);
    valid = (cont & 0xc0) == 0x80;
    rune = (rune << 6) | (cont & 0x3f);
  }
  // Overlong forms, surrogates and values above U+10FFFF are invalid UTF-8.
  valid = valid && !(len == 3 && rune < 0x800) && !(len == 4 && rune < 0x10000) &&
          !(rune >= 0xd800 && rune < 0xe000) && rune <= 0x10ffff;
  char buf[16];
  if (!valid) {
    std::snprintf(buf, sizeof(buf), "\\x%02x", c);
    out += buf;
    return 1;
  }
  if (IsNonPrintableRune(rune)) {
    if (rune < 0x10000) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", rune);
    } else {
      std::snprintf(buf, sizeof(buf), "\\U%08x", rune);
    }
    out += buf;
  } else {
    out.append(value.substr(i, len));
  }
  return len;
}

}  // namespace

std::string Format(const Expr& expr) {
  return std::visit(PrintVisitor{}, expr.node);
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  if (value == 0) {
    return std::signbit(value) ? "-0" : "0";
  }
  // Shortest round-trip digits in scientific form, "d.ddde+XX", re-laid out as Go's 'g'.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) {
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(sci.substr(e + 1));
  std::string out = negative ? "-" : "";
  int nd = static_cast<int>(digits.size());
  if (exponent < -4 || exponent >= 6) {
    out += digits[0];
    if (nd > 1) {
      out += "." + digits.substr(1);
    }
    char exp_buf[16];
    std::snprintf(
        exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_buf;
  }
  int dp = exponent + 1;  // digits before the decimal point
  if (dp <= 0) {
    return out + "0." + std::string(static_cast<size_t>(-dp), '0') + digits;
  }
  if (dp >= nd) {
    return out + digits + std::string(static_cast<size_t>(dp - nd), '0');
  }
  return out + digits.substr(0, static_cast<size_t>(dp)) + "." +
         digits.substr(static_cast<size_t>(dp));
}

std::string QuoteString(std::string_view value) {
  std::string out = "\"";
  size_t i = 0;
  while (i < value.size()) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      i += AppendNonAscii(value, i, out);
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace alertd::promql
