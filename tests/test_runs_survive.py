"""Runs that survive: the finishing phase, honest resumes, locks, sizes, and one-line errors.

Each test here stands for a way a run used to be lost or mislabelled: killed
while writing its outputs, resumed with a flag silently ignored, resumed twice
at once, given sizes that cannot fit, or handed input that gave a traceback.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from torchann import MLP, TwoLayerNet, data, fit
from torchann.checks import MEMORY_LIMIT_VARIABLE
from torchann.ensemble import Ensemble, fit_ensemble
from torchann.runs.checkpoint import load_checkpoint
from torchann.runs.folders import lock_run_dir

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--epochs", "3", "--repeats", "3", "--quiet"]


def xor_main(*args):
    from experiments import xor
    return xor.main([str(a) for a in args])


def usage_error(capsys, *args) -> str:
    """Run xor with ``args``; assert it is a usage error (exit 2) and return its one line."""
    with pytest.raises(SystemExit) as info:
        xor_main(*args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    return err[-1]


def outputs(run: Path) -> dict:
    """Everything a finished run shows, minus what names the folder or the wall time."""
    summary = json.loads((run / "summary.json").read_text())
    for key in ("run_dir", "figure", "weights", "checkpoint", "hidden_units", "animation",
                "hidden_units_animation", "timing_seconds", "seconds", "steps_per_second"):
        summary.pop(key, None)
    summary["history"].pop("seconds")
    summary["config"].pop("run_name")
    files = {name: (run / name).read_bytes() for name in
             ("figure.png", "hidden_units.png", "weights.json", "learning.gif", "hidden_units.gif")
             if (run / name).exists()}
    return {"summary": summary, **files}


def events_of(run: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(run), size_guidance={"scalars": 0, "images": 0,
                                                       "histograms": 0, "tensors": 0})
    events.Reload()
    return events


def loss_points(run: Path) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in events_of(run).Scalars("train/loss")]


def event_steps(run: Path) -> dict[str, list[int]]:
    """Every tag TensorBoard shows, with the steps of its events (a repeat shows twice)."""
    events = events_of(run)
    return {f"{kind}/{tag}": sorted(e.step for e in getattr(events, reader)(tag))
            for kind, reader in (("scalars", "Scalars"), ("images", "Images"),
                                 ("histograms", "Histograms"), ("tensors", "Tensors"))
            for tag in events.Tags()[kind]}


# --- finishing is resumable -------------------------------------------------------------

def test_a_run_stopped_while_writing_its_outputs_is_finished_by_resume(tmp_path, capsys,
                                                                       monkeypatch):
    flags = [*SMALL, "--animate", "--frames", "2", "--images", "2", "--logdir", tmp_path]
    straight = Path(xor_main(*flags, "--run-name", "straight")["run_dir"])

    import experiments.recorder as recorder
    real = recorder.save_gif

    def sigterm_while_writing(*args, **kwargs):  # as if `timeout` or a scheduler stopped it now,
        signal.raise_signal(signal.SIGTERM)      # after the TensorBoard pictures were logged
        return real(*args, **kwargs)

    monkeypatch.setattr(recorder, "save_gif", sigterm_while_writing)
    with pytest.raises(SystemExit) as info:
        xor_main(*flags, "--run-name", "stopped")
    assert info.value.code == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Training is complete" in err
    run = tmp_path / "xor" / "stopped"
    assert f"Finish with: python -m experiments.xor --resume {run}" in err
    assert not (run / "summary.json").exists()

    monkeypatch.setattr(recorder, "save_gif", real)
    xor_main("--resume", run, "--quiet")  # no --epochs needed: nothing is left to train
    assert outputs(run) == outputs(straight)
    assert loss_points(run) == loss_points(straight)  # every epoch once, none lost or doubled
    assert event_steps(run) == event_steps(straight)  # every picture and text once too
    assert not list(run.glob("*.epoch*"))  # the unfinished outputs were replaced, not kept
    assert "been recorded" in usage_error(capsys, "--resume", run)


def test_fit_resumed_at_its_last_epoch_trains_nothing_and_returns_the_history(tmp_path):
    from torchann import Checkpoint
    x, t = data.logic_gate("or", repeats=3)
    net = TwoLayerNet(2, 3, 1)
    history = fit(net, x, t, lr=1.0, epochs=3, callbacks=[Checkpoint(tmp_path / "c.pt")])
    trained = [p.detach().clone() for p in net.parameters()]
    again = TwoLayerNet(2, 3, 1, seed=5)
    assert fit(again, x, t, lr=1.0, epochs=3, resume=tmp_path / "c.pt") == history
    assert all(torch.equal(a, b) for a, b in zip(again.parameters(), trained))


def test_a_stop_while_keeping_the_old_outputs_loses_none_of_them(tmp_path, monkeypatch):
    """summary.json is renamed last: until then the next resume knows what to keep."""
    run = Path(xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"])
    weights = (run / "weights.json").read_bytes()
    import experiments.recorder as recorder
    real, kept = recorder._keep_previous, []

    def stop_after_two(path, epoch):  # two renames done, the rest not
        real(path, epoch)
        kept.append(path)
        if len(kept) == 2:
            raise recorder.Stopped(signal.SIGTERM)
    monkeypatch.setattr(recorder, "_keep_previous", stop_after_two)
    with pytest.raises(SystemExit):
        xor_main("--resume", run, "--epochs", "5")
    monkeypatch.setattr(recorder, "_keep_previous", real)
    xor_main("--resume", run)
    assert (run / "weights.epoch3.json").read_bytes() == weights
    assert (run / "figure.epoch3.png").exists() and (run / "summary.epoch3.json").exists()
    assert json.loads((run / "summary.json").read_text())["epochs"] == 5


def test_on_off_output_flags_can_be_switched_either_way_on_resume(tmp_path, capsys):
    run = xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"]  # quiet
    capsys.readouterr()
    xor_main("--resume", run, "--epochs", "4")          # not given: stays quiet
    assert capsys.readouterr().out == ""
    xor_main("--resume", run, "--epochs", "5", "--no-quiet")
    assert "Done: 5 epochs" in capsys.readouterr().out


def test_a_moderate_run_fits_under_a_small_memory_limit(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, "1G")
    xor_main("--epochs", "1", "--repeats", "20000", "--batch-size", "full", "--quiet",
             "--no-tensorboard", "--logdir", tmp_path)


def test_kept_outputs_are_named_for_the_epoch_they_show(tmp_path, capsys):
    """An extension interrupted before it wrote anything keeps the first outputs' epoch."""
    run = Path(xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"])
    first = (run / "summary.json").read_bytes()
    # The extension to 9 epochs is stopped at epoch 5: a callback-free way is to let the
    # library write its checkpoint there, as Ctrl-C would.
    from torchann import Checkpoint
    saved = load_checkpoint(run)
    x, t = data.logic_gate("xor", repeats=3, noise=0.15, seed=0)
    net = TwoLayerNet(2, 3, 1, seed=0, dtype=torch.float32)

    def stop_at_5(state):
        if state.epoch == 5:
            signal.raise_signal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        fit(net, x, t, lr=2.0, epochs=9, shuffle=False, resume=saved,
            callbacks=[stop_at_5, Checkpoint(run / "checkpoint.pt", config=saved["config"])])
    xor_main("--resume", run, "--epochs", "9", "--quiet", "--no-tensorboard")
    assert (run / "summary.epoch3.json").read_bytes() == first
    assert json.loads((run / "summary.json").read_text())["epochs"] == 9


# --- resume honesty -------------------------------------------------------------------------

def test_a_flag_given_on_resume_must_match_the_run_even_when_it_is_the_default(tmp_path, capsys):
    run = xor_main(*SMALL, "--lr", "1.0", "--logdir", tmp_path, "--no-tensorboard")["run_dir"]
    line = usage_error(capsys, "--resume", run, "--epochs", "4", "--lr", "2.0")  # 2.0: the default
    assert "--lr cannot change when resuming (the run used 1.0, got 2.0)" in line
    xor_main("--resume", run, "--epochs", "4", "--lr", "1.0", "--quiet")  # the same value is fine


def test_flags_given_on_resume_at_the_runs_own_values_are_accepted(tmp_path, capsys):
    run = xor_main(*SMALL, "--batch-size", "full", "--logdir", tmp_path, "--no-tensorboard")
    resumed = xor_main("--resume", run["run_dir"], "--epochs", "4", "--batch-size", "full",
                       "--quiet")
    assert resumed["config"]["batch_size"] is None == run["config"]["batch_size"]  # the flag's
    line = usage_error(capsys, "--resume", run["run_dir"], "--epochs", "5",
                       "--logdir", tmp_path / "elsewhere")
    assert "--logdir cannot be given with --resume" in line
    assert not (tmp_path / "elsewhere").exists()


def test_resume_of_a_folder_that_is_not_a_run_touches_nothing_in_it(tmp_path, capsys):
    run = Path(xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"])
    writing = run / ".weights.json.k3j2_x.tmp"  # as if that run were writing it right now
    writing.write_bytes(b"half")
    assert "no checkpoint" in usage_error(capsys, "--resume", run.parent, "--epochs", "4")
    assert writing.exists() and not (run.parent / ".lock").exists()


def test_a_run_written_before_the_settings_were_one_record_resumes(tmp_path):
    from torchann.runs.checkpoint import save_checkpoint
    run = Path(xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"])
    saved = load_checkpoint(run / "checkpoint.pt")
    config = saved.pop("config")
    training = {k: v for k, v in config.items() if k not in ("experiment", "data")}
    training |= {k: saved["fit_args"][k] for k in ("lr", "anneal", "seed")}
    for key in ("format", "version", "checksum"):
        saved.pop(key)
    save_checkpoint(run / "checkpoint.pt", saved, {"experiment": "xor", "training": training,
                                                  "data": config["data"]})
    resumed = xor_main("--resume", run, "--epochs", "4", "--quiet", "--no-tensorboard")
    straight = xor_main(*SMALL[2:], "--epochs", "4", "--logdir", tmp_path, "--no-tensorboard")
    assert resumed["history"]["loss"] == straight["history"]["loss"]


def test_a_second_process_cannot_resume_a_run_in_use(tmp_path, capsys):
    run = xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"]
    holder = lock_run_dir(run)  # another open file: conflicts like another process would
    try:
        assert "another process is using the run folder" in usage_error(
            capsys, "--resume", run, "--epochs", "4")
    finally:
        holder.close()
    xor_main("--resume", run, "--epochs", "4", "--quiet", "--no-tensorboard")


def test_temporary_files_of_a_killed_write_are_cleaned_up_on_resume(tmp_path):
    run = Path(xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"])
    stale = run / ".checkpoint.pt.k3j2_x.tmp"
    stale.write_bytes(b"half a checkpoint")
    xor_main("--resume", run, "--epochs", "4", "--quiet", "--no-tensorboard")
    assert not stale.exists()


def test_a_full_disk_while_writing_is_one_line(tmp_path, capsys, monkeypatch):
    import experiments.recorder as recorder

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "weights.json"))
    monkeypatch.setattr(recorder, "export_weights", full)
    line = usage_error(capsys, *SMALL, "--logdir", tmp_path, "--no-tensorboard")
    assert line == f"error: could not write {tmp_path / 'weights.json'}: No space left on device"


# --- sizes are checked before anything is allocated or made ------------------------------

@pytest.mark.parametrize("flags,needs", [
    (["--hidden", "1000000000"], "1,000,000,000 hidden units"),
    (["--repeats", "100000000000"], "observations"),
])
def test_sizes_that_cannot_fit_are_refused_before_a_folder_is_made(tmp_path, capsys, flags, needs):
    line = usage_error(capsys, *flags, "--logdir", tmp_path)
    assert needs in line and "of memory, more than the limit" in line
    assert not (tmp_path / "xor").exists()


def test_a_sweep_that_cannot_fit_is_refused_before_a_folder_is_made(tmp_path, capsys):
    from experiments import restarts
    with pytest.raises(SystemExit) as info:
        restarts.main(["--epochs-scale", "1e6", "--logdir", str(tmp_path)])
    assert info.value.code == 2
    assert "1,000 members x 300,000,000 epochs would need" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_library_refuses_sizes_that_cannot_fit(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, "1G")
    with pytest.raises(ValueError, match=r"a layer of 2 x 1,000,000,000 weights .*set by "
                                         + MEMORY_LIMIT_VARIABLE):
        MLP([2, 1_000_000_000, 1])
    with pytest.raises(ValueError, match="a data set of 400,000,000,000 observations"):
        data.logic_gate("xor", repeats=100_000_000_000)
    x, t = data.logic_gate("xor", repeats=1)
    with pytest.raises(ValueError, match="the history of 1,000,000,000 epochs"):
        fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=10 ** 9)
    with pytest.raises(ValueError, match="the history of 10,000 members x 10,000 epochs"):
        fit_ensemble(Ensemble([2, 1, 1], seeds=range(10_000)), x, t, lr=1.0, epochs=10_000)
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, "lots")
    with pytest.raises(ValueError, match=f"{MEMORY_LIMIT_VARIABLE}='lots' is not a size"):
        MLP([2, 10_000_000, 1])  # 720 MB: large enough for the limit to be read


