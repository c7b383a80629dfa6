#!/usr/bin/python3
"""Side-by-side router benchmark: alertd against Alertmanager on the same alert stream.

Starts Debian's prometheus-alertmanager (clustering off, its own temp storage) and then alertd,
one after the other, each on a free 127.0.0.1 port with the same routing file and a local
webhook sink. Posts the same alerts to each through POST /api/v2/alerts in batches, as
Prometheus does, and measures:
- delivery time: from the first POST until the sink has seen every alert in a notification;
- CPU seconds the server spent from the first POST until then (utime + stime of
  /proc/PID/stat);
- peak RSS over the server's life (VmHWM of /proc/PID/status).

Usage:
  /usr/bin/python3 bench/router_compare.py --alertd build-bench/alertd \
      [--alerts 5000] [--groups 200] [--batch 64] [--repeat 1]
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        # The command name may contain spaces, so split only what follows its closing bracket.
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


class Sink:
    """A webhook receiver that records which alerts it has seen and when the last new one
    arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = set()
        self.requests = 0
        self.alerts_received = 0
        self.last_new_at = None
        self.complete = threading.Event()
        self.expected = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.monotonic()
                message = json.loads(body)
                with sink.lock:
                    sink.requests += 1
                    before = len(sink.seen)
                    for alert in message["alerts"]:
                        sink.alerts_received += 1
                        sink.seen.add(alert["labels"]["instance"])
                    if len(sink.seen) > before:
                        sink.last_new_at = now
                    if sink.expected and len(sink.seen) >= sink.expected:
                        sink.complete.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, expected):
        with self.lock:
            self.seen = set()
            self.requests = 0
            self.alerts_received = 0
            self.last_new_at = None
            self.expected = expected
            self.complete.clear()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def routing_file(sink_port, group_wait, group_interval):
    return f"""route:
  receiver: sink
  group_by: [alertname, group]
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:{sink_port}/
        send_resolved: false
"""


def make_batches(count, groups, batch):
    """Build the alert stream: `count` alerts with distinct label sets spread over `groups`
    groups, firing for an hour from now, cut into POST bodies of `batch` alerts each."""
    now = datetime.now(timezone.utc)
    starts = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ends = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    alerts = []
    for i in range(count):
        alerts.append({
            "labels": {"alertname": "RouterBench", "group": f"g{i % groups:04d}",
                       "instance": f"host-{i:06d}:9100", "severity": "warning"},
            "annotations": {"summary": f"Bench alert {i} of group {i % groups}"},
            "startsAt": starts,
            "endsAt": ends,
            "generatorURL": "http://127.0.0.1:9090/graph",
        })
    return [json.dumps(alerts[i:i + batch]).encode() for i in range(0, count, batch)]


