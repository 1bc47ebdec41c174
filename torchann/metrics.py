"""Classification accuracy for the seed's binary tasks (and one-hot targets).

The seed codes classes as 0/1 for a sigmoid output and as -1/+1 for a tanh
output; a prediction counts as that class when it lies on its side of the
midpoint (0.5 or 0). With several output units and one-hot targets, the class
is the unit with the largest output.
"""

from __future__ import annotations

import torch

__all__ = ["class_coding", "accuracy"]


def class_coding(targets: torch.Tensor) -> tuple[float, float] | None:
    """Return (low, high) if ``targets`` look like class labels, else ``None``.

    Labels are {0, 1} (or {-1, 1}); with several columns, each row must be
    one-hot. Anything else is treated as a regression target.
    """
    values = torch.unique(targets)
    for low, high in ((0.0, 1.0), (-1.0, 1.0)):
        if bool(((values == low) | (values == high)).all()):
            if targets.shape[1] > 1 and not bool(((targets == high).sum(dim=1) == 1).all()):
                return None
            return low, high
    return None


def accuracy(outputs: torch.Tensor, targets: torch.Tensor, coding: tuple[float, float]) -> float:
    """Fraction of rows whose predicted class matches the target's class."""
    if outputs.shape[1] > 1:
        return (outputs.argmax(dim=1) == targets.argmax(dim=1)).double().mean().item()
    low, high = coding
    midpoint = (low + high) / 2
    predicted = outputs > midpoint
    actual = targets > midpoint
    return (predicted == actual).double().mean().item()
