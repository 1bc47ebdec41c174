"""Checkpoints, exact resume, Ctrl-C, safe loading, weight export, reproducibility."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from torchann import (MLP, Checkpoint, SingleLayerNet, TrainingDiverged, TwoLayerNet, Validation,
                      data, fit)
from torchann.runs.checkpoint import load_checkpoint
from torchann.train import TrainingInterrupted
from torchann.runs.weights import (weights_checksum, export_weights, import_weights,
                                   weights_to_dict)

ROOT = Path(__file__).resolve().parents[1]


def params_of(net):
    return [p.detach().clone() for p in net.parameters()]


def assert_identical(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert torch.equal(p, q)


SETTINGS = [
    dict(dtype=torch.float64, batch_size=1, shuffle=False, engine="autograd"),
    dict(dtype=torch.float64, batch_size=1, shuffle=True, engine="autograd"),
    dict(dtype=torch.float32, batch_size=7, shuffle=True, engine="autograd"),
    dict(dtype=torch.float64, batch_size=5, shuffle=True, engine="explicit"),
]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "-".join(map(str, s.values())))
def test_ten_plus_ten_epochs_equal_twenty_bit_for_bit(tmp_path, setting):
    x, t = data.logic_gate("xor", repeats=6, seed=2)
    kwargs = dict(lr=1.5, anneal=0.97, batch_size=setting["batch_size"],
                  shuffle=setting["shuffle"], seed=3, engine=setting["engine"])
    straight = TwoLayerNet(2, 3, 1, seed=1, dtype=setting["dtype"])
    full = fit(straight, x, t, epochs=20, **kwargs)

    first = TwoLayerNet(2, 3, 1, seed=1, dtype=setting["dtype"])
    fit(first, x, t, epochs=10, callbacks=[Checkpoint(tmp_path / "c.pt")], **kwargs)
    resumed = TwoLayerNet(2, 3, 1, seed=99, dtype=setting["dtype"])  # weights come from the file
    history = fit(resumed, x, t, epochs=20, resume=tmp_path / "c.pt",
                  callbacks=[Checkpoint(tmp_path / "c.pt")], **kwargs)
    assert_identical(params_of(resumed), params_of(straight))
    assert history.loss == full.loss and history.lr == full.lr
    assert history.accuracy == full.accuracy and history.steps == full.steps
    assert load_checkpoint(tmp_path / "c.pt")["epoch"] == 20


def test_resume_while_early_stopping_waits_ends_like_a_straight_run(tmp_path):
    """A checkpoint taken after the best epoch carries the patience count and best parameters."""
    gen = torch.Generator().manual_seed(0)
    # 12 random points with random targets: the net can only memorise them, so the
    # loss on unrelated validation points bottoms out early and then climbs.
    x, t = torch.randn(12, 4, generator=gen, dtype=torch.float64), torch.rand(12, 1, generator=gen,
                                                                               dtype=torch.float64)
    validation = (torch.randn(12, 4, generator=gen, dtype=torch.float64),
                  torch.rand(12, 1, generator=gen, dtype=torch.float64))
    kwargs = dict(lr=2.0, batch_size=4, shuffle=True, seed=1)
    straight = MLP([4, 16, 1], "tanh", output="sigmoid", seed=2, dtype=torch.float64)
    full = fit(straight, x, t, epochs=200, callbacks=[Validation(*validation, patience=3)], **kwargs)
    assert full.stopped_early and full.best_epoch is not None
    stop_epoch = len(full.loss)
    assert stop_epoch == full.best_epoch + 3
    # Stop the first session one epoch after the best one: the patience count is 1 there.
    first = MLP([4, 16, 1], "tanh", output="sigmoid", seed=2, dtype=torch.float64)
    part = fit(first, x, t, epochs=full.best_epoch + 1, **kwargs,
               callbacks=[Validation(*validation, patience=3), Checkpoint(tmp_path / "c.pt")])
    assert not part.stopped_early and part.best_epoch == full.best_epoch
    resumed = MLP([4, 16, 1], "tanh", output="sigmoid", seed=7, dtype=torch.float64)
    history = fit(resumed, x, t, epochs=200, resume=tmp_path / "c.pt", **kwargs,
                  callbacks=[Validation(*validation, patience=3)])
    assert history.stopped_early and history.best_epoch == full.best_epoch
    assert history.loss == full.loss and history.val_loss == full.val_loss
    assert len(history.loss) == stop_epoch  # it did not wait another full patience
    assert_identical(params_of(resumed), params_of(straight))  # the best epoch's, restored


def test_ctrl_c_mid_epoch_finishes_the_step_and_resumes_exactly(tmp_path):
    x, t = data.logic_gate("xor", repeats=6, seed=2)
    kwargs = dict(lr=2.0, shuffle=True, seed=5)
    straight = TwoLayerNet(2, 3, 1, seed=1, dtype=torch.float64)
    full = fit(straight, x, t, epochs=8, **kwargs)

    net = TwoLayerNet(2, 3, 1, seed=1, dtype=torch.float64)

    def press_ctrl_c(state):
        if state.epoch == 3:
            signal.raise_signal(signal.SIGINT)   # as if the user pressed Ctrl-C now

    previous = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background
    with pytest.raises(TrainingInterrupted) as info:
        fit(net, x, t, epochs=8, callbacks=[press_ctrl_c, Checkpoint(tmp_path / "c.pt")], **kwargs)
    assert (info.value.epoch, info.value.step) == (4, 1)  # stopped after one complete step
    saved = load_checkpoint(tmp_path / "c.pt")
    assert (saved["epoch"], saved["step"]) == (3, 1)
    assert signal.getsignal(signal.SIGINT) is previous  # our handler is gone again

    history = fit(net, x, t, epochs=8, resume=tmp_path / "c.pt", **kwargs)
    assert_identical(params_of(net), params_of(straight))
    assert history.loss == full.loss


def test_resuming_mid_epoch_needs_at_least_that_epoch(tmp_path):
    x, t = data.logic_gate("xor", repeats=6, seed=2)
    net = TwoLayerNet(2, 3, 1, seed=1, dtype=torch.float64)

    def press_ctrl_c(state):
        if state.epoch == 3:
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(TrainingInterrupted):
        fit(net, x, t, lr=2.0, epochs=8, callbacks=[press_ctrl_c, Checkpoint(tmp_path / "c.pt")])
    with pytest.raises(ValueError, match=r"is in epoch 4 \(after step 1\); ask for at least 4"):
        fit(net, x, t, lr=2.0, epochs=3, resume=tmp_path / "c.pt")


def test_divergence_after_a_mid_epoch_resume_keeps_the_resume_point(tmp_path):
    x, y = data.regression("abs", n=50)
    make = lambda: TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=0,  # noqa: E731
                               dtype=torch.float64)
    with pytest.raises(TrainingDiverged) as straight:
        fit(make(), x, 10 * y, lr=0.8, epochs=50)
    bad = int(re.search(r"epoch (\d+)", str(straight.value)).group(1))
    assert bad >= 2

    def press_ctrl_c(state):  # stop one step into the epoch that will diverge
        if state.epoch == bad - 1:
            signal.raise_signal(signal.SIGINT)

    net = make()
    with pytest.raises(TrainingInterrupted):
        fit(net, x, 10 * y, lr=0.8, epochs=50, callbacks=[press_ctrl_c, Checkpoint(tmp_path / "c.pt")])
    at_resume = load_checkpoint(tmp_path / "c.pt")
    assert (at_resume["epoch"], at_resume["step"]) == (bad - 1, 1)
    with pytest.raises(TrainingDiverged,
                       match=f"at step 1 of epoch {bad}, where this run resumed"):
        fit(net, x, 10 * y, lr=0.8, epochs=50, resume=tmp_path / "c.pt",
            callbacks=[Checkpoint(tmp_path / "c.pt")])
    saved = load_checkpoint(tmp_path / "c.pt")
    assert (saved["epoch"], saved["step"]) == (bad - 1, 1)  # resumable from the same point
    for name, p in net.named_parameters():
        assert torch.equal(p.detach(), at_resume["state_dict"][name])
        assert torch.equal(saved["state_dict"][name], at_resume["state_dict"][name])
    assert saved["history"]["steps"] == at_resume["history"]["steps"]
    assert torch.equal(saved["partial_losses"], at_resume["partial_losses"])


def test_ctrl_c_after_the_parameters_blew_up_rolls_back_instead_of_saving_them(tmp_path):
    x, y = data.regression("abs", n=50)
    net = TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=0, dtype=torch.float64)
    start = params_of(net)
    calls = []

    def press_ctrl_c_at_step_20(module, inputs, output):
        calls.append(1)
        if len(calls) == 20:  # lr=1e30 sent the weights to inf/NaN at step 6
            signal.raise_signal(signal.SIGINT)

    net.register_forward_hook(press_ctrl_c_at_step_20)
    with pytest.raises((TrainingDiverged, TrainingInterrupted)) as info:
        fit(net, x, 10 * y, lr=1e30, epochs=5, callbacks=[Checkpoint(tmp_path / "c.pt")])
    assert info.type is TrainingDiverged and "before epoch 1" in str(info.value)
    assert_identical(params_of(net), start)
    saved = load_checkpoint(tmp_path / "c.pt")  # the last good state, never the NaN one
    assert (saved["epoch"], saved["step"]) == (0, 0)
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values())


def test_an_unrelated_run_never_overwrites_a_checkpoint(tmp_path):
    x, t = data.logic_gate("or", repeats=3)
    fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=2, callbacks=[Checkpoint(tmp_path / "c.pt")])
    before = (tmp_path / "c.pt").read_bytes()
    with pytest.raises(ValueError, match="already holds a checkpoint of another run"):
        fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=2, callbacks=[Checkpoint(tmp_path / "c.pt")])
    assert (tmp_path / "c.pt").read_bytes() == before
    (tmp_path / "notes.pt").write_text("my notes")  # not a checkpoint at all: also kept
    with pytest.raises(ValueError, match="another run"):
        fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=1, callbacks=[Checkpoint(tmp_path / "notes.pt")])
    assert (tmp_path / "notes.pt").read_text() == "my notes"


def test_a_resumed_run_never_overwrites_another_runs_checkpoint(tmp_path, monkeypatch):
    x, t = data.logic_gate("or", repeats=3)
    for name in ("mine.pt", "theirs.pt"):
        fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=2, callbacks=[Checkpoint(tmp_path / name)])
    theirs = (tmp_path / "theirs.pt").read_bytes()
    for resumed_from in (None, tmp_path / "mine.pt"):
        with pytest.raises(ValueError, match="already holds a checkpoint of another run"):
            fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=4, resume=tmp_path / "mine.pt",
                callbacks=[Checkpoint(tmp_path / "theirs.pt", resumed_from=resumed_from)])
    with pytest.raises(ValueError, match="already holds a checkpoint of another run"):
        fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=4,  # a new run, whatever it claims
            callbacks=[Checkpoint(tmp_path / "theirs.pt", resumed_from=tmp_path / "theirs.pt")])
    assert (tmp_path / "theirs.pt").read_bytes() == theirs
    # Written back to the very file it was resumed from, which is not read a second time.
    import torchann.runs.checkpoint as module
    saved = load_checkpoint(tmp_path / "mine.pt")
    monkeypatch.setattr(module, "load_checkpoint", lambda *a: pytest.fail("read again"))
    fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=4, resume=saved,
        callbacks=[Checkpoint(tmp_path / "mine.pt", resumed_from=tmp_path / "mine.pt")])
    assert torch.load(tmp_path / "mine.pt", weights_only=True)["epoch"] == 4


def test_unwritable_checkpoint_folder_is_refused_before_training(tmp_path):
    (tmp_path / "file").write_text("x")
    net = TwoLayerNet(2, 3, 1)
    before = params_of(net)
    with pytest.raises(ValueError, match=r"cannot create the checkpoint folder \S+file: "
                                         r"\S+file is a file, not a folder"):
        fit(net, *data.logic_gate("or", repeats=2), lr=1.0, epochs=1,
            callbacks=[Checkpoint(tmp_path / "file" / "c.pt")])
    assert_identical(params_of(net), before)


@pytest.mark.parametrize("change,match", [
    (dict(lr=0.5), "cannot resume with lr=0.5: the checkpoint was made with lr=1.0"),
    (dict(seed=9), "cannot resume with seed=9"),
    (dict(engine="explicit"), "cannot resume with engine='explicit'"),
    (dict(epochs=2), "already finished 3 epochs; ask for at least 4 epochs"),
    (dict(track_accuracy=False), "cannot resume with track_accuracy=False"),
])
def test_resume_refuses_settings_that_would_make_a_different_run(tmp_path, change, match):
    x, t = data.logic_gate("or", repeats=3)
    fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=3, callbacks=[Checkpoint(tmp_path / "c.pt")])
    kwargs = dict(lr=1.0, epochs=6) | change
    with pytest.raises(ValueError, match=match):
        fit(TwoLayerNet(2, 3, 1), x, t, resume=tmp_path / "c.pt", **kwargs)


def test_resume_refuses_other_data_and_other_networks(tmp_path):
    x, t = data.logic_gate("or", repeats=3)
    fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=3, callbacks=[Checkpoint(tmp_path / "c.pt")])
    with pytest.raises(ValueError, match="different data"):
        fit(TwoLayerNet(2, 3, 1), x + 1, t, lr=1.0, epochs=6, resume=tmp_path / "c.pt")
    with pytest.raises(ValueError, match="different network"):
        fit(TwoLayerNet(2, 4, 1), x, t, lr=1.0, epochs=6, resume=tmp_path / "c.pt")


def test_divergence_checkpoints_the_last_good_parameters(tmp_path):
    x, y = data.regression("abs", n=50)
    net = TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=0)
    with pytest.raises(TrainingDiverged):
        fit(net, x, 10 * y, lr=0.8, epochs=50, callbacks=[Checkpoint(tmp_path / "c.pt")])
    saved = load_checkpoint(tmp_path / "c.pt")
    for name, p in net.named_parameters():
        assert torch.isfinite(p).all()
        assert torch.equal(saved["state_dict"][name], p.detach())
    assert saved["step"] == 0 and saved["epoch"] == len(saved["history"]["loss"])


class _RunsCode:
    """Unpickling this would create a file: a stand-in for a malicious payload."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_carrying_pickled_code_is_refused_and_never_run(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "run" / "checkpoint.pt"
    evil.parent.mkdir()
    torch.save({"format": "torchann-checkpoint", "version": 1, "payload": _RunsCode(marker)}, evil)
    with pytest.raises(ValueError, match="refusing to load .*pickled Python objects"):
        load_checkpoint(evil)
    with pytest.raises(ValueError, match="refusing to load"):
        fit(TwoLayerNet(2, 3, 1), *data.logic_gate("or", repeats=2), lr=1.0, epochs=2, resume=evil)
    from experiments import xor
    with pytest.raises(SystemExit) as info:
        xor.main(["--resume", str(evil.parent)])
    assert info.value.code == 2
    assert "refusing to load" in capsys.readouterr().err
    assert not marker.exists()
    with open(evil, "rb") as stream:  # sanity: plain pickle would have run it
        assert b"system" in stream.read()


