#include "web/float_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace alertd {
namespace {

// The shortest round-trip decimal of a finite, non-negative value: digits d1 d2 ... dn with
// the decimal point after `point` digits (value = 0.d1d2...dn * 10^point), as Go's
// decimalSlice stores it.
struct Decimal {
  std::string digits;
  int point = 0;
};

Decimal ShortestDecimal(double value) {
  char buffer[64];
  auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<size_t>(end - buffer));
  size_t e = text.find('e');
  Decimal decimal;
  for (char c : text.substr(0, e)) {
    if (c != '.') {
      decimal.digits.push_back(c);
    }
  }
  int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  if (decimal.digits == "0") {
    decimal.digits.clear();
    return decimal;
  }
  decimal.point = exponent + 1;
  return decimal;
}

std::string LayoutExponent(const Decimal& decimal) {
  std::string out;
  out.push_back(decimal.digits.empty() ? '0' : decimal.digits[0]);
  if (decimal.digits.size() > 1) {
    out.push_back('.');
    out.append(decimal.digits, 1, std::string::npos);
  }
  int exponent = decimal.digits.empty() ? 0 : decimal.point - 1;
  out.push_back('e');
  out.push_back(exponent < 0 ? '-' : '+');
  int magnitude = std::abs(exponent);
  if (magnitude < 10) {
    out.push_back('0');
  }
  out += std::to_string(magnitude);
  return out;
}

std::string LayoutFixed(const Decimal& decimal) {
  const int count = static_cast<int>(decimal.digits.size());
  auto digit_at = [&](int i) {
    return i >= 0 && i < count ? decimal.digits[i] : '0';
  };
  std::string out;
  if (decimal.point > 0) {
    for (int i = 0; i < decimal.point; ++i) {
      out.push_back(digit_at(i));
    }
  } else {
    out.push_back('0');
  }
  int fraction_digits = std::max(count - decimal.point, 0);
  if (fraction_digits > 0) {
    out.push_back('.');
    for (int i = 0; i < fraction_digits; ++i) {
      out.push_back(digit_at(decimal.point + i));
    }
  }
  return out;
}

}  // namespace

std::string FormatGoFloat(double value, char format) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  std::string sign = std::signbit(value) ? "-" : "";
  Decimal decimal = ShortestDecimal(std::fabs(value));
  if (format == 'e') {
    return sign + LayoutExponent(decimal);
  }
  if (format == 'g') {
    int exponent = decimal.digits.empty() ? 0 : decimal.point - 1;
    if (exponent < -4 || exponent >= 6) {
      return sign + LayoutExponent(decimal);
    }
  }
  return sign + LayoutFixed(decimal);
}

}  // namespace alertd
