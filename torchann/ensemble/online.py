"""The explicit engine's online step for an Ensemble, in a members-last layout.

With one observation per step (the seed's online learning), each member's
forward and backward pass is a handful of operations on tiny vectors, and
with K members in a (K, n_in, n_out) layout every one of them is a small
batched matrix product or a strided broadcast -- per-op overhead is the whole
cost. Keeping each layer's weights as (n_in, n_out, K) instead, members last,
turns every step into contiguous, vectorised elementwise work over K, and lets
the gradient and the update fuse into one op: ``W.addcmul_(a_in, δ, value=-η)``
is W ← W − η a_inᵀδ without forming the gradient. The equations are exactly
those of :mod:`torchann.backprop`:

    z_l = Σ_i a_{l−1,i} W_l[i, :] + b_l,  a_l = g_l(z_l)
    δ_L = g_L'(z_L) ⊙ (a_L − t),          δ_l = g_l'(z_l) ⊙ Σ_k W_{l+1}[:, k] δ_{l+1,k}
    W_l ← W_l − η a_{l−1} ⊗ δ_l,          b_l ← b_l − η δ_l

``fit_ensemble(..., engine="explicit", batch_size=1)`` uses it, and so does
``engine="compiled"`` when no compiler is found; the result equals the general
path to rounding (tested against ``fit`` to 1e-12).
"""

from __future__ import annotations

import torch

from torchann.backprop import through_activation
from torchann.functional import get_activation

__all__ = ["MembersLastOnline"]


def members_last_rows(inputs: torch.Tensor,
                      targets: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The observations, in order, as :meth:`MembersLastOnline.step` takes them (views).

    inputs (n, n_in) shared by all members -> n rows of (n_in, 1, 1), or (K, n, n_in)
    per member -> (n_in, 1, K); targets (n, n_out) -> (n_out, 1), or (K, n, n_out)
    -> (n_out, K). One reshape of the whole epoch, then one view per row.
    """
    xs = (inputs[:, :, None, None] if inputs.ndim == 2
          else inputs.permute(1, 2, 0).unsqueeze(2)).unbind(0)
    ts = (targets[:, :, None] if targets.ndim == 2 else targets.permute(1, 2, 0)).unbind(0)
    return list(zip(xs, ts))


class MembersLastOnline:
    """A members-last copy of an ensemble's weights, stepped one observation at a time."""

    engine = "explicit"

    def __init__(self, ensemble, inputs: torch.Tensor, targets: torch.Tensor):
        self.layers, self.inputs, self.targets = list(ensemble.layers), inputs, targets
        self._g = [get_activation(l.activation, builtin=True) for l in self.layers]
        self.names = [l.activation for l in self.layers]
        self.weights = [l.weight.detach().permute(1, 2, 0).contiguous() for l in self.layers]
        self.biases = [l.bias.detach()[:, 0, :].t().contiguous() for l in self.layers]
        self.start = [p.clone() for p in self.weights + self.biases]  # each epoch's, for restore
        self.errors = torch.empty(len(inputs), ensemble.n_out, ensemble.members,
                                  dtype=inputs.dtype, device=inputs.device)
        self.error_rows = self.errors.unbind(0)  # one (n_out, K) view per step, made once
        self.losses = self.errors[:, 0].clone()  # (n, K): each step's ½ Σ (a − t)²
        self.fixed = None

    @staticmethod
    def supports(ensemble) -> bool:
        """Elementwise activations only (softmax couples units along a different axis)."""
        return all(l.activation != "softmax" for l in ensemble.layers)

    def epoch(self, order, rates: torch.Tensor, scalar_rate: float | None):
        """As ``BatchedSteps.epoch`` (``train.py``): a step's loss is ½ Σ (a − t)²."""
        for kept, p in zip(self.start, self.weights + self.biases):
            kept.copy_(p)
        if order is None and self.fixed is None:  # the same rows every epoch: cut them once
            self.fixed = members_last_rows(self.inputs, self.targets)
        batches = (self.fixed if order is None
                   else members_last_rows(self.inputs[order], self.targets[order]))
        rate = scalar_rate if scalar_rate is not None else rates
        for (x, t), error in zip(batches, self.error_rows):
            self.step(x, t, rate, error)                                # error: (n_out, K)
        self.push()
        finite = torch.stack([torch.isfinite(p).flatten(0, -2).all(dim=0)
                              for p in self.weights + self.biases]).all(dim=0)
        torch.sum(self.errors.square(), dim=1, out=self.losses).mul_(0.5)
        return self.losses.sum(dim=0), finite

    def restore(self, members: torch.Tensor) -> None:
        """Put ``members`` (a (K,) mask) back to where the last epoch started."""
        members = members.to(self.errors.device)
        for kept, p in zip(self.start, self.weights + self.biases):
            p[..., members] = kept[..., members]
        self.push()

    @torch.no_grad()
    def push(self) -> None:
        """Copy the members-last weights back into the ensemble's parameters."""
        for layer, w, b in zip(self.layers, self.weights, self.biases):
            layer.weight.copy_(w.permute(2, 0, 1))
            layer.bias.copy_(b.t().unsqueeze(1))

    def step(self, x: torch.Tensor, t: torch.Tensor, rate, error: torch.Tensor) -> None:
        """One online update of every member; writes the output error a_L − t into ``error``.

        ``x``: (n_in, 1, 1) for an observation shared by all members, or (n_in, 1, K) for
        one per member; ``t``: (n_out, 1) or (n_out, K); ``rate``: one learning rate
        (float) or one per member, (K,); ``error``: an (n_out, K) buffer.

        The members-last copies are plain tensors (no autograd history), so no
        ``torch.no_grad()`` is needed here -- its cost per call would show.
        """
        inputs, outputs = [x], []                                  # (n, 1, K or 1), (n, K)
        for w, b, g in zip(self.weights, self.biases, self._g):   # I. forward
            a = g(torch.sum(inputs[-1] * w, dim=0).add_(b))        # (n_out, K)
            outputs.append(a)
            inputs.append(a.unsqueeze(1))
        torch.sub(a, t, out=error)                                 # II. backpropagate
        delta = through_activation(self.names[-1], error, a)
        scalar = isinstance(rate, float)
        value = -rate if scalar else -1.0
        for l in range(len(self.weights) - 1, -1, -1):
            w = self.weights[l]
            if l > 0:  # the error signal for the layer below, before this layer changes
                if w.shape[1] == 1:   # one unit above: Σ over it is the product itself
                    incoming = w[:, 0, :] * delta                          # (n_in, K)
                else:
                    incoming = torch.sum(w * delta.unsqueeze(0), dim=1)    # (n_in, K)
            step = delta if scalar else delta * rate
            w.addcmul_(inputs[l], step.unsqueeze(0), value=value)  # III + IV fused
            self.biases[l].add_(step, alpha=value)
            if l > 0:
                delta = through_activation(self.names[l - 1], incoming, outputs[l - 1])
