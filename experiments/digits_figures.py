"""The figures of ``python -m experiments.digits``: the confusion matrix, a training frame
(validation confusion matrix | train and validation loss) and grids of small images."""

from __future__ import annotations

from typing import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure

from torchann.viz.plots import plot_loss_curve, two_panels


def plot_confusion_matrix(ax, matrix: torch.Tensor, classes: Sequence[str],
                          title: str = "confusion matrix") -> None:
    """Counts of (true class, predicted class); the diagonal is what was right."""
    counts = matrix.cpu().numpy()
    ax.imshow(counts, cmap="Blues")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                ax.text(j, i, int(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)


def confusion_figure(matrix: torch.Tensor, classes: Sequence[str], accuracy: float) -> Figure:
    """The test set's confusion matrix on its own, titled with the accuracy."""
    figure = Figure(figsize=(5.5, 5), layout="constrained")
    plot_confusion_matrix(figure.subplots(), matrix, classes,
                          f"test set: {100 * accuracy:.1f}% correct")
    return figure


def draw_classifier_training(figure: Figure, matrix: torch.Tensor, classes: Sequence[str],
                             train_loss: Sequence[float], val_loss: Sequence[float], *,
                             epoch: int, epochs: int | None = None, ylabel: str = "loss",
                             loss_ylim: tuple[float, float] | None = None) -> None:
    """A real-data training frame: validation confusion matrix | train and validation loss."""
    left, right = two_panels(figure)
    plot_confusion_matrix(left, matrix, classes, f"validation, epoch {epoch}")
    plot_loss_curve(right, train_loss, epochs=epochs, ylim=loss_ylim, ylabel=ylabel,
                    val_losses=val_loss)


def image_grid_figure(images: torch.Tensor, titles: Sequence[str], *, title: str | None = None,
                      columns: int = 8, cmap: str = "gray_r", symmetric: bool = False) -> Figure:
    """A grid of small images (N, H, W), e.g. misclassified digits or first-layer weights.

    ``symmetric=True`` (for weights) draws every image on one scale centred on
    0, with a colour bar, so a strong unit and a weak one look different; otherwise
    each image is scaled to its own range. The images are tiled into one picture
    (one axes, not one per image: that keeps a 64-image grid fast to draw).
    """
    everything = images.detach().cpu().double().numpy()
    count, height, width = everything.shape
    rows = max(1, -(-count // columns))
    gap_x, gap_y = 1, 3  # blank pixels between tiles; the row gap holds the tile titles
    limit = float(abs(everything).max()) or 1.0
    mosaic = np.full((rows * (height + gap_y), columns * (width + gap_x) - gap_x), np.nan)
    for k, values in enumerate(everything):
        if not symmetric:
            low, high = values.min(), values.max()
            values = (values - low) / ((high - low) or 1.0)
        top, left = (k // columns) * (height + gap_y) + gap_y, (k % columns) * (width + gap_x)
        mosaic[top:top + height, left:left + width] = values
    figure = Figure(figsize=(1.4 * columns + (1.0 if symmetric else 0), 1.6 * rows + 0.5),
                    layout="constrained")
    ax = figure.subplots()
    colours = matplotlib.colormaps[cmap].with_extremes(bad="white")
    shown = ax.imshow(mosaic, cmap=colours, vmin=-limit if symmetric else 0,
                      vmax=limit if symmetric else 1, interpolation="nearest")
    for k, label in enumerate(titles[:count]):
        ax.text((k % columns) * (width + gap_x) + (width - 1) / 2,
                (k // columns) * (height + gap_y) + gap_y - 1, label,
                ha="center", va="bottom", fontsize=8)
    ax.axis("off")
    if symmetric:
        figure.colorbar(shown, ax=ax, shrink=0.6, label="weight")
    if title:
        figure.suptitle(title)
    return figure
