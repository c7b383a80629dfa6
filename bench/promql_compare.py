#!/usr/bin/python3
"""Side-by-side PromQL benchmark: alertd's evaluator against Prometheus on the same data.

Generates a synthetic OpenMetrics dataset (1 hour at 15s resolution), turns it into TSDB blocks
with promtool, starts Prometheus on a free 127.0.0.1 port, and times a fixed list of instant
queries through /api/v1/query. Then times the same queries at the same time with
promql_eval_tool (built with -DALERTD_BUILD_BENCH=ON), which loads the same file into a
MemorySampleStore, and compares both sides' results.

Usage:
  /usr/bin/python3 bench/promql_compare.py --tool build-bench/bench/promql_eval_tool \
      [--series 10000] [--repeat 15]
"""

import argparse
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

STEP_S = 15
POINTS = 240  # 1 hour
SERIES_PER_INSTANCE = 19
BUCKETS = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]
STATUSES = ["200", "404", "500", "503"]

# The alerting rules of examples/xcord/rules.yml, then typical dashboard and rule queries.
EXPRESSIONS = [
    'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05',
    "histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le)) > 1",
    'db_connection_pool_size{state="idle"} == 0',
    "websocket_connections_active > 10000",
    'up{job="xcord-api"} == 0',
    "rate(http_requests_total[5m])",
    "sum by (job, status) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.9, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))",
    "topk(10, rate(http_requests_total[5m]))",
    "avg_over_time(websocket_connections_active[30m])",
    "max_over_time(db_connection_pool_size[1h])",
    "sum by (job, instance) (rate(http_requests_total[5m]))"
    " * on (job, instance) group_left (version) instance_info",
    "increase(http_requests_total[1h])",
    "count by (job) (up == 1)",
    "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
    "quantile(0.5, websocket_connections_active)",
    "http_requests_total offset 10m",
    "sum(irate(http_requests_total[5m]))",
    "deriv(websocket_connections_active[15m])",
]


def format_value(v):
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def write_dataset(path, series, start_s):
    """Writes `series` series (rounded to whole instances) as OpenMetrics, each series' samples
    ascending in time. Returns the number of series written."""
    instances = max(1, series // SERIES_PER_INSTANCE)
    with open(path, "w") as out:
        for i in range(instances):
            job = "worker" if i % 3 == 2 else "xcord-api"
            base = 'job="%s",instance="host-%d:8080"' % (job, i)
            lines = []
            ts = [start_s + k * STEP_S for k in range(POINTS)]

            def emit(name, labels, values):
                head = "%s{%s} " % (name, labels)
                for t, v in zip(ts, values):
                    lines.append("%s%s %d\n" % (head, format_value(v), t))

            emit("up", base, [0.0 if i % 50 == 0 and k > 200 else 1.0 for k in range(POINTS)])
            emit("instance_info", base + ',version="v%d"' % (i % 4), [1.0] * POINTS)
            emit("websocket_connections_active", base,
                 [float(5000 + (i * 37 + k * 13) % 8000) for k in range(POINTS)])
            for state, mod in (("idle", 5), ("used", 20)):
                emit("db_connection_pool_size", base + ',state="%s"' % state,
                     [float((i + k) % mod) for k in range(POINTS)])
            for s, status in enumerate(STATUSES):
                inc = (i % 10 + 1) * (8 - 2 * s) + 0.25 * s
                values, v = [], 100.0 * s
                for k in range(POINTS):
                    if i % 97 == 0 and k == 120:
                        v = 0.0  # counter reset
                    v += inc + (k % 3)
                    values.append(v)
                emit("http_requests_total", base + ',status="%s"' % status, values)
            # Cumulative bucket counts: each request lands in one bucket.
            per_bucket = [(i + b) % 4 + 1 for b in range(len(BUCKETS))]
            for b, le in enumerate(BUCKETS):
                cum = sum(per_bucket[: b + 1])
                emit("http_request_duration_seconds_bucket", base + ',le="%s"' % le,
                     [float(cum * (k + 1)) for k in range(POINTS)])
            total = sum(per_bucket)
            emit("http_request_duration_seconds_count", base,
                 [float(total * (k + 1)) for k in range(POINTS)])
            emit("http_request_duration_seconds_sum", base,
                 [0.125 * (i % 7 + 1) * (k + 1) for k in range(POINTS)])
            out.writelines(lines)
        out.write("# EOF\n")
    return instances * SERIES_PER_INSTANCE


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(port, expr, t, stats=False):
    params = {"query": expr, "time": "%.3f" % t}
    if stats:
        params["stats"] = "all"
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=120) as resp:
        return json.loads(resp.read())


