"""Figures 12 and 13 of the seed: nonlinear regression with three tanh units.

100 evenly spaced x on [-5, 5], targets f(x) + Gaussian noise (sd 0.5), with
f(x) = 2.5 + sin(x) (``--target sin``, Figure 12) or |x| (``--target abs``,
Figure 13). A 1-3-1 network -- tanh hidden units, an identity output, so the
output is a weighted sum of three tanh curves plus a bias -- is trained online
in increasing-x order (as the seed does) with η = 0.15 for 200 epochs,
multiplying η by 0.99 after every epoch (the seed's annealing).

Whether a fit succeeds depends on the random start: some starts leave a unit
stuck and the loss plateaus. A fit counts as a success when the network's
curve is within mean squared error 0.1 of the true f. ``--sweep N`` trains
seeds 0..N-1 and prints how often that happens. The default seed is 1, a
start whose fits succeed for both targets (seed 0's |x| fit gets stuck; see the
README for the measured rates).

    python -m experiments.regression --target sin|abs [--animate] [--help]
    python -m experiments.regression --target abs --sweep 20
"""

from __future__ import annotations

from dataclasses import replace

import torch

from experiments.common import Experiment, Settings, check_run_fits, run_experiment
from experiments.flags import (int_at_least, non_negative_float, non_negative_int,
                               training_parser)
from experiments.recorder import Results
from torchann import TwoLayerNet, data, fit
from torchann.viz.plots import draw_regression

FIGURES = {"sin": "Figure 12: f(x) = 2.5 + sin(x)", "abs": "Figure 13: f(x) = |x|"}
SUCCESS_MSE = 0.1


def build_parser():
    parser = training_parser("python -m experiments.regression", __doc__.splitlines()[0],
                             epochs=200, lr=0.15, anneal=0.99, hidden=3)
    parser.set_defaults(seed=1)
    group = parser.add_argument_group("data")
    group.add_argument("--target", choices=data.REGRESSION_TARGETS, default="sin",
                       help="the function to learn")
    group.add_argument("--points", type=int_at_least(2), default=100, help="observations on [-5, 5]")
    group.add_argument("--noise", type=non_negative_float, default=0.5,
                       help="standard deviation of the noise on the targets")
    group.add_argument("--order", choices=["sorted", "shuffled"], default="sorted",
                       help="train in increasing x (the seed's order) or in one random order")
    group.add_argument("--sweep", type=non_negative_int, default=0, metavar="N",
                       help="instead of one run, train seeds 0..N-1 and report the success rate")
    return parser


DATA_KEYS = ("target", "points", "noise", "order")


def make_data(settings: Settings):
    d = settings.data
    x, y = data.regression(d["target"], n=d["points"], noise=d["noise"], seed=settings.seed)
    if d["order"] == "shuffled":
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(settings.seed))
        x, y = x[order], y[order]
    return x, y


def make_model(settings: Settings):
    return TwoLayerNet(1, settings.hidden, 1, hidden="tanh", output="identity",
                       seed=settings.seed, dtype=settings.torch_dtype)


def make_draw(settings: Settings):
    f = data.regression_function(settings.data["target"])

    def draw(figure, state, loss_ylim=None):
        draw_regression(figure, state.model, state.inputs, state.targets, f,
                        state.history.loss_curve(),
                        epoch=state.epoch, epochs=state.epochs, loss_ylim=loss_ylim)
    return draw


@torch.no_grad()
def fit_errors(model, target: str, points: int = 100) -> torch.Tensor:
    """Mean squared distance between the network's curve and the true f on [-5, 5].

    A 0-dim tensor for one net; one value per member, (K,), for an Ensemble.
    """
    p = next(model.parameters())
    x = torch.linspace(-5, 5, points, dtype=p.dtype, device=p.device).unsqueeze(1)
    with torch.no_grad():
        return ((model(x) - data.regression_function(target)(x)) ** 2).mean(dim=(-2, -1))


def fit_error(model, target: str, points: int = 100) -> float:
    """:func:`fit_errors` of a single net, as a number."""
    return float(fit_errors(model, target, points))


def measure(model, settings: Settings) -> Results:
    mse = fit_error(model, settings.data["target"])
    return Results({"fit_mse": mse, "fit_success": mse < SUCCESS_MSE})


def sweep(settings: Settings) -> dict:
    """Train seeds 0..N-1 (no files written) and report the fit error of each."""
    errors, target = {}, settings.data["target"]
    for seed in range(settings.data["sweep"]):
        seeded = replace(settings, seed=seed)
        x, y = make_data(seeded)
        model = make_model(seeded)
        fit(model, x, y, lr=settings.lr, epochs=settings.epochs, anneal=settings.anneal,
            batch_size=settings.batch_size, shuffle=False)
        errors[seed] = fit_error(model, target)
        if not settings.quiet:
            verdict = "success" if errors[seed] < SUCCESS_MSE else "stuck"
            print(f"seed {seed:>3}  fit MSE {errors[seed]:.4f}  {verdict}", flush=True)
    successes = sum(e < SUCCESS_MSE for e in errors.values())
    rate = successes / len(errors)
    print(f"{target}: {successes}/{len(errors)} seeds ({100 * rate:.0f}%) fit f within "
          f"MSE {SUCCESS_MSE} ({settings.data['order']} order, {settings.epochs} epochs, "
          f"lr {settings.lr}, anneal {settings.anneal})")
    return {"target": target, "errors": errors, "success_rate": rate}


EXPERIMENT = Experiment(
    lambda flags: f"regression-{flags['target']}", build_parser(), make_data, make_model,
    title=lambda s: f"{FIGURES[s.data['target']]}, 1-3-1 network (tanh hidden units, "
                    "identity output)",
    draw=make_draw, data_keys=DATA_KEYS, measure=measure)


def main(argv=None) -> dict:
    parser = EXPERIMENT.parser
    args, _ = parser.parse(argv)
    if args.sweep and args.resume is not None:
        parser.error("--sweep cannot be combined with --resume: a sweep trains fresh nets "
                     "and writes no run folder")
    if args.sweep:
        settings = Settings.from_flags(f"regression-{args.target}", args, (*DATA_KEYS, "sweep"))
        try:
            check_run_fits(settings)
        except ValueError as error:
            parser.error(str(error))
        return sweep(settings)
    summary = run_experiment(EXPERIMENT, argv)
    if not summary["config"]["quiet"]:
        print(f"fit MSE against the true f: {summary['fit_mse']:.4f} "
              f"({'success' if summary['fit_success'] else 'stuck'}: threshold {SUCCESS_MSE})")
    return summary


if __name__ == "__main__":
    main()
