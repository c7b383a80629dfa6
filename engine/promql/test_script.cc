#include "engine/promql/test_script.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "common/duration.h"
#include "engine/promql/parser.h"
#include "storage/memory_sample_store.h"

namespace alertd::promql {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string FormatValue(double v) {
  if (IsStaleNaN(v)) {
    return "stale";
  }
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

// Parses a non-negative repeat count as written after `x`.
std::optional<uint64_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 18) {
    return std::nullopt;
  }
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

// Parses a number of a series description (no hex, which would be ambiguous with `x`), or
// `stale`.
std::optional<double> ParseSeriesNumber(std::string_view text) {
  if (text == "stale") {
    return StaleNaN();
  }
  if (text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return std::nullopt;
  }
  return ParseTestNumber(text);
}

Error ItemError(std::string_view item, const std::string& why) {
  return Error::Invalid("invalid series value \"" + std::string(item) + "\": " + why);
}

// Expands one item of the values notation into `out`.
Status ExpandItem(std::string_view item, std::vector<SeriesValue>& out) {
  if (item == "_") {
    out.push_back(std::nullopt);
    return Status::Ok();
  }
  if (item.substr(0, 2) == "_x") {
    std::optional<uint64_t> n = ParseCount(item.substr(2));
    if (!n) {
      return ItemError(item, "expected _xN with a whole number N");
    }
    out.insert(out.end(), *n, std::nullopt);
    return Status::Ok();
  }
  // The part after the last `x` is a repeat count. Hex numbers are not allowed in series
  // values, and `Inf` and `NaN` contain no `x`, so the split is unambiguous.
  std::string_view base = item;
  std::optional<uint64_t> times;
  size_t x = item.rfind('x');
  if (x != std::string_view::npos && x > 0) {
    times = ParseCount(item.substr(x + 1));
    if (!times) {
      return ItemError(item, "expected a whole number after x");
    }
    base = item.substr(0, x);
  }
  // Split `a+b` / `a-b` at a sign that is not the leading one and not part of an exponent.
  std::string_view start_text = base;
  std::optional<double> increment;
  for (size_t i = 1; i < base.size() && times; ++i) {
    char c = base[i];
    char prev = base[i - 1];
    if ((c == '+' || c == '-') && prev != 'e' && prev != 'E') {
      start_text = base.substr(0, i);
      increment = ParseSeriesNumber(base.substr(i));
      if (!increment) {
        return ItemError(item, "invalid increment");
      }
      break;
    }
  }
  std::optional<double> start = ParseSeriesNumber(start_text);
  if (!start) {
    return ItemError(item, "expected a number, stale, _ or the a+bxN notation");
  }
  if (!times) {
    out.push_back(*start);
    return Status::Ok();
  }
  double v = *start;
  for (uint64_t i = 0; i <= *times; ++i) {
    out.push_back(v);
    if (increment) {
      v += *increment;
    }
  }
  return Status::Ok();
}

// Reads a quoted label value starting at text[pos] (a ", ' or ` quote) with Go's escapes.
Result<std::string> ReadQuoted(std::string_view text, size_t& pos) {
  const char quote = text[pos++];
  std::string out;
  while (pos < text.size()) {
    char c = text[pos++];
    if (c == quote) {
      return out;
    }
    if (c != '\\' || quote == '`') {
      out += c;
      continue;
    }
    if (pos >= text.size()) {
      break;
    }
    char e = text[pos++];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      default:
        out += e;  // \\, \", \' and anything else taken literally
    }
  }
  return Error::Invalid("unterminated quoted string in series description \"" + std::string(text) +
                        "\"");
}

