"""End to end: the sample window survives SIGKILL.

alertd scrapes a counter that this test serves on 127.0.0.1 every second. The test waits until
rate() over the scraped samples has a value, kills alertd with SIGKILL and starts it again with
the scrape target gone. Right after the restart rate() must still have a value from the
replayed samples, and the log must name the replayed checkpoint. A SIGTERM then flushes the
log, so a third start replays at least as many samples.
"""

import argparse
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: counter
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
storage:
  path: data/
  snapshot_interval: 2s
web:
  listen_address: 127.0.0.1:{port}
"""


class CounterServer:
    """Serves /metrics with a counter that grows by 10 on every request."""

    def __init__(self):
        self.count = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.count += 10
                body = (
                    "# TYPE checkpoint_requests_total counter\n"
                    f"checkpoint_requests_total {outer.count}\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        if self.thread is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread = None


def query(base, expr):
    """Returns the instant vector of `expr` at now, or None when the request fails."""
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = harness.http_get(url)
    if status != 200:
        return None
    data = json.loads(body)
    assert data["status"] == "success", data
    return data["data"]["result"]


def rate_value(base):
    result = query(base, "rate(checkpoint_requests_total[1m])")
    if not result:
        return None
    return float(result[0]["value"][1])


def replayed_samples(log):
    """Returns the samples= count of the last "Replayed the sample checkpoint" line."""
    counts = re.findall(r'msg="Replayed the sample checkpoint".* samples=(\d+)', log)
    assert counts, f"no replay line in the log:\n{log}"
    return int(counts[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertd", required=True)
    args = parser.parse_args()

    work = harness.Workdir("alertd-e2e-checkpoint-")
    target = CounterServer()
    alertd = None
    try:
        port = harness.free_port()
        base = f"http://127.0.0.1:{port}"
        config_path = os.path.join(work.path, "alertd.yml")
        with open(config_path, "w") as f:
            f.write(CONFIG.format(target_port=target.port, port=port))
        argv = [args.alertd, "run", "--config.file=alertd.yml"]

        alertd = harness.Process("alertd", argv, work.path)
        harness.wait_ready(alertd, base, 30)
        harness.wait_for("rate() of the scraped counter", lambda: rate_value(base), 30)
        # A few more scrapes, so that some are flushed before and after a snapshot.
        time.sleep(4)
        alertd.kill()
        first_log = alertd.log()
        alertd.close()

        # The target is gone: every sample the restarted alertd has comes from the checkpoint.
        target.close()
        alertd = harness.Process("alertd", argv, work.path)
        harness.wait_ready(alertd, base, 30)
        value = rate_value(base)
        assert value is not None and value > 0, (
            f"rate() after the restart is {value}, expected the replayed history")
        log = alertd.log()
        samples = replayed_samples(log)
        assert samples >= 3, f"replayed {samples} samples, expected at least 3:\n{log}"
        for bad in ("Opening the sample checkpoint failed", "Writing the sample"):
            assert bad not in first_log, first_log
            assert bad not in log, log

        code = alertd.terminate()
        assert code == 0, f"exit code {code}"
        alertd.close()

        # SIGTERM flushed the log: a third start replays what the second one had, and more
        # (the restarted scraper's staleness markers and failed-scrape samples).
        alertd = harness.Process("alertd", argv, work.path)
        harness.wait_ready(alertd, base, 30)
        again = replayed_samples(alertd.log())
        assert again >= samples, f"third start replayed {again} samples, second {samples}"
        assert rate_value(base) is not None, "rate() after the third start has no value"
        code = alertd.terminate()
        assert code == 0, f"exit code {code}"
        print("PASS: checkpoint")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        if alertd is not None:
            print("\n".join(alertd.log().splitlines()[-60:]))
        return 1
    finally:
        if alertd is not None:
            alertd.close()
        target.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
