"""The seed's training procedure: gradient descent, one observation at a time.

Every step is the four steps of the seed's backpropagation figure:

    I.   forward:       push the observation through the net, keeping each a = g(z)
    II.  backpropagate: the output error signal δ_L = g'(z_L) ⊙ (a_L − t) travels
                        back down, δ_l = g'(z_l) ⊙ (δ_{l+1} W_{l+1}ᵀ)
    III. gradients:     ∂E/∂W_l = a_{l−1}ᵀ δ_l and ∂E/∂b_l = δ_l
    IV.  update:        p ← p − η ∂E/∂p

With ``engine="autograd"`` (the default) steps II and III are
``torch.autograd.grad``: it calls each activation Function's ``backward`` (the
g'(z) formulas of ``torchann.functional``) and the matrix products' own
backward. With ``engine="explicit"`` the same equations run written out
(``torchann.backprop``). After every epoch the learning rate is multiplied by
``anneal``, the seed's annealing (1 keeps it constant).

What is not one of the four steps -- batching, the history, checkpoints,
validation, Ctrl-C and other stop signals, divergence -- hangs off the loop: see ``torchann.training``
and ``torchann.runs``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from torchann.backprop import ExplicitBackprop
from torchann.runs.checkpoint import load_checkpoint
from torchann.runs.interrupt import InterruptFlag
from torchann.training.history import EpochEnd, History, TrainingDiverged, TrainingInterrupted
from torchann.training.loop import TrainingRun

__all__ = ["fit", "lr_at", "History", "EpochEnd", "TrainingDiverged", "TrainingInterrupted"]

ENGINES = ("autograd", "explicit")


def lr_at(epoch: int, lr0: float, anneal: float) -> float:
    """Learning rate during ``epoch`` (0-based): η_epoch = η_0 · anneal^epoch."""
    return lr0 * anneal ** epoch


def fit(model: nn.Module, inputs, targets, *, lr: float, epochs: int, batch_size: int | None = 1,
        anneal: float = 1.0, shuffle: bool = True, seed: int = 0, loss: str = "squared",
        engine: str = "autograd", callbacks=(), resume: str | Path | dict | None = None,
        track_accuracy: bool = True) -> History:
    """Train ``model`` in place by plain gradient descent; returns the :class:`History`.

    Args:
        inputs, targets: (n, n_in) and (n, n_out); moved to the model's device and dtype.
        lr, anneal: η starts at ``lr`` and is multiplied by ``anneal`` in (0, 1] each epoch.
        epochs: passes through the data (in total, also when resuming).
        batch_size: 1 is the seed's online learning; ``None`` is full batch. A
            minibatch's gradient is the mean of its observations' gradients.
        shuffle: a new order every epoch, drawn from ``seed``; ``False`` keeps the
            given order, as the seed does after shuffling its data once.
        loss: ``"squared"`` (the seed's ½ Σ (a − t)²), ``"bce"`` or ``"ce"``.
        engine: ``"autograd"`` or ``"explicit"`` (module docstring).
        callbacks: callables given an :class:`EpochEnd` after every epoch, e.g.
            ``torchann.Checkpoint`` or ``torchann.Validation``.
        resume: a checkpoint (path, run folder or loaded dict) to continue from, made
            with the same network, data and settings.
        track_accuracy: also measure the training accuracy after every epoch
            (class-label targets only).

    Raises :class:`TrainingDiverged` if the loss stops being finite (the epoch is
    undone first) and :class:`TrainingInterrupted` after Ctrl-C, SIGTERM or SIGHUP, once
    the step is done.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; valid engines are: {', '.join(ENGINES)}")
    run = TrainingRun(model, inputs, targets, lr=lr, epochs=epochs, batch_size=batch_size,
                      anneal=anneal, shuffle=shuffle, seed=seed, loss=loss, engine=engine,
                      callbacks=callbacks, track_accuracy=track_accuracy)
    explicit = ExplicitBackprop(model, loss) if engine == "explicit" else None
    if explicit is not None and len(run.params) != len(list(model.parameters())):
        raise ValueError("engine 'explicit' trains every parameter: it cannot freeze some")
    if resume is not None:
        run.load_state_dict(resume if isinstance(resume, dict) else load_checkpoint(resume))
    run.start()
    params = run.params

    with InterruptFlag() as interrupt:
        for epoch in range(run.epoch, run.epochs):
            lr_now = lr_at(epoch, run.lr, run.anneal)
            for x, t in run.batches():
                if explicit is None:
                    # I. forward: each activation Function keeps its output a = g(z)
                    error = run.error_of(model(x), t)
                    # II. backpropagate and III. gradients: autograd calls the Functions'
                    # backward, g'(z) from the kept a, and the matrix products' backward
                    grads = torch.autograd.grad(error, params)
                else:
                    activations = explicit.forward(x)                  # I.   every a_l
                    deltas, error = explicit.backward(activations, t)  # II.  every δ_l
                    grads = explicit.gradients(activations, deltas)    # III. a_{l−1}ᵀ δ_l, Σ δ_l
                # IV. update: p ← p − η ∂E/∂p
                with torch.no_grad():
                    for p, grad in zip(params, grads):
                        p.sub_(grad, alpha=lr_now)
                run.step_done(error)
                if interrupt.requested:  # Ctrl-C, SIGTERM or SIGHUP
                    run.interrupt(lr_now, interrupt.signum)  # callbacks save this step, then it raises
            run.end_epoch(lr_now)    # history, divergence check, callbacks
            if run.stop:             # a callback asked to stop (early stopping)
                break
    return run.history
