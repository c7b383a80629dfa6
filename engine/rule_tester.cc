#include "engine/rule_tester.h"

#include <glob.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include <re2/re2.h>

#include "common/duration.h"
#include "common/labels.h"
#include "engine/promql/parser.h"
#include "engine/promql/printer.h"
#include "engine/promql/test_script.h"
#include "engine/rule_manager.h"
#include "rules/rule_file.h"
#include "rules/yaml_util.h"
#include "storage/memory_sample_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

namespace fs = std::filesystem;

struct InputSeries {
  Labels labels;
  std::vector<promql::SeriesValue> values;
};

struct ExpAlert {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  std::vector<std::pair<std::string, std::string>> annotation_patterns;
};

struct AlertTest {
  Duration eval_time{0};
  std::string alertname;
  std::vector<ExpAlert> exp_alerts;
};

struct ExpSample {
  Labels labels;
  double value = 0;
};

struct ExprTest {
  std::string expr;
  Duration eval_time{0};
  std::vector<ExpSample> exp_samples;
};

struct TestGroup {
  std::string name;
  Duration interval{0};  // 0: the file's evaluation_interval
  std::vector<InputSeries> input_series;
  std::vector<AlertTest> alert_tests;
  std::vector<ExprTest> expr_tests;
  Labels external_labels;
  std::string external_url;
};

struct TestFile {
  std::vector<std::string> rule_files;
  Duration evaluation_interval{60000};
  std::vector<std::string> group_eval_order;
  std::vector<TestGroup> tests;
};

// Prometheus's labels.Labels.String(): every label, __name__ included, inside braces.
std::string LabelsString(const Labels& labels) {
  std::string out = "{";
  bool first = true;
  for (const Label& label : labels) {
    if (!first) {
      out += ", ";
    }
    first = false;
    out += label.name + "=" + promql::QuoteString(label.value);
  }
  return out + "}";
}

// Go's strconv.FormatFloat(v, 'E', -1, 64).
std::string FormatFloatE(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::scientific);
  std::string out(buffer, result.ptr);
  for (char& c : out) {
    if (c == 'e') {
      c = 'E';
    }
  }
  return out;
}

// Go's time.Duration.String() for whole milliseconds: "0s", "1m0s", "1h2m3.5s".
std::string GoDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  std::string sign = ms < 0 ? "-" : "";
  ms = std::abs(ms);
  if (ms < 1000) {
    return sign + std::to_string(ms) + "ms";
  }
  int64_t hours = ms / 3600000;
  int64_t minutes = ms / 60000 % 60;
  int64_t millis = ms % 60000;
  std::string seconds = std::to_string(millis / 1000);
  if (millis % 1000 != 0) {
    std::string frac = std::to_string(1000 + millis % 1000).substr(1);
    while (!frac.empty() && frac.back() == '0') {
      frac.pop_back();
    }
    seconds += "." + frac;
  }
  std::string out = sign;
  if (hours > 0) {
    out += std::to_string(hours) + "h";
  }
  if (hours > 0 || minutes > 0) {
    out += std::to_string(minutes) + "m";
  }
  return out + seconds + "s";
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    if (start > 0) {
      out += "\n" + prefix;
    }
    out += line;
    if (end == std::string::npos) {
      return out;
    }
    start = end + 1;
  }
}

struct LabelsAndAnnotations {
  Labels labels;
  Labels annotations;

  friend auto operator<=>(const LabelsAndAnnotations&, const LabelsAndAnnotations&) = default;
  friend bool operator==(const LabelsAndAnnotations&, const LabelsAndAnnotations&) = default;
};

// promtool's labelsAndAnnotations.String().
std::string AlertsString(const std::vector<LabelsAndAnnotations>& alerts) {
  if (alerts.empty()) {
    return "[]";
  }
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    out += i == 0 ? "\n" : ",\n";
    out += std::to_string(i) + ":" +
           Indent("\nLabels:" + LabelsString(alerts[i].labels) +
                      "\nAnnotations:" + LabelsString(alerts[i].annotations),
                  "  ");
  }
  return out + "\n]";
}

Labels ToLabels(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<Label> items;
  for (const auto& [name, value] : pairs) {
    items.push_back(Label{name, value});
  }
  return Labels(std::move(items));
}

// ---------------------------------------------------------------------------------------------
// Reading the test file.

