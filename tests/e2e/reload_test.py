"""End to end: configuration reload on SIGHUP and POST /-/reload, and shutdown on SIGTERM.

Runs alertd with rules on vector(1), which fire at their first evaluation, and a webhook
capture server as the only receiver (group_wait and group_interval 1s, repeat_interval 1h).
Checks:
- a rule added to the rule file is listed after SIGHUP, alertd_config_last_reload_successful
  is 1 and the success timestamp advances. The firing alert of an unchanged rule keeps its
  state and activeAt, and is not notified again;
- a rule file with a PromQL syntax error, loaded by SIGHUP and by POST /-/reload, leaves the
  running rules listed and evaluated and is logged with FILE:LINE:COL. POST /-/reload returns
  500 with the error in the body, alertd_config_last_reload_successful is 0, and the fixed
  file sets it back to 1;
- the firing alert of a rule removed by a reload is notified as resolved exactly once;
- SIGTERM stops alertd with exit code 0 within notifications.shutdown_timeout plus a margin,
  the log ends with "Stopped", the SQLite WAL file is gone, and a restart keeps the firing
  alert firing with its activeAt and without notifying it again;
- SIGTERM while a webhook request hangs also exits 0 within that bound, and the next start
  sends the notification that was cut off.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

SHUTDOWN_TIMEOUT_S = 5
# What SIGTERM may take beyond notifications.shutdown_timeout: alertd waits up to 1s more for
# its senders to let go of the state store, plus process exit on a loaded machine.
SHUTDOWN_MARGIN_S = 3
GROUP_INTERVAL_S = 1
# Below the ctest TIMEOUT of 180s, so that alertd is stopped before ctest kills the test.
BUDGET_S = 160

RELOAD_FAILED = 'msg="Reloading the configuration failed, keeping the running one"'
RELOAD_COMPLETED = 'msg="Completed loading of configuration file"'

RULES_HEAD = """groups:
  - name: reload
    interval: 1s
    rules:
      - alert: ReloadKept
        expr: vector(1)
        labels:
          severity: warning
"""
RULE_REMOVED = """      - alert: ReloadRemoved
        expr: vector(1)
"""
RULE_ADDED = """      - alert: ReloadAdded
        expr: vector(1) * 2
