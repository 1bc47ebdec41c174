"""Per-neuron views: the pictures show what each hidden unit computes, and add up."""

import numpy as np
import torch

from torchann import MLP, TwoLayerNet, data, fit
from torchann.train import EpochEnd, History
from torchann.viz.neurons import hidden_units_figure, supports_hidden_units


def state_of(net, inputs, targets):
    return EpochEnd(7, 10, 0.1, 1.0, None, net, inputs, targets, History())


def test_regression_view_adds_the_weighted_hidden_units_and_bias_up_to_the_output():
    x, t = data.regression("abs", n=30, seed=1)
    net = TwoLayerNet(1, 3, 1, hidden="tanh", output="identity", seed=2, dtype=torch.float64)
    figure = hidden_units_figure(state_of(net, x, t))
    ax = figure.axes[0]
    dashed = [l for l in ax.get_lines() if l.get_linestyle() == "--"]
    bias = [l for l in ax.get_lines() if l.get_linestyle() == ":"][0]
    total = [l for l in ax.get_lines() if l.get_linestyle() == "-"][0]
    assert len(dashed) == 3  # one curve per hidden unit
    xs = total.get_xdata()
    summed = sum(l.get_ydata() for l in dashed) + bias.get_ydata()[0]
    np.testing.assert_allclose(summed, total.get_ydata(), rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        expected = net(torch.tensor(xs, dtype=torch.float64).unsqueeze(1))[:, 0].numpy()
    np.testing.assert_allclose(total.get_ydata(), expected, rtol=1e-12, atol=1e-12)


def test_plane_view_has_a_panel_per_hidden_unit_and_the_output():
    x, t = data.logic_gate("xor", repeats=3)
    net = TwoLayerNet(2, 4, 1, seed=0)
    figure = hidden_units_figure(state_of(net, x, t))
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert [s.split(":")[0] for s in titles[:4]] == [f"hidden unit {j}" for j in range(1, 5)]
    assert titles[4].startswith("output")
    for j, title in enumerate(titles[:4]):  # each panel names the unit's weight to the output
        assert f"{float(net.output.weight.detach()[j, 0]):+.2f}" in title


def test_only_one_hidden_layer_one_output_and_one_or_two_inputs_are_drawn():
    assert supports_hidden_units(TwoLayerNet(2, 3, 1)) and supports_hidden_units(TwoLayerNet(1, 3, 1))
    assert not supports_hidden_units(MLP([2, 1]))
    assert not supports_hidden_units(MLP([2, 3, 3, 1]))
    assert not supports_hidden_units(MLP([4, 3, 1]))


def test_the_ready_made_figures_title_the_last_epoch_of_a_loss_curve():
    """``History.loss_curve()`` starts at epoch 0: after 3 epochs it has 4 points."""
    from torchann.viz.plots import decision_region_figure, regression_figure
    x, t = data.logic_gate("xor", repeats=1)
    net = TwoLayerNet(2, 3, 1)
    history = fit(net, x, t, lr=1.0, epochs=3)
    figure = decision_region_figure(net, x, t, history.loss_curve())
    assert "epoch 3" in [ax.get_title() for ax in figure.axes]
    xr, yr = data.regression("sin", n=10)
    reg = TwoLayerNet(1, 3, 1, hidden="tanh", output="identity")
    history = fit(reg, xr, yr, lr=0.1, epochs=3)
    figure = regression_figure(reg, xr, yr, data.regression_function("sin"), history.loss_curve())
    assert "epoch 3" in [ax.get_title() for ax in figure.axes]
