"""Three ways to get the gradient of the seed's squared error, for ``fit(engine=...)``.

* ``"autograd"`` -- the model's own forward (our custom activation Functions)
  and ``torch.autograd``: steps II and III run inside each Function's backward.
* ``"explicit"`` -- :mod:`torchann.backprop`: the seed's δ equations written out,
  no autograd graph at all.
* ``"torch"`` -- the same layers through torch's built-in activations and
  torch's own autograd formulas: the reference the other two must match.

Each engine is a function ``(x, t) -> (loss, gradients)`` with the gradients in
``model.parameters()`` order; ``fit`` applies step IV, the update, itself.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from torchann.backprop import ExplicitBackprop
from torchann.functional import get_activation
from torchann.losses import get_loss

__all__ = ["ENGINES", "make_engine"]

ENGINES = ("autograd", "explicit", "torch")
Engine = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, list[torch.Tensor]]]


def _autograd(forward: Callable[[torch.Tensor], torch.Tensor], params: list[torch.Tensor],
              error: Callable) -> Engine:
    def loss_and_gradients(x, t):
        loss = error(forward(x), t)                         # I. forward
        grads = torch.autograd.grad(loss, params)           # II. backpropagate, III. gradients
        return loss.detach(), grads
    return loss_and_gradients


def _builtin_forward(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    layers = list(model.layers)
    gs = [get_activation(layer.activation, builtin=True) for layer in layers]

    def forward(x):
        for layer, g in zip(layers, gs):
            x = g(torch.addmm(layer.bias, x, layer.weight))
        return x
    return forward


def make_engine(name: str, model: nn.Module, params: list[torch.Tensor],
                loss: str = "squared") -> Engine:
    """The engine called ``name`` for ``model``, whose trainable parameters are ``params``."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid engines are: {', '.join(ENGINES)}")
    error = get_loss(loss)
    layers = getattr(model, "layers", None)
    if loss != "squared" and layers is not None and \
            layers[-1].activation not in ("sigmoid", "softmax"):
        raise ValueError(f"loss {loss!r} needs outputs in [0, 1]: give the net a sigmoid or "
                         f"softmax output (it has {layers[-1].activation!r})")
    if name == "autograd":
        return _autograd(model, params, error)
    if not hasattr(model, "layers"):
        raise TypeError(f"engine {name!r} needs a torchann net (SingleLayerNet, TwoLayerNet or "
                        f"MLP), got {type(model).__name__}")
    if name == "torch":
        return _autograd(_builtin_forward(model), params, error)
    explicit = ExplicitBackprop(model, loss)
    own = [p for p in model.parameters()]
    if len(own) != len(params) or any(p is not q for p, q in zip(own, params)):
        raise ValueError("engine 'explicit' trains every parameter of the model; "
                         "frozen parameters (requires_grad=False) are not supported")
    return explicit.loss_and_gradients