bool IsNameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Parses `name{a="b", ...}`, `{...}` or `name` at the start of `text`; returns the rest.
Result<Labels> ParseLabelSet(std::string_view text, std::string_view& rest) {
  size_t pos = 0;
  std::vector<Label> labels;
  while (pos < text.size() && IsNameChar(text[pos], pos == 0)) {
    ++pos;
  }
  if (pos > 0) {
    labels.push_back(Label{std::string(kMetricName), std::string(text.substr(0, pos))});
  }
  if (pos < text.size() && text[pos] == '{') {
    ++pos;
    while (true) {
      while (pos < text.size() && (IsSpace(text[pos]) || text[pos] == ',')) {
        ++pos;
      }
      if (pos >= text.size()) {
        return Error::Invalid("missing } in series description \"" + std::string(text) + "\"");
      }
      if (text[pos] == '}') {
        ++pos;
        break;
      }
      size_t name_start = pos;
      while (pos < text.size() && IsNameChar(text[pos], pos == name_start)) {
        ++pos;
      }
      std::string name(text.substr(name_start, pos - name_start));
      while (pos < text.size() && IsSpace(text[pos])) {
        ++pos;
      }
      if (name.empty() || pos >= text.size() || text[pos] != '=') {
        return Error::Invalid("expected label=\"value\" in series description \"" +
                              std::string(text) + "\"");
      }
      ++pos;
      while (pos < text.size() && IsSpace(text[pos])) {
        ++pos;
      }
      if (pos >= text.size() || (text[pos] != '"' && text[pos] != '\'' && text[pos] != '`')) {
        return Error::Invalid("expected a quoted label value in series description \"" +
                              std::string(text) + "\"");
      }
      Result<std::string> value = ReadQuoted(text, pos);
      if (!value.ok()) {
        return value.error();
      }
      labels.push_back(Label{std::move(name), std::move(value).value()});
    }
  } else if (pos == 0) {
    return Error::Invalid("expected a metric name or { at the start of series description \"" +
                          std::string(text) + "\"");
  }
  rest = text.substr(pos);
  return Labels(std::move(labels));
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (true) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) {
      break;
    }
    text.remove_prefix(nl + 1);
  }
  return lines;
}

bool StartsWithWord(std::string_view line, std::string_view word) {
  return line.substr(0, word.size()) == word &&
         (line.size() == word.size() || IsSpace(line[word.size()]));
}

struct Expected {
  Labels labels;
  double value;
  size_t position;  // 0-based line order, checked by eval_ordered
};

struct EvalCommand {
  bool expect_fail = false;
  bool ordered = false;
  bool range = false;
  int64_t t_ms = 0;                               // instant evaluations
  int64_t start_ms = 0, end_ms = 0, step_ms = 0;  // range evaluations
  std::string expr;
};

// Native histogram samples are written as `{{schema:0 sum:...}}` in load blocks and results.
bool HasHistogramSample(std::string_view line) {
  return line.find("{{") != std::string_view::npos;
}

constexpr char kHistogramSkip[] =
    "native histogram samples ({{...}}) are not supported; the case is skipped";

// Reads the next space-separated word of `rest` and removes it.
std::string_view NextWord(std::string_view& rest) {
  rest = Trim(rest);
  size_t end = rest.find_first_of(" \t");
  std::string_view word = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : Trim(rest.substr(end));
  return word;
}

Result<int64_t> ParseEvalTime(std::string_view text, const char* what) {
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) {
    return Error::Invalid("invalid " + std::string(what) + " \"" + std::string(text) + "\"");
  }
  return d->count();
}

// Parses the rest of `range from <start> to <end> step <step> <expr>` after `range`.
Status ParseRangeParams(std::string_view rest, EvalCommand& cmd) {
  const char* const kUsage = "expected eval range from <time> to <time> step <duration> <expr>";
  if (NextWord(rest) != "from") {
    return Error::Invalid(kUsage);
  }
  Result<int64_t> start = ParseEvalTime(NextWord(rest), "range start");
  if (!start.ok()) {
    return start.error();
  }
  if (NextWord(rest) != "to") {
    return Error::Invalid(kUsage);
  }
  Result<int64_t> end = ParseEvalTime(NextWord(rest), "range end");
  if (!end.ok()) {
    return end.error();
  }
  if (NextWord(rest) != "step") {
    return Error::Invalid(kUsage);
  }
  Result<int64_t> step = ParseEvalTime(NextWord(rest), "range step");
  if (!step.ok()) {
    return step.error();
  }
  if (*step <= 0) {
    return Error::Invalid("range step must be positive");
  }
  if (*end < *start) {
    return Error::Invalid("range end must not be before its start");
  }
  if (rest.empty()) {
    return Error::Invalid("missing expression");
  }
  cmd.range = true;
  cmd.start_ms = *start;
  cmd.end_ms = *end;
  cmd.step_ms = *step;
  cmd.expr = std::string(rest);
  return Status::Ok();
}

