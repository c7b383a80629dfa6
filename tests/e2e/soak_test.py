"""End to end: alert state and notifications survive repeated SIGKILLs of alertd.

The test serves soak_condition{case="..."} gauges on 127.0.0.1 whose values follow a fixed
schedule of episodes (1 during an episode, 0 otherwise), one period per case. alertd scrapes
them every second, evaluates one alerting rule per case (no `for`, `for: 2s`,
`keep_firing_for: 3s`, and one rule with two alerts in one group) and sends to a webhook
capture server with send_resolved and a repeat_interval of 1h. The test kills alertd with
SIGKILL at seeded random moments and restarts it on the same storage directory and port.

Checks, against the notifications the capture server received:
- every episode during which alertd was up long enough was notified as firing;
- every episode notified as firing was notified as resolved, after the episode ended;
- no group received the same firing notification twice (repeat_interval is 1h);
- no resolution was sent for an episode before it ended (plus keep_firing_for), and no
  firing alert has a start outside an episode.

The rules read the gauges through last_over_time(soak_condition[3s]) rather than a plain
instant selector. After a restart alertd keeps a restored alert active, even when its
expression no longer returns it, until the sample window covers the expression's look-back
plus one interval. An instant selector looks back the fixed 5m lookback delta, so every
resolution after a restart would wait 5 minutes. A 3s range shortens that wait to 4s.
"""

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

SCRAPE_INTERVAL_S = 1.0
EVAL_INTERVAL_S = 1.0
GROUP_WAIT_S = 1.0
GROUP_INTERVAL_S = 1.0
# The range of last_over_time in the rules: an alert's expression keeps returning it for up
# to this long after the last scrape that saw 1.
RANGE_S = 3.0
# Timing margin of the checks: one scrape interval plus one evaluation interval.
MARGIN_S = SCRAPE_INTERVAL_S + EVAL_INTERVAL_S
# The schedule of episodes runs this long after the test starts; all gauges are 0 afterwards.
SCHEDULE_END_S = 92.0
KILLS = 6
# No kill in the first seconds, so that the first alerts are notified without a crash, and
# none in the last seconds of the schedule, so that the last resolutions are sent.
KILL_WINDOW_S = (6.0, SCHEDULE_END_S - 4.0)
KILL_SPACING_S = 5.0
# After the schedule ends, resolutions are waited for at most this long.
DRAIN_S = 30.0
# Below the ctest TIMEOUT of 240s, so that alertd is stopped before ctest kills the test.
BUDGET_S = 210


class Case:
    """One soak_condition series: 1 during [phase + k * period, phase + k * period + on)."""

    def __init__(self, name, alertname, period, on, phase, for_s=0.0, keep_firing_s=0.0):
        self.name = name
        self.alertname = alertname
        self.period = period
        self.on = on
        self.phase = phase
        self.for_s = for_s
        self.keep_firing_s = keep_firing_s

    def episodes(self):
        """Returns the (start, end) offsets in seconds of every episode of the schedule."""
        out = []
        start = self.phase
        while start < SCHEDULE_END_S:
            out.append((start, min(start + self.on, SCHEDULE_END_S)))
            start += self.period
        return out

    def value(self, offset):
        for start, end in self.episodes():
            if start <= offset < end:
                return 1
        return 0


# Gaps between episodes are at least 10s, more than a restart, the 4s wait of restored alerts,
# keep_firing_for and a flush take together, so each episode ends as its own alert.
CASES = [
    Case("a", "SoakInstant", period=18.0, on=8.0, phase=2.0),
    Case("b", "SoakFor", period=21.0, on=10.0, phase=4.0, for_s=2.0),
    Case("c", "SoakKeepFiring", period=25.0, on=9.0, phase=7.0, keep_firing_s=3.0),
    Case("d", "SoakPair", period=19.0, on=9.0, phase=3.0, for_s=1.0),
    Case("e", "SoakPair", period=23.0, on=11.0, phase=12.0, for_s=1.0),
]

RULES = """
groups:
  - name: soak
    interval: 1s
    rules:
      - alert: SoakInstant
        expr: last_over_time(soak_condition{case="a"}[3s]) == 1
      - alert: SoakFor
        expr: last_over_time(soak_condition{case="b"}[3s]) == 1
        for: 2s
      - alert: SoakKeepFiring
        expr: last_over_time(soak_condition{case="c"}[3s]) == 1
        keep_firing_for: 3s
      - alert: SoakPair
        expr: last_over_time(soak_condition{case=~"d|e"}[3s]) == 1
        for: 1s
"""