class Reader {
 public:
  Reader(std::string file, const std::string& text) : file_(std::move(file)), source_(text) {}

  const std::vector<std::string>& errors() const { return errors_; }

  yaml::ErrorSink Sink() {
    return [this](yaml::Position at, std::string message) {
      Report(at, std::move(message));
    };
  }

  void Report(yaml::Position at, const std::string& message) {
    std::string where = file_;
    if (at.line > 0) {
      where += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
    }
    errors_.push_back(where + ": " + message);
  }

  TestFile ReadFile(const YAML::Node& root) {
    static const yaml::Schema kSchema{
        "unit test file", {"rule_files", "evaluation_interval", "group_eval_order", "tests"}};
    TestFile file;
    yaml::Fields fields = yaml::ReadMapping(root, kSchema, Sink());
    if (const yaml::Entry* e = fields.Find("rule_files")) {
      file.rule_files = yaml::ReadStringList(*e, Sink()).value_or(std::vector<std::string>{});
    }
    if (const yaml::Entry* e = fields.Find("evaluation_interval")) {
      if (auto d = yaml::ReadDuration(*e, Sink()); d && d->count() > 0) {
        file.evaluation_interval = *d;
      }
    }
    if (const yaml::Entry* e = fields.Find("group_eval_order")) {
      file.group_eval_order = yaml::ReadStringList(*e, Sink()).value_or(std::vector<std::string>{});
    }
    if (const yaml::Entry* e = fields.Find("tests")) {
      ForEachItem(*e, [&](const YAML::Node& item) { file.tests.push_back(ReadGroup(item)); });
    }
    return file;
  }

 private:
  template <typename F>
  void ForEachItem(const yaml::Entry& entry, F&& f) {
    if (entry.value.IsNull()) {
      return;
    }
    if (!entry.value.IsSequence()) {
      Report(entry.value_position(),
             entry.key + " must be a list, got " + yaml::KindName(entry.value));
      return;
    }
    for (const YAML::Node& item : entry.value) {
      f(item);
    }
  }

  std::string Scalar(const yaml::Entry& entry) {
    if (entry.value.IsNull()) {
      return "";
    }
    if (!entry.value.IsScalar()) {
      Report(entry.value_position(),
             entry.key + " must be a string, got " + yaml::KindName(entry.value));
      return "";
    }
    return entry.value.Scalar();
  }

  Duration ReadTime(const yaml::Entry& entry) {
    return yaml::ReadDuration(entry, Sink()).value_or(Duration{0});
  }

