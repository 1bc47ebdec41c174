"""A real TensorBoard server reads a finished run: what the browser shows."""

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from experiments import xor

RUN = "xor/served"


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


@pytest.fixture
def served(logdir):
    """(base URL, summary) of an 8-epoch XOR run served by a real tensorboard on loopback."""
    summary = xor.main(["--logdir", str(logdir), "--epochs", "8", "--run-name", "served",
                        "--quiet", "--images", "4"])
    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1",
         "--port", str(port), "--reload_interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        runs = None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.skip(f"tensorboard could not start: {server.stdout.read()[-500:]}")
            try:
                runs = get_json(f"{base}/data/runs")
                if RUN in runs:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"tensorboard never listed run {RUN!r} (saw {runs!r})")
        yield base, summary
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_tensorboard_serves_the_runs_train_loss_from_epoch_0(served):
    base, summary = served
    query = urllib.parse.urlencode({"run": RUN, "tag": "train/loss"})
    points, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline and len(points) < 9:
        points = get_json(f"{base}/data/plugin/scalars/scalars?{query}")
        time.sleep(0.3)
    steps = [step for _, step, _ in points]
    values = [value for _, _, value in points]
    assert steps == list(range(0, 9))  # epoch 0 is the untrained net
    history = summary["history"]
    assert values == pytest.approx([history["initial_loss"], *history["loss"]], rel=1e-6)
    tags = get_json(f"{base}/data/plugin/scalars/tags")
    assert {"train/loss", "train/lr", "train/accuracy"} <= set(tags[RUN])
    query = urllib.parse.urlencode({"run": RUN, "tag": "views/learning"})
    images = get_json(f"{base}/data/plugin/images/images?{query}")
    assert images[0]["step"] == 0  # the Images tab's slider starts at the random start


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="needs Debian's chromium (apt-get install -y chromium; .ci/run does)")
def test_a_browser_opening_tensorboard_sees_the_training_loss_first(served, tmp_path):
    """Headless Chromium renders the Time Series page as a user opens it."""
    base, _ = served
    command = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
               "--window-size=1600,1200", "--virtual-time-budget=15000"]
    dom = subprocess.run([*command, "--dump-dom", f"{base}/#timeseries"], capture_output=True,
                         text=True, timeout=120).stdout
    subprocess.run([*command, f"--screenshot={tmp_path / 'timeseries.png'}",
                    f"{base}/#timeseries"], capture_output=True, timeout=120)
    (tmp_path / "timeseries.html").write_text(dom)
    assert "train/loss" in dom, "the Time Series page did not render the run's cards"
    # Group headers in page order: the training curves must be the first group opened.
    headers = re.findall(r'class="group-title" title="([^"]+)"', dom)
    assert headers and headers[0] == "train", headers
    assert (tmp_path / "timeseries.png").stat().st_size > 10_000
