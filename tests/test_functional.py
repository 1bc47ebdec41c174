"""Our activation Functions against torch's built-in ops, in float64 and float32."""

import warnings

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.testing import assert_close

from conftest import DEVICES
from torchann import functional as tf
from torchann.functional import ACTIVATION_NAMES, get_activation

NAMES = list(ACTIVATION_NAMES)
DTYPES = [torch.float32, torch.float64]

# The derivative each Function must implement, written from the input z.
ANALYTIC = {
    "identity": lambda z: torch.ones_like(z),
    "sigmoid": lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
    "tanh": lambda z: 1 - torch.tanh(z) ** 2,
    "relu": lambda z: (z > 0).to(z.dtype),
    "softplus": torch.sigmoid,
}


def extreme_inputs(dtype, device):
    values = [-1e4, -1e3, -710.0, -100.0, -40.0, -20.5, -1e-8, 0.0, 1e-8, 20.5, 40.0, 100.0,
              710.0, 1e3, 1e4]
    return torch.tensor(values, dtype=dtype, device=device)


def random_inputs(dtype, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(64, 5, generator=g, dtype=torch.float64) * 4).to(dtype=dtype, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("inputs", [random_inputs, extreme_inputs])
def test_forward_and_gradient_match_builtin(name, dtype, device, inputs):
    z = inputs(dtype, device)
    ours_z = z.clone().requires_grad_()
    ref_z = z.clone().requires_grad_()
    ours = get_activation(name)(ours_z)
    ref = get_activation(name, builtin=True)(ref_z)
    assert_close(ours, ref)
    upstream = torch.linspace(-2, 2, z.numel(), dtype=dtype, device=device).reshape(z.shape)
    ours.backward(upstream)
    ref.backward(upstream)
    # torch's softplus backward snaps to exactly 1 above its threshold (z > 20); ours
    # gives 1 - e^-z there, which differs by at most e^-20 ≈ 2e-9.
    if name == "softplus" and dtype == torch.float64:
        assert_close(ours_z.grad, ref_z.grad, atol=3e-9, rtol=1e-12)
    else:
        assert_close(ours_z.grad, ref_z.grad)


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


@pytest.mark.parametrize("name", NAMES)
def test_gradient_equals_analytic_derivative(name):
    z = random_inputs(torch.float64, "cpu").requires_grad_()
    get_activation(name)(z).sum().backward()
    assert_close(z.grad, ANALYTIC[name](z.detach()))


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name):
    z = random_inputs(torch.float64, "cpu")[:4]
    if name == "relu":  # keep clear of the kink at 0, where finite differences disagree
        z = torch.where(z.abs() < 0.1, z + 0.5, z)
    assert gradcheck(get_activation(name), (z.requires_grad_(),))


@pytest.mark.parametrize("name", NAMES)
def test_gradgradcheck(name):
    z = random_inputs(torch.float64, "cpu", seed=1)[:4]
    if name == "relu":
        z = torch.where(z.abs() < 0.1, z + 0.5, z)
    assert gradgradcheck(get_activation(name), (z.requires_grad_(),))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softplus"])
def test_backward_saves_the_output_not_the_input(name):
    z = random_inputs(torch.float64, "cpu").requires_grad_()
    a = get_activation(name)(z)
    saved = a.grad_fn.saved_tensors
    assert len(saved) == 1
    assert saved[0].data_ptr() == a.data_ptr()
    assert saved[0].data_ptr() != z.data_ptr()
    assert_close(saved[0], a)


def test_identity_saves_nothing_and_passes_the_gradient_through():
    z = random_inputs(torch.float64, "cpu").requires_grad_()
    a = tf.identity(z)
    assert type(a.grad_fn).__name__ == "IdentityBackward"
    assert a.grad_fn.saved_tensors == ()
    upstream = torch.randn_like(z)
    a.backward(upstream)
    assert_close(z.grad, upstream)


@pytest.mark.parametrize("name", NAMES)
def test_fast_apply_path_equals_the_stock_function_apply(name):
    """Our apply skips Function.apply's argument binding; the results must not change."""
    fn_cls = {"identity": tf.Identity, "sigmoid": tf.Sigmoid, "tanh": tf.Tanh,
              "relu": tf.ReLU, "softplus": tf.Softplus}[name]
    z1 = random_inputs(torch.float64, "cpu").requires_grad_()
    z2 = z1.detach().clone().requires_grad_()
    fast = fn_cls.apply(z1)
    stock = torch.autograd.Function.apply.__func__(fn_cls, z2)
    assert_close(fast, stock)
    assert type(fast.grad_fn) is type(stock.grad_fn)
    fast.sum().backward()
    stock.sum().backward()
    assert_close(z1.grad, z2.grad)


@pytest.mark.parametrize("name", NAMES)
def test_vmap_matches_the_unbatched_call(name):
    z = random_inputs(torch.float64, "cpu")
    fn = get_activation(name)
    assert_close(torch.func.vmap(fn)(z), torch.stack([fn(row) for row in z]))


@pytest.mark.parametrize("name", NAMES)
def test_func_grad_and_vmap_of_grad_give_the_derivative(name):
    z = random_inputs(torch.float64, "cpu")[0]
    fn = get_activation(name)
    scalar_grad = torch.func.grad(lambda s: fn(s))
    assert_close(torch.func.vmap(scalar_grad)(z), ANALYTIC[name](z))
    assert_close(scalar_grad(z[0]), ANALYTIC[name](z[:1])[0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
def test_second_derivative_through_func_grad(name):
    z = torch.linspace(-3, 3, 7, dtype=torch.float64)
    ours = torch.func.vmap(torch.func.grad(torch.func.grad(get_activation(name))))(z)
    ref = torch.func.vmap(torch.func.grad(torch.func.grad(get_activation(name, builtin=True))))(z)
    assert_close(ours, ref)


@pytest.mark.parametrize("alias,name", [("linear", "identity"), ("logistic", "sigmoid"),
                                        ("Tanh", "tanh"), (" relu ", "relu")])
def test_aliases_resolve(alias, name):
    assert get_activation(alias) is get_activation(name)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'sigmiod'") as info:
        get_activation("sigmiod")
    for valid in ["identity", "sigmoid", "tanh", "relu", "softplus", "linear", "logistic"]:
        assert valid in str(info.value)


def test_activation_name_must_be_a_string():
    with pytest.raises(TypeError, match="activation must be a name"):
        get_activation(torch.sigmoid)
