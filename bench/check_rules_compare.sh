#!/usr/bin/env bash
# Times `alertd check rules` against Debian's `promtool check rules` on the same rule files,
# one invocation each over every file, and prints both wall times and their ratio.
# Usage: bench/check_rules_compare.sh ALERTD CORPUS_DIR [REPEAT]
set -euo pipefail

usage="usage: bench/check_rules_compare.sh ALERTD CORPUS_DIR [REPEAT]"
alertd=${1:?$usage}
corpus=${2:?$usage}
repeat=${3:-5}

mapfile -t files < <(find "$corpus/awesome/dist/rules" "$corpus/awesome/expanded" \
  "$corpus/prometheus-v2.42.0/rulefmt" "$corpus/prometheus-v2.42.0/rules-fixtures" \
  -name '*.y*ml' | sort)
echo "files: ${#files[@]}, repeats: $repeat"

best() {
  local best_ms=""
  for _ in $(seq "$repeat"); do
    local start end ms
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    if [[ -z "$best_ms" || "$ms" -lt "$best_ms" ]]; then
      best_ms=$ms
    fi
  done
  echo "$best_ms"
}

alertd_ms=$(best "$alertd" check rules "${files[@]}")
promtool_ms=$(best promtool check rules "${files[@]}")
echo "alertd check rules:   ${alertd_ms} ms (best of $repeat)"
echo "promtool check rules: ${promtool_ms} ms (best of $repeat)"
echo "ratio alertd/promtool: $(echo "scale=3; $alertd_ms / $promtool_ms" | bc)"
