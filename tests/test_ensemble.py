"""Ensembles: member k equals the same network trained alone by fit."""

import csv
import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from conftest import DEVICES
from torchann import MLP, TwoLayerNet, data, fit
from torchann.ensemble.distributed import shard
from torchann.ensemble.model import Ensemble
from torchann.ensemble.train import fit_ensemble

ROOT = Path(__file__).resolve().parents[1]
F64 = torch.float64


def assert_member_equals_solo(ensemble, history, k, solo, solo_history):
    for p, q in zip(solo.parameters(), ensemble.parameters()):
        assert_close(q[k], p.detach(), rtol=0, atol=1e-12)
    assert_close(history.stacked("online_loss")[:, k], torch.tensor(solo_history.online_loss, dtype=F64),
                 rtol=1e-12, atol=1e-15)
    assert_close(history.final_loss[k], torch.tensor(solo_history.loss[-1], dtype=F64),
                 rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("engine", ["autograd", "explicit"])
@pytest.mark.parametrize("shuffle,batch_size", [(False, 1), ("shared", 1), ("member", 1),
                                                ("member", 5), (False, None)])
def test_each_member_equals_fit_alone(device, engine, shuffle, batch_size):
    x, t = data.logic_gate("xor", repeats=5, seed=1)
    seeds, lrs, anneals = [3, 11, 0, 7], [2.0, 1.0, 0.5, 3.0], [1.0, 0.99, 0.9, 0.95]
    ensemble = Ensemble([2, 3, 1], "sigmoid", seeds=seeds, dtype=F64, device=device)
    history = fit_ensemble(ensemble, x, t, lr=lrs, anneal=anneals, epochs=20, shuffle=shuffle,
                           seed=42, batch_size=batch_size, engine=engine)
    for k in (0, 2, 3):
        solo = TwoLayerNet(2, 3, 1, seed=seeds[k], dtype=F64, device=device)
        solo_history = fit(solo, x, t, lr=lrs[k], anneal=anneals[k], epochs=20,
                           batch_size=batch_size, shuffle=bool(shuffle),
                           seed=42 if shuffle == "shared" else seeds[k], engine=engine)
        assert_member_equals_solo(ensemble, history, k, solo, solo_history)
        assert_close(history.stacked("accuracy")[:, k], torch.tensor(solo_history.accuracy,
                                                                     dtype=F64))


def test_deeper_regression_members_equal_fit_alone():
    x, y = data.regression("sin", n=30, seed=2)
    ensemble = Ensemble([1, 5, 4, 1], "tanh", "identity", seeds=[1, 2], dtype=F64)
    history = fit_ensemble(ensemble, x, y, lr=0.05, anneal=0.99, epochs=15)
    for k, seed in enumerate([1, 2]):
        solo = MLP([1, 5, 4, 1], "tanh", "identity", seed=seed, dtype=F64)
        solo_history = fit(solo, x, y, lr=0.05, anneal=0.99, epochs=15, shuffle=False)
        assert_member_equals_solo(ensemble, history, k, solo, solo_history)
    assert history.accuracy is None


def test_members_start_as_the_seeded_nets_and_can_be_taken_out():
    ensemble = Ensemble([2, 4, 1], "tanh", "sigmoid", seeds=[5, 6], dtype=F64)
    for k, seed in enumerate([5, 6]):
        solo = MLP([2, 4, 1], "tanh", "sigmoid", seed=seed, dtype=F64)
        member = ensemble.member(k)
        for p, q in zip(solo.parameters(), member.parameters()):
            assert torch.equal(p, q)
        x = torch.rand(3, 2, dtype=F64)
        assert_close(ensemble(x)[k], solo(x))
    assert "2 members of 2 -> 4 tanh -> 1 sigmoid" in repr(ensemble)
    with pytest.raises(IndexError):
        ensemble.member(2)


@pytest.mark.parametrize("engine", ["autograd", "explicit"])
def test_a_diverging_member_is_restored_and_frozen_while_the_others_train_on(engine):
    x, y = data.regression("abs", n=50)
    ensemble = Ensemble([1, 3, 1], "tanh", "identity", seeds=[0, 0], dtype=F64)
    history = fit_ensemble(ensemble, x, y, lr=[0.05, 2.0], epochs=30, engine=engine)
    assert history.diverged_at[0] == 0 and history.diverged_at[1] > 1
    for p in ensemble.parameters():
        assert torch.isfinite(p).all()
    solo = TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=0, dtype=F64)
    solo_history = fit(solo, x, y, lr=0.05, epochs=30, shuffle=False, engine=engine)
    assert_member_equals_solo(ensemble, history, 0, solo, solo_history)


