"""The figures of ``python -m experiments.restarts``: how often a random start succeeds,
the final loss of every restart, and a few restarts' decision regions side by side."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from torch import nn

from torchann.viz.plots import plot_decision_region


def success_rate_figure(panels: dict[str, dict[str, tuple[Sequence[float], Sequence[float]]]],
                        title: str | None = None) -> Figure:
    """One panel per sweep: success rate (y) against the swept value (x), a line per task.

    ``panels`` maps a panel's x-axis label to {task: (x values, success rates)}.
    A label containing "learning rate" gets a log x-axis.
    """
    figure = Figure(figsize=(5.2 * len(panels), 4.2), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (xlabel, curves) in zip(axes, panels.items()):
        for task, (xs, rates) in curves.items():
            xs = list(xs)
            # Two settings (annealing on/off) are a comparison, not a trend: no line between.
            ax.plot(xs, [100 * r for r in rates], marker="o", linewidth=2 if len(xs) > 2 else 0,
                    markersize=7, label=task)
            if all(float(x).is_integer() for x in xs):
                ax.set_xticks(sorted(set(xs)))
            elif len(xs) <= 2:
                ax.set_xticks(sorted(set(xs)), [f"{x:g}" for x in sorted(set(xs))])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("restarts that succeed (%)")
        ax.set_ylim(-3, 103)
        if "learning rate" in xlabel:
            ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9)
    if title:
        figure.suptitle(title)
    return figure


def loss_histogram_figure(final_losses: dict[str, Sequence[float]],
                          title: str | None = None) -> Figure:
    """Histograms of members' final losses on a log scale: solved runs and plateaus show as modes."""
    figure = Figure(figsize=(5.2 * len(final_losses), 4.0), layout="constrained")
    axes = figure.subplots(1, len(final_losses), squeeze=False)[0]
    for ax, (task, losses) in zip(axes, final_losses.items()):
        values = np.asarray([v for v in losses if np.isfinite(v) and v > 0])
        if values.size:
            bins = np.logspace(np.log10(values.min()), np.log10(values.max()) + 1e-9, 40)
            ax.hist(values, bins=bins, color="tab:blue", alpha=0.85)
        ax.set_xscale("log")
        # Ticks at 1, 2 and 5 per decade, and no minor labels: those overprint each other.
        wide = values.size and values.max() > 30 * values.min()  # over 1.5 decades: 10^k only
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))  # short
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel("final training loss (log scale)")
        ax.set_ylabel("restarts")
        ax.set_title(f"{task}: {len(losses)} restarts")
        ax.grid(True, alpha=0.3)
    if title:
        figure.suptitle(title)
    return figure


def members_figure(nets: Sequence[nn.Module], labels: Sequence[str], inputs: torch.Tensor,
                   targets: torch.Tensor, *, title: str | None = None,
                   columns: int = 4) -> Figure:
    """Small decision-region panels, one per network (e.g. stuck restarts next to solved ones)."""
    rows = max(1, -(-len(nets) // columns))
    figure = Figure(figsize=(3.0 * columns, 3.1 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).flatten()
    for ax, net, label in zip(axes, nets, labels):
        plot_decision_region(ax, net, inputs, targets, resolution=60, title=label)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes[len(nets):]:
        ax.set_visible(False)
    if title:
        figure.suptitle(title)
    return figure