  std::vector<std::pair<std::string, std::string>> ReadMap(const yaml::Entry& entry) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const yaml::StringItem& item : yaml::ReadStringMap(entry, Sink())) {
      out.emplace_back(item.key, item.value);
    }
    return out;
  }

  TestGroup ReadGroup(const YAML::Node& node) {
    static const yaml::Schema kSchema{"test",
                                      {"name",
                                       "interval",
                                       "input_series",
                                       "alert_rule_test",
                                       "promql_expr_test",
                                       "external_labels",
                                       "external_url"}};
    TestGroup group;
    yaml::Fields fields = yaml::ReadMapping(node, kSchema, Sink());
    if (const yaml::Entry* e = fields.Find("name")) {
      group.name = Scalar(*e);
    }
    if (const yaml::Entry* e = fields.Find("interval")) {
      group.interval = ReadTime(*e);
    }
    if (const yaml::Entry* e = fields.Find("external_labels")) {
      group.external_labels = ToLabels(ReadMap(*e));
    }
    if (const yaml::Entry* e = fields.Find("external_url")) {
      group.external_url = Scalar(*e);
    }
    if (const yaml::Entry* e = fields.Find("input_series")) {
      ForEachItem(*e, [&](const YAML::Node& item) { ReadSeries(item, group); });
    }
    if (const yaml::Entry* e = fields.Find("alert_rule_test")) {
      ForEachItem(*e,
                  [&](const YAML::Node& item) { group.alert_tests.push_back(ReadAlert(item)); });
    }
    if (const yaml::Entry* e = fields.Find("promql_expr_test")) {
      ForEachItem(*e, [&](const YAML::Node& item) { group.expr_tests.push_back(ReadExpr(item)); });
    }
    return group;
  }

  void ReadSeries(const YAML::Node& node, TestGroup& group) {
    static const yaml::Schema kSchema{"input series", {"series", "values"}};
    yaml::Fields fields = yaml::ReadMapping(node, kSchema, Sink());
    const yaml::Entry* series = fields.Find("series");
    const yaml::Entry* values = fields.Find("values");
    if (series == nullptr) {
      Report(yaml::PositionOf(node),
             "input series has no series; give its labels, e.g. up{job=\"x\"}");
      return;
    }
    std::string line = Scalar(*series) + " " + (values != nullptr ? Scalar(*values) : "");
    Result<promql::SeriesLine> parsed = promql::ParseSeriesLine(line);
    if (!parsed.ok()) {
      Report(series->value_position(),
             "invalid input series " + promql::QuoteString(line) + ": " + parsed.error().message());
      return;
    }
    group.input_series.push_back(InputSeries{parsed->labels, parsed->values});
  }

  AlertTest ReadAlert(const YAML::Node& node) {
    static const yaml::Schema kSchema{"alert rule test", {"eval_time", "alertname", "exp_alerts"}};
    AlertTest test;
    yaml::Fields fields = yaml::ReadMapping(node, kSchema, Sink());
    if (const yaml::Entry* e = fields.Find("eval_time")) {
      test.eval_time = ReadTime(*e);
    }
    if (const yaml::Entry* e = fields.Find("alertname")) {
      test.alertname = Scalar(*e);
    }
    if (test.alertname.empty()) {
      Report(yaml::PositionOf(node), "alert rule test has no alertname; name the alert to check");
    }
    if (const yaml::Entry* e = fields.Find("exp_alerts")) {
      ForEachItem(*e, [&](const YAML::Node& item) {
        static const yaml::Schema kAlertSchema{
            "expected alert", {"exp_labels", "exp_annotations", "exp_annotations_regex"}};
        ExpAlert alert;
        yaml::Fields alert_fields = yaml::ReadMapping(item, kAlertSchema, Sink());
        if (const yaml::Entry* f = alert_fields.Find("exp_labels")) {
          alert.labels = ReadMap(*f);
        }
        if (const yaml::Entry* f = alert_fields.Find("exp_annotations")) {
          alert.annotations = ReadMap(*f);
        }
        if (const yaml::Entry* f = alert_fields.Find("exp_annotations_regex")) {
          for (const yaml::StringItem& pattern : yaml::ReadStringMap(*f, Sink())) {
            RE2 re(pattern.value, RE2::Quiet);
            if (!re.ok()) {
              Report(pattern.value_position,
                     "invalid regular expression " + promql::QuoteString(pattern.value) +
                         " for annotation " + pattern.key + ": " + re.error());
              continue;
            }
            alert.annotation_patterns.emplace_back(pattern.key, pattern.value);
          }
        }
        test.exp_alerts.push_back(std::move(alert));
      });
    }
    return test;
  }

  ExprTest ReadExpr(const YAML::Node& node) {
    static const yaml::Schema kSchema{"promql expr test", {"expr", "eval_time", "exp_samples"}};
    ExprTest test;
    yaml::Fields fields = yaml::ReadMapping(node, kSchema, Sink());
    if (const yaml::Entry* e = fields.Find("expr")) {
      test.expr = Scalar(*e);
    }
    if (const yaml::Entry* e = fields.Find("eval_time")) {
      test.eval_time = ReadTime(*e);
    }
    if (const yaml::Entry* e = fields.Find("exp_samples")) {
      ForEachItem(*e, [&](const YAML::Node& item) {
        static const yaml::Schema kSampleSchema{"expected sample", {"labels", "value"}};
        ExpSample sample;
        yaml::Fields sample_fields = yaml::ReadMapping(item, kSampleSchema, Sink());
        if (const yaml::Entry* f = sample_fields.Find("labels")) {
          std::string text = Scalar(*f);
          if (!text.empty()) {
            Result<promql::SeriesLine> parsed = promql::ParseSeriesLine(text + " 0");
            if (!parsed.ok()) {
              Report(
                  f->value_position(),
                  "invalid labels " + promql::QuoteString(text) + ": " + parsed.error().message());
            } else {
              sample.labels = parsed->labels;
            }
          }
        }
        if (const yaml::Entry* f = sample_fields.Find("value")) {
          std::string text = Scalar(*f);
          std::optional<double> value = promql::ParseTestNumber(text);
          if (!value) {
            Report(f->value_position(),
                   "invalid sample value " + promql::QuoteString(text) +
                       "; give a number such as 1, 0.5 or +Inf");
          } else {
            sample.value = *value;
          }
        }
        test.exp_samples.push_back(std::move(sample));
      });
    }
    return test;
  }

  std::string file_;
  yaml::SourceLines source_;
  std::vector<std::string> errors_;
};

