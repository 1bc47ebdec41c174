"""Watching a network learn: snapshots during ``fit``, an animated GIF afterwards.

:class:`Snapshots` is a ``fit`` callback that copies the parameters and the
loss curve every ``every`` epochs -- a few small tensors, so training speed is
unaffected. :func:`save_gif` then replays them through a ``draw(figure, state)``
function (the same one that draws the final PNG) with matplotlib's animation
module and its Pillow writer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from torchann.train import EpochEnd, History

__all__ = ["Frame", "Snapshots", "save_gif"]


@dataclass(frozen=True)
class Frame:
    epoch: int
    parameters: list[torch.Tensor]
    loss: list[float]
    accuracy: list[float]
    lr: float


class Snapshots:
    """Record a :class:`Frame` at epoch 1, every ``every`` epochs, and at the last epoch."""

    def __init__(self, every: int):
        if every < 1:
            raise ValueError(f"snapshot interval must be at least 1 epoch, got {every}")
        self.every = every
        self.frames: list[Frame] = []

    def __call__(self, state: EpochEnd) -> None:
        if state.epoch == 1 or state.epoch % self.every == 0 or state.epoch == state.epochs:
            params = [p.detach().clone() for p in state.model.parameters()]
            self.frames.append(Frame(state.epoch, params, list(state.history.loss),
                                     list(state.history.accuracy), state.lr))


def save_gif(path: str | Path, frames: list[Frame], model: torch.nn.Module, inputs: torch.Tensor,
             targets: torch.Tensor, epochs: int, draw: Callable[[Figure, EpochEnd], None], *,
             figsize: tuple[float, float], title: str | None = None, fps: int = 8,
             dpi: int = 60) -> Path:
    """Render ``frames`` into an animated GIF at ``path``; the last frame is held a moment."""
    if not frames:
        raise ValueError("no frames to animate")
    path = Path(path)
    replay = copy.deepcopy(model)
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    top = max(max(frame.loss) for frame in frames)
    hold = max(1, fps)  # about one second on the final frame
    order = list(range(len(frames))) + [len(frames) - 1] * hold

    def show(index: int):
        frame = frames[order[index]]
        with torch.no_grad():
            for p, value in zip(replay.parameters(), frame.parameters):
                p.copy_(value)
        history = History(loss=frame.loss, lr=[frame.lr], accuracy=frame.accuracy)
        state = EpochEnd(frame.epoch, epochs, frame.loss[-1], frame.lr,
                         frame.accuracy[-1] if frame.accuracy else None, replay, inputs, targets,
                         history)
        figure.clear()
        draw(figure, state, loss_ylim=(0.0, top * 1.05))
        if title:
            figure.suptitle(title)
        return []

    animation = FuncAnimation(figure, show, frames=len(order), blit=False, repeat=False)
    animation.save(str(path), writer=PillowWriter(fps=fps), dpi=dpi)
    return path
