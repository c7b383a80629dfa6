"""Helpers for alertd's end-to-end tests: free ports, processes, HTTP polling and a capture
server that records the webhook and Slack requests alertd sends.

Everything listens on 127.0.0.1 only. Every wait is bounded and every process is stopped when
the test ends, also on failure.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2.0):
    """Returns (status, body) or (0, error text) when the connection fails."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def http_request(url, method="GET", body=b"", headers=None, timeout=2.0):
    req = urllib.request.Request(url, data=body if method != "GET" else None, method=method)
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(what, predicate, timeout, interval=0.25):
    """Polls predicate() until it returns a truthy value; fails the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Process:
    """A child process whose output goes to a log file, stopped on close()."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=workdir, env=env, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout=15):
        """SIGTERM; returns the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"{self.name} did not stop within {timeout}s of SIGTERM")

    def log(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def close(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


class CaptureServer:
    """Records every POST as (path, headers, parsed JSON body) and returns 200 "ok", as a
    Slack incoming webhook does."""

    def __init__(self):
        self.requests = []
        self._lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                with capture._lock:
                    capture.requests.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self, path=None):
        with self._lock:
            return [b for (p, _, b) in self.requests if path is None or p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Workdir:
    """A temporary directory removed at the end unless KEEP_E2E_DIR is set."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def close(self):
        if os.environ.get("KEEP_E2E_DIR"):
            print(f"kept {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def alerts(base_url):
    """Returns the alerts listed by GET /api/v1/alerts, or None when the request fails."""
    status, body = http_get(base_url + "/api/v1/alerts")
    if status != 200:
        return None
    return json.loads(body)["data"]["alerts"]


def wait_ready(proc, base_url, timeout):
    """Waits until GET /-/ready returns 200. Fails at once if the process exits."""

    def ready():
        if not proc.alive():
            raise AssertionError(f"{proc.name} exited early:\n{proc.log()}")
        return harness_status(base_url + "/-/ready") == 200

    wait_for(f"{proc.name} ready", ready, timeout)


def harness_status(url):
    return http_get(url)[0]


def find_alert(base_url, alertname, state=None):
    for alert in alerts(base_url) or []:
        if alert["labels"].get("alertname") == alertname and (state is None or
                                                              alert["state"] == state):
            return alert
    return None
