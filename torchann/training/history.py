"""What a training run remembers and reports: its :class:`History`, the :class:`EpochEnd`
each callback is given, and the two ways a run ends early (divergence, a stop signal).

They live apart from the loop so that checkpoints, TensorBoard and the experiments can
name them without importing the loop itself.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["History", "EpochEnd", "TrainingDiverged", "TrainingInterrupted"]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the parameters are those before the bad epoch."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP stopped ``fit`` after a complete step (callbacks saved what
    they keep). ``signum`` is the signal, so a command line can exit with 128 + signum."""

    def __init__(self, epoch: int, step: int, steps: int, signum: int = signal.SIGINT):
        self.epoch, self.step, self.steps, self.signum = epoch, step, steps, int(signum)
        by = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
        super().__init__(f"interrupted{by} in epoch {epoch} after step {step} of {steps}")


@dataclass
class History:
    """Per-epoch record of a run; entry e − 1 is epoch e.

    ``loss`` is the net's error on the whole training set at the end of each
    epoch, and ``initial_loss`` the untrained net's (epoch 0): the curve that
    shows learning. ``online_loss`` is the mean of each step's loss *before*
    its own update, as the seed's online loop sees it: it lags behind, and with
    data in a fixed order it can rise while the net improves. ``accuracy``
    stays empty for regression.
    """

    loss: list[float] = field(default_factory=list)
    online_loss: list[float] = field(default_factory=list)
    initial_loss: float | None = None
    initial_accuracy: float | None = None
    lr: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int | None = None      # with validation: the epoch of the lowest val_loss
    stopped_early: bool = False
    seconds: float = 0.0
    steps: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def loss_curve(self) -> list[float]:
        """The training-set loss from epoch 0 (the untrained net) to the last epoch."""
        return [self.initial_loss, *self.loss] if self.initial_loss is not None else self.loss


@dataclass
class EpochEnd:
    """What a callback sees after each epoch (``epoch`` counts from 1; a callback with an
    ``on_start`` method is also given epoch 0, the untrained net, before training)."""

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
    online_loss: float | None = None  # the epoch's mean loss before each step's update
    run: Any = None  # the TrainingRun, for callbacks that need more
