"""The seed's training procedure: gradient descent, one observation at a time.

Each step follows the four steps of the seed's backpropagation figure:

    I.   forward:       push the observation through the net, keeping each a = g(z)
    II.  backpropagate: the output error signal δ_k = g'(z_k)(a_k − t_k) travels
                        back, δ_j = g'(z_j) Σ_k δ_k w_jk
    III. gradients:     ∂E/∂w = (forward signal) × δ, ∂E/∂b = δ
    IV.  update:        p ← p − η ∂E/∂p

Steps I-III come from one of three engines (``torchann.engines``): by default
autograd running our activation Functions' ``backward`` (g'(z) from the cached
a) and the matrix products' backward (outer products of forward signals and
δ); or the same equations written out by hand (``engine="explicit"``); or
torch's built-in ops (``engine="torch"``). Step IV is written out here.

After every epoch the learning rate is multiplied by ``anneal``: the seed's
"simulated annealing" (0.99 in its regression example; 1 means a fixed rate).
"""

from __future__ import annotations

import itertools
import math
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from torchann.training.checks import (as_training_data, check_anneal, check_batch_size,
                             check_learning_rate, check_positive_int)
from torchann.runs.checkpoint import (check_checkpoint_target, data_fingerprint, load_checkpoint,
                                 save_checkpoint)
from torchann.engines import make_engine
from torchann.runs.interrupt import InterruptFlag
from torchann.losses import get_loss
from torchann.training.metrics import accuracy, class_coding

__all__ = ["fit", "lr_at", "History", "EpochEnd", "TrainingDiverged", "TrainingInterrupted"]


def lr_at(epoch: int, lr0: float, anneal: float) -> float:
    """Learning rate during ``epoch`` (0-based): η_epoch = η_0 · anneal^epoch."""
    return lr0 * anneal ** epoch


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the parameters are those before the bad epoch."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped ``fit`` after a complete step (and wrote the checkpoint, if any)."""

    def __init__(self, epoch: int, step: int, steps: int, checkpoint: Path | None):
        self.epoch, self.step, self.steps, self.checkpoint = epoch, step, steps, checkpoint
        where = f" Checkpoint: {checkpoint}." if checkpoint is not None else ""
        super().__init__(f"interrupted in epoch {epoch} after step {step} of {steps}.{where}")


@dataclass
class History:
    """Per-epoch record of a run. ``accuracy`` stays empty for regression."""

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int | None = None      # with validation: the epoch of the lowest val_loss
    stopped_early: bool = False
    seconds: float = 0.0
    steps: int = 0

    def to_dict(self) -> dict:
        return {"loss": self.loss, "lr": self.lr, "accuracy": self.accuracy,
                "val_loss": self.val_loss, "val_accuracy": self.val_accuracy,
                "best_epoch": self.best_epoch, "stopped_early": self.stopped_early,
                "seconds": self.seconds, "steps": self.steps}


@dataclass
class EpochEnd:
    """What a callback sees after each epoch (``epoch`` counts from 1)."""

    epoch: int
    epochs: int
    loss: float
    lr: float
    accuracy: float | None
    model: nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    history: History
    val_loss: float | None = None
    val_accuracy: float | None = None


Callback = Callable[[EpochEnd], None]


def _all_finite(tensors: list[torch.Tensor]) -> bool:
    return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())


def _as_callbacks(callback) -> list[Callback]:
    if callback is None:
        return []
    if callable(callback):
        return [callback]
    callbacks = list(callback)
    for item in callbacks:
        if not callable(item):
            raise TypeError(f"callback must be callable (or a list of callables), got {item!r}")
    return callbacks


