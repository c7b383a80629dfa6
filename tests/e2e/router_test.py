"""End to end: Prometheus fires alerts into alertd's Alertmanager API, and alertd routes them.

Starts Debian's prometheus with fast rules and alertd as its Alertmanager (API v2), an aiosmtpd
SMTP sink and capture servers standing in for Slack, Sentry and two webhooks, all on free
127.0.0.1 ports. alertd's route sends alerts with team="e2e" to a receiver with one email,
Slack, Sentry and webhook integration each, and everything else to a fallback webhook.
Checks, as Alertmanager 0.25 documents:
- the email arrives with the default subject, To and From, and the alert in its HTML body;
- the Slack message carries the default title, title link and color;
- the Sentry envelope, authenticated with the DSN's key, has an event item with a level and
  a fingerprint;
- the webhook that returns 500 three times gets the notification exactly once, on the fourth
  attempt, and the route does not leak it to the fallback;
- after `amtool silence add`, which `amtool silence query` then lists, a newly firing alert
  matching the silence is listed as suppressed and reaches no integration, while an alert
  that fires at the same time without a silence reaches the fallback webhook.

With --alertmanager PATH in place of --alertd the same checks run against Alertmanager, less
the Sentry ones, which shows that the expectations are Alertmanager's.
"""

import argparse
import email
import email.policy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import router_peers  # noqa: E402

GROUP_WAIT_S = 1
GROUP_INTERVAL_S = 2
WEBHOOK_FAILURES = 3
SENTRY_PROJECT = "42"
SENTRY_KEY = "publickey"
TRIGGER = 'e2e_trigger{phase="two"}'
# Below the ctest TIMEOUT of 120s, so that the peers are stopped before ctest kills the test.
BUDGET_S = 105

RULES = """
groups:
  - name: router-e2e
    interval: 1s
    rules:
      - alert: RouterE2E
        expr: vector(1)
        labels:
          severity: critical
          team: e2e
        annotations:
          summary: Router end-to-end alert
          description: Prometheus fires this alert at its first evaluation.
      - alert: RouterE2ESilenced
        expr: e2e_trigger{phase="two"} > 0
        labels:
          severity: warning
          team: e2e
        annotations:
          summary: Silenced end-to-end alert
      - alert: RouterE2EControl
        expr: e2e_trigger{phase="two"} > 0
        labels:
          severity: warning
        annotations:
          summary: Unsilenced end-to-end alert
"""


def server_config(web_port, smtp_port, slack, sentry, flaky, fallback, alertmanager=False):
    """alertd.yml, or with `alertmanager` the alertmanager.yml of the same routing without the
    Sentry integration, which Alertmanager does not have."""
    daemon = "" if alertmanager else f"""
storage:
  path: data/
web:
  listen_address: 127.0.0.1:{web_port}"""
    sentry_entry = "" if alertmanager else f"""
    sentry_configs:
      - dsn: http://{SENTRY_KEY}@127.0.0.1:{sentry.port}/{SENTRY_PROJECT}"""
    return f"""
global:
  smtp_smarthost: 127.0.0.1:{smtp_port}
  smtp_from: alertd@example.org
  smtp_require_tls: false{daemon}
route:
  receiver: fallback
  group_by: [alertname]
  group_wait: {GROUP_WAIT_S}s
  group_interval: {GROUP_INTERVAL_S}s
  repeat_interval: 1h
  routes:
    - matchers: ['team="e2e"']
      receiver: e2e
receivers:
  - name: fallback
    webhook_configs:
      - url: {fallback.url}/fallback
  - name: e2e
    email_configs:
      - to: oncall@example.org
    slack_configs:
      - api_url: {slack.url}/services/T000/B000/XXXX
        channel: "#e2e"{sentry_entry}
    webhook_configs:
      - url: {flaky.url}/flaky
"""


def start_server(args, workdir, web_port):
    """Starts alertd, or Alertmanager with --alertmanager, on web_port once its config file
    is written. Returns the process once /-/ready returns 200."""
    base = f"http://127.0.0.1:{web_port}"
    if args.alertmanager:
        argv = [os.path.abspath(args.alertmanager), "--config.file=server.yml",
                "--storage.path=alertmanager-data", f"--web.listen-address=127.0.0.1:{web_port}",
                "--cluster.listen-address=", f"--web.external-url={base}"]
        name = "alertmanager"
    else:
        argv = [os.path.abspath(args.alertd), "run", "--config.file=server.yml",
                "--log.level=debug"]
        name = "alertd"
    process = harness.Process(name, argv, workdir)
    harness.wait_ready(process, base, 30)
    return process


