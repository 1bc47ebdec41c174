"""Gradients of one batch three ways, for tests that compare them.

* ``"autograd"``: torch.autograd through our activation Functions (fit's default);
* ``"explicit"``: the derivation written out (torchann.backprop), no autograd;
* ``"builtin"``: a copy of the net on torch's own activation ops and torch's own
  derivative formulas -- the independent reference.
"""

import copy

import torch

from torchann import ExplicitBackprop, get_activation
from torchann.losses import get_loss

WAYS = ("autograd", "explicit", "builtin")


def builtin_twin(net):
    """The same net (same weights), with torch's own activation ops in every layer."""
    twin = copy.deepcopy(net)
    for layer in twin.layers:
        layer.g, layer.builtin = get_activation(layer.activation, builtin=True), True
    return twin


def loss_and_gradients(way, net, x, t, loss="squared"):
    """(loss, [∂E/∂p for p in net.parameters()]) for one batch."""
    if way == "explicit":
        steps = ExplicitBackprop(net, loss)(x, t)
        return steps.loss, list(steps.gradients.values())
    model = builtin_twin(net) if way == "builtin" else net
    error = get_loss(loss)(model(x), t)
    return error.detach(), list(torch.autograd.grad(error, list(model.parameters())))
