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
before that epoch and frozen (learning rate 0); the others train on.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
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
from torchann.training.loop import checked_callbacks
from torchann.training.metrics import class_coding, hits

__all__ = ["EnsembleHistory", "EnsembleEpochEnd", "fit_ensemble", "per_member"]

ORDERS = (False, "shared", "member")
ENGINES = ("autograd", "explicit", "compiled")


def _fall_back(problem: str) -> None:
    """engine="compiled" without a working compiler: say so in one line; the explicit
    engine's members-last kernel trains instead."""
    warnings.warn(f"engine 'compiled' is unavailable: {problem}; using engine 'explicit'",
                  RuntimeWarning, stacklevel=3)


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

    @classmethod
    def empty(cls, epochs: int, members: int, every_accuracy: bool,
              dtype: torch.dtype = torch.float64) -> "EnsembleHistory":
        def table():
            return torch.full((epochs, members), float("nan"), dtype=dtype)
        return cls(table(), table(), table() if every_accuracy else None,
                   torch.zeros(members, dtype=torch.long))

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


def _members_last_rows(inputs: torch.Tensor,
                       targets: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The observations, in order, as the members-last kernel takes them (views, no copies).

    inputs (n, n_in) shared by all members -> n rows of (n_in, 1, 1), or (K, n, n_in)
    per member -> (n_in, 1, K); targets (n, n_out) -> (n_out, 1), or (K, n, n_out)
    -> (n_out, K). One reshape of the whole epoch, then one view per row.
    """
    xs = (inputs[:, :, None, None] if inputs.ndim == 2
          else inputs.permute(1, 2, 0).unsqueeze(2)).unbind(0)
    ts = (targets[:, :, None] if targets.ndim == 2 else targets.permute(1, 2, 0)).unbind(0)
    return list(zip(xs, ts))


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
    if shuffle not in ORDERS:
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
    compiled, compile_seconds = None, 0.0
    if engine == "compiled":
        problem = CompiledOnline.unsupported(ensemble, batch_size)
        if problem:
            raise ValueError(f"engine 'compiled' cannot train this ensemble: {problem}")
        problem = compiler_missing(device)
        if problem is None:  # built now, on this run's shapes, and timed apart from training
            # Contiguous, as every epoch's reordered rows are: the graph is built for their
            # strides, and other strides would make torch compile it again mid-training.
            inputs, targets = inputs.contiguous(), targets.contiguous()
            compiled = CompiledOnline(ensemble, n)
            layout = (inputs, targets) if shuffle != "member" else tuple(  # as an epoch has them
                v.expand(K, -1, -1).contiguous().permute(1, 2, 0) for v in (inputs, targets))
            try:
                compile_seconds = compiled.compile(*layout, lr0.to(device=device, dtype=dtype))
            except Exception as error:  # a compiler that fails is a missing compiler
                problem, compiled = f"torch.compile failed ({first_line(error, 120)})", None
        if problem:
            _fall_back(problem)

    params = list(ensemble.parameters())
    explicit = ExplicitBackprop(ensemble) if engine != "autograd" else None
    # Online explicit training has a faster, members-last kernel (torchann/ensemble/online.py).
    online = (MembersLastOnline(ensemble) if explicit is not None and batch_size == 1
              and MembersLastOnline.supports(ensemble) and compiled is None else None)
    sizes = torch.tensor([min(batch_size, n - i) for i in range(0, n, batch_size)],
                         dtype=dtype, device=device).unsqueeze(1)       # (batches, 1)
    shared_rate = bool((lr0 == lr0[0]).all() and (anneal == anneal[0]).all())
    frozen = torch.zeros(K, dtype=torch.bool)
    every_accuracy = coding is not None and track_accuracy
    check_memory(dtype.itemsize * (2 + every_accuracy) * epochs * K,
                 f"the history of {K:,} members x {epochs:,} epochs")
    history = EnsembleHistory.empty(epochs, K, every_accuracy, dtype)
    steps_per_epoch = len(sizes)
    # Reused every epoch; the compiled engine sums its step losses and keeps its own
    # starting point, so it needs neither buffer.
    step_losses = None if compiled else torch.empty(steps_per_epoch, K, dtype=dtype, device=device)
    if online is not None:
        errors = torch.empty(steps_per_epoch, ensemble.n_out, K, dtype=dtype, device=device)
        error_rows = errors.unbind(0)  # one (n_out, K) view per step, made once
    if shuffle == "shared":
        generators = [torch.Generator().manual_seed(seed)]
    elif shuffle == "member":
        generators = [torch.Generator().manual_seed(s) for s in ensemble.seeds]
    if not shuffle:  # the same batches (or, online, rows) every epoch: cut them once
        fixed = (_members_last_rows(inputs, targets) if online is not None
                 else list(zip(inputs.split(batch_size), targets.split(batch_size))))
    before = [] if compiled else [p.detach().clone() for p in params]  # each epoch's start
    history.engine = "compiled" if compiled else "explicit" if explicit else "autograd"
    history.compile_seconds = compile_seconds
    start = time.perf_counter()
    for epoch in range(epochs):
        rates = lr_at(epoch, lr0, anneal).masked_fill(frozen, 0.0)      # (K,) η of each member
        rate = rates.to(device=device, dtype=dtype).view(K, 1, 1)
        scalar_rate = float(rates[0]) if shared_rate and not frozen.any() else None
        if shuffle == "shared":
            order = torch.randperm(n, generator=generators[0]).to(device)
            ordered = inputs[order], targets[order]                     # (n, n_in), (n, n_out)
        elif shuffle == "member":
            orders = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)
            ordered = inputs[orders], targets[orders]                 # (K, n, n_in), (K, n, n_out)
        if compiled is not None:
            xs, ts = (inputs, targets) if not shuffle else ordered
            if shuffle == "member":  # (K, n, ·) -> (n, ·, K): a row per step, members last
                xs, ts = xs.permute(1, 2, 0), ts.permute(1, 2, 0)
            batches = ()
        elif not shuffle:
            batches = fixed
        elif online is not None:
            batches = _members_last_rows(*ordered)
        else:  # cut along the observation dimension, the second to last either way
            batches = zip(ordered[0].split(batch_size, dim=-2), ordered[1].split(batch_size, dim=-2))
        if compiled is None:  # (the compiled engine keeps its own starting point)
            for p, old in zip(params, before):
                old.copy_(p.detach())
        if online is not None:
            rate_arg = scalar_rate if scalar_rate is not None else rates.to(device=device,
                                                                             dtype=dtype)
            for (x, t), error in zip(batches, error_rows):
                online.step(x, t, rate_arg, error)                          # error: (n_out, K)
            online.push()
            torch.sum(errors.square(), dim=1, out=step_losses).mul_(0.5)  # ½ Σ_k (a − t)²
        if compiled is not None:  # the whole epoch in compiled chunks: Σ step losses, finite?
            summed, params_finite = compiled.epoch(xs, ts, rates.to(device=device, dtype=dtype))
        for step, (x, t) in enumerate(batches if online is None and compiled is None else ()):
            # I-III: forward, backpropagate, gradients -- for every member at once
            if explicit is not None:
                activations = explicit.forward(x)
                deltas, loss = explicit.backward(activations, t)           # loss: (K,)
                grads = explicit.gradients(activations, deltas)
            else:
                out = ensemble(x)                                         # (K, B, n_out)
                loss = squared_error_per_member(out, t)                   # (K,)
                grads = torch.autograd.grad(loss.sum(), params)  # members are independent
            # IV: p ← p − η_k ∂E_k/∂p for each member k
            with torch.no_grad():
                for p, g in zip(params, grads):
                    if scalar_rate is not None:
                        p.sub_(g, alpha=scalar_rate)
                    else:
                        p.sub_(rate * g)
            step_losses[step] = loss.detach()
        history.steps += steps_per_epoch

        epoch_loss = (summed if compiled is not None else (step_losses * sizes).sum(dim=0)).cpu() / n
        finite = torch.isfinite(epoch_loss)
        if compiled is not None:
            finite &= params_finite.cpu()
        else:
            for p in params:
                finite &= torch.isfinite(p.detach()).flatten(1).all(dim=1).cpu()
        broken = ~finite & ~frozen
        if broken.any():  # put those members back to the start of the epoch and freeze them
            if compiled is not None:
                compiled.restore(broken)
            else:
                with torch.no_grad():
                    for p, old in zip(params, before):
                        p[broken.to(device)] = old[broken.to(device)]
                if online is not None:
                    online.pull()  # the kernel's members-last copy follows the restored weights
            frozen |= broken
            history.diverged_at[broken] = epoch + 1
        epoch_accuracy = None
        if coding is not None and (track_accuracy or epoch + 1 == epochs):
            with torch.no_grad():
                out = ensemble(inputs)                                    # (K, n, n_out)
            epoch_accuracy = hits(out, targets, coding).double().mean(dim=1).cpu()
            if history.accuracy is not None:
                history.accuracy[epoch] = epoch_accuracy
            else:
                history.last_accuracy = epoch_accuracy.to(history.online_loss.dtype)
        history.online_loss[epoch] = epoch_loss.double()
        if epoch + 1 == epochs:
            with torch.no_grad():
                out = ensemble(inputs)                                    # (K, n, n_out)
            history.final_loss = squared_error_per_member(out, targets).double().cpu()
        history.lr[epoch] = rates
        history.epochs = epoch + 1
        history.seconds = time.perf_counter() - start
        if callbacks:
            state = EnsembleEpochEnd(epoch + 1, epochs, epoch_loss, epoch_accuracy, ensemble,
                                     history)
            for callback in callbacks:
                callback(state)
    return history
