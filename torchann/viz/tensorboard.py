"""TensorBoard glue: a ``fit`` callback that writes scalars, histograms and images.

No training logic lives here. Tags are stable and slash-separated so runs
compare in one chart: ``train/loss`` (the whole training set, from epoch 0),
``train/online_loss`` (the epoch's mean before each update), ``train/lr``,
``train/accuracy``, ``weights/<param>``, ``weight_gradients/<param>``; with validation data also
``val/loss`` and ``val/accuracy``, drawn over their training twins in one
chart each on the CUSTOM SCALARS tab ("learning curves"), where a gap between
them is overfitting you can see.

TensorBoard's Time Series page lists tag groups alphabetically and opens the
first ones, so every other group is named to sort after ``train``: pictures
under ``views/``, histograms under ``weights/`` and ``weight_gradients/``, and
an experiment's final numbers (for the HPARAMS tab) under ``trained/``.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from contextlib import suppress
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams as hparams_summary

from torchann.losses import get_loss
from torchann.runs.folders import LOCK_NAME, lock_run_dir
from torchann.training.history import EpochEnd

__all__ = ["TensorBoardLogger", "figure_to_array"]


def figure_to_array(figure: Figure, dpi: float | None = None) -> np.ndarray:
    """Render a matplotlib figure to an (H, W, 3) uint8 array (at ``dpi`` if given)."""
    if dpi is not None:
        figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


STAGING_PREFIX = "torchann-events-"  # + a random suffix (tempfile.mkdtemp)


def _remove_orphaned_staging() -> None:
    """Remove the staging folders whose process is gone, as a SIGKILL leaves them.

    A live staging logger holds its folder's lock (``runs.folders.lock_run_dir``), which
    the operating system releases when the process ends, however it ends; a folder whose
    lock this process can take is an orphan. Best effort: a folder another process
    removes meanwhile, or one that cannot be read, is left alone.
    """
    if os.name != "posix":  # no advisory locks there (runs/folders.py): a live folder looks free
        return
    with suppress(OSError):  # an unreadable temp folder: nothing to clean
        for folder in Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*"):
            try:
                info = folder.lstat()  # a symbolic link is not a folder we made
                ours = (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
                        and (folder / LOCK_NAME).is_file())  # a staging logger made it
                orphan = lock_run_dir(folder) if ours else None
            except (OSError, ValueError):  # gone meanwhile, or its process holds the lock
                continue
            if orphan is not None:
                with orphan:
                    shutil.rmtree(folder, ignore_errors=True)


class TensorBoardLogger:
    """Log each epoch of ``fit`` to ``log_dir``.

    Before training (epoch 0) and every epoch: ``train/loss`` and (for
    classification) ``train/accuracy``; every epoch also ``train/online_loss``
    and ``train/lr``. Every ``histogram_every`` epochs (and the first and last):
    histograms of each parameter and of its full-batch gradient at that point.
    Figures are added with :meth:`add_figure`.
    """

    def __init__(self, log_dir: str | Path, *, histogram_every: int = 10,
                 purge_step: int | None = None, loss: str = "squared"):
        self.log_dir = Path(log_dir)
        # purge_step: when a run resumes from a checkpoint, TensorBoard drops events
        # that earlier sessions logged at or after this step, so nothing appears twice.
        self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=purge_step)
        self.histogram_every = histogram_every
        self.loss = get_loss(loss)  # the training loss, for the gradient histograms
        self._curves_laid_out = False
        self._staging_lock = None  # staged: the lock that tells other processes it is in use

    def on_start(self, state: EpochEnd) -> None:
        """Epoch 0, the untrained net: the first point of every training curve."""
        self.writer.add_scalar("train/loss", state.loss, 0)
        if state.accuracy is not None:
            self.writer.add_scalar("train/accuracy", state.accuracy, 0)

    def __call__(self, state: EpochEnd) -> None:
        w, step = self.writer, state.epoch
        w.add_scalar("train/loss", state.loss, step)
        w.add_scalar("train/online_loss", state.online_loss, step)
        w.add_scalar("train/lr", state.lr, step)
        if state.accuracy is not None:
            w.add_scalar("train/accuracy", state.accuracy, step)
        if state.val_loss is not None:
            if not self._curves_laid_out:
                self._lay_out_learning_curves(with_accuracy=state.val_accuracy is not None)
            w.add_scalar("val/loss", state.val_loss, step)
        if state.val_accuracy is not None:
            w.add_scalar("val/accuracy", state.val_accuracy, step)
        last = state.epoch == state.epochs
        if self.histogram_every and (step % self.histogram_every == 0 or last or step == 1):
            self._log_histograms(state)

    def _lay_out_learning_curves(self, with_accuracy: bool) -> None:
        """Tell TensorBoard to draw train/ and val/ of each metric in one chart (once per run)."""
        charts = {"loss": ["Multiline", ["train/loss", "val/loss"]]}
        if with_accuracy:
            charts["accuracy"] = ["Multiline", ["train/accuracy", "val/accuracy"]]
        self.writer.add_custom_scalars({"learning curves": charts})
        self._curves_laid_out = True

    def _log_histograms(self, state: EpochEnd) -> None:
        named = [(name, p) for name, p in state.model.named_parameters() if p.requires_grad]
        loss = self.loss(state.model(state.inputs), state.targets)
        grads = torch.autograd.grad(loss, [p for _, p in named])
        for (name, p), g in zip(named, grads):
            for tag, values in ((f"weights/{name}", p), (f"weight_gradients/{name}", g)):
                values = values.detach().cpu().flatten()
                values = values[torch.isfinite(values)]  # a histogram cannot bin NaN or inf
                if not values.numel():
                    continue
                try:
                    self.writer.add_histogram(tag, values.double(), state.epoch)
                except ValueError:
                    # Values past TensorBoard's largest bin (1e20) or too close together
                    # to bin: only seen in a run that is blowing up; skip, don't crash.
                    continue

    def state_dict(self) -> dict:
        """Called when a checkpoint is written: flush, so every point up to the checkpoint is
        on disk. A run killed later and resumed from it then loses no point (the resumed
        run drops what was logged after the checkpoint, and logs it again)."""
        self.writer.flush()
        return {}

    def load_state_dict(self, state) -> None:
        """Nothing to restore: the events are in the run folder already."""

    def add_figure(self, tag: str, figure: Figure, step: int, dpi: float = 80) -> None:
        self.writer.add_image(tag, figure_to_array(figure, dpi), step, dataformats="HWC")

    def add_hparams(self, hparams: dict, metrics: dict) -> None:
        """Record this run's hyperparameters and final metrics for the HPARAMS tab.

        Written into this run's own folder (``SummaryWriter.add_hparams`` would
        make a child folder per call).
        """
        clean = {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                 for k, v in hparams.items()}
        for summary in hparams_summary(clean, metrics):
            self.writer.file_writer.add_summary(summary)
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value)

    def add_text(self, tag: str, text: str) -> None:
        self.writer.add_text(tag, text)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()

    def publish(self, run_dir: str | Path, name: str) -> Path:
        """Close, then move this logger's events into ``run_dir`` as the events file
        ``events.out.tfevents.<name>`` in one step, replacing one of that name.

        For events that must appear whole or not at all: a logger made on a
        temporary folder (:meth:`staged`) is invisible to TensorBoard until it is
        published, and publishing it again under the same name replaces it.
        """
        self.close()
        written = sorted(self.log_dir.glob("*tfevents*"))
        target = Path(run_dir) / f"events.out.tfevents.{name}"
        for i, source in enumerate(written):  # one file per writer
            final = target if i == 0 else target.with_name(f"{target.name}.{i}")
            partial = final.with_name(f".{final.name}.tmp")
            shutil.copyfile(source, partial)  # the staging folder may be on another disk
            os.replace(partial, final)
        self.discard()
        return target

    def discard(self) -> None:
        """Close, delete this logger's folder, and release its staging lock (if staged)."""
        self.close()
        shutil.rmtree(self.log_dir, ignore_errors=True)
        if self._staging_lock is not None:
            self._staging_lock.close()
            self._staging_lock = None

    @classmethod
    def staged(cls, **kwargs) -> "TensorBoardLogger":
        """A logger writing into a fresh temporary folder, outside any run: see :meth:`publish`.

        It holds the folder's lock until it is published or discarded (or its process ends),
        so a process SIGKILLed meanwhile leaves an unlocked folder, which the next call
        removes (:func:`_remove_orphaned_staging`).
        """
        _remove_orphaned_staging()
        folder = tempfile.mkdtemp(prefix=STAGING_PREFIX)
        lock = lock_run_dir(folder)
        logger = cls(folder, **kwargs)
        logger._staging_lock = lock
        return logger

    def __enter__(self) -> "TensorBoardLogger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
