"""End to end: alertd against a Prometheus fleet.

Starts Debian's prometheus (its own temporary storage, --web.enable-remote-write-receiver)
scraping prometheus-node-exporter, a prometheus-pushgateway and a target where nothing
listens, and a prometheus-alertmanager. Then runs, with one rule file:
  - Prometheus itself evaluating the rules;
  - alertd replica "a" in remote mode: datasource = Prometheus, remote_write to Prometheus,
    alerts forwarded to the Alertmanager;
  - alertd replica "b" in remote mode, forwarding to the same Alertmanager;
  - alertd in local mode, scraping the same targets itself.
Checks that all four list the same firing alerts with the same labels in /api/v1/alerts,
that the recording rule written by remote write can be queried in Prometheus, and that the
Alertmanager, which deduplicates, lists each alert of the two replicas once in
`amtool alert query`.
"""

import argparse
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

BINARIES = {
    "prometheus": "/usr/bin/prometheus",
    "node_exporter": "/usr/bin/prometheus-node-exporter",
    "pushgateway": "/usr/bin/prometheus-pushgateway",
    "alertmanager": "/usr/bin/prometheus-alertmanager",
    "amtool": "/usr/bin/amtool",
}

RULES = """groups:
  - name: fleet
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: TargetDown
        expr: up == 0
        for: 1s
        labels:
          severity: page
      - alert: QueueDeep
        expr: queue_depth > 5
        labels:
          team: batch
      - alert: NodeExporterUp
        expr: up{job="node"} == 1 and on(instance) node_load1 >= 0
      - alert: NothingHere
        expr: absent(up{job="nothing"}) == 2
"""

# Alert names whose firing alerts the four evaluators must agree on.
EXPECTED = {"TargetDown", "QueueDeep", "NodeExporterUp"}


def scrape_configs(node, push, dead):
    return f"""scrape_configs:
  - job_name: node
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:{node}']
  - job_name: push
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:{push}']
  - job_name: missing
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:{dead}']
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def firing_set(alerts):
    """The firing alerts as a set of sorted label tuples."""
    out = set()
    for alert in alerts or []:
        if alert.get("state") == "firing":
            out.add(tuple(sorted(alert["labels"].items())))
    return out


def names(alert_set):
    return {dict(labels)["alertname"] for labels in alert_set}


def prometheus_query(base, query):
    status, body = harness.http_request(
        base + "/api/v1/query", method="POST",
        body=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        return None
    return json.loads(body)["data"]["result"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertd", required=True)
    args = parser.parse_args()
    for name, path in BINARIES.items():
        if not os.access(path, os.X_OK):
            print(f"SKIP: {path} ({name}) is not installed; scripts/setup installs it")
            return 0

    work = harness.Workdir("alertd-e2e-remote-")
    procs = []
    try:
        ports = {name: harness.free_port() for name in
                 ("node", "push", "dead", "prom", "am", "a", "b", "local")}
        procs.append(harness.Process("node_exporter", [
            BINARIES["node_exporter"], f"--web.listen-address=127.0.0.1:{ports['node']}",
            "--collector.disable-defaults", "--collector.loadavg"], work.path))
        procs.append(harness.Process("pushgateway", [
            BINARIES["pushgateway"], f"--web.listen-address=127.0.0.1:{ports['push']}",
            "--persistence.file="], work.path))
        push = f"http://127.0.0.1:{ports['push']}"
        harness.wait_for("pushgateway", lambda: harness.harness_status(push + "/-/ready") == 200,
                         30)
        status, _ = harness.http_request(
            push + "/metrics/job/batch", method="PUT",
            body=b"# TYPE queue_depth gauge\nqueue_depth{queue=\"a\"} 7\n"
                 b"queue_depth{queue=\"b\"} 2\n")
        assert status in (200, 202), f"pushgateway returned {status}"

        write(os.path.join(work.path, "rules.yml"), RULES)
        scrapes = scrape_configs(ports["node"], ports["push"], ports["dead"])
        write(os.path.join(work.path, "prometheus.yml"),
              "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n" + scrapes)
        os.makedirs(os.path.join(work.path, "tsdb"))
        prom = f"http://127.0.0.1:{ports['prom']}"
        prom_proc = harness.Process("prometheus", [
            BINARIES["prometheus"], "--config.file=prometheus.yml",
            "--storage.tsdb.path=tsdb", f"--web.listen-address=127.0.0.1:{ports['prom']}",
            "--web.enable-remote-write-receiver"], work.path)
        procs.append(prom_proc)

        write(os.path.join(work.path, "alertmanager.yml"),
              "route:\n  receiver: none\nreceivers:\n  - name: none\n")
        os.makedirs(os.path.join(work.path, "am"))
        am = f"127.0.0.1:{ports['am']}"
        procs.append(harness.Process("alertmanager", [
            BINARIES["alertmanager"], "--config.file=alertmanager.yml", "--cluster.listen-address=",
            "--storage.path=am", f"--web.listen-address={am}"], work.path))

        # Both replicas have the same external labels, as the Alertmanager deduplicates alerts
        # with equal label sets; the label also tells alertd's remote-written series apart
        # from those of Prometheus's own rule evaluation.
        remote_common = f"""rule_files: [rules.yml]
global:
  evaluation_interval: 1s
  external_labels:
    ruler: alertd
datasource:
  url: {prom}
  timeout: 5s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['{am}']