@pytest.mark.parametrize("junk,match", [(b"not a checkpoint", "not a readable checkpoint"),
                                        (None, "not a torchann checkpoint")])
def test_other_files_are_not_checkpoints(tmp_path, junk, match):
    path = tmp_path / "c.pt"
    if junk is None:
        torch.save({"weights": torch.zeros(2)}, path)
    else:
        path.write_bytes(junk)
    with pytest.raises(ValueError, match=match):
        load_checkpoint(path)
    with pytest.raises(ValueError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize("make", [
    lambda d: SingleLayerNet(2, 1, "sigmoid", seed=1, dtype=d),
    lambda d: TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=2, dtype=d),
    lambda d: MLP([3, 5, 4, 2], ["relu", "softplus", "sigmoid"], seed=3, dtype=d),
])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_weights_round_trip_through_json_bit_for_bit(tmp_path, make, dtype):
    net = make(dtype)
    path = export_weights(net, tmp_path / "w.json")
    plain = json.loads(path.read_text())  # readable by anything that reads JSON
    assert plain["sizes"][0] == net.n_in and len(plain["layers"]) == len(net.layers)
    loaded = import_weights(path)
    assert type(loaded) is type(net) and loaded.architecture() == net.architecture()
    assert_identical(params_of(loaded), params_of(net))
    x = torch.rand(4, net.n_in, dtype=dtype)
    assert torch.equal(loaded(x), net(x))