// ---------------------------------------------------------------------------------------------
// Running one test group.

bool AnnotationsMatch(const Labels& got, const ExpAlert& exp) {
  std::map<std::string, std::string> want(exp.annotations.begin(), exp.annotations.end());
  std::map<std::string, std::string> patterns(exp.annotation_patterns.begin(),
                                              exp.annotation_patterns.end());
  size_t expected = 0;
  for (const auto& [name, value] : want) {
    if (!value.empty() && !patterns.count(name)) {
      ++expected;
    }
  }
  expected += patterns.size();
  if (got.size() != expected) {
    return false;
  }
  for (const Label& label : got) {
    if (auto p = patterns.find(label.name); p != patterns.end()) {
      if (!RE2::FullMatch(label.value, RE2(p->second))) {
        return false;
      }
    } else if (auto w = want.find(label.name); w == want.end() || w->second != label.value) {
      return false;
    }
  }
  return true;
}

class GroupRunner {
 public:
  GroupRunner(const TestFile& file,
              const TestGroup& group,
              const std::vector<rules::RuleFile>& rules)
      : file_(file), group_(group), rules_(rules) {}

  std::vector<std::string> Run() {
    Duration interval = group_.interval.count() > 0 ? group_.interval : file_.evaluation_interval;
    Duration eval_interval = file_.evaluation_interval;

    Result<std::unique_ptr<StateStore>> state = OpenSqliteStateStore(":memory:");
    if (!state.ok()) {
      return {"opening the in-memory state store failed: " + state.error().message()};
    }
    RuleManagerOptions options;
    options.default_interval = interval;
    options.external_labels = group_.external_labels;
    options.external_url = group_.external_url;
    options.engine.default_subquery_step_ms = eval_interval.count();
    options.engine.clock = &clock_;
    auto manager = RuleManager::Create(rules_, options, &store_, &store_, state->get(), &clock_);
    if (!manager.ok()) {
      return {manager.error().message()};
    }
    std::vector<size_t> order = GroupOrder(**manager);

    std::vector<Duration> alert_times;
    Duration maxt{0};
    for (const AlertTest& test : group_.alert_tests) {
      alert_times.push_back(test.eval_time);
      maxt = std::max(maxt, test.eval_time);
    }
    for (const ExprTest& test : group_.expr_tests) {
      maxt = std::max(maxt, test.eval_time);
    }
    std::sort(alert_times.begin(), alert_times.end());
    alert_times.erase(std::unique(alert_times.begin(), alert_times.end()), alert_times.end());

    std::vector<std::string> errors;
    size_t curr = 0;
    std::vector<size_t> loaded(group_.input_series.size(), 0);
    for (Duration ts{0}; ts <= maxt; ts += eval_interval) {
      LoadTill(ts, interval, loaded);
      clock_.Set(FromMillis(ts.count()));
      for (size_t i : order) {
        (*manager)->EvalGroup(i);
      }
      std::vector<GroupStatus> status = (*manager)->Status();
      std::vector<std::string> eval_errors;
      for (size_t i : order) {
        for (const RuleStatus& rule : status[i].rules) {
          if (!rule.eval.last_error.empty()) {
            eval_errors.push_back("rule: " + rule.name + ", time: " + GoDuration(ts) +
                                  ", err: " + rule.eval.last_error);
          }
        }
      }
      if (!eval_errors.empty()) {
        errors.insert(errors.end(), eval_errors.begin(), eval_errors.end());
        return errors;
      }
      while (curr < alert_times.size() && ts <= alert_times[curr] &&
             alert_times[curr] < ts + eval_interval) {
        CheckAlerts(alert_times[curr], status, errors);
        ++curr;
      }
    }

    promql::Engine engine(options.engine);
    for (const ExprTest& test : group_.expr_tests) {
      CheckExpr(engine, test, errors);
    }
    return errors;
  }

