"""What every experiment shares: its command-line flags, and how a run is recorded.

An experiment builds its data and its network, then hands them to
:func:`train_and_record`, which trains with ``torchann.fit`` and writes the run
folder: ``figure.png``, ``summary.json`` and the TensorBoard events.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # experiments only ever write files; never open a window

import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from torchann.viz.animation import Snapshots, choose_frames, render_frames, save_gif  # noqa: E402
from torchann.viz.neurons import (draw_hidden_units, hidden_units_figure,  # noqa: E402
                                  supports_hidden_units)
from torchann.viz.neurons import figure_size as neuron_figure_size  # noqa: E402
from torchann.viz.progress import ProgressPrinter, every_k_epochs  # noqa: E402
from torchann.training.checks import check_memory, check_seed, resolve_device  # noqa: E402
from torchann.viz.plots import TRAINING_FIGSIZE, draw_classification  # noqa: E402
from torchann.runs.interrupt import STOP_SIGNALS  # noqa: E402
from torchann.runs.folders import (lock_run_dir, new_run_dir, remove_stale_temporaries,  # noqa: E402
                                   write_json)
from torchann.runs.checkpoint import Checkpoint, load_checkpoint  # noqa: E402
from torchann.train import EpochEnd, TrainingDiverged, TrainingInterrupted, fit  # noqa: E402
from torchann.training.validation import Validation  # noqa: E402
from torchann.runs.weights import export_weights  # noqa: E402

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
    images: int
    animate: bool
    frames: int
    checkpoint_every: int = 0

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]


class ExperimentParser(argparse.ArgumentParser):
    """argparse, with every usage error in one line (exit status 2) that says what was
    wrong, without the usage block argparse prints above it (``--help`` shows that)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except where it would mislead: an on/off switch
    ("--no-tensorboard (default: True)") or a flag whose help already says it."""

    def _get_help_string(self, action):
        if isinstance(action.default, bool) or action.default is None:
            return action.help
        return super()._get_help_string(action)


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= ``minimum``, or a usage error saying so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            bound = "0 or more" if minimum == 0 else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value
    parse.__name__ = f"int_at_least_{minimum}"
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def positive_float(text: str) -> float:
    """An argparse ``type``: a finite number > 0 (learning rates, scales, extents)."""
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
    return positive_int(text)


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def training_parser(prog: str, description: str, *, epochs: int, lr: float, anneal: float = 1.0,
                    hidden: int | None = 3) -> argparse.ArgumentParser:
    """An argparse parser with the flags shared by every training experiment."""
    parser = ExperimentParser(prog=prog, description=description,
                                     formatter_class=HelpFormatter)
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int, default=epochs, help="passes through the data")
    train.add_argument("--lr", type=positive_float, default=lr, help="initial learning rate η")
    train.add_argument("--anneal", type=_anneal, default=anneal,
                       help="η is multiplied by this after every epoch (1 = constant)")
    if hidden is not None:  # a net without a hidden layer (logic) gets no --hidden flag
        train.add_argument("--hidden", type=positive_int, default=hidden, help="hidden units")
    else:
        parser.set_defaults(hidden=None)
    train.add_argument("--batch-size", type=_batch_size, default=1,
                       help="observations per update: 1 = online (the seed's), 'full' = whole set")
    train.add_argument("--seed", type=int, default=0,
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


# Flags that --resume takes from the checkpoint: changing them would make a different run.
FIXED_ON_RESUME = ("lr", "anneal", "hidden", "batch_size", "seed", "dtype")
# Flags --resume may change; those not given keep the values the run had.
MAY_CHANGE_ON_RESUME = ("epochs", "device", "tensorboard", "quiet", "images", "animate", "frames",
                        "checkpoint_every")


def start_run(parser: argparse.ArgumentParser, experiment, argv, *,
              data_keys: tuple[str, ...] = (), requires: Callable[[], object] | None = None):
    """Parse flags and open the run: a new run folder, or the one ``--resume`` names.

    ``experiment`` is the run's name, or a function of the parsed (and, when
    resuming, restored) flags that gives it -- ``logic-xor`` depends on ``--gate``.
    Returns ``(args, config, run_dir, checkpoint, experiment)``; ``checkpoint``
    is the loaded checkpoint when resuming, else ``None``. With ``--resume``, the training
    flags in ``FIXED_ON_RESUME`` and the data flags ``data_keys`` come from the
    checkpoint (giving one with a different value is a usage error, even when the
    value given is the default); ``--epochs``, ``--device`` and the output flags may
    change, and keep the run's values when not given. A run whose training finished
    but whose outputs were not all written (it was stopped while writing them) is
    finished by ``--resume`` alone.
    ``requires`` is called after parsing and before any folder is made; an
    ImportError or ValueError it raises (a missing optional package) becomes a
    usage error. Sizes that cannot fit in memory are refused before any folder is
    made, and the run folder stays locked by this process until the run is recorded.
    """
    args = parser.parse_args(argv)
    if requires is not None:
        try:
            requires()
        except (ImportError, ValueError) as error:
            parser.error(str(error))
    name_of = experiment if callable(experiment) else (lambda _: experiment)
    if args.resume is None:
        config = parse_config(parser, args)
        check_run_fits(parser, args)
        name = name_of(args)
        run_dir = make_run_dir(parser, name, config)
        _hold_lock(parser, run_dir)
        return args, config, run_dir, None, name
    source = Path(args.resume)  # the run folder, or its checkpoint file
    run_dir = source.parent if source.is_file() else source
    if run_dir.is_dir():  # locked before anything is read: no other process is writing it
        _hold_lock(parser, run_dir)
    try:
        return _resume(parser, args, argv, source, run_dir, name_of, data_keys)
    except BaseException:
        release_lock(run_dir)
        raise


def _resume(parser, args, argv, source: Path, run_dir: Path, name_of, data_keys):
    """``start_run`` for ``--resume``: restore the run's flags from its checkpoint."""
    try:
        saved = load_checkpoint(source)
    except ValueError as error:
        parser.error(f"--resume: {error}")
    stored = saved.get("config", {})
    training = dict(stored.get("training", {}))
    if not training:
        parser.error(f"--resume: {run_dir} holds no experiment settings to resume from")
    given = flags_given(parser, argv, (*FIXED_ON_RESUME, *data_keys, *MAY_CHANGE_ON_RESUME))
    for key in (*FIXED_ON_RESUME, *data_keys):
        if key not in training and key not in stored.get("data", {}):
            parser.error(f"--resume: {run_dir} is a run of {stored.get('experiment')!r}, which "
                         f"has no --{key.replace('_', '-')}: resume it with its own experiment")
        recorded = training[key] if key in training else stored["data"][key]
        if key in given and getattr(args, key) != recorded:
            flag = "--" + key.replace("_", "-")
            parser.error(f"--resume: {flag} cannot change when resuming (the run used "
                         f"{recorded!r}, got {getattr(args, key)!r})")
        setattr(args, key, recorded)
    current = vars(args)
    for key in given.intersection(MAY_CHANGE_ON_RESUME):  # the others stay as the run had them
        training[key] = current[key]
    training["logdir"], training["run_name"] = str(run_dir.parent.parent), run_dir.name
    try:
        resolve_device(training["device"])
    except ValueError as error:
        parser.error(str(error))
    name = name_of(args)
    if stored.get("experiment") != name:
        parser.error(f"--resume: {run_dir} is a run of {stored.get('experiment')!r}, "
                     f"not of {name!r}")
    if not os.access(run_dir, os.W_OK):
        parser.error(f"--resume: the run folder {run_dir} is not writable")
    config = TrainingConfig(**training)
    ended = saved["epoch"] >= config.epochs or saved["history"].get("stopped_early", False)
    recorded = recorded_epochs(run_dir) == saved["epoch"]  # its outputs are all written
    if ended and (saved["step"] or saved["epoch"] > config.epochs or recorded):
        parser.error(f"--resume: {run_dir} has already trained {saved['epoch']} epochs"
                     + (" and been recorded" if recorded else "") +
                     f"; ask for more with --epochs (at least {saved['epoch'] + 1})")
    check_run_fits(parser, argparse.Namespace(**{**current, **training}))
    remove_stale_temporaries(run_dir)  # left by a process killed mid-write; we hold the lock
    return args, config, run_dir, saved, name


