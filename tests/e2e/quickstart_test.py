"""End to end: the README's first command.

Runs `alertd run` on a copy of examples/quickstart/ with its port replaced by a free one. Checks
that TargetDown goes pending and then fires for the target where nothing listens, that the
state changes are logged, and that /api/v1/alerts lists the firing alert.
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertd", required=True)
    args = parser.parse_args()

    work = harness.Workdir("alertd-e2e-quickstart-")
    alertd = None
    try:
        port = harness.free_port()
        dead_port = harness.free_port()
        for name in ("alertd.yml", "rules.yml"):
            with open(os.path.join(SOURCE_DIR, "examples", "quickstart", name)) as f:
                text = f.read()
            text = text.replace("127.0.0.1:9095", f"127.0.0.1:{port}")
            text = text.replace("127.0.0.1:19999", f"127.0.0.1:{dead_port}")
            with open(os.path.join(work.path, name), "w") as f:
                f.write(text)

        base = f"http://127.0.0.1:{port}"
        alertd = harness.Process("alertd", [args.alertd, "run", "--config.file=alertd.yml"],
                                 work.path)
        harness.wait_ready(alertd, base, 30)
        harness.wait_for("TargetDown pending",
                         lambda: harness.find_alert(base, "TargetDown", "pending"), 30)
        firing = harness.wait_for("TargetDown firing",
                                  lambda: harness.find_alert(base, "TargetDown", "firing"), 60)
        assert firing["labels"]["instance"] == f"127.0.0.1:{dead_port}", firing
        assert firing["labels"]["job"] == "missing", firing
        assert firing["labels"]["team"] == "demo", firing
        assert firing["labels"]["severity"] == "warning", firing
        assert firing["annotations"]["summary"] == (
            f"Target 127.0.0.1:{dead_port} of job missing is down"), firing

        log = alertd.log()
        for state in ("to=pending", "to=firing"):
            lines = [line for line in log.splitlines()
                     if "alert=TargetDown" in line and state in line]
            assert lines, f"no log line with {state} for TargetDown:\n{log}"
        # alertd's own target is up: only one TargetDown alert exists.
        downs = [a for a in harness.alerts(base) if a["labels"]["alertname"] == "TargetDown"]
        assert len(downs) == 1, downs

        # A second daemon on the same storage directory is rejected: both would notify.
        with open(os.path.join(work.path, "alertd.yml")) as f:
            text = f.read().replace(f"127.0.0.1:{port}", f"127.0.0.1:{harness.free_port()}")
        with open(os.path.join(work.path, "second.yml"), "w") as f:
            f.write(text)
        second = subprocess.run([args.alertd, "run", "--config.file=second.yml"],
                                cwd=work.path, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1, f"second daemon exit code {second.returncode}"
        assert "Storage directory is locked by another alertd process" in second.stderr, (
            second.stderr)

        code = alertd.terminate()
        assert code == 0, f"exit code {code}"
        print("PASS: quickstart")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        if alertd is not None:
            print("\n".join(alertd.log().splitlines()[-60:]))
        return 1
    finally:
        if alertd is not None:
            alertd.close()
        work.close()


if __name__ == "__main__":
    sys.exit(main())
