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

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import nn

from torchann.checks import (as_training_data, check_anneal, check_batch_size,
                             check_learning_rate, check_positive_int)
from torchann.engines import make_engine
from torchann.metrics import accuracy, class_coding

__all__ = ["fit", "lr_at", "History", "EpochEnd", "TrainingDiverged"]


def lr_at(epoch: int, lr0: float, anneal: float) -> float:
    """Learning rate during ``epoch`` (0-based): η_epoch = η_0 · anneal^epoch."""
    return lr0 * anneal ** epoch


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the parameters are those before the bad epoch."""


@dataclass
class History:
    """Per-epoch record of a run. ``accuracy`` stays empty for regression."""

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0

    def to_dict(self) -> dict:
        return {"loss": self.loss, "lr": self.lr, "accuracy": self.accuracy,
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
        callback: Callback | Iterable[Callback] | None = None,
        engine: str = "autograd") -> History:
    """Train ``model`` in place by plain gradient descent on the seed's squared error.

    Args:
        inputs, targets: (n, n_in) and (n, n_out); moved to the model's device and dtype.
        lr: the initial learning rate η.
        epochs: passes through the data.
        batch_size: 1 is the seed's online learning (one update per observation);
            ``None`` means full batch. A minibatch gradient is the batch mean.
        anneal: η is multiplied by this after every epoch, in (0, 1].
        shuffle: draw a new order every epoch from ``seed``; ``False`` keeps the
            given order, as the seed does after shuffling its data once.
        callback: called with an :class:`EpochEnd` after every epoch (or a list of them).
        engine: how the gradient is obtained -- ``"autograd"`` (our Functions and
            torch.autograd), ``"explicit"`` (the seed's δ equations, no autograd) or
            ``"torch"`` (torch's built-in ops); see :mod:`torchann.engines`.

    Returns the :class:`History`. Raises :class:`TrainingDiverged` (naming the
    epoch) if the loss stops being finite, with the parameters restored to what
    they were before that epoch.
    """
    lr = check_learning_rate(lr)
    epochs = check_positive_int("epochs", epochs)
    anneal = check_anneal(anneal)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    callbacks = _as_callbacks(callback)
    inputs, targets = as_training_data(model, inputs, targets)
    n = inputs.shape[0]
    batch_size = check_batch_size(batch_size, n)
    coding = class_coding(targets)

    params = [p for p in model.parameters() if p.requires_grad]
    gradient_of = make_engine(engine, model, params)
    order_generator = torch.Generator().manual_seed(seed)
    # Observations per batch, to turn per-batch means back into a per-observation mean.
    batch_sizes = torch.tensor([min(batch_size, n - i) for i in range(0, n, batch_size)],
                               dtype=inputs.dtype, device=inputs.device)
    if not shuffle:  # the same batches every epoch: cut them once
        fixed_batches = list(zip(inputs.split(batch_size), targets.split(batch_size)))

    history = History()
    model.train()
    start = time.perf_counter()
    for epoch in range(epochs):
        lr_now = lr_at(epoch, lr, anneal)
        if shuffle:
            order = torch.randperm(n, generator=order_generator).to(inputs.device)
            batches = zip(inputs[order].split(batch_size), targets[order].split(batch_size))
        else:
            batches = fixed_batches
        before = [p.detach().clone() for p in params]
        batch_losses = []
        for x, t in batches:
            # I. forward, II. backpropagate, III. gradients -- by the chosen engine:
            # the net's z = a @ W + b and a = g(z) layer by layer, the error signals
            # δ = g'(z) ⊙ (incoming error) with g' from the cached a, and then
            # ∂E/∂W = a_inᵀ δ and ∂E/∂b = Σ δ (torchann/engines.py, torchann/backprop.py).
            loss, grads = gradient_of(x, t)
            # IV. update: p ← p − η ∂E/∂p, all parameters in one fused call
            with torch.no_grad():
                torch._foreach_add_(params, grads, alpha=-lr_now)
            batch_losses.append(loss)
        history.steps += len(batch_losses)

        # One host sync per epoch, not per step.
        epoch_loss = float((torch.stack(batch_losses) * batch_sizes).sum() / n)
        if not (math.isfinite(epoch_loss) and _all_finite(params)):
            with torch.no_grad():
                torch._foreach_copy_(params, before)
            history.seconds = time.perf_counter() - start
            what = (f"the loss became {epoch_loss}" if not math.isfinite(epoch_loss)
                    else "a parameter became NaN or inf")
            raise TrainingDiverged(
                f"training diverged at epoch {epoch + 1}: {what} with learning rate "
                f"{lr_now:g}; try a smaller lr. The parameters were restored to their "
                f"values before epoch {epoch + 1}.")
        epoch_accuracy = None
        if coding is not None:
            with torch.no_grad():
                epoch_accuracy = accuracy(model(inputs), targets, coding)
            history.accuracy.append(epoch_accuracy)
        history.loss.append(epoch_loss)
        history.lr.append(lr_now)
        history.seconds = time.perf_counter() - start
        state = EpochEnd(epoch + 1, epochs, epoch_loss, lr_now, epoch_accuracy, model,
                         inputs, targets, history)
        for cb in callbacks:
            cb(state)
    return history
