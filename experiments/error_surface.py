"""Figure 4 of the seed: error surfaces of the smallest networks.

Input x = 1, target t = 1, sigmoid units, no biases. The one-weight net
computes a = σ(w·x); the two-weight net puts one hidden unit in between,
a = σ(w₂·σ(w₁·x)). We evaluate E = ½(a − t)² over a 50 x 50 grid of weights on
[-10, 10]² in one batched pass through our sigmoid Function, and draw E(w) as
a curve and E(w₁, w₂) as a 3-D surface and a contour map.

Beyond the seed: from each ``--start W1 W2`` we run plain gradient descent on
the two-weight net (gradients from autograd through our Functions) and draw
its path. The defaults show both faces of the plateaus the seed describes:
from (-6, 2) descent crawls along the flat E = 0.125 shelf (where σ(w₁) ≈ 0,
so a ≈ σ(0) = 0.5) and then escapes to the minimum; from (2, -6) it slides
down onto that shelf and stays there.

    python -m experiments.error_surface [--start -6 2 --start 2 -6] [--lr 5] [--steps 400]
"""

from __future__ import annotations

import argparse
import math
from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from experiments.flags import (int_at_least, learning_rate, make_run_dir, non_negative_int,
                               output_parser, positive_float)
from experiments.recorder import record_figure
from torchann.functional import sigmoid

X, T = 1.0, 1.0


def error_one_weight(w: torch.Tensor) -> torch.Tensor:
    """E(w) for a = σ(w·x), elementwise over any shape of w."""
    return 0.5 * (sigmoid(w * X) - T) ** 2


