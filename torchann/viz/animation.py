"""Watching a network learn: snapshots during ``fit``, frames chosen where the picture changes.

:class:`Snapshots` is a ``fit`` callback that keeps the parameters of the
untrained net (epoch 0) and of every epoch after it, with how far the net's
outputs on the training data moved since the epoch before -- a few small
tensors, so training speed is unaffected. :func:`choose_frames` then picks
frames evenly along that movement rather than evenly in time: a net that
learns XOR in 20 epochs of 300 gets most of its frames in those 20, where
there is something to see. :func:`render_frames` replays the chosen frames
through a ``draw(figure, state)`` function (the one that draws the final
PNG), for TensorBoard images; :func:`save_gif` makes them an animated GIF.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from torchann.train import EpochEnd, History

__all__ = ["Frame", "Snapshots", "choose_frames", "render_frames", "save_gif"]

Draw = Callable[..., None]


@dataclass(frozen=True)
class Frame:
    epoch: int
    parameters: list[torch.Tensor]
    change: float  # mean |Δ output| on the training data since the previous frame


class Snapshots:
    """Keep a :class:`Frame` of epoch 0 and of every epoch (of about 1,000 over long runs)."""

    def __init__(self, epochs: int):
        self.stride = max(1, -(-epochs // 1000))
        self.frames: list[Frame] = []
        self._outputs = None

    def on_start(self, state: EpochEnd) -> None:
        self._keep(state)

    def __call__(self, state: EpochEnd) -> None:
        if state.epoch % self.stride == 0 or state.epoch == state.epochs:
            self._keep(state)

    def state_dict(self) -> dict:
        """The frames so far, for a checkpoint: a resumed run's pictures start at epoch 0 too."""
        if not self.frames:
            return {}
        columns = zip(*(frame.parameters for frame in self.frames))
        return {"epochs": torch.tensor([frame.epoch for frame in self.frames]),
                "changes": torch.tensor([frame.change for frame in self.frames],
                                        dtype=torch.float64),
                "parameters": [torch.stack(values).cpu() for values in columns],
                "outputs": self._outputs.cpu()}

    def load_state_dict(self, state) -> None:
        if not state:
            return
        rows = zip(*state["parameters"])  # one tuple of parameters per frame
        self.frames = [Frame(int(epoch), list(params), float(change)) for epoch, change, params
                       in zip(state["epochs"].tolist(), state["changes"].tolist(), rows)]
        self._outputs = state["outputs"]

    @torch.no_grad()
    def _keep(self, state: EpochEnd) -> None:
        outputs = state.model(state.inputs)
        change = 0.0 if self._outputs is None else \
            float((outputs - self._outputs.to(outputs.device)).abs().mean())
        self._outputs = outputs
        params = [p.detach().clone() for p in state.model.parameters()]
        self.frames.append(Frame(state.epoch, params, change))


def choose_frames(frames: list[Frame], count: int) -> list[Frame]:
    """About ``count`` frames, evenly spaced in accumulated output change; first and last kept."""
    if len(frames) <= count:
        return list(frames)
    travelled = np.cumsum([frame.change for frame in frames])
    if travelled[-1] <= 0:  # nothing moved: fall back to evenly in time
        picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    else:
        targets = np.linspace(0, travelled[-1], count)
        picks = np.searchsorted(travelled, targets).clip(0, len(frames) - 1)
    return [frames[i] for i in sorted({0, *picks.tolist(), len(frames) - 1})]


def _history_at(history: History, epoch: int) -> History:
    return History(loss=history.loss[:epoch], online_loss=history.online_loss[:epoch],
                   initial_loss=history.initial_loss, accuracy=history.accuracy[:epoch],
                   lr=history.lr[:epoch])


def render_frames(frames: list[Frame], model: torch.nn.Module, inputs: torch.Tensor,
                  targets: torch.Tensor, history: History, epochs: int, draw: Draw, figure: Figure,
                  title: str | None = None) -> Iterator[Frame]:
    """Draw each frame into ``figure`` in turn, on a copy of ``model``, yielding it once drawn."""
    model = copy.deepcopy(model)
    curve = history.loss_curve()
    top = max(curve) if curve else 1.0  # every frame shares the loss axis
    for frame in frames:
        with torch.no_grad():
            for p, value in zip(model.parameters(), frame.parameters):
                p.copy_(value)
        past = _history_at(history, frame.epoch)
        loss = past.loss[-1] if past.loss else history.initial_loss
        accuracy = past.accuracy[-1] if past.accuracy else history.initial_accuracy
        lr = past.lr[-1] if past.lr else float("nan")
        state = EpochEnd(frame.epoch, epochs, loss, lr, accuracy, model, inputs, targets, past)
        figure.clear()
        draw(figure, state, loss_ylim=(0.0, top * 1.05))
        if title:
            figure.suptitle(title)
        yield frame


def save_gif(path: str | Path, frames: list[Frame], model: torch.nn.Module, inputs: torch.Tensor,
             targets: torch.Tensor, history: History, epochs: int, draw: Draw, *,
             figsize: tuple[float, float], title: str | None = None, fps: int = 6,
             dpi: int = 96) -> Path:
    """Render ``frames`` into an animated GIF (at least 900 px wide at the default size);
    the last frame is held about a second. Each frame is drawn once."""
    if not frames:
        raise ValueError("no frames to animate")
    path = Path(path)
    figure = Figure(figsize=figsize, dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    images = []
    for _ in render_frames(frames, model, inputs, targets, history, epochs, draw, figure, title):
        canvas.draw()
        images.append(Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                       "raw", "RGBA", 0, 1).convert("RGB"))
    shown = round(1000 / fps)  # milliseconds per frame
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=[shown] * (len(images) - 1) + [shown * (1 + max(1, fps))])
    return path
