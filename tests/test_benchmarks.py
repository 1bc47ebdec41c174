"""The benchmark scripts run end to end (tiny settings; the numbers themselves are never asserted)."""

import pytest
import torch

from benchmarks import function_overhead, sklearn_compare
from torchann.data import datasets


def needs_sklearn():
    pytest.importorskip("sklearn", reason="scikit-learn (the [data] extra) is the comparison")


@pytest.mark.slow  # trains every dataset for 100 epochs in both libraries
def test_sklearn_comparison_covers_every_dataset_with_matching_scores(capsys):
    needs_sklearn()
    result = sklearn_compare.main(["--seeds", "1", "--skip-timing"])  # 100 epochs, as documented
    rows = result["accuracy"]
    assert set(rows) == set(datasets.DATASETS)
    assert rows["diabetes"]["metric"] == "R²" and rows["digits"]["metric"] == "accuracy"
    for name, row in rows.items():
        # Same data, net, loss and optimiser: the two libraries land close together
        # (the weights start from different draws, so not identically).
        assert 0 <= row["torchann"] <= 1 or name == "diabetes"
        assert abs(row["torchann"] - row["sklearn"]) < 0.15, name
        if name != "spiral":  # the spiral stays near chance for both at these settings
            floor = 0.2 if name == "diabetes" else 0.8
            assert row["torchann"] > floor and row["sklearn"] > floor, name
    assert "diabetes" in capsys.readouterr().out


def test_sklearn_timing_table_has_every_setting(monkeypatch, capsys):
    needs_sklearn()
    # One tiny repeat, the memory probe skipped: this checks the table, not the machine.
    monkeypatch.setattr(sklearn_compare.subprocess, "run", lambda *a, **k: type(
        "Done", (), {"stdout": '{"peak_mib": 1.0}\n'})())
    result = sklearn_compare.main(["--datasets", "iris", "--seeds", "1", "--epochs", "1",
                                   "--timing-epochs", "1",
                                   "--repeats", "1", "--timing-dtypes", "float32"])
    timing = result["timing"]
    assert {key for key in timing if key != "peak_mib"} == {
        ("float32", b, w) for b in (32, 128) for w in (64, 512)}
    assert all(set(v) == {"ours", "builtin", "sklearn"} for k, v in timing.items()
               if k != "peak_mib")
    assert "builtin/sklearn" in capsys.readouterr().out


def test_bad_benchmark_arguments_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        sklearn_compare.main(["--repeats", "0"])
    assert exit_info.value.code == 2
    assert "--repeats must be at least 1" in capsys.readouterr().err


def test_function_overhead_table_runs_every_variant(capsys):
    results = function_overhead.main(["--rounds", "1", "--steps", "1"])
    assert set(results) == {(b, w) for b in (32, 128) for w in (64, 512)}
    assert all(set(row) == set(function_overhead.VARIANTS) for row in results.values())
    assert "identity@loss" in capsys.readouterr().out


def test_function_overhead_variants_compute_the_same_gradients():
    # The variants differ only in which Functions run, never in the numbers.
    reference = function_overhead.make_step("builtin", 8, 16)()
    for name in function_overhead.VARIANTS[1:]:
        for ours, theirs in zip(function_overhead.make_step(name, 8, 16)(), reference):
            torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)


def test_take_turns_rotates_the_order_and_collects_every_measurement():
    from benchmarks.timing import take_turns
    calls = []
    measured = take_turns({name: (lambda name=name: calls.append(name) or len(calls))
                           for name in "abc"}, rounds=3)
    assert calls == list("abc" "bca" "cab")
    assert measured == {"a": [1, 6, 8], "b": [2, 4, 9], "c": [3, 5, 7]}


def test_step_time_table_has_every_network_and_dtype(capsys):
    from benchmarks import step_time
    results = step_time.main(["--rounds", "1", "--epochs", "1", "--skip-xor-run"])
    assert set(results) == {(net, dtype) for net in step_time.NETS
                            for dtype in ("float32", "float64")}
    for (net, _), row in results.items():
        assert set(row["median_us"]) == set(step_time.VARIANTS) - ({"numpy"} if "xor" not in net
                                                                   else set())
    assert "explicit/idiom" in capsys.readouterr().out


@pytest.mark.parametrize("net_name", ["xor 2-3-1 sigmoid/sigmoid", "mlp 2-16-16-1 tanh/sigmoid"])
def test_every_step_time_variant_trains_the_same_network(net_name):
    """Like with like: the idiomatic loop and the NumPy floor make the same updates as fit."""
    import numpy as np
    from benchmarks import step_time
    from torchann import data, fit
    x, t = data.logic_gate("xor", repeats=3, seed=0)
    net = step_time.NETS[net_name](seed=0, dtype=torch.float64)
    idiomatic = step_time.idiomatic_model(net)
    weights = [p.detach().numpy().copy() for p in net.parameters()]
    fit(net, x, t, lr=step_time.LR, epochs=2, shuffle=False)
    step_time.train_idiomatic(idiomatic, x, t, epochs=2)
    linears = [m for m in idiomatic if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(net.layers, linears, strict=True):
        torch.testing.assert_close(linear.weight.T, layer.weight, rtol=1e-12, atol=1e-14)
    if "xor" in net_name:
        step_time.train_numpy(weights, x.numpy(), t.numpy(), epochs=2)
        for w, p in zip(weights, net.parameters(), strict=True):
            np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("engine", ["explicit", pytest.param("compiled", marks=pytest.mark.slow)])
def test_ensemble_benchmark_prints_a_row_per_size(capsys, engine):
    from benchmarks import ensemble
    from torchann.ensemble.fast import compiler_missing
    if engine == "compiled" and compiler_missing(torch.device("cpu")):
        pytest.skip(compiler_missing(torch.device("cpu")))
    result = ensemble.main(["--epochs", "1", "--members", "1", "3", "--engines", engine])
    assert [r["members"] for r in result["rows"]] == [1, 3]
    assert all(r["seconds"] > 0 and r["peak_mib"] > 0 for r in result["rows"])
    assert all(r["engine"] == engine for r in result["rows"])  # (compiled: a compiler is here)
    assert "ns/member-step" in capsys.readouterr().out


@pytest.mark.slow
def test_ensemble_benchmark_runs_its_100000_member_row():
    from benchmarks import ensemble
    result = ensemble.main(["--members", "100000", "--engines", "compiled"])  # 300 epochs
    (row,) = result["rows"]
    assert row["members"] == 100000 and row["steps"] == 300 * 120 and row["peak_mib"] > 0
    assert row["solved"] > 0.9  # most XOR restarts reach 97% training accuracy
