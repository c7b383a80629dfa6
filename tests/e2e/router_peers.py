"""Local peers for the router end-to-end test: HTTP capture servers for Slack, Sentry and
webhooks, a /metrics endpoint whose values the test sets, Prometheus and an SMTP sink.

Everything listens on 127.0.0.1 only, and every process is stopped by close().
"""

import gzip
import json
import os
import socket
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import smtp_sink  # noqa: E402

PYTHON = "/usr/bin/python3"


class Request:
    """One recorded HTTP request and the status code the server returned for it."""

    def __init__(self, method, path, headers, body, status):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body  # bytes, after undoing any Content-Encoding
        self.status = status

    def json(self):
        return json.loads(self.body)


def decode_body(raw, encoding):
    encoding = (encoding or "").strip().lower()
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    return raw


class RecordingServer:
    """An HTTP server that records every request. `respond(index, request)` returns the
    (status, content type, body) to send; `index` counts requests from 0."""

    def __init__(self, respond):
        self.requests = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length) if length > 0 else b""
                body = decode_body(raw, self.headers.get("Content-Encoding"))
                with server._lock:
                    index = len(server.requests)
                    request = Request(self.command, self.path, dict(self.headers), body, 0)
                    status, content_type, payload = respond(index, request)
                    request.status = status
                    server.requests.append(request)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = handle_any
            do_PUT = handle_any
            do_GET = handle_any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def recorded(self, path=None):
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def slack_server():
    """Returns 200 "ok" as a Slack incoming webhook does."""
    return RecordingServer(lambda index, request: (200, "text/plain", b"ok"))


def flaky_webhook_server(failures):
    """Returns 500 to the first `failures` requests and 200 to every later one."""

    def respond(index, request):
        if index < failures:
            return 500, "text/plain", b"temporary failure\n"
        return 200, "text/plain", b"ok\n"

    return RecordingServer(respond)


def webhook_server():
    return RecordingServer(lambda index, request: (200, "text/plain", b"ok\n"))


def sentry_server():
    """Returns Sentry's envelope endpoint response, {"id": event_id}."""

    def respond(index, request):
        try:
            event_id = parse_envelope(request.body)[0].get("event_id", "")
        except ValueError:
            event_id = ""
        return 200, "application/json", json.dumps({"id": event_id}).encode()

    return RecordingServer(respond)


def parse_envelope(body):
    """Parses a Sentry envelope: a header line, then items, each an item header line and a
    payload of `length` bytes (or up to the next newline when the header has no length).

    Returns (envelope header, [(item header, payload bytes), ...]) and raises ValueError on a
    malformed envelope."""
    newline = body.find(b"\n")
    header_line = body if newline < 0 else body[:newline]
    header = json.loads(header_line)
    position = len(body) if newline < 0 else newline + 1
    items = []
    while position < len(body):
        if body[position:].strip() == b"":
            break
        end = body.find(b"\n", position)
        if end < 0:
            raise ValueError("envelope item header is not followed by a payload")
        item_header = json.loads(body[position:end])
        position = end + 1
        if "length" in item_header:
            length = int(item_header["length"])
            payload = body[position:position + length]
            if len(payload) != length:
                raise ValueError(f"envelope item is shorter than its length {length}")
            position += length
            if body[position:position + 1] == b"\n":
                position += 1
        else:
            end = body.find(b"\n", position)
            end = len(body) if end < 0 else end
            payload = body[position:end]
            position = end + 1
        items.append((item_header, payload))
    return header, items


class MetricsServer:
    """Serves /metrics in the Prometheus text format from a dict of series -> value that the
    test changes while Prometheus scrapes it."""

    def __init__(self, values):
        self.values = dict(values)
        self._lock = threading.Lock()
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with metrics._lock:
                    lines = [f"{series} {value}" for series, value in metrics.values.items()]
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

    def set(self, series, value):
        with self._lock:
            self.values[series] = value

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_prometheus(workdir, rules, alertmanager_port, scrape_port, interval="1s"):
    """Starts /usr/bin/prometheus on a free port with `rules` (rule file text), its own TSDB
    folder, one scrape job for 127.0.0.1:scrape_port and alertd as its Alertmanager over API
    v2. Returns (process, base URL) once /-/ready returns 200."""
    port = harness.free_port()
    with open(os.path.join(workdir, "prometheus-rules.yml"), "w") as f:
        f.write(rules)
    config = f"""
global:
  scrape_interval: {interval}
  scrape_timeout: 900ms
  evaluation_interval: {interval}
rule_files:
  - prometheus-rules.yml
scrape_configs:
  - job_name: trigger
    static_configs:
      - targets: ["127.0.0.1:{scrape_port}"]
alerting:
  alertmanagers:
    - api_version: v2
      timeout: 5s
      static_configs:
        - targets: ["127.0.0.1:{alertmanager_port}"]
"""
    with open(os.path.join(workdir, "prometheus.yml"), "w") as f:
        f.write(config)
    process = harness.Process("prometheus", [
        "/usr/bin/prometheus",
        "--config.file=prometheus.yml",
        f"--storage.tsdb.path={os.path.join(workdir, 'prometheus-data')}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",
        # Prometheus 2.42 drops alerts sent before it has discovered its Alertmanagers (about
        # 5s after start in these runs) and resends only after this delay, which is 1m by
        # default. Each send sets endsAt 4 resend delays ahead, so 20s here.
        "--rules.alert.resend-delay=5s",
    ], workdir)
    base = f"http://127.0.0.1:{port}"
    harness.wait_ready(process, base, 30)
    return process, base


def start_smtp_sink(workdir):
    """Starts aiosmtpd with smtp_sink.RecordingHandler on a free port. Returns (process, port,
    path of the JSON Lines file it writes) once the port accepts connections."""
    port = harness.free_port()
    out = os.path.join(workdir, "smtp-messages.jsonl")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
    process = harness.Process("smtp", [
        PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
        "-c", "smtp_sink.RecordingHandler", out,
    ], workdir, env=env)

    def accepting():
        if not process.alive():
            raise AssertionError(f"aiosmtpd exited early:\n{process.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    harness.wait_for("SMTP sink listening", accepting, 15)
    return process, port, out


def smtp_messages(path):
    return smtp_sink.read_messages(path)
