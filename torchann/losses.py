"""The seed's error function.

For one observation the seed measures E = ½ Σ_k (a_k − t_k)², summing over
the output units k. The ½ is there so that the derivative is simply
∂E/∂a_k = a_k − t_k, the "error" that backpropagation sends back.

For a batch of observations we report the mean of the per-observation E, so
a minibatch gradient is the average of the online gradients and
``batch_size=1`` is exactly the seed's online update.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["squared_error", "per_observation_squared_error"]


def per_observation_squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """E_n = ½ Σ_k (a_nk − t_nk)² for each row n: (batch, n_out) -> (batch,)."""
    return 0.5 * (outputs - targets).square().sum(dim=1)


def squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of E_n = ½ Σ_k (a_nk − t_nk)²; a 0-dim tensor.

    ``mse_loss(..., reduction="sum")`` is Σ_n Σ_k (a_nk − t_nk)² in one fused
    op (one autograd node instead of four), which matters at the seed's
    one-observation batches.
    """
    return F.mse_loss(outputs, targets, reduction="sum") * (0.5 / outputs.shape[0])