 private:
  std::vector<size_t> GroupOrder(const RuleManager& manager) {
    std::vector<GroupStatus> status = manager.Status();
    std::vector<size_t> order(status.size());
    for (size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    if (file_.group_eval_order.empty()) {
      return order;
    }
    std::map<std::string, size_t> rank;
    for (size_t i = 0; i < file_.group_eval_order.size(); ++i) {
      rank.emplace(file_.group_eval_order[i], i);
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      auto ra = rank.find(status[a].name);
      auto rb = rank.find(status[b].name);
      size_t va = ra == rank.end() ? 0 : ra->second;
      size_t vb = rb == rank.end() ? 0 : rb->second;
      return va < vb;
    });
    return order;
  }

  // Input samples appear as time reaches them, as promtool's lazy loader appends them.
  void LoadTill(Duration ts, Duration interval, std::vector<size_t>& loaded) {
    for (size_t s = 0; s < group_.input_series.size(); ++s) {
      const InputSeries& series = group_.input_series[s];
      while (loaded[s] < series.values.size() &&
             static_cast<int64_t>(loaded[s]) * interval.count() <= ts.count()) {
        const promql::SeriesValue& value = series.values[loaded[s]];
        if (value) {
          store_.Append(series.labels, static_cast<int64_t>(loaded[s]) * interval.count(), *value);
        }
        ++loaded[s];
      }
    }
  }

  std::string TestName() const { return group_.name.empty() ? "" : "name: " + group_.name + ",\n"; }

  void CheckAlerts(Duration t,
                   const std::vector<GroupStatus>& status,
                   std::vector<std::string>& errors) {
    for (const AlertTest& test : group_.alert_tests) {
      if (test.eval_time != t) {
        continue;
      }
      std::vector<LabelsAndAnnotations> got;
      for (const GroupStatus& group : status) {
        for (const RuleStatus& rule : group.rules) {
          if (!rule.is_alert || rule.name != test.alertname) {
            continue;
          }
          for (const Alert& alert : rule.alerts) {
            if (alert.state == AlertState::kFiring) {
              got.push_back(LabelsAndAnnotations{alert.labels, alert.annotations});
            }
          }
        }
      }
      std::vector<std::pair<LabelsAndAnnotations, const ExpAlert*>> exp;
      for (const ExpAlert& alert : test.exp_alerts) {
        auto labels = alert.labels;
        labels.emplace_back("alertname", test.alertname);
        exp.emplace_back(LabelsAndAnnotations{ToLabels(labels), ToLabels(alert.annotations)},
                         &alert);
      }
      std::sort(got.begin(), got.end());
      std::sort(
          exp.begin(), exp.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      bool match = got.size() == exp.size();
      for (size_t i = 0; match && i < got.size(); ++i) {
        match = got[i].labels == exp[i].first.labels &&
                AnnotationsMatch(got[i].annotations, *exp[i].second);
      }
      if (match) {
        continue;
      }
      std::vector<LabelsAndAnnotations> exp_print;
      for (const auto& [alert, source] : exp) {
        LabelsAndAnnotations shown = alert;
        if (!source->annotation_patterns.empty()) {
          auto annotations = source->annotations;
          for (const auto& [name, pattern] : source->annotation_patterns) {
            annotations.emplace_back(name, "~" + pattern);
          }
          shown.annotations = ToLabels(annotations);
        }
        exp_print.push_back(std::move(shown));
      }
      errors.push_back("alertname: " + test.alertname +
                       ", time: " + FormatDuration(test.eval_time) +
                       ", \n    exp:" + Indent(AlertsString(exp_print), "        ") +
                       ", \n    got:" + Indent(AlertsString(got), "        "));
    }
  }

  void CheckExpr(const promql::Engine& engine,
                 const ExprTest& test,
                 std::vector<std::string>& errors) {
    std::string head =
        "expr: " + promql::QuoteString(test.expr) + ", time: " + FormatDuration(test.eval_time);
    Result<promql::ExprPtr> expr = promql::ParseExpr(test.expr);
    if (!expr.ok()) {
      errors.push_back(head + ", err: " + expr.error().message());
      return;
    }
    Result<promql::Value> value = engine.Instant(**expr, store_, test.eval_time.count());
    if (!value.ok()) {
      errors.push_back(head + ", err: " + value.error().message());
      return;
    }
    std::vector<ExpSample> got;
    if (const auto* vector = std::get_if<promql::Vector>(&*value)) {
      for (const auto& sample : *vector) {
        got.push_back(ExpSample{sample.metric, sample.v});
      }
    } else if (const auto* scalar = std::get_if<promql::Scalar>(&*value)) {
      got.push_back(ExpSample{Labels(), scalar->v});
    } else {
      errors.push_back(head + ", err: rule result is not a vector or scalar");
      return;
    }
    std::vector<ExpSample> exp = test.exp_samples;
    auto by_labels = [](const ExpSample& a, const ExpSample& b) {
      return a.labels < b.labels;
    };
    std::sort(got.begin(), got.end(), by_labels);
    std::sort(exp.begin(), exp.end(), by_labels);
    bool match = got.size() == exp.size();
    for (size_t i = 0; match && i < got.size(); ++i) {
      match = got[i].labels == exp[i].labels && got[i].value == exp[i].value;
    }
    if (match) {
      return;
    }
    auto print = [](const std::vector<ExpSample>& samples) {
      if (samples.empty()) {
        return std::string("nil");
      }
      std::string out;
      for (size_t i = 0; i < samples.size(); ++i) {
        out += (i > 0 ? ", " : "") + LabelsString(samples[i].labels) + " " +
               FormatFloatE(samples[i].value);
      }
      return out;
    };
    errors.push_back(head + ",\n    exp: " + print(exp) + "\n    got: " + print(got));
  }

  const TestFile& file_;
  const TestGroup& group_;
  const std::vector<rules::RuleFile>& rules_;
  MemorySampleStore store_;
  FakeClock clock_;
};

std::vector<std::string> ResolveRuleFiles(const fs::path& base,
                                          const std::vector<std::string>& patterns) {
  std::vector<std::string> out;
  for (const std::string& pattern : patterns) {
    fs::path full = fs::path(pattern).is_absolute() ? fs::path(pattern) : base / pattern;
    glob_t matches{};
    if (::glob(full.c_str(), 0, nullptr, &matches) == 0 && matches.gl_pathc > 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        out.emplace_back(matches.gl_pathv[i]);
      }
    } else {
      out.push_back(full.string());  // reported as missing when loaded
    }
    ::globfree(&matches);
  }
  return out;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i > 0 ? separator : "") + items[i];
  }
  return out;
}

}  // namespace