def flags_given(parser: argparse.ArgumentParser, argv, keys) -> set[str]:
    """Which of ``keys`` the command line sets explicitly (even to their default value)."""
    defaults = {key: parser.get_default(key) for key in keys}
    parser.set_defaults(**dict.fromkeys(keys, _NOT_GIVEN))
    try:
        probe = parser.parse_args(argv)
    finally:
        parser.set_defaults(**defaults)
    return {key for key in keys if getattr(probe, key, _NOT_GIVEN) is not _NOT_GIVEN}


_NOT_GIVEN = object()


def check_run_fits(parser: argparse.ArgumentParser, args) -> None:
    """Refuse, before any folder is made, flags whose sizes cannot fit in memory.

    A rough upper bound from the flags alone: the data (``--points``, or the
    corner clouds' ``--repeats``) times the hidden layer's activations on the
    whole set, the weights (float64 when drawn, plus the training copies), the
    per-epoch history, and the parameter snapshots kept for the pictures.
    """
    # The corner clouds have at most 9 points per repeat (the ring); the digits, with no
    # size flag, have about 1,800 rows of 64 inputs and 10 outputs.
    rows = getattr(args, "points", None) or 9 * (getattr(args, "repeats", None) or 200)
    hidden = getattr(args, "hidden", None) or 1
    epochs = getattr(args, "epochs", 1)
    weights = hidden * (64 + 10 + 2)
    snapshots = min(epochs, 1000) * weights if (getattr(args, "animate", False)
                                                or getattr(args, "images", 0)) else 0
    # a few copies of the data (x, t, a shuffled order) and of the hidden layer's outputs
    # on the whole set (the end-of-epoch measurement), the weights as drawn, cast and
    # updated, the snapshots for the pictures, and a float per history list per epoch
    nbytes = 8 * (3 * rows * (hidden + 4) + 3 * weights + snapshots + 40 * epochs)
    try:
        check_memory(nbytes, f"this run (up to {rows:,} observations, {hidden:,} hidden units, "
                             f"{epochs:,} epochs)")
        dtype = DTYPES.get(getattr(args, "dtype", "float64"), torch.float64)
        if getattr(args, "lr", 0) > torch.finfo(dtype).max:
            raise ValueError(f"--lr {args.lr:g} is larger than any {dtype} number")
        check_seed(getattr(args, "seed", 0))
    except ValueError as error:
        parser.error(str(error))


