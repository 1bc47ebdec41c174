"""Figures in the style of the seed's: pure functions, data in, ``Figure`` out.

Nothing here trains or writes files; callers save the figure, log it to
TensorBoard or animate it. Figures are built on ``matplotlib.figure.Figure``
directly (not ``pyplot``), so they work headless and leave no global state.

Each two-panel training figure has a ``draw_*`` function that draws one frame
into an existing figure (what an animation needs) and a ``*_figure`` function
that makes a new figure and draws into it.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

__all__ = [
    "TRAINING_FIGSIZE", "plot_decision_region", "plot_loss_curve", "draw_classification",
    "decision_region_figure", "draw_regression", "regression_figure", "two_panels",
]

TRAINING_FIGSIZE = (10.0, 4.4)


def two_panels(figure: Figure):
    """Left and right axes of a training figure.

    With no layout engine we place the panels by hand: matplotlib's
    constrained layout doubles the cost of a frame, which matters for
    TensorBoard images and animation frames drawn while training.
    """
    left, right = figure.subplots(1, 2)
    if figure.get_layout_engine() is None:
        figure.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.86, wspace=0.3)
    return left, right


def _first_parameter(model: nn.Module) -> torch.Tensor:
    return next(model.parameters())


@torch.no_grad()
def _grid_outputs(model: nn.Module, extent: tuple[float, float], resolution: int):
    parameter = _first_parameter(model)
    axis = torch.linspace(extent[0], extent[1], resolution, dtype=parameter.dtype,
                          device=parameter.device)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (resolution², 2)
    out = model(grid)[:, 0].reshape(resolution, resolution)
    return xx.cpu().numpy(), yy.cpu().numpy(), out.cpu().double().numpy()


def plot_decision_region(ax, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *,
                         extent: tuple[float, float] = (-0.2, 1.2), resolution: int = 100,
                         title: str | None = None):
    """Filled contours of the network's output over a square, with the data on top.

    As in the seed: class-1 points white, class-0 points black; the colour runs
    from yellow (output near 0) to magenta (output near 1), and a black line
    marks the 0.5 decision boundary. Returns the contour set (for a colorbar).
    """
    xx, yy, out = _grid_outputs(model, extent, resolution)
    filled = ax.contourf(xx, yy, out, levels=np.linspace(0, 1, 21), cmap="spring_r",
                         extend="both")
    if out.min() < 0.5 < out.max():
        ax.contour(xx, yy, out, levels=[0.5], colors="k", linewidths=1.5)
    points = inputs.detach().cpu().double().numpy()
    labels = targets.detach().cpu().double().numpy()[:, 0] > 0.5
    ax.scatter(points[~labels, 0], points[~labels, 1], s=18, c="black", label="target 0")
    ax.scatter(points[labels, 0], points[labels, 1], s=18, c="white", edgecolors="black",
               linewidths=0.6, label="target 1")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8,
              frameon=False, handletextpad=0.2)
    ax.set_xlim(*extent)
    ax.set_ylim(*extent)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return filled


def plot_loss_curve(ax, losses: Sequence[float], *, epochs: int | None = None,
                    ylim: tuple[float, float] | None = None,
                    ylabel: str = "mean of E = ½(a − t)²",
                    val_losses: Sequence[float] | None = None, first_epoch: int = 0,
                    reference: tuple[float, str] | None = None) -> None:
    """The training loss per epoch, like the right-hand panel of the seed's figures.

    ``losses`` is the net's error on the whole training set, starting at
    ``first_epoch`` (0: the untrained net; see ``History.loss_curve``). With
    ``val_losses`` (from epoch 1) the validation loss is drawn over it.
    ``reference`` is a (value, label) drawn as a dashed line to compare against.
    """
    ax.plot(range(first_epoch, first_epoch + len(losses)), losses, color="tab:blue",
            linewidth=1.8, marker="o" if len(losses) == 1 else None, label="train")
    if reference is not None:
        ax.axhline(reference[0], color="0.45", linestyle="--", linewidth=1, label=reference[1])
        ax.legend(loc="center right", fontsize=8)
    if val_losses is not None:
        ax.plot(range(1, len(val_losses) + 1), val_losses, color="tab:orange", linewidth=1.8,
                label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if epochs:
        ax.set_xlim(first_epoch, max(epochs, first_epoch + 1))
    if ylim:
        ax.set_ylim(*ylim)
    else:
        shown = [*losses, *(val_losses or []), *([reference[0]] if reference else [])]
        finite = [v for v in shown if np.isfinite(v)]
        ax.set_ylim(0, 1.12 * max(finite) if finite and max(finite) > 0 else None)
    ax.grid(True, alpha=0.3)
    if val_losses is None:
        ax.set_title("training error (whole training set, end of each epoch)", fontsize=10)
    else:
        ax.legend()
        ax.set_title("training and validation loss")


def draw_classification(figure: Figure, model: nn.Module, inputs: torch.Tensor,
                        targets: torch.Tensor, losses: Sequence[float], *, epoch: int,
                        epochs: int | None = None, title: str | None = None,
                        loss_ylim: tuple[float, float] | None = None,
                        extent: tuple[float, float] = (-0.2, 1.2),
                        reference: tuple[float, str] | None = None) -> None:
    """Draw the seed's classification frame into ``figure``: decision region | loss curve
    (with ``reference``, a (value, label) line on the loss panel)."""
    left, right = two_panels(figure)
    filled = plot_decision_region(left, model, inputs, targets, extent=extent,
                                  title=f"epoch {epoch}")
    if figure.get_layout_engine() is None:
        figure.subplots_adjust(bottom=0.2)
    figure.colorbar(filled, ax=left, label="network output", shrink=0.85, ticks=[0, 0.5, 1])
    plot_loss_curve(right, losses, epochs=epochs, ylim=loss_ylim, reference=reference)
    if title:
        figure.suptitle(title)


def decision_region_figure(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                           losses: Sequence[float], *, epoch: int | None = None,
                           epochs: int | None = None, suptitle: str | None = None,
                           extent: tuple[float, float] = (-0.2, 1.2)) -> Figure:
    """The seed's two-panel classification figure as a new ``Figure``; ``losses`` is the
    loss curve from epoch 0 (``History.loss_curve()``), so by default the net is at its
    last epoch."""
    figure = Figure(figsize=TRAINING_FIGSIZE, layout="constrained")
    draw_classification(figure, model, inputs, targets, losses,
                        epoch=len(losses) - 1 if epoch is None else epoch, epochs=epochs,
                        title=suptitle, extent=extent)
    return figure


@torch.no_grad()
def draw_regression(figure: Figure, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                    f: Callable[[torch.Tensor], torch.Tensor], losses: Sequence[float], *,
                    epoch: int, epochs: int | None = None, title: str | None = None,
                    loss_ylim: tuple[float, float] | None = None,
                    xlim: tuple[float, float] = (-5.0, 5.0)) -> None:
    """Draw the seed's regression frame: f, targets, output and hidden units | loss curve.

    Each dashed curve is one hidden unit's output a_j(x), as in the seed's
    figures; the network output is Σ_j w_j a_j(x) + b, a weighted sum of them.
    For nets with one input, one hidden layer (``model.hidden``) and one output.
    """
    left, right = two_panels(figure)
    p = _first_parameter(model)
    x = torch.linspace(xlim[0], xlim[1], 200, dtype=p.dtype, device=p.device).unsqueeze(1)
    hidden = model.hidden(x)                                    # (200, n_hidden)
    output = model(x)[:, 0]                                      # (200,)
    xs = x[:, 0].cpu().double().numpy()
    left.plot(xs, f(x.cpu().double())[:, 0].numpy(), color="m", linewidth=2, label="f(x)")
    left.scatter(inputs[:, 0].cpu().double().numpy(), targets[:, 0].cpu().double().numpy(), s=14,
                 facecolors="none", edgecolors="m", label="targets")
    left.plot(xs, output.cpu().double().numpy(), color="k", linewidth=2, label="network output")
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for j in range(hidden.shape[1]):
        left.plot(xs, hidden[:, j].cpu().double().numpy(), linestyle="--", linewidth=1.5,
                  color=colours[j % len(colours)],
                  label="hidden unit outputs $a_j(x)$" if j == 0 else None)
    left.set_xlim(*xlim)
    low = min(-1.2, float(targets.min()) - 0.5)
    left.set_ylim(low, max(5.0, float(targets.max()) + 0.5))
    left.set_xlabel("x")
    left.set_title(f"epoch {epoch}")
    # Below the axes: inside, the legend would cover the hidden units' curves.
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8,
                frameon=False)
    if figure.get_layout_engine() is None:
        figure.subplots_adjust(bottom=0.27)
    left.grid(True, alpha=0.3)
    plot_loss_curve(right, losses, epochs=epochs, ylim=loss_ylim)
    if title:
        figure.suptitle(title)


def regression_figure(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                      f: Callable[[torch.Tensor], torch.Tensor], losses: Sequence[float], *,
                      epoch: int | None = None, epochs: int | None = None,
                      suptitle: str | None = None) -> Figure:
    """The seed's two-panel regression figure as a new ``Figure``; ``losses`` is the loss
    curve from epoch 0 (``History.loss_curve()``), so by default the net is at its last epoch."""
    figure = Figure(figsize=TRAINING_FIGSIZE, layout="constrained")
    draw_regression(figure, model, inputs, targets, f, losses,
                    epoch=len(losses) - 1 if epoch is None else epoch, epochs=epochs,
                    title=suptitle)
    return figure