bool RuleUnitTestFileResult::passed() const {
  return errors.empty() && failed_count() == 0;
}

size_t RuleUnitTestFileResult::failed_count() const {
  return static_cast<size_t>(std::count_if(
      tests.begin(), tests.end(), [](const auto& t) { return !t.skipped && !t.passed(); }));
}

RuleUnitTestFileResult RunRuleUnitTestFile(const std::string& path,
                                           const RuleUnitTestOptions& options) {
  RuleUnitTestFileResult result;
  result.file = path;
  Result<std::string> text = yaml::ReadTextFile(path);
  if (!text.ok()) {
    result.errors.push_back(path + ": cannot read the test file: " + text.error().message());
    return result;
  }
  Result<YAML::Node> root = yaml::ParseDocument(*text);
  if (!root.ok()) {
    result.errors.push_back(path + ":" + std::to_string(root.error().line()) + ":" +
                            std::to_string(root.error().column()) + ": " + root.error().message());
    return result;
  }
  Reader reader(path, *text);
  TestFile file = reader.ReadFile(*root);
  if (!reader.errors().empty()) {
    result.errors = reader.errors();
    return result;
  }
  std::set<std::string> seen;
  for (const std::string& name : file.group_eval_order) {
    if (!seen.insert(name).second) {
      result.errors.push_back(path + ": group " + promql::QuoteString(name) +
                              " is listed twice in group_eval_order; list each group once");
    }
  }

  std::vector<rules::RuleFile> rule_files;
  for (const std::string& rule_path :
       ResolveRuleFiles(fs::path(path).parent_path(), file.rule_files)) {
    std::vector<rules::RuleError> errors;
    Result<rules::RuleFile> loaded = rules::LoadRuleFile(rule_path, &errors);
    if (!loaded.ok()) {
      if (errors.empty()) {
        result.errors.push_back(rule_path + ": " + loaded.error().message());
      }
      for (const rules::RuleError& error : errors) {
        result.errors.push_back(error.ToString());
      }
      continue;
    }
    rule_files.push_back(std::move(*loaded));
  }
  if (!result.errors.empty()) {
    return result;
  }

  std::optional<RE2> run;
  if (!options.run.empty()) {
    run.emplace(options.run, RE2::Quiet);
  }
  for (size_t i = 0; i < file.tests.size(); ++i) {
    const TestGroup& group = file.tests[i];
    RuleUnitTestCase test;
    test.name = group.name.empty() ? "tests[" + std::to_string(i) + "]" : group.name;
    if (run && !RE2::PartialMatch(test.name, *run)) {
      test.skipped = true;
    } else {
      test.failures = GroupRunner(file, group, rule_files).Run();
    }
    result.tests.push_back(std::move(test));
  }
  return result;
}