@pytest.mark.parametrize("engine", ["autograd", "explicit", "compiled"])
def test_a_frozen_member_keeps_its_state_when_its_gradient_overflows(engine):
    """Its output weights are finite but so large that the error signal below them is
    inf: the first epoch freezes it, and later epochs' 0 · inf steps must not make it NaN."""
    x, y = data.regression("abs", n=20)
    ensemble = Ensemble([1, 3, 1], "tanh", "identity", seeds=[0, 0], dtype=F64)
    with torch.no_grad():
        ensemble.layers[1].weight[1] = 1e200
    start = [p.detach().clone() for p in ensemble.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no compiler here: explicit runs it
        history = fit_ensemble(ensemble, x, y, lr=0.05, epochs=3, engine=engine)
    assert history.diverged_at.tolist() == [0, 1]
    for p, before in zip(ensemble.parameters(), start):
        assert torch.equal(p[1], before[1])
        assert not torch.equal(p[0], before[0])  # the other member trained on


def test_accuracy_only_at_the_end_when_not_tracked():
    x, t = data.logic_gate("xor", repeats=3, seed=0)
    tracked = fit_ensemble(Ensemble([2, 3, 1], seeds=[0, 1]), x, t, lr=2.0, epochs=5,
                           engine="explicit")
    untracked = fit_ensemble(Ensemble([2, 3, 1], seeds=[0, 1]), x, t, lr=2.0, epochs=5,
                             engine="explicit", track_accuracy=False)
    assert torch.equal(tracked.final_accuracy, untracked.final_accuracy)
    assert torch.isnan(untracked.stacked("accuracy")[:-1]).all()
    assert torch.equal(tracked.stacked("online_loss"), untracked.stacked("online_loss"))


def test_first_epoch_reaching_full_accuracy():
    x, t = data.logic_gate("or", repeats=5, seed=0)
    ensemble = Ensemble([2, 1], "sigmoid", seeds=[0, 1, 2], dtype=F64)
    history = fit_ensemble(ensemble, x, t, lr=[3.0, 3.0, 1e-6], epochs=30)
    first = history.first_epoch_reaching(1.0)
    accuracy = history.stacked("accuracy")
    for k in range(3):
        if first[k] == 0:
            assert (accuracy[:, k] < 1.0).all()
        else:
            assert accuracy[first[k] - 1, k] == 1.0 and (accuracy[:first[k] - 1, k] < 1.0).all()
    assert first[0] > 0 and first[2] == 0


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(lr=[1.0, 2.0]), ValueError, "lr has 2 values but the ensemble has 3 members"),
    (dict(lr=-1.0), ValueError, "lr must be a finite number > 0"),
    (dict(anneal=[1.0, 0.0, 1.0]), ValueError, r"anneal must be in \(0, 1\]"),
    (dict(shuffle=True), ValueError, "shuffle must be one of False, 'shared', 'member'"),
    (dict(engine="torch"), ValueError, "unknown engine 'torch' for an ensemble"),
    (dict(epochs=0), ValueError, "epochs must be at least 1"),
])
def test_bad_ensemble_training_arguments(kwargs, error, match):
    x, t = data.logic_gate("or", repeats=2)
    with pytest.raises(error, match=match):
        fit_ensemble(Ensemble([2, 1], seeds=[0, 1, 2]), x, t, **({"lr": 1.0, "epochs": 1} | kwargs))


def test_bad_ensemble_construction():
    with pytest.raises(ValueError, match="seeds must be a non-empty list"):
        Ensemble([2, 3, 1], seeds=[])
    with pytest.raises(ValueError, match="unknown activation"):
        Ensemble([2, 3, 1], "swish", seeds=[0])
    with pytest.raises(TypeError, match="fit_ensemble trains an Ensemble"):
        fit_ensemble(TwoLayerNet(2, 3, 1), torch.rand(2, 2), torch.rand(2, 1), lr=1, epochs=1)


@pytest.mark.parametrize("count,size", [(10, 3), (3, 5), (1000, 2)])
def test_shards_cover_every_member_once_in_order(count, size):
    parts = [shard(count, rank, size) for rank in range(size)]
    assert [i for part in parts for i in part] == list(range(count))


def read_csv(path):
    with open(path) as stream:
        return list(csv.DictReader(stream))


def small_restarts(logdir, name, extra=()):
    """A tiny sweep; the explicit engine, which needs no compiling (test_fast_engine checks
    that the default, compiled, engine gives the same sweep)."""
    from experiments import restarts
    return restarts.main(["--restarts", "6", "--dtype", "float64", "--engine", "explicit",
                          "--tasks", "xor", "sin", "--hidden", "2", "3",
                          "--lrs", "1", "2", "--epochs-scale", "0.05", "--logdir", str(logdir),
                          "--run-name", name, "--quiet", *extra])


