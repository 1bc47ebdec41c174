"""A real TensorBoard server reads a finished run: what the browser would show."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from experiments import xor


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


def test_tensorboard_serves_the_runs_train_loss(logdir):
    summary = xor.main(["--logdir", str(logdir), "--epochs", "8", "--run-name", "served",
                        "--quiet"])
    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1",
         "--port", str(port), "--reload_interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    run = "xor/served"
    try:
        deadline = time.monotonic() + 90
        runs = None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.skip(f"tensorboard could not start: {server.stdout.read()[-500:]}")
            try:
                runs = get_json(f"{base}/data/runs")
                if run in runs:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"tensorboard never listed run {run!r} (saw {runs!r})")

        query = urllib.parse.urlencode({"run": run, "tag": "train/loss"})
        points = []
        while time.monotonic() < deadline and len(points) < 9:
            points = get_json(f"{base}/data/plugin/scalars/scalars?{query}")
            time.sleep(0.3)
        steps = [step for _, step, _ in points]
        values = [value for _, _, value in points]
        assert steps == list(range(0, 9))  # epoch 0 is the untrained net
        history = summary["history"]
        assert values == pytest.approx([history["initial_loss"], *history["loss"]], rel=1e-6)
        tags = get_json(f"{base}/data/plugin/scalars/tags")
        assert {"train/loss", "train/lr", "train/accuracy"} <= set(tags[run])
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
