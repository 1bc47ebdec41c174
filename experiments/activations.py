"""Figure 2 of the seed: the activation functions and their derivatives.

Every activation of ``torchann.functional.ACTIVATIONS`` (the seed's identity,
logistic sigmoid and tanh, plus relu and softplus) on z in [-4, 4]. The
derivative curves are what autograd gets by running each Function's backward.
Underneath, as wide faint lines, each table row's g'(z) written with the
output, e.g. σ' = a(1 − a) evaluated at a = σ(z): where the two coincide the
figure shows that a derivative needs nothing but the unit's output.
``summary.json`` records the largest gap.

    python -m experiments.activations
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from experiments.flags import make_run_dir, output_parser
from experiments.recorder import record_figure
from torchann.functional import ACTIVATION_NAMES, ACTIVATIONS, canonical_name, get_activation


def build_parser():
    parser = output_parser("python -m experiments.activations", __doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", default=list(ACTIVATION_NAMES),
                        help="activations to draw")
    return parser


def derivatives_by_autograd(names, z: torch.Tensor):
    """g(z) and dg/dz for each name, the derivative by backpropagating through our Function."""
    values, derivatives = {}, {}
    for name in names:
        leaf = z.clone().requires_grad_()
        a = get_activation(name)(leaf)
        # Each a_i depends only on z_i, so the gradient of sum(a) is g'(z) elementwise.
        (grad,) = torch.autograd.grad(a.sum(), leaf)
        values[name], derivatives[name] = a.detach(), grad
    return values, derivatives


def activations_figure(z: np.ndarray, values: dict[str, np.ndarray],
                       derivatives: dict[str, np.ndarray],
                       analytic: dict[str, np.ndarray]) -> Figure:
    """Figure 2: each g(z) (left) and g'(z) (right).

    ``derivatives`` should come from autograd through the Functions'
    backward; ``analytic`` (g'(z) written with the output a) is drawn
    underneath as a thick faint line, so the two visibly coincide.
    """
    figure = Figure(figsize=(11, 4.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    colours = {name: f"C{i}" for i, name in enumerate(values)}  # matplotlib's colour cycle
    # Dashed lines for the ones that coincide with another on part of the axis
    # (identity with relu for z > 0, and their derivatives).
    styles = {"identity": (0, (5, 3))}
    for name, g in values.items():
        left.plot(z, g, color=colours.get(name), linewidth=2, linestyle=styles.get(name, "-"),
                  zorder=3 if name in styles else 2, label=f"$g_{{{name}}}(z)$")
    for name, d in derivatives.items():
        colour = colours.get(name)
        right.plot(z, analytic[name], color=colour, linewidth=7, alpha=0.2)
        right.plot(z, d, color=colour, linewidth=1.8, linestyle=styles.get(name, "-"),
                   zorder=3 if name in styles else 2, label=f"$g'_{{{name}}}(z)$")
    left.set_ylim(-1.1, 1.6)
    right.set_ylim(-0.5, 1.1)
    left.set_title("activation functions")
    right.set_title("derivatives from autograd through our backward\n"
                    "(wide faint lines: g'(z) written with the output a)")
    for ax in (left, right):
        ax.set_xlabel("z")
        ax.grid(True, alpha=0.3)
        ax.set_box_aspect(1)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=9,
                  frameon=False)
    return figure


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        names = list(dict.fromkeys(canonical_name(n) for n in args.names))
    except ValueError as error:
        parser.error(str(error))
    run_dir = make_run_dir(parser, "activations", args)
    z = torch.linspace(-4, 4, 401, dtype=torch.float64)
    values, derivatives = derivatives_by_autograd(names, z)
    analytic = {n: ACTIVATIONS[n].derivative(values[n]) for n in names}  # g'(z) from a
    gaps = {n: float((derivatives[n] - analytic[n]).abs().max()) for n in names}
    figure = activations_figure(z.numpy(), {n: v.numpy() for n, v in values.items()},
                                {n: d.numpy() for n, d in derivatives.items()},
                                {n: a.numpy() for n, a in analytic.items()})
    figure.suptitle("Figure 2: activation functions and their derivatives")
    if not args.quiet:
        for n, gap in gaps.items():
            print(f"{n:>9}: max |autograd g'(z) − table g'(a)| on [-4, 4] = {gap:.2e}")
    return record_figure("activations", args, run_dir, figure,
                         {"max_derivative_gap": gaps, "z_range": [-4, 4], "points": len(z)})


if __name__ == "__main__":
    main()
