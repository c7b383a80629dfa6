#!/usr/bin/env bash
# Times `alertd test rules` against `promtool test rules` on one generated unit test and prints
# the ratio. Not a ctest test.
#
# Usage: bench/promtool_compare.sh [ALERTD_BINARY] [RULES] [SERIES] [HOURS]
# Defaults: build-ruletest/alertd, 50 alerting rules, 200 input series, 24 hours at 1m steps.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
alertd="${1:-$here/build-ruletest/alertd}"
rules="${2:-50}"
series="${3:-200}"
hours="${4:-24}"

if [[ ! -x "$alertd" ]]; then
  echo "alertd binary not found at $alertd; build the alertd target or pass its path" >&2
  exit 1
fi
alertd="$(realpath "$alertd")"  # the tools run inside the work folder
if ! command -v promtool >/dev/null; then
  echo "promtool is not installed; install Debian's prometheus package" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

{
  echo "groups:"
  echo "  - name: bench"
  echo "    rules:"
  for ((r = 0; r < rules; r++)); do
    echo "      - alert: High$r"
    echo "        expr: rate(requests_total{shard=\"$((r % 10))\"}[5m]) > $r"
    echo "        for: 5m"
    echo "        labels: {severity: page}"
    echo "        annotations:"
    echo "          summary: '{{ \$labels.instance }} at {{ \$value }}'"
    echo "      - record: shard:requests:rate5m_$r"
    echo "        expr: sum by (shard) (rate(requests_total{shard=\"$((r % 10))\"}[5m]))"
  done
} >"$work/rules.yml"

steps=$((hours * 60))
{
  echo "rule_files: [rules.yml]"
  echo "evaluation_interval: 1m"
  echo "tests:"
  echo "  - interval: 1m"
  echo "    input_series:"
  for ((s = 0; s < series; s++)); do
    echo "      - series: 'requests_total{instance=\"i$s\", shard=\"$((s % 10))\"}'"
    echo "        values: '0+$((s % 120))x$steps'"
  done
  echo "    promql_expr_test:"
  echo "      - expr: vector(1)"
  echo "        eval_time: ${hours}h"
  echo "        exp_samples: [{value: 1}]"
} >"$work/test.yml"

# Both tools must reach the same verdict for the timing to compare like with like.
measure() {
  local start end
  start=$(date +%s.%N)
  (cd "$work" && "$@" test rules test.yml >/dev/null 2>&1) && verdict=pass || verdict=fail
  end=$(date +%s.%N)
  echo "$verdict $(echo "$end - $start" | bc)"
}

read -r alertd_verdict alertd_seconds < <(measure "$alertd")
read -r promtool_verdict promtool_seconds < <(measure promtool)

echo "unit test: $rules alerting and $rules recording rules, $series series, $steps steps"
echo "alertd:   ${alertd_seconds}s ($alertd_verdict)"
echo "promtool: ${promtool_seconds}s ($promtool_verdict)"
if [[ "$alertd_verdict" != "$promtool_verdict" ]]; then
  echo "the verdicts differ, so the timings do not compare the same work" >&2
fi
echo "ratio alertd/promtool: $(echo "scale=2; $alertd_seconds / $promtool_seconds" | bc)"
