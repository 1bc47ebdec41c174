"""SIGTERM and SIGHUP stop training like Ctrl-C: finish the step, checkpoint, exit 128 + signal;
an interrupted ``experiments.restarts`` sweep keeps what it finished and resumes.

Real signals are sent to child processes: a test that got the handling wrong
must fail, not kill the test runner.
"""

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import torch

from torchann import TwoLayerNet, data, fit
from test_checkpoint import _RunsCode
from test_ensemble import read_csv, small_restarts
from torchann.runs.checkpoint import load_checkpoint
from torchann.runs.folders import lock_run_dir
from torchann.runs.interrupt import STOP_SIGNALS, InterruptFlag
from torchann.train import TrainingInterrupted

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONUNBUFFERED="1")
TERM_AND_HUP = [signal.SIGTERM, signal.SIGHUP]


def default_hangup():
    """In the child: SIGHUP as in a terminal session, even when the tests run under nohup."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def python(code: str, *args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_hangup, **kwargs)


@pytest.fixture
def default_handlers():
    """SIGTERM and SIGHUP at their defaults for the test, whatever the runner inherited."""
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    for s in before:
        signal.signal(s, signal.SIG_DFL)
    yield
    for s, handler in before.items():
        signal.signal(s, handler)


def test_the_flag_takes_all_three_signals_and_gives_the_handlers_back(default_handlers):
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    with InterruptFlag() as flag:
        inside = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    assert all(inside[s] != before[s] for s in STOP_SIGNALS)
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before
    assert not flag.requested and flag.signum is None


def test_an_ignored_hangup_stays_ignored_as_under_nohup(default_handlers):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with InterruptFlag() as flag:
        signal.raise_signal(signal.SIGHUP)  # safe: ignored, or caught by the flag
    assert not flag.requested
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


def test_outside_the_main_thread_nothing_changes():
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    seen = {}

    def work():
        with InterruptFlag():
            seen.update({s: signal.getsignal(s) for s in STOP_SIGNALS})

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == before


def test_the_interruption_names_its_signal():
    assert TrainingInterrupted(4, 1, 12).signum == signal.SIGINT
    assert str(TrainingInterrupted(4, 1, 12)) == "interrupted in epoch 4 after step 1 of 12"
    stop = TrainingInterrupted(4, 1, 12, signal.SIGTERM)
    assert stop.signum == 15 and str(stop) == "interrupted by SIGTERM in epoch 4 after step 1 of 12"


@pytest.mark.parametrize("signum", STOP_SIGNALS)
@pytest.mark.parametrize("hard_stop", [True, False])
def test_a_second_signal_stops_at_once_as_the_signal_would_unless_told_not_to(signum, hard_stop):
    child = python("""
        import signal, sys
        from torchann.runs.interrupt import InterruptFlag
        signum, hard_stop = int(sys.argv[1]), sys.argv[2] == "True"
        with InterruptFlag(hard_stop=hard_stop) as flag:
            signal.raise_signal(signum)
            print(flag.requested, flag.signum, flush=True)
            signal.raise_signal(signum)
            print("still here", flush=True)
    """, int(signum), hard_stop)
    out, err = child.communicate(timeout=60)
    assert out.split("\n")[0] == f"True {int(signum)}", err
    if hard_stop:  # Ctrl-C: KeyboardInterrupt, which Python ends by re-raising SIGINT
        assert child.returncode == -signum and "still here" not in out
    else:          # torchrun's workers: the agent relays each signal, and decides
        assert child.returncode == 0 and "still here" in out, err


@pytest.mark.parametrize("signum", TERM_AND_HUP)
def test_a_stop_signal_finishes_the_step_checkpoints_and_resumes_exactly(tmp_path, signum):
    checkpoint = tmp_path / "c.pt"
    x, t = data.logic_gate("xor", repeats=50, seed=2)  # 200 steps an epoch
    kwargs = dict(lr=0.5, seed=5)
    child = python("""
        import json, sys
        import torch
        from torchann import Checkpoint, TwoLayerNet, data, fit
        from torchann.train import TrainingInterrupted

        def started(state):
            if state.epoch == 1:
                print("training", flush=True)

        x, t = data.logic_gate("xor", repeats=50, seed=2)
        net = TwoLayerNet(2, 3, 1, seed=1, dtype=torch.float64)
        try:
            fit(net, x, t, lr=0.5, seed=5, epochs=100_000,
                callbacks=[started, Checkpoint(sys.argv[1])])
        except TrainingInterrupted as stop:
            print(json.dumps({"epoch": stop.epoch, "step": stop.step, "signum": stop.signum,
                              "message": str(stop)}))
    """, checkpoint)
    with child:
        try:
            assert child.stdout.readline() == "training\n"
            assert not checkpoint.exists()  # a checkpoint now can only come from on_interrupt
            child.send_signal(signum)
            out, err = child.communicate(timeout=60)
        finally:
            child.kill()
    assert child.returncode == 0, err
    stop = json.loads(out)
    assert stop["signum"] == signum and signal.Signals(signum).name in stop["message"]

    saved = load_checkpoint(checkpoint)
    assert (saved["epoch"] + 1, saved["step"]) == (stop["epoch"], stop["step"])
    assert saved["step"] == len(saved["partial_losses"])
    epochs = stop["epoch"]  # finish the interrupted epoch: equal to a run never stopped
    assert epochs < 1000
    resumed = TwoLayerNet(2, 3, 1, seed=1, dtype=torch.float64)
    history = fit(resumed, x, t, epochs=epochs, resume=checkpoint, **kwargs)
    straight = TwoLayerNet(2, 3, 1, seed=1, dtype=torch.float64)
    assert history.loss == fit(straight, x, t, epochs=epochs, **kwargs).loss
    for p, q in zip(resumed.parameters(), straight.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("signum", TERM_AND_HUP)
def test_a_stop_signal_on_the_command_line_exits_128_plus_signal_and_says_how_to_resume(
        tmp_path, signum):
    command = [sys.executable, "-m", "experiments.xor", "--epochs", "5000",
               "--logdir", str(tmp_path), "--run-name", "stopped"]
    with subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, preexec_fn=default_hangup) as process:
        try:
            assert "training" in process.stdout.readline()
            assert process.stdout.readline().split()[:2] == ["epoch", "0/5000"]
            assert process.stdout.readline().split()[:2] == ["epoch", "1/5000"]  # under way
            process.send_signal(signum)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()  # never leave it training when an assertion failed
    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err
    run = tmp_path / "xor" / "stopped"
    assert f"Resume with: python -m experiments.xor --resume {run}" in err
    saved = load_checkpoint(run)
    assert 0 < saved["epoch"] < 5000

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(run))
    events.Reload()  # flushed: the epochs before the signal are on disk
    assert len(events.Scalars("train/loss")) >= 1


# --- experiments.restarts: partial results, and --resume ---------------------------------

@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The small sweep of test_ensemble, never interrupted: 4 ensembles, 6 configurations."""
    return Path(small_restarts(tmp_path_factory.mktemp("runs"), "straight",
                               ["--no-tensorboard"])["run_dir"])