_LOCKS: dict[Path, object] = {}


def _hold_lock(parser: argparse.ArgumentParser, run_dir: Path) -> None:
    """Lock ``run_dir`` for this process until :func:`release_lock` (or the process ends)."""
    try:
        _LOCKS[run_dir.resolve()] = lock_run_dir(run_dir)
    except ValueError as error:
        parser.error(str(error))


def release_lock(run_dir: Path) -> None:
    handle = _LOCKS.pop(run_dir.resolve(), None)
    if handle is not None:
        handle.close()


def parse_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> TrainingConfig:
    """Turn parsed flags into a :class:`TrainingConfig`; usage errors exit with status 2."""
    try:
        resolve_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    names = {f for f in TrainingConfig.__dataclass_fields__}
    return TrainingConfig(**{k: v for k, v in vars(args).items() if k in names})


def make_run_dir(parser: argparse.ArgumentParser, experiment: str, settings) -> Path:
    """The run's fresh folder under ``settings.logdir`` (named ``settings.run_name``, or
    the time); a folder that exists or cannot be written is a usage error.

    ``settings`` is a :class:`TrainingConfig` or parsed flags: anything with those two.
    """
    try:
        return new_run_dir(settings.logdir, experiment, settings.run_name)
    except ValueError as error:
        parser.error(str(error))


