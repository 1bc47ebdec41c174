"""Shared test setup: headless matplotlib, the slow marker, and the device list."""

import os

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests explore new random examples on every local run; in CI (CI=true)
# they replay a fixed sequence, so a failure there is reproducible, not flaky.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

CUDA = torch.cuda.is_available()
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.cuda,
                                pytest.mark.skipif(not CUDA, reason="no CUDA GPU on this machine")]),
]


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the slow, full-length tests (or set TORCHANN_SLOW=1)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("TORCHANN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or TORCHANN_SLOW=1 (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def logdir(tmp_path):
    return tmp_path / "runs"
