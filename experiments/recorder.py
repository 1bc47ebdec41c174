"""The one writer of a run folder's outputs.

A training run's folder holds ``checkpoint.pt`` (written by ``fit``'s Checkpoint
callback) and what this module writes from the trained run: ``figure.png``,
``hidden_units.png``, ``weights.json``, the GIFs, any figures the experiment
measures, ``summary.json`` (written last: it says the outputs are complete) and the
TensorBoard events. Every TensorBoard event of a run comes from here, under one tag
scheme (see the README):

* during training, one logger in the run folder (``torchann.viz.tensorboard``):
  ``train/`` and ``val/`` every epoch, ``weights/`` and ``weight_gradients/``
  histograms every 10, and the ``config`` text once, when the run starts;
* after training, the outputs: ``views/learning`` (the net learning), ``views/final``,
  ``views/hidden_units``, ``views/<measured figure>``, the HPARAMS entry, its
  ``trained/`` metrics and the ``results`` text. They are staged outside the run and
  published into it in one step (``events.out.tfevents.outputs-epoch<N>``), so a run
  stopped while they are written and finished by ``--resume`` shows each event once.

The outputs are a function of the final checkpoint alone, so a finished run whose
outputs are missing or partial is recorded again by ``--resume``, bit-identical.
"""

from __future__ import annotations

import json
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # experiments only ever write files; never open a window

import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from torchann.checks import is_number  # noqa: E402
from torchann.runs.folders import write_json  # noqa: E402
from torchann.runs.interrupt import InterruptFlag, Stopped  # noqa: E402
from torchann.runs.weights import export_weights  # noqa: E402
from torchann.training.history import EpochEnd, History  # noqa: E402
from torchann.viz.animation import Snapshots, choose_frames, render_frames, save_gif  # noqa: E402
from torchann.viz.neurons import (draw_hidden_units, hidden_units_figure,  # noqa: E402
                                  supports_hidden_units)
from torchann.viz.neurons import figure_size as neuron_figure_size  # noqa: E402
from torchann.viz.plots import TRAINING_FIGSIZE  # noqa: E402
from torchann.viz.progress import ProgressPrinter, every_k_epochs  # noqa: E402

# The settings shown in TensorBoard's HPARAMS tab (with the experiment's data settings).
HPARAMS = ("architecture", "epochs", "lr", "anneal", "hidden", "batch_size", "seed", "dtype")
# The files a resumed run that trains further renames to <stem>.epoch<N><suffix>, with
# every other figure an experiment measured (Results.figures); summary.json last: until
# it is renamed, the next resume knows what to keep.
KEPT_OUTPUTS = ("figure.png", "weights.json", "learning.gif", "hidden_units.png",
                "hidden_units.gif", "summary.json")
KEPT_NAME = re.compile(r"\.epoch\d+(-\d+)?\.")  # what _keep_previous names a kept file


@dataclass
class Results:
    """What an experiment measures on its trained net: numbers for ``summary.json`` and
    TensorBoard's ``trained/`` metrics, and figures saved as ``<name>.png`` and logged
    as ``views/<name>``."""

    numbers: dict = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)


def run_record(folder: Path) -> dict:
    """The run's ``summary.json`` (written last, so its presence means the outputs are
    complete), or ``{}`` when there is none that can be read."""
    try:
        record = json.loads((Path(folder) / "summary.json").read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


class Timed:
    """A callback wrapped to add up the seconds spent in it."""

    def __init__(self, callback):
        self.callback, self.seconds = callback, 0.0

    def __call__(self, state):
        start = time.perf_counter()
        self.callback(state)
        self.seconds += time.perf_counter() - start

    def __getattr__(self, name):  # the callback's other hooks (on_start, ...) pass through
        return getattr(self.callback, name)

    @property
    def state_key(self) -> str:  # a checkpoint files the callback's state under its own name
        return type(self.callback).__name__


def _keep_previous(path: Path, epoch: int) -> None:
    """Rename ``path`` (if it exists) to ``<stem>.epoch<N><suffix>``, never over a file."""
    if path.exists():
        target, n = path.with_name(f"{path.stem}.epoch{epoch}{path.suffix}"), 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.stem}.epoch{epoch}-{n}{path.suffix}")
        path.rename(target)


def _logger(folder, **kwargs):
    from torchann.viz.tensorboard import TensorBoardLogger  # imported when used: it is slow
    return TensorBoardLogger(folder, **kwargs) if folder else TensorBoardLogger.staged(**kwargs)