def signal_at_ensemble(monkeypatch, number: int, signum) -> list:
    """Send ``signum`` to this process as the sweep's ``number``-th ensemble starts training;
    returns the list of ensembles started. Only sent while the sweep's flag catches it."""
    from experiments import restarts
    real, started = restarts.fit_ensemble, []

    def fit_ensemble(*args, **kwargs):
        started.append(1)
        if len(started) == number:
            assert isinstance(getattr(signal.getsignal(signum), "__self__", None), InterruptFlag)
            signal.raise_signal(signum)
        return real(*args, **kwargs)

    monkeypatch.setattr(restarts, "fit_ensemble", fit_ensemble)
    return started


def same_results(run: Path, straight: Path) -> None:
    for name in ("members.csv", "configurations.csv"):
        assert read_csv(run / name) == read_csv(straight / name)
    with gzip.open(run / "loss_curves.csv.gz", "rt") as a, \
            gzip.open(straight / "loss_curves.csv.gz", "rt") as b:
        assert a.read() == b.read()
    ours, theirs = (json.loads((path / "summary.json").read_text()) for path in (run, straight))
    assert ours["configurations"] == theirs["configurations"]
    assert ours["complete"] and ours["configurations_done"] == 6


@pytest.mark.parametrize("signum", STOP_SIGNALS)
def test_an_interrupted_sweep_writes_partial_results_and_resumes_to_the_same_ones(
        tmp_path, monkeypatch, capsys, default_handlers, straight, signum):
    from experiments import restarts
    started = signal_at_ensemble(monkeypatch, 3, signum)  # after xor h=2 and h=3
    with pytest.raises(SystemExit) as info:
        small_restarts(tmp_path, "cut")
    assert info.value.code == 128 + signum
    run = tmp_path / "restarts" / "cut"
    err = capsys.readouterr().err
    assert f"Interrupted by {signal.Signals(signum).name}: 2 of 6 configurations done" in err
    assert f"Resume with: python -m experiments.restarts --resume {run}" in err
    partial = json.loads((run / "summary.json").read_text())
    assert not partial["complete"] and partial["configurations_done"] == 2
    assert partial["configurations_total"] == 6
    assert len(read_csv(run / "members.csv")) == 2 * 6 and (run / "success_rates.png").exists()
    assert not (run / "hparams").exists()  # TensorBoard is written once, when complete

    kept = sorted((run / "jobs").glob("*.pt"))[0]
    intact = kept.read_bytes()
    damaged = torch.load(kept, weights_only=True)  # one saved loss changed, checksum kept
    damaged["loss"].view(-1)[0] += 1
    torch.save(damaged, kept)
    with pytest.raises(SystemExit) as info:
        restarts.main(["--resume", str(run), "--quiet"])
    err = capsys.readouterr().err  # one line that names the file and what to do
    assert info.value.code == 2 and f"corrupt saved configuration {kept}" in err
    assert f"delete {kept} to train that ensemble again" in err and len(err.splitlines()) == 1
    torch.save({"loss": _RunsCode(tmp_path / "pwned")}, kept)  # as a checkpoint is refused
    with pytest.raises(SystemExit) as info:
        restarts.main(["--resume", str(run), "--quiet"])
    assert info.value.code == 2 and "refusing to load" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()
    kept.write_bytes(intact)

    restarts.main(["--resume", str(run), "--quiet"])
    assert len(started) == 3 + 2  # only the two ensembles not done were trained
    same_results(run, straight)
    assert (run / "hparams").is_dir() and not (run / "jobs").exists()