"""
RULE_BROKEN = """      - alert: ReloadBroken
        expr: sum(vector(1) by (job)
"""

RULES_START = RULES_HEAD + RULE_REMOVED
RULES_ADDED = RULES_HEAD + RULE_REMOVED + RULE_ADDED
RULES_BROKEN = RULES_ADDED + RULE_BROKEN
RULES_REMOVED = RULES_HEAD + RULE_ADDED


def broken_position():
    """Line and column (1-based) of `by` in RULES_BROKEN, where the PromQL parser fails: a
    `by` clause may not follow the argument list inside it."""
    lines = RULES_BROKEN.splitlines()
    for number, line in enumerate(lines, 1):
        if "sum(vector(1) by (job)" in line:
            return number, line.index(" by ") + 2
    raise AssertionError("RULES_BROKEN has no broken expression")


def alertd_config(web_port, capture_port):
    return f"""
global:
  evaluation_interval: 1s
rule_files:
  - rules.yml
storage:
  path: data/
web:
  listen_address: 127.0.0.1:{web_port}
notifications:
  shutdown_timeout: {SHUTDOWN_TIMEOUT_S}s
route:
  receiver: capture
  group_by: [alertname]
  group_wait: 1s
  group_interval: {GROUP_INTERVAL_S}s
  repeat_interval: 1h
receivers:
  - name: capture
    webhook_configs:
      - url: http://127.0.0.1:{capture_port}/reload
        send_resolved: true
"""


class HangingCapture:
    """Records every webhook POST as its parsed JSON body and returns 200. While `hang_on` is
    set, a request whose body contains that text is recorded first and then held without a
    response until release() or close()."""

    def __init__(self):
        self.bodies = []
        self.hang_on = None
        self._release = threading.Event()
        self._lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with capture._lock:
                    capture.bodies.append(json.loads(raw))
                    hang = capture.hang_on is not None and capture.hang_on in raw.decode()
                if hang:
                    capture._release.wait(timeout=60)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up on a held request, as alertd does on SIGTERM

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def notifications(self, alertname, status):
        """Alerts named alertname with the given status, one entry per notification."""
        with self._lock:
            bodies = list(self.bodies)
        out = []
        for body in bodies:
            for alert in body.get("alerts", []):
                if alert["labels"].get("alertname") == alertname and alert["status"] == status:
                    out.append(alert)
        return out

    def release(self):
        self.hang_on = None
        self._release.set()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


def metric(base, name):
    status, body = harness.http_get(base + "/metrics")
    assert status == 200, f"GET /metrics returned {status}: {body}"
    match = re.search(rf"^{re.escape(name)} (\S+)$", body, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def rules_status(base):
    status, body = harness.http_get(base + "/api/v1/rules")
    assert status == 200, f"GET /api/v1/rules returned {status}: {body}"
    return json.loads(body)["data"]["groups"]


def rule_names(base):
    return sorted(rule["name"] for group in rules_status(base) for rule in group["rules"])


def last_evaluation(base):
    groups = rules_status(base)
    assert len(groups) == 1, groups
    return datetime.fromisoformat(groups[0]["lastEvaluation"]).timestamp()


def check_still_evaluated(base):
    """Fails unless the rule group is evaluated again within a few intervals."""
    before = last_evaluation(base)
    harness.wait_for("a rule group evaluation", lambda: last_evaluation(base) > before, 10)


def check_kept(base, active_at, when):
    alert = harness.find_alert(base, "ReloadKept")
    assert alert is not None, f"ReloadKept not listed {when}"
    assert alert["state"] == "firing", f"ReloadKept is {alert['state']} {when}"
    assert alert["activeAt"] == active_at, (
        f"ReloadKept activeAt changed {when}: {active_at} -> {alert['activeAt']}")


def write_rules(workdir, text):
    # Written next to the file and renamed, so a reload never reads a half-written file.
    path = os.path.join(workdir, "rules.yml")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def post_reload(base):
    return harness.http_request(base + "/-/reload", method="POST", timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertd", required=True)
    args = parser.parse_args()
    argv = [os.path.abspath(args.alertd), "run", "--config.file=alertd.yml"]

    def out_of_budget(signum, frame):
        raise AssertionError(f"the test did not finish within its budget of {BUDGET_S}s")

    signal.signal(signal.SIGALRM, out_of_budget)
    signal.alarm(BUDGET_S)
    started = time.monotonic()
    work = harness.Workdir("alertd-e2e-reload-")
    capture = None
    processes = []
    try:
        capture = HangingCapture()
        web_port = harness.free_port()
        base = f"http://127.0.0.1:{web_port}"
        with open(os.path.join(work.path, "alertd.yml"), "w") as f:
            f.write(alertd_config(web_port, capture.port))
        write_rules(work.path, RULES_START)

        def start_alertd():
            proc = harness.Process(f"alertd-{len(processes)}", argv, work.path)
            processes.append(proc)
            harness.wait_ready(proc, base, 30)
            return proc

        alertd = start_alertd()
        for name in ("ReloadKept", "ReloadRemoved"):
            harness.wait_for(f"{name} firing", lambda n=name: harness.find_alert(base, n, "firing"),
                             20)
            harness.wait_for(f"{name} notified", lambda n=name: capture.notifications(n, "firing"),
                             20)
        active_at = harness.find_alert(base, "ReloadKept")["activeAt"]
        assert metric(base, "alertd_config_last_reload_successful") == 1
        loaded_at = metric(base, "alertd_config_last_reload_success_timestamp_seconds")
        print(f"ReloadKept firing since {active_at}; initial load at {loaded_at}")

        # 1. SIGHUP with a rule added.
        write_rules(work.path, RULES_ADDED)
        alertd.proc.send_signal(signal.SIGHUP)
        harness.wait_for("ReloadAdded listed", lambda: "ReloadAdded" in rule_names(base), 15)
        harness.wait_for("the reload success timestamp to advance", lambda: metric(
            base, "alertd_config_last_reload_success_timestamp_seconds") > loaded_at, 10)
        assert metric(base, "alertd_config_last_reload_successful") == 1
        assert alertd.log().count(RELOAD_COMPLETED) == 1, alertd.log()
        assert rule_names(base) == ["ReloadAdded", "ReloadKept", "ReloadRemoved"], rule_names(base)
        check_kept(base, active_at, "after SIGHUP")
        harness.wait_for("ReloadAdded notified", lambda: capture.notifications(
            "ReloadAdded", "firing"), 20)
        time.sleep(3 * GROUP_INTERVAL_S + 1)  # flushes of the new dispatcher would show here
        kept_firing = capture.notifications("ReloadKept", "firing")
        assert len(kept_firing) == 1, f"ReloadKept notified {len(kept_firing)} times"
        check_kept(base, active_at, "after SIGHUP")
        print("SIGHUP with an added rule: listed, reload successful, ReloadKept unchanged")

        # 2. A PromQL syntax error, loaded by SIGHUP: the running rules stay.
        line, column = broken_position()
        position = f"rules.yml:{line}:{column}"
        expected_error = f'{position}: rule "ReloadBroken": invalid expression'
        # logfmt escapes the quotes inside the err value.
        logged_error = expected_error.replace('"', '\\"')
        reloaded_at = metric(base, "alertd_config_last_reload_success_timestamp_seconds")
        write_rules(work.path, RULES_BROKEN)
        alertd.proc.send_signal(signal.SIGHUP)
        harness.wait_for("the failed reload logged",
                         lambda: alertd.log().count(RELOAD_FAILED) == 1, 10)
        log = alertd.log()
        error_lines = [x for x in log.splitlines() if logged_error in x]
        assert error_lines, f"no log line with {logged_error!r}:\n{log}"
        assert 'msg="Invalid configuration"' in error_lines[0], error_lines[0]
        assert metric(base, "alertd_config_last_reload_successful") == 0
        assert metric(base, "alertd_config_last_reload_success_timestamp_seconds") == reloaded_at
        assert rule_names(base) == ["ReloadAdded", "ReloadKept", "ReloadRemoved"], rule_names(base)
        check_still_evaluated(base)
        check_kept(base, active_at, "after a failed SIGHUP reload")
        print(f"SIGHUP with a broken rule: logged {error_lines[0].split('err=', 1)[-1]}")

        write_rules(work.path, RULES_ADDED)
        alertd.proc.send_signal(signal.SIGHUP)
        harness.wait_for("alertd_config_last_reload_successful back to 1", lambda: metric(
            base, "alertd_config_last_reload_successful") == 1, 10)
        assert metric(base, "alertd_config_last_reload_success_timestamp_seconds") > reloaded_at

        # 3. The same error through POST /-/reload: 500 with the error in the body.
        reloaded_at = metric(base, "alertd_config_last_reload_success_timestamp_seconds")
        write_rules(work.path, RULES_BROKEN)
        status, body = post_reload(base)
        assert status == 500, f"POST /-/reload returned {status}: {body}"
        assert body.startswith("failed to reload config: "), body
        assert expected_error in body, body
        assert metric(base, "alertd_config_last_reload_successful") == 0
        assert metric(base, "alertd_config_last_reload_success_timestamp_seconds") == reloaded_at
        assert alertd.log().count(RELOAD_FAILED) == 2, alertd.log()
        assert rule_names(base) == ["ReloadAdded", "ReloadKept", "ReloadRemoved"], rule_names(base)
        check_still_evaluated(base)
        print(f"POST /-/reload with a broken rule: {status} {body.strip()!r}")

        write_rules(work.path, RULES_ADDED)
        status, body = post_reload(base)
        assert status == 200, f"POST /-/reload returned {status}: {body}"
        assert metric(base, "alertd_config_last_reload_successful") == 1
        assert metric(base, "alertd_config_last_reload_success_timestamp_seconds") > reloaded_at
        check_kept(base, active_at, "after the fixed rule file was loaded")

        # 4. A removed rule: its firing alert is resolved once.
        write_rules(work.path, RULES_REMOVED)
        status, body = post_reload(base)
        assert status == 200, f"POST /-/reload returned {status}: {body}"
        assert rule_names(base) == ["ReloadAdded", "ReloadKept"], rule_names(base)
        assert harness.find_alert(base, "ReloadRemoved") is None, harness.alerts(base)
        harness.wait_for("ReloadRemoved notified resolved", lambda: capture.notifications(
            "ReloadRemoved", "resolved"), 15)
        time.sleep(3 * GROUP_INTERVAL_S + 1)  # a second resolution would arrive here
        resolved = capture.notifications("ReloadRemoved", "resolved")
        assert len(resolved) == 1, f"ReloadRemoved notified resolved {len(resolved)} times"
        assert len(capture.notifications("ReloadRemoved", "firing")) == 1
        assert 'msg="Resolved the alert of a removed rule" alert=ReloadRemoved' in alertd.log()
        print(f"removed rule: resolved once, endsAt {resolved[0]['endsAt']}")

        # Across five reloads ReloadKept was notified once and never resolved.
        check_kept(base, active_at, "after five reloads")
        assert len(capture.notifications("ReloadKept", "firing")) == 1
        assert not capture.notifications("ReloadKept", "resolved")

        # 5. SIGTERM with nothing to send: exit 0, "Stopped", no WAL file left.
        stop_started = time.monotonic()
        code = alertd.terminate(timeout=SHUTDOWN_TIMEOUT_S + SHUTDOWN_MARGIN_S)
        stop_seconds = time.monotonic() - stop_started
        assert code == 0, f"alertd exited with {code} on SIGTERM"
        last_line = alertd.log().rstrip().splitlines()[-1]
        assert last_line.endswith("msg=Stopped"), f"last log line: {last_line}"
        leftovers = sorted(os.listdir(os.path.join(work.path, "data")))
        assert "alertd.db-wal" not in leftovers, f"storage directory after SIGTERM: {leftovers}"
        print(f"SIGTERM: exit 0 after {stop_seconds:.2f}s, storage directory {leftovers}")

        # A restart on the same storage keeps ReloadKept firing and does not notify it again.
        alertd = start_alertd()
        check_kept(base, active_at, "after a restart")
        time.sleep(3 * GROUP_INTERVAL_S + 2)
        check_kept(base, active_at, "after a restart")
        assert len(capture.notifications("ReloadKept", "firing")) == 1, (
            "ReloadKept notified again after the restart")
        assert len(capture.notifications("ReloadRemoved", "resolved")) == 1, (
            "ReloadRemoved resolved again after the restart")
        assert harness.find_alert(base, "ReloadRemoved") is None, harness.alerts(base)

        # 6. SIGTERM while a webhook request hangs: still exit 0 within the bound.
        capture.hang_on = "ShutdownProbe"
        probe = json.dumps([{"labels": {"alertname": "ShutdownProbe"},
                             "startsAt": datetime.now(timezone.utc).isoformat()}]).encode()
        status, body = harness.http_request(base + "/api/v2/alerts", method="POST", body=probe,
                                            headers={"Content-Type": "application/json"})
        assert status == 200, f"POST /api/v2/alerts returned {status}: {body}"
        harness.wait_for("the ShutdownProbe request", lambda: capture.notifications(
            "ShutdownProbe", "firing"), 15)
        stop_started = time.monotonic()
        code = alertd.terminate(timeout=SHUTDOWN_TIMEOUT_S + SHUTDOWN_MARGIN_S)
        stop_seconds = time.monotonic() - stop_started
        assert code == 0, f"alertd exited with {code} on SIGTERM during a hanging send"
        assert stop_seconds >= SHUTDOWN_TIMEOUT_S - 0.5, (
            f"alertd stopped after {stop_seconds:.2f}s without waiting for the send in flight")
        last_line = alertd.log().rstrip().splitlines()[-1]
        assert "msg=Stopped" in last_line, f"last log line: {last_line}"
        print(f"SIGTERM during a hanging send: exit 0 after {stop_seconds:.2f}s, "
              f"last log line {last_line.split('msg=', 1)[-1]!r}")
        capture.release()

        # The notification cut off by the shutdown is sent after the next start.
        alertd = start_alertd()
        harness.wait_for("ShutdownProbe sent again", lambda: len(capture.notifications(
            "ShutdownProbe", "firing")) >= 2, 15)
        check_kept(base, active_at, "after the second restart")
        assert len(capture.notifications("ReloadKept", "firing")) == 1
        code = alertd.terminate(timeout=SHUTDOWN_TIMEOUT_S + SHUTDOWN_MARGIN_S)
        assert code == 0, f"alertd exited with {code} on SIGTERM"

        print(f"PASS: reload in {time.monotonic() - started:.1f}s")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        for proc in processes[-2:]:
            print(f"---- {proc.name} log (last 60 lines) ----")
            print("\n".join(proc.log().splitlines()[-60:]))
        return 1
    finally:
        signal.alarm(0)
        for proc in processes:
            proc.close()
        if capture is not None:
            capture.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