// Parses `eval[_fail|_ordered] instant [at <time>] <expr>`.
Result<EvalCommand> ParseEvalCommand(std::string_view line) {
  EvalCommand cmd;
  size_t space = line.find_first_of(" \t");
  std::string_view verb = line.substr(0, space);
  if (verb == "eval_fail") {
    cmd.expect_fail = true;
  } else if (verb == "eval_ordered") {
    cmd.ordered = true;
  } else if (verb != "eval") {
    return Error::Invalid("unknown command \"" + std::string(verb) + "\"");
  }
  std::string_view rest = Trim(line.substr(verb.size()));
  if (StartsWithWord(rest, "range")) {
    if (cmd.ordered) {
      return Error::Invalid("eval_ordered is not supported for range evaluations");
    }
    if (Status st = ParseRangeParams(rest.substr(5), cmd); !st.ok()) {
      return st.error();
    }
    return cmd;
  }
  if (!StartsWithWord(rest, "instant")) {
    return Error::Invalid("expected eval instant or eval range");
  }
  rest = Trim(rest.substr(7));
  if (StartsWithWord(rest, "at")) {
    rest = Trim(rest.substr(2));
    size_t end = rest.find_first_of(" \t");
    std::string_view time = rest.substr(0, end);
    Result<Duration> d = ParseDuration(time);
    if (!d.ok()) {
      return Error::Invalid("invalid evaluation time \"" + std::string(time) + "\"");
    }
    cmd.t_ms = d->count();
    rest = end == std::string_view::npos ? std::string_view() : Trim(rest.substr(end));
  }
  if (rest.empty()) {
    return Error::Invalid("missing expression");
  }
  cmd.expr = std::string(rest);
  return cmd;
}

// Compares a result against the expected lines as Prometheus's test.go compareResult does.
std::string CompareResult(const Value& value, const std::vector<Expected>& expected, bool ordered) {
  if (std::holds_alternative<Matrix>(value)) {
    return "received range result on instant evaluation";
  }
  if (const auto* str = std::get_if<String>(&value)) {
    return "received string result \"" + str->v + "\", which test scripts cannot expect";
  }
  if (const auto* scalar = std::get_if<Scalar>(&value)) {
    if (expected.size() != 1) {
      return "received scalar " + FormatValue(scalar->v) + " but expected " +
             std::to_string(expected.size()) + " series";
    }
    if (!AlmostEqual(expected[0].value, scalar->v)) {
      return "expected scalar " + FormatValue(expected[0].value) + " but got " +
             FormatValue(scalar->v);
    }
    return "";
  }
  const Vector& vec = std::get<Vector>(value);
  std::unordered_map<Labels, const Expected*> by_labels;
  for (const Expected& e : expected) {
    by_labels[e.labels] = &e;
  }
  std::unordered_map<Labels, bool> seen;
  for (size_t pos = 0; pos < vec.size(); ++pos) {
    const VectorSample& s = vec[pos];
    auto it = by_labels.find(s.metric);
    if (it == by_labels.end()) {
      return "unexpected metric " + s.metric.ToString() + " in result";
    }
    if (ordered && it->second->position != pos) {
      return "expected metric " + s.metric.ToString() + " at position " +
             std::to_string(it->second->position + 1) + " but was at " + std::to_string(pos + 1);
    }
    if (!AlmostEqual(it->second->value, s.v)) {
      return "expected " + FormatValue(it->second->value) + " for " + s.metric.ToString() +
             " but got " + FormatValue(s.v);
    }
    seen[s.metric] = true;
  }
  for (const Expected& e : expected) {
    if (!seen.count(e.labels)) {
      return "expected metric " + e.labels.ToString() + " with " + FormatValue(e.value) +
             " not found in a result of " + std::to_string(vec.size()) + " series";
    }
  }
  return "";
}

class ScriptRunner {
 public:
  ScriptRunner(const std::string& name, const EngineOptions& options)
      : engine_(options), store_(std::make_unique<MemorySampleStore>()) {
    result_.name = name;
  }

