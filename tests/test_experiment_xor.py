"""``python -m experiments.xor`` end to end: files, TensorBoard events, flags, errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from experiments import xor

ROOT = Path(__file__).resolve().parents[1]


def run_xor(logdir, *flags):
    return xor.main(["--logdir", str(logdir), "--quiet", *flags])


def test_short_run_writes_figure_summary_and_tensorboard_events(logdir):
    summary = run_xor(logdir, "--epochs", "12", "--run-name", "short")
    run_dir = logdir / "xor" / "short"
    assert Path(summary["run_dir"]) == run_dir

    png = run_dir / "figure.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

    on_disk = json.loads((run_dir / "summary.json").read_text())
    for key in ("final_loss", "accuracy", "epochs", "seconds", "steps_per_second", "config"):
        assert key in on_disk
    assert on_disk["epochs"] == 12 and on_disk["steps"] == 12 * 120
    assert on_disk["config"]["lr"] == 2.0 and on_disk["config"]["hidden"] == 3

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0,
                                                           "histograms": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train/loss", "train/online_loss", "train/lr", "train/accuracy"} <= set(tags["scalars"])
    assert "custom_scalars__config__" not in tags["tensors"]  # no validation, no train-vs-val chart
    losses = [e.value for e in events.Scalars("train/loss")]
    assert [e.step for e in events.Scalars("train/loss")] == list(range(0, 13))  # from the start
    history = on_disk["history"]
    assert losses == pytest.approx([history["initial_loss"], *history["loss"]], rel=1e-6)
    online = [e.value for e in events.Scalars("train/online_loss")]
    assert online == pytest.approx(history["online_loss"], rel=1e-6)
    assert "views/final" in tags["images"]
    assert "weights/hidden.weight" in tags["histograms"]
    assert "weight_gradients/output.bias" in tags["histograms"]
    # hparams live in the run's own folder, not in a child folder
    assert [p for p in run_dir.iterdir() if p.is_dir()] == []


def test_runs_are_never_overwritten(logdir):
    run_xor(logdir, "--epochs", "1", "--run-name", "keep", "--no-tensorboard")
    summary = (logdir / "xor" / "keep" / "summary.json").read_text()
    with pytest.raises(SystemExit) as info:
        run_xor(logdir, "--epochs", "1", "--run-name", "keep")
    assert info.value.code == 2
    assert (logdir / "xor" / "keep" / "summary.json").read_text() == summary
    first = run_xor(logdir, "--epochs", "1", "--no-tensorboard")
    second = run_xor(logdir, "--epochs", "1", "--no-tensorboard")
    assert first["run_dir"] != second["run_dir"]


def test_no_tensorboard_writes_no_events(logdir):
    summary = run_xor(logdir, "--epochs", "1", "--no-tensorboard")
    assert not list(Path(summary["run_dir"]).glob("events.out.tfevents*"))


def test_progress_lines_and_summary_paragraph(logdir, capsys):
    xor.main(["--logdir", str(logdir), "--epochs", "20"])
    out = capsys.readouterr().out
    assert "epoch  0/20  loss" in out and "epoch  1/20  loss" in out
    assert "epoch 20/20  loss" in out and "acc " in out
    assert "lr 2" in out
    assert "Done: 20 epochs (2,400 updates)" in out and "summary.json" in out


def test_images_show_learning_from_epoch_0_where_the_picture_changes(logdir):
    summary = run_xor(logdir, "--epochs", "60", "--images", "6")
    events = EventAccumulator(summary["run_dir"], size_guidance={"images": 0})
    events.Reload()
    steps = [e.step for e in events.Images("views/learning")]
    assert steps[0] == 0 and steps[-1] == 60 and steps == sorted(set(steps)) and len(steps) <= 7
    # XOR changes most in its first 30 epochs: that is where most pictures are
    assert sum(step <= 30 for step in steps) > len(steps) / 2


@pytest.mark.parametrize("flags,message", [
    (["--lr", "0"], "argument --lr: must be a finite number > 0, got 0"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0"),
    (["--epochs", "0"], "argument --epochs: must be at least 1"),
    (["--anneal", "1.5"], r"argument --anneal: must be in \(0, 1\]"),
    (["--hidden", "0"], "argument --hidden: must be at least 1"),
    (["--batch-size", "-3"], "argument --batch-size: must be at least 1"),
    (["--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    (["--dtype", "float16"], "argument --dtype: invalid choice"),
    (["--noise", "-1"], "argument --noise: must be a finite number >= 0"),
    (["--run-name", "../x"], "run name '../x' is not allowed"),
])
def test_bad_flags_exit_2_with_a_one_line_message(logdir, capsys, flags, message):
    with pytest.raises(SystemExit) as info:
        run_xor(logdir, *flags)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    import re
    assert re.search(message, err), err
    assert not (logdir / "xor").exists() or not any((logdir / "xor").iterdir())


def test_cuda_flag_without_a_gpu_is_a_usage_error(logdir, capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SystemExit) as info:
        run_xor(logdir, "--device", "cuda")
    assert info.value.code == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err


def test_command_line_help_and_experiment_list():
    out = subprocess.run([sys.executable, "-m", "experiments.xor", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for flag in ("--epochs", "--lr", "--anneal", "--hidden", "--batch-size", "--seed", "--device",
                 "--dtype", "--logdir", "--run-name", "--no-tensorboard", "--quiet"):
        assert flag in out
    assert "(default: 300)" in out and "(default: 2.0)" in out
    listing = subprocess.run([sys.executable, "-m", "experiments"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert "xor" in listing


def test_a_failing_run_exits_1_and_still_closes_tensorboard(logdir, capsys, monkeypatch):
    # A sigmoid XOR net saturates instead of overflowing, so make fit fail on purpose
    # after one logged epoch (real divergence detection is tested in test_train.py).
    import experiments.common as common
    from torchann import TrainingDiverged, fit

    def fit_then_fail(*args, **kwargs):
        fit(*args, **(kwargs | {"epochs": 1}))
        raise TrainingDiverged("training diverged at epoch 2: the loss became nan")

    monkeypatch.setattr(common, "fit", fit_then_fail)
    with pytest.raises(SystemExit) as info:
        run_xor(logdir, "--epochs", "3", "--run-name", "boom")
    assert info.value.code == 1
    assert "error: training diverged at epoch 2" in capsys.readouterr().err
    events = EventAccumulator(str(logdir / "xor" / "boom"))
    events.Reload()  # flushed and closed: epoch 1's loss is on disk
    assert [e.step for e in events.Scalars("train/loss")] == [0, 1]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_seed_defaults_reach_97_percent(logdir, seed):
    summary = run_xor(logdir, "--seed", str(seed), "--no-tensorboard")
    assert summary["epochs"] == 300
    assert summary["accuracy"] >= 0.97, summary["accuracy"]


def test_lr_walks_from_the_command_line_into_one_record_per_file(logdir):
    """``--lr`` is checked by one function (its argparse type is the library's own check)
    and stored once in each file: the checkpoint's training arguments and summary.json's
    settings record. TensorBoard's config text is rendered from that record."""
    import torch

    from experiments.flags import training_parser
    from torchann.checks import check_learning_rate

    def paths_to(key, tree, path=()):
        if isinstance(tree, dict):
            for name, value in tree.items():
                yield from ([(*path, name)] if name == key else [])
                yield from paths_to(key, value, (*path, name))
        elif isinstance(tree, (list, tuple)):
            for i, value in enumerate(tree):
                yield from paths_to(key, value, (*path, i))

    lr_type = next(a.type for a in training_parser("p", "d", epochs=1, lr=1.0)._actions
                   if a.dest == "lr")
    with pytest.raises(Exception) as refused:
        lr_type("-1")
    with pytest.raises(ValueError) as library:
        check_learning_rate(-1.0)
    assert str(library.value) == f"lr {refused.value}"  # the same check, the same words

    summary = run_xor(logdir, "--epochs", "3", "--lr", "0.7", "--run-name", "walk")
    run_dir = Path(summary["run_dir"])
    saved = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    # The history keeps the learning rate each epoch used (η after annealing): a result.
    assert list(paths_to("lr", saved)) == [("history", "lr"), ("fit_args", "lr")]
    assert saved["fit_args"]["lr"] == 0.7 == saved["history"]["lr"][0]
    on_disk = json.loads((run_dir / "summary.json").read_text())
    assert [p for p in paths_to("lr", on_disk) if p[0] != "history"] == [("config", "lr")]
    assert on_disk["config"]["lr"] == 0.7
