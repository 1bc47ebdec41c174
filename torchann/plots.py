"""Figures in the style of the seed's: pure functions, data in, ``Figure`` out.

Nothing here trains or writes files; callers save the figure or log it to
TensorBoard. Figures are built with ``matplotlib.figure.Figure`` directly
(not ``pyplot``), so they work headless and never leak global state.
"""

from __future__ import annotations

from typing import Sequence

import torch
from matplotlib.figure import Figure
from torch import nn

__all__ = ["decision_region_figure", "plot_decision_region", "plot_loss_curve"]


@torch.no_grad()
def _grid_outputs(model: nn.Module, extent: tuple[float, float], resolution: int):
    parameter = next(model.parameters())
    axis = torch.linspace(extent[0], extent[1], resolution, dtype=parameter.dtype,
                          device=parameter.device)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (resolution², 2)
    out = model(grid)[:, 0].reshape(resolution, resolution)
    return xx.cpu().numpy(), yy.cpu().numpy(), out.cpu().double().numpy()


def plot_decision_region(ax, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *,
                         extent: tuple[float, float] = (-0.2, 1.2), resolution: int = 100,
                         title: str | None = None) -> None:
    """Filled contours of the network's output over a square, with the data on top.

    As in the seed: class-1 points white, class-0 points black; the colour
    runs from yellow (output near 0) to magenta (output near 1), and a black
    line marks the 0.5 decision boundary.
    """
    xx, yy, out = _grid_outputs(model, extent, resolution)
    filled = ax.contourf(xx, yy, out, levels=20, cmap="spring_r", vmin=0.0, vmax=1.0)
    if out.min() < 0.5 < out.max():
        ax.contour(xx, yy, out, levels=[0.5], colors="k", linewidths=1.5)
    points = inputs.detach().cpu().double().numpy()
    labels = targets.detach().cpu().double().numpy()[:, 0] > 0.5
    ax.scatter(points[~labels, 0], points[~labels, 1], s=18, c="black", label="class 0")
    ax.scatter(points[labels, 0], points[labels, 1], s=18, c="white", edgecolors="black",
               linewidths=0.6, label="class 1")
    ax.set_xlim(*extent)
    ax.set_ylim(*extent)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return filled


def plot_loss_curve(ax, losses: Sequence[float], *, epochs: int | None = None,
                    ylabel: str = "mean squared error  ½(a − t)²") -> None:
    """The per-epoch training loss, like the right-hand panel of the seed's figures."""
    ax.plot(range(1, len(losses) + 1), losses, color="tab:blue", linewidth=1.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if epochs:
        ax.set_xlim(1, max(epochs, 2))
    ax.grid(True, alpha=0.3)


def decision_region_figure(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                           losses: Sequence[float], *, epoch: int | None = None,
                           epochs: int | None = None, suptitle: str | None = None,
                           extent: tuple[float, float] = (-0.2, 1.2)) -> Figure:
    """The seed's two-panel classification figure: decision region | loss curve."""
    figure = Figure(figsize=(10, 4.4), layout="constrained")
    left, right = figure.subplots(1, 2)
    epoch = len(losses) if epoch is None else epoch
    filled = plot_decision_region(left, model, inputs, targets, extent=extent,
                                  title=f"epoch {epoch}")
    figure.colorbar(filled, ax=left, label="network output", shrink=0.85)
    plot_loss_curve(right, losses, epochs=epochs)
    right.set_title("training error")
    if suptitle:
        figure.suptitle(suptitle)
    return figure
