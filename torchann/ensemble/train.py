"""Train every member of an :class:`~torchann.ensemble.Ensemble` at once.

The same manual gradient descent as :func:`torchann.fit` (the seed's four
steps, online by default), applied to K members in batched tensor operations.
Each member may have its own learning rate and annealing factor, so a
hyperparameter sweep is just more members. Member k ends with the parameters
that ``fit`` would give the network ``ensemble.member(k)`` trained alone with
the same seed, settings and data order (tested to 1e-12 in float64).

Data order (``shuffle``): ``False`` keeps the given order every epoch (the
seed's, as ``fit(shuffle=False)``); ``"shared"`` draws one order per epoch from
``seed`` for all members (as ``fit(shuffle=True, seed=seed)``); ``"member"``
gives member k its own order from its own seed (as
``fit(shuffle=True, seed=seeds[k])``).

A member whose loss or parameters stop being finite is put back to its state
before that epoch and frozen (learning rate 0, and kept at that state); the
others train on.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Callable, Sequence

import torch

from torchann.backprop import ExplicitBackprop
from torchann.checks import (as_training_data, check_anneal, check_batch_size, check_int,
                             check_learning_rate, check_memory, check_seed, is_number)
from torchann.ensemble.fast import CompiledOnline, compiler_missing
from torchann.ensemble.model import Ensemble
from torchann.ensemble.online import MembersLastOnline
from torchann.losses import squared_error_per_member
from torchann.runs.integrity import first_line
from torchann.train import lr_at
from torchann.training.loop import checked_callbacks, cut_batches, step_sizes
from torchann.training.metrics import class_coding, hits

__all__ = ["EnsembleHistory", "EnsembleEpochEnd", "BatchedSteps", "fit_ensemble", "per_member"]

ENGINES = ("autograd", "explicit", "compiled")


@dataclass
class EnsembleHistory:
    """Per-epoch, per-member record: ``online_loss``, ``lr`` and ``accuracy`` are (epochs, K).

    ``online_loss`` is each epoch's mean step loss before the step's own update
    (as ``History.online_loss``); ``final_loss`` is each member's error on the
    whole training set after the last epoch.

    They are allocated once for the whole run, in the training dtype, and filled
    row by row (``epochs`` rows are filled so far): allocating fresh rows every
    epoch fragments the heap enough to grow a 10,000-member run by gigabytes.
    With ``track_accuracy=False`` only the last epoch's accuracy is kept
    (``final_accuracy``); ``stacked("accuracy")`` shows the other epochs as NaN.
    """

    online_loss: torch.Tensor
    lr: torch.Tensor
    accuracy: torch.Tensor | None
    diverged_at: torch.Tensor                 # (K,) epoch a member diverged, 0 = never
    final_loss: torch.Tensor | None = None    # (K,) after the last epoch, on all the data
    epochs: int = 0                           # rows filled
    seconds: float = 0.0                      # training, not counting compile_seconds
    steps: int = 0                            # updates per member
    compile_seconds: float = 0.0              # engine="compiled": building its code
    engine: str = ""                          # the engine that trained (after any fallback)
    last_accuracy: torch.Tensor | None = None  # (K,) untracked: the last epoch's only

    def stacked(self, name: str) -> torch.Tensor:
        """The filled rows of ``online_loss``, ``lr`` or ``accuracy``: (epochs so far, K)."""
        values = getattr(self, name)
        if name == "accuracy" and values is None and self.last_accuracy is not None:
            values = torch.full((self.epochs, len(self.last_accuracy)), float("nan"),
                                dtype=self.online_loss.dtype)
            values[-1] = self.last_accuracy
        return values[:self.epochs] if values is not None else torch.empty(0)

    @property
    def final_accuracy(self) -> torch.Tensor | None:
        return self.last_accuracy if self.accuracy is None else self.accuracy[self.epochs - 1]

    def first_epoch_reaching(self, accuracy: float = 1.0) -> torch.Tensor:
        """(K,) first epoch (from 1) whose training accuracy was >= ``accuracy``; 0 = never."""
        if self.accuracy is None and self.last_accuracy is None:
            raise ValueError("no accuracy was recorded (targets are not class labels)")
        reached = self.stacked("accuracy") >= accuracy           # (epochs, K)
        first = reached.int().argmax(dim=0) + 1
        return torch.where(reached.any(dim=0), first, torch.zeros_like(first))


@dataclass
class EnsembleEpochEnd:
    epoch: int
    epochs: int
    loss: torch.Tensor
    accuracy: torch.Tensor | None
    model: Ensemble
    history: EnsembleHistory


def per_member(name: str, value, members: int, check) -> torch.Tensor:
    """A (K,) float64 tensor from one number or one number per member, each validated."""
    if is_number(value):
        return torch.full((members,), check(value), dtype=torch.float64)
    values = [check(v) for v in (value.tolist() if isinstance(value, torch.Tensor) else value)]
    if len(values) != members:
        raise ValueError(f"{name} has {len(values)} values but the ensemble has {members} members")
    return torch.tensor(values, dtype=torch.float64)


class BatchedSteps:
    """The readable engines' epoch: steps I-IV of every member in batched tensor operations,
    for any batch size; ``engine`` is ``"autograd"`` or ``"explicit"``.

    It is one of three interchangeable kernels :func:`fit_ensemble` runs its epochs with;
    the online ones (``MembersLastOnline`` in ``online.py``, ``CompiledOnline`` in
    ``fast.py``) have the same interface: ``engine``, the name the history records;
    ``epoch(order, rates, scalar_rate)``, one pass, returning each member's Σ_s B_s E_s
    and whether its parameters are finite; and ``restore(mask)``, which puts those
    members back to where that pass started.
    """

    def __init__(self, ensemble: Ensemble, engine: str, inputs: torch.Tensor,
                 targets: torch.Tensor, batch_size: int):
        self.ensemble, self.inputs, self.targets = ensemble, inputs, targets
        self.engine, self.batch_size, self.fixed = engine, batch_size, None
        self.explicit = ExplicitBackprop(ensemble) if engine == "explicit" else None
        self.params = list(ensemble.parameters())
        self.start = [p.detach().clone() for p in self.params]
        self.sizes = step_sizes(len(inputs), batch_size, inputs).unsqueeze(1)   # (steps, 1)
        self.losses = torch.empty(len(self.sizes), ensemble.members, dtype=inputs.dtype,
                                  device=inputs.device)  # reused every epoch

    def epoch(self, order, rates: torch.Tensor, scalar_rate: float | None):
        """One pass over the data in ``order`` (``None``: as given; (n,) shared; (K, n) one
        per member) at ``rates`` (or ``scalar_rate``, every member's, when not ``None``);
        returns each member's Σ_s B_s E_s and whether its parameters are all finite, (K,)."""
        for p, old in zip(self.params, self.start):
            old.copy_(p.detach())
        if order is None and self.fixed is None:  # the same batches every epoch: cut them once
            self.fixed = cut_batches(self.inputs, self.targets, self.batch_size)
        batches = self.fixed if order is None else cut_batches(self.inputs, self.targets,
                                                               self.batch_size, order)
        rate = rates.view(-1, 1, 1)
        for step, (x, t) in enumerate(batches):
            # I-III: forward, backpropagate, gradients -- for every member at once
            if self.explicit is not None:
                activations = self.explicit.forward(x)
                deltas, loss = self.explicit.backward(activations, t)      # loss: (K,)
                grads = self.explicit.gradients(activations, deltas)
            else:
                out = self.ensemble(x)                                    # (K, B, n_out)
                loss = squared_error_per_member(out, t)                   # (K,)
                grads = torch.autograd.grad(loss.sum(), self.params)  # members are independent
            # IV: p ← p − η_k ∂E_k/∂p for each member k
            with torch.no_grad():
                for p, g in zip(self.params, grads):
                    if scalar_rate is not None:
                        p.sub_(g, alpha=scalar_rate)
                    else:
                        p.sub_(rate * g)
            self.losses[step] = loss.detach()
        finite = torch.stack([torch.isfinite(p.detach()).flatten(1).all(dim=1)
                              for p in self.params]).all(dim=0)
        return (self.losses * self.sizes).sum(dim=0), finite

    @torch.no_grad()
    def restore(self, members: torch.Tensor) -> None:
        """Put ``members`` (a (K,) mask) back to where the last epoch started."""
        members = members.to(self.inputs.device)
        for p, old in zip(self.params, self.start):
            p[members] = old[members]


def fit_ensemble(ensemble: Ensemble, inputs, targets, *, lr, epochs: int,
                 batch_size: int | None = 1, anneal=1.0, shuffle=False, seed: int = 0,
                 engine: str = "autograd",
                 callbacks: Callable[[EnsembleEpochEnd], None] | Sequence = (),
                 track_accuracy: bool = True) -> EnsembleHistory:
    """Train all members of ``ensemble`` in place; see the module docstring.

    ``lr`` and ``anneal`` are one number or one per member. ``engine`` is
    ``"autograd"`` (our Functions; for torch's built-ins build the ensemble with
    ``builtin=True``), ``"explicit"`` (the derivation, no autograd graph) or
    ``"compiled"`` (the derivation compiled for online training, ``fast.py``).
    ``track_accuracy=False`` evaluates the training accuracy only after the last
    epoch instead of after every one (class-label targets only). ``callbacks`` are
    checked and ordered as ``fit``'s, and called after every epoch with an
    :class:`EnsembleEpochEnd`.
    """
    if not isinstance(ensemble, Ensemble):
        raise TypeError(f"fit_ensemble trains an Ensemble, got {type(ensemble).__name__}")
    K = ensemble.members
    lr0 = per_member("lr", lr, K, check_learning_rate)
    anneal = per_member("anneal", anneal, K, check_anneal)
    epochs = check_int("epochs", epochs)
    if shuffle not in (False, "shared", "member"):
        raise ValueError(f"shuffle must be one of False, 'shared', 'member'; got {shuffle!r}")
    check_seed(seed)
    callbacks = checked_callbacks(callbacks)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} for an ensemble; valid engines are: "
                         f"{', '.join(ENGINES)} (use builtin=True for torch's built-in ops)")
    inputs, targets = as_training_data(ensemble, inputs, targets)
    n = inputs.shape[0]
    batch_size = check_batch_size(batch_size, n)
    coding = class_coding(targets)
    device, dtype = inputs.device, inputs.dtype
    every_accuracy = coding is not None and track_accuracy
    check_memory(dtype.itemsize * (2 + every_accuracy) * epochs * K,
                 f"the history of {K:,} members x {epochs:,} epochs")
    kernel, compile_seconds = None, 0.0
    if engine == "compiled":
        problem = CompiledOnline.unsupported(ensemble, batch_size)
        if problem:
            raise ValueError(f"engine 'compiled' cannot train this ensemble: {problem}")
        problem = compiler_missing(device)
        if problem is None:  # built now, on this run's shapes, and timed apart from training
            kernel = CompiledOnline(ensemble, inputs, targets, per_member=shuffle == "member")
            try:
                compile_seconds = kernel.compile(lr0.to(device=device, dtype=dtype))
            except Exception as error:  # a compiler that fails is a missing compiler
                problem, kernel = f"torch.compile failed ({first_line(error, 120)})", None
        if problem:  # the explicit engine's members-last kernel trains instead
            warnings.warn(f"engine 'compiled' is unavailable: {problem}; using engine "
                          "'explicit'", RuntimeWarning, stacklevel=2)
    if kernel is None and engine != "autograd" and batch_size == 1 \
            and MembersLastOnline.supports(ensemble):  # the explicit engine's online kernel
        kernel = MembersLastOnline(ensemble, inputs, targets)
    if kernel is None:
        kernel = BatchedSteps(ensemble, "autograd" if engine == "autograd" else "explicit",
                              inputs, targets, batch_size)

    shared_rate = bool((lr0 == lr0[0]).all() and (anneal == anneal[0]).all())
    frozen = torch.zeros(K, dtype=torch.bool)
    table = partial(torch.full, (epochs, K), float("nan"), dtype=dtype)
    history = EnsembleHistory(table(), table(), table() if every_accuracy else None,
                              torch.zeros(K, dtype=torch.long), engine=kernel.engine,
                              compile_seconds=compile_seconds)
    generators = ([torch.Generator().manual_seed(seed)] if shuffle == "shared" else
                  [torch.Generator().manual_seed(s) for s in ensemble.seeds] if shuffle else [])
    start = time.perf_counter()
    for epoch in range(epochs):
        rates = lr_at(epoch, lr0, anneal).masked_fill(frozen, 0.0)      # (K,) η of each member
        scalar_rate = float(rates[0]) if shared_rate and not frozen.any() else None
        orders = [torch.randperm(n, generator=g) for g in generators]
        order = (None if not orders else orders[0].to(device) if shuffle == "shared"
                 else torch.stack(orders).to(device))                  # (n,) shared, (K, n) own
        summed, params_finite = kernel.epoch(order, rates.to(device=device, dtype=dtype),
                                             scalar_rate)
        history.steps += -(-n // batch_size)
        epoch_loss = summed.cpu() / n                                   # per-observation mean
        bad = ~(torch.isfinite(epoch_loss) & params_finite.cpu())
        if bad.any():  # put those members back to the start of the epoch and freeze them
            kernel.restore(bad)  # a frozen member too: η = 0 times an infinite gradient is NaN
            broken = bad & ~frozen
            frozen |= broken
            history.diverged_at[broken] = epoch + 1
        epoch_accuracy, last = None, epoch + 1 == epochs
        if last or every_accuracy:
            with torch.no_grad():
                out = ensemble(inputs)                                    # (K, n, n_out)
            if coding is not None:
                epoch_accuracy = hits(out, targets, coding).double().mean(dim=1).cpu()
                if every_accuracy:
                    history.accuracy[epoch] = epoch_accuracy
                else:
                    history.last_accuracy = epoch_accuracy.to(dtype)
            if last:
                history.final_loss = squared_error_per_member(out, targets).double().cpu()
        history.online_loss[epoch] = epoch_loss.double()
        history.lr[epoch] = rates
        history.epochs = epoch + 1
        history.seconds = time.perf_counter() - start
        state = EnsembleEpochEnd(epoch + 1, epochs, epoch_loss, epoch_accuracy, ensemble, history)
        for callback in callbacks:
            callback(state)
    return history
