"""What hangs off ``torchann.fit``'s loop, one job per file: ``run`` (batches,
history, divergence, resume), ``validation`` (validation and early stopping),
``checks`` (argument checks) and ``metrics`` (accuracy)."""

from torchann.training.validation import Validation

__all__ = ["Validation"]
