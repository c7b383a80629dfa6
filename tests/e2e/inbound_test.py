"""End to end: alertd receives webhook notifications from other systems and routes them.

Starts these peers on free 127.0.0.1 ports: Debian's prometheus-alertmanager, fed by Debian's
prometheus with one rule over a /metrics endpoint whose value the test sets; alertd with
three `webhook_receivers` endpoints; an aiosmtpd SMTP sink; and capture servers standing in
for Slack and for a second Alertmanager webhook. alertd routes every alert to one receiver with a
Slack and an email integration, both with send_resolved. Checks:
- Alertmanager's webhook_configs receiver, with http_config.authorization, delivers the
  firing alert to POST /api/v1/webhook/am and alertd sends it to Slack and by email; after
  the metric drops, the resolution arrives as "[RESOLVED]" in both; /api/v2/alerts lists the
  alert with "receivedFrom": "am" and the endpoint's labels;
- the exact bodies Alertmanager sent, replayed as a retried delivery would be (copied from
  the second webhook on the capture server), are accepted and cause no further notification;
- a Grafana payload, written from Grafana's documented webhook format, is routed with its
  extra fields as annotations, and a later payload that resolves one of its alerts resolves
  only that one;
- a JSON event signed with HMAC-SHA256 (X-Hub-Signature-256: sha256=<hex>) is routed, and a
  second event resolves it through the endpoint's `resolved` template;
- a bad signature, a missing token, an oversized body, a wrong content type, malformed JSON
  and an event without alertname are rejected with 401, 401, 413, 415, 400 and 400, counted
  in alertd_webhook_rejected_total by endpoint and reason, and leave /api/v2/alerts as it was.
"""

import argparse
import base64
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import inbound_peers  # noqa: E402
import router_peers  # noqa: E402

GROUP_WAIT_S = 1
GROUP_INTERVAL_S = 2
AM_TOKEN = "am-e2e-token"
GRAFANA_USER = "grafana"
GRAFANA_PASSWORD = "grafana-e2e-password"
CHECKS_SECRET = "checks-e2e-secret"
AM_MAX_BODY = 64 * 1024
TRIGGER = "inbound_trigger"
SLACK_PATH = "/services/T000/B000/XXXX"
GROUP_BY = ["alertname"]
# Below the ctest TIMEOUT of 100s, so that the peers are stopped before ctest kills the test.
BUDGET_S = 85

RULES = f"""
groups:
  - name: inbound-e2e
    interval: 1s
    rules:
      - alert: InboundE2E
        expr: max({TRIGGER}) > 0
        labels:
          severity: critical
        annotations:
          summary: Inbound end-to-end alert
"""

AM_LABELS = {"alertname": "InboundE2E", "severity": "critical", "source": "am"}
CHECK_LABELS = {"alertname": "DiskFull", "host": "db1", "severity": "critical",
                "source": "checks"}


def alertd_config(web_port, smtp_port, slack):
    return f"""
global:
  smtp_smarthost: 127.0.0.1:{smtp_port}
  smtp_from: alertd@example.org
  smtp_require_tls: false
storage:
  path: data/
web:
  listen_address: 127.0.0.1:{web_port}
route:
  receiver: team
  group_by: {json.dumps(GROUP_BY)}
  group_wait: {GROUP_WAIT_S}s
  group_interval: {GROUP_INTERVAL_S}s
  repeat_interval: 1h
receivers:
  - name: team
    slack_configs:
      - api_url: {slack.url}{SLACK_PATH}
        channel: "#inbound"
        send_resolved: true
    email_configs:
      - to: oncall@example.org
        send_resolved: true
webhook_receivers:
  - name: am
    type: alertmanager
    authorization:
      credentials: {AM_TOKEN}
    max_body_size: {AM_MAX_BODY // 1024}KiB
    labels: {{source: am}}
  - name: grafana
    type: grafana
    basic_auth:
      username: {GRAFANA_USER}
      password_file: grafana_password
    labels: {{source: grafana}}
  - name: checks
    type: json
    hmac:
      secret: {CHECKS_SECRET}
    labels: {{source: checks}}
    json:
      labels:
        alertname: '{{{{ .check.name }}}}'
        host: '{{{{ .check.host }}}}'
        severity: critical
      annotations:
        summary: '{{{{ .message }}}}'
      resolved: '{{{{ eq .status "up" }}}}'
"""