def mentions(request_or_message, alertname):
    text = request_or_message if isinstance(request_or_message, str) else (
        request_or_message.body.decode(errors="replace"))
    return alertname in text


def webhook_deliveries(server, path, alertname):
    out = []
    for request in server.recorded(path):
        body = request.json()
        names = [a["labels"].get("alertname") for a in body.get("alerts", [])]
        if alertname in names:
            out.append(request)
    return out


def check_email(messages):
    assert len(messages) == 1, f"expected one email, got {len(messages)}"
    record = messages[0]
    assert record["mail_from"] == "alertd@example.org", record["mail_from"]
    assert record["rcpt_tos"] == ["oncall@example.org"], record["rcpt_tos"]
    message = email.message_from_string(record["data"], policy=email.policy.default)
    # Alertmanager's email.default.subject is the shared __subject template: status, firing
    # count, group label values, then the other common label values in brackets.
    assert message["Subject"] == "[FIRING:1] RouterE2E (critical e2e)", message["Subject"]
    assert message["To"] == "oncall@example.org", message["To"]
    assert message["From"] == "alertd@example.org", message["From"]
    html = message.get_body(preferencelist=("html",))
    assert html is not None, f"email has no HTML part:\n{record['data'][:2000]}"
    body = html.get_content()
    for expected in ("alertname = RouterE2E", "severity = critical",
                     "summary = Router end-to-end alert"):
        assert expected in body, f"{expected!r} missing from the HTML body:\n{body[:3000]}"
    print(f"email: subject {message['Subject']!r}, {len(body)} characters of HTML")


def check_slack(requests, base, expected_text):
    assert len(requests) == 1, f"expected one Slack message, got {len(requests)}"
    request = requests[0]
    assert request.path == "/services/T000/B000/XXXX", request.path
    payload = request.json()
    assert payload.get("channel") == "#e2e", payload
    assert payload.get("username") == "Alertmanager", payload
    attachments = payload.get("attachments")
    assert isinstance(attachments, list) and len(attachments) == 1, payload
    attachment = attachments[0]
    # slack.default.title is __subject, and the title link opens the receiver's alert list.
    assert attachment.get("title") == "[FIRING:1] RouterE2E (critical e2e)", attachment
    assert attachment.get("title_link") == base + "/#/alerts?receiver=e2e", attachment
    assert attachment.get("fallback") == (
        attachment["title"] + " | " + attachment["title_link"]), attachment
    assert attachment.get("color") == "danger", attachment
    assert attachment.get("text") == expected_text, attachment
    assert attachment.get("mrkdwn_in") == ["fallback", "pretext", "text"], attachment
    print(f"slack: title {attachment['title']!r}, text {attachment['text']!r}")


def check_sentry(sentry, webhook_message):
    """Checks the Sentry envelope against the webhook payload of the same notification."""
    requests = sentry.recorded()
    assert len(requests) == 1, f"expected one Sentry request, got {len(requests)}"
    request = requests[0]
    assert request.path == f"/api/{SENTRY_PROJECT}/envelope/", request.path
    content_type = request.headers.get("Content-Type")
    assert content_type == "application/x-sentry-envelope", content_type
    auth = request.headers.get("X-Sentry-Auth", "")
    assert auth.startswith("Sentry "), f"X-Sentry-Auth is {auth!r}"
    fields = dict(part.strip().split("=", 1) for part in auth[len("Sentry "):].split(","))
    assert fields.get("sentry_key") == SENTRY_KEY, fields
    assert fields.get("sentry_version") == "7", fields
    assert "sentry_secret" not in fields, fields

    header, items = router_peers.parse_envelope(request.body)
    assert [item.get("type") for item, _ in items] == ["event"], items
    event = json.loads(items[0][1])
    assert re.fullmatch(r"[0-9a-f]{32}", event.get("event_id", "")), event
    assert header.get("event_id") == event["event_id"], (header, event)
    dsn = f"http://{SENTRY_KEY}@127.0.0.1:{sentry.port}/{SENTRY_PROJECT}"
    assert header.get("dsn") == dsn, header
    # alertd maps the severity label to the Sentry level (critical is fatal) and gives every
    # event of a group the fingerprint [group key], so Sentry merges them into one issue.
    assert event.get("level") == "fatal", event
    assert event.get("fingerprint") == [webhook_message["groupKey"]], event
    assert event.get("message", {}).get("formatted") == "Router end-to-end alert", event
    tags = event.get("tags", {})
    assert tags.get("alertname") == "RouterE2E", tags
    assert tags.get("severity") == "critical", tags
    alerts = event.get("extra", {}).get("alerts", [])
    assert [a["fingerprint"] for a in alerts] == [
        a["fingerprint"] for a in webhook_message["alerts"]], event.get("extra")
    print(f"sentry: level {event['level']!r}, fingerprint {event['fingerprint']}")


