"""The bookkeeping around ``fit``'s loop: batches, epoch losses, history, divergence, resume.

``fit`` (``torchann/train.py``) holds the four steps of the seed's algorithm;
everything it must remember between them lives in a :class:`TrainingRun`:
the order the observations come in (drawn per epoch from a seeded generator),
how far the run got (epoch, and step within it), the losses of the epoch so
far, the :class:`History`, and the callbacks. It can write all of that to a
checkpoint and read it back, so a resumed run continues at the very next step
and ends bit-identical to one that was never interrupted.
"""

from __future__ import annotations

import copy
import math
import signal
import time
import uuid

import torch
from torch import nn

from torchann.checks import (as_training_data, check_anneal, check_batch_size, check_int,
                             check_learning_rate, check_loss_fits_output, check_memory,
                             check_seed, check_targets_fit_loss)
from torchann.losses import get_loss
from torchann.runs.checkpoint import data_fingerprint
from torchann.runs.integrity import check_run_state
from torchann.training.history import EpochEnd, History, TrainingDiverged, TrainingInterrupted
from torchann.training.metrics import accuracy, class_coding

__all__ = ["TrainingRun", "checked_callbacks", "finished", "step_sizes", "cut_batches"]

HISTORY_BYTES_PER_EPOCH = 200  # up to six lists of Python floats, 32 bytes per entry


def finished(saved: dict, epochs: int) -> bool:
    """Whether a checkpoint leaves nothing to train in a run of ``epochs`` epochs: it has
    trained them all (or more), or its run stopped early. The one place this is decided."""
    return saved["epoch"] >= epochs or saved["history"]["stopped_early"]


def step_sizes(n: int, batch_size: int, like: torch.Tensor) -> torch.Tensor:
    """Observations in each step of an epoch (the last may be short), as ``like``'s dtype and
    device: the weights that turn the steps' batch-mean losses into one mean per observation."""
    return torch.tensor([min(batch_size, n - i) for i in range(0, n, batch_size)],
                        dtype=like.dtype, device=like.device)


