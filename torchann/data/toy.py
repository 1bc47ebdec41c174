"""The seed's toy datasets.

Classification: the corners of the unit square labelled by a logic gate (OR,
AND, XOR), or the nine-point "ring" (the centre labelled 0, the eight points
around it labelled 1). Each point is repeated ``repeats`` times, jittered with
Gaussian noise of standard deviation ``noise``, and the whole set is shuffled
once -- the seed trains on that fixed order, so these functions do the one
shuffle and ``fit(..., shuffle=False)`` keeps it.

Regression: 100 evenly spaced x in [-5, 5] with targets f(x) + noise, f being
2.5 + sin(x) or |x|. The seed trains on them in increasing x order.

Every function takes ``seed`` and draws from its own ``torch.Generator``, in
float64 on the CPU; ``fit`` moves the data to the model's device and dtype.
"""

from __future__ import annotations

import torch

from torchann.checks import check_int, check_memory, check_seed

__all__ = ["GATES", "REGRESSION_TARGETS", "corners", "logic_gate", "ring", "regression",
           "regression_function"]

_CORNERS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
GATES = {
    "or": [0.0, 1.0, 1.0, 1.0],
    "and": [0.0, 0.0, 0.0, 1.0],
    "xor": [0.0, 1.0, 1.0, 0.0],
}
# The XOR corners plus the midpoints of the square's edges and its centre;
# only the centre (0.5, 0.5) is class 0.
_RING_POINTS = _CORNERS + [[0.5, 0.5], [1.0, 0.5], [0.0, 0.5], [0.5, 0.0], [0.5, 1.0]]
_RING_LABELS = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]

REGRESSION_TARGETS = ("sin", "abs")


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(check_seed(seed))


def _check_count_noise(name: str, count: int, noise: float, rows_per_count: int = 1) -> None:
    check_int(name, count)
    if not (noise >= 0 and noise < float("inf")):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rows = count * rows_per_count
    check_memory(8 * 3 * 4 * rows, f"a data set of {rows:,} observations")  # x, t and copies


def corners(points, labels, *, repeats: int = 30, noise: float = 0.15,
            seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Repeat labelled points, add N(0, noise²) jitter, shuffle once.

    Returns inputs (n, 2) and targets (n, 1) in float64.
    """
    _check_count_noise("repeats", repeats, noise, rows_per_count=len(points))
    generator = _generator(seed)
    base = torch.tensor(points, dtype=torch.float64).repeat(repeats, 1)
    targets = torch.tensor(labels, dtype=torch.float64).repeat(repeats).unsqueeze(1)
    inputs = base + noise * torch.randn(base.shape, generator=generator, dtype=torch.float64)
    order = torch.randperm(len(inputs), generator=generator)
    return inputs[order], targets[order]


def logic_gate(gate: str, *, repeats: int = 30, noise: float = 0.15,
               seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy truth table of ``gate`` ("or", "and" or "xor"), labelled from the clean corners."""
    key = gate.lower() if isinstance(gate, str) else gate
    if key not in GATES:
        raise ValueError(f"unknown gate {gate!r}; valid gates are: {', '.join(GATES)}")
    return corners(_CORNERS, GATES[key], repeats=repeats, noise=noise, seed=seed)


def ring(*, repeats: int = 30, noise: float = 0.15,
         seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's ring: class 0 at the centre, surrounded by eight points of class 1."""
    return corners(_RING_POINTS, _RING_LABELS, repeats=repeats, noise=noise, seed=seed)


def regression_function(target: str):
    """The data-generating f(x): ``"sin"`` -> 2.5 + sin(x), ``"abs"`` -> |x|."""
    if target == "sin":
        return lambda x: 2.5 + torch.sin(x)
    if target == "abs":
        return torch.abs
    raise ValueError(f"unknown regression target {target!r}; valid targets are: "
                     f"{', '.join(REGRESSION_TARGETS)}")


def regression(target: str = "sin", *, n: int = 100, noise: float = 0.5, low: float = -5.0,
               high: float = 5.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x evenly spaced on [low, high] and y = f(x) + N(0, noise²); both (n, 1) float64."""
    f = regression_function(target)
    _check_count_noise("n", n, noise)
    if not low < high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    generator = _generator(seed)
    x = torch.linspace(low, high, n, dtype=torch.float64).unsqueeze(1)
    y = f(x) + noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
    return x, y
