"""The seed's nets: shapes, initialisation, seeding, the builtin twin, repr."""

import pytest
import torch
from torch.testing import assert_close

from conftest import DEVICES
from torchann import Dense, SingleLayerNet, TwoLayerNet
from torchann.functional import get_activation


def test_dense_shapes_follow_the_seeds_row_vector_convention():
    layer = Dense(2, 3, "tanh", generator=torch.Generator().manual_seed(0))
    assert layer.weight.shape == (2, 3)
    assert layer.bias.shape == (1, 3)
    x = torch.randn(5, 2)
    assert_close(layer(x), torch.tanh(x @ layer.weight + layer.bias))


def test_initial_values_are_uniform_in_minus_half_to_half():
    net = TwoLayerNet(50, 40, 30, seed=3)
    for p in net.parameters():
        assert p.min() >= -0.5 and p.max() < 0.5
    values = torch.cat([p.detach().flatten() for p in net.parameters()])
    assert values.min() < -0.45 and values.max() > 0.45  # really spread over the interval
    assert abs(values.mean()) < 0.05


def test_initialisation_is_drawn_in_the_seeds_order_from_one_generator():
    g = torch.Generator().manual_seed(7)
    expected = [torch.rand(2, 3, generator=g, dtype=torch.float64) - 0.5,
                torch.rand(1, 3, generator=g, dtype=torch.float64) - 0.5,
                torch.rand(3, 1, generator=g, dtype=torch.float64) - 0.5,
                torch.rand(1, 1, generator=g, dtype=torch.float64) - 0.5]
    net = TwoLayerNet(2, 3, 1, seed=7, dtype=torch.float64)
    got = [net.hidden.weight, net.hidden.bias, net.output.weight, net.output.bias]
    for e, p in zip(expected, got):
        assert_close(p.detach(), e)


def test_same_seed_same_net_different_seed_different_net():
    a, b, c = (TwoLayerNet(2, 3, 1, seed=s) for s in (0, 0, 1))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_float32_and_float64_start_from_the_same_values():
    n32 = TwoLayerNet(2, 3, 1, seed=4, dtype=torch.float32)
    n64 = TwoLayerNet(2, 3, 1, seed=4, dtype=torch.float64)
    for p32, p64 in zip(n32.parameters(), n64.parameters()):
        assert p32.dtype == torch.float32 and p64.dtype == torch.float64
        assert_close(p32.double(), p64, rtol=0, atol=1e-7)


@pytest.mark.parametrize("device", DEVICES)
def test_builtin_twin_has_identical_parameters_and_outputs(device):
    ours = TwoLayerNet(2, 4, 2, hidden="tanh", output="identity", seed=2, dtype=torch.float64,
                       device=device)
    twin = TwoLayerNet(2, 4, 2, hidden="tanh", output="identity", seed=2, dtype=torch.float64,
                       device=device, builtin=True)
    for p, q in zip(ours.parameters(), twin.parameters()):
        assert p.device.type == device
        assert torch.equal(p, q)
    x = torch.randn(9, 2, dtype=torch.float64, device=device)
    assert_close(ours(x), twin(x))
    assert ours.hidden.g is get_activation("tanh")
    assert twin.hidden.g is get_activation("tanh", builtin=True)


def test_single_layer_net_is_one_dense_layer():
    net = SingleLayerNet(2, 1, "sigmoid", seed=0, dtype=torch.float64)
    assert [name for name, _ in net.named_parameters()] == ["output.weight", "output.bias"]
    x = torch.rand(4, 2, dtype=torch.float64)
    assert_close(net(x), torch.sigmoid(x @ net.output.weight + net.output.bias))
    assert (net.n_in, net.n_out) == (2, 1)


def test_two_layer_net_parameter_names_and_forward():
    net = TwoLayerNet(2, 3, 1, seed=0, dtype=torch.float64)
    assert [name for name, _ in net.named_parameters()] == [
        "hidden.weight", "hidden.bias", "output.weight", "output.bias"]
    x = torch.rand(6, 2, dtype=torch.float64)
    hidden = torch.sigmoid(x @ net.hidden.weight + net.hidden.bias)
    assert_close(net(x), torch.sigmoid(hidden @ net.output.weight + net.output.bias))


def test_print_explains_the_architecture():
    text = repr(TwoLayerNet(2, 3, 1, hidden="tanh", output="linear", builtin=True))
    assert "2 -> 3 tanh -> 1 identity" in text
    assert "(hidden): Dense(n_in=2, n_out=3, activation=tanh, builtin=True)" in text
    assert "(output): Dense(n_in=3, n_out=1, activation=identity, builtin=True)" in text


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(n_hidden=0), ValueError, "n_hidden must be at least 1"),
    (dict(n_in=-1), ValueError, "n_in must be at least 1"),
    (dict(n_out=2.5), TypeError, "n_out must be an int"),
    (dict(hidden="sigmiod"), ValueError, "unknown activation 'sigmiod'"),
    (dict(seed=1.5), TypeError, "seed must be an int"),
])
def test_bad_construction_arguments(kwargs, error, match):
    args = dict(n_in=2, n_hidden=3, n_out=1) | kwargs
    with pytest.raises(error, match=match):
        TwoLayerNet(**args)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(device="tpu"), ValueError, "unknown device 'tpu'"),
    (dict(dtype=torch.int64), TypeError, "dtype must be a real floating-point torch dtype"),
    (dict(dtype="float32"), TypeError, "dtype must be a real floating-point torch dtype"),
])
def test_bad_device_or_dtype_is_a_clear_error(kwargs, error, match):
    with pytest.raises(error, match=match):
        TwoLayerNet(2, 3, 1, **kwargs)