class Recorder:
    """Everything a training run writes besides its checkpoint; a context manager that
    closes its TensorBoard writers however the run ends.

    ``run`` is the opened run (``experiments.common.Run``: its settings, folder, the
    checkpoint a resume continues from, whether epochs are left, what summary.json
    shows); ``draw(figure, state)`` is the experiment's picture of a training state.
    """

    def __init__(self, run, *, title: str, draw, loss: str = "squared", command: str):
        self.folder, self.settings, self.title, self.draw = run.folder, run.settings, title, draw
        self.resumed, self.to_train, self.recorded = run.saved, run.to_train, run.recorded
        self.loss, self.command = loss, command
        settings = run.settings
        self.say = (lambda *a: None) if settings.quiet else print
        self.timing: dict[str, float] = {}
        self.logger = None
        if settings.tensorboard:
            # A resumed run drops the events earlier sessions logged after its checkpoint
            # (and, re-recording a finished run, its last epoch's: logged again below).
            purge = None if run.saved is None else run.saved["epoch"] + (1 if run.to_train else 0)
            self.logger = _logger(run.folder, purge_step=purge, loss=loss)
        keep_frames = settings.animate or (self.logger is not None and settings.images)
        self.snapshots = Snapshots(settings.epochs) if keep_frames else None
        progress = None if settings.quiet else ProgressPrinter(every_k_epochs(settings.epochs))
        self.timed = [Timed(c) for c in (self.logger, self.snapshots, progress) if c is not None]

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        if self.logger is not None:
            self.logger.close()

    def config_text(self, architecture: str) -> None:
        """The run's settings as TensorBoard text, once, when the run starts."""
        if self.logger is not None and self.resumed is None:
            self.logger.add_text("config", "\n".join(
                f"    {k} = {v}" for k, v in self._flat(architecture).items()))

    def _flat(self, architecture: str) -> dict:
        flat = {"architecture": architecture, **asdict(self.settings)}
        flat.update(flat.pop("data"))
        if flat.get("hidden") is None:
            flat.pop("hidden")  # a single-layer net has no hidden units to count
        return flat

    @contextmanager
    def training(self):
        """Time the training (less the time its callbacks took)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            in_callbacks = sum(c.seconds for c in self.timed)
            self.timing["training"] = time.perf_counter() - start - in_callbacks
            self.timing["callbacks"] = in_callbacks

    def figure_of(self, state: EpochEnd) -> Figure:
        figure = Figure(figsize=TRAINING_FIGSIZE)
        self.draw(figure, state)
        figure.suptitle(self.title)
        return figure

    def record(self, model, inputs, targets, history: History, measure=None,
               describe: dict | None = None) -> dict:
        """Write the outputs of the trained run and return its summary. A stop signal from
        here on ends the writing with a message (exit 128 + its number); ``--resume``
        finishes it. A write that fails (a full disk) is one line, exit status 2."""
        staged = None
        try:
            with InterruptFlag(raise_at_once=True):
                if self.logger is not None:
                    staged = _logger(None, loss=self.loss)
                summary = self._write(model, inputs, targets, history, measure, describe, staged)
        except Stopped as stop:
            print(f"\nStopped by {stop} while writing the outputs. Training is complete and "
                  f"saved in {self.folder / 'checkpoint.pt'}.\nFinish with: {self.command} "
                  f"--resume {self.folder}", file=sys.stderr)
            raise SystemExit(128 + stop.signum) from None
        except OSError as error:  # a full disk, or a folder made read-only during the run
            print(f"error: could not write {error.filename or self.folder}: "
                  f"{error.strerror or error}", file=sys.stderr)
            raise SystemExit(2) from None
        finally:
            if staged is not None:  # not published if the run stopped: drop what it staged
                staged.discard()
        self._report(summary)
        return summary

    def _write(self, model, inputs, targets, history, measure, describe, staged) -> dict:
        s, folder, timing = self.settings, self.folder, self.timing
        start = time.perf_counter()
        last = lambda values: values[-1] if values else None  # noqa: E731
        final = EpochEnd(len(history.loss), s.epochs, history.loss[-1], history.lr[-1],
                         last(history.accuracy), model, inputs, targets, history,
                         online_loss=history.online_loss[-1], val_loss=last(history.val_loss),
                         val_accuracy=last(history.val_accuracy))
        if staged is not None and not self.to_train:  # the last epoch's points, purged above
            like = next(model.parameters())
            staged(replace(final, inputs=inputs.to(like), targets=targets.to(like)))
        if isinstance(self.recorded, int):  # a finished run trained further: keep its outputs
            measured = sorted(p.name for p in folder.glob("*.png")  # digits' figures, ...
                              if p.name not in KEPT_OUTPUTS and not KEPT_NAME.search(p.name))
            for name in (*measured, *KEPT_OUTPUTS):  # summary.json last
                _keep_previous(folder / name, self.recorded)
        files = {"figure": folder / "figure.png", "weights": folder / "weights.json",
                 "checkpoint": folder / "checkpoint.pt"}
        figures = {"final": self.figure_of(final)}
        figures["final"].savefig(files["figure"], dpi=100)
        if supports_hidden_units(model):  # one panel per hidden unit (torchann/viz/neurons.py)
            figures["hidden_units"] = hidden_units_figure(final, self.title)
            files["hidden_units"] = folder / "hidden_units.png"
            figures["hidden_units"].savefig(files["hidden_units"], dpi=100)
        export_weights(model, files["weights"])
        timing["figure"] = time.perf_counter() - start
        results = measure(model) if measure is not None else Results()
        for name, figure in results.figures.items():
            files[name] = folder / f"{name}.png"
            figure.savefig(files[name], dpi=90)
            figures[name] = figure
        frames = self.snapshots.frames if self.snapshots is not None else []
        if staged is not None and s.images and frames:
            start = time.perf_counter()
            canvas = Figure(figsize=TRAINING_FIGSIZE)
            for frame in render_frames(choose_frames(frames, s.images), model, inputs, targets,
                                       history, s.epochs, self.draw, canvas, self.title):
                staged.add_figure("views/learning", canvas, frame.epoch)
            timing["tensorboard_images"] = time.perf_counter() - start
        if s.animate and frames:
            start = time.perf_counter()
            chosen = choose_frames(frames, s.frames)
            files["animation"] = save_gif(folder / "learning.gif", chosen, model, inputs, targets,
                                          history, s.epochs, self.draw, figsize=TRAINING_FIGSIZE,
                                          title=self.title)
            if "hidden_units" in files:
                files["hidden_units_animation"] = save_gif(
                    folder / "hidden_units.gif", chosen, model, inputs, targets, history,
                    s.epochs, draw_hidden_units, figsize=neuron_figure_size(model),
                    title=self.title)
            timing["animation"] = time.perf_counter() - start
            self.say(f"saved {files['animation']} ({len(chosen)} frames, epochs "
                     f"{chosen[0].epoch} to {chosen[-1].epoch})")
        seconds, device = history.seconds, next(model.parameters()).device.type
        summary = {
            "experiment": s.experiment, "final_loss": history.loss[-1],
            "accuracy": last(history.accuracy), "epochs": len(history.loss),
            "steps": history.steps, "seconds": seconds,
            "steps_per_second": history.steps / seconds if seconds > 0 else None,
            "device": device, "torch": torch.__version__, "architecture": model.architecture(),
            "run_dir": str(folder), **{k: str(v) for k, v in files.items()},
            "config": asdict(s), **({"dataset": describe} if describe else {}),
            **results.numbers, "timing_seconds": timing, "history": history.to_dict(),
        }
        if staged is not None:
            start = time.perf_counter()
            for name, figure in figures.items():
                staged.add_figure(f"views/{name}", figure, summary["epochs"])
            metrics = {"trained/final_loss": summary["final_loss"]}
            if summary["accuracy"] is not None:
                metrics["trained/accuracy"] = summary["accuracy"]
            metrics.update({f"trained/{k}": v for k, v in results.numbers.items()
                            if is_number(v)})
            knobs = (*HPARAMS, *s.data)
            staged.add_hparams({k: v for k, v in self._flat(summary["architecture"]).items()
                                if k in knobs}, metrics)
            staged.add_text("results", "\n".join(
                f"    {k.removeprefix('trained/')} = {v:.6g}" for k, v in metrics.items()))
            staged.publish(folder, f"outputs-epoch{summary['epochs']}")
            timing["tensorboard_final"] = time.perf_counter() - start
        write_json(folder / "summary.json", summary)
        return summary

    def _report(self, summary: dict) -> None:
        accuracy = "" if summary["accuracy"] is None else \
            f", training accuracy {100 * summary['accuracy']:.1f}%"
        rate = summary["steps_per_second"] or 0
        self.say(f"\nDone: {summary['epochs']} epochs ({summary['steps']:,} updates) in "
                 f"{summary['seconds']:.2f} s = {rate:,.0f} updates/s on {summary['device']}. "
                 f"Final loss {summary['final_loss']:.4g}{accuracy}. Wrote {summary['figure']} "
                 f"and {self.folder / 'summary.json'}" +
                 (f"; watch it with: tensorboard --logdir {self.settings.logdir}"
                  if self.settings.tensorboard else "."))


def record_figure(experiment: str, args, folder: Path, figure: Figure, summary: dict,
                  scalars: dict[str, list[float]] | None = None, *,
                  scalar_steps: list[int] | None = None, figure_name: str = "figure.png") -> dict:
    """The outputs of an experiment that draws without training: the figure, ``summary.json``
    and, with TensorBoard, the figure as ``views/final`` and any scalar series (each at
    ``scalar_steps``, default 0, 1, 2, ...)."""
    path = folder / figure_name
    figure.savefig(path, dpi=100)
    summary = {"experiment": experiment, "run_dir": str(folder), "figure": str(path),
               "torch": torch.__version__, **summary}
    if args.tensorboard:
        with _logger(folder) as logger:
            logger.add_figure("views/final", figure, 0)
            for tag, values in (scalars or {}).items():
                for step, value in zip(scalar_steps or range(len(values)), values):
                    logger.writer.add_scalar(tag, value, step)
    write_json(folder / "summary.json", summary)
    if not args.quiet:
        print(f"Wrote {path} and {folder / 'summary.json'}")
    return summary