def cut_batches(inputs: torch.Tensor, targets: torch.Tensor, batch_size: int,
                order: torch.Tensor | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch's (x, t) batches, the rows taken in ``order`` (``None``: as given).

    The data are (n, ·). An (n,) order is one order for every net; a (K, n) order, one
    row per ensemble member, gives (K, n, ·) data, each member's rows in its own order.
    Either way the batches are cut along dim −2, the observations.
    """
    if order is not None:
        inputs, targets = inputs[order], targets[order]
    return list(zip(inputs.split(batch_size, dim=-2), targets.split(batch_size, dim=-2)))


def checked_callbacks(callbacks) -> list:
    """One callable or a list of them, in the order they run (by ``order``, else as given)."""
    callbacks = [callbacks] if callable(callbacks) else list(callbacks or ())
    for item in callbacks:
        if not callable(item):
            raise TypeError(f"callbacks must be callables (or a list of them), got {item!r}")
    return sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))  # stable: yours keep order


class TrainingRun:
    """One ``fit`` call's state. Every argument is checked here, before any work starts."""

    def __init__(self, model: nn.Module, inputs, targets, *, lr, epochs, batch_size, anneal,
                 shuffle, seed, loss, engine, callbacks, track_accuracy):
        self.anneal = check_anneal(anneal)
        self.epochs = check_int("epochs", epochs)
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        self.model, self.callbacks = model, checked_callbacks(callbacks)
        self.inputs, self.targets = as_training_data(model, inputs, targets)
        self.n = len(self.inputs)
        self.lr = check_learning_rate(lr, self.inputs.dtype)
        self.batch_size = check_batch_size(batch_size, self.n)
        self.shuffle = shuffle
        self.batch_sizes = step_sizes(self.n, self.batch_size, self.inputs)
        self.coding = class_coding(self.targets) if track_accuracy else None
        self.params = [p for p in model.parameters() if p.requires_grad]
        if not self.params:
            raise ValueError("every parameter of the model is frozen (requires_grad=False): "
                             "there is nothing to train")
        check_memory(HISTORY_BYTES_PER_EPOCH * self.epochs,
                     f"the history of {self.epochs:,} epochs")
        check_loss_fits_output(loss, model)
        check_targets_fit_loss(loss, self.targets)
        self.error_of = get_loss(loss)
        self.settings = {"lr": self.lr, "anneal": self.anneal, "batch_size": self.batch_size,
                         "shuffle": shuffle, "seed": check_seed(seed), "engine": engine,
                         "loss": loss, "track_accuracy": bool(track_accuracy)}
        self.generator = torch.Generator().manual_seed(seed)
        self.history, self.run_id, self.stop = History(), uuid.uuid4().hex, False
        self.resumed = False  # load_state_dict: this run continues a checkpoint
        # Where the run is: the current epoch (0-based), the steps done in it, their losses.
        self.epoch, self.losses = 0, []
        # Where this session picked the current epoch up (step 0, or a checkpoint's step),
        # and the parameters there: what a diverging epoch is rolled back to.
        self._resume_step, self._resume_losses, self._epoch_start_params = 0, [], []
        self.order_state = self.generator.get_state()
        self._fingerprint = self._callback_states = None
        self._clock = time.perf_counter()

    # --- the loop's helpers ---------------------------------------------------------------

    def start(self) -> None:
        """Before the first step: callbacks check what they need (a writable checkpoint path),
        and a new run measures its untrained net, which ``on_start`` callbacks see as epoch 0."""
        self._call("on_fit_start", self)
        if self._callback_states is not None:  # a resumed run's callbacks go on from there
            for key, cb in self._keyed_callbacks():
                if hasattr(cb, "load_state_dict"):
                    cb.load_state_dict(self._callback_states.get(key))
            return
        history = self.history
        history.initial_loss, history.initial_accuracy = self.measure()
        self._call("on_start", EpochEnd(0, self.epochs, history.initial_loss, self.lr,
                                        history.initial_accuracy, self.model, self.inputs,
                                        self.targets, history, run=self))

    def batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Start the current epoch: draw its order, return the batches still to do in it."""
        self._resume_step, self._resume_losses = self.step, list(self.losses)
        self.order_state = self.generator.get_state()  # this epoch's order is drawn from here
        order = (torch.randperm(self.n, generator=self.generator).to(self.inputs.device)
                 if self.shuffle else None)
        self._epoch_start_params = [p.detach().clone() for p in self.params]  # the rollback point
        return cut_batches(self.inputs, self.targets, self.batch_size, order)[self.step:]

    @property
    def step(self) -> int:
        """Steps done in the current epoch (a resumed epoch counts its earlier ones)."""
        return len(self.losses)

    def step_done(self, loss: torch.Tensor) -> None:
        self.losses.append(loss.detach())

    def interrupt(self, lr: float, signum: int = signal.SIGINT) -> None:
        """After a stop signal: let callbacks save the state after this complete step, then stop."""
        if not (bool(torch.isfinite(torch.stack(self.losses)).all()) and self._params_finite()):
            self._roll_back(math.nan, lr)  # never checkpoint a state that has already diverged
        self.history.steps += self.step - self._resume_step
        self.history.seconds = time.perf_counter() - self._clock
        self._call("on_interrupt", self)
        raise TrainingInterrupted(self.epoch + 1, self.step, len(self.batch_sizes), signum)

    def measure(self) -> tuple[float, float | None]:
        """(loss, accuracy) of the net as it is now, on the whole training set."""
        with torch.no_grad():
            outputs = self.model(self.inputs)
            loss = float(self.error_of(outputs, self.targets))
            acc = None if self.coding is None else accuracy(outputs, self.targets, self.coding)
        return loss, acc

    def end_epoch(self, lr: float) -> EpochEnd:
        """Record the finished epoch (or roll it back if it diverged) and run the callbacks."""
        # the steps' batch means weighted by their sizes: the mean per observation
        online = float((torch.stack(self.losses) * self.batch_sizes).sum() / self.n)
        if not (math.isfinite(online) and self._params_finite()):
            self._roll_back(online, lr)
        loss, acc = self.measure()
        if not math.isfinite(loss):
            self._roll_back(loss, lr)
        history = self.history
        history.steps += self.step - self._resume_step
        if acc is not None:
            history.accuracy.append(acc)
        history.loss.append(loss)
        history.online_loss.append(online)
        history.lr.append(lr)
        history.seconds = time.perf_counter() - self._clock
        self.epoch, self.losses = self.epoch + 1, []
        self.order_state = self.generator.get_state()
        state = EpochEnd(self.epoch, self.epochs, loss, lr, acc, self.model, self.inputs,
                         self.targets, history, online_loss=online, run=self)
        for cb in self.callbacks:
            cb(state)
        return state

    def _params_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.params)

    def _roll_back(self, loss: float, lr: float) -> None:
        """Put back the parameters from where this epoch started (in this session) and stop."""
        what = (f"the loss became {loss}" if not math.isfinite(loss)
                else "a parameter became NaN or inf")
        with torch.no_grad():
            for p, old in zip(self.params, self._epoch_start_params):
                p.copy_(old)
        self.losses = self._resume_losses
        self.history.seconds = time.perf_counter() - self._clock
        self._call("on_diverge", self)
        where = (f"before epoch {self.epoch + 1}" if self._resume_step == 0 else
                 f"at step {self._resume_step} of epoch {self.epoch + 1}, where this run resumed")
        raise TrainingDiverged(f"training diverged at epoch {self.epoch + 1}: {what} with learning "
                               f"rate {lr:g}; try a smaller lr. The parameters were restored to "
                               f"their values {where}.")

    def _keyed_callbacks(self):
        """(key, callback) pairs; the key names the class (or the ``state_key`` a wrapper
        gives), and counts repeats of one class."""
        seen: dict[str, int] = {}
        for cb in self.callbacks:
            name = getattr(cb, "state_key", type(cb).__name__)
            seen[name] = seen.get(name, 0) + 1
            yield (name if seen[name] == 1 else f"{name}#{seen[name]}"), cb

    def _call(self, hook: str, argument) -> None:
        for cb in self.callbacks:
            if hasattr(cb, hook):
                getattr(cb, hook)(argument)

    # --- checkpoints: everything above, as plain data -----------------------------------

    def fingerprint(self) -> str:
        """A short hash of the training data, to refuse resuming on other data."""
        if self._fingerprint is None:
            self._fingerprint = data_fingerprint(self.inputs, self.targets)
        return self._fingerprint

    def state_dict(self) -> dict:
        return {
            "run_id": self.run_id, "epoch": self.epoch, "step": self.step,
            "order_state": self.order_state.clone(),
            "partial_losses": (torch.stack(self.losses).detach().cpu() if self.losses
                               else torch.zeros(0, dtype=torch.float64)),
            "state_dict": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "history": self.history.to_dict(), "fit_args": self.settings,
            "data": self.fingerprint(),
            "callbacks": {key: cb.state_dict() for key, cb in self._keyed_callbacks()
                          if hasattr(cb, "state_dict")},
        }

    def load_state_dict(self, saved: dict) -> None:
        """Continue from a checkpoint made with the same network, data and settings.

        Every entry is checked (``check_run_state``) before any is used, so a damaged
        or hand-made dict is refused with a one-line ``ValueError``.
        """
        check_run_state(saved)
        own, theirs = self.model.state_dict(), saved["state_dict"]
        if set(own) != set(theirs) or any(
                (own[k].shape, own[k].dtype) != (theirs[k].shape, theirs[k].dtype) for k in own):
            shapes = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch."))
                      for k, v in theirs.items()}
            raise ValueError(f"the checkpoint was made for a different network ({shapes})")
        for key, value in self.settings.items():
            if saved["fit_args"].get(key) != value:
                raise ValueError(f"cannot resume with {key}={value!r}: the checkpoint was made "
                                 f"with {key}={saved['fit_args'].get(key)!r}")
        if saved["data"] != self.fingerprint():
            raise ValueError("cannot resume on different data: the checkpoint's training data "
                             "had another fingerprint")
        # A finished checkpoint is resumed only at exactly its epoch count, with nothing to
        # train: fit returns its history (how a run stopped while writing its outputs ends).
        # Mid-epoch, epoch `saved["epoch"] + 1` is unfinished and needs that many epochs.
        if finished(saved, self.epochs) and (saved["epoch"], saved["step"]) != (self.epochs, 0):
            if saved["history"]["stopped_early"] and saved["epoch"] < self.epochs:
                raise ValueError(f"the run stopped early at epoch {saved['epoch']} (no better "
                                 "validation loss for its patience): nothing to resume")
            where = (f"has already finished {saved['epoch']} epochs" if saved["step"] == 0 else
                     f"is in epoch {saved['epoch'] + 1} (after step {saved['step']})")
            raise ValueError(f"the checkpoint {where}; ask for at least {saved['epoch'] + 1} "
                             f"epochs in total (got epochs={self.epochs})")
        if saved["step"] > len(self.batch_sizes):
            raise ValueError(f"the checkpoint is damaged: step {saved['step']} of an epoch that "
                             f"has {len(self.batch_sizes)} steps")
        self._callback_states = saved["callbacks"]  # handed over in start()
        with torch.no_grad():
            self.model.load_state_dict(theirs)
        # a copy: the run appends to its history, never to the lists of the caller's dict
        self.history = History(**copy.deepcopy(saved["history"]))
        self._clock -= self.history.seconds
        self.run_id, self.epoch = saved["run_id"], saved["epoch"]
        self.resumed = True
        self.losses = [loss.to(self.inputs.device) for loss in saved["partial_losses"]]
        self.generator.set_state(saved["order_state"])
