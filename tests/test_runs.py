"""Run folders are never reused; JSON is written atomically."""

import json
import os

import pytest

from torchann.checks import resolve_device
from torchann.runs.folders import new_run_dir, write_json


def test_run_folders_are_fresh_and_never_reused(tmp_path):
    first = new_run_dir(tmp_path, "xor")
    second = new_run_dir(tmp_path, "xor")
    assert first != second and first.is_dir() and second.is_dir()
    assert first.parent == tmp_path / "xor"


def test_a_named_run_that_exists_is_refused_and_left_alone(tmp_path):
    run = new_run_dir(tmp_path, "xor", "mine")
    (run / "keep.txt").write_text("precious")
    with pytest.raises(ValueError, match="already exists"):
        new_run_dir(tmp_path, "xor", "mine")
    assert (run / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("name", ["../escape", "a/b", "", " spaced", ".hidden"])
def test_unsafe_run_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="is not allowed"):
        new_run_dir(tmp_path, "xor", name)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_logdir_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ValueError, match="cannot create|not writable"):
        new_run_dir(locked, "xor")


def test_logdir_that_is_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="cannot create the log folder"):
        new_run_dir(blocker, "xor")


def test_write_json_leaves_no_temporary_files(tmp_path):
    path = write_json(tmp_path / "summary.json", {"a": 1, "b": [1.5, None]})
    assert json.loads(path.read_text()) == {"a": 1, "b": [1.5, None]}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")


def test_cuda_without_a_gpu_is_a_clear_error():
    import torch
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        resolve_device("cuda")