  Result<TestScriptResult> Run(std::string_view text) {
    // Comment lines count as blank, which ends a block, as in Prometheus's test.go.
    std::vector<std::string_view> lines = SplitLines(text);
    for (auto& line : lines) {
      line = Trim(line);
      if (!line.empty() && line[0] == '#') {
        line = {};
      }
    }
    size_t i = 0;
    while (i < lines.size()) {
      std::string_view line = lines[i];
      const int line_no = static_cast<int>(i) + 1;
      size_t block_end = i + 1;
      while (block_end < lines.size() && !lines[block_end].empty()) {
        ++block_end;
      }
      if (line.empty()) {
        ++i;
        continue;
      }
      std::vector<std::string_view> block(lines.begin() + static_cast<long>(i) + 1,
                                          lines.begin() + static_cast<long>(block_end));
      Status st = Status::Ok();
      if (line == "clear") {
        store_ = std::make_unique<MemorySampleStore>();
        histograms_loaded_ = false;
        block_end = i + 1;
      } else if (StartsWithWord(line, "load")) {
        st = Load(line, block, line_no);
      } else if (line.substr(0, 4) == "eval") {
        Eval(line, block, line_no);
      } else {
        st = Error::Invalid("unknown command \"" + std::string(line) + "\"");
      }
      if (!st.ok()) {
        return Error::Invalid(
            result_.name + ":" + std::to_string(line_no) + ": " + st.error().message(), line_no);
      }
      i = block_end;
    }
    return result_;
  }

 private:
  Status Load(std::string_view line, const std::vector<std::string_view>& block, int line_no) {
    std::string_view interval_text = Trim(line.substr(4));
    Result<Duration> interval = ParseDuration(interval_text);
    if (!interval.ok()) {
      return Error::Invalid("invalid load interval \"" + std::string(interval_text) + "\"");
    }
    for (size_t j = 0; j < block.size(); ++j) {
      if (HasHistogramSample(block[j])) {
        // The store holds floats only: later evaluations could not see these series.
        histograms_loaded_ = true;
        continue;
      }
      Result<SeriesLine> series = ParseSeriesLine(block[j]);
      if (!series.ok()) {
        return series.error().WithContext("line " + std::to_string(line_no + 1 + j));
      }
      for (size_t k = 0; k < series->values.size(); ++k) {
        if (series->values[k]) {
          store_->Append(
              series->labels, static_cast<int64_t>(k) * interval->count(), *series->values[k]);
        }
      }
    }
    return Status::Ok();
  }

  void Eval(std::string_view line, const std::vector<std::string_view>& block, int line_no) {
    EvalCaseResult c;
    c.line = line_no;
    Result<EvalCommand> cmd = ParseEvalCommand(line);
    if (!cmd.ok()) {
      c.expr = std::string(line);
      c.outcome =
          cmd.error().code() == ErrorCode::kNotFound ? EvalOutcome::kSkipped : EvalOutcome::kFailed;
      c.reason = cmd.error().message();
      result_.cases.push_back(std::move(c));
      return;
    }
    c.expr = cmd->expr;
    bool histograms = histograms_loaded_;
    for (std::string_view l : block) {
      histograms = histograms || HasHistogramSample(l);
    }
    if (histograms) {
      c.outcome = EvalOutcome::kSkipped;
      c.reason = kHistogramSkip;
      result_.cases.push_back(std::move(c));
      return;
    }
    c.reason = cmd->range ? CheckRange(*cmd, block) : Check(*cmd, block);
    c.outcome = c.reason.empty() ? EvalOutcome::kPassed : EvalOutcome::kFailed;
    result_.cases.push_back(std::move(c));
  }