def error_two_weights(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """E(w1, w2) for a = σ(w2·σ(w1·x)), elementwise over broadcast w1, w2."""
    return 0.5 * (sigmoid(w2 * sigmoid(w1 * X)) - T) ** 2


def descend(start: tuple[float, float], lr: float, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient descent on E(w1, w2) from ``start``; returns the path (steps+1, 2) and E along it."""
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    path, errors = [w.detach().clone()], []
    for _ in range(steps):
        error = error_two_weights(w[0], w[1])
        (grad,) = torch.autograd.grad(error, w)
        errors.append(error.detach())
        with torch.no_grad():
            w -= lr * grad
        path.append(w.detach().clone())
    errors.append(error_two_weights(w[0], w[1]).detach())
    return torch.stack(path), torch.stack(errors)


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def build_parser():
    parser = output_parser("python -m experiments.error_surface", __doc__.splitlines()[0])
    parser.add_argument("--grid", type=int_at_least(2), default=50, help="grid points per weight axis")
    parser.add_argument("--extent", type=positive_float, default=10.0,
                        help="weights range over [-EXTENT, EXTENT]")
    parser.add_argument("--start", type=_finite_float, nargs=2, action="append", default=None,
                        metavar=("W1", "W2"),
                        help="where a gradient-descent path starts (repeat for several; "
                             "default: -6 2 and 2 -6)")
    parser.add_argument("--lr", type=learning_rate, default=5.0, help="gradient-descent step size")
    parser.add_argument("--steps", type=non_negative_int, default=400, help="gradient-descent steps (0 = no path)")
    return parser


def error_surface_figure(w: np.ndarray, error_1: np.ndarray, w1: np.ndarray, w2: np.ndarray,
                         error_2: np.ndarray,
                         paths: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> Figure:
    """Figure 4: E(w) of the one-weight net and E(w1, w2) of the two-weight net.

    Three panels: the 1-D error curve; the 2-D error surface in 3-D; the same
    surface seen from above as contours. Each of ``paths`` is a
    gradient-descent trajectory, (steps, 2) weights and (steps,) errors, drawn
    on the surface and on the contours.
    """
    figure = Figure(figsize=(15, 4.8), layout="constrained")
    curve = figure.add_subplot(1, 3, 1)
    surface = figure.add_subplot(1, 3, 2, projection="3d")
    contour = figure.add_subplot(1, 3, 3)

    curve.plot(w, error_1, color="tab:red", linewidth=2)
    curve.set_xlabel("w")
    curve.set_ylabel("E(w)")
    curve.set_title("1-layer net: a = σ(w·x)")
    curve.grid(True, alpha=0.3)

    surface.plot_surface(w1, w2, error_2, cmap="hot_r", linewidth=0.2, edgecolor="k", alpha=0.8,
                         vmin=0, vmax=float(error_2.max()))
    surface.set_xlabel("$w_1$")
    surface.set_ylabel("$w_2$")
    surface.set_title("2-layer net: a = σ(w₂·σ(w₁·x)), height E")
    surface.view_init(elev=30, azim=45)

    filled = contour.contourf(w1, w2, error_2, levels=30, cmap="hot_r")
    figure.colorbar(filled, ax=contour, label="E(w₁, w₂)", shrink=0.85)
    contour.set_xlabel("$w_1$")
    contour.set_ylabel("$w_2$")
    contour.set_aspect("equal")
    contour.set_title("from above, with gradient-descent paths")
    colours = ["tab:blue", "tab:green", "tab:purple", "tab:cyan"]
    for i, (path, errors) in enumerate(paths):
        colour = colours[i % len(colours)]
        label = f"from ({path[0, 0]:g}, {path[0, 1]:g}): E {errors[0]:.3f} → {errors[-1]:.3f}"
        contour.plot(path[:, 0], path[:, 1], color=colour, linewidth=2, label=label)
        contour.plot(path[0, 0], path[0, 1], "o", color=colour)
        contour.plot(path[-1, 0], path[-1, 1], "*", color=colour, markersize=13,
                     markeredgecolor="k")
        surface.plot(path[:, 0], path[:, 1], errors + 0.01, color=colour, linewidth=2.5, zorder=10)
    if len(paths):
        contour.plot([], [], "o", color="0.4", label="start of a path")
        contour.plot([], [], "*", color="0.4", markersize=11, markeredgecolor="k",
                     label="end of a path")
        contour.legend(loc="lower left", fontsize=8)
        contour.set_xlim(float(w1.min()), float(w1.max()))
        contour.set_ylim(float(w2.min()), float(w2.max()))
    figure.suptitle("Figure 4: error surfaces for input x = 1 and target t = 1 "
                    "(sigmoid units, no biases, E = ½(a − t)²)")
    return figure


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    run_dir = make_run_dir(parser, "error_surface", args)

    axis = torch.linspace(-args.extent, args.extent, args.grid, dtype=torch.float64)
    w1, w2 = torch.meshgrid(axis, axis, indexing="xy")
    with torch.no_grad():  # the whole grid in one batched pass each
        e1 = error_one_weight(axis)
        e2 = error_two_weights(w1, w2)
    starts = args.start or [[-6.0, 2.0], [2.0, -6.0]]
    summary = {"grid": args.grid, "extent": args.extent,
               "one_weight": {"min": float(e1.min()), "max": float(e1.max())},
               "two_weights": {"min": float(e2.min()), "max": float(e2.max())},
               "descent": []}
    paths, scalars = [], {}
    for index, start in enumerate(starts if args.steps else []):
        path, errors = descend(tuple(start), args.lr, args.steps)
        paths.append((path.numpy(), errors.numpy()))
        summary["descent"].append({"start": start, "lr": args.lr, "steps": args.steps,
                                   "end": path[-1].tolist(), "start_error": float(errors[0]),
                                   "end_error": float(errors[-1])})
        scalars[f"descent{index}/error"] = errors.tolist()
        if not args.quiet:
            print(f"gradient descent from ({start[0]:g}, {start[1]:g}): E {float(errors[0]):.4f} "
                  f"-> {float(errors[-1]):.4f} after {args.steps} steps, ending at "
                  f"({path[-1, 0]:.2f}, {path[-1, 1]:.2f})")
    figure = error_surface_figure(axis.numpy(), e1.numpy(), w1.numpy(), w2.numpy(), e2.numpy(),
                                  paths)
    return record_figure("error_surface", args, run_dir, figure, summary, scalars)


if __name__ == "__main__":
    main()
