"""The seed's backpropagation derivation, executed with no autograd at all.

For a stack of dense layers l = 1..L with a_0 = x, z_l = a_{l-1} W_l + b_l and
a_l = g_l(z_l), and the error E = ½ Σ_k (a_Lk − t_k)² of one observation:

    output error signal     δ_L = g_L'(z_L) ⊙ (a_L − t)
    backward sweep          δ_l = g_l'(z_l) ⊙ (δ_{l+1} W_{l+1}ᵀ)       for l = L−1 .. 1
    weight gradients        ∂E/∂W_l = a_{l−1}ᵀ δ_l     (forward signal × error signal)
    bias gradients          ∂E/∂b_l = δ_l              (a bias sees a constant input of 1)

Every g'(z) is computed from the kept output a = g(z), exactly as our
autograd Functions do: σ' = a(1 − a), tanh' = 1 − a², relu' = [a > 0],
softplus' = 1 − e^(−a), identity' = 1.

With a batch of B observations (rows), the loss is the mean of the per-row E,
so δ_L carries a factor 1/B and the bias gradient sums δ over the rows; with
B = 1 this is the seed's online rule. See ``docs/backprop.md`` for each
equation next to the line below that computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from torchann.functional import (_SIGMOID_BACKWARD, _SOFTMAX_BACKWARD, _TANH_BACKWARD,
                                 _THRESHOLD_BACKWARD, get_activation)

__all__ = ["DERIVATIVE_FROM_OUTPUT", "Backprop", "ExplicitBackprop", "backprop"]

# g'(z) written in terms of the output a = g(z), for inspection and teaching.
DERIVATIVE_FROM_OUTPUT: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda a: torch.ones_like(a),
    "sigmoid": lambda a: a * (1 - a),
    "tanh": lambda a: 1 - a * a,
    "relu": lambda a: (a > 0).to(a.dtype),
    "softplus": lambda a: -torch.expm1(-a),
}

# δ = g'(z) ⊙ incoming, from the output a. The same products as
# DERIVATIVE_FROM_OUTPUT, but through aten's fused kernels where one exists
# (the ones our activation Functions' backward uses): one op per layer instead
# of three, which is most of an online step's cost. sigmoid and tanh's kernels
# already take (incoming, a), so they are called with no wrapper at all.
_DELTA_RULES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "identity": lambda incoming, a: incoming,                           # × 1
    "sigmoid": _SIGMOID_BACKWARD,                                       # × a(1 − a)
    "tanh": _TANH_BACKWARD,                                             # × (1 − a²)
    "relu": lambda incoming, a: _THRESHOLD_BACKWARD(incoming, a, 0),    # × [a > 0]
    "softplus": lambda incoming, a: incoming * -torch.expm1(-a),        # × (1 − e^−a)
    # softmax couples a layer's units: (∂s/∂z)ᵀ incoming = s ⊙ (incoming − Σ_j incoming_j s_j)
    "softmax": lambda incoming, s: _SOFTMAX_BACKWARD(incoming, s, -1, s.dtype),
}


def _times_transpose(delta: torch.Tensor, weight: torch.Tensor, matmul) -> torch.Tensor:
    """δ Wᵀ. With one output unit there is nothing to sum, so it is an exact broadcast product."""
    if delta.shape[-1] == 1:
        return delta * weight.transpose(-1, -2)
    return matmul(delta, weight.transpose(-1, -2))


def _transpose_times(a_in: torch.Tensor, delta: torch.Tensor, matmul) -> torch.Tensor:
    """a_inᵀ δ. For one row (online learning) it is an outer product: an exact broadcast product.

    Both shortcuts give bit-identical results to the matrix product (no sums are
    involved) and skip a batched-GEMM call, the slowest op of an online step.
    """
    if a_in.shape[-2] == 1:
        return a_in.transpose(-1, -2) * delta
    return matmul(a_in.transpose(-1, -2), delta)


# Each output-error rule returns (S, δ_L): S summed over a batch's rows and units
# (per member for an Ensemble), and the batch loss is S × _LOSS_SCALE / rows --
# the same values torchann.losses computes, through the same fused kernels.

def _squared(a, t, activation, delta_rule):
    """E = ½ Σ (a − t)²: ∂E/∂a = a − t, so δ_L = g'(z_L) ⊙ (a_L − t). S = Σ (a − t)²."""
    error = a - t
    return error.square().sum(dim=(-2, -1)), delta_rule(error, a)


