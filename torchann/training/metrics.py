"""Classification accuracy for the seed's binary tasks (and one-hot targets).

The seed codes classes as 0/1 for a sigmoid output and as -1/+1 for a tanh
output; a prediction counts as that class when it lies on its side of the
midpoint (0.5 or 0). With several output units and one-hot targets, the class
is the unit with the largest output.
"""

from __future__ import annotations

import torch

__all__ = ["class_coding", "hits", "accuracy"]


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


def hits(outputs: torch.Tensor, targets: torch.Tensor,
         coding: tuple[float, float]) -> torch.Tensor:
    """Per row, whether the predicted class is the target's: (..., n, n_out) -> (..., n) bools.

    Leading dimensions broadcast, so an Ensemble's (K, n, n_out) outputs against
    shared (n, n_out) targets give one row of hits per member.
    """
    if outputs.shape[-1] > 1:
        return outputs.argmax(dim=-1) == targets.argmax(dim=-1)
    midpoint = sum(coding) / 2
    return (outputs[..., 0] > midpoint) == (targets[..., 0] > midpoint)


def accuracy(outputs: torch.Tensor, targets: torch.Tensor, coding: tuple[float, float]) -> float:
    """Fraction of rows whose predicted class matches the target's class."""
    return hits(outputs, targets, coding).double().mean().item()
