"""How many hidden units? Train and test error against network size: the overfitting picture.

The seed asks how the number of hidden units relates to overfitting and
generalization. Here one hidden layer of 1 to 256 tanh units (softmax or
sigmoid output, cross-entropy, Glorot/Xavier weights, minibatch SGD) is
trained on a real dataset -- with its full training split, and again with a
small one (``--small``, default 60 examples) -- and we record the final
training and test error of each. With the full split, test error falls with
size and then levels off; with few examples, training error reaches zero
while test error stays high: the net memorises instead of generalising.

Writes ``generalization.png``, ``results.csv`` and ``summary.json``
(and TensorBoard scalars ``<setting>/train_error`` and ``<setting>/test_error``
against the number of hidden units: TensorBoard's step is log₂ of the width
when every width is a power of two, as by default, so the doubling widths are
evenly spaced as in the figure; otherwise it is the width itself). Needs scikit-learn for the real datasets.

    python -m experiments.generalization [--dataset digits] [--epochs 150]
"""

from __future__ import annotations

import contextlib
import csv
import sys

import torch
from matplotlib.figure import Figure

from experiments.flags import learning_rate, make_run_dir, output_parser, positive_int
from experiments.recorder import record_figure
from torchann import MLP, TrainingDiverged, TrainingInterrupted, fit
from torchann.data import datasets
from torchann.losses import get_loss
from torchann.training.metrics import accuracy


def build_parser():
    parser = output_parser("python -m experiments.generalization", __doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=datasets.CLASSIFICATION, default="digits",
                        help="a classification dataset bundled with scikit-learn (or spiral)")
    parser.add_argument("--hidden", type=positive_int, nargs="+",
                        default=[1, 2, 4, 8, 16, 32, 64, 128, 256],
                        help="hidden-layer widths to train, one net each")
    parser.add_argument("--epochs", type=positive_int, default=150, help="passes through the data")
    parser.add_argument("--small", type=positive_int, default=60,
                        help="training examples in the small-training-set setting")
    parser.add_argument("--lr", type=learning_rate, default=0.1, help="learning rate η")
    parser.add_argument("--batch-size", type=positive_int, default=32,
                        help="observations per update")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the split, the initial weights and the shuffling")
    return parser


def error_rate(net, x, t) -> tuple[float, float]:
    """(classification error, cross-entropy) of ``net`` on (x, t): the training loss's own formula."""
    with torch.no_grad():
        out = net(x)
        loss = get_loss("bce" if t.shape[1] == 1 else "ce")(out, t)
    return 1.0 - accuracy(out, t, (0.0, 1.0)), float(loss)


def _give_up(stop: Exception, run_dir, where: str) -> None:
    """A stop signal or a diverged net: one line, and exit as the other experiments do.
    Nothing is written before every width is trained, so the empty run folder goes too
    (only if empty: rmdir never removes a file)."""
    with contextlib.suppress(OSError):
        run_dir.rmdir()
    if isinstance(stop, TrainingDiverged):
        print(f"error: {stop} ({where})", file=sys.stderr)
        raise SystemExit(1) from None
    what = str(stop)
    print(f"\n{what[0].upper()}{what[1:]} ({where}); nothing was written. This experiment "
          "has no --resume: run it again.", file=sys.stderr)
    raise SystemExit(128 + stop.signum) from None


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        full = datasets.load(args.dataset, seed=args.seed)
        if not args.small < len(full.train[0]):
            parser.error(f"argument --small: must be below the training split's size "
                         f"({len(full.train[0])}), got {args.small}")
        small = datasets.load(args.dataset, seed=args.seed, train_size=args.small)
    except ImportError as error:
        parser.error(str(error))
    run_dir = make_run_dir(parser, "generalization", args)
    binary = full.n_out == 1
    rows = []
    for setting, split in (("full", full), ("small", small)):
        for hidden in args.hidden:
            net = MLP([split.n_in, hidden, split.n_out], "tanh",
                      output="sigmoid" if binary else "softmax", seed=args.seed,
                      dtype=torch.float64, init="xavier")
            try:
                fit(net, *split.train, lr=args.lr, epochs=args.epochs,
                    batch_size=args.batch_size, shuffle=True, seed=args.seed,
                    loss="bce" if binary else "ce")
            except (TrainingInterrupted, TrainingDiverged) as stop:
                _give_up(stop, run_dir, f"{setting} split, {hidden} hidden units")
            train_error, train_loss = error_rate(net, *split.train)
            test_error, test_loss = error_rate(net, *split.test)
            rows.append({"setting": setting, "train_examples": len(split.train[0]),
                         "hidden": hidden, "train_error": train_error, "test_error": test_error,
                         "train_loss": train_loss, "test_loss": test_loss})
            if not args.quiet:
                print(f"{setting:>5} ({len(split.train[0]):>4} examples)  hidden {hidden:>4}  "
                      f"train error {100 * train_error:5.1f}%  test error {100 * test_error:5.1f}%",
                      flush=True)
    with open(run_dir / "results.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    figure = Figure(figsize=(11, 4.4), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    for ax, (setting, split) in zip(axes, (("full", full), ("small", small))):
        mine = [r for r in rows if r["setting"] == setting]
        hidden = [r["hidden"] for r in mine]
        ax.plot(hidden, [100 * r["train_error"] for r in mine], "o-", label="training error")
        ax.plot(hidden, [100 * r["test_error"] for r in mine], "s-", label="test error")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("hidden units")
        ax.set_title(f"{len(split.train[0])} training examples")
        ax.grid(True, alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("error (%)")
    figure.suptitle(f"{args.dataset}: training vs test error as the network grows "
                    f"({args.epochs} epochs each)")
    # TensorBoard: each error as a curve over the number of hidden units
    scalars = {f"{setting}/{kind}": [r[kind] for r in rows if r["setting"] == setting]
               for setting in dict.fromkeys(r["setting"] for r in rows)
               for kind in ("train_error", "test_error")}
    widths = list(args.hidden)
    doubling = all(w & (w - 1) == 0 for w in widths)  # powers of two: log₂ steps
    steps = [w.bit_length() - 1 for w in widths] if doubling else widths
    return record_figure("generalization", args, run_dir, figure,
                         {"dataset": args.dataset, "epochs": args.epochs, "rows": rows,
                          "results": str(run_dir / "results.csv"),
                          "tensorboard_step": "log2(hidden units)" if doubling else "hidden units"},
                         scalars, scalar_steps=steps, figure_name="generalization.png")


if __name__ == "__main__":
    main()