def _binary_cross_entropy(a, t, activation, delta_rule):
    """E = −Σ [t log a + (1 − t) log(1 − a)]; with a sigmoid output δ_L = a − t exactly."""
    # torch's fused kernel, each log clamped at −100 (as losses.binary_cross_entropy)
    value = F.binary_cross_entropy(a, t, reduction="none").sum(dim=(-2, -1))
    if activation == "sigmoid":          # a(1 − a) from σ' cancels the denominator
        return value, a - t
    tiny = torch.finfo(a.dtype).tiny
    return value, delta_rule((a - t) / (a * (1 - a)).clamp_min(tiny), a)


def _cross_entropy(a, t, activation, delta_rule):
    """E = −Σ t log a; with a softmax output δ_L = s − t exactly. S = Σ t log a (sign in the scale)."""
    value = torch.xlogy(t, a).sum(dim=(-2, -1))  # 0·log 0 = 0, as losses.cross_entropy
    if activation == "softmax":          # the softmax Jacobian turns −t/s into s − t (Σ t = 1)
        return value, a - t
    return value, delta_rule(-t / a.clamp_min(torch.finfo(a.dtype).tiny), a)


_OUTPUT_ERROR = {"squared": _squared, "bce": _binary_cross_entropy, "ce": _cross_entropy}
_LOSS_SCALE = {"squared": 0.5, "bce": 1.0, "ce": -1.0}


@dataclass
class Backprop:
    """Everything one pass of the derivation computed, for a learner to inspect.

    ``activations[l]`` is a_l (``activations[0]`` is the input), ``deltas[l-1]`` is
    δ_l, and ``gradients`` maps each parameter name (as in
    ``model.named_parameters()``) to ∂E/∂p.
    """

    activations: list[torch.Tensor]
    deltas: list[torch.Tensor]
    gradients: dict[str, torch.Tensor]
    loss: torch.Tensor