@pytest.mark.parametrize("edit,match", [
    (lambda s: s | {"format": "other"}, "'format' must be 'torchann-weights'"),
    (lambda s: s | {"sizes": [2, 3]}, "do not agree"),
    (lambda s: {**s, "layers": [s["layers"][0] | {"weight": [[1.0]]}, s["layers"][1]]},
     r"layer 0 weight has shape \(1, 1\), expected \(2, 3\)"),
    (lambda s: {**s, "layers": [s["layers"][0] | {"bias": [[float("nan")] * 3]}, s["layers"][1]]},
     "contains NaN or inf"),
    (lambda s: s | {"activations": ["sigmoid", "swish"]}, "unknown activation 'swish'"),
])
def test_bad_weight_files_get_clear_errors(tmp_path, edit, match):
    spec = edit(weights_to_dict(TwoLayerNet(2, 3, 1)))
    spec["checksum"] = weights_checksum(spec)  # intact as a file, wrong in what it says
    path = tmp_path / "w.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=match):
        import_weights(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        import_weights(path)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_and_flags_give_identical_runs_on_cpu(tmp_path, dtype):
    from experiments import ring
    runs = [ring.main(["--epochs", "6", "--seed", "4", "--dtype", dtype, "--logdir", str(tmp_path),
                       "--quiet", "--no-tensorboard", "--batch-size", "3"]) for _ in range(2)]
    assert runs[0]["history"]["loss"] == runs[1]["history"]["loss"]
    weights = [json.loads(Path(r["weights"]).read_text()) for r in runs]
    assert weights[0] == weights[1]


def test_resuming_a_finished_run_for_more_epochs_keeps_its_earlier_files(tmp_path):
    from experiments import xor
    first = xor.main(["--epochs", "3", "--logdir", str(tmp_path), "--run-name", "r", "--quiet"])
    run = Path(first["run_dir"])
    figure = (run / "figure.png").read_bytes()
    second = xor.main(["--resume", str(run), "--epochs", "5", "--quiet"])
    assert second["epochs"] == 5 and second["history"]["loss"][:3] == first["history"]["loss"]
    assert (run / "figure.epoch3.png").read_bytes() == figure
    assert (run / "summary.epoch3.json").exists() and (run / "weights.epoch3.json").exists()


@pytest.mark.parametrize("flags,message", [
    (["--lr", "0.5"], "--lr cannot change when resuming (the run used 2.0, got 0.5)"),
    (["--noise", "0.3"], "--noise cannot change when resuming"),
])
def test_resume_flags_that_would_change_the_run_are_usage_errors(tmp_path, capsys, flags, message):
    from experiments import xor
    first = xor.main(["--epochs", "2", "--logdir", str(tmp_path), "--quiet", "--no-tensorboard"])
    with pytest.raises(SystemExit) as info:
        xor.main(["--resume", first["run_dir"], "--epochs", "4", *flags])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_resuming_a_run_with_the_wrong_experiment_is_refused(tmp_path, capsys):
    from experiments import ring, xor
    first = xor.main(["--epochs", "2", "--logdir", str(tmp_path), "--quiet", "--no-tensorboard"])
    with pytest.raises(SystemExit):
        ring.main(["--resume", first["run_dir"], "--epochs", "4"])
    assert "is a run of 'xor', not of 'ring'" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_on_the_command_line_exits_130_and_resume_matches_a_straight_run(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "experiments.xor", "--epochs", "250", "--dtype", "float64",
               "--logdir", str(tmp_path)]
    process = subprocess.Popen([*command, "--run-name", "stopped"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "training" in process.stdout.readline()
    assert "epoch" in process.stdout.readline()  # training is under way
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "Resume with: python -m experiments.xor --resume" in err
    run = tmp_path / "xor" / "stopped"
    saved = load_checkpoint(run)
    assert 0 < saved["epoch"] < 250

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(run))
    events.Reload()  # flushed: the epochs before the interrupt are on disk
    assert len(events.Scalars("train/loss")) >= 1

    subprocess.run([sys.executable, "-m", "experiments.xor", "--resume", str(run), "--quiet"],
                   cwd=ROOT, env=env, check=True)
    subprocess.run([*command, "--run-name", "straight", "--quiet", "--no-tensorboard"], cwd=ROOT,
                   env=env, check=True)
    resumed = json.loads((run / "summary.json").read_text())
    straight = json.loads((tmp_path / "xor" / "straight" / "summary.json").read_text())
    assert resumed["history"]["loss"] == straight["history"]["loss"]
    assert json.loads((run / "weights.json").read_text()) == \
        json.loads((tmp_path / "xor" / "straight" / "weights.json").read_text())
