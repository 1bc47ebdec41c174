"""Activation functions as custom autograd Functions (the seed's g(z) and g'(z)).

The seed's first post plots three activations and their derivatives, and its
derivation post shows that each derivative can be written with the unit's
*output* a = g(z) alone:

    identity   g(z) = z                     g'(z) = 1
    sigmoid    g(z) = 1 / (1 + e^-z)        g'(z) = a (1 - a)
    tanh       g(z) = tanh(z)               g'(z) = 1 - a^2
    relu       g(z) = max(z, 0)             g'(z) = [a > 0]
    softplus   g(z) = log(1 + e^z)          g'(z) = 1 - e^-a

So every Function here computes a in ``forward``, keeps a (never z) in
``setup_context``, and forms g'(z) from a in ``backward``. That is exactly the
caching the seed recommends: the forward pass already holds what the backward
pass needs.

Call the lowercase wrappers (``sigmoid(z)``), or look one up by name with
``get_activation("tanh")``.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "Identity", "Sigmoid", "Tanh", "ReLU", "Softplus", "Softmax",
    "identity", "sigmoid", "tanh", "relu", "softplus", "softmax",
    "ACTIVATION_NAMES", "OUTPUT_ACTIVATIONS", "canonical_name", "get_activation",
]


_transforms_active = torch._C._are_functorch_transforms_active
_unwrap_if_dead = torch._C._functorch.unwrap_if_dead
_C_APPLY = torch._C._FunctionBase.__dict__["apply"]


# Resolved once: looking up an aten overload through torch.ops costs a few µs per call.
_SIGMOID_BACKWARD = torch.ops.aten.sigmoid_backward.default
_TANH_BACKWARD = torch.ops.aten.tanh_backward.default
_THRESHOLD_BACKWARD = torch.ops.aten.threshold_backward.default
_SOFTMAX_BACKWARD = torch.ops.aten._softmax_backward_data.default


class _Activation(torch.autograd.Function):
    """Shared plumbing: one tensor in, one tensor out, torch.func-ready.

    ``generate_vmap_rule`` lets ``torch.func.vmap`` batch these Functions, and
    the ``forward`` + ``setup_context`` split is what ``torch.func.grad``
    requires.

    Why ``apply`` is overridden: when a Function defines ``setup_context``,
    ``torch.autograd.Function.apply`` binds the call's arguments through
    ``inspect.signature`` on every call so that ``setup_context`` sees default
    values. Our forwards take exactly one positional tensor and have no
    defaults, so that binding never changes anything, yet it costs about 20 µs
    per call -- more than the sigmoid itself on the seed's 1x3 tensors (see
    ``benchmarks/step_time.py``). Outside torch.func transforms we therefore
    go straight to the C++ ``apply``, after the same dead-wrapper unwrapping the
    stock ``apply`` does; inside a transform we defer to the stock path, which
    is the only one that knows how to run under vmap/grad.
    """

    generate_vmap_rule = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The C++ apply bound to this class once, instead of a super() lookup per call.
        cls._c_apply = _C_APPLY.__get__(cls, cls)

    @classmethod
    def apply(cls, z):  # type: ignore[override]
        if _transforms_active():
            return super().apply(z)
        return cls._c_apply(_unwrap_if_dead(z))

    @staticmethod
    def setup_context(ctx, inputs, output):
        # The one rule of this module, kept in one place: cache the output a = g(z),
        # never the input z; each backward forms g'(z) from a.
        ctx.save_for_backward(output)


class Identity(_Activation):
    """g(z) = z, g'(z) = 1: nothing needs to be saved for the backward pass."""

    @staticmethod
    def forward(z):
        # A view rather than z itself, so the output is a distinct tensor that
        # carries this Function as its grad_fn.
        return z.view_as(z)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass  # the derivative is the constant 1; there is nothing to cache

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Sigmoid(_Activation):
    """Logistic sigmoid a = 1 / (1 + e^-z); backward uses g'(z) = a (1 - a)."""

    @staticmethod
    def forward(z):
        return torch.sigmoid(z)  # saturates to exactly 0 or 1, never overflows

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        # aten's fused kernel computes grad_output * a * (1 - a) from the saved
        # output in one pass, and is itself differentiable (double backward).
        return _SIGMOID_BACKWARD(grad_output, a)


class Tanh(_Activation):
    """Hyperbolic tangent a = tanh(z); backward uses g'(z) = 1 - a^2."""

    @staticmethod
    def forward(z):
        return torch.tanh(z)

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        return _TANH_BACKWARD(grad_output, a)  # grad_output * (1 - a^2)


