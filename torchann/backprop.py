"""The seed's backpropagation derivation, computed line by line with no autograd.

For layers l = 1..L with a_0 = x, z_l = a_{l-1} W_l + b_l and a_l = g_l(z_l),
and the error E = ½ Σ_k (a_Lk − t_k)² of one observation (a row):

    I.   forward          a_l = g_l(a_{l−1} W_l + b_l), keeping every a_l
    II.  backpropagate    δ_L = g_L'(z_L) ⊙ (a_L − t)
                          δ_l = g_l'(z_l) ⊙ (δ_{l+1} W_{l+1}ᵀ)       for l = L−1 .. 1
    III. gradients        ∂E/∂W_l = a_{l−1}ᵀ δ_l    (forward signal × error signal)
                          ∂E/∂b_l = δ_l             (a bias sees the constant input 1)

Each g'(z) comes from the kept output a, read from the one table in
``torchann.functional``. A batch of B rows has the mean of the rows' E as its
loss, so δ_L carries a factor 1/B and the bias gradient sums δ over the rows;
with B = 1 this is the seed's online rule. ``.mT`` transposes the last two
dimensions, so the same lines also serve an Ensemble's stacked (K, n_in, n_out)
weights. ``docs/backprop.md`` sets each equation beside its line.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from torchann.functional import ACTIVATIONS
from torchann.losses import get_loss, squared_error_per_member

Tensor = torch.Tensor


def through_activation(name: str, incoming: Tensor, a: Tensor) -> Tensor:
    """Carry an error signal back through g: (∂a/∂z)ᵀ incoming, from the output a alone."""
    if name == "softmax":  # couples a row's units: s ⊙ (incoming − Σ_j incoming_j s_j)
        return a * (incoming - (incoming * a).sum(dim=-1, keepdim=True))
    return incoming * ACTIVATIONS[name].derivative(a)  # g'(z) ⊙ incoming


@dataclass
class BackpropSteps:
    """One pass of the derivation, for a learner to inspect.

    ``activations[l]`` is a_l (``activations[0]`` is the input), ``deltas[l-1]``
    is δ_l, and ``gradients`` maps each parameter name (as in
    ``model.named_parameters()``) to ∂E/∂p.
    """

    activations: list[Tensor]
    deltas: list[Tensor]
    gradients: dict[str, Tensor]
    loss: Tensor


class ExplicitBackprop:
    """The derivation bound to one net's layers, run as often as ``fit`` needs it."""

    def __init__(self, model: nn.Module, loss: str = "squared"):
        self.layers = list(getattr(model, "layers", ()))
        if not self.layers or not all(hasattr(l, "activation") for l in self.layers):
            raise TypeError("explicit backpropagation needs a torchann net (SingleLayerNet, "
                            f"TwoLayerNet, MLP or Ensemble), got {type(model).__name__}")
        self.loss, self.error = loss, get_loss(loss)
        # Plain views of the parameters (same storage, no autograd): nothing here records a
        # graph, and fit's updates to the parameters show through.
        self.weights = [layer.weight.detach() for layer in self.layers]
        self.biases = [layer.bias.detach() for layer in self.layers]
        self.activations = [layer.activation for layer in self.layers]
        self.g = [ACTIVATIONS[name].builtin for name in self.activations]  # forward only
        prefix = {id(module): name for name, module in model.named_modules()}
        self.names = [f"{prefix[id(layer)]}.{p}" for layer in self.layers for p in ("weight", "bias")]

    def forward(self, x: Tensor) -> list[Tensor]:
        """Step I: a_l = g_l(a_{l−1} W_l + b_l) for every layer; returns [a_0 = x, a_1, ..., a_L]."""
        activations = [x]
        for W, b, g in zip(self.weights, self.biases, self.g):
            activations.append(g(activations[-1] @ W + b))
        return activations

    def backward(self, activations: list[Tensor], t: Tensor) -> tuple[list[Tensor], Tensor]:
        """Step II: the error signals [δ_1, ..., δ_L] and the loss E."""
        a_out = activations[-1]
        delta = self.output_delta(a_out, t) / a_out.shape[-2]    # δ_L; / B: E is the rows' mean
        deltas = [delta]
        # Layers count l = 1..L as in the derivation and lists count from 0, so W_{l+1}
        # is self.weights[l] and a_l is activations[l] (activations[0] is the input).
        for l in range(len(self.layers) - 1, 0, -1):             # l = L−1 .. 1
            incoming = delta @ self.weights[l].mT                 # δ_{l+1} W_{l+1}ᵀ
            delta = through_activation(self.activations[l - 1], incoming, activations[l])
            deltas.insert(0, delta)                               # δ_l = g_l'(z_l) ⊙ incoming
        return deltas, self.loss_value(a_out, t)

    def gradients(self, activations: list[Tensor], deltas: list[Tensor]) -> list[Tensor]:
        """Step III: [∂E/∂W_1, ∂E/∂b_1, ∂E/∂W_2, ...] in ``model.parameters()`` order."""
        grads = []
        for a_in, delta in zip(activations[:-1], deltas):        # (a_{l−1}, δ_l), l = 1..L
            grads.append(a_in.mT @ delta)                        # a_{l−1}ᵀ δ_l
            grads.append(delta.sum(dim=-2, keepdim=True))        # δ_l, summed over the rows
        return grads

    def output_delta(self, a: Tensor, t: Tensor) -> Tensor:
        """δ_L = g_L'(z_L) ⊙ ∂E/∂a_L for each row."""
        if (self.loss, self.activations[-1]) in (("bce", "sigmoid"), ("ce", "softmax")):
            return a - t   # g_L'(z_L) cancels the loss's denominator exactly (torchann.losses)
        tiny = torch.finfo(a.dtype).tiny
        if self.loss == "bce":
            dE_da = (a - t) / (a * (1 - a)).clamp_min(tiny)
        elif self.loss == "ce":
            dE_da = -t / a.clamp_min(tiny)
        else:
            dE_da = a - t  # the ½ in E = ½ Σ (a − t)² cancels the 2 of the square
        return through_activation(self.activations[-1], dE_da, a)

    def loss_value(self, a_out: Tensor, t: Tensor) -> Tensor:
        """The batch's mean E: a 0-dim tensor, or one per member (K,) for an Ensemble."""
        if self.loss == "squared":  # ½ Σ_k (a_k − t_k)², averaged over the rows
            return squared_error_per_member(a_out, t)
        return self.error(a_out, t)

    def __call__(self, x: Tensor, t: Tensor) -> BackpropSteps:
        x, t = (v.detach().to(self.weights[0]) for v in (x, t))  # the net's dtype and device
        activations = self.forward(x)
        deltas, loss = self.backward(activations, t)
        grads = self.gradients(activations, deltas)
        return BackpropSteps(activations, deltas, dict(zip(self.names, grads)), loss)


def backprop_by_hand(model: nn.Module, x: Tensor, t: Tensor, loss: str = "squared") -> BackpropSteps:
    """Run the derivation once on ``model`` for inputs ``x`` and targets ``t``."""
    return ExplicitBackprop(model, loss)(x, t)
