"""Validation and early stopping: a ``fit`` callback.

After every epoch :class:`Validation` measures the loss (and, for class
labels, the accuracy) on data the net does not train on, into
``history.val_loss`` and ``history.val_accuracy``. With ``patience`` it also
stops training once that many epochs have passed without a lower validation
loss, and puts back the parameters of the best epoch.
"""

from __future__ import annotations

import math

import torch

from torchann.checks import as_training_data, check_int, is_integer
from torchann.training.history import EpochEnd, TrainingDiverged
from torchann.training.metrics import accuracy

__all__ = ["Validation"]


class Validation:
    """Evaluate ``(inputs, targets)`` after each epoch; stop early after ``patience`` bad epochs."""

    order = -1  # before the other callbacks, so they (and checkpoints) see this epoch's numbers

    def __init__(self, inputs, targets, *, patience: int | None = None):
        self.data = (inputs, targets)
        self.patience = None if patience is None else check_int("patience", patience)

    def on_fit_start(self, run) -> None:
        self.best = {"loss": math.inf, "epoch": None, "state": None, "waited": 0}
        try:
            self.data = as_training_data(run.model, *self.data)
        except ValueError as error:
            raise ValueError(f"validation data: {error}") from None
        self.error_of = run.error_of

    def __call__(self, state: EpochEnd) -> None:
        inputs, targets = self.data
        with torch.no_grad():
            outputs = state.model(inputs)
            state.val_loss = float(self.error_of(outputs, targets))
            if state.run is not None and state.run.coding is not None:
                state.val_accuracy = accuracy(outputs, targets, state.run.coding)
        if not math.isfinite(state.val_loss):
            raise TrainingDiverged(
                f"the validation loss became {state.val_loss} at epoch {state.epoch} while the "
                f"training loss is {state.loss:.4g}: the network's outputs on the validation "
                "data are not usable (check that the validation inputs are scaled like the "
                "training inputs)")
        history, best = state.history, self.best
        history.val_loss.append(state.val_loss)
        if state.val_accuracy is not None:
            history.val_accuracy.append(state.val_accuracy)
        if state.val_loss < best["loss"]:
            best.update(loss=state.val_loss, epoch=state.epoch, waited=0,
                        state={k: v.detach().clone() for k, v in state.model.state_dict().items()})
        else:
            best["waited"] += 1
        history.best_epoch = best["epoch"]
        if self.patience is not None and best["waited"] >= self.patience:
            with torch.no_grad():
                state.model.load_state_dict(best["state"])
            history.stopped_early = True
            state.run.stop = True

    def state_dict(self) -> dict:
        return {"patience": self.patience, **self.best}

    def load_state_dict(self, saved: dict | None) -> None:
        if saved is None:
            raise ValueError("cannot resume with validation: the checkpoint was made without it")
        if not isinstance(saved, dict) or not self._valid_patience(saved.get("patience")):
            raise ValueError("the checkpoint is damaged: its validation record has no valid "
                             "patience")
        if saved.get("patience") != self.patience:
            raise ValueError(f"cannot resume with patience={self.patience!r}: the checkpoint "
                             f"was made with patience={saved.get('patience')!r}")
        best = {k: v for k, v in saved.items() if k != "patience"}
        if not self._valid_best(best):
            raise ValueError("the checkpoint is damaged: its validation record is not a best "
                             "loss, epoch, waiting count and parameters")
        self.best = best

    @staticmethod
    def _valid_patience(patience) -> bool:
        return patience is None or is_integer(patience)

    @staticmethod
    def _valid_best(best: dict) -> bool:
        """What ``state_dict`` writes: a float loss, an int or None epoch, an int count of epochs
        waited, and None or a dict of parameter tensors."""
        return (set(best) == {"loss", "epoch", "state", "waited"}
                and isinstance(best["loss"], float)
                and (best["epoch"] is None or is_integer(best["epoch"]))
                and is_integer(best["waited"]) and best["waited"] >= 0
                and (best["state"] is None or isinstance(best["state"], dict) and all(
                    isinstance(k, str) and isinstance(v, torch.Tensor)
                    for k, v in best["state"].items())))