class ReLU(_Activation):
    """Rectifier a = max(z, 0); backward uses g'(z) = [a > 0]."""

    @staticmethod
    def forward(z):
        return torch.relu(z)

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        # Passes grad_output where a > 0 and 0 elsewhere (the subgradient at
        # z = 0 is taken to be 0, as torch.relu does).
        return _THRESHOLD_BACKWARD(grad_output, a, 0)


class Softplus(_Activation):
    """Soft rectifier a = log(1 + e^z); backward uses g'(z) = 1 - e^-a.

    g'(z) is the sigmoid σ(z), and since e^-a = 1 / (1 + e^z) it equals
    1 - e^-a. We evaluate it as -expm1(-a), which stays accurate when a is tiny
    (large negative z) where 1 - exp(-a) would cancel.
    """

    @staticmethod
    def forward(z):
        # F.softplus returns z itself once z > 20, so it never overflows.
        return F.softplus(z)

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        return grad_output * -torch.expm1(-a)


class Softmax(_Activation):
    """Softmax over the last dimension, s_i = e^{z_i} / Σ_j e^{z_j}, for a layer of class scores.

    Unlike the others it couples the units of a layer: ∂s_i/∂z_j = s_i([i = j] − s_j).
    So the backward pass, again from the cached output s alone, is
    grad_z = s ⊙ (grad_s − Σ_j grad_s_j s_j). With the cross-entropy loss
    E = −Σ t log s this collapses to grad_z = s − t (see ``torchann.losses``).
    """

    @staticmethod
    def forward(z):
        return torch.softmax(z, dim=-1)  # subtracts the row maximum first: no overflow

    @staticmethod
    def backward(ctx, grad_output):
        s, = ctx.saved_tensors
        # aten's fused kernel for s ⊙ (grad_output − Σ_j grad_output_j s_j), from the output
        return _SOFTMAX_BACKWARD(grad_output, s, -1, s.dtype)


def identity(z: torch.Tensor) -> torch.Tensor:
    """g(z) = z through :class:`Identity`."""
    return Identity.apply(z)


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid through :class:`Sigmoid`."""
    return Sigmoid.apply(z)


def tanh(z: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent through :class:`Tanh`."""
    return Tanh.apply(z)


def relu(z: torch.Tensor) -> torch.Tensor:
    """Rectifier through :class:`ReLU`."""
    return ReLU.apply(z)


def softplus(z: torch.Tensor) -> torch.Tensor:
    """Soft rectifier through :class:`Softplus`."""
    return Softplus.apply(z)


def softmax(z: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension through :class:`Softmax`."""
    return Softmax.apply(z)


def _builtin_identity(z: torch.Tensor) -> torch.Tensor:
    return z


def _builtin_softmax(z: torch.Tensor) -> torch.Tensor:
    return torch.softmax(z, dim=-1)


# torch's own ops, for `builtin=True` models: the same maths, differentiated by
# torch's built-in autograd formulas instead of ours.
_OURS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": identity, "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "softplus": softplus,
    "softmax": softmax,
}
_BUILTIN: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": _builtin_identity, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
    "relu": torch.relu, "softplus": F.softplus, "softmax": _builtin_softmax,
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid"}

# The elementwise activations (any layer); softmax couples a layer's units and is
# meant for an output layer of class probabilities.
ACTIVATION_NAMES: tuple[str, ...] = ("identity", "sigmoid", "tanh", "relu", "softplus")
OUTPUT_ACTIVATIONS: tuple[str, ...] = ("softmax",)


def canonical_name(name: str) -> str:
    """Map a name or alias ("linear", "logistic") to its canonical name.

    Raises ``ValueError`` listing the valid names when ``name`` is unknown.
    """
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _OURS:
        valid = ", ".join([*ACTIVATION_NAMES, *OUTPUT_ACTIVATIONS,
                           *(f"{a} (= {c})" for a, c in _ALIASES.items())])
        raise ValueError(f"unknown activation {name!r}; valid names are: {valid}")
    return key


def get_activation(name: str, *, builtin: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the activation called ``name``.

    ``builtin=False`` (default) gives our custom-autograd wrapper; ``builtin=True``
    gives torch's own op with the same forward, for like-with-like comparisons.
    """
    key = canonical_name(name)
    return (_BUILTIN if builtin else _OURS)[key]
