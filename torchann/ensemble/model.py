"""K independent networks of one architecture, held as batched parameters.

Training one small network is dominated by per-operation overhead, so
training K of them one after another costs K times as much. An
:class:`Ensemble` stacks the K members' weights into (K, n_in, n_out) tensors
and runs every member's forward and backward pass in the same batched matrix
products (``torch.baddbmm``): the cost of a step barely grows with K until the
tensors get large. Every member uses our custom activation Functions, just as
a single net does, and member k starts from exactly the weights
``MLP(sizes, ..., seed=seeds[k])`` (and so ``TwoLayerNet(..., seed=seeds[k])``) would.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from torchann.checks import resolve_device
from torchann.functional import canonical_name, get_activation
from torchann.nn import MLP, LayerStack, initial_weights

__all__ = ["EnsembleDense", "Ensemble"]


class EnsembleDense(nn.Module):
    """K members' layer: z = a_in @ weight + bias; weight (K, n_in, n_out), bias (K, 1, n_out)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, activation: str, builtin: bool):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self.activation = canonical_name(activation)
        self.builtin = builtin
        self.g = get_activation(self.activation, builtin=builtin)
        self.n_in, self.n_out = weight.shape[1], weight.shape[2]

    def forward(self, a_in: torch.Tensor) -> torch.Tensor:
        if a_in.ndim == 2:  # the same rows for every member: a view, no copy
            a_in = a_in.expand(self.weight.shape[0], *a_in.shape)
        return self.g(torch.baddbmm(self.bias, a_in, self.weight))  # (K, B, n_out)

    def extra_repr(self) -> str:
        return (f"members={self.weight.shape[0]}, n_in={self.n_in}, n_out={self.n_out}, "
                f"activation={self.activation}" + (", builtin=True" if self.builtin else ""))


class Ensemble(LayerStack):
    """K networks with layer sizes ``sizes``, one per seed in ``seeds``.

    ``activations``/``output`` work as for :class:`~torchann.nn.MLP`. Calling the
    ensemble on (B, n_in) inputs (shared by all members) or (K, B, n_in) inputs
    (one set per member) returns (K, B, n_out).
    """

    def __init__(self, sizes: Sequence[int], activations="sigmoid", output: str | None = None, *,
                 seeds: Sequence[int], dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None, builtin: bool = False):
        super().__init__()
        template = MLP(sizes, activations, output, seed=0, dtype=dtype)  # validates everything
        seeds = [int(s) for s in seeds] if not isinstance(seeds, int) else None
        if not seeds:
            raise ValueError("seeds must be a non-empty list of integer seeds, one per member")
        dtype = template.layers[0].weight.dtype
        device = resolve_device(str(device)) if device is not None else None
        # Draw each member exactly as MLP(..., seed=s) does: per layer, weight then bias.
        drawn = [[] for _ in template.layers]
        for seed in seeds:
            generator = torch.Generator().manual_seed(seed)
            for pairs, layer in zip(drawn, template.layers):
                pairs.append(initial_weights(layer.n_in, layer.n_out, "uniform", generator))
        self.layers = nn.ModuleList(
            EnsembleDense(torch.stack([w for w, _ in pairs]).to(device=device, dtype=dtype),
                          torch.stack([b for _, b in pairs]).to(device=device, dtype=dtype),
                          layer.activation, builtin)
            for pairs, layer in zip(drawn, template.layers))
        self.sizes = list(sizes)
        self.seeds = seeds

    @property
    def members(self) -> int:
        return len(self.seeds)

    def extra_repr(self) -> str:
        return f"{self.members} members of {self.architecture()}"

    def member(self, k: int) -> MLP:
        """Member ``k`` as a stand-alone :class:`~torchann.nn.MLP` (a copy of its weights)."""
        if not 0 <= k < self.members:
            raise IndexError(f"member {k} out of range for an ensemble of {self.members}")
        first = self.layers[0]
        net = MLP(self.sizes, [l.activation for l in self.layers], seed=self.seeds[k],
                  dtype=first.weight.dtype, device=first.weight.device, builtin=first.builtin)
        with torch.no_grad():
            for mine, theirs in zip(net.layers, self.layers):
                mine.weight.copy_(theirs.weight[k])
                mine.bias.copy_(theirs.bias[k])
        return net