# --- one line for every bad input -------------------------------------------------------

@pytest.mark.parametrize("flags,message", [
    (["--lr", "1e39"], "--lr 1e+39 is larger than any torch.float32 number"),
    (["--seed", "123456789012345678901"], "argument --seed: must fit in 64 bits"),
    (["--run-name", "a" * 300], "run name is 300 characters long; use at most 100"),
])
def test_bad_flags_are_one_line_before_a_folder_is_made(tmp_path, capsys, flags, message):
    assert message in usage_error(capsys, *flags, "--logdir", tmp_path)
    assert not (tmp_path / "xor").exists()


def test_resuming_another_experiments_run_names_it(tmp_path, capsys):
    from experiments import regression
    run = xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"]
    with pytest.raises(SystemExit) as info:
        regression.main(["--resume", run])
    assert info.value.code == 2
    assert "is a run of 'xor', which has no --target" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root may write to any folder")
def test_a_read_only_run_folder_is_refused_on_resume(tmp_path, capsys):
    run = Path(xor_main(*SMALL, "--logdir", tmp_path, "--no-tensorboard")["run_dir"])
    run.chmod(0o555)
    try:
        assert "is not writable" in usage_error(capsys, "--resume", run, "--epochs", "4")
    finally:
        run.chmod(0o755)


