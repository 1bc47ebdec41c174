"""fit: the seed's algorithm, equivalence with torch's autograd, annealing, bad input."""

import copy
import math
import re

import pytest
import torch
from torch.testing import assert_close

from conftest import DEVICES
from torchann import SingleLayerNet, TrainingDiverged, TwoLayerNet, data, fit, lr_at
from torchann.losses import squared_error

F64 = torch.float64


def xor_data(seed=0, repeats=5):
    return data.logic_gate("xor", repeats=repeats, seed=seed)


def seed_algorithm(net, inputs, targets, lr, epochs, anneal=1.0):
    """The seed's Code Block 4/5, written out with plain tensor maths (no autograd).

    Works for sigmoid or tanh hidden units and sigmoid or identity outputs.
    """
    derivative = {"sigmoid": lambda a: a * (1 - a), "tanh": lambda a: 1 - a * a,
                  "identity": lambda a: torch.ones_like(a)}
    g = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda z: z}
    W_hid, b_hid = net.hidden.weight.detach().clone(), net.hidden.bias.detach().clone()
    W_out, b_out = net.output.weight.detach().clone(), net.output.bias.detach().clone()
    g_hid, g_out = g[net.hidden.activation], g[net.output.activation]
    d_hid, d_out = derivative[net.hidden.activation], derivative[net.output.activation]
    mse, full = [], []
    for epoch in range(epochs):
        errors = []
        for x, t in zip(inputs.split(1), targets.split(1)):
            z_hid = x @ W_hid + b_hid            # I. forward
            a_hid = g_hid(z_hid)
            z_out = a_hid @ W_out + b_out
            a_out = g_out(z_out)
            delta_out = d_out(a_out) * (a_out - t)           # II. backpropagate
            delta_hid = d_hid(a_hid) * (delta_out @ W_out.T)
            dW_out, db_out = a_hid.T @ delta_out, delta_out  # III. gradients
            dW_hid, db_hid = x.T @ delta_hid, delta_hid
            rate = lr * anneal ** epoch                      # IV. update
            W_out, b_out = W_out - rate * dW_out, b_out - rate * db_out
            W_hid, b_hid = W_hid - rate * dW_hid, b_hid - rate * db_hid
            errors.append(0.5 * float(((a_out - t) ** 2).sum()))
        mse.append(sum(errors) / len(errors))
        a_all = g_out(g_hid(inputs @ W_hid + b_hid) @ W_out + b_out)  # the net after the epoch
        full.append(0.5 * float(((a_all - targets) ** 2).sum()) / len(inputs))
    return [W_hid, b_hid, W_out, b_out], mse, full


def test_lr_at_endpoints():
    assert lr_at(0, 2.0, 1.0) == 2.0
    assert lr_at(299, 2.0, 1.0) == 2.0
    assert lr_at(0, 0.15, 0.99) == 0.15
    assert math.isclose(lr_at(199, 0.15, 0.99), 0.15 * 0.99 ** 199, rel_tol=1e-15)
    assert lr_at(1, 1.0, 0.5) == 0.5


@pytest.mark.parametrize("hidden,output,dataset,lr", [
    ("sigmoid", "sigmoid", "xor", 2.0),
    ("tanh", "identity", "regression", 0.15),
])
def test_fit_reproduces_the_seeds_hand_written_algorithm(hidden, output, dataset, lr):
    inputs, targets = xor_data() if dataset == "xor" else data.regression("sin", n=30)
    net = TwoLayerNet(inputs.shape[1], 3, 1, hidden=hidden, output=output, seed=1, dtype=F64)
    expected, online, full = seed_algorithm(net, inputs, targets, lr, epochs=3, anneal=0.9)
    with torch.no_grad():
        initial = 0.5 * float(((net(inputs) - targets) ** 2).sum()) / len(inputs)
    history = fit(net, inputs, targets, lr=lr, epochs=3, anneal=0.9, shuffle=False)
    for p, e in zip(net.parameters(), expected):
        assert_close(p.detach(), e, rtol=0, atol=1e-12)
    assert_close(torch.tensor(history.online_loss), torch.tensor(online), rtol=1e-12, atol=0)
    # the honest curve: the whole training set's error, before training and after each epoch
    assert_close(torch.tensor(history.loss_curve()), torch.tensor([initial, *full]),
                 rtol=1e-12, atol=0)
    assert history.lr == [lr, lr * 0.9, lr * 0.9 ** 2]
    assert history.steps == 3 * len(inputs)