def alertmanager_config(alertd_base, capture):
    """Alertmanager's receiver sends each notification to alertd and the same body to the
    capture server, both with the bearer token."""
    return f"""
route:
  receiver: alertd
  group_by: {json.dumps(GROUP_BY)}
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: alertd
    webhook_configs:
      - url: {alertd_base}/api/v1/webhook/am
        http_config:
          authorization:
            type: Bearer
            credentials: {AM_TOKEN}
      - url: {capture.url}/copy
        http_config:
          authorization:
            credentials: {AM_TOKEN}
"""


def grafana_time(t):
    """Grafana writes times in RFC 3339 with microseconds and the server's UTC offset."""
    return t.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="microseconds")


def grafana_alert(status, labels, annotations, starts_at, ends_at, values):
    matchers = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": grafana_time(starts_at),
        "endsAt": "0001-01-01T00:00:00Z" if ends_at is None else grafana_time(ends_at),
        "generatorURL": "http://127.0.0.1:3000/alerting/grafana/1afz29v7z/view",
        "fingerprint": "c6eadffa33fcdf37" if "memory" in labels["alertname"] else
                       "bc97ff14869b13e3",
        "silenceURL": "http://127.0.0.1:3000/alerting/silence/new?alertmanager=grafana&matchers="
                      + urllib.parse.quote(matchers),
        "dashboardURL": "http://127.0.0.1:3000/d/host-overview",
        "panelURL": "http://127.0.0.1:3000/d/host-overview?viewPanel=2",
        "values": values,
    }