def test_library_inputs_that_used_to_give_tracebacks():
    x, t = data.logic_gate("xor", repeats=1)
    frozen = TwoLayerNet(2, 3, 1)
    frozen.requires_grad_(False)
    with pytest.raises(ValueError, match="every parameter of the model is frozen"):
        fit(frozen, x, t, lr=1.0, epochs=1)
    with pytest.raises(ValueError, match="loss 'bce' needs targets between 0 and 1.*got 5"):
        fit(TwoLayerNet(2, 3, 1), x, 5 * t, lr=1.0, epochs=1, loss="bce")
    with pytest.raises(ValueError, match="lr 1e\\+39 is larger than any torch.float32 number"):
        fit(TwoLayerNet(2, 3, 1, dtype=torch.float32), x, t, lr=1e39, epochs=1)
    with pytest.raises(ValueError, match="this net takes 2 input columns, got 3"):
        TwoLayerNet(2, 3, 1)(torch.rand(4, 3))
    with pytest.raises(ValueError, match="seed must fit in 64 bits"):
        TwoLayerNet(2, 3, 1, seed=10 ** 20)


@pytest.mark.parametrize("damage", [
    lambda record: record.pop("loss"),
    lambda record: record.update(waited="3"),
    lambda record: record.update(patience=torch.tensor([2, 2])),
    lambda record: record.update(state={"hidden.weight": [1.0]}),
])
def test_a_damaged_validation_record_is_one_line(tmp_path, damage):
    from torchann import Checkpoint, Validation
    x, t = data.logic_gate("xor", repeats=2)
    fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=2,
        callbacks=[Validation(x, t, patience=2), Checkpoint(tmp_path / "c.pt")])
    saved = load_checkpoint(tmp_path / "c.pt")
    damage(saved["callbacks"]["Validation"])
    with pytest.raises(ValueError, match="the checkpoint is damaged: its validation record"):
        fit(TwoLayerNet(2, 3, 1), x, t, lr=1.0, epochs=4, resume=saved,
            callbacks=[Validation(x, t, patience=2)])


