"""Activation functions as autograd Functions: g(z) forward, g'(z) backward.

The seed's derivation post shows that each derivative can be written with the
unit's *output* a = g(z) alone, so the backward pass needs nothing but what
the forward pass already computed:

    identity   a = z                  g'(z) = 1
    sigmoid    a = 1 / (1 + e^-z)     g'(z) = a (1 - a)
    tanh       a = tanh(z)            g'(z) = 1 - a^2
    relu       a = max(z, 0)          g'(z) = [a > 0]
    softplus   a = log(1 + e^z)       g'(z) = 1 - e^-a
    softmax    s = e^z / Σ e^z        (∂s/∂z)ᵀ g = s ⊙ (g − Σ_j g_j s_j)

Each Function below does exactly that: ``forward`` computes a, keeps it with
``ctx.save_for_backward(a)`` (never z) and returns it; ``backward`` multiplies
the incoming gradient by g'(z) written with a.

``ACTIVATIONS`` is the one place an activation is registered: our Function,
torch's own op (the reference the tests and the built-in twin nets use) and
g'(z) as a formula of a (what the explicit derivation in ``torchann.backprop``
uses, and what ``experiments.activations`` draws under autograd's curves). To
add one, write its class and add its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


class Identity(torch.autograd.Function):
    """a = z; g'(z) = 1, so nothing needs to be kept."""

    @staticmethod
    def forward(ctx, z):
        return z.view_as(z)  # a new tensor object, so it carries this Function as grad_fn

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Sigmoid(torch.autograd.Function):
    """a = 1 / (1 + e^-z); g'(z) = a (1 - a)."""

    @staticmethod
    def forward(ctx, z):
        a = torch.sigmoid(z)  # saturates to 0 or 1 for large |z|, never overflows
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        return grad_output * a * (1 - a)


class Tanh(torch.autograd.Function):
    """a = tanh(z); g'(z) = 1 - a^2."""

    @staticmethod
    def forward(ctx, z):
        a = torch.tanh(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        return grad_output * (1 - a * a)


class ReLU(torch.autograd.Function):
    """a = max(z, 0); g'(z) = [a > 0] (0 at z = 0, as torch.relu takes it)."""

    @staticmethod
    def forward(ctx, z):
        a = torch.relu(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        return grad_output * (a > 0)


class Softplus(torch.autograd.Function):
    """a = log(1 + e^z); g'(z) = σ(z) = 1 - e^-a.

    Written as -expm1(-a): the same number, but accurate when a is tiny
    (large negative z), where 1 - exp(-a) would lose every digit.
    """

    @staticmethod
    def forward(ctx, z):
        a = F.softplus(z)  # returns z itself above z = 20, so it never overflows
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        return grad_output * -torch.expm1(-a)


class Softmax(torch.autograd.Function):
    """s_i = e^{z_i} / Σ_j e^{z_j} over the last dimension: a layer of class probabilities.

    It couples the units of a layer, ∂s_i/∂z_j = s_i ([i = j] − s_j), so the
    gradient is a vector-Jacobian product, again from the output alone:
    grad_z = s ⊙ (grad_s − Σ_j grad_s_j s_j). With the cross-entropy loss it
    collapses to s − t (see ``torchann.losses``).
    """

    @staticmethod
    def forward(ctx, z):
        s = torch.softmax(z, dim=-1)  # subtracts the row maximum first: no overflow
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        s, = ctx.saved_tensors
        return s * (grad_output - (grad_output * s).sum(dim=-1, keepdim=True))


def identity(z: Tensor) -> Tensor:
    return Identity.apply(z)


def sigmoid(z: Tensor) -> Tensor:
    return Sigmoid.apply(z)


def tanh(z: Tensor) -> Tensor:
    return Tanh.apply(z)


def relu(z: Tensor) -> Tensor:
    return ReLU.apply(z)


def softplus(z: Tensor) -> Tensor:
    return Softplus.apply(z)


def softmax(z: Tensor) -> Tensor:
    """Softmax over the last dimension."""
    return Softmax.apply(z)


@dataclass(frozen=True)
class Activation:
    """One row of the table: our Function, torch's own op, and g'(z) from a = g(z)."""

    ours: Callable[[Tensor], Tensor]
    builtin: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor] | None  # None: not elementwise (softmax)


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation(identity, lambda z: z, lambda a: torch.ones_like(a)),
    "sigmoid": Activation(sigmoid, torch.sigmoid, lambda a: a * (1 - a)),
    "tanh": Activation(tanh, torch.tanh, lambda a: 1 - a * a),
    "relu": Activation(relu, torch.relu, lambda a: (a > 0).to(a.dtype)),
    "softplus": Activation(softplus, F.softplus, lambda a: -torch.expm1(-a)),
    "softmax": Activation(softmax, lambda z: torch.softmax(z, dim=-1), None),
}
ALIASES = {"linear": "identity", "logistic": "sigmoid"}
# Elementwise activations, for any layer; softmax is for an output layer of class probabilities.
ACTIVATION_NAMES = tuple(name for name, row in ACTIVATIONS.items() if row.derivative is not None)


def canonical_name(name: str) -> str:
    """The table's name for ``name`` or an alias ("linear", "logistic"); ValueError if unknown."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in ACTIVATIONS:
        valid = ", ".join([*ACTIVATIONS, *(f"{a} (= {c})" for a, c in ALIASES.items())])
        raise ValueError(f"unknown activation {name!r}; valid names are: {valid}")
    return key


def get_activation(name: str, *, builtin: bool = False) -> Callable[[Tensor], Tensor]:
    """Our Function called ``name``, or torch's own op for it with ``builtin=True``."""
    row = ACTIVATIONS[canonical_name(name)]
    return row.builtin if builtin else row.ours
