"""The derivation, our Functions and torch's built-in autograd: one gradient, three ways.

The reference is a copy of each net on torch's own activation ops, so torch's
own derivative formulas produce it -- nothing of ours is shared with it but the
matrix products.
"""

import copy
import itertools
import random

import pytest
import torch
from torch.testing import assert_close

from conftest import DEVICES
from reference import builtin_twin, loss_and_gradients
from torchann import MLP, ExplicitBackprop, SingleLayerNet, TwoLayerNet, backprop_by_hand, data, fit
from torchann.functional import ACTIVATION_NAMES

NAMES = list(ACTIVATION_NAMES)
# Each activation as the hidden layer and as the output; each batch mode; depths 1 to 4.
CASES = ([(2, hidden, "sigmoid", 7) for hidden in NAMES] +
         [(2, "tanh", output, 1) for output in NAMES] +
         [(depth, "softplus", "identity", batch) for depth in (1, 3, 4) for batch in (1, None)])


def case(depth, hidden, output, batch, dtype, device, seed=0):
    """A net with widths drawn from 1-16 and a batch of data (seeded: the same every run)."""
    rng = random.Random(f"{depth}{hidden}{output}{batch}{seed}")
    sizes = [rng.randint(1, 16) for _ in range(depth + 1)]
    net = MLP(sizes, [hidden] * (depth - 1) + [output], seed=rng.randint(0, 999), dtype=dtype,
              device=device)
    g = torch.Generator().manual_seed(rng.randint(0, 999))
    rows = batch or 23
    x = torch.randn(rows, sizes[0], generator=g, dtype=torch.float64) * 1.5
    t = torch.rand(rows, sizes[-1], generator=g, dtype=torch.float64)
    return net, x.to(device=device, dtype=dtype), t.to(device=device, dtype=dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("depth,hidden,output,batch", CASES)
def test_autograd_and_explicit_gradients_equal_torch_builtin_float64(depth, hidden, output,
                                                                      batch, device):
    net, x, t = case(depth, hidden, output, batch, torch.float64, device)
    reference_loss, reference = loss_and_gradients("builtin", net, x, t)
    for way in ("autograd", "explicit"):
        loss, grads = loss_and_gradients(way, net, x, t)
        assert_close(loss, reference_loss, rtol=1e-12, atol=0)
        for g, r in zip(grads, reference, strict=True):
            assert_close(g, r, rtol=1e-10, atol=1e-12 * r.abs().max().item())


@pytest.mark.parametrize("hidden,output", [("sigmoid", "sigmoid"), ("tanh", "identity")])
def test_autograd_and_explicit_gradients_equal_torch_builtin_float32(hidden, output):
    net, x, t = case(3, hidden, output, 7, torch.float32, "cpu")
    _, reference = loss_and_gradients("builtin", net, x, t)
    for way in ("autograd", "explicit"):
        for g, r in zip(loss_and_gradients(way, net, x, t)[1], reference, strict=True):
            assert_close(g, r, rtol=1e-5, atol=1e-6)


def test_engines_reject_what_they_cannot_do():
    net = TwoLayerNet(2, 3, 1)
    with pytest.raises(ValueError, match="unknown engine 'symbolic'; valid engines are: "
                                         "autograd, explicit"):
        fit(net, torch.rand(4, 2), torch.rand(4, 1), lr=1.0, epochs=1, engine="symbolic")
    with pytest.raises(TypeError, match="needs a torchann net"):
        ExplicitBackprop(torch.nn.Linear(2, 1))
    net.hidden.bias.requires_grad_(False)
    with pytest.raises(ValueError, match="cannot freeze some"):
        fit(net, torch.rand(4, 2), torch.rand(4, 1), lr=1.0, epochs=1, engine="explicit")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("arch,batch_size,shuffle", [
    ("xor", 1, False), ("regression", 1, False),                       # the seed's online runs
    ("deep", 1, False), ("deep", 1, True), ("deep", 5, True), ("deep", None, False),
])
def test_training_trajectories_agree_with_torch_builtin(arch, batch_size, shuffle, device):
    if arch == "xor":
        x, t = data.logic_gate("xor", repeats=5, seed=1)
        net, lr, anneal = TwoLayerNet(2, 3, 1, seed=4, dtype=torch.float64, device=device), 2.0, 1.0
    elif arch == "regression":
        x, t = data.regression("sin", n=25, seed=2)
        net = TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=4,
                          dtype=torch.float64, device=device)
        lr, anneal = 0.15, 0.99
    else:
        x, t = data.ring(repeats=3, seed=3)
        net = MLP([2, 8, 6, 1], ["softplus", "relu", "sigmoid"], seed=4, dtype=torch.float64,
                  device=device)
        lr, anneal = 0.5, 0.98
    settings = dict(lr=lr, epochs=20, anneal=anneal, batch_size=batch_size, shuffle=shuffle, seed=7)
    reference = builtin_twin(net)
    expected = fit(reference, x, t, **settings)
    for engine in ("autograd", "explicit"):
        trained = copy.deepcopy(net)  # the same start, on our Functions
        history = fit(trained, x, t, engine=engine, **settings)
        assert_close(torch.tensor(history.loss), torch.tensor(expected.loss), rtol=1e-10, atol=0)
        for p, q in zip(trained.parameters(), reference.parameters(), strict=True):
            assert_close(p, q, rtol=1e-10, atol=1e-12)