def test_one_step_checked_by_hand_against_the_delta_equations():
    net = TwoLayerNet(2, 3, 1, seed=5, dtype=F64)
    x = torch.tensor([[0.3, -0.2]], dtype=F64)
    t = torch.tensor([[1.0]], dtype=F64)
    W1, b1, W2, b2 = (p.detach().clone() for p in net.parameters())
    eta = 0.7
    a1 = torch.sigmoid(x @ W1 + b1)
    a2 = torch.sigmoid(a1 @ W2 + b2)
    delta_k = a2 * (1 - a2) * (a2 - t)              # output error signal
    delta_j = a1 * (1 - a1) * (delta_k @ W2.T)      # hidden error signal
    fit(net, x, t, lr=eta, epochs=1, shuffle=False)
    assert_close(net.output.weight.detach(), W2 - eta * a1.T @ delta_k, rtol=0, atol=1e-15)
    assert_close(net.output.bias.detach(), b2 - eta * delta_k, rtol=0, atol=1e-15)
    assert_close(net.hidden.weight.detach(), W1 - eta * x.T @ delta_j, rtol=0, atol=1e-15)
    assert_close(net.hidden.bias.detach(), b1 - eta * delta_j, rtol=0, atol=1e-15)


def test_minibatch_gradient_is_the_mean_of_the_online_gradients():
    inputs, targets = xor_data(repeats=2)
    net = TwoLayerNet(2, 3, 1, seed=0, dtype=F64)
    params = list(net.parameters())
    online = [torch.autograd.grad(squared_error(net(x), t), params)
              for x, t in zip(inputs.split(1), targets.split(1))]
    mean = [torch.stack(g).mean(0) for g in zip(*online)]
    expected = [p.detach() - 0.5 * g for p, g in zip(params, mean)]
    fit(net, inputs, targets, lr=0.5, epochs=1, batch_size=None)  # full batch: one update
    for p, e in zip(params, expected):
        assert_close(p.detach(), e, rtol=0, atol=1e-15)


