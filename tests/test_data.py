"""The seed's datasets."""

import pytest
import torch
from torch.testing import assert_close

from torchann import data


@pytest.mark.parametrize("gate,labels", [("or", [0, 1, 1, 1]), ("and", [0, 0, 0, 1]),
                                         ("xor", [0, 1, 1, 0])])
def test_logic_gates_label_the_clean_corners(gate, labels):
    inputs, targets = data.logic_gate(gate, repeats=30, noise=0.15, seed=0)
    assert inputs.shape == (120, 2) and targets.shape == (120, 1)
    corners = inputs.round()  # noise of sd 0.15 rarely moves a point half a unit
    table = {(0, 0): labels[0], (0, 1): labels[1], (1, 0): labels[2], (1, 1): labels[3]}
    agree = [table.get((int(a), int(b))) == int(t) for (a, b), t in zip(corners, targets[:, 0])
             if (int(a), int(b)) in table]
    assert sum(agree) / len(agree) > 0.99
    assert sorted(targets[:, 0].tolist()).count(1.0) == 30 * sum(labels)


def test_noise_has_the_requested_spread_and_zero_noise_gives_the_corners():
    inputs, _ = data.logic_gate("xor", repeats=500, noise=0.15, seed=1)
    jitter = inputs - inputs.round()
    assert jitter.std().item() == pytest.approx(0.15, rel=0.05)
    clean, _ = data.logic_gate("xor", repeats=3, noise=0.0)
    assert set(map(tuple, clean.tolist())) == {(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)}


def test_data_is_shuffled_once_and_seeded():
    a = data.logic_gate("xor", seed=3)
    b = data.logic_gate("xor", seed=3)
    c = data.logic_gate("xor", seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    first_labels = a[1][:12, 0].tolist()
    assert first_labels != [0.0, 1.0, 1.0, 0.0] * 3  # not in the unshuffled corner order


def test_ring_has_one_centre_class_surrounded_by_the_other():
    inputs, targets = data.ring(repeats=30, noise=0.0)
    assert inputs.shape == (270, 2)
    centre = (inputs == 0.5).all(dim=1)
    assert (targets[centre] == 0).all() and centre.sum() == 30
    assert (targets[~centre] == 1).all()


@pytest.mark.parametrize("target,f", [("sin", lambda x: 2.5 + torch.sin(x)), ("abs", torch.abs)])
def test_regression_data(target, f):
    x, y = data.regression(target, n=100, noise=0.0)
    assert x.shape == y.shape == (100, 1)
    assert x[0, 0] == -5 and x[-1, 0] == 5
    assert_close(y, f(x))
    _, noisy = data.regression(target, noise=0.5, seed=2)
    assert (noisy - y).std().item() == pytest.approx(0.5, rel=0.2)


@pytest.mark.parametrize("call,match", [
    (lambda: data.logic_gate("nand"), "unknown gate 'nand'; valid gates are: or, and, xor"),
    (lambda: data.regression("cos"), "unknown regression target 'cos'"),
    (lambda: data.logic_gate("or", repeats=0), "repeats must be at least 1"),
    (lambda: data.logic_gate("or", noise=-1), "noise must be a finite number >= 0"),
    (lambda: data.regression("sin", n=0), "n must be at least 1"),
    (lambda: data.regression("sin", low=1, high=0), "low must be below high"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
