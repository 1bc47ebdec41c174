"""Per-neuron views: what each hidden unit of a two-layer net computes.

The seed's nets have one hidden layer, and the output is built from its units:
z_out = Σ_j w_j a_j + b. These figures draw each a_j separately.

* Two inputs (logic, XOR, ring): one panel per hidden unit with a_j(x₁, x₂)
  over the input plane and the line where z_j = 0 (the unit's own linear
  boundary), then the output with its 0.5 decision boundary. The output's
  curved boundary is the output unit's combination of those straight lines.
* One input (regression): each hidden unit's weighted contribution
  w_j a_j(x), the bias b, and their sum, which is the network's curve.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from torchann.train import EpochEnd

__all__ = ["supports_hidden_units", "draw_hidden_units", "hidden_units_figure"]


def supports_hidden_units(model: nn.Module) -> bool:
    """One hidden layer, one output unit, and one or two inputs."""
    layers = getattr(model, "layers", ())
    return len(layers) == 2 and layers[1].n_out == 1 and layers[0].n_in in (1, 2)


def draw_hidden_units(figure: Figure, state: EpochEnd, loss_ylim=None) -> None:
    """Draw the per-neuron view of ``state.model`` into ``figure`` (a ``draw`` for animations)."""
    hidden, output = state.model.layers
    if hidden.n_in == 2:
        _draw_plane(figure, hidden, output, state)
    else:
        _draw_line(figure, hidden, output, state)


def hidden_units_figure(state: EpochEnd, title: str | None = None) -> Figure:
    figure = Figure(figsize=figure_size(state.model))
    draw_hidden_units(figure, state)
    if title:
        figure.suptitle(title)
    return figure


def figure_size(model: nn.Module) -> tuple[float, float]:
    hidden = model.layers[0]
    return (3.0 * (hidden.n_out + 1) + 1.0, 3.6) if hidden.n_in == 2 else (9.0, 5.0)


@torch.no_grad()
def _draw_plane(figure: Figure, hidden, output, state: EpochEnd, extent=(-0.2, 1.2), steps=80):
    p = hidden.weight
    axis = torch.linspace(*extent, steps, dtype=p.dtype, device=p.device)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    z = grid @ hidden.weight + hidden.bias                    # (steps², n_hidden)
    a = hidden.g(z)
    out = output.g(a @ output.weight + output.bias)[:, 0]
    points = state.inputs.detach().cpu().double().numpy()
    labels = state.targets.detach().cpu().double().numpy()[:, 0] > 0.5
    n = hidden.n_out
    axes = figure.subplots(1, n + 1)
    figure.subplots_adjust(left=0.04, right=0.92, bottom=0.16, top=0.78, wspace=0.25)
    low, high = (-1.0, 1.0) if hidden.activation == "tanh" else (0.0, 1.0)
    shape = (steps, steps)
    X, Y = xx.cpu().numpy(), yy.cpu().numpy()
    for j, ax in enumerate(axes[:n]):
        filled = ax.contourf(X, Y, a[:, j].reshape(shape).cpu().double().numpy(),
                             levels=np.linspace(low, high, 21), cmap="viridis", extend="both")
        zj = z[:, j].reshape(shape).cpu().double().numpy()
        if zj.min() < 0 < zj.max():
            ax.contour(X, Y, zj, levels=[0.0], colors="white", linewidths=1.5)
        w = float(output.weight[j, 0])
        ax.set_title(f"hidden unit {j + 1}: $a_{j + 1}$\nweight to output {w:+.2f}", fontsize=9)
    hidden_bar = figure.colorbar(filled, ax=list(axes[:n]), shrink=0.8, pad=0.02,
                                 ticks=[low, (low + high) / 2, high])
    hidden_bar.set_label("hidden unit output $a_j$ (white line: $z_j = 0$)", fontsize=8)
    ax = axes[n]
    o = out.reshape(shape).cpu().double().numpy()
    filled = ax.contourf(X, Y, o, levels=np.linspace(0, 1, 21), cmap="spring_r", extend="both")
    if o.min() < 0.5 < o.max():
        ax.contour(X, Y, o, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(points[~labels, 0], points[~labels, 1], s=8, c="black", label="class 0")
    ax.scatter(points[labels, 0], points[labels, 1], s=8, c="white", edgecolors="black",
               linewidths=0.4, label="class 1")
    bias = float(output.bias[0, 0])
    ax.set_title(f"output $a = {output.activation}(\\Sigma_j w_j a_j + b)$, b = {bias:+.2f}\n"
                 "black line: a = 0.5; dots: targets 0 (black) and 1 (white)", fontsize=9)
    figure.colorbar(filled, ax=ax, shrink=0.8, pad=0.04, ticks=[0, 0.5, 1]).set_label(
        "network output", fontsize=8)
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xlim(*extent)
        ax.set_ylim(*extent)
        ax.set_xlabel("$x_1$", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("$x_2$", fontsize=8)
    figure.text(0.01, 0.02, f"epoch {state.epoch}: each hidden unit divides the plane along its "
                "own straight line; the output unit combines them", fontsize=9)


@torch.no_grad()
def _draw_line(figure: Figure, hidden, output, state: EpochEnd, steps=200):
    p = hidden.weight
    x_data = state.inputs.detach()
    lo, hi = float(x_data.min()), float(x_data.max())
    x = torch.linspace(lo, hi, steps, dtype=p.dtype, device=p.device).unsqueeze(1)
    a = hidden.g(x @ hidden.weight + hidden.bias)               # (steps, n_hidden)
    parts = a * output.weight[:, 0]                              # w_j a_j(x)
    bias = float(output.bias[0, 0])
    total = output.g(parts.sum(dim=1, keepdim=True) + bias)[:, 0]
    xs = x[:, 0].cpu().double().numpy()
    ax = figure.subplots(1, 1)
    figure.subplots_adjust(left=0.08, right=0.72, bottom=0.12, top=0.88)
    ax.scatter(x_data[:, 0].cpu().double().numpy(),
               state.targets.detach()[:, 0].cpu().double().numpy(), s=10, facecolors="none",
               edgecolors="0.6", label="targets")
    for j in range(hidden.n_out):
        w = float(output.weight[j, 0])
        ax.plot(xs, parts[:, j].cpu().double().numpy(), linestyle="--", linewidth=1.6,
                color=f"C{j}", label=f"$w_{j + 1} a_{j + 1}(x)$, w = {w:+.2f}")
    ax.axhline(bias, color="0.4", linestyle=":", linewidth=1.4, label=f"bias b = {bias:+.2f}")
    label = "sum = network output" if output.activation == "identity" else \
        f"network output = {output.activation}(sum)"
    ax.plot(xs, total.cpu().double().numpy(), color="k", linewidth=2.2, label=label)
    ax.set_xlabel("x")
    ax.set_title(f"epoch {state.epoch}: the output is $\\Sigma_j w_j a_j(x) + b$, "
                 "the hidden units' weighted curves added up", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
