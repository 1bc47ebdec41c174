"""Error functions: the seed's squared error, and the cross-entropies.

The seed measures one observation's error as E = ½ Σ_k (a_k − t_k)², summing
over the output units k; the ½ makes ∂E/∂a_k = a_k − t_k. For a batch we
report the mean of the per-observation E, so a minibatch gradient is the
average of the online gradients and ``batch_size=1`` is exactly the seed's
online update.

The seed asks whether there are better error functions. For classification
there are:

* binary cross-entropy, E = −Σ_k [t_k log a_k + (1 − t_k) log(1 − a_k)], for
  sigmoid outputs with 0/1 targets;
* cross-entropy, E = −Σ_k t_k log a_k, for a softmax output with one-hot targets.

Why they train faster: with squared error the output error signal is
δ = σ'(z)(a − t) = a(1 − a)(a − t), and a(1 − a) is tiny whenever the output
unit saturates, so a confidently wrong unit barely learns. With cross-entropy,
∂E/∂a = (a − t) / (a(1 − a)) and the a(1 − a) cancels: δ = a − t. The same
cancellation makes softmax + cross-entropy give δ = s − t. The explicit
derivation (``torchann.backprop``) uses these simplified δ's; autograd reaches
the same numbers through the chain rule.

In float32 a sigmoid output rounds to exactly 1 once z > ~17 (float64: ~37).
torch clamps each log at −100, so the loss stays finite, but a(1 − a) is then
exactly 0 and autograd's gradient through that output vanishes. Prefer
float64 (or a smaller learning rate) if outputs saturate that far.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["squared_error", "squared_error_per_member", "binary_cross_entropy", "cross_entropy",
           "LOSSES", "get_loss"]


def squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch's rows n of E_n = ½ Σ_k (a_nk − t_nk)²; a 0-dim tensor.

    ``mse_loss(..., reduction="sum")`` is Σ_n Σ_k (a_nk − t_nk)², the squares
    summed over every row and unit; times ½, divided by the number of rows.
    """
    return F.mse_loss(outputs, targets, reduction="sum") * (0.5 / outputs.shape[0])


def squared_error_per_member(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The same mean E over the rows, one per member of an Ensemble: (K, B, n_out) -> (K,).

    For (B, n_out) it is :func:`squared_error`'s number as a 0-dim tensor; written
    with plain ops for the code that computes E without autograd or per member.
    """
    return (outputs - targets).square().sum(dim=(-2, -1)) * (0.5 / outputs.shape[-2])


def binary_cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of −Σ_k [t log a + (1 − t) log(1 − a)], for outputs in [0, 1].

    torch clamps each log at −100, so a saturated output gives a large but finite loss.
    """
    return F.binary_cross_entropy(outputs, targets, reduction="sum") * (1.0 / outputs.shape[0])


def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of −Σ_k t_k log a_k, for probability rows (a softmax output).

    ``xlogy`` makes 0·log 0 = 0 for the classes a row is not, in one op. A true
    class whose probability underflows to exactly 0 (a logit gap beyond ~87 in
    float32) makes the loss infinite, which ``fit`` reports as divergence.
    """
    return torch.xlogy(targets, outputs).sum() * (-1.0 / outputs.shape[0])


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "squared": squared_error,
    "bce": binary_cross_entropy,
    "ce": cross_entropy,
}


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid losses are: {', '.join(LOSSES)}")
    return LOSSES[name]