def test_a_sweep_stopped_in_its_first_ensemble_leaves_a_resumable_folder(
        tmp_path, monkeypatch, capsys, default_handlers, straight):
    from experiments import restarts
    signal_at_ensemble(monkeypatch, 1, signal.SIGHUP)
    with pytest.raises(SystemExit) as info:
        small_restarts(tmp_path, "cut", ["--no-tensorboard"])
    assert info.value.code == 128 + signal.SIGHUP
    run = tmp_path / "restarts" / "cut"
    partial = json.loads((run / "summary.json").read_text())
    assert (partial["complete"], partial["configurations_done"]) == (False, 0)
    assert read_csv(run / "members.csv") == []

    with lock_run_dir(run), pytest.raises(SystemExit) as info:  # another process resuming it
        restarts.main(["--resume", str(run)])
    assert info.value.code == 2
    assert "another process is using the run folder" in capsys.readouterr().err
    restarts.main(["--resume", str(run), "--quiet"])
    same_results(run, straight)


@pytest.mark.parametrize("flags,message", [
    (["--restarts", "7"], "--restarts cannot change when resuming (the run used 6, got 7)"),
    (["--epochs-scale", "1"],  # the default, but not this run's: still a change
     "--epochs-scale cannot change when resuming (the run used 0.05, got 1.0)"),
    (["--tasks", "xor"], "--tasks cannot change when resuming"),
    (["--run-name", "other"], "--logdir and --run-name name a new run"),
])
def test_resuming_a_sweep_with_other_settings_is_refused(straight, capsys, flags, message):
    from experiments import restarts
    with pytest.raises(SystemExit) as info:
        restarts.main(["--resume", str(straight), *flags])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_resuming_a_finished_sweep_says_so_and_trains_nothing(straight, monkeypatch, capsys):
    from experiments import restarts
    started = signal_at_ensemble(monkeypatch, 0, signal.SIGINT)  # 0: never signals
    summary = restarts.main(["--resume", str(straight), "--restarts", "6"])  # the same: allowed
    assert summary["complete"] and started == []
    assert f"{straight} is already complete (6 configurations); nothing to resume" in \
        capsys.readouterr().err


def test_resuming_a_folder_that_is_no_sweep_is_a_usage_error(tmp_path, capsys):
    from experiments import restarts
    with pytest.raises(SystemExit) as info:
        restarts.main(["--resume", str(tmp_path)])
    assert info.value.code == 2
    assert "is not a run of experiments.restarts" in capsys.readouterr().err


def test_a_stop_signal_in_an_experiment_without_resume_is_one_line_and_leaves_no_folder(
        tmp_path, default_handlers):
    """experiments.generalization trains many nets and writes only at the end: a stop is
    a message, exit 128 + SIGTERM, and no empty run folder."""
    child = python("""
        import os, signal, sys
        import experiments.generalization as generalization
        real = generalization.fit
        def fit(*args, **kwargs):  # as if `timeout` stopped it after the first net's epoch 1
            stop = lambda state: os.kill(os.getpid(), signal.SIGTERM)
            return real(*args, callbacks=[stop], **kwargs)
        generalization.fit = fit
        generalization.main(sys.argv[1:])
    """, "--dataset", "spiral", "--hidden", "2", "4", "--epochs", "3", "--quiet",
                   "--logdir", tmp_path)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Interrupted by SIGTERM in epoch 2 after step 1")
    assert "full split, 2 hidden units" in lines[0] and "no --resume" in lines[0]
    assert list((tmp_path / "generalization").iterdir()) == []