def fit(model: nn.Module, inputs, targets, *, lr: float, epochs: int, batch_size: int | None = 1,
        anneal: float = 1.0, shuffle: bool = True, seed: int = 0,
        callback: Callback | Iterable[Callback] | None = None, engine: str = "autograd",
        checkpoint: str | Path | None = None, checkpoint_every: int = 0,
        resume: str | Path | dict | None = None, config: dict | None = None,
        loss: str = "squared", validation=None, early_stopping: int | None = None,
        track_accuracy: bool = True) -> History:
    """Train ``model`` in place by plain gradient descent on the seed's squared error.

    Args:
        inputs, targets: (n, n_in) and (n, n_out); moved to the model's device and dtype.
        lr: the initial learning rate η.
        epochs: passes through the data (in total, also when resuming).
        batch_size: 1 is the seed's online learning (one update per observation);
            ``None`` means full batch. A minibatch gradient is the batch mean.
        anneal: η is multiplied by this after every epoch, in (0, 1].
        shuffle: draw a new order every epoch from ``seed``; ``False`` keeps the
            given order, as the seed does after shuffling its data once.
        callback: called with an :class:`EpochEnd` after every epoch (or a list of them).
        engine: how the gradient is obtained -- ``"autograd"`` (our Functions and
            torch.autograd), ``"explicit"`` (the seed's δ equations, no autograd) or
            ``"torch"`` (torch's built-in ops); see :mod:`torchann.engines`.
        checkpoint: a file to write checkpoints to: every ``checkpoint_every``
            epochs (0 = never on a schedule), at the last epoch, on Ctrl-C and on
            divergence. It must not hold another run's checkpoint.
        resume: a checkpoint (path, run folder or loaded dict) to continue from;
            the other arguments must match the ones it was made with, except
            ``epochs``, the total to train to.
        config: JSON-like data stored in checkpoints (an experiment's settings).
        loss: ``"squared"`` (the seed's), ``"bce"`` (binary cross-entropy, for
            sigmoid outputs) or ``"ce"`` (cross-entropy, for a softmax output).
        validation: ``(inputs, targets)`` evaluated after every epoch
            (``history.val_loss``, ``history.val_accuracy``).
        early_stopping: with ``validation``, stop after this many epochs without
            a lower validation loss, and put back the parameters of the best epoch.
        track_accuracy: evaluate the training accuracy after every epoch (for
            class-label targets); ``False`` skips that extra pass over the data.

    Returns the :class:`History` (of the whole run, when resuming). Raises
    :class:`TrainingDiverged` (naming the epoch) if the loss stops being finite,
    with the parameters restored to what they were before that epoch, and
    :class:`TrainingInterrupted` after a Ctrl-C, once the current step is done
    (and the checkpoint, if any, written).
    """
    lr = check_learning_rate(lr)
    epochs = check_positive_int("epochs", epochs)
    anneal = check_anneal(anneal)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) \
            or checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be an integer >= 0, got {checkpoint_every!r}")
    callbacks = _as_callbacks(callback)
    error_of = get_loss(loss)
    if early_stopping is not None:
        early_stopping = check_positive_int("early_stopping", early_stopping)
        if validation is None:
            raise ValueError("early_stopping needs validation data: pass validation=(inputs, targets)")
    inputs, targets = as_training_data(model, inputs, targets)
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be a pair (inputs, targets)")
        try:
            val_inputs, val_targets = as_training_data(model, *validation)
        except ValueError as error:
            raise ValueError(f"validation data: {error}") from None
    n = inputs.shape[0]
    batch_size = check_batch_size(batch_size, n)
    coding = class_coding(targets) if track_accuracy else None
    params = [p for p in model.parameters() if p.requires_grad]
    gradient_of = make_engine(engine, model, params, loss)
    fit_args = {"lr": lr, "anneal": anneal, "batch_size": batch_size, "shuffle": shuffle,
                "seed": seed, "engine": engine, "loss": loss,
                "early_stopping": early_stopping}
    # Only checkpoints need the data's fingerprint (hashing costs a pass over the data).
    data = data_fingerprint(inputs, targets) if checkpoint is not None or resume is not None else ""

    order_generator = torch.Generator().manual_seed(seed)
    history = History()
    first_epoch, first_step, partial = 0, 0, []
    run_id = uuid.uuid4().hex
    best = {"loss": math.inf, "epoch": None, "state": None, "waited": 0}
    if resume is not None:
        saved = resume if isinstance(resume, dict) else load_checkpoint(resume)
        _check_resumable(saved, model, fit_args, data, epochs)
        with torch.no_grad():
            model.load_state_dict(saved["state_dict"])
        history = History(**saved["history"])
        first_epoch, first_step = saved["epoch"], saved["step"]
        partial = [loss.to(inputs.device) for loss in saved["partial_losses"]]
        order_generator.set_state(saved["order_state"])
        run_id = saved["run_id"]
        best.update(saved.get("best") or {})
    if checkpoint is not None:
        checkpoint = check_checkpoint_target(checkpoint, run_id)

    def save(epoch: int, step: int, order_state: torch.Tensor, losses: list) -> None:
        if checkpoint is not None:
            save_checkpoint(checkpoint, model=model, run_id=run_id, epoch=epoch, step=step,
                            order_state=order_state, partial_losses=losses,
                            history=history.to_dict(), fit_args=fit_args, data=data,
                            config=config, best=best)

    # Observations per batch, to turn per-batch means back into a per-observation mean.
    batch_sizes = torch.tensor([min(batch_size, n - i) for i in range(0, n, batch_size)],
                               dtype=inputs.dtype, device=inputs.device)
    if not shuffle:  # the same batches every epoch: cut them once
        fixed_batches = list(zip(inputs.split(batch_size), targets.split(batch_size)))

    # Step IV acts on these aliases of the parameters' storage: in-place arithmetic on
    # them needs no no_grad block, which saves a context switch on every step.
    detached = [p.detach() for p in params]

    model.train()
    start = time.perf_counter() - history.seconds
    with InterruptFlag() as interrupt:
        for epoch in range(first_epoch, epochs):
            lr_now = lr_at(epoch, lr, anneal)
            order_state = order_generator.get_state()  # this epoch's order is drawn from here
            if shuffle:
                order = torch.randperm(n, generator=order_generator).to(inputs.device)
                batches = list(zip(inputs[order].split(batch_size),
                                   targets[order].split(batch_size)))
            else:
                batches = fixed_batches
            # The last good state if this epoch diverges: where the epoch started in this
            # session (its start, or the step a resumed run picked it up at).
            before = [p.detach().clone() for p in params]
            batch_losses = partial
            resumed_losses = list(partial)
            skip, partial, first_step = first_step, [], 0  # only the resumed epoch skips steps
            for x, t in itertools.islice(batches, skip, None):
                # I. forward, II. backpropagate, III. gradients -- by the chosen engine:
                # the net's z = a @ W + b and a = g(z) layer by layer, the error signals
                # δ = g'(z) ⊙ (incoming error) with g' from the cached a, and then
                # ∂E/∂W = a_inᵀ δ and ∂E/∂b = Σ δ (torchann/engines.py, torchann/backprop.py).
                loss, grads = gradient_of(x, t)
                # IV. update: p ← p − η ∂E/∂p, all parameters in one fused call
                torch._foreach_add_(detached, grads, alpha=-lr_now)
                batch_losses.append(loss)
                if interrupt.requested:  # Ctrl-C: this step is complete, stop here
                    history.steps += len(batch_losses) - skip
                    history.seconds = time.perf_counter() - start
                    save(epoch, len(batch_losses), order_state, batch_losses)
                    raise TrainingInterrupted(epoch + 1, len(batch_losses), len(batches),
                                              checkpoint)
            history.steps += len(batch_losses) - skip

            # One host sync per epoch, not per step.
            epoch_loss = float((torch.stack(batch_losses) * batch_sizes).sum() / n)
            if not (math.isfinite(epoch_loss) and _all_finite(params)):
                with torch.no_grad():
                    torch._foreach_copy_(params, before)
                history.steps -= len(batch_losses) - skip    # those updates were undone
                history.seconds = time.perf_counter() - start
                save(epoch, skip, order_state, resumed_losses)  # the last good state
                what = (f"the loss became {epoch_loss}" if not math.isfinite(epoch_loss)
                        else "a parameter became NaN or inf")
                where = (f"before epoch {epoch + 1}" if skip == 0 else
                         f"at step {skip} of epoch {epoch + 1}, where this run resumed")
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch + 1}: {what} with learning rate "
                    f"{lr_now:g}; try a smaller lr. The parameters were restored to their "
                    f"values {where}.")
            epoch_accuracy = None
            if coding is not None:
                with torch.no_grad():
                    epoch_accuracy = accuracy(model(inputs), targets, coding)
                history.accuracy.append(epoch_accuracy)
            history.loss.append(epoch_loss)
            history.lr.append(lr_now)
            val_loss = val_accuracy = None
            stop = False
            if validation is not None:
                with torch.no_grad():
                    val_outputs = model(val_inputs)
                    val_loss = float(error_of(val_outputs, val_targets))
                    if coding is not None:
                        val_accuracy = accuracy(val_outputs, val_targets, coding)
                if not math.isfinite(val_loss):
                    history.seconds = time.perf_counter() - start
                    raise TrainingDiverged(
                        f"the validation loss became {val_loss} at epoch {epoch + 1} while the "
                        f"training loss is {epoch_loss:.4g}: the network's outputs on the "
                        "validation data are not usable (check that the validation inputs are "
                        "scaled like the training inputs)")
                history.val_loss.append(val_loss)
                if val_accuracy is not None:
                    history.val_accuracy.append(val_accuracy)
                if val_loss < best["loss"]:
                    best.update(loss=val_loss, epoch=epoch + 1, waited=0,
                                state={k: v.detach().clone() for k, v in model.state_dict().items()})
                else:
                    best["waited"] += 1
                history.best_epoch = best["epoch"]
                stop = early_stopping is not None and best["waited"] >= early_stopping
            history.seconds = time.perf_counter() - start
            done = epoch + 1
            if stop:  # no better validation loss for `early_stopping` epochs: keep the best
                with torch.no_grad():
                    model.load_state_dict(best["state"])
                history.stopped_early = True
            if stop or done == epochs or (checkpoint_every and done % checkpoint_every == 0):
                save(done, 0, order_generator.get_state(), [])
            state = EpochEnd(done, epochs, epoch_loss, lr_now, epoch_accuracy, model,
                             inputs, targets, history, val_loss, val_accuracy)
            for cb in callbacks:
                cb(state)
            if stop:
                break
    return history


def _check_resumable(saved: dict, model: nn.Module, fit_args: dict, data: str,
                     epochs: int) -> None:
    own = model.state_dict()
    theirs = saved["state_dict"]
    if set(own) != set(theirs) or any(own[k].shape != theirs[k].shape for k in own):
        shapes = {k: tuple(v.shape) for k, v in theirs.items()}
        raise ValueError(f"the checkpoint was made for a different network ({shapes})")
    for key, value in fit_args.items():
        if saved["fit_args"].get(key) != value:
            raise ValueError(f"cannot resume with {key}={value!r}: the checkpoint was made "
                             f"with {key}={saved['fit_args'].get(key)!r}")
    if saved["data"] != data:
        raise ValueError("cannot resume on different data: the checkpoint's training data "
                         "had another fingerprint")
    if saved["epoch"] >= epochs:  # also mid-epoch: epoch `saved["epoch"] + 1` is unfinished
        where = (f"has already finished {saved['epoch']} epochs" if saved["step"] == 0 else
                 f"is in epoch {saved['epoch'] + 1} (after step {saved['step']})")
        raise ValueError(f"the checkpoint {where}; ask for at least {saved['epoch'] + 1} epochs "
                         f"in total (got epochs={epochs})")