def test_online_loss_is_the_per_observation_mean_also_with_a_ragged_last_batch():
    inputs, targets = xor_data(repeats=5)          # 20 observations, batches 8 + 8 + 4
    net = TwoLayerNet(2, 3, 1, seed=2, dtype=F64)
    start = copy.deepcopy(net)
    history = fit(net, inputs, targets, lr=1.0, epochs=1, batch_size=8, shuffle=False)
    params = list(start.parameters())
    losses = []
    for x, t in zip(inputs.split(8), targets.split(8)):
        losses.append(0.5 * (start(x) - t).square().sum(dim=1).detach())  # each row's E
        grads = torch.autograd.grad(squared_error(start(x), t), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= 1.0 * g
    assert history.online_loss[0] == pytest.approx(float(torch.cat(losses).mean()), rel=1e-12)


def test_shuffle_is_seeded_and_differs_from_the_fixed_order():
    inputs, targets = xor_data()

    def train(**kwargs):
        net = TwoLayerNet(2, 3, 1, seed=0, dtype=F64)
        fit(net, inputs, targets, lr=2.0, epochs=2, **kwargs)
        return torch.cat([p.detach().flatten() for p in net.parameters()])

    assert torch.equal(train(shuffle=True, seed=4), train(shuffle=True, seed=4))
    assert not torch.equal(train(shuffle=True, seed=4), train(shuffle=True, seed=5))
    assert not torch.equal(train(shuffle=True, seed=4), train(shuffle=False))


def test_float32_cpu_runs_are_reproducible():
    inputs, targets = xor_data()
    runs = []
    for _ in range(2):
        net = TwoLayerNet(2, 3, 1, seed=0, dtype=torch.float32)
        history = fit(net, inputs, targets, lr=2.0, epochs=3)
        runs.append((history.loss, [p.detach().clone() for p in net.parameters()]))
    assert runs[0][0] == runs[1][0]
    for p, q in zip(runs[0][1], runs[1][1]):
        assert torch.equal(p, q)


def test_accuracy_is_recorded_for_classification_only():
    inputs, targets = xor_data()
    history = fit(TwoLayerNet(2, 3, 1), inputs, targets, lr=2.0, epochs=2)
    assert len(history.accuracy) == 2 and all(0 <= a <= 1 for a in history.accuracy)
    x, y = data.regression("sin", n=20)
    history = fit(TwoLayerNet(1, 3, 1, hidden="tanh", output="identity"), x, y, lr=0.1, epochs=2)
    assert history.accuracy == []


def test_plus_minus_one_targets_use_zero_as_the_threshold():
    inputs, targets = data.logic_gate("or", repeats=10)
    net = SingleLayerNet(2, 1, "tanh", seed=0, dtype=F64)
    history = fit(net, inputs, 2 * targets - 1, lr=0.5, epochs=20, shuffle=False)
    predicted = (net(inputs) > 0).to(F64)
    assert history.accuracy[-1] == pytest.approx(float((predicted == targets).to(F64).mean()))
    assert history.accuracy[-1] > 0.9


def test_integer_and_boolean_targets_are_converted():
    inputs, targets = xor_data()
    for converted in (targets.long(), targets.bool(), targets.tolist()):
        net = TwoLayerNet(2, 3, 1, seed=0, dtype=F64)
        history = fit(net, inputs, converted, lr=2.0, epochs=1, shuffle=False)
        reference = TwoLayerNet(2, 3, 1, seed=0, dtype=F64)
        expected = fit(reference, inputs, targets, lr=2.0, epochs=1, shuffle=False)
        assert history.loss == expected.loss


def test_callbacks_see_every_epoch_in_order():
    inputs, targets = xor_data()
    seen, also = [], []
    fit(TwoLayerNet(2, 3, 1), inputs, targets, lr=1.0, epochs=4, anneal=0.5,
        callbacks=[lambda s: seen.append((s.epoch, s.epochs, s.lr)), lambda s: also.append(s.loss)])
    assert seen == [(1, 4, 1.0), (2, 4, 0.5), (3, 4, 0.25), (4, 4, 0.125)]
    assert len(also) == 4


BAD = [
    (dict(lr=0.0), ValueError, "lr must be a finite number > 0, got 0.0"),
    (dict(lr=-1.0), ValueError, "lr must be a finite number > 0"),
    (dict(lr=float("nan")), ValueError, "lr must be a finite number > 0, got nan"),
    (dict(lr="fast"), TypeError, "lr must be a number"),
    (dict(epochs=0), ValueError, "epochs must be at least 1, got 0"),
    (dict(epochs=2.5), TypeError, "epochs must be an integer"),
    (dict(anneal=0.0), ValueError, r"anneal must be in \(0, 1\]"),
    (dict(anneal=1.5), ValueError, r"anneal must be in \(0, 1\]"),
    (dict(anneal=float("nan")), ValueError, r"anneal must be in \(0, 1\]"),
    (dict(batch_size=0), ValueError, "batch_size must be at least 1"),
    (dict(seed=None), TypeError, "seed must be an int"),
    (dict(callbacks=[print, 3]), TypeError, "callbacks must be callables"),
]


@pytest.mark.parametrize("kwargs,error,match", BAD)
def test_bad_arguments_are_rejected_before_training(kwargs, error, match):
    inputs, targets = xor_data()
    net = TwoLayerNet(2, 3, 1, seed=0)
    before = copy.deepcopy(net.state_dict())
    with pytest.raises(error, match=match):
        fit(net, inputs, targets, **({"lr": 1.0, "epochs": 1} | kwargs))
    for name, value in net.state_dict().items():
        assert torch.equal(value, before[name])


def _with(tensor, row, col, value):
    tensor = tensor.clone()
    tensor[row, col] = value
    return tensor


@pytest.mark.parametrize("make,error,match", [
    (lambda x, t: (_with(x, 3, 1, float("nan")), t), ValueError,
     r"inputs contains NaN or inf \(first at row 3, column 1\)"),
    (lambda x, t: (x, _with(t, 0, 0, float("inf"))), ValueError, "targets contains NaN or inf"),
    (lambda x, t: (x[:-1], t), ValueError, "inputs has 19 observations but targets has 20"),
    (lambda x, t: (x[:, :1], t), ValueError, "inputs has 1 columns but the model expects 2"),
    (lambda x, t: (x.unsqueeze(0), t), ValueError, "inputs must be a 2-D"),
    (lambda x, t: (x[:0], t[:0]), ValueError, "the dataset is empty"),
    (lambda x, t: (x, torch.cat([t, t], 1)), ValueError, "targets has 2 columns but the model expects 1"),
    (lambda x, t: ("abc", t), TypeError, "inputs must be a tensor or array of numbers"),
    (lambda x, t: (x.to(torch.complex64), t), TypeError, "inputs must be real-valued"),
])
def test_bad_data_is_rejected_before_training(make, error, match):
    inputs, targets = make(*xor_data())
    net = TwoLayerNet(2, 3, 1, seed=0)
    before = copy.deepcopy(net.state_dict())
    with pytest.raises(error, match=match):
        fit(net, inputs, targets, lr=1.0, epochs=1)
    for name, value in net.state_dict().items():
        assert torch.equal(value, before[name])


def test_divergence_stops_with_the_epoch_and_keeps_the_last_good_parameters():
    x, y = data.regression("abs", n=50)
    net = TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=0, dtype=torch.float32)
    seen = []
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch (\d+).*smaller lr") as info:
        fit(net, x, 10 * y, lr=0.8, epochs=50, callbacks=lambda s: seen.append(
            [p.detach().clone() for p in s.model.parameters()]))
    epoch = int(re.search(r"epoch (\d+)", str(info.value)).group(1))
    assert len(seen) == epoch - 1
    for p in net.parameters():
        assert torch.isfinite(p).all()
    assert epoch > 1, "pick settings that diverge after a finished epoch"
    for p, q in zip(net.parameters(), seen[-1]):  # as at the end of the last finished epoch
        assert torch.equal(p.detach(), q)


@pytest.mark.parametrize("device", DEVICES)
def test_data_moves_to_the_model_device_and_dtype(device):
    inputs, targets = xor_data()  # float64 on the CPU
    net = TwoLayerNet(2, 3, 1, seed=0, dtype=torch.float32, device=device)
    history = fit(net, inputs, targets, lr=2.0, epochs=2)
    assert net.hidden.weight.dtype == torch.float32
    assert net.hidden.weight.device.type == device
    assert all(math.isfinite(v) for v in history.loss)
