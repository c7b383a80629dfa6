// Go's float formatting, so that values alertd serves read exactly as Prometheus's do.
#pragma once

#include <string>

namespace alertd {

// Returns strconv.FormatFloat(value, format, -1, 64): the shortest decimal that parses back
// to `value`, laid out as `format` 'e' (d.ddde+XX), 'f' (no exponent) or 'g' ('e' when the
// decimal exponent is below -4 or at least 21, else 'f'). Infinities are "+Inf" and "-Inf",
// NaN is "NaN", and negative zero keeps its sign.
// REQUIRES: format is 'e', 'f' or 'g'.
std::string FormatGoFloat(double value, char format);

}  // namespace alertd
