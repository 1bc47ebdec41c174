"""Checkpoints: everything needed to continue a ``fit`` run exactly where it stopped.

A checkpoint holds the parameters, how far training got (epoch and step
within it), the state of the shuffling generator from which the current
epoch's order is drawn, the losses of the steps done so far in that epoch, the
history, the settings that make the run what it is (lr, anneal, batch size,
shuffling, seed, engine, loss), the state of callbacks that keep one (the best
epoch of ``Validation``), the caller's config, and a fingerprint of the data.
``TrainingRun.state_dict`` (``torchann/training/loop.py``) gathers it.
Resuming from it replays nothing and skips nothing, so an interrupted run and
an uninterrupted one end bit-identical.

Files are written atomically (a temporary file in the same folder, then a
rename) and read with ``torch.load(weights_only=True)``, which only rebuilds
tensors and plain containers: a file carrying pickled code is refused. Each
run has a ``run_id``; a checkpoint file is only ever replaced by the run that
wrote it, never silently by an unrelated one. A file damaged on disk or in
transfer fails its ``checksum`` (SHA-256 over the whole content) and is refused
as a corrupt checkpoint; ``torchann/runs/integrity.py`` holds that check and the
others a file passes before a resume trusts it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import reprlib
from pathlib import Path
from typing import Callable

import torch

from torchann.checks import check_int
from torchann.runs.folders import atomic_write, make_folder
from torchann.runs.integrity import (check_archive, check_run_state, content_checksum,
                                     first_line, same)

__all__ = ["FORMAT", "Checkpoint", "save_checkpoint", "load_checkpoint", "save_signed",
           "load_signed", "data_fingerprint"]

FORMAT = "torchann-checkpoint"
VERSION = 3


def data_fingerprint(inputs: torch.Tensor, targets: torch.Tensor) -> str:
    """A short hash of the training data, to catch resuming on different data."""
    digest = hashlib.sha256()
    for tensor in (inputs, targets):
        values = tensor.detach().to("cpu", torch.float64).contiguous()
        digest.update(str(tuple(values.shape)).encode())
        digest.update(values.numpy().tobytes())
    return digest.hexdigest()[:16]


def save_signed(path: str | Path, payload: dict) -> Path:
    """Write ``payload`` (tensors and plain data) with the checksum of its whole content,
    atomically: a checkpoint, or a sweep's finished configuration. Returns the path."""
    signed = {**payload, "checksum": content_checksum(payload)}
    return atomic_write(Path(path), lambda tmp: torch.save(signed, tmp))


def load_signed(path: Path, what: str = "checkpoint",
                identify: Callable[[dict], None] | None = None) -> dict:
    """Read what :func:`save_signed` wrote, trusting nothing before it is checked.

    In order: an archive as ``torch.save`` writes it, tensors and plain data only,
    ``identify(payload)`` (which raises for a file of another kind or version), and
    the checksum. Anything wrong is a one-line ``ValueError`` that names ``what``.
    """
    check_archive(path, what)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # weights_only refuses anything but tensors and plain containers. A file that
        # names a Python callable or class to rebuild (a pickle GLOBAL) carries code.
        named = re.search(r"(?:GLOBAL|Unsupported class) (\S+)", str(error))  # torch >= / < 2.4
        if named is None:
            raise ValueError(f"{path} is not a readable {what} (not a torch file of "
                             "tensors and plain data)") from None
        raise ValueError(
            f"refusing to load {path}: it contains pickled Python objects, not only tensors "
            f"and plain data, and unpickling them could run code (it names {named[1]:.80})"
        ) from None
    except Exception as error:  # a damaged archive fails in many ways inside torch.load
        raise ValueError(f"{path} is not a readable {what}: {first_line(error)}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is not a torchann {what}")
    if identify is not None:
        identify(payload)
    try:
        checksum = content_checksum(payload, limit=path.stat().st_size)
    except (TypeError, ValueError) as error:
        raise ValueError(f"corrupt {what} {path}: {error}") from None
    if not same(payload.get("checksum"), str, checksum):
        raise ValueError(f"corrupt {what} {path}: its content does not match its checksum")
    return payload


def save_checkpoint(path: str | Path, run_state: dict, config: dict | None = None) -> Path:
    """Write a run's ``state_dict()`` and the caller's ``config`` atomically; returns the path."""
    return save_signed(path, {"format": FORMAT, "version": VERSION, **run_state,
                              "config": config or {}})


class Checkpoint:
    """A ``fit`` callback that keeps ``path`` up to date with the run's checkpoint.

    Written every ``every`` epochs (0: not on a schedule), at the last epoch, when
    early stopping ends the run, after Ctrl-C (the state after the last complete
    step) and on divergence (the last good state). ``config`` is stored with it:
    JSON-like data such as an experiment's settings. A file already at ``path`` is
    never overwritten unless it holds this run's checkpoint (its ``run_id``). A caller
    that loaded the checkpoint it resumes from names that file as ``resumed_from``:
    if it is ``path``, it is known to be the run's own and is not read again.
    """

    order = 1  # after every other callback: it saves what they recorded for the epoch

    def __init__(self, path: str | Path, *, every: int = 0, config: dict | None = None,
                 resumed_from: str | Path | None = None):
        check_int("checkpoint every", every, minimum=0)
        content_checksum({"config": config})  # a config it could not store fails now, not mid-run
        self.path, self.every, self.config = Path(path), every, config
        self.resumed_from = None if resumed_from is None else Path(resumed_from).resolve()

    def on_fit_start(self, run) -> None:
        if not (run.resumed and self.resumed_from == self.path.resolve()):
            if self.path.is_dir():
                raise ValueError(f"checkpoint path {self.path} is a folder; give a file path "
                                 "(for example RUN/checkpoint.pt)")
            if self.path.exists():
                try:
                    owner = load_checkpoint(self.path).get("run_id")
                except ValueError:
                    owner = None
                if owner != run.run_id:
                    raise ValueError(f"{self.path} already holds a checkpoint of another run; "
                                     "it is never overwritten: resume that run, or choose "
                                     "another path")
        make_folder(self.path.parent, "the checkpoint folder")

    def __call__(self, state) -> None:
        if state.run.stop or state.epoch == state.epochs or (
                self.every and state.epoch % self.every == 0):
            self.save(state.run)

    def save(self, run) -> None:
        save_checkpoint(self.path, run.state_dict(), self.config)

    on_interrupt = on_diverge = save


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint safely (:func:`load_signed`, then :func:`check_run_state`); raises
    a one-line ``ValueError`` for anything that is not one."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"a checkpoint is given as a path (str or Path), got {path!r}")
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}")

    def identify(payload: dict) -> None:
        if not same(payload.get("format"), str, FORMAT):
            raise ValueError(f"{path} is not a torchann checkpoint")
        if not same(payload.get("version"), int, VERSION):
            raise ValueError(f"{path} has checkpoint version "
                             f"{reprlib.repr(payload.get('version'))}; this torchann reads "
                             f"version {VERSION}")

    payload = load_signed(path, "checkpoint", identify)
    check_run_state(payload, str(path))
    if not isinstance(payload.get("config"), dict):
        raise ValueError(f"{path} is not a usable checkpoint: 'config' is not a dict")
    return payload

