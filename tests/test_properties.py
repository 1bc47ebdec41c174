"""Property-based tests (hypothesis) of every activation Function."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchann.functional import ACTIVATION_NAMES, get_activation

ANALYTIC = {  # g'(z) from z, in float64
    "identity": lambda z: 1.0,
    "sigmoid": lambda z: (1 / (1 + math.exp(-z))) * (1 - 1 / (1 + math.exp(-z))) if z > -700 else 0.0,
    "tanh": lambda z: 1 - math.tanh(z) ** 2,
    "relu": lambda z: 1.0 if z > 0 else 0.0,
    "softplus": lambda z: 1 / (1 + math.exp(-z)) if z > -700 else math.exp(z),
}
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, math.inf),
          "softplus": (0.0, math.inf), "identity": (-math.inf, math.inf)}

finite64 = st.floats(allow_nan=False, allow_infinity=False, width=64)
finite32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


def value_and_grad(name, values, dtype):
    z = torch.tensor(values, dtype=dtype, requires_grad=True)
    a = get_activation(name)(z)
    (grad,) = torch.autograd.grad(a.sum(), z)
    return a.detach(), grad


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_finite_outputs_and_gradients(name, dtype, data):
    finite = finite64 if dtype == torch.float64 else finite32
    values = data.draw(st.lists(finite, min_size=1, max_size=20))
    a, grad = value_and_grad(name, values, dtype)
    # identity passes huge inputs through unchanged; everything else stays finite too
    assert torch.isfinite(a).all() and torch.isfinite(grad).all()


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(max_examples=150, deadline=None)
@given(values=st.lists(finite64, min_size=1, max_size=20))
def test_outputs_stay_in_range_and_derivatives_are_non_negative(name, values):
    a, grad = value_and_grad(name, values, torch.float64)
    low, high = RANGES[name]
    assert (a >= low).all() and (a <= high).all()
    assert (grad >= 0).all()  # every activation here is monotone non-decreasing


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.floats(-745, 745, allow_nan=False), min_size=1, max_size=20))
def test_autograd_gradient_equals_the_analytic_derivative(name, values):
    _, grad = value_and_grad(name, values, torch.float64)
    expected = torch.tensor([ANALYTIC[name](v) for v in values], dtype=torch.float64)
    # Computing g' from the output costs absolute accuracy ~eps where g saturates:
    # 1 - a² and a(1 - a) subtract nearly equal numbers when a is within 1e-8 of 1
    # (torch's own tanh/sigmoid backward use the output the same way). So: relative
    # 1e-9, or absolute 4 eps.
    torch.testing.assert_close(grad, expected, rtol=1e-9, atol=4 * 2.0 ** -52)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
@settings(max_examples=100, deadline=None)
@given(z=st.floats(-30, 30, allow_nan=False), dz=st.floats(1e-3, 5))
def test_monotone_activations_never_decrease(name, z, dz):
    g = get_activation(name)
    pair = g(torch.tensor([z, z + dz], dtype=torch.float64))
    assert pair[1] >= pair[0]
