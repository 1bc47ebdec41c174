"""Progress lines printed during ``fit``."""

from __future__ import annotations

from torchann.train import EpochEnd

__all__ = ["ProgressPrinter", "format_progress", "every_k_epochs"]


def format_progress(state: EpochEnd) -> str:
    """e.g. ``epoch 120/300  loss 0.0132  acc 1.000  lr 2``: the whole training set's loss."""
    width = len(str(state.epochs))
    line = f"epoch {state.epoch:>{width}}/{state.epochs}  loss {state.loss:.4f}"
    if state.accuracy is not None:
        line += f"  acc {state.accuracy:.3f}"
    return line + f"  lr {state.lr:.4g}"


def every_k_epochs(epochs: int, lines: int = 10) -> int:
    """An interval that gives about ``lines`` progress lines over a run."""
    return max(1, epochs // lines)


class ProgressPrinter:
    """Print :func:`format_progress` before training (``on_start``), at epoch 1, every
    ``every`` epochs and at the last epoch."""

    def __init__(self, every: int):
        self.every = max(1, int(every))

    def __call__(self, state: EpochEnd) -> None:
        if state.epoch % self.every == 0 or state.epoch == state.epochs or state.epoch == 1:
            self.on_start(state)

    def on_start(self, state: EpochEnd) -> None:
        print(format_progress(state), flush=True)
