// PromQL evaluation results.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/labels.h"
#include "storage/sample_store.h"

namespace alertd::promql {

// One element of an instant vector.
struct VectorSample {
  Labels metric;
  int64_t t;  // evaluation timestamp, milliseconds
  double v;
};

using Vector = std::vector<VectorSample>;

struct MatrixSeries {
  Labels metric;
  std::vector<Sample> points;
};

using Matrix = std::vector<MatrixSeries>;

struct Scalar {
  int64_t t;
  double v;
};

struct String {
  int64_t t;
  std::string v;
};

using Value = std::variant<Scalar, Vector, Matrix, String>;

}  // namespace alertd::promql