def test_backprop_by_hand_returns_named_gradients_and_inspectable_deltas():
    net = MLP([2, 4, 3, 1], ["tanh", "sigmoid", "identity"], seed=1, dtype=torch.float64)
    x, t = torch.rand(5, 2, dtype=torch.float64), torch.rand(5, 1, dtype=torch.float64)
    result = backprop_by_hand(net, x, t)
    assert list(result.gradients) == [name for name, _ in net.named_parameters()]
    assert [a.shape for a in result.activations] == [(5, 2), (5, 4), (5, 3), (5, 1)]
    assert [d.shape for d in result.deltas] == [(5, 4), (5, 3), (5, 1)]
    # δ_L = (a_L − t)/B with an identity output; δ_l = g'(z_l) ⊙ δ_{l+1} W_{l+1}ᵀ
    a = result.activations
    assert_close(result.deltas[2], (a[3] - t) / 5)
    assert_close(result.deltas[1], a[2] * (1 - a[2]) * (result.deltas[2] @ net.layers[2].weight.T))
    assert_close(result.deltas[0], (1 - a[1] ** 2) * (result.deltas[1] @ net.layers[1].weight.T))
    for l, layer in enumerate(net.layers):
        assert_close(result.gradients[f"layers.{l}.weight"], a[l].T @ result.deltas[l])
        assert_close(result.gradients[f"layers.{l}.bias"], result.deltas[l].sum(0, keepdim=True))
    assert_close(result.loss, 0.5 * ((net(x) - t) ** 2).sum().detach() / 5)


def test_seed_nets_keep_their_names_and_behaviour():
    single = SingleLayerNet(2, 1, seed=3)
    two = TwoLayerNet(2, 3, 1, seed=3)
    assert ExplicitBackprop(single).names == ["output.weight", "output.bias"]
    assert ExplicitBackprop(two).names == ["hidden.weight", "hidden.bias", "output.weight",
                                           "output.bias"]
    # A depth-2 MLP drawn from the same seed is the same network as TwoLayerNet.
    mlp = MLP([2, 3, 1], "sigmoid", seed=3)
    for p, q in zip(two.parameters(), mlp.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(sizes=[2]), ValueError, "at least an input and an output"),
    (dict(sizes=[2, 0, 1]), ValueError, r"sizes\[1\] must be at least 1"),
    (dict(sizes=[2, 3, 1], activations=["tanh"]), ValueError, "2 layers of weights need 2 activations"),
    (dict(sizes=[2, 3, 1], activations=["tanh", "tanh"], output="sigmoid"), ValueError, "output="),
    (dict(sizes=[2, 3, 1], activations="sigmiod"), ValueError, "unknown activation"),
])
def test_mlp_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        MLP(**kwargs)


def test_mlp_single_activation_name_with_output():
    net = MLP([3, 5, 5, 2], "relu", output="identity")
    assert [l.activation for l in net.layers] == ["relu", "relu", "identity"]
    assert net.architecture() == "3 -> 5 relu -> 5 relu -> 2 identity"
    assert [l.activation for l in MLP([1, 2, 1], "tanh").layers] == ["tanh", "tanh"]


@pytest.mark.parametrize("hidden,output", list(itertools.product(["sigmoid", "tanh", "softplus"],
                                                                 ["sigmoid", "identity"])))
def test_gradcheck_and_gradgradcheck_through_the_whole_mlp(hidden, output):
    net = MLP([2, 4, 3, 1], hidden, output=output, seed=5, dtype=torch.float64)
    names = [n for n, _ in net.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())
    x = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    t = torch.rand(6, 1, dtype=torch.float64)

    def loss(x, *params):
        out = torch.func.functional_call(net, dict(zip(names, params)), (x,))
        return 0.5 * ((out - t) ** 2).sum() / 6

    assert torch.autograd.gradcheck(loss, (x, *params))
    assert torch.autograd.gradgradcheck(loss, (x, *params))


def test_backprop_by_hand_takes_data_in_any_float_dtype_as_fit_does():
    net = TwoLayerNet(2, 3, 1, seed=0)                      # float32
    x, t = data.logic_gate("xor", repeats=1)                # float64
    steps = backprop_by_hand(net, x, t)
    assert steps.gradients["hidden.weight"].dtype == torch.float32