def alertd_config(web_port, metrics_port, capture_port):
    return f"""
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: soak
    static_configs:
      - targets: ["127.0.0.1:{metrics_port}"]
storage:
  path: data/
web:
  listen_address: 127.0.0.1:{web_port}
route:
  receiver: capture
  group_by: [alertname]
  group_wait: {GROUP_WAIT_S:g}s
  group_interval: {GROUP_INTERVAL_S:g}s
  repeat_interval: 1h
receivers:
  - name: capture
    webhook_configs:
      - url: http://127.0.0.1:{capture_port}/soak
        send_resolved: true
"""


class ScheduleServer:
    """Serves /metrics with one soak_condition series per case, valued by the schedule at the
    time of the request."""

    def __init__(self, origin):
        self.origin = origin
        schedule = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                offset = time.time() - schedule.origin
                lines = ["# TYPE soak_condition gauge"]
                for case in CASES:
                    lines.append(f'soak_condition{{case="{case.name}"}} {case.value(offset)}')
                payload = ("\n".join(lines) + "\n").encode()
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class TimedCapture:
    """Records every webhook POST as (receive time in Unix seconds, parsed JSON body) and
    returns 200."""

    def __init__(self):
        self.received = []
        self._lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                now = time.time()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                with capture._lock:
                    capture.received.append((now, body))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self._lock:
            return list(self.received)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def parse_time(text):
    return datetime.fromisoformat(text).timestamp()


def kill_offsets(rng):
    """Draws KILLS kill times inside KILL_WINDOW_S, at least KILL_SPACING_S apart."""
    low, high = KILL_WINDOW_S
    for _ in range(1000):
        offsets = sorted(rng.uniform(low, high) for _ in range(KILLS))
        if all(b - a >= KILL_SPACING_S for a, b in zip(offsets, offsets[1:])):
            return offsets
    raise AssertionError("no kill times with the required spacing; widen KILL_WINDOW_S")


def overlap(interval, spans):
    start, end = interval
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


class Episode:
    def __init__(self, case, start, end):
        self.case = case
        self.start = start  # Unix seconds
        self.end = end
        self.expected = False
        self.fired = []  # (receive time, startsAt) of firing notifications of this episode
        self.resolved = []  # (receive time, startsAt, endsAt) of resolved notifications

    def describe(self, origin):
        return (f"case {self.case.name} ({self.case.alertname}) episode "
                f"[{self.start - origin:.1f}s, {self.end - origin:.1f}s)")


def find_episode(episodes, case_name, starts_at):
    """Returns the episode of case_name during which an alert that started firing at starts_at
    became active: starts_at lies in [start + for, end + RANGE_S], widened by MARGIN_S."""
    for episode in episodes:
        case = episode.case
        if case.name != case_name:
            continue
        if episode.start + case.for_s - MARGIN_S <= starts_at <= episode.end + RANGE_S + MARGIN_S:
            return episode
    return None


def alert_key(alert):
    return alert["labels"].get("case", "?"), alert["startsAt"]


def find_duplicates(received, origin, kill_times):
    """Lists the firing notifications that tell the receiver nothing new: the group's firing
    alerts (case and startsAt) are those of its previous notification, and every resolved
    alert in it was delivered as resolved to that group before. Within repeat_interval (1h)
    such a notification only repeats what the receiver already has."""
    previous_firing = {}  # group key -> firing alerts of its last notification
    delivered_resolved = {}  # group key -> resolved alerts delivered to it so far
    previous_time = {}
    duplicates = []
    for received_at, body in received:
        group_key = body.get("groupKey", "?")
        alerts = body.get("alerts", [])
        firing = frozenset(alert_key(a) for a in alerts if a["status"] == "firing")
        resolved = frozenset(alert_key(a) for a in alerts if a["status"] == "resolved")
        old_resolved = delivered_resolved.setdefault(group_key, set())
        if firing and firing == previous_firing.get(group_key) and resolved <= old_resolved:
            first = previous_time[group_key]
            kinds = "identical" if not resolved else (
                f"same firing alerts plus resolutions delivered before {sorted(resolved)}")
            kills_between = [k for k in kill_times if first <= k <= received_at]
            after = (f"SIGKILL {(kills_between[0] - first) * 1000:.0f} ms after that delivery"
                     if kills_between else "no SIGKILL in between")
            duplicates.append(
                f"group {group_key} got firing {sorted(firing)} again at "
                f"{received_at - origin:.3f}s ({kinds}); previous notification at "
                f"{first - origin:.3f}s, {after}")
        previous_firing[group_key] = firing
        previous_time[group_key] = received_at
        old_resolved |= resolved
    return duplicates


