"""Every seed experiment in-process: short runs write their files; full runs meet the seed's results."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from experiments import (EXPERIMENTS, activations, all as all_figures, backprop_steps, error_surface,
                         generalization, logic, regression, restarts, ring, xor)

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"

SHORT_TRAINING_RUNS = [
    ("logic-or", logic, ["--gate", "or", "--epochs", "4"]),
    ("logic-xor", logic, ["--gate", "xor", "--epochs", "4"]),
    ("xor", xor, ["--epochs", "4"]),
    ("ring", ring, ["--epochs", "3"]),
    ("regression-sin", regression, ["--target", "sin", "--epochs", "4"]),
    ("regression-abs", regression, ["--target", "abs", "--epochs", "4", "--dtype", "float64"]),
]


def assert_run_files(run_dir: Path, scalar: str):
    assert (run_dir / "figure.png").read_bytes()[:8] == PNG
    assert (run_dir / "figure.png").stat().st_size > 10_000
    summary = json.loads((run_dir / "summary.json").read_text())
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    assert scalar in events.Tags()["scalars"]
    return summary, events


@pytest.mark.parametrize("name,module,flags", SHORT_TRAINING_RUNS, ids=[r[0] for r in SHORT_TRAINING_RUNS])
def test_short_training_runs_write_png_summary_events_and_images(logdir, name, module, flags):
    summary = module.main([*flags, "--logdir", str(logdir), "--run-name", "t", "--quiet",
                           "--images", "3"])
    saved, events = assert_run_files(logdir / name / "t", "train/loss")
    assert saved["epochs"] == int(flags[flags.index("--epochs") + 1])
    assert saved["history"]["loss"] == summary["history"]["loss"]
    steps = [e.step for e in events.Images("views/learning")]
    assert steps[0] == 0 and len(steps) > 1  # the picture evolves in the Images tab, from the start
    assert "views/final" in events.Tags()["images"]
    has_hidden_layer = not name.startswith("logic")  # the single-layer nets have no hidden units
    assert ("views/hidden_units" in events.Tags()["images"]) == has_hidden_layer
    assert ("hidden_units" in saved) == has_hidden_layer
    if has_hidden_layer:
        assert Path(saved["hidden_units"]).read_bytes()[:8] == PNG
    assert set(saved["timing_seconds"]) >= {"training", "figure", "tensorboard_images"}


def test_regression_summary_reports_the_fit_against_the_true_function(logdir):
    summary = regression.main(["--target", "sin", "--epochs", "2", "--logdir", str(logdir),
                               "--quiet", "--no-tensorboard"])
    assert summary["fit_mse"] > 0 and summary["fit_success"] == (summary["fit_mse"] < 0.1)
    assert summary["accuracy"] is None
    assert summary["config"]["seed"] == 1 and summary["config"]["anneal"] == 0.99


def test_animate_writes_an_animated_gif(logdir):
    summary = xor.main(["--epochs", "6", "--frames", "4", "--animate", "--logdir", str(logdir),
                        "--quiet", "--no-tensorboard"])
    with Image.open(summary["animation"]) as gif:
        assert gif.format == "GIF" and gif.size[0] >= 900  # legible labels
        assert gif.n_frames >= 3  # epoch 0, ..., epoch 6 (held frames merge into one)


def test_activations_figure_uses_our_backward_and_matches_the_formulas(logdir):
    summary = activations.main(["--logdir", str(logdir), "--run-name", "a", "--quiet"])
    run_dir = logdir / "activations" / "a"
    assert (run_dir / "figure.png").read_bytes()[:8] == PNG
    gaps = json.loads((run_dir / "summary.json").read_text())["max_derivative_gap"]
    from torchann.functional import ACTIVATION_NAMES
    assert set(gaps) == set(ACTIVATION_NAMES)  # every elementwise activation of the table
    assert max(gaps.values()) < 1e-12
    assert summary["max_derivative_gap"] == gaps


def test_activations_derivatives_come_from_the_functions_backward(monkeypatch):
    """Break our sigmoid's backward and the figure's derivative must change with it."""
    import torch

    from torchann import functional

    z = torch.linspace(-4, 4, 9, dtype=torch.float64)
    _, good = activations.derivatives_by_autograd(["sigmoid"], z)
    monkeypatch.setattr(functional.Sigmoid, "backward",
                        staticmethod(lambda ctx, grad_output: 2 * grad_output))
    _, broken = activations.derivatives_by_autograd(["sigmoid"], z)
    assert torch.equal(broken["sigmoid"], torch.full_like(z, 2.0))
    assert not torch.equal(good["sigmoid"], broken["sigmoid"])


def test_error_surface_grid_path_and_files(logdir):
    summary = error_surface.main(["--logdir", str(logdir), "--run-name", "e", "--quiet",
                                  "--steps", "50"])
    run_dir = logdir / "error_surface" / "e"
    assert (run_dir / "figure.png").read_bytes()[:8] == PNG
    assert summary["grid"] == 50 and summary["extent"] == 10.0
    # sigmoid outputs lie in (0, 1), so with t = 1 the error ½(a − 1)² lies in (0, 0.5)
    assert 0 <= summary["two_weights"]["min"] < 0.01 and 0.45 < summary["two_weights"]["max"] <= 0.5
    assert [d["start"] for d in summary["descent"]] == [[-6.0, 2.0], [2.0, -6.0]]
    for d in summary["descent"]:
        assert d["end_error"] <= d["start_error"]
    events = EventAccumulator(str(run_dir))
    events.Reload()
    assert "descent0/error" in events.Tags()["scalars"]


def test_error_surface_is_one_batched_pass_equal_to_pointwise_values():
    import torch

    w = torch.linspace(-10, 10, 7, dtype=torch.float64)
    w1, w2 = torch.meshgrid(w, w, indexing="xy")
    batched = error_surface.error_two_weights(w1, w2)
    for i in range(7):
        for j in range(7):
            a = torch.sigmoid(w2[i, j] * torch.sigmoid(w1[i, j]))
            assert batched[i, j].item() == pytest.approx(0.5 * (a.item() - 1) ** 2, rel=1e-12)


def test_gradient_descent_path_escapes_or_sticks_as_documented():
    _, escaped = error_surface.descend((-6.0, 2.0), lr=5.0, steps=400)
    _, stuck = error_surface.descend((2.0, -6.0), lr=5.0, steps=400)
    assert escaped[-1] < 0.01
    assert stuck[-1] == pytest.approx(0.125, abs=0.002)  # the a = 0.5 plateau


@pytest.mark.parametrize("module,flags,message", [
    (logic, ["--gate", "nand"], "argument --gate: invalid choice: 'nand'"),
    (regression, ["--target", "cos"], "argument --target: invalid choice: 'cos'"),
    (regression, ["--points", "1"], "argument --points: must be at least 2"),
    (error_surface, ["--grid", "1"], "argument --grid: must be at least 2"),
    (error_surface, ["--start", "1", "nan"], "argument --start: must be finite"),
    (error_surface, ["--lr", "-1"], "argument --lr: must be a finite number > 0, got -1"),
    # every script's learning rate is judged by the library's check_learning_rate
    (backprop_steps, ["--lr", "inf"], "argument --lr: must be a finite number > 0, got inf"),
    (generalization, ["--lr", "0"], "argument --lr: must be a finite number > 0, got 0.0"),
    (restarts, ["--lrs", "1", "nan"], "argument --lrs: must be a finite number > 0, got nan"),
    (activations, ["--names", "sigmiod"], "unknown activation 'sigmiod'"),
    (ring, ["--repeats", "0"], "argument --repeats: must be at least 1"),
])
def test_bad_flags_are_usage_errors(logdir, capsys, module, flags, message):
    with pytest.raises(SystemExit) as info:
        module.main([*flags, "--logdir", str(logdir)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not logdir.exists() or not any(logdir.rglob("*.png"))


def test_a_real_divergence_exits_1_with_the_epoch(logdir, capsys):
    with pytest.raises(SystemExit) as info:
        regression.main(["--target", "abs", "--lr", "5", "--epochs", "20", "--logdir", str(logdir),
                         "--quiet"])
    assert info.value.code == 1
    assert "diverged at epoch" in capsys.readouterr().err


def test_experiment_list_names_every_module():
    out = subprocess.run([sys.executable, "-m", "experiments"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    for name in EXPERIMENTS:
        assert name in out
        assert (ROOT / "experiments" / f"{name}.py").exists()


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_text("x"), "cannot create the --out folder .*out is a file, not a folder"),
    (lambda p: (p.mkdir(), (p / "mine.png").write_text("x")), "already exists and is not empty"),
])
def test_all_refuses_an_out_path_it_would_clobber(tmp_path, capsys, make, message):
    out = tmp_path / "out"
    make(out)
    with pytest.raises(SystemExit) as info:
        all_figures.main(["--out", str(out)])
    assert info.value.code == 2
    assert re.search(message, capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_all_recreates_every_figure_into_one_new_folder(tmp_path, capsys):
    out = tmp_path / "figures"
    result = all_figures.main(["--out", str(out), "--epochs-scale", "0.02", "--no-tensorboard"])
    stems = [stem for stem, _, _ in all_figures.FIGURES]
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(stems)
    for stem in stems:
        assert (out / f"{stem}.png").read_bytes()[:8] == PNG
    printed = capsys.readouterr().out
    assert "Where the time went" in printed and str(out) in printed
    assert set(result["timing_seconds"]) == set(stems)
    with pytest.raises(SystemExit) as info:  # never overwrite an existing figure folder
        all_figures.main(["--out", str(out)])
    assert info.value.code == 2


# --- the seed's results at full length, seeds 0-4 (none chosen to pass) -------------------

SEEDS = [0, 1, 2, 3, 4]


def _full(module, flags, logdir, seed):
    return module.main([*flags, "--seed", str(seed), "--logdir", str(logdir), "--quiet",
                        "--no-tensorboard"])


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("gate", ["or", "and"])
def test_single_layer_learns_or_and_and(logdir, gate, seed):
    summary = _full(logic, ["--gate", gate], logdir, seed)
    assert summary["epochs"] == 80
    assert summary["accuracy"] >= 0.97


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_single_layer_cannot_learn_xor(logdir, seed):
    assert _full(logic, ["--gate", "xor"], logdir, seed)["accuracy"] <= 0.80


@pytest.mark.slow
def test_two_layers_learn_the_ring_for_most_starts(logdir):
    """Three hidden units can enclose the centre, but some starts settle in a local minimum.

    Seeds 0-9 all run; a start that ends with two parallel boundaries (a stripe
    instead of a closed region) misclassifies the stripe's ends and stays there.
    Measured: 8 of 10 reach 94%, seeds 3 and 8 get stuck (README, "Results").
    """
    accuracy = {seed: _full(ring, [], logdir, seed)["accuracy"] for seed in range(10)}
    print("ring accuracy by seed:", accuracy)
    assert accuracy[0] >= 0.94  # the default seed
    solved = [seed for seed, a in accuracy.items() if a >= 0.94]
    assert len(solved) >= 7, accuracy


@pytest.mark.slow
def test_regression_default_seed_fits_both_targets(logdir):
    for target in ("sin", "abs"):
        summary = _full(regression, ["--target", target], logdir, 1)
        assert summary["fit_success"], (target, summary["fit_mse"])


def test_tensorboard_text_holds_the_real_settings_and_the_final_results(logdir):
    summary = logic.main(["--gate", "or", "--epochs", "3", "--logdir", str(logdir), "--quiet",
                          "--run-name", "t"])
    events = EventAccumulator(str(logdir / "logic-or" / "t"), size_guidance={"tensors": 0})
    events.Reload()

    def text(tag):
        return events.Tensors(f"{tag}/text_summary")[0].tensor_proto.string_val[0].decode()

    config = text("config")
    assert "architecture = 2 -> 1 sigmoid" in config and "gate = or" in config
    assert "noise = 0.15" in config and "repeats = 30" in config
    assert "hidden =" not in config  # a single-layer net has no hidden units
    assert f"final_loss = {summary['final_loss']:.6g}" in text("results")
