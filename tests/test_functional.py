"""Our activation Functions: the backward formulas, checked against independent references.

Three references, none of which shares code with ours: g'(z) written here from
the input z with nothing but exp and cosh; torch's gradcheck (finite
differences); and torch's built-in ops differentiated by torch's own formulas.
"""

import warnings

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.testing import assert_close

from conftest import DEVICES
from torchann.functional import ACTIVATION_NAMES, ACTIVATIONS, get_activation

NAMES = list(ACTIVATION_NAMES)
DTYPES = [torch.float32, torch.float64]

# g'(z) from the input z, by textbook calculus (not from the output, as ours are).
FROM_Z = {
    "identity": lambda z: torch.ones_like(z),
    "sigmoid": lambda z: torch.exp(-z.abs()) / (1 + torch.exp(-z.abs())) ** 2,
    "tanh": lambda z: 1 / torch.cosh(z) ** 2,
    "relu": lambda z: (z > 0).to(z.dtype),
    "softplus": lambda z: 1 / (1 + torch.exp(-z)),
}


def extreme_inputs(dtype, device):
    values = [-1e4, -1e3, -710.0, -100.0, -40.0, -20.5, -1e-8, 0.0, 1e-8, 20.5, 40.0, 100.0,
              710.0, 1e3, 1e4]
    return torch.tensor(values, dtype=dtype, device=device)


def random_inputs(dtype, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(64, 5, generator=g, dtype=torch.float64) * 4).to(dtype=dtype, device=device)


def gradient(fn, z):
    z = z.detach().requires_grad_()
    a = fn(z)
    (grad,) = torch.autograd.grad(a, z, torch.ones_like(a))
    return a.detach(), grad


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("inputs", [random_inputs, extreme_inputs])
def test_backward_equals_the_derivative_of_z_and_torch_builtin(name, dtype, device, inputs):
    z = inputs(dtype, device)
    a, ours = gradient(get_activation(name), z)
    ref_a, builtin = gradient(get_activation(name, builtin=True), z)
    assert_close(a, ref_a)
    assert_close(ours, builtin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cosh and exp overflow to inf at the extremes: 1/inf = 0
        independent = FROM_Z[name](z.double()).to(dtype)
    assert_close(ours, independent)


@pytest.mark.parametrize("name", NAMES)
def test_table_derivative_is_the_functions_backward(name):
    """The explicit derivation and the figure read g'(a) from the table; it must be the same."""
    z = torch.linspace(-6, 6, 101, dtype=torch.float64)
    a, grad = gradient(get_activation(name), z)
    assert_close(ACTIVATIONS[name].derivative(a), grad, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", [*NAMES, "softmax"])
def test_gradcheck_and_gradgradcheck(name):
    z = random_inputs(torch.float64, "cpu")[:4]
    if name == "relu":  # keep clear of the kink at 0, where finite differences disagree
        z = torch.where(z.abs() < 0.1, z + 0.5, z)
    assert gradcheck(get_activation(name), (z.requires_grad_(),))
    assert gradgradcheck(get_activation(name), (z,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_extreme_inputs_stay_finite_without_warnings(name, dtype):
    z = extreme_inputs(dtype, "cpu").requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = get_activation(name)(z)
        a.sum().backward()
    assert torch.isfinite(a).all(), a
    assert torch.isfinite(z.grad).all(), z.grad


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softplus", "softmax"])
def test_backward_keeps_the_output_not_the_input(name):
    z = random_inputs(torch.float64, "cpu").requires_grad_()
    a = get_activation(name)(z)
    saved = a.grad_fn.saved_tensors
    assert len(saved) == 1
    assert saved[0].data_ptr() == a.data_ptr() != z.data_ptr()


def test_identity_keeps_nothing_and_passes_the_gradient_through():
    z = random_inputs(torch.float64, "cpu").requires_grad_()
    a = get_activation("identity")(z)
    assert type(a.grad_fn).__name__ == "IdentityBackward"
    assert a.grad_fn.saved_tensors == ()
    upstream = torch.randn_like(z)
    a.backward(upstream)
    assert_close(z.grad, upstream, rtol=0, atol=0)


def test_every_registered_activation_has_its_three_parts():
    for name, row in ACTIVATIONS.items():
        z = random_inputs(torch.float64, "cpu")[:2]
        assert_close(row.ours(z), row.builtin(z))
        assert (row.derivative is None) == (name == "softmax")  # softmax couples a row's units
    assert "softmax" not in ACTIVATION_NAMES


@pytest.mark.parametrize("alias,name", [("linear", "identity"), ("logistic", "sigmoid"),
                                        ("Tanh", "tanh"), (" relu ", "relu")])
def test_aliases_resolve(alias, name):
    assert get_activation(alias) is get_activation(name)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'sigmiod'") as info:
        get_activation("sigmiod")
    for valid in ["identity", "sigmoid", "tanh", "relu", "softplus", "softmax", "linear", "logistic"]:
        assert valid in str(info.value)


def test_activation_name_must_be_a_string():
    with pytest.raises(TypeError, match="activation must be a name"):
        get_activation(torch.sigmoid)


def test_a_new_activation_is_one_class_and_one_table_row(monkeypatch):
    """The README's worked example: softsign, registered in one row, works everywhere."""
    import torch.nn.functional as F

    from reference import loss_and_gradients
    from torchann import MLP
    from torchann.functional import Activation

    class Softsign(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            a = z / (1 + z.abs())
            ctx.save_for_backward(a)
            return a

        @staticmethod
        def backward(ctx, grad_output):
            a, = ctx.saved_tensors
            return grad_output * (1 - a.abs()) ** 2

    monkeypatch.setitem(ACTIVATIONS, "softsign", Activation(
        Softsign.apply, F.softsign, lambda a: (1 - a.abs()) ** 2))
    net = MLP([3, 5, 2], "softsign", output="sigmoid", seed=1, dtype=torch.float64)
    x, t = torch.randn(4, 3, dtype=torch.float64), torch.rand(4, 2, dtype=torch.float64)
    _, reference = loss_and_gradients("builtin", net, x, t)
    for way in ("autograd", "explicit"):
        for g, r in zip(loss_and_gradients(way, net, x, t)[1], reference, strict=True):
            assert_close(g, r)
