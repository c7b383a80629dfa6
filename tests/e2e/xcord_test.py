"""End to end: the design notes' rules on metrics pushed to a real Pushgateway.

Starts Debian's prometheus-pushgateway and prometheus-node-exporter on free 127.0.0.1 ports,
pushes http_requests_total (with 5xx statuses) and http_request_duration_seconds_bucket, runs
`alertd run` on a copy of examples/xcord/rules.yml whose `for` and range windows are shortened,
and checks through a capture server standing in for Slack that HighErrorRate goes pending,
keeps its activeAt across a SIGKILL restart, fires with the rendered annotations and is
resolved exactly once after the 5xx series stop growing.
"""

import argparse
import os
import re
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def shorten_rules(text):
    """Test copy of the rules: only `for` durations and range windows change."""
    text = text.replace("[5m]", "[20s]")
    text = re.sub(r"for: (5m|1m)", "for: 10s", text)
    return text


class Pusher:
    """Pushes the xcord API's request counters and latency histogram once a second."""

    def __init__(self, url):
        self.url = url + "/metrics/job/xcord-api/instance/api-1"
        self.errors_per_second = 10.0
        self.ok_per_second = 90.0
        self.errors = 0.0
        self.ok = 0.0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.failures = 0

    def body(self):
        lines = [
            "# TYPE http_requests_total counter",
            f'http_requests_total{{method="GET",path="/api/messages",status="200"}} {self.ok}',
            f'http_requests_total{{method="GET",path="/api/messages",status="503"}} {self.errors}',
            "# TYPE http_request_duration_seconds histogram",
        ]
        count = self.ok + self.errors
        for le, share in (("0.1", 0.9), ("0.5", 0.99), ("1", 1.0), ("+Inf", 1.0)):
            lines.append(f'http_request_duration_seconds_bucket{{le="{le}"}} {count * share}')
        lines.append(f"http_request_duration_seconds_sum {count * 0.05}")
        lines.append(f"http_request_duration_seconds_count {count}")
        return ("\n".join(lines) + "\n").encode()

    def run(self):
        while not self.stop_event.is_set():
            self.errors += self.errors_per_second
            self.ok += self.ok_per_second
            status, _ = harness.http_request(self.url, method="PUT", body=self.body())
            if status != 200:
                self.failures += 1
            self.stop_event.wait(1.0)

    def start(self):
        self.thread.start()

    def close(self):
        self.stop_event.set()
        self.thread.join(timeout=5)


def write_config(workdir, pushgateway_port, node_port, web_port, slack_port):
    config = f"""
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:{pushgateway_port}"]
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:{node_port}"]
storage:
  path: data/
web:
  listen_address: 127.0.0.1:{web_port}
route:
  receiver: slack
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: slack
    slack_configs:
      - api_url: http://127.0.0.1:{slack_port}/services/T000/B000/XXXX
        channel: "#xcord-alerts"
        username: alertd
        send_resolved: true
"""
    with open(os.path.join(workdir, "alertd.yml"), "w") as f:
        f.write(config)
    with open(os.path.join(SOURCE_DIR, "examples", "xcord", "rules.yml")) as f:
        rules = f.read()
    with open(os.path.join(workdir, "rules.yml"), "w") as f:
        f.write(shorten_rules(rules))


