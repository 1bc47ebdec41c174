"""engine="compiled" (torchann/ensemble/fast.py) gives the explicit engine's updates."""

import pytest
import torch
from torch.testing import assert_close

from conftest import DEVICES
from torchann import data
from torchann.ensemble import fast
from torchann.ensemble.model import Ensemble
from torchann.ensemble.train import fit_ensemble

F64 = torch.float64
NO_COMPILER = fast.compiler_missing(torch.device("cpu"))
needs_compiler = pytest.mark.skipif(NO_COMPILER is not None, reason=NO_COMPILER or "")


@pytest.fixture
def short_chunks(monkeypatch):
    """Two steps per compiled call: the same updates, and a graph that compiles in seconds."""
    monkeypatch.setattr(fast, "MAX_STEPS_PER_CALL", 2)


def train_both(sizes, hidden, output, x, t, device="cpu", **kwargs):
    """The same ensemble trained by the explicit and the compiled engine."""
    runs = []
    for engine in ("explicit", "compiled"):
        ensemble = Ensemble(sizes, hidden, output, seeds=[3, 11, 0, 7], dtype=F64, device=device)
        runs.append((ensemble, fit_ensemble(ensemble, x, t, engine=engine, **kwargs)))
    return runs


def assert_same_training(runs):
    (readable, slow), (ensemble, quick) = runs
    for p, q in zip(readable.parameters(), ensemble.parameters()):
        assert_close(q.detach(), p.detach(), rtol=1e-12, atol=1e-12)  # rtol: a diverged member
    # a diverging epoch's loss is inf or nan depending on where the sum overflows: not finite
    finite_or_nan = lambda v: torch.where(torch.isfinite(v), v, torch.nan)  # noqa: E731
    assert_close(finite_or_nan(quick.stacked("online_loss")),
                 finite_or_nan(slow.stacked("online_loss")), rtol=1e-12, atol=1e-15, equal_nan=True)
    assert_close(quick.final_loss, slow.final_loss, rtol=1e-12, atol=1e-15)
    assert torch.equal(quick.diverged_at, slow.diverged_at)
    assert quick.steps == slow.steps and quick.compile_seconds > 0 and slow.compile_seconds == 0


@needs_compiler
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shuffle", [False, "shared", "member"])
def test_xor_equals_the_explicit_engine(shuffle, device, short_chunks):
    x, t = data.logic_gate("xor", repeats=5, seed=1)
    runs = train_both([2, 3, 1], "sigmoid", "sigmoid", x, t, device, lr=[2.0, 1.0, 0.5, 3.0],
                      anneal=[1.0, 0.99, 0.9, 0.95], epochs=20, shuffle=shuffle, seed=42)
    assert_same_training(runs)
    assert_close(runs[1][1].stacked("accuracy"), runs[0][1].stacked("accuracy"))


@needs_compiler
def test_ring_equals_the_explicit_engine(short_chunks):
    x, t = data.ring(repeats=2, seed=3)
    assert_same_training(train_both([2, 3, 1], "sigmoid", "sigmoid", x, t, lr=2.0, epochs=15))


@needs_compiler
def test_regression_with_a_diverging_member_equals_the_explicit_engine(short_chunks):
    x, y = data.regression("abs", n=50)
    runs = train_both([1, 3, 1], "tanh", "identity", x, y, lr=[0.05, 2.0, 0.05, 0.1], epochs=30)
    assert_same_training(runs)
    assert runs[1][1].diverged_at[1] > 1 and runs[1][1].diverged_at[0] == 0  # frozen, restored
    assert all(torch.isfinite(p).all() for p in runs[1][0].parameters())


@needs_compiler
def test_an_mlp_of_depth_three_equals_the_explicit_engine(short_chunks):
    x, t = data.logic_gate("xor", repeats=3, seed=4)
    assert_same_training(train_both([2, 4, 3, 1], "tanh", "sigmoid", x, t, lr=0.5, anneal=0.98,
                                    epochs=12, shuffle="member", seed=5))


def test_without_a_compiler_it_says_so_in_one_line_and_trains_explicitly(monkeypatch):
    import torchann.ensemble.train as train
    monkeypatch.setattr(train, "compiler_missing", lambda device: "no C compiler here")
    x, t = data.logic_gate("xor", repeats=2)
    ensemble = Ensemble([2, 3, 1], "sigmoid", seeds=[1, 2], dtype=F64)
    with pytest.warns(RuntimeWarning) as caught:
        history = fit_ensemble(ensemble, x, t, lr=2.0, epochs=5, engine="compiled")
    message = str(caught[0].message)
    assert message == "engine 'compiled' is unavailable: no C compiler here; using engine 'explicit'"
    readable = Ensemble([2, 3, 1], "sigmoid", seeds=[1, 2], dtype=F64)
    fit_ensemble(readable, x, t, lr=2.0, epochs=5, engine="explicit")
    for p, q in zip(readable.parameters(), ensemble.parameters()):
        assert torch.equal(p, q)
    assert history.compile_seconds == 0