# --- crash consistency --------------------------------------------------------------------

@pytest.mark.skipif(os.name != "posix", reason="advisory locks are POSIX")
def test_staging_folders_of_killed_processes_are_removed_by_the_next_one(tmp_path, monkeypatch):
    """A process SIGKILLed while it writes a run's outputs leaves its staged TensorBoard
    folder in the temp directory, unlocked; the next process that stages removes it, and
    keeps every folder a live logger holds, and anything it did not make."""
    import tempfile

    from torchann.runs.folders import lock_run_dir
    from torchann.viz.tensorboard import STAGING_PREFIX, TensorBoardLogger
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    orphan, live = (tmp_path / f"{STAGING_PREFIX}{name}" for name in ("killed", "live"))
    not_staging = tmp_path / f"{STAGING_PREFIX}notes"      # no lock file: not made by us
    yours = tmp_path / "a folder of yours"
    for folder in (orphan, live, not_staging, yours):
        folder.mkdir()
        (folder / "events.out.tfevents.1").write_bytes(b"x")
    lock_run_dir(orphan).close()                          # locked by a process now gone
    held = lock_run_dir(live)                             # a logger still writing
    link = tmp_path / f"{STAGING_PREFIX}link"
    link.symlink_to(yours, target_is_directory=True)
    (yours / ".lock").touch()                             # so the link looks like staging
    with TensorBoardLogger.staged() as logger:
        assert logger.log_dir.name.startswith(STAGING_PREFIX)
        assert not orphan.exists()
        assert live.exists() and not_staging.exists() and link.is_symlink()
        assert (yours / "events.out.tfevents.1").exists()
        TensorBoardLogger.staged().discard()              # another process staging now
        assert logger.log_dir.exists()                     # keeps ours: we hold its lock
    held.close()
    TensorBoardLogger.staged().discard()
    assert not live.exists()                              # its lock is free: an orphan now