def wait_ready(port, proc, timeout_s=120):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("prometheus exited with code %d" % proc.returncode)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("prometheus not ready after %ds" % timeout_s)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def result_map(data):
    """Maps a Prometheus-shaped result to {labelset: value}."""
    if data["resultType"] == "scalar":
        res = data["result"]
        return {(): float(res[1] if isinstance(res, list) else res)}
    out = {}
    for item in data["result"]:
        key = tuple(sorted(item["metric"].items()))
        v = item["value"]
        out[key] = float(v[1] if isinstance(v, list) else v)
    return out


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def compare(prom, ours):
    p, o = result_map(prom), result_map(ours)
    if set(p) != set(o):
        return "label sets differ: prometheus %d series, alertd %d, %d only in prometheus, " \
               "%d only in alertd" % (len(p), len(o), len(set(p) - set(o)), len(set(o) - set(p)))
    bad = [k for k in p if not close(p[k], o[k])]
    if bad:
        k = bad[0]
        return "%d values differ, e.g. %s: prometheus %r, alertd %r" % (len(bad), dict(k), p[k],
                                                                         o[k])
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True, help="path to promql_eval_tool")
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--prometheus", default="prometheus")
    ap.add_argument("--promtool", default="promtool")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="promql-compare-")
    proc = None
    try:
        # The hour of data starts at a whole hour 4 hours back, so it lies wholly in the past.
        start_s = (int(time.time()) // 3600 - 4) * 3600
        eval_s = start_s + (POINTS - 1) * STEP_S
        om = os.path.join(tmp, "data.om")
        t0 = time.time()
        n = write_dataset(om, args.series, start_s)
        print("generated %d series x %d samples in %.1fs (%d MB)" %
              (n, POINTS, time.time() - t0, os.path.getsize(om) // 2**20), file=sys.stderr)
        exprs_path = os.path.join(tmp, "exprs.txt")
        with open(exprs_path, "w") as f:
            f.write("\n".join(EXPRESSIONS) + "\n")

        tsdb = os.path.join(tmp, "tsdb")
        t0 = time.time()
        subprocess.run([args.promtool, "tsdb", "create-blocks-from", "openmetrics", om, tsdb],
                       check=True, stdout=subprocess.DEVNULL)
        print("promtool built blocks in %.1fs" % (time.time() - t0), file=sys.stderr)
        block_bytes = dir_bytes(tsdb)

        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1m\n")
        port = free_port()
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        proc = subprocess.Popen(
            [args.prometheus, "--config.file=" + cfg, "--storage.tsdb.path=" + tsdb,
             "--storage.tsdb.retention.time=100y", "--web.listen-address=127.0.0.1:%d" % port],
            stdout=log, stderr=log)
        wait_ready(port, proc)

        prom = {}
        for expr in EXPRESSIONS:
            first = query(port, expr, eval_s)  # warm-up, also the result compared
            http_ms, exec_ms, inner_ms = [], [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                query(port, expr, eval_s)
                http_ms.append((time.perf_counter() - t0) * 1000)
            for _ in range(args.repeat):
                timings = query(port, expr, eval_s, stats=True).get("data", {}).get(
                    "stats", {}).get("timings", {})
                if "execTotalTime" in timings:
                    exec_ms.append(timings["execTotalTime"] * 1000)
                    inner_ms.append(timings.get("innerEvalTime", 0) * 1000)
            prom[expr] = {
                "data": first.get("data"), "error": first.get("error"),
                "http_ms": statistics.median(http_ms),
                "exec_ms": statistics.median(exec_ms) if exec_ms else None,
                "inner_ms": statistics.median(inner_ms) if inner_ms else None,
            }
        prom_rss = rss_kib(proc.pid)
        proc.terminate()
        proc.wait(timeout=30)
        proc = None
        log.close()

        out = subprocess.run([args.tool, om, exprs_path, str(eval_s * 1000), str(args.repeat)],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        lines = [json.loads(line) for line in out.splitlines()]
        load, ours = lines[0], {line["expr"]: line for line in lines[1:]}

        print("series: %d, samples per series: %d, eval time: %d (last sample), repeat: %d" %
              (n, POINTS, eval_s, args.repeat))
        print("alertd store: load %.1fs, RSS growth %.1f MiB, %.0f bytes/series, "
              "%.1f bytes/sample" % (load["load_seconds"], load["rss_delta_bytes"] / 2**20,
                                     load["bytes_per_series"], load["bytes_per_sample"]))
        print("prometheus: blocks on disk %.1f MiB, RSS after queries %.1f MiB" %
              (block_bytes / 2**20, prom_rss / 1024))
        print()
        print("| # | expression | result series | alertd ms | prom HTTP ms | prom exec ms "
              "| prom inner eval ms | HTTP/alertd | exec/alertd | match |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        mismatches = 0
        for i, expr in enumerate(EXPRESSIONS, 1):
            p, o = prom[expr], ours.get(expr, {"error": "missing"})
            if p["error"] or o.get("error"):
                verdict = "error: prometheus %r, alertd %r" % (p["error"], o.get("error"))
                mismatches += 1
                print("| %d | `%s` | | | | | | | | %s |" % (i, expr, verdict))
                continue
            verdict = compare(p["data"], o["data"]) or "equal"
            mismatches += verdict != "equal"
            a = o["median_ms"]
            count = len(result_map(o["data"]))
            ex = "%.3f" % p["exec_ms"] if p["exec_ms"] is not None else "n/a"
            inner = "%.3f" % p["inner_ms"] if p["inner_ms"] is not None else "n/a"
            r_exec = "%.2f" % (p["exec_ms"] / a) if p["exec_ms"] and a > 0 else "n/a"
            print("| %d | `%s` | %d | %.3f | %.3f | %s | %s | %.2f | %s | %s |" %
                  (i, expr.replace("|", "\\|"), count, a, p["http_ms"], ex, inner,
                   p["http_ms"] / a if a > 0 else float("nan"), r_exec, verdict))
        print()
        print("mismatches: %d of %d" % (mismatches, len(EXPRESSIONS)))
        return 1 if mismatches else 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep:
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