def _keep_previous(path: Path, epoch: int) -> None:
    """Rename ``path`` (if it exists) to ``<stem>.epoch<N><suffix>`` so a resumed run keeps it."""
    if path.exists():
        target = path.with_name(f"{path.stem}.epoch{epoch}{path.suffix}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.stem}.epoch{epoch}-{n}{path.suffix}")
        path.rename(target)


def recorded_epochs(run_dir: Path) -> int | None:
    """The epochs of the run the outputs in ``run_dir`` show (from ``summary.json``, written
    last); None when no complete set of outputs is there."""
    try:
        epochs = json.loads((run_dir / "summary.json").read_text())["epochs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return epochs if isinstance(epochs, int) else None


class Stopped(BaseException):
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP) arrived; ``signum`` says which. A
    BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stop_on_signals():
    """Turn Ctrl-C, SIGTERM and SIGHUP into :class:`Stopped`, to end with a message, not a
    traceback. As in training, a signal the process was started ignoring (``nohup``) stays
    ignored."""
    def stop(signum, frame):
        raise Stopped(signum)
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS
                if signum == signal.SIGINT or signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


class Timed:
    """Wrap a callback and add up the seconds spent in it."""

    def __init__(self, callback):
        self.callback = callback
        self.seconds = 0.0

    def __call__(self, state):
        start = time.perf_counter()
        self.callback(state)
        self.seconds += time.perf_counter() - start

    def __getattr__(self, name):  # the callback's other hooks (on_start, ...) pass through
        return getattr(self.callback, name)

    @property
    def state_key(self) -> str:  # a checkpoint files the callback's state under its own name
        return type(self.callback).__name__