@pytest.mark.slow
def test_runs_killed_at_random_moments_resume_bit_exact(tmp_path):
    """SIGKILL (no chance to clean up) at 20 random moments, half while training and half
    while writing the outputs; each resumed run must equal an uninterrupted one, every
    TensorBoard event included (each once), and no staging folder left behind."""
    temp = tmp_path / "temp"  # the system temp folder of every run below
    temp.mkdir()
    env = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(temp))
    command = [sys.executable, "-m", "experiments.xor", "--epochs", "100", "--checkpoint-every",
               "1", "--images", "2", "--logdir", str(tmp_path)]
    quietly = dict(cwd=ROOT, env=env, check=True, capture_output=True)  # not --quiet: it is kept
    subprocess.run([*command, "--run-name", "straight"], **quietly)
    straight = tmp_path / "xor" / "straight"
    # Time the two phases of one run: training (from the first line to "epoch 100/100"),
    # then writing the outputs (to the end). Half the kills land in each, at random.
    timing = subprocess.Popen([*command, "--run-name", "timing"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert "training" in timing.stdout.readline()
    started = time.perf_counter()
    while "epoch 100/100" not in timing.stdout.readline():
        pass
    trained = time.perf_counter() - started
    timing.communicate(timeout=600)
    duration = time.perf_counter() - started
    moments = random.Random(0)
    landed = {"training": 0, "writing outputs": 0, "after the outputs": 0}
    for kill in range(20):
        process = subprocess.Popen([*command, "--run-name", f"killed{kill}"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert "training" in process.stdout.readline()   # the run folder is there
        time.sleep(moments.uniform(0.0, trained) if kill % 2 else moments.uniform(trained, duration))
        process.kill()
        process.wait()
        process.stdout.close()
        run = tmp_path / "xor" / f"killed{kill}"
        if (run / "summary.json").exists():
            landed["after the outputs"] += 1
        elif (run / "checkpoint.pt").exists() and load_checkpoint(run)["epoch"] == 100:
            landed["writing outputs"] += 1
        else:
            landed["training"] += 1
        if not (run / "checkpoint.pt").exists():  # killed before the first epoch ended
            continue
        if not (run / "summary.json").exists():
            subprocess.run([*command[:3], "--resume", str(run)], **quietly)
        assert outputs(run) == outputs(straight), kill
        assert loss_points(run) == loss_points(straight), kill
        assert event_steps(run) == event_steps(straight), kill
        assert not list(temp.glob("torchann-events-*")), kill  # the resume removed the orphan
    print("kills landed:", landed)