class ExplicitBackprop:
    """The derivation bound to one model's layers, ready to run many times (as ``fit`` does)."""

    def __init__(self, model: nn.Module, loss: str = "squared"):
        if loss not in _OUTPUT_ERROR:
            raise ValueError(f"unknown loss {loss!r}; valid losses are: {', '.join(_OUTPUT_ERROR)}")
        self.loss = loss
        self._output_error, self._loss_scale = _OUTPUT_ERROR[loss], _LOSS_SCALE[loss]
        layers = list(getattr(model, "layers", ()))
        if not layers or not all(hasattr(l, "activation") and hasattr(l, "weight") for l in layers):
            raise TypeError("explicit backpropagation needs a torchann net (SingleLayerNet, "
                            f"TwoLayerNet, MLP or Ensemble), got {type(model).__name__}")
        prefix = {id(module): name for name, module in model.named_modules()}
        self.layers = layers
        self.names = [name for layer in layers
                      for name in (f"{prefix[id(layer)]}.weight", f"{prefix[id(layer)]}.bias")]
        self._g = [get_activation(layer.activation, builtin=True) for layer in layers]
        self._delta = [_DELTA_RULES[layer.activation] for layer in layers]
        # An Ensemble's layers hold K members' weights as (K, n_in, n_out): the same
        # equations, with batched matrix products over the leading member dimension.
        batched = layers[0].weight.ndim == 3
        self._affine = torch.baddbmm if batched else torch.addmm
        self._matmul = torch.bmm if batched else torch.mm

    # The three steps are public (experiments.backprop_steps shows each one) and run
    # without autograd; fit's per-step call enters no_grad once for all three.
    @torch.no_grad()
    def forward(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """Step I: a_l = g_l(a_{l−1} W_l + b_l) for every layer, keeping every a_l."""
        return self._forward(inputs)

    @torch.no_grad()
    def backward(self, activations: list[torch.Tensor], targets: torch.Tensor):
        """Step II: the error signals δ_L .. δ_1; returns (deltas in layer order, loss).

        The loss is a 0-dim tensor, or one per member (K,) for an Ensemble.
        """
        return self._backward(activations, targets)

    @torch.no_grad()
    def gradients(self, activations: list[torch.Tensor],
                  deltas: list[torch.Tensor]) -> list[torch.Tensor]:
        """Step III: [∂E/∂W_1, ∂E/∂b_1, ∂E/∂W_2, ...] in ``model.parameters()`` order."""
        return self._gradients(activations, deltas)

    def loss_and_gradients(self, inputs: torch.Tensor, targets: torch.Tensor):
        """Steps I-III in one call: (loss, gradients), the form ``fit`` uses."""
        _, _, loss, grads = self._steps(inputs, targets)
        return loss, grads

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor) -> Backprop:
        activations, deltas, loss, grads = self._steps(inputs, targets)
        return Backprop(activations, deltas, dict(zip(self.names, grads)), loss)

    def _steps(self, inputs: torch.Tensor, targets: torch.Tensor):
        with torch.no_grad():
            activations = self._forward(inputs)
            deltas, loss = self._backward(activations, targets)
            return activations, deltas, loss, self._gradients(activations, deltas)

    def _forward(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        if self._affine is torch.baddbmm and inputs.ndim == 2:  # one input row set for all
            inputs = inputs.expand(self.layers[0].weight.shape[0], *inputs.shape)
        activations = [inputs]
        a = inputs
        for layer, g in zip(self.layers, self._g):
            a = g(self._affine(layer.bias, a, layer.weight))  # (B, n_out) or (K, B, n_out)
            activations.append(a)
        return activations

    def _backward(self, activations: list[torch.Tensor], targets: torch.Tensor):
        output = activations[-1]
        batch = output.shape[-2]
        value, delta = self._output_error(output, targets, self.layers[-1].activation,
                                          self._delta[-1])
        loss = value * (self._loss_scale / batch)             # the mean of E over the rows
        if batch > 1:
            delta = delta / batch                             # ... so δ carries 1/B too
        deltas = [delta]
        for l in range(len(self.layers) - 2, -1, -1):         # l = L−1 .. 1 (0-based here)
            incoming = _times_transpose(delta, self.layers[l + 1].weight, self._matmul)
            delta = self._delta[l](incoming, activations[l + 1])  # δ_{l+1} W_{l+1}ᵀ ⊙ g_l'(z_l)
            deltas.append(delta)
        deltas.reverse()
        return deltas, loss

    def _gradients(self, activations: list[torch.Tensor],
                   deltas: list[torch.Tensor]) -> list[torch.Tensor]:
        grads = []
        for a_in, delta in zip(activations[:-1], deltas):
            if a_in.ndim < delta.ndim:                          # one input shared by all members
                a_in = a_in.expand(delta.shape[0], *a_in.shape)
            grads.append(_transpose_times(a_in, delta, self._matmul))  # a_{l−1}ᵀ δ_l
            grads.append(delta if delta.shape[-2] == 1           # δ_l summed over the rows
                         else delta.sum(dim=-2, keepdim=True))   # (1, n_out) or (K, 1, n_out)
        return grads


def backprop(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
             loss: str = "squared") -> Backprop:
    """Run the seed's derivation once on ``model``: activations, δ's, gradients and loss."""
    return ExplicitBackprop(model, loss)(inputs, targets)
