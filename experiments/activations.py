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

import torch

from experiments.flags import make_run_dir, output_parser
from experiments.recorder import record_figure
from torchann.functional import ACTIVATION_NAMES, ACTIVATIONS, canonical_name, get_activation
from torchann.viz.plots import activations_figure


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