  // Returns an empty string when the case passes, else why it failed.
  std::string Check(const EvalCommand& cmd, const std::vector<std::string_view>& block) {
    std::vector<Expected> expected;
    for (size_t j = 0; j < block.size(); ++j) {
      if (std::optional<double> v = ParseTestNumber(block[j])) {
        expected.push_back(Expected{Labels(), *v, j});
        continue;
      }
      Result<SeriesLine> s = ParseSeriesLine(block[j]);
      if (!s.ok()) {
        return "invalid expected result: " + s.error().message();
      }
      if (s->values.empty() || !s->values[0]) {
        return "expected result line without a value: " + std::string(block[j]);
      }
      expected.push_back(Expected{s->labels, *s->values[0], j});
    }
    Result<ExprPtr> expr = ParseExpr(cmd.expr);
    if (!expr.ok()) {
      return "parse error: " + expr.error().message();
    }
    Result<Value> value = engine_.Instant(**expr, *store_, cmd.t_ms);
    if (cmd.expect_fail) {
      return value.ok() ? "expected an evaluation error but the query succeeded" : "";
    }
    if (!value.ok()) {
      return "evaluation error: " + value.error().message();
    }
    if (std::string why = CompareResult(*value, expected, cmd.ordered); !why.empty()) {
      return why;
    }
    if (cmd.ordered ||
        !(std::holds_alternative<Vector>(*value) || std::holds_alternative<Scalar>(*value))) {
      return "";  // a range query defines no order and returns no range vectors
    }
    return CheckRangeMode(**expr, cmd.t_ms, std::holds_alternative<Scalar>(*value), expected);
  }

  // Evaluates the expression again as a range query from one minute before to one minute
  // after the evaluation time, and compares the middle step, as Prometheus's test.go does.
  std::string CheckRangeMode(const Expr& expr,
                             int64_t t_ms,
                             bool scalar,
                             const std::vector<Expected>& expected) {
    constexpr int64_t kMinute = 60 * 1000;
    Result<Matrix> range = engine_.Range(expr, *store_, t_ms - kMinute, t_ms + kMinute, kMinute);
    if (!range.ok()) {
      return "evaluation error in range mode: " + range.error().message();
    }
    Vector middle;
    for (const MatrixSeries& s : *range) {
      for (const Sample& p : s.points) {
        if (p.t == t_ms) {
          middle.push_back(VectorSample{s.metric, p.t, p.v});
          break;
        }
      }
    }
    std::string why;
    if (scalar) {
      why = middle.empty() ? "no scalar at the evaluation time"
                           : CompareResult(Value(Scalar{t_ms, middle[0].v}), expected, false);
    } else {
      why = CompareResult(Value(std::move(middle)), expected, false);
    }
    return why.empty() ? "" : "in range mode: " + why;
  }

  // Returns an empty string when the range case passes, else why it failed. Follows the range
  // comparison of Prometheus's later test.go: the expected values of a series are in
  // expanding notation, one per step from the start, `_` for a step without a point.
  std::string CheckRange(const EvalCommand& cmd, const std::vector<std::string_view>& block) {
    struct ExpectedSeries {
      Labels labels;
      std::vector<SeriesValue> values;
    };

    std::vector<ExpectedSeries> expected;
    for (std::string_view l : block) {
      Result<SeriesLine> s = ParseSeriesLine(l);
      if (!s.ok()) {
        return "invalid expected result: " + s.error().message();
      }
      expected.push_back(ExpectedSeries{s->labels, s->values});
    }
    Result<ExprPtr> expr = ParseExpr(cmd.expr);
    if (!expr.ok()) {
      return "parse error: " + expr.error().message();
    }
    Result<Matrix> range = engine_.Range(**expr, *store_, cmd.start_ms, cmd.end_ms, cmd.step_ms);
    if (cmd.expect_fail) {
      return range.ok() ? "expected an evaluation error but the query succeeded" : "";
    }
    if (!range.ok()) {
      return "evaluation error: " + range.error().message();
    }
    std::unordered_map<Labels, const ExpectedSeries*> by_labels;
    for (const ExpectedSeries& e : expected) {
      by_labels[e.labels] = &e;
    }
    std::unordered_map<Labels, bool> seen;
    for (const MatrixSeries& s : *range) {
      auto it = by_labels.find(s.metric);
      if (it == by_labels.end()) {
        return "unexpected metric " + s.metric.ToString() + " in result";
      }
      seen[s.metric] = true;
      std::vector<Sample> want;
      for (size_t i = 0; i < it->second->values.size(); ++i) {
        const int64_t t = cmd.start_ms + static_cast<int64_t>(i) * cmd.step_ms;
        if (t > cmd.end_ms) {
          return "expected " + std::to_string(it->second->values.size()) + " points for " +
                 s.metric.ToString() + ", but the query time range cannot return this many points";
        }
        if (it->second->values[i]) {
          want.push_back(Sample{t, *it->second->values[i]});
        }
      }
      if (want.size() != s.points.size()) {
        return "expected " + std::to_string(want.size()) + " points for " + s.metric.ToString() +
               " but got " + std::to_string(s.points.size());
      }
      for (size_t i = 0; i < want.size(); ++i) {
        if (want[i].t != s.points[i].t) {
          return "expected point " + std::to_string(i) + " of " + s.metric.ToString() +
                 " at t=" + std::to_string(want[i].t) +
                 "ms but it was at t=" + std::to_string(s.points[i].t) + "ms";
        }
        if (!AlmostEqual(want[i].v, s.points[i].v)) {
          return "expected " + FormatValue(want[i].v) + " for " + s.metric.ToString() +
                 " at t=" + std::to_string(want[i].t) + "ms but got " + FormatValue(s.points[i].v);
        }
      }
    }
    for (const ExpectedSeries& e : expected) {
      if (!seen.count(e.labels)) {
        return "expected metric " + e.labels.ToString() + " not found in a result of " +
               std::to_string(range->size()) + " series";
      }
    }
    return "";
  }

