"""What every experiment shares: its command-line flags, and how a run is recorded.

An experiment builds its data and its network, then hands them to
:func:`train_and_record`, which trains with ``torchann.fit`` and writes the run
folder: ``figure.png``, ``summary.json`` and the TensorBoard events.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # experiments only ever write files; never open a window

import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from torchann.callbacks import ProgressPrinter, every_k_epochs  # noqa: E402
from torchann.checks import resolve_device  # noqa: E402
from torchann.runs import new_run_dir, write_json  # noqa: E402
from torchann.train import EpochEnd, TrainingDiverged, fit  # noqa: E402

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class TrainingConfig:
    """The flags every training experiment accepts (see ``--help`` for meanings)."""

    epochs: int
    lr: float
    anneal: float
    hidden: int
    batch_size: int | None
    seed: int
    device: str
    dtype: str
    logdir: str
    run_name: str | None
    tensorboard: bool
    quiet: bool
    image_every: int

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _anneal(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] (1 = no annealing), got {text}")
    return value


def _batch_size(text: str) -> int | None:
    if text.strip().lower() == "full":
        return None
    return _positive_int(text)


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def training_parser(prog: str, description: str, *, epochs: int, lr: float, anneal: float = 1.0,
                    hidden: int = 3) -> argparse.ArgumentParser:
    """An argparse parser with the flags shared by every training experiment."""
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=_positive_int, default=epochs, help="passes through the data")
    train.add_argument("--lr", type=_learning_rate, default=lr, help="initial learning rate η")
    train.add_argument("--anneal", type=_anneal, default=anneal,
                       help="η is multiplied by this after every epoch (1 = constant)")
    train.add_argument("--hidden", type=_positive_int, default=hidden, help="hidden units")
    train.add_argument("--batch-size", type=_batch_size, default=1,
                       help="observations per update: 1 = online (the seed's), 'full' = whole set")
    train.add_argument("--seed", type=int, default=0,
                       help="seeds the data noise, the initial weights and any shuffling")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="auto = cuda when a GPU is present")
    train.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    out = parser.add_argument_group("output")
    out.add_argument("--logdir", default="runs", help="runs are written to LOGDIR/<experiment>/<run>")
    out.add_argument("--run-name", default=None, help="run folder name (default: the start time)")
    out.add_argument("--no-tensorboard", dest="tensorboard", action="store_false",
                     help="write no TensorBoard events (figure and summary.json are still written)")
    out.add_argument("--image-every", type=_non_negative_int, default=0,
                     help="log the figure to TensorBoard every K epochs (0 = final figure only)")
    out.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def parse_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> TrainingConfig:
    """Turn parsed flags into a :class:`TrainingConfig`; usage errors exit with status 2."""
    try:
        resolve_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    names = {f for f in TrainingConfig.__dataclass_fields__}
    return TrainingConfig(**{k: v for k, v in vars(args).items() if k in names})


def make_run_dir(parser: argparse.ArgumentParser, experiment: str, config: TrainingConfig) -> Path:
    """The run's fresh folder; a folder that exists or cannot be written is a usage error."""
    try:
        return new_run_dir(config.logdir, experiment, config.run_name)
    except ValueError as error:
        parser.error(str(error))


def train_and_record(experiment: str, config: TrainingConfig, run_dir: Path, model, inputs,
                     targets, *, figure_fn: Callable[[EpochEnd], Figure], shuffle: bool = False,
                     extra: dict | None = None) -> dict:
    """Train ``model`` with ``fit`` and record the run in ``run_dir``.

    Writes ``figure.png`` (the final ``figure_fn`` figure), ``summary.json`` and,
    unless disabled, TensorBoard events (scalars, histograms, images,
    hparams). The TensorBoard writer is flushed and closed even when training
    fails. Returns the summary dict.
    """
    say = (lambda *a: None) if config.quiet else print
    callbacks = []
    logger = None
    if config.tensorboard:
        from torchann.tensorboard import TensorBoardLogger  # imported lazily: it is slow
        logger = TensorBoardLogger(run_dir, image_every=config.image_every, figure_fn=figure_fn,
                                   image_tag=f"{experiment}/figure")
        callbacks.append(logger)
    if not config.quiet:
        callbacks.append(ProgressPrinter(every_k_epochs(config.epochs)))

    device = resolve_device(config.device)
    model = model.to(device)
    say(f"{experiment}: training {model.architecture()} on {len(inputs)} observations "
        f"({device.type}, {config.dtype})")
    try:
        if logger is not None:
            logger.add_text("config", "\n".join(f"    {k} = {v}" for k, v in asdict(config).items()))
        start = time.perf_counter()
        try:
            history = fit(model, inputs, targets, lr=config.lr, epochs=config.epochs,
                          batch_size=config.batch_size, anneal=config.anneal, shuffle=shuffle,
                          seed=config.seed, callback=callbacks)
        except TrainingDiverged as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(1) from None
        seconds = time.perf_counter() - start

        final = EpochEnd(len(history.loss), config.epochs, history.loss[-1], history.lr[-1],
                         history.accuracy[-1] if history.accuracy else None, model,
                         inputs, targets, history)
        figure = figure_fn(final)
        figure_path = run_dir / "figure.png"
        figure.savefig(figure_path, dpi=100)
        summary = {
            "experiment": experiment,
            "final_loss": history.loss[-1],
            "accuracy": history.accuracy[-1] if history.accuracy else None,
            "epochs": len(history.loss),
            "steps": history.steps,
            "seconds": seconds,
            "steps_per_second": history.steps / seconds if seconds > 0 else None,
            "device": device.type,
            "torch": torch.__version__,
            "architecture": model.architecture(),
            "run_dir": str(run_dir),
            "figure": str(figure_path),
            "config": asdict(config),
            **(extra or {}),
            "history": history.to_dict(),
        }
        write_json(run_dir / "summary.json", summary)
        if logger is not None:
            logger.add_figure(f"{experiment}/final", figure, summary["epochs"])
            metrics = {"hparam/final_loss": summary["final_loss"]}
            if summary["accuracy"] is not None:
                metrics["hparam/accuracy"] = summary["accuracy"]
            logger.add_hparams({k: v for k, v in asdict(config).items()
                                if k in ("epochs", "lr", "anneal", "hidden", "batch_size", "seed",
                                         "dtype")}, metrics)
    finally:
        if logger is not None:
            logger.close()

    accuracy = "" if summary["accuracy"] is None else \
        f", training accuracy {100 * summary['accuracy']:.1f}%"
    say(f"\nDone: {summary['epochs']} epochs ({summary['steps']:,} updates) in {seconds:.2f} s "
        f"= {summary['steps_per_second']:,.0f} updates/s on {device.type}. Final loss "
        f"{summary['final_loss']:.4g}{accuracy}. Wrote {figure_path} and "
        f"{run_dir / 'summary.json'}" +
        (f"; watch it with: tensorboard --logdir {config.logdir}" if config.tensorboard else "."))
    return summary