def check_flaky_webhook(flaky):
    attempts = flaky.recorded("/flaky")
    statuses = [r.status for r in attempts]
    expected = [500] * WEBHOOK_FAILURES + [200]
    assert statuses == expected, f"webhook attempts returned {statuses}, expected {expected}"
    bodies = [r.json() for r in attempts]
    assert all(b == bodies[0] for b in bodies), "the retries did not resend the same payload"
    delivered = bodies[-1]
    assert delivered["version"] == "4", delivered
    assert delivered["receiver"] == "e2e", delivered
    assert delivered["status"] == "firing", delivered
    assert delivered["groupLabels"] == {"alertname": "RouterE2E"}, delivered
    assert len(delivered["alerts"]) == 1, delivered
    alert = delivered["alerts"][0]
    assert alert["labels"].get("team") == "e2e", alert
    assert alert["endsAt"] == "0001-01-01T00:00:00Z", alert
    print(f"webhook: attempts {statuses}, fingerprint {alert['fingerprint']}")
    return delivered


def amtool(base_url, workdir, *argv):
    """Runs amtool against the server and returns its stdout. A non-zero exit fails the test."""
    env = dict(os.environ)
    env["HOME"] = workdir  # so that amtool reads no user config
    command = ["amtool", f"--alertmanager.url={base_url}", *argv]
    result = subprocess.run(command, capture_output=True, text=True, timeout=20, env=env)
    assert result.returncode == 0, (
        f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


def api_alerts(base, filter_text):
    query = urllib.parse.urlencode({"filter": filter_text})
    status, body = harness.http_get(f"{base}/api/v2/alerts?{query}")
    if status != 200:
        return []
    return json.loads(body)


def main():
    parser = argparse.ArgumentParser()
    peer = parser.add_mutually_exclusive_group(required=True)
    peer.add_argument("--alertd", help="the alertd binary under test")
    peer.add_argument("--alertmanager",
                        help="run the checks against this Alertmanager binary instead, "
                        "without Sentry, to check the test's expectations")
    args = parser.parse_args()

    for binary in ("/usr/bin/prometheus", "amtool"):
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
    work = harness.Workdir("alertd-e2e-router-")
    resources = []
    server = None
    try:
        smtp, smtp_port, smtp_out = router_peers.start_smtp_sink(work.path)
        resources.append(smtp)
        slack = router_peers.slack_server()
        sentry = router_peers.sentry_server()
        flaky = router_peers.flaky_webhook_server(WEBHOOK_FAILURES)
        fallback = router_peers.webhook_server()
        metrics = router_peers.MetricsServer({TRIGGER: 0})
        resources.extend([slack, sentry, flaky, fallback, metrics])

        web_port = harness.free_port()
        with open(os.path.join(work.path, "server.yml"), "w") as f:
            f.write(server_config(web_port, smtp_port, slack, sentry, flaky, fallback,
                                  alertmanager=bool(args.alertmanager)))
        base = f"http://127.0.0.1:{web_port}"
        server = start_server(args, work.path, web_port)

        prometheus, prometheus_url = router_peers.start_prometheus(
            work.path, RULES, web_port, metrics.port)
        resources.append(prometheus)
        print(f"peers up after {time.monotonic() - started:.1f}s")

        # 1. RouterE2E fires at Prometheus's first evaluation and reaches all four integrations
        # of the e2e receiver. The webhook gets it on its fourth attempt, after three 500s.
        harness.wait_for("the email", lambda: router_peers.smtp_messages(smtp_out), 30)
        harness.wait_for("the Slack message", lambda: slack.recorded(), 10)
        if not args.alertmanager:
            harness.wait_for("the Sentry event", lambda: sentry.recorded(), 10)
        harness.wait_for("the webhook's successful delivery",
                         lambda: [r for r in flaky.recorded("/flaky") if r.status == 200], 30)
        delivered_at = time.monotonic()
        print(f"RouterE2E delivered after {delivered_at - started:.1f}s")
        # Later group_interval flushes must not send the unchanged group again.
        time.sleep(2 * GROUP_INTERVAL_S + 1)
        webhook_message = check_flaky_webhook(flaky)
        check_email(router_peers.smtp_messages(smtp_out))
        # Alertmanager 0.25's slack.default.text is empty. alertd's default lists each alert's
        # summary in bold and its description, as its README states.
        expected_text = "" if args.alertmanager else (
            "*Router end-to-end alert*\nPrometheus fires this alert at its first evaluation.")
        check_slack(slack.recorded(), base, expected_text)
        if not args.alertmanager:
            check_sentry(sentry, webhook_message)
        assert not fallback.recorded(), (
            f"the fallback receiver got {len(fallback.recorded())} requests for RouterE2E")

        # 2. A silence made with amtool mutes RouterE2ESilenced. RouterE2EControl fires from the
        # same series at the same evaluations, so its delivery shows when RouterE2ESilenced
        # would have been sent.
        silence_id = amtool(base, work.path, "silence", "add", "alertname=RouterE2ESilenced",
                            "--author=e2e", "--comment=router end-to-end test",
                            "--duration=10m").strip()
        assert silence_id, "amtool silence add printed no silence ID"
        listed = json.loads(amtool(base, work.path, "silence", "query", "-o", "json",
                                   "alertname=RouterE2ESilenced"))
        assert [s["id"] for s in listed] == [silence_id], listed
        assert listed[0]["status"]["state"] == "active", listed[0]
        assert listed[0]["createdBy"] == "e2e", listed[0]
        assert listed[0]["matchers"] == [
            {"name": "alertname", "value": "RouterE2ESilenced", "isRegex": False,
             "isEqual": True}], listed[0]["matchers"]
        print(f"silence {silence_id} listed by amtool silence query")

        metrics.set(TRIGGER, 1)
        harness.wait_for("RouterE2EControl at the fallback webhook", lambda: webhook_deliveries(
            fallback, "/fallback", "RouterE2EControl"), 30)
        suppressed = harness.wait_for(
            "RouterE2ESilenced listed as suppressed",
            lambda: api_alerts(base, 'alertname="RouterE2ESilenced"'), 15)
        assert len(suppressed) == 1, suppressed
        assert suppressed[0]["status"]["state"] == "suppressed", suppressed[0]
        assert suppressed[0]["status"]["silencedBy"] == [silence_id], suppressed[0]
        time.sleep(GROUP_WAIT_S + 2 * GROUP_INTERVAL_S)
        leaks = [name for name, requests in (
            ("slack", slack.recorded()), ("sentry", sentry.recorded()),
            ("webhook", flaky.recorded()), ("fallback", fallback.recorded()))
            if any(mentions(r, "RouterE2ESilenced") for r in requests)]
        if any(mentions(m["data"], "RouterE2ESilenced")
               for m in router_peers.smtp_messages(smtp_out)):
            leaks.append("email")
        assert not leaks, f"the silenced alert reached {leaks}"
        assert len(flaky.recorded("/flaky")) == WEBHOOK_FAILURES + 1, "the webhook got more"

        code = server.terminate()
        assert code == 0, f"{server.name} exited with {code} on SIGTERM:\n{server.log()}"
        print(f"PASS: router end to end in {time.monotonic() - started:.1f}s")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        if server is not None:
            print(f"---- {server.name} log (last 80 lines) ----")
            print("\n".join(server.log().splitlines()[-80:]))
        return 1
    finally:
        signal.alarm(0)
        if server is not None:
            server.close()
        for resource in reversed(resources):
            resource.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
