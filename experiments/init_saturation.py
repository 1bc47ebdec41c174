"""Why the seed's initial weights do not scale: sigmoid units saturate as inputs grow.

With weights drawn from U(-0.5, 0.5), a unit's input z = Σ_i a_i w_i + b has a
standard deviation that grows like √n_in (about 0.29·√n_in for standardised
inputs). Once a layer has hundreds of inputs most |z| are large, σ'(z) =
a(1 − a) is close to 0, and those units barely learn. Glorot/Xavier weights
(U(±√(6/(n_in + n_out)))) scale with the layer size and keep z in the range
where the sigmoid still has a slope.

For layers of 100 sigmoid units fed standardised random inputs, this draws the
fraction of saturated units (σ'(z) < 0.01, i.e. |z| > 4.6) and the mean slope
σ'(z) against the number of inputs, for both initialisations, and writes
``figure.png`` and ``summary.json``.

    python -m experiments.init_saturation
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from experiments.flags import make_run_dir, output_parser, positive_int
from experiments.recorder import record_figure
from torchann.nn import initial_weights

WIDTHS = [2, 5, 10, 30, 100, 300, 1000, 3000]


def build_parser():
    parser = output_parser("python -m experiments.init_saturation", __doc__.splitlines()[0])
    parser.add_argument("--units", type=positive_int, default=100, help="units in the layer")
    parser.add_argument("--samples", type=positive_int, default=500, help="random input vectors")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def slopes(n_in: int, units: int, samples: int, init: str, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, n_in, generator=g, dtype=torch.float64)
    weight, bias = initial_weights(n_in, units, init, g)
    a = torch.sigmoid(x @ weight + bias)
    return a * (1 - a)                       # σ'(z) for every (sample, unit)


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    run_dir = make_run_dir(parser, "init_saturation", args)
    results = {}
    for init in ("uniform", "xavier"):
        results[init] = {n: slopes(n, args.units, args.samples, init, args.seed) for n in WIDTHS}
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    summary = {}
    for init, label in (("uniform", "the tutorial's U(−0.5, 0.5)"), ("xavier", "Glorot/Xavier")):
        saturated = [float((results[init][n] < 0.01).double().mean()) for n in WIDTHS]
        mean_slope = [float(results[init][n].mean()) for n in WIDTHS]
        left.plot(WIDTHS, [100 * s for s in saturated], "o-", label=label)
        right.plot(WIDTHS, mean_slope, "o-", label=label)
        summary[init] = {"inputs": WIDTHS, "saturated_fraction": saturated,
                         "mean_slope": mean_slope}
        if not args.quiet:
            for n, s, m in zip(WIDTHS, saturated, mean_slope):
                print(f"{init:>7}  {n:>5} inputs: {100 * s:5.1f}% of units saturated, "
                      f"mean σ'(z) {m:.4f}")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("inputs to the layer")
        ax.grid(True, alpha=0.3)
        ax.legend()
    left.set_ylabel("saturated units, σ'(z) < 0.01 (%)")
    right.set_ylabel("mean slope σ'(z) (at most 0.25)")
    figure.suptitle("Sigmoid units at initialisation: the seed's weights saturate wide layers")
    return record_figure("init_saturation", args, run_dir, figure, summary)


if __name__ == "__main__":
    main()