def analyse(received, episodes, origin, kill_times=()):
    """Matches the notifications against the schedule. Returns the problems found, by kind,
    and the number of resolutions sent more than once."""
    problems = {"false_firing": [], "false_resolution": [],
                "duplicates": find_duplicates(received, origin, kill_times),
                "missing_firing": [], "missing_resolution": []}
    duplicate_resolved = 0
    seen_resolved = set()
    for received_at, body in received:
        alerts = body.get("alerts", [])
        for alert in alerts:
            case_name = alert["labels"].get("case", "?")
            starts_at = parse_time(alert["startsAt"])
            episode = find_episode(episodes, case_name, starts_at)
            if alert["status"] == "firing":
                if episode is None:
                    problems["false_firing"].append(
                        f"case {case_name} firing with startsAt {starts_at - origin:.2f}s "
                        f"outside every episode (received at {received_at - origin:.2f}s)")
                else:
                    episode.fired.append((received_at, starts_at))
                continue
            ends_at = parse_time(alert["endsAt"])
            if episode is None:
                problems["false_resolution"].append(
                    f"case {case_name} resolved with startsAt {starts_at - origin:.2f}s "
                    f"outside every episode (received at {received_at - origin:.2f}s)")
                continue
            resolution = (case_name, alert["startsAt"])
            if resolution in seen_resolved:
                duplicate_resolved += 1
            seen_resolved.add(resolution)
            episode.resolved.append((received_at, starts_at, ends_at))
            # keep_firing_for extends the time in which a resolution is false.
            limit = episode.end + episode.case.keep_firing_s - MARGIN_S
            if ends_at < limit or received_at < limit:
                problems["false_resolution"].append(
                    f"{episode.describe(origin)} resolved while the condition held (or within "
                    f"keep_firing_for after it): endsAt {ends_at - origin:.2f}s, received at "
                    f"{received_at - origin:.2f}s")

    for episode in episodes:
        if episode.expected and not episode.fired:
            problems["missing_firing"].append(f"{episode.describe(origin)} never notified firing")
        fired_starts = {starts_at for _, starts_at in episode.fired}
        resolved_starts = {starts_at for _, starts_at, _ in episode.resolved}
        for starts_at in sorted(fired_starts - resolved_starts):
            problems["missing_resolution"].append(
                f"{episode.describe(origin)} firing since {starts_at - origin:.2f}s was never "
                "notified resolved")
    return problems, duplicate_resolved


def print_timeline(received, kill_times, origin):
    """Prints the kills and notifications in time order, as offsets from the schedule start."""
    events = [(t, "SIGKILL") for t in kill_times]
    for received_at, body in received:
        summary = [(a["labels"].get("case"), a["status"],
                    round(parse_time(a["startsAt"]) - origin, 2)) for a in body["alerts"]]
        events.append((received_at, f"{body.get('status')} {summary}"))
    print("---- kills and notifications (offset from the schedule start) ----")
    for at, text in sorted(events):
        print(f"{at - origin:8.3f}s {text}")