"""
        write(os.path.join(work.path, "a.yml"), remote_common + f"""web:
  listen_address: 127.0.0.1:{ports['a']}
storage:
  path: data-a
remote_write:
  - url: {prom}/api/v1/write
    name: prometheus
    headers:
      X-Replica: a
""")
        write(os.path.join(work.path, "b.yml"), remote_common + f"""web:
  listen_address: 127.0.0.1:{ports['b']}
storage:
  path: data-b
""")
        write(os.path.join(work.path, "local.yml"), f"""rule_files: [rules.yml]
global:
  evaluation_interval: 1s
  scrape_interval: 1s
  scrape_timeout: 1s
web:
  listen_address: 127.0.0.1:{ports['local']}
storage:
  path: data-local
""" + scrapes)

        harness.wait_for("prometheus ready",
                         lambda: harness.harness_status(prom + "/-/ready") == 200, 60)
        harness.wait_for("alertmanager ready",
                         lambda: harness.harness_status(f"http://{am}/-/ready") == 200, 60)
        alertds = {}
        for name in ("a", "b", "local"):
            proc = harness.Process(f"alertd-{name}",
                                   [args.alertd, "run", f"--config.file={name}.yml"], work.path)
            procs.append(proc)
            alertds[name] = (proc, f"http://127.0.0.1:{ports[name]}")
        for proc, base in alertds.values():
            harness.wait_ready(proc, base, 30)

        # The same firing alerts with the same labels everywhere.
        def agreeing():
            sets = {"prometheus": firing_set(harness.alerts(prom))}
            for name, (_, base) in alertds.items():
                sets[name] = firing_set(harness.alerts(base))
            if names(sets["prometheus"]) != EXPECTED:
                return None
            if any(s != sets["prometheus"] for s in sets.values()):
                return None
            return sets

        try:
            sets = harness.wait_for("the same firing alerts everywhere", agreeing, 60)
        except AssertionError:
            print("prometheus:", sorted(firing_set(harness.alerts(prom))))
            for name, (_, base) in alertds.items():
                print(f"alertd {name}:", sorted(firing_set(harness.alerts(base))))
            raise
        print(f"firing alerts agree: {len(sets['prometheus'])} alerts, "
              f"names {sorted(EXPECTED)}")

        # The recording rule, written by replica a's remote write with its external label, is
        # queryable in Prometheus.
        def remote_written():
            result = prometheus_query(prom, 'job:up:sum{ruler="alertd"}')
            if not result:
                return None
            return {r["metric"]["job"]: float(r["value"][1]) for r in result}

        written = harness.wait_for("job:up:sum written by remote write", remote_written, 30)
        assert written == {"node": 1.0, "push": 1.0, "missing": 0.0}, written
        alerts_written = prometheus_query(prom, 'ALERTS{ruler="alertd",alertstate="firing"}')
        assert {r["metric"]["alertname"] for r in alerts_written} == EXPECTED, alerts_written
        print(f"remote write: job:up:sum for {sorted(written)} and ALERTS queryable in Prometheus")

        # The Alertmanager lists each alert of the two replicas once.
        def am_alerts():
            out = subprocess.run(
                [BINARIES["amtool"], "alert", "query", f"--alertmanager.url=http://{am}",
                 "-o", "json"], capture_output=True, text=True, timeout=30)
            if out.returncode != 0:
                return None
            alerts = json.loads(out.stdout)
            if {a["labels"]["alertname"] for a in alerts} != EXPECTED:
                return None
            return alerts

        am_list = harness.wait_for("alerts in the Alertmanager", am_alerts, 30)
        keys = [tuple(sorted(a["labels"].items())) for a in am_list]
        assert len(keys) == len(set(keys)), keys
        expected_am = {tuple(sorted(dict(labels, ruler="alertd").items()))
                       for labels in sets["prometheus"]}
        assert set(keys) == expected_am, (sorted(keys), sorted(expected_am))
        for name in ("a", "b"):
            text = harness.http_get(alertds[name][1] + "/metrics")[1]
            sent = [line for line in text.splitlines()
                    if line.startswith("alertd_alertmanager_alerts_sent_total ")]
            assert sent and float(sent[0].split()[1]) > 0, (name, sent)
        print(f"alertmanager lists {len(keys)} alerts once, sent by both replicas")

        # A rule whose query fails is unhealthy with the message and keeps its alerts.
        prom_proc.terminate()

        def unhealthy():
            status, body = harness.http_get(alertds["b"][1] + "/api/v1/rules")
            if status != 200:
                return None
            rules = json.loads(body)["data"]["groups"][0]["rules"]
            if all(r["health"] == "err" for r in rules):
                return rules
            return None

        rules = harness.wait_for("rules unhealthy with Prometheus stopped", unhealthy, 30)
        assert rules[1]["lastError"].startswith("query API request failed"), rules[1]
        assert names(firing_set(harness.alerts(alertds["b"][1]))) == EXPECTED
        print(f"prometheus stopped: rules unhealthy ({rules[1]['lastError']}), alerts kept")

        for name in ("a", "b", "local"):
            proc, _ = alertds[name]
            code = proc.terminate()
            assert code == 0, f"alertd-{name} exit code {code}"
        print("PASS: remote")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        for proc in procs:
            if proc.name.startswith("alertd"):
                print(f"--- {proc.name}")
                print("\n".join(proc.log().splitlines()[-30:]))
        return 1
    finally:
        for proc in reversed(procs):
            proc.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