int RunRuleUnitTests(const std::vector<std::string>& files,
                     const RuleUnitTestOptions& options,
                     std::ostream& out,
                     std::ostream& err,
                     std::vector<RuleUnitTestFileResult>* results) {
  if (files.empty()) {
    err << "no test files given; pass one or more rule unit test files\n";
    return 1;
  }
  if (!options.run.empty()) {
    RE2 re(options.run, RE2::Quiet);
    if (!re.ok()) {
      err << "invalid --run pattern " << promql::QuoteString(options.run) << ": " << re.error()
          << "; give an RE2 regular expression\n";
      return 1;
    }
  }
  bool ok = true;
  for (const std::string& file : files) {
    RuleUnitTestFileResult result = RunRuleUnitTestFile(file, options);
    size_t ran = static_cast<size_t>(std::count_if(
        result.tests.begin(), result.tests.end(), [](const auto& t) { return !t.skipped; }));
    if (result.passed()) {
      out << file << ": SUCCESS, " << ran << " of " << result.tests.size() << " tests passed\n";
    } else {
      ok = false;
      if (!result.errors.empty()) {
        err << file << ": FAILED, the file could not run:\n";
        for (const std::string& error : result.errors) {
          err << "  " << error << "\n";
        }
      } else {
        err << file << ": FAILED, " << result.failed_count() << " of " << ran << " tests failed:\n";
        for (const RuleUnitTestCase& test : result.tests) {
          if (test.skipped || test.passed()) {
            continue;
          }
          err << "  test " << test.name << ":\n";
          for (const std::string& failure : test.failures) {
            err << "    " << Indent(failure, "    ") << "\n\n";
          }
        }
      }
    }
    if (results != nullptr) {
      results->push_back(std::move(result));
    }
  }
  return ok ? 0 : 1;
}

std::string RuleUnitTestJUnit(const std::vector<RuleUnitTestFileResult>& results) {
  std::ostringstream xml;
  xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (const RuleUnitTestFileResult& result : results) {
    size_t skipped = static_cast<size_t>(std::count_if(
        result.tests.begin(), result.tests.end(), [](const auto& t) { return t.skipped; }));
    xml << "  <testsuite name=\"" << XmlEscape(result.file) << "\" tests=\"" << result.tests.size()
        << "\" failures=\"" << result.failed_count() << "\" errors=\""
        << (result.errors.empty() ? 0 : 1) << "\" skipped=\"" << skipped << "\">\n";
    if (!result.errors.empty()) {
      xml << "    <error message=\"the file could not run\">"
          << XmlEscape(Join(result.errors, "\n")) << "</error>\n";
    }
    for (const RuleUnitTestCase& test : result.tests) {
      xml << "    <testcase name=\"" << XmlEscape(test.name) << "\" classname=\""
          << XmlEscape(result.file) << "\"";
      if (test.skipped) {
        xml << ">\n      <skipped/>\n    </testcase>\n";
      } else if (test.passed()) {
        xml << "/>\n";
      } else {
        xml << ">\n      <failure message=\""
            << "failed expectations: " << test.failures.size() << "\">"
            << XmlEscape(Join(test.failures, "\n\n")) << "</failure>\n    </testcase>\n";
      }
    }
    xml << "  </testsuite>\n";
  }
  xml << "</testsuites>\n";
  return xml.str();
}

}  // namespace alertd
