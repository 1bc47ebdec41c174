"""Random bad input thrown at fit and the nets: handled, or rejected with a clear error."""


import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchann import MLP, TrainingDiverged, TwoLayerNet, fit

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.sampled_from([0, -1, 0.0, 1e308, -1e-300, True, None, "1", [1.0]]),
)


@st.composite
def datasets(draw):
    n = draw(st.integers(0, 6))
    n_in = draw(st.sampled_from([1, 2, 3]))
    n_out = draw(st.sampled_from([1, 2]))
    shape_x = draw(st.sampled_from([(n, n_in), (n, 2), (n,), (n, 2, 1), (max(n - 1, 0), 2)]))
    shape_t = draw(st.sampled_from([(n, 1), (n, n_out), (n,), (n + 1, 1)]))
    dtype_x = draw(st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool]))
    dtype_t = draw(st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool]))
    x = torch.randn(shape_x, dtype=torch.float64)
    t = torch.randint(0, 2, shape_t).double()
    if draw(st.booleans()) and x.numel():
        x.view(-1)[0] = draw(st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e300]))
    return x.to(dtype_x), t.to(dtype_t)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset=datasets(), lr=numbers, epochs=numbers, anneal=numbers,
       batch_size=st.one_of(numbers, st.none()), hidden=st.sampled_from([1, 3]),
       engine=st.sampled_from(["autograd", "explicit", "torch", "magic"]))
def test_fit_handles_or_rejects_any_input_and_never_leaves_nan(dataset, lr, epochs, anneal,
                                                              batch_size, hidden, engine):
    x, t = dataset
    net = TwoLayerNet(2, hidden, 1, seed=0, dtype=torch.float64)
    before = [p.detach().clone() for p in net.parameters()]
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 3:
        epochs = 3  # keep each example quick
    try:
        fit(net, x, t, lr=lr, epochs=epochs, anneal=anneal, batch_size=batch_size, engine=engine)
    except (ValueError, TypeError) as error:
        assert str(error)  # a message that says what is wrong
        for p, q in zip(net.parameters(), before):  # rejected before any work started
            assert torch.equal(p, q)
    except TrainingDiverged as error:
        assert "epoch" in str(error)
    for p in net.parameters():
        assert torch.isfinite(p).all()


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.one_of(st.integers(-2, 5), st.floats(), st.none(), st.text(max_size=2)),
                      min_size=0, max_size=5),
       activations=st.one_of(st.text(max_size=8), st.lists(st.sampled_from(
           ["tanh", "sigmoid", "relu", "bogus", ""]), max_size=5), st.none(), st.integers()),
       seed=st.one_of(st.integers(-3, 3), st.floats(), st.none()))
def test_mlp_construction_handles_or_rejects_any_input(sizes, activations, seed):
    try:
        net = MLP(sizes, activations, seed=seed)
    except (ValueError, TypeError) as error:
        assert str(error)
        return
    assert all(torch.isfinite(p).all() for p in net.parameters())
    x = torch.rand(2, net.n_in)
    assert net(x).shape == (2, net.n_out)


@pytest.mark.parametrize("kwargs", [dict(n_hidden=0), dict(n_in=0), dict(n_out=-1),
                                    dict(hidden="bogus"), dict(dtype=torch.int64)])
def test_two_layer_net_rejects_bad_arguments_clearly(kwargs):
    args = dict(n_in=2, n_hidden=3, n_out=1) | kwargs
    with pytest.raises((ValueError, TypeError)) as info:
        TwoLayerNet(**args)
    assert str(info.value)