@pytest.mark.parametrize("sizes,output,kwargs,match", [
    ([2, 3, 1], "sigmoid", {"batch_size": 4}, r"trains online \(batch_size=1\), got batch_size=4"),
    ([2, 3, 2], "softmax", {}, "needs elementwise activations"),
    ([2, 60, 1], "sigmoid", {}, "each member has 241 parameters; it compiles nets of up to 200"),
])
def test_what_it_cannot_train_is_refused_in_one_line(sizes, output, kwargs, match):
    x, t = data.logic_gate("xor", repeats=2)
    if output == "softmax":
        t = torch.cat([t, 1 - t], dim=1)
    ensemble = Ensemble(sizes, "sigmoid", output, seeds=[0])
    with pytest.raises(ValueError, match=match) as info:
        fit_ensemble(ensemble, x, t, lr=1.0, epochs=1, engine="compiled", **kwargs)
    assert str(info.value).startswith("engine 'compiled' cannot train this ensemble: ")
    assert "\n" not in str(info.value)


@needs_compiler
@pytest.mark.slow  # compiles with the default chunk of 8 steps, from scratch on a fresh machine
def test_restarts_with_it_equals_restarts_without_and_says_which_ran(tmp_path, capsys):
    from experiments import restarts
    flags = ["--restarts", "5", "--dtype", "float64", "--tasks", "xor", "--hidden", "2",
             "--lrs", "2", "--epochs-scale", "0.05", "--logdir", str(tmp_path), "--no-tensorboard"]
    fast_run = restarts.main([*flags, "--run-name", "compiled", "--engine", "compiled"])
    assert "with engine compiled" in capsys.readouterr().out
    readable = restarts.main([*flags, "--run-name", "explicit", "--engine", "explicit", "--quiet"])
    assert fast_run["engines_ran"] == ["compiled"] and readable["engines_ran"] == ["explicit"]
    assert fast_run["compile_seconds"] > 0 and readable["compile_seconds"] == 0
    for ours, theirs in zip(fast_run["configurations"], readable["configurations"]):
        assert ours["success_rate"] == theirs["success_rate"]
        assert ours["median_final_loss"] == pytest.approx(theirs["median_final_loss"], rel=1e-12)


def test_restarts_compiles_only_ensembles_it_can_train_and_big_enough_to_repay_it():
    from experiments.restarts import COMPILING_PAYS, engine_for
    small, big = Ensemble([2, 3, 1], seeds=[0]), Ensemble([2, 60, 1], seeds=[0])
    assert engine_for("auto", small, 1000 * 300 * 120) == "explicit"    # a hidden-sweep job
    assert engine_for("auto", small, 10_000 * 300 * 120) == "compiled"  # --restarts 10000
    assert engine_for("auto", small, COMPILING_PAYS) == "compiled"
    assert engine_for("auto", big, 10 ** 12) == "explicit"  # 241 parameters: not compiled
    assert engine_for("explicit", small, 10 ** 12) == "explicit"
    assert engine_for("compiled", small, 1) == "compiled"


@needs_compiler
def test_odd_sizes_and_strided_inputs_compile_once(short_chunks):
    from torch._dynamo.utils import counters  # torch's own count of the graphs it built
    x, t = data.logic_gate("xor", repeats=3, seed=2)
    strided = torch.cat([x, x], dim=1)[:11, :2]        # not contiguous; 11 rows: chunks of 1
    assert not strided.is_contiguous()
    before = counters["stats"]["unique_graphs"]
    runs = train_both([2, 3, 1], "sigmoid", "sigmoid", strided, t[:11], lr=1.0, epochs=4,
                      shuffle="shared", seed=1)
    assert counters["stats"]["unique_graphs"] - before == 1  # at the start, never mid-training
    assert_same_training(runs)


def test_a_failing_compiler_is_a_missing_one(monkeypatch):
    def fail(*args):
        raise RuntimeError("the C compiler crashed\nwith a long story")
    monkeypatch.setattr(fast.CompiledOnline, "compile", fail)
    x, t = data.logic_gate("xor", repeats=2)
    ensemble = Ensemble([2, 3, 1], "sigmoid", seeds=[1, 2], dtype=F64)
    with pytest.warns(RuntimeWarning, match=r"^engine 'compiled' is unavailable: torch.compile "
                                            r"failed \(the C compiler crashed\); using engine "
                                            r"'explicit'$"):
        history = fit_ensemble(ensemble, x, t, lr=2.0, epochs=3, engine="compiled")
    readable = Ensemble([2, 3, 1], "sigmoid", seeds=[1, 2], dtype=F64)
    fit_ensemble(readable, x, t, lr=2.0, epochs=3, engine="explicit")
    assert history.engine == "explicit"
    for p, q in zip(readable.parameters(), ensemble.parameters()):
        assert torch.equal(p, q)


@needs_compiler
@pytest.mark.slow
def test_more_architectures_than_torch_compiles_by_default(monkeypatch):
    monkeypatch.setattr(fast, "MAX_STEPS_PER_CALL", 1)  # small graphs: quick to compile
    x, y = data.regression("sin", n=6, seed=0)
    for hidden in range(1, 11):  # ten graphs of one Python function; torch's default is 8
        ensemble = Ensemble([1, hidden, 1], "tanh", "identity", seeds=[0, 1], dtype=F64)
        history = fit_ensemble(ensemble, x, y, lr=0.1, epochs=2, engine="compiled")
        assert history.engine == "compiled"