def wait_ready(proc, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready within {timeout}s")


def post_all(port, batches):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for body in batches:
            connection.request("POST", "/api/v2/alerts", body=body,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            text = response.read()
            if response.status != 200:
                raise RuntimeError(f"POST /api/v2/alerts returned {response.status}: {text!r}")
    finally:
        connection.close()


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run_one(name, argv, port, workdir, sink, args):
    log = open(os.path.join(workdir, f"{name}.log"), "wb")
    proc = subprocess.Popen(argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_ready(proc, port, 30)
        time.sleep(1)  # let startup work finish so it is not counted
        # startsAt is the POST time, as from Prometheus. An alert whose startsAt is more than
        # group_wait in the past makes both servers flush its group at once.
        batches = make_batches(args.alerts, args.groups, args.batch)
        count = args.alerts
        sink.reset(count)
        cpu_before = cpu_seconds(proc.pid)
        started = time.monotonic()
        post_all(port, batches)
        posted = time.monotonic() - started
        if not sink.complete.wait(args.timeout):
            raise RuntimeError(f"{name}: the sink saw {len(sink.seen)} of {count} alerts "
                               f"within {args.timeout}s")
        delivered = sink.last_new_at - started
        cpu = cpu_seconds(proc.pid) - cpu_before
        rss = peak_rss_mib(proc.pid)
        with sink.lock:
            requests, received = sink.requests, sink.alerts_received
        return {"post_s": posted, "delivered_s": delivered, "cpu_s": cpu, "rss_mib": rss,
                "requests": requests, "alerts_received": received}
    finally:
        stop(proc)
        log.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alertd", required=True, help="path of the alertd binary")
    parser.add_argument("--alertmanager", default=ALERTMANAGER)
    parser.add_argument("--alerts", type=int, default=5000, help="distinct alerts to post")
    parser.add_argument("--groups", type=int, default=200, help="aggregation groups")
    parser.add_argument("--batch", type=int, default=64,
                        help="alerts per POST (Prometheus's notifier sends at most 64)")
    parser.add_argument("--group-wait", default="1s")
    parser.add_argument("--group-interval", default="1s")
    parser.add_argument("--repeat", type=int, default=1, help="runs per server; medians shown")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds to wait for every alert to reach the sink")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--alertd-log-level", default="warn",
                        help="alertd's --log.level; its log is alertd-N/alertd.log")
    args = parser.parse_args()

    for binary in (args.alertd, args.alertmanager):
        if not os.access(binary, os.X_OK):
            print(f"{binary} is not an executable file", file=sys.stderr)
            return 2

    workdir = tempfile.mkdtemp(prefix="alertd-router-bench-")
    sink = Sink()
    try:
        with open(os.path.join(workdir, "alertmanager.yml"), "w") as f:
            f.write(routing_file(sink.port, args.group_wait, args.group_interval))
        results = {"alertmanager": [], "alertd": []}
        for run in range(args.repeat):
            am_port = free_port()
            am_dir = os.path.join(workdir, f"alertmanager-{run}")
            os.makedirs(am_dir)
            results["alertmanager"].append(run_one("alertmanager", [
                args.alertmanager, "--config.file=../alertmanager.yml",
                f"--storage.path={am_dir}/data", f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=", "--log.level=warn",
            ], am_port, am_dir, sink, args))

            alertd_port = free_port()
            alertd_dir = os.path.join(workdir, f"alertd-{run}")
            os.makedirs(alertd_dir)
            with open(os.path.join(alertd_dir, "alertd.yml"), "w") as f:
                f.write(f"alertmanager_config_file: ../alertmanager.yml\n"
                        f"storage:\n  path: data/\n"
                        f"web:\n  listen_address: 127.0.0.1:{alertd_port}\n")
            results["alertd"].append(run_one("alertd", [
                os.path.abspath(args.alertd), "run", "--config.file=alertd.yml",
                f"--log.level={args.alertd_log_level}",
            ], alertd_port, alertd_dir, sink, args))
        report(args, results)
        return 0
    except RuntimeError as e:
        print(f"benchmark failed: {e} (logs in {workdir})", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        sink.close()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(args, results):
    load = os.getloadavg()
    print(f"alerts: {args.alerts}, groups: {args.groups}, batch: {args.batch}, "
          f"group_wait: {args.group_wait}, group_interval: {args.group_interval}, "
          f"runs: {args.repeat}, load average before the report: "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    medians = {}
    for name, runs in results.items():
        medians[name] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print()
    print("| server | POST time s | delivery time s | CPU s | peak RSS MiB | webhook requests"
          " | alerts in notifications |")
    print("|---|---|---|---|---|---|---|")
    for name in ("alertmanager", "alertd"):
        m = medians[name]
        print(f"| {name} | {m['post_s']:.2f} | {m['delivered_s']:.2f} | {m['cpu_s']:.2f} | "
              f"{m['rss_mib']:.1f} | {m['requests']:.0f} | {m['alerts_received']:.0f} |")
    am, ad = medians["alertmanager"], medians["alertd"]
    print(f"| alertd/Alertmanager | {ratio(ad['post_s'], am['post_s'])} | "
          f"{ratio(ad['delivered_s'], am['delivered_s'])} | {ratio(ad['cpu_s'], am['cpu_s'])} | "
          f"{ratio(ad['rss_mib'], am['rss_mib'])} | | |")


def ratio(numerator, denominator):
    return f"{numerator / denominator:.2f}" if denominator > 0 else "n/a"


if __name__ == "__main__":
    sys.exit(main())
