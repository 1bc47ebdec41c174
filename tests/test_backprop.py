"""The derivation, our Functions and torch's autograd: three engines, one gradient."""

import itertools
import random
import zlib

import pytest
import torch
from torch.testing import assert_close

from conftest import DEVICES
from torchann import MLP, SingleLayerNet, TwoLayerNet, data, fit
from torchann.backprop import DERIVATIVE_FROM_OUTPUT, ExplicitBackprop, backprop
from torchann.engines import ENGINES, make_engine
from torchann.functional import ACTIVATION_NAMES, get_activation

NAMES = list(ACTIVATION_NAMES)
# depth 1-4 x hidden activation x output activation x batch size {1, 7, full}
MATRIX = [(depth, hidden, output, batch)
          for depth in (1, 2, 3, 4)
          for hidden in (NAMES if depth > 1 else ["identity"])
          for output in NAMES
          for batch in (1, 7, None)]


def stable_seed(*parts) -> int:
    """A seed per test case that is the same in every run (unlike hash() of strings)."""
    return zlib.crc32(repr(parts).encode()) % 10_000


def case_net(depth, hidden, output, seed, dtype, device):
    """An MLP with widths drawn from 1-16 for this case (seeded, so the matrix is fixed)."""
    rng = random.Random(seed)
    sizes = [rng.randint(1, 16) for _ in range(depth + 1)]
    return MLP(sizes, [hidden] * (depth - 1) + [output], seed=seed, dtype=dtype, device=device)


def case_data(net, batch, seed, dtype, device, n=23):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, net.n_in, generator=g, dtype=torch.float64) * 1.5
    t = torch.rand(n, net.n_out, generator=g, dtype=torch.float64)
    rows = n if batch is None else batch
    return x[:rows].to(device=device, dtype=dtype), t[:rows].to(device=device, dtype=dtype)


def gradients_by_engine(net, x, t):
    params = list(net.parameters())
    return {engine: make_engine(engine, net, params)(x, t) for engine in ENGINES}