def test_restarts_writes_tables_figures_and_tensorboard(logdir):
    summary = small_restarts(logdir, "r")
    run = Path(summary["run_dir"])
    members = read_csv(run / "members.csv")
    # xor: hidden 2 and 3, then lr 1 and 2 at 3 hidden; sin: anneal 0.99 and 1 -> 6 configurations
    configurations = read_csv(run / "configurations.csv")
    assert len(configurations) == 6 and len(members) == 6 * 6
    assert {c["configuration"] for c in configurations} == {
        "xor_hidden-sweep_h2_lr2_anneal1", "xor_hidden-sweep_h3_lr2_anneal1",
        "xor_lr-sweep_h3_lr1_anneal1", "xor_lr-sweep_h3_lr2_anneal1",
        "sin_anneal-sweep_h3_lr0.15_anneal0.99", "sin_anneal-sweep_h3_lr0.15_anneal1"}
    for row in members:
        assert row["success"] in ("True", "False")
        if row["task"] == "xor":
            assert 0 <= float(row["final_accuracy"]) <= 1 and row["first_epoch_100pct"] != ""
        else:
            assert float(row["fit_mse"]) >= 0
    for name in ("success_rates.png", "final_losses.png", "members.png", "loss_curves.csv.gz"):
        assert (run / name).stat().st_size > 0
    hparams = sorted(p.name for p in (run / "hparams").iterdir())
    assert hparams == sorted(c["configuration"] for c in configurations)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(run), size_guidance={"images": 0})
    events.Reload()
    assert set(events.Tags()["images"]) == {"views/success_rates", "views/final_losses",
                                            "views/members"}
    for tag in events.Tags()["images"]:
        assert events.Images(tag)[0].width > 400
    on_disk = json.loads((run / "summary.json").read_text())
    assert on_disk["complete"] and on_disk["configurations_done"] == on_disk["configurations_total"] == 6
    assert not (run / "jobs").exists()  # each ensemble's saved results, kept only until the end
    assert {k: Path(v).name for k, v in on_disk["files"].items()} == {
        "members": "members.csv", "configurations": "configurations.csv",
        "loss_curves": "loss_curves.csv.gz", "success_rates_figure": "success_rates.png",
        "final_losses_figure": "final_losses.png", "members_figure": "members.png"}
    rates = {c["configuration"]: c["success_rate"] for c in on_disk["configurations"]}
    for c in configurations:
        group = [m for m in members if m["configuration"] == c["configuration"]]
        assert rates[c["configuration"]] == sum(m["success"] == "True" for m in group) / len(group)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_with_two_processes_matches_one_process(tmp_path):
    single = small_restarts(tmp_path, "single", ["--no-tensorboard"])
    env = dict(os.environ, GLOO_SOCKET_IFNAME="lo", MASTER_ADDR="127.0.0.1", OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
               "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(free_port()), "-m", "experiments.restarts",
               "--restarts", "6", "--dtype", "float64", "--engine", "explicit",
               "--tasks", "xor", "sin", "--hidden", "2", "3", "--lrs", "1", "2",
               "--epochs-scale", "0.05", "--logdir", str(tmp_path), "--run-name", "two",
               "--quiet", "--no-tensorboard"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    two = json.loads((tmp_path / "restarts" / "two" / "summary.json").read_text())
    assert two["processes"] == 2
    a = read_csv(Path(single["run_dir"]) / "members.csv")
    b = read_csv(tmp_path / "restarts" / "two" / "members.csv")
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x["configuration"] == y["configuration"] and x["seed"] == y["seed"]
        # Members never interact; only the batched kernels' rounding may differ with the
        # number of members a process holds (last bits, in float64).
        assert float(x["final_loss"]) == pytest.approx(float(y["final_loss"]), rel=1e-12, abs=1e-15)
        assert x["success"] == y["success"]


def test_fit_ensemble_takes_callbacks_as_fit_does():
    x, t = data.logic_gate("xor", repeats=2)
    seen = {"a": [], "b": []}
    ensemble = Ensemble([2, 3, 1], "sigmoid", seeds=range(4))
    fit_ensemble(ensemble, x, t, lr=1.0, epochs=3, callbacks=[
        lambda state: seen["a"].append(state.epoch), lambda state: seen["b"].append(state.epoch)])
    assert seen == {"a": [1, 2, 3], "b": [1, 2, 3]}
    for train in (lambda cb: fit_ensemble(ensemble, x, t, lr=1.0, epochs=1, callbacks=cb),
                  lambda cb: fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=1, callbacks=cb)):
        with pytest.raises(TypeError, match="callbacks must be callables"):
            train([print, "not a function"])