def slack_messages(capture, alertname, color):
    out = []
    for body in capture.bodies():
        attachments = body.get("attachments") or [{}]
        if attachments[0].get("color") == color and alertname in attachments[0].get("title", ""):
            out.append(body)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertd", required=True)
    args = parser.parse_args()

    for binary in ("prometheus-pushgateway", "prometheus-node-exporter"):
        if not shutil.which(binary):
            print(f"SKIP: {binary} is not installed (scripts/setup installs it)")
            return 0

    work = harness.Workdir("alertd-e2e-xcord-")
    resources = []
    alertd = None
    try:
        pg_port, node_port, web_port = (harness.free_port() for _ in range(3))
        pushgateway = harness.Process("pushgateway", [
            "prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{pg_port}"], work.path)
        resources.append(pushgateway)
        node = harness.Process("node-exporter", [
            "prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{node_port}",
            "--collector.disable-defaults", "--collector.loadavg", "--collector.meminfo"],
            work.path)
        resources.append(node)
        capture = harness.CaptureServer()
        resources.append(capture)
        pg_url = f"http://127.0.0.1:{pg_port}"
        harness.wait_for("pushgateway", lambda: harness.http_get(pg_url + "/-/ready")[0] == 200, 20)
        harness.wait_for("node exporter", lambda: harness.http_get(
            f"http://127.0.0.1:{node_port}/metrics")[0] == 200, 20)

        pusher = Pusher(pg_url)
        resources.append(pusher)
        pusher.start()

        write_config(work.path, pg_port, node_port, web_port, capture.port)
        argv = [args.alertd, "run", "--config.file=alertd.yml", "--log.level=debug"]
        base = f"http://127.0.0.1:{web_port}"

        def start_alertd():
            proc = harness.Process("alertd", argv, work.path)
            harness.wait_ready(proc, base, 30)
            return proc

        alertd = start_alertd()

        # 1. HighErrorRate goes pending: 10 of 100 requests a second fail, a 10% error rate.
        pending = harness.wait_for("HighErrorRate pending",
                                   lambda: harness.find_alert(base, "HighErrorRate", "pending"), 30)
        active_at = pending["activeAt"]
        print(f"pending since {active_at}, value {pending['value']}")

        # 2. A crash while pending keeps the for timer: activeAt survives the restart.
        alertd.kill()
        alertd.close()
        alertd = start_alertd()
        restored = harness.wait_for("HighErrorRate listed after restart",
                                    lambda: harness.find_alert(base, "HighErrorRate"), 15)
        assert restored["activeAt"] == active_at, (
            f"activeAt changed across restart: {active_at} -> {restored['activeAt']}")
        print(f"after restart: state {restored['state']}, activeAt {restored['activeAt']}")

        # 3. It fires and Slack receives the rendered summary and description.
        harness.wait_for("HighErrorRate firing",
                         lambda: harness.find_alert(base, "HighErrorRate", "firing"), 30)
        firing = harness.wait_for("Slack firing message",
                                  lambda: slack_messages(capture, "HighErrorRate", "danger"), 20)
        message = firing[0]
        text = message["attachments"][0]["text"]
        assert message["channel"] == "#xcord-alerts", message
        assert message["username"] == "alertd", message
        assert "High error rate detected" in text, text
        assert re.search(r"Error rate is \d+(\.\d+)?%", text), text
        print("slack firing text:", text.replace("\n", " | "))

        # 4. The 5xx series stop growing: the alert resolves and is announced once.
        pusher.errors_per_second = 0.0
        harness.wait_for("Slack resolved message",
                         lambda: slack_messages(capture, "HighErrorRate", "good"), 60)
        time.sleep(6)  # several group_interval periods: a second resolution would show up here
        resolved = slack_messages(capture, "HighErrorRate", "good")
        assert len(resolved) == 1, f"expected one resolved message, got {len(resolved)}"
        assert harness.find_alert(base, "HighErrorRate") is None, "alert still listed"

        # The node exporter is scraped as a second job and reported healthy.
        status, body = harness.http_get(base + "/api/v1/targets")
        assert status == 200 and '"health":"up"' in body.replace(" ", ""), body

        code = alertd.terminate()
        assert code == 0, f"alertd exited with {code} on SIGTERM:\n{alertd.log()}"
        print(f"slack requests: {len(capture.bodies())}, pusher failures: {pusher.failures}")
        print("PASS: xcord end to end")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        if alertd is not None:
            print("---- alertd log (last 80 lines) ----")
            print("\n".join(alertd.log().splitlines()[-80:]))
        return 1
    finally:
        if alertd is not None:
            alertd.close()
        for resource in reversed(resources):
            resource.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