GRAFANA_MEMORY = {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
GRAFANA_CPU = {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"}
GRAFANA_MEMORY_VALUES = {"B": 44.23943737541908, "C": 1}


def grafana_payload(memory_resolved_at, started):
    """A Grafana 9/10 webhook notification of one group with two alerts, in the shape of
    Grafana's documented example. With `memory_resolved_at` the memory alert is resolved."""
    memory_status = "firing" if memory_resolved_at is None else "resolved"
    alerts = [
        grafana_alert(memory_status, GRAFANA_MEMORY, {
            "description": "The system has high memory usage",
            "runbook_url": "http://127.0.0.1:3000/runbook/1234",
            "summary": "This alert was triggered for zone us-1",
        }, started, memory_resolved_at, GRAFANA_MEMORY_VALUES),
        grafana_alert("firing", GRAFANA_CPU, {
            "description": "The system has high CPU usage",
            "summary": "This alert was triggered for zone eu-1",
        }, started, None, {"B": 91.5, "C": 1}),
    ]
    firing = [a for a in alerts if a["status"] == "firing"]
    resolved = [a for a in alerts if a["status"] == "resolved"]
    title = f"[FIRING:{len(firing)}, RESOLVED:{len(resolved)}]" if resolved else (
        f"[FIRING:{len(firing)}]")
    return {
        "receiver": "alertd",
        "status": "firing",
        "orgId": 1,
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {"team": "blue"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:3000/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": f"{title}  (blue)",
        "state": "alerting",
        "message": "**Firing**\n\nValue: B=44.23943737541908, C=1\nLabels:\n"
                   " - alertname = High memory usage\n - team = blue\n - zone = us-1\n",
    }


def check_event(status, message):
    return json.dumps({
        "check": {"name": CHECK_LABELS["alertname"], "host": CHECK_LABELS["host"]},
        "status": status,
        "message": message,
    }).encode()


def with_source(labels, source):
    out = dict(labels)
    out["source"] = source
    return out


def subject(status, labels):
    return inbound_peers.default_subject(status, [labels], GROUP_BY)


def slack_titles(slack):
    titles = []
    for request in slack.recorded(SLACK_PATH):
        for attachment in request.json().get("attachments", []):
            titles.append(attachment.get("title", ""))
    return titles


def email_subjects(smtp_out):
    out = []
    for record in router_peers.smtp_messages(smtp_out):
        message = email.message_from_string(record["data"], policy=email.policy.default)
        out.append(str(message["Subject"]))
    return out


def wait_notified(slack, smtp_out, expected_subject, timeout):
    """Waits until Slack and email each carry `expected_subject` once."""
    harness.wait_for(f"Slack message {expected_subject!r}",
                     lambda: expected_subject in slack_titles(slack), timeout)
    harness.wait_for(f"email {expected_subject!r}",
                     lambda: expected_subject in email_subjects(smtp_out), timeout)


def api_alerts(base, filter_text=None):
    url = f"{base}/api/v2/alerts"
    if filter_text:
        url += "?" + urllib.parse.urlencode({"filter": filter_text})
    status, body = harness.http_get(url)
    assert status == 200, f"GET {url} returned {status}: {body}"
    return json.loads(body)


def only_alert(base, alertname):
    listed = api_alerts(base, f'alertname="{alertname}"')
    assert len(listed) == 1, f"expected one {alertname} alert in /api/v2/alerts: {listed}"
    return listed[0]


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def same_millisecond(a, b):
    return abs((parse_time(a) - parse_time(b)).total_seconds()) < 0.001


def metrics(base):
    status, body = harness.http_get(base + "/metrics")
    assert status == 200, f"GET /metrics returned {status}"
    return (inbound_peers.metric_samples(body, "alertd_webhook_rejected_total"),
            inbound_peers.metric_samples(body, "alertd_webhook_requests_total"))


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def basic(user, password):
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", "Content-Type": "application/json"}


def accepted(status, body, request_name):
    assert status == 202, f"{request_name}: expected 202, got {status}: {body}"
    answer = json.loads(body)
    assert answer.get("status") == "success", f"{request_name}: {answer}"
    return answer


def check_grafana_annotations(alert, payload):
    sent = next(a for a in payload["alerts"] if a["labels"] == GRAFANA_MEMORY)
    annotations = alert["annotations"]
    expected = dict(sent["annotations"])
    expected.update({
        "grafana_org_id": str(payload["orgId"]),
        "grafana_state": payload["state"],
        "grafana_title": payload["title"],
        "grafana_message": payload["message"],
        "silence_url": sent["silenceURL"],
        "dashboard_url": sent["dashboardURL"],
        "panel_url": sent["panelURL"],
    })
    for name, value in expected.items():
        assert annotations.get(name) == value, (
            f"annotation {name} is {annotations.get(name)!r}, expected {value!r}")
    values = annotations.get("grafana_values")
    assert values is not None, f"annotation grafana_values is missing: {annotations}"
    assert json.loads(values) == sent["values"], f"grafana_values is {values!r}"
    extra = set(annotations) - set(expected) - {"grafana_values"}
    assert not extra, f"unexpected annotations {sorted(extra)}"
    assert same_millisecond(alert["startsAt"], sent["startsAt"]), (
        f"startsAt {alert['startsAt']} is not the payload's {sent['startsAt']}")


def alertmanager_payload(alertname, annotations):
    """An Alertmanager webhook body (version 4) with one firing alert."""
    return {
        "receiver": "alertd", "status": "firing", "version": "4",
        "groupKey": '{}:{alertname="%s"}' % alertname, "truncatedAlerts": 0,
        "groupLabels": {"alertname": alertname}, "commonLabels": {"alertname": alertname},
        "commonAnnotations": annotations, "externalURL": "http://127.0.0.1:9093",
        "alerts": [{
            "status": "firing", "labels": {"alertname": alertname},
            "annotations": annotations, "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "0",
        }],
    }


def rejection_cases():
    """Each request would be accepted but for the one thing it gets wrong, so a wrong
    acceptance would add an alert to /api/v2/alerts."""
    unsigned_name = json.dumps({"check": {"name": "SignatureRejected", "host": "x"},
                                "status": "down", "message": "never stored"}).encode()
    valid = json.dumps(alertmanager_payload("TokenRejected", {})).encode()
    oversized = json.dumps(alertmanager_payload("OversizedRejected",
                                       {"padding": "x" * (AM_MAX_BODY + 1024)})).encode()
    plain = json.dumps(alertmanager_payload("MediaTypeRejected", {})).encode()
    malformed = json.dumps(alertmanager_payload("MalformedRejected", {})).encode()[:-7]
    no_alertname = json.dumps({"check": {"host": "db2"}, "status": "down",
                               "message": "no alertname"}).encode()
    wrong_signature = inbound_peers.hub_signature("not-the-secret", unsigned_name)
    text_headers = {"Authorization": f"Bearer {AM_TOKEN}",
                    "Content-Type": "text/plain; charset=utf-8"}
    return [
        # (case, endpoint, body, headers, status, reason)
        ("bad signature", "checks", unsigned_name,
         {"Content-Type": "application/json", "X-Hub-Signature-256": wrong_signature},
         401, "unauthorized"),
        ("missing token", "am", valid, {"Content-Type": "application/json"}, 401,
         "unauthorized"),
        ("oversized body", "am", oversized, bearer(AM_TOKEN), 413, "too_large"),
        ("wrong content type", "am", plain, text_headers, 415, "unsupported_media_type"),
        ("malformed JSON", "am", malformed, bearer(AM_TOKEN), 400, "invalid_json"),
        ("no alertname", "checks", no_alertname,
         {"Content-Type": "application/json",
          "X-Hub-Signature-256": inbound_peers.hub_signature(CHECKS_SECRET, no_alertname)},
         400, "invalid_payload"),
    ]


REJECTED_NAMES = ("SignatureRejected", "TokenRejected", "OversizedRejected",
                  "MediaTypeRejected", "MalformedRejected")


def check_rejections(base):
    before_alerts = sorted(api_alerts(base), key=lambda a: a["fingerprint"])
    before_rejected, before_requests = metrics(base)
    cases = rejection_cases()

    for case, endpoint, body, headers, expected, _ in cases:
        status, text = inbound_peers.post(base, f"/api/v1/webhook/{endpoint}", body, headers)
        assert status == expected, f"{case}: expected {expected}, got {status}: {text}"
        print(f"rejection: {case} -> {status} {text.strip()[:100]}")

    after_alerts = sorted(api_alerts(base), key=lambda a: a["fingerprint"])
    assert after_alerts == before_alerts, (
        f"/api/v2/alerts changed after the rejected requests:\nbefore {before_alerts}\n"
        f"after {after_alerts}")

    after_rejected, after_requests = metrics(base)
    expected_rejected = {}
    expected_requests = {}
    for _, endpoint, _, _, code, reason in cases:
        expected_rejected[(endpoint, reason)] = expected_rejected.get((endpoint, reason), 0) + 1
        expected_requests[(endpoint, str(code))] = (
            expected_requests.get((endpoint, str(code)), 0) + 1)

    for (endpoint, reason), count in sorted(expected_rejected.items()):
        delta = (inbound_peers.metric_value(after_rejected, endpoint=endpoint, reason=reason) -
                 inbound_peers.metric_value(before_rejected, endpoint=endpoint, reason=reason))
        assert delta == count, (
            f'alertd_webhook_rejected_total{{endpoint="{endpoint}",reason="{reason}"}} rose by '
            f"{delta}, expected {count}")
        print(f'metrics: alertd_webhook_rejected_total{{endpoint="{endpoint}",'
              f'reason="{reason}"}} +{delta:g}')

    for (endpoint, code), count in sorted(expected_requests.items()):
        delta = (inbound_peers.metric_value(after_requests, endpoint=endpoint, code=code) -
                 inbound_peers.metric_value(before_requests, endpoint=endpoint, code=code))
        assert delta == count, (
            f'alertd_webhook_requests_total{{endpoint="{endpoint}",code="{code}"}} rose by '
            f"{delta}, expected {count}")
    print(f"rejections: /api/v2/alerts unchanged ({len(after_alerts)} alerts)")


def alertmanager_copies(capture, status):
    """The bodies Alertmanager sent to the capture server for InboundE2E with `status`."""
    out = []
    for request in capture.recorded("/copy"):
        body = request.json()
        names = {a["labels"].get("alertname") for a in body.get("alerts", [])}
        if body.get("status") == status and "InboundE2E" in names:
            out.append(request)
    return out


def check_alertmanager_copy(request, status):
    """Checks one captured Alertmanager 0.25 webhook request against its documented shape."""
    auth = request.headers.get("Authorization")
    assert auth == f"Bearer {AM_TOKEN}", f"Alertmanager sent Authorization {auth!r}"
    content_type = request.headers.get("Content-Type")
    assert content_type == "application/json", f"Alertmanager sent Content-Type {content_type}"
    body = request.json()
    assert body["version"] == "4", body
    assert body["receiver"] == "alertd", body
    assert body["status"] == status, body
    assert body["groupLabels"] == {"alertname": "InboundE2E"}, body
    assert body["truncatedAlerts"] == 0, body
    assert len(body["alerts"]) == 1, body
    alert = body["alerts"][0]
    assert alert["status"] == status, alert
    assert alert["labels"] == {"alertname": "InboundE2E", "severity": "critical"}, alert
    if status == "firing":
        assert alert["endsAt"] == "0001-01-01T00:00:00Z", alert
    else:
        assert parse_time(alert["endsAt"]) > parse_time(alert["startsAt"]), alert
    return body


def replay(base, request):
    """POSTs a captured Alertmanager request's body again, as its retry would."""
    headers = {"Authorization": request.headers["Authorization"],
               "Content-Type": request.headers["Content-Type"]}
    status, text = inbound_peers.post(base, "/api/v1/webhook/am", request.body, headers)
    accepted(status, text, "the replayed Alertmanager body")


def count(items, value):
    return sum(1 for item in items if item == value)


def run(args, work, started, resources):
    smtp, smtp_port, smtp_out = router_peers.start_smtp_sink(work.path)
    resources.append(smtp)
    slack = router_peers.slack_server()
    capture = router_peers.webhook_server()
    trigger = router_peers.MetricsServer({TRIGGER: 0})
    resources.extend([slack, capture, trigger])

    web_port = harness.free_port()
    base = f"http://127.0.0.1:{web_port}"
    with open(os.path.join(work.path, "alertd.yml"), "w") as f:
        f.write(alertd_config(web_port, smtp_port, slack))
    with open(os.path.join(work.path, "grafana_password"), "w") as f:
        f.write(GRAFANA_PASSWORD + "\n")
    server = harness.Process("alertd", [os.path.abspath(args.alertd), "run",
                                        "--config.file=alertd.yml", "--log.level=debug"],
                             work.path)
    resources.append(server)
    harness.wait_ready(server, base, 30)

    alertmanager, alertmanager_port, _ = inbound_peers.start_alertmanager(
        work.path, alertmanager_config(base, capture))
    resources.append(alertmanager)
    prometheus, _ = router_peers.start_prometheus(work.path, RULES, alertmanager_port,
                                                  trigger.port)
    resources.append(prometheus)
    print(f"peers up after {time.monotonic() - started:.1f}s")

    # 1. Grafana: two alerts in one notification, each its own group in alertd.
    now = datetime.now(timezone.utc)
    grafana_started = now - timedelta(minutes=1)
    payload = grafana_payload(None, grafana_started)
    status, text = inbound_peers.post(base, "/api/v1/webhook/grafana",
                                      json.dumps(payload).encode(),
                                      basic(GRAFANA_USER, GRAFANA_PASSWORD))
    answer = accepted(status, text, "the Grafana notification")
    print(f"grafana: 202 {answer}")
    memory_labels = with_source(GRAFANA_MEMORY, "grafana")
    cpu_labels = with_source(GRAFANA_CPU, "grafana")
    wait_notified(slack, smtp_out, subject("firing", memory_labels), 20)
    wait_notified(slack, smtp_out, subject("firing", cpu_labels), 10)
    memory = only_alert(base, GRAFANA_MEMORY["alertname"])
    assert memory.get("receivedFrom") == "grafana", memory
    assert memory["labels"] == memory_labels, memory["labels"]
    check_grafana_annotations(memory, payload)
    print(f"grafana: routed {subject('firing', memory_labels)!r} and "
          f"{subject('firing', cpu_labels)!r}; annotations {sorted(memory['annotations'])}")

    # 2. A JSON event signed with HMAC-SHA256.
    event = check_event("down", "Disk on db1 is 97% full")
    status, text = inbound_peers.post(base, "/api/v1/webhook/checks", event, {
        "Content-Type": "application/json; charset=utf-8",
        "X-Hub-Signature-256": inbound_peers.hub_signature(CHECKS_SECRET, event)})
    accepted(status, text, "the signed JSON event")
    wait_notified(slack, smtp_out, subject("firing", CHECK_LABELS), 20)
    disk = only_alert(base, CHECK_LABELS["alertname"])
    assert disk.get("receivedFrom") == "checks", disk
    assert disk["labels"] == CHECK_LABELS, disk["labels"]
    assert disk["annotations"] == {"summary": "Disk on db1 is 97% full"}, disk["annotations"]
    print(f"json: routed {subject('firing', CHECK_LABELS)!r}, labels {disk['labels']}")

    # 3. Rejections, while the store contains the alerts above and nothing else changes it.
    check_rejections(base)

    # 4. The JSON source resolves its alert; Grafana resolves one of its two alerts.
    event = check_event("up", "Disk on db1 is 60% full")
    status, text = inbound_peers.post(base, "/api/v1/webhook/checks", event, {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": inbound_peers.hub_signature(CHECKS_SECRET, event)})
    accepted(status, text, "the resolving JSON event")
    payload = grafana_payload(datetime.now(timezone.utc), grafana_started)
    status, text = inbound_peers.post(base, "/api/v1/webhook/grafana",
                                      json.dumps(payload).encode(),
                                      basic(GRAFANA_USER, GRAFANA_PASSWORD))
    accepted(status, text, "the resolving Grafana notification")
    wait_notified(slack, smtp_out, subject("resolved", CHECK_LABELS), 20)
    wait_notified(slack, smtp_out, subject("resolved", memory_labels), 20)
    print(f"json: resolved {subject('resolved', CHECK_LABELS)!r}")
    print(f"grafana: resolved {subject('resolved', memory_labels)!r}")
    cpu = only_alert(base, GRAFANA_CPU["alertname"])
    assert cpu["status"]["state"] == "active", cpu
    assert parse_time(cpu["endsAt"]) > datetime.now(timezone.utc), cpu

    # 5. Prometheus fires, Alertmanager notifies alertd, alertd routes.
    trigger.set(TRIGGER, 1)
    firing_subject = subject("firing", AM_LABELS)
    wait_notified(slack, smtp_out, firing_subject, 40)
    fired_at = time.monotonic()
    print(f"alertmanager: {firing_subject!r} routed after {fired_at - started:.1f}s")
    copies = harness.wait_for("Alertmanager's firing copy",
                              lambda: alertmanager_copies(capture, "firing"), 10)
    firing_body = check_alertmanager_copy(copies[0], "firing")
    received = only_alert(base, "InboundE2E")
    assert received.get("receivedFrom") == "am", received
    assert received["labels"] == AM_LABELS, received["labels"]
    assert received["annotations"] == {"summary": "Inbound end-to-end alert"}, received
    assert same_millisecond(received["startsAt"], firing_body["alerts"][0]["startsAt"]), (
        received["startsAt"], firing_body["alerts"][0]["startsAt"])
    print(f"alertmanager: /api/v2/alerts lists receivedFrom={received['receivedFrom']!r}, "
          f"labels {received['labels']}")

    # 6. A retried delivery of the same body changes nothing.
    replay(base, copies[0])
    time.sleep(GROUP_WAIT_S + 2 * GROUP_INTERVAL_S + 1)
    titles = slack_titles(slack)
    subjects = email_subjects(smtp_out)
    assert count(titles, firing_subject) == 1, f"Slack got {titles}"
    assert count(subjects, firing_subject) == 1, f"email got {subjects}"
    again = only_alert(base, "InboundE2E")
    assert again["startsAt"] == received["startsAt"], again
    print("duplicate: the replayed firing body was accepted and sent nothing")

    # 7. The metric drops: the resolution travels the same way.
    trigger.set(TRIGGER, 0)
    resolved_subject = subject("resolved", AM_LABELS)
    wait_notified(slack, smtp_out, resolved_subject, 30)
    print(f"alertmanager: {resolved_subject!r} routed "
          f"{time.monotonic() - fired_at:.1f}s after the firing one")
    copies = harness.wait_for("Alertmanager's resolved copy",
                              lambda: alertmanager_copies(capture, "resolved"), 10)
    check_alertmanager_copy(copies[0], "resolved")
    now = datetime.now(timezone.utc)
    still_active = [a for a in api_alerts(base, 'alertname="InboundE2E"')
                    if parse_time(a["endsAt"]) > now]
    assert not still_active, f"InboundE2E is still active after its resolution: {still_active}"

    replay(base, copies[0])
    time.sleep(GROUP_WAIT_S + 2 * GROUP_INTERVAL_S + 1)
    titles = slack_titles(slack)
    subjects = email_subjects(smtp_out)
    assert count(titles, resolved_subject) == 1, f"Slack got {titles}"
    assert count(subjects, resolved_subject) == 1, f"email got {subjects}"
    assert count(titles, firing_subject) == 1, f"Slack got {titles}"
    print("duplicate: the replayed resolved body was accepted and sent nothing")

    leaks = [name for name in REJECTED_NAMES
             if any(name in t for t in titles) or any(name in s for s in subjects)]
    assert not leaks, f"rejected requests reached a receiver: {leaks}"
    _, requests = metrics(base)
    accepted_am = inbound_peers.metric_value(requests, endpoint="am", code="202")
    assert accepted_am >= 4, f'alertd_webhook_requests_total{{endpoint="am",code="202"}} ' \
                             f"is {accepted_am}, expected at least 4"
    print(f"notifications: Slack {len(titles)}, email {len(subjects)}; "
          f"am accepted {accepted_am:g} requests")

    code = server.terminate()
    assert code == 0, f"alertd exited with {code} on SIGTERM:\n{server.log()}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertd", required=True, help="the alertd binary under test")
    args = parser.parse_args()

    for binary in ("/usr/bin/prometheus", inbound_peers.ALERTMANAGER):
        if not shutil.which(binary):
            print(f"SKIP: {binary} is not installed (Debian packages prometheus and "
                  "prometheus-alertmanager)")
            return 0
    probe = subprocess.run([router_peers.PYTHON, "-c", "import aiosmtpd"], capture_output=True)
    if probe.returncode != 0:
        print("SKIP: aiosmtpd is not installed for /usr/bin/python3 (Debian package "
              "python3-aiosmtpd)")
        return 0

    def out_of_budget(signum, frame):
        raise AssertionError(f"the test did not finish within its budget of {BUDGET_S}s")

    signal.signal(signal.SIGALRM, out_of_budget)
    signal.alarm(BUDGET_S)
    started = time.monotonic()
    work = harness.Workdir("alertd-e2e-inbound-")
    resources = []
    try:
        run(args, work, started, resources)
        print(f"PASS: inbound webhooks end to end in {time.monotonic() - started:.1f}s")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        for resource in resources:
            if isinstance(resource, harness.Process) and resource.name == "alertd":
                print("---- alertd log (last 80 lines) ----")
                print("\n".join(resource.log().splitlines()[-80:]))
        return 1
    finally:
        signal.alarm(0)
        for resource in reversed(resources):
            resource.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
