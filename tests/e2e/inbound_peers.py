"""Helpers for the inbound webhook end-to-end test: Alertmanager as a peer, raw HTTP POSTs
that report every status, Prometheus text-format metric lookups, HMAC signatures and
Alertmanager's default notification subject.

Everything listens on and connects to 127.0.0.1 only.
"""

import hashlib
import hmac
import http.client
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def start_alertmanager(workdir, config):
    """Starts Debian's Alertmanager with `config` (alertmanager.yml text) on a free port,
    clustering off and its own storage folder. Returns (process, port, base URL) once
    /-/ready returns 200."""
    port = harness.free_port()
    with open(os.path.join(workdir, "alertmanager.yml"), "w") as f:
        f.write(config)
    base = f"http://127.0.0.1:{port}"
    process = harness.Process("alertmanager", [
        ALERTMANAGER,
        "--config.file=alertmanager.yml",
        f"--storage.path={os.path.join(workdir, 'alertmanager-data')}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url={base}",
        "--cluster.listen-address=",
    ], workdir)
    harness.wait_ready(process, base, 30)
    return process, port, base


def post(base, path, body, headers, timeout=5.0):
    """POSTs `body` (bytes) to 127.0.0.1 and returns (status, response text).

    Unlike urllib, this returns the status of a server that responds and closes the connection
    before it has read the whole body, as a server rejecting an oversized body may do. Returns
    (0, error text) when no response arrives."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Length", str(len(body)))
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders()
        try:
            connection.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have responded already; read its response below
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return 0, str(e)
    finally:
        connection.close()


def hub_signature(secret, body):
    """Returns the X-Hub-Signature-256 value of `body`: "sha256=" and the lower-case hex
    HMAC-SHA256 digest, as GitHub signs webhook deliveries."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metric_samples(text, name):
    """Returns {frozenset of (label, value): sample value} of metric `name` in a Prometheus
    text-format exposition."""
    out = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match or match.group(1) != name:
            continue
        labels = frozenset(_LABEL.findall(match.group(2) or ""))
        out[labels] = float(match.group(3))
    return out


def metric_value(samples, **labels):
    """Returns the value of the sample whose labels are exactly `labels`, or 0 when absent,
    as a counter that has not been incremented yet."""
    return samples.get(frozenset(labels.items()), 0.0)


def sorted_values(labels):
    """Returns the label values ordered as Alertmanager's KV.SortedPairs orders them:
    alertname first, then by label name."""
    names = sorted(labels, key=lambda name: (name != "alertname", name))
    return [labels[name] for name in names]


def default_subject(status, alerts_labels, group_by):
    """Returns Alertmanager 0.25's __subject template output for one aggregation group whose
    alerts all have the group's status.

    `alerts_labels` contains the label dicts of the group's alerts. The subject is the upper-case
    status (with ":N" firing alerts while firing), the group label values, a space, and in
    brackets the values of the other labels common to every alert, if there are any."""
    common = dict(alerts_labels[0])
    for labels in alerts_labels[1:]:
        common = {k: v for k, v in common.items() if labels.get(k) == v}
    group = {k: v for k, v in common.items() if k in group_by}
    subject = f"[{status.upper()}"
    if status == "firing":
        subject += f":{len(alerts_labels)}"
    subject += "] " + " ".join(sorted_values(group)) + " "
    if len(common) > len(group):
        rest = {k: v for k, v in common.items() if k not in group}
        subject += "(" + " ".join(sorted_values(rest)) + ")"
    return subject