def unresolved(received, episodes, origin):
    """Returns whether some episode notified as firing still lacks its resolution."""
    fresh = [Episode(e.case, e.start, e.end) for e in episodes]
    problems, _ = analyse(received, fresh, origin)
    return bool(problems["missing_resolution"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertd", required=True)
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the kill times; random when not given")
    parser.add_argument("--verbose", action="store_true",
                        help="print every notification, also when the checks pass")
    args = parser.parse_args()
    alertd_path = os.path.abspath(args.alertd)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print(f"seed {seed} (rerun with --seed {seed})")
    rng = random.Random(seed)

    def out_of_budget(signum, frame):
        raise AssertionError(f"the test did not finish within its budget of {BUDGET_S}s")

    signal.signal(signal.SIGALRM, out_of_budget)
    signal.alarm(BUDGET_S)
    work = harness.Workdir("alertd-e2e-soak-")
    resources = []
    processes = []
    alertd = None
    started = time.monotonic()
    try:
        capture = TimedCapture()
        resources.append(capture)
        web_port = harness.free_port()
        base = f"http://127.0.0.1:{web_port}"
        # The schedule starts a little later, once alertd runs, so the first episodes are seen.
        origin = time.time() + 2.0
        metrics = ScheduleServer(origin)
        resources.append(metrics)
        with open(os.path.join(work.path, "alertd.yml"), "w") as f:
            f.write(alertd_config(web_port, metrics.port, capture.port))
        with open(os.path.join(work.path, "rules.yml"), "w") as f:
            f.write(RULES)

        episodes = [Episode(case, origin + start, origin + end)
                    for case in CASES for start, end in case.episodes()]
        kills = kill_offsets(rng)
        print("kill times: " + ", ".join(f"{k:.1f}s" for k in kills))

        up_spans = []  # (ready, stopped) in Unix seconds
        kill_times = []

        def start_alertd():
            proc = harness.Process(f"alertd-{len(processes)}",
                                   [alertd_path, "run", "--config.file=alertd.yml"], work.path)
            processes.append(proc)
            harness.wait_ready(proc, base, 30)
            return proc, time.time()

        alertd, ready_at = start_alertd()
        for number, offset in enumerate(kills, 1):
            delay = origin + offset - time.time()
            if delay > 0:
                time.sleep(delay)
            assert alertd.alive(), f"{alertd.name} exited on its own:\n{alertd.log()}"
            killed_at = time.time()
            alertd.kill()
            kill_times.append(killed_at)
            up_spans.append((ready_at, killed_at))
            alertd, ready_at = start_alertd()
            print(f"kill {number} at {killed_at - origin:.2f}s, ready again after "
                  f"{ready_at - killed_at:.2f}s")

        delay = origin + SCHEDULE_END_S - time.time()
        if delay > 0:
            time.sleep(delay)
        print(f"schedule ended after {time.monotonic() - started:.1f}s; waiting for resolutions")
        drain_deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < drain_deadline:
            if not unresolved(capture.snapshot(), episodes, origin) and not [
                    a for a in (harness.alerts(base) or []) if a["state"] == "firing"]:
                break
            time.sleep(0.5)
        # A few more flushes, so that a repeated notification would arrive before the count.
        time.sleep(3 * GROUP_INTERVAL_S + 1)
        assert alertd.alive(), f"{alertd.name} exited on its own:\n{alertd.log()}"
        up_spans.append((ready_at, time.time()))

        # An episode is expected to be notified as firing when alertd was up during it for the
        # rule's `for` plus a scrape, an evaluation, group_wait and a margin.
        need = {case.name: case.for_s + MARGIN_S + GROUP_WAIT_S + MARGIN_S for case in CASES}
        for episode in episodes:
            episode.expected = overlap((episode.start, episode.end), up_spans) >= need[
                episode.case.name]

        received = capture.snapshot()
        problems, duplicate_resolved = analyse(received, episodes, origin, kill_times)
        expected = [e for e in episodes if e.expected]
        fired = [e for e in episodes if e.fired]
        resolved = [e for e in episodes if e.resolved]
        firing_requests = sum(1 for _, b in received if b.get("status") == "firing")
        print(f"kills survived: {len(kills)}")
        print(f"episodes: {len(episodes)} scheduled, {len(expected)} expected to be notified, "
              f"{len(fired)} notified firing, {len(resolved)} notified resolved")
        print(f"notifications expected: at least {2 * len(expected)} (firing and resolved per "
              f"expected episode); delivered: {len(received)} webhook requests, "
              f"{firing_requests} with status firing")
        identical = sum(1 for d in problems["duplicates"] if "(identical)" in d)
        print(f"duplicates: {len(problems['duplicates'])} firing ({identical} identical, "
              f"{len(problems['duplicates']) - identical} adding only resolutions delivered "
              f"before); {duplicate_resolved} resolutions sent again (allowed)")
        print(f"false resolutions: {len(problems['false_resolution'])}, "
              f"false firings: {len(problems['false_firing'])}")
        for episode in episodes:
            if not episode.expected:
                print(f"not expected: {episode.describe(origin)}, alertd up "
                      f"{overlap((episode.start, episode.end), up_spans):.1f}s of it")

        failures = []
        for kind, entries in problems.items():
            for entry in entries:
                failures.append(f"{kind}: {entry}")
        if failures or args.verbose:
            print_timeline(received, kill_times, origin)
        if failures:
            raise AssertionError("\n".join(failures))

        code = alertd.terminate()
        assert code == 0, f"alertd exited with {code} on SIGTERM:\n{alertd.log()}"
        print(f"PASS: soak with {len(kills)} kills in {time.monotonic() - started:.1f}s")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        for proc in processes[-3:]:
            print(f"---- {proc.name} log (last 60 lines) ----")
            print("\n".join(proc.log().splitlines()[-60:]))
        return 1
    finally:
        signal.alarm(0)
        for proc in processes:
            proc.close()
        for resource in reversed(resources):
            resource.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