  Engine engine_;
  std::unique_ptr<MemorySampleStore> store_;
  bool histograms_loaded_ = false;  // since the last clear
  TestScriptResult result_;
};

}  // namespace

std::optional<double> ParseTestNumber(std::string_view text) {
  text = Trim(text);
  if (text.empty()) {
    return std::nullopt;
  }
  std::string_view unsigned_text = text;
  double sign = 1;
  if (text[0] == '+' || text[0] == '-') {
    sign = text[0] == '-' ? -1 : 1;
    unsigned_text = text.substr(1);
  }
  if (EqualsIgnoreCase(unsigned_text, "inf") || EqualsIgnoreCase(unsigned_text, "infinity")) {
    return sign * std::numeric_limits<double>::infinity();
  }
  if (EqualsIgnoreCase(unsigned_text, "nan")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (unsigned_text.empty() ||
      !(std::isdigit(static_cast<unsigned char>(unsigned_text[0])) || unsigned_text[0] == '.')) {
    return std::nullopt;
  }
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) {
    return std::nullopt;
  }
  return v;
}

bool AlmostEqual(double a, double b) {
  constexpr double kEpsilon = 0.000001;
  constexpr double kMinNormal = std::numeric_limits<double>::min();
  if (std::isnan(a) && std::isnan(b)) {
    return true;
  }
  if (a == b) {
    return true;
  }
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || diff < kMinNormal) {
    return diff < kEpsilon * kMinNormal;
  }
  return diff / (std::fabs(a) + std::fabs(b)) < kEpsilon;
}

Result<std::vector<SeriesValue>> ParseSeriesValues(std::string_view text) {
  std::vector<SeriesValue> out;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && IsSpace(text[pos])) {
      ++pos;
    }
    size_t start = pos;
    while (pos < text.size() && !IsSpace(text[pos])) {
      ++pos;
    }
    if (pos > start) {
      if (Status st = ExpandItem(text.substr(start, pos - start), out); !st.ok()) {
        return st.error();
      }
    }
  }
  return out;
}

Result<SeriesLine> ParseSeriesLine(std::string_view line) {
  line = Trim(line);
  std::string_view rest;
  Result<Labels> labels = ParseLabelSet(line, rest);
  if (!labels.ok()) {
    return labels.error();
  }
  if (!rest.empty() && !IsSpace(rest[0])) {
    return Error::Invalid("expected a space after the series labels in \"" + std::string(line) +
                          "\"");
  }
  Result<std::vector<SeriesValue>> values = ParseSeriesValues(rest);
  if (!values.ok()) {
    return values.error();
  }
  return SeriesLine{std::move(labels).value(), std::move(values).value()};
}

size_t TestScriptResult::Count(EvalOutcome outcome) const {
  size_t n = 0;
  for (const EvalCaseResult& c : cases) {
    n += c.outcome == outcome ? 1 : 0;
  }
  return n;
}

Result<TestScriptResult> RunTestScript(std::string_view text,
                                       const std::string& name,
                                       const EngineOptions& options) {
  ScriptRunner runner(name, options);
  return runner.Run(text);
}

}  // namespace alertd::promql