def assert_relative_close(a, b, rtol):
    scale = max(a.abs().max().item(), b.abs().max().item(), 1e-300)
    assert (a - b).abs().max().item() <= rtol * scale, (a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("depth,hidden,output,batch", MATRIX)
def test_three_engines_agree_float64(depth, hidden, output, batch, device):
    seed = stable_seed(depth, hidden, output, batch)
    net = case_net(depth, hidden, output, seed, torch.float64, device)
    x, t = case_data(net, batch, seed, torch.float64, device)
    results = gradients_by_engine(net, x, t)
    reference_loss, reference = results["torch"]
    for engine in ("autograd", "explicit"):
        loss, grads = results[engine]
        assert_close(loss, reference_loss, rtol=1e-12, atol=0)
        for g, r in zip(grads, reference):
            assert g.shape == r.shape
            assert_relative_close(g, r, 1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("depth,hidden,output,batch",
                         [c for c in MATRIX if c[3] == 7 and c[1] in ("sigmoid", "tanh", "identity")])
def test_three_engines_agree_float32(depth, hidden, output, batch, device):
    seed = 1 + stable_seed(depth, hidden, output)
    net = case_net(depth, hidden, output, seed, torch.float32, device)
    x, t = case_data(net, batch, seed, torch.float32, device)
    results = gradients_by_engine(net, x, t)
    for engine in ("autograd", "explicit"):
        for g, r in zip(results[engine][1], results["torch"][1]):
            assert_close(g, r, rtol=1e-5, atol=1e-6)


def test_engines_reject_what_they_cannot_do():
    net = TwoLayerNet(2, 3, 1)
    with pytest.raises(ValueError, match="unknown engine 'symbolic'; valid engines are: "
                                         "autograd, explicit, torch"):
        fit(net, torch.rand(4, 2), torch.rand(4, 1), lr=1.0, epochs=1, engine="symbolic")
    with pytest.raises(TypeError, match="needs a torchann net"):
        make_engine("explicit", torch.nn.Linear(2, 1), [])
    net.hidden.bias.requires_grad_(False)
    with pytest.raises(ValueError, match="frozen parameters"):
        fit(net, torch.rand(4, 2), torch.rand(4, 1), lr=1.0, epochs=1, engine="explicit")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch_size,shuffle", [(1, False), (1, True), (5, True), (None, False)])
@pytest.mark.parametrize("arch", ["xor", "regression", "deep"])
def test_training_trajectories_agree_across_engines(arch, batch_size, shuffle, device):
    if arch == "xor":
        x, t = data.logic_gate("xor", repeats=5, seed=1)
        make = lambda: TwoLayerNet(2, 3, 1, seed=4, dtype=torch.float64, device=device)
        lr, anneal = 2.0, 1.0
    elif arch == "regression":
        x, t = data.regression("sin", n=25, seed=2)
        make = lambda: TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=4,
                                   dtype=torch.float64, device=device)
        lr, anneal = 0.15, 0.99
    else:
        x, t = data.ring(repeats=3, seed=3)
        make = lambda: MLP([2, 8, 6, 1], ["softplus", "relu", "sigmoid"], seed=4,
                           dtype=torch.float64, device=device)
        lr, anneal = 0.5, 0.98
    runs = {}
    for engine in ENGINES:
        net = make()
        history = fit(net, x, t, lr=lr, epochs=20, anneal=anneal, batch_size=batch_size,
                      shuffle=shuffle, seed=7, engine=engine)
        runs[engine] = (net, history)
    ref_net, ref_history = runs["torch"]
    for engine in ("autograd", "explicit"):
        net, history = runs[engine]
        assert_close(torch.tensor(history.loss), torch.tensor(ref_history.loss), rtol=1e-10, atol=0)
        for p, q in zip(net.parameters(), ref_net.parameters()):
            assert_close(p, q, rtol=1e-10, atol=1e-12)


def test_backprop_returns_named_gradients_and_inspectable_deltas():
    net = MLP([2, 4, 3, 1], ["tanh", "sigmoid", "identity"], seed=1, dtype=torch.float64)
    x, t = torch.rand(5, 2, dtype=torch.float64), torch.rand(5, 1, dtype=torch.float64)
    result = backprop(net, x, t)
    assert list(result.gradients) == [name for name, _ in net.named_parameters()]
    assert [a.shape for a in result.activations] == [(5, 2), (5, 4), (5, 3), (5, 1)]
    assert [d.shape for d in result.deltas] == [(5, 4), (5, 3), (5, 1)]
    # δ_L = g'(z_L)(a_L − t)/B with identity output; δ_l = g'(z_l) ⊙ δ_{l+1} W_{l+1}ᵀ
    a = result.activations
    assert_close(result.deltas[2], (a[3] - t) / 5)
    assert_close(result.deltas[1], a[2] * (1 - a[2]) * (result.deltas[2] @ net.layers[2].weight.T))
    assert_close(result.deltas[0], (1 - a[1] ** 2) * (result.deltas[1] @ net.layers[1].weight.T))
    for l, layer in enumerate(net.layers):
        assert_close(result.gradients[f"layers.{l}.weight"], a[l].T @ result.deltas[l])
        assert_close(result.gradients[f"layers.{l}.bias"], result.deltas[l].sum(0, keepdim=True))
    # ... and they equal autograd's
    loss = 0.5 * ((net(x) - t) ** 2).sum() / 5
    for (name, p), g in zip(net.named_parameters(), torch.autograd.grad(loss, list(net.parameters()))):
        assert_close(result.gradients[name], g)
    assert_close(result.loss, loss.detach())


@pytest.mark.parametrize("name", NAMES)
def test_derivative_from_output_matches_the_functions_backward(name):
    z = torch.linspace(-6, 6, 101, dtype=torch.float64).requires_grad_()
    a = get_activation(name)(z)
    (grad,) = torch.autograd.grad(a.sum(), z)
    assert_close(DERIVATIVE_FROM_OUTPUT[name](a.detach()), grad)


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


@pytest.mark.parametrize("combo", list(itertools.product(["sigmoid", "tanh", "softplus"],
                                                         ["sigmoid", "identity"])))
def test_gradcheck_and_gradgradcheck_through_the_whole_mlp(combo):
    hidden, output = combo
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