def train_and_record(experiment: str, config: TrainingConfig, run_dir: Path, model, inputs,
                     targets, *, draw: Callable[..., None], title: str, shuffle: bool = False,
                     extra: dict | None = None,
                     measure: Callable[[torch.nn.Module], dict] | None = None,
                     resume: dict | None = None, command: str | None = None,
                     fit_options: dict | None = None, validation: Validation | None = None) -> dict:
    """Train ``model`` with ``fit`` and record the run in ``run_dir``.

    ``draw(figure, state, loss_ylim=None)`` draws the experiment's picture of a
    training state into a figure; it makes the final ``figure.png``, the
    ``--images`` TensorBoard pictures of the net learning and, with
    ``--animate``, the ``--frames`` frames of ``learning.gif`` (both from epoch
    0, placed where the picture changes most). Also writes ``summary.json`` (with where
    the time went) and TensorBoard scalars, histograms and hparams. The
    TensorBoard writer is flushed and closed even when training fails.
    ``measure(model)`` may add experiment-specific results of the trained net
    to the summary (and to TensorBoard's hparams metrics). ``checkpoint.pt`` is
    written at the end, every ``--checkpoint-every`` epochs, on Ctrl-C, SIGTERM or
    SIGHUP (then the process exits with status 128 + the signal's number, 130 for
    Ctrl-C, and says how to resume; also while the outputs are written) and on
    divergence (exit status 1); ``resume`` continues from a loaded checkpoint.
    ``weights.json`` holds the trained network. Returns the summary.
    """
    say = (lambda *a: None) if config.quiet else print

    def figure_of(state: EpochEnd) -> Figure:
        figure = Figure(figsize=TRAINING_FIGSIZE)
        draw(figure, state)
        figure.suptitle(title)
        return figure

    callbacks: list[Timed] = []
    logger = snapshots = None
    # Resuming a run whose training ended but whose outputs were not all written: fit
    # trains nothing, and the outputs are written as the first session would have.
    finishing = resume is not None and (resume["epoch"] >= config.epochs
                                        or resume["history"].get("stopped_early", False))
    if config.tensorboard:
        from torchann.viz.tensorboard import TensorBoardLogger  # imported lazily: it is slow
        # A resumed run drops the events earlier sessions logged after its checkpoint (and,
        # when finishing, those of the last epoch too: they are logged again below).
        purge_step = None if resume is None else resume["epoch"] + (0 if finishing else 1)
        logger = TensorBoardLogger(run_dir, purge_step=purge_step,
                                   loss=(fit_options or {}).get("loss", "squared"))
        callbacks.append(Timed(logger))
    if config.animate or (logger is not None and config.images):
        snapshots = Snapshots(config.epochs)
        callbacks.append(Timed(snapshots))
    if not config.quiet:
        callbacks.append(Timed(ProgressPrinter(every_k_epochs(config.epochs))))

    device = resolve_device(config.device)
    model = model.to(device)
    say(f"{experiment}: training {model.architecture()} on {len(inputs)} observations "
        f"({device.type}, {config.dtype})")
    timing, outputs_log = {}, None
    try:
        if logger is not None:
            settings = {"architecture": model.architecture(), **asdict(config),
                        **(extra or {}).get("data", {})}
            if settings.get("hidden") is None:
                settings.pop("hidden")  # a single-layer net has no hidden units to count
            if resume is None:  # from the start, once: a resumed run has it already
                logger.add_text("config", "\n".join(f"    {k} = {v}" for k, v in settings.items()))
        start = time.perf_counter()
        command = command or f"python -m experiments.{experiment.split('-')[0]}"
        checkpoint = run_dir / "checkpoint.pt"
        record = {"experiment": experiment, "training": asdict(config),
                  "data": (extra or {}).get("data", {})}
        try:
            saving = Checkpoint(checkpoint, every=config.checkpoint_every, config=record)
            epochs = resume["epoch"] if finishing else config.epochs  # early stopping ends sooner
            history = fit(model, inputs, targets, lr=config.lr, epochs=epochs,
                          batch_size=config.batch_size, anneal=config.anneal, shuffle=shuffle,
                          seed=config.seed, resume=resume, **(fit_options or {}),
                          callbacks=[*callbacks, saving] + ([validation] if validation else []))
        except TrainingDiverged as error:
            print(f"error: {error} The last good state is in {checkpoint}.", file=sys.stderr)
            raise SystemExit(1) from None
        except TrainingInterrupted as stop:
            what = str(stop)  # "interrupted [by SIGTERM] in epoch 4 after step 1 of 12"
            print(f"\n{what[0].upper()}{what[1:]}; checkpoint written to {checkpoint}.\n"
                  f"Resume with: {command} --resume {run_dir}", file=sys.stderr)
            raise SystemExit(128 + stop.signum) from None
        except ValueError as error:  # e.g. resuming with settings that do not match
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        session = time.perf_counter() - start  # this session (a resumed run had earlier ones)
        seconds = history.seconds              # the whole run's time in fit
        in_callbacks = sum(cb.seconds for cb in callbacks)
        timing["training"] = session - in_callbacks
        timing["callbacks"] = in_callbacks

        # Training is done and checkpointed; a signal from here on stops the writing with a
        # message, and `--resume` finishes it.
        with stop_on_signals():
            # The output phase's events are staged outside the run and published in one
            # step at the end, so a run stopped here and finished later shows each once.
            outputs_log = None if logger is None else TensorBoardLogger.staged(
                loss=(fit_options or {}).get("loss", "squared"))
            start = time.perf_counter()
            final = EpochEnd(len(history.loss), config.epochs, history.loss[-1], history.lr[-1],
                             history.accuracy[-1] if history.accuracy else None, model,
                             inputs, targets, history, online_loss=history.online_loss[-1],
                             val_loss=history.val_loss[-1] if history.val_loss else None,
                             val_accuracy=history.val_accuracy[-1] if history.val_accuracy
                             else None)
            if finishing and logger is not None:  # the last epoch's points, purged above
                like = next(model.parameters())
                outputs_log(replace(final, inputs=inputs.to(like), targets=targets.to(like)))
            figure = figure_of(final)
            figure_path = run_dir / "figure.png"
            held = recorded_epochs(run_dir)
            if held is not None:  # a finished run extended: keep what it had written
                # summary.json last: until it is renamed, the next resume knows what to keep
                for name in ("figure.png", "weights.json", "learning.gif", "hidden_units.png",
                             "hidden_units.gif", "summary.json"):
                    _keep_previous(run_dir / name, held)
            figure.savefig(figure_path, dpi=100)
            units = None
            if supports_hidden_units(model):  # one panel per hidden unit (torchann/viz/neurons.py)
                units = hidden_units_figure(final, title)
                units.savefig(run_dir / "hidden_units.png", dpi=100)
            files_weights = export_weights(model, run_dir / "weights.json")
            timing["figure"] = time.perf_counter() - start
            files = {"figure": str(figure_path), "weights": str(files_weights),
                     "checkpoint": str(checkpoint)}
            if units is not None:
                files["hidden_units"] = str(run_dir / "hidden_units.png")
            results = measure(model) if measure is not None else {}
            if logger is not None and config.images and snapshots.frames:
                start = time.perf_counter()
                canvas = Figure(figsize=TRAINING_FIGSIZE)
                for frame in render_frames(choose_frames(snapshots.frames, config.images), model,
                                           inputs, targets, history, config.epochs, draw, canvas,
                                           title):
                    outputs_log.add_figure("views/learning", canvas, frame.epoch)
                timing["tensorboard_images"] = time.perf_counter() - start
            if config.animate and snapshots.frames:
                start = time.perf_counter()
                frames = choose_frames(snapshots.frames, config.frames)
                gif = save_gif(run_dir / "learning.gif", frames, model, inputs, targets, history,
                               config.epochs, draw, figsize=TRAINING_FIGSIZE, title=title)
                timing["animation"] = time.perf_counter() - start
                files["animation"] = str(gif)
                if units is not None:
                    files["hidden_units_animation"] = str(save_gif(
                        run_dir / "hidden_units.gif", frames, model, inputs, targets, history,
                        config.epochs, draw_hidden_units, figsize=neuron_figure_size(model),
                        title=title))
                timing["animation"] = time.perf_counter() - start
                say(f"saved {gif} ({len(frames)} frames, epochs {frames[0].epoch} to "
                    f"{frames[-1].epoch})")
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
                **files,
                "config": asdict(config),
                **results,
                **(extra or {}),
                "timing_seconds": timing,
                "history": history.to_dict(),
            }
            if logger is not None:
                start = time.perf_counter()
                outputs_log.add_figure("views/final", figure, summary["epochs"])
                if units is not None:
                    outputs_log.add_figure("views/hidden_units", units, summary["epochs"])
                metrics = {"trained/final_loss": summary["final_loss"]}
                if summary["accuracy"] is not None:
                    metrics["trained/accuracy"] = summary["accuracy"]
                for key, value in results.items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        metrics[f"trained/{key}"] = value
                knobs = ("architecture", "epochs", "lr", "anneal", "hidden", "batch_size", "seed",
                         "dtype", *(extra or {}).get("data", {}))
                outputs_log.add_hparams({k: v for k, v in settings.items() if k in knobs}, metrics)
                outputs_log.add_text("results", "\n".join(
                    f"    {k.removeprefix('trained/')} = {v:.6g}" for k, v in metrics.items()))
                outputs_log.publish(run_dir, f"outputs-epoch{summary['epochs']}")
                timing["tensorboard_final"] = time.perf_counter() - start
            write_json(run_dir / "summary.json", summary)
    except Stopped as stop:
        print(f"\nStopped by {stop} while writing the outputs. Training is complete and saved "
              f"in {checkpoint}.\nFinish with: {command} --resume {run_dir}", file=sys.stderr)
        raise SystemExit(128 + stop.signum) from None
    except OSError as error:  # a full disk, or a folder made read-only during the run
        print(f"error: could not write {error.filename or run_dir}: {error.strerror or error}",
              file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        if logger is not None:
            logger.close()
        if outputs_log is not None:  # not published if the run stopped: drop what it staged
            outputs_log.close()
            shutil.rmtree(outputs_log.log_dir, ignore_errors=True)
        release_lock(run_dir)

    accuracy = "" if summary["accuracy"] is None else \
        f", training accuracy {100 * summary['accuracy']:.1f}%"
    say(f"\nDone: {summary['epochs']} epochs ({summary['steps']:,} updates) in {seconds:.2f} s "
        f"= {summary['steps_per_second']:,.0f} updates/s on {device.type}. Final loss "
        f"{summary['final_loss']:.4g}{accuracy}. Wrote {figure_path} and "
        f"{run_dir / 'summary.json'}" +
        (f"; watch it with: tensorboard --logdir {config.logdir}" if config.tensorboard else "."))
    return summary


# --- the seed's classification experiments (logic gates, XOR, ring) -------------------------

def add_corner_data_flags(parser: argparse.ArgumentParser) -> None:
    """--repeats and --noise: how the seed builds its noisy point clouds."""
    group = parser.add_argument_group("data")
    group.add_argument("--repeats", type=positive_int, default=30, help="copies of each point")
    group.add_argument("--noise", type=non_negative_float, default=0.15,
                       help="standard deviation of the Gaussian jitter")


def draw_classification_state(figure: Figure, state: EpochEnd, loss_ylim=None) -> None:
    """``draw`` for the classification experiments: decision region | loss curve."""
    # With 0/1 targets and the squared error, answering 0.5 everywhere costs ½ (0.5)² per
    # observation: the line a net has to get below.
    draw_classification(figure, state.model, state.inputs, state.targets,
                        state.history.loss_curve(), reference=(0.125, "a = 0.5 everywhere"),
                        epoch=state.epoch, epochs=state.epochs, loss_ylim=loss_ylim)


def run_classification(experiment, parser: argparse.ArgumentParser, argv, *, make_data,
                       make_model, title, data_keys: tuple[str, ...] = ()) -> dict:
    """Parse flags, build data and net, train online in the fixed (shuffled-once) order, record.

    ``make_data(args, seed)`` returns (inputs, targets); ``make_model(config)`` the
    net. ``experiment`` and ``title`` may be strings or functions of the flags.
    """
    keys = ("repeats", "noise", *data_keys)
    args, config, run_dir, resume, name = start_run(parser, experiment, argv, data_keys=keys)
    inputs, targets = make_data(args, config.seed)
    model = make_model(config)
    return train_and_record(name, config, run_dir, model, inputs, targets,
                            draw=draw_classification_state,
                            title=title(args) if callable(title) else title,
                            extra={"data": {key: getattr(args, key) for key in keys}},
                            resume=resume)


# --- experiments that draw without training a net (activations, error surface) -------------

def output_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with only the output flags, for experiments that do not run ``fit``."""
    parser = ExperimentParser(prog=prog, description=description,
                                     formatter_class=HelpFormatter)
    add_output_flags(parser)
    return parser


def record_figure(experiment: str, args, run_dir: Path, figure: Figure, summary: dict,
                  scalars: dict[str, list[float]] | None = None, *,
                  scalar_steps: list[int] | None = None, figure_name: str = "figure.png") -> dict:
    """Save the figure and ``summary.json``; log the image (and scalars) to TensorBoard.

    Each scalar series is logged at ``scalar_steps`` (default 0, 1, 2, ...).
    """
    figure_path = run_dir / figure_name
    figure.savefig(figure_path, dpi=100)
    summary = {"experiment": experiment, "run_dir": str(run_dir), "figure": str(figure_path),
               "torch": torch.__version__, **summary}
    write_json(run_dir / "summary.json", summary)
    if args.tensorboard:
        from torchann.viz.tensorboard import TensorBoardLogger
        with TensorBoardLogger(run_dir) as logger:
            logger.add_figure(f"{experiment}/final", figure, 0)
            for tag, values in (scalars or {}).items():
                for step, value in zip(scalar_steps or range(len(values)), values):
                    logger.writer.add_scalar(tag, value, step)
    if not args.quiet:
        print(f"Wrote {figure_path} and {run_dir / 'summary.json'}")
    return summary
