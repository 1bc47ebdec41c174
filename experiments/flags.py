"""The command-line flags every experiment shares, built from the library's own checks.

Each flag's argparse ``type`` is a check function wrapped by :func:`flag_type`: the
library's own (``torchann.checks``) for every setting the library takes, so a value is
refused once, at the edge, in the library's words; two plain range checks here for the
flags the library has no argument for. Every usage error is one line with exit status
2 (:class:`ExperimentParser`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Callable

from torchann.checks import DTYPES, check_anneal, check_int, check_learning_rate, check_seed
from torchann.runs.folders import new_run_dir


def flag_type(check: Callable, parse: Callable[[str], object] = float, name: str = "value"):
    """An argparse ``type`` built from one of the library's own checks (``torchann.checks``),
    so a flag and the library refuse the same values with the same words."""
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            kind = "a whole number" if parse is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        try:
            return check(value)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix(f"{name} ")) from None
    return convert


def int_at_least(minimum: int):
    return flag_type(lambda v: check_int("value", v, minimum), int)


def positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"value must be a finite number > 0, got {value:g}")
    return value


def non_negative(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"value must be a finite number >= 0, got {value:g}")
    return value


positive_int, non_negative_int = int_at_least(1), int_at_least(0)
positive_float, non_negative_float = flag_type(positive), flag_type(non_negative)
learning_rate = flag_type(check_learning_rate, name="lr")  # every script's --lr / --lrs


def _batch_size(text: str) -> int | None:
    return None if text.strip().lower() == "full" else positive_int(text)


class ExperimentParser(argparse.ArgumentParser):
    """argparse with every usage error in one line (exit status 2), and :meth:`parse`,
    which also says which flags the command line gave (even at their default value)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, formatter_class=HelpFormatter, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse(self, argv) -> tuple[argparse.Namespace, set[str]]:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = self.parse_args(argv)
        words = {word.split("=", 1)[0] for word in argv if word.startswith("--")}
        given = {action.dest for action in self._actions
                 if words.intersection(action.option_strings)}
        return args, given


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except where it would mislead: an on/off switch
    ("--no-tensorboard (default: True)") or a flag whose help already says it."""

    def _get_help_string(self, action):
        if isinstance(action.default, bool) or action.default is None:
            return action.help
        return super()._get_help_string(action)


def add_output_flags(parser: argparse.ArgumentParser):
    """The flags every experiment shares: where runs go, TensorBoard or not, quiet or not."""
    out = parser.add_argument_group("output")
    out.add_argument("--logdir", default="runs", help="runs are written to LOGDIR/<experiment>/<run>")
    out.add_argument("--run-name", default=None, help="run folder name (default: the start time)")
    out.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=True,
                     help="write TensorBoard events (with --no-tensorboard, the run's other "
                          "files are still written)")
    out.add_argument("--quiet", action=argparse.BooleanOptionalAction, default=False,
                     help="print nothing but errors")
    return out


def make_run_dir(parser: ExperimentParser, experiment: str, args) -> Path:
    """A fresh run folder for ``--logdir``/``--run-name``; one that exists or cannot be
    made is a usage error."""
    try:
        return new_run_dir(args.logdir, experiment, args.run_name)
    except ValueError as error:
        parser.error(str(error))


def output_parser(prog: str, description: str) -> ExperimentParser:
    """A parser with only the output flags, for experiments that do not run ``fit``."""
    parser = ExperimentParser(prog=prog, description=description)
    add_output_flags(parser)
    return parser


def training_parser(prog: str, description: str, *, epochs: int, lr: float, anneal: float = 1.0,
                    hidden: int | None = 3) -> ExperimentParser:
    """A parser with the flags shared by every training experiment."""
    parser = ExperimentParser(prog=prog, description=description)
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int, default=epochs, help="passes through the data")
    train.add_argument("--lr", type=learning_rate, default=lr,
                       help="initial learning rate η")
    train.add_argument("--anneal", type=flag_type(check_anneal, name="anneal"), default=anneal,
                       help="η is multiplied by this after every epoch (1 = constant)")
    if hidden is not None:  # a net without a hidden layer (logic) gets no --hidden flag
        train.add_argument("--hidden", type=positive_int, default=hidden, help="hidden units")
    else:
        parser.set_defaults(hidden=None)
    train.add_argument("--batch-size", type=_batch_size, default=1,
                       help="observations per update: 1 = online (the seed's), 'full' = whole set")
    train.add_argument("--seed", type=flag_type(check_seed, int, "seed"), default=0,
                       help="seeds the data noise, the initial weights and any shuffling")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="auto = cuda when a GPU is present")
    train.add_argument("--dtype", choices=sorted(DTYPES), default="float32",
                       help="floating-point precision of the net and the data")
    out = add_output_flags(parser)
    out.add_argument("--images", type=non_negative_int, default=8, metavar="N",
                     help="log N pictures of the net learning to TensorBoard, from epoch 0, "
                          "placed where the picture changes most (0: the final figure only)")
    out.add_argument("--animate", action=argparse.BooleanOptionalAction, default=False,
                     help="also save learning.gif, the figure evolving as the net learns (and "
                          "hidden_units.gif for a net with a hidden layer)")
    out.add_argument("--frames", type=positive_int, default=40, metavar="N",
                     help="at most N frames for the GIFs, from epoch 0, placed where the "
                          "picture changes most")
    out.add_argument("--checkpoint-every", type=non_negative_int, default=0, metavar="N",
                     help="also write RUN/checkpoint.pt every N epochs (it is always written "
                          "at the end, on Ctrl-C, SIGTERM or SIGHUP, and on divergence)")
    out.add_argument("--resume", default=None, metavar="RUN_DIR",
                     help="continue the run in RUN_DIR from its checkpoint.pt (exactly where it "
                          "stopped; --epochs may raise the total)")
    return parser


def add_corner_data_flags(parser: argparse.ArgumentParser) -> None:
    """--repeats and --noise: how the seed builds its noisy point clouds."""
    group = parser.add_argument_group("data")
    group.add_argument("--repeats", type=positive_int, default=30, help="copies of each point")
    group.add_argument("--noise", type=non_negative_float, default=0.15,
                       help="standard deviation of the Gaussian jitter")
