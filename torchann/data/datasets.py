"""Real datasets, split and standardised: beyond the seed's toy problems.

scikit-learn ships small classic datasets inside its package (no download):
handwritten ``digits`` (8x8 images, 10 classes), ``breast_cancer`` (30
features, 2 classes), ``iris`` (4 features, 3 classes) and ``wine`` (13
features, 3 classes), plus generators for ``moons`` and ``circles``. We add a
two- or three-armed ``spiral``. For regression it ships ``diabetes`` (10
features, one continuous target: disease progression after a year).
scikit-learn is an optional extra (``pip install torchann[data]``); only the
spiral works without it.

Every dataset is split into train / validation / test with a seed, and the
inputs are standardised with the mean and standard deviation of the
*training* split only, so nothing about the held-out data leaks into training.
Two classes give one target column of 0/1 (for a sigmoid output); more give
one-hot rows (for a softmax output). A regression target is one column,
standardised like the inputs (``Split.target_mean`` and ``target_std`` undo it),
for an identity output and the squared error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["CLASSIFICATION", "REGRESSION", "DATASETS", "Split", "load", "spiral",
           "r2_score", "require_sklearn"]

CLASSIFICATION = ("digits", "breast_cancer", "iris", "wine", "moons", "circles", "spiral")
REGRESSION = ("diabetes",)
DATASETS = CLASSIFICATION + REGRESSION


def require_sklearn():
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError("this dataset comes with scikit-learn, which is not installed; "
                          "install it with: bash scripts/setup.sh data (or pip install "
                          "'torchann[data]')") from None
    return sklearn.datasets


@dataclass
class Split:
    """Standardised train / validation / test tensors (float64, CPU)."""

    name: str
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    classes: list[str]   # empty for a regression dataset
    mean: torch.Tensor
    std: torch.Tensor
    target_mean: float = 0.0   # regression: targets were (y - target_mean) / target_std
    target_std: float = 1.0

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return "classification" if self.classes else "regression"

    @property
    def n_in(self) -> int:
        return self.train[0].shape[1]

    @property
    def n_out(self) -> int:
        return self.train[1].shape[1]


def spiral(n: int = 600, arms: int = 2, noise: float = 0.2, seed: int = 0):
    """``arms`` interleaved spiral arms in the plane, one class each (n points in all)."""
    if arms < 2:
        raise ValueError(f"a spiral needs at least 2 arms, got {arms}")
    g = torch.Generator().manual_seed(seed)
    per = n // arms
    radius = torch.linspace(0.05, 1.0, per, dtype=torch.float64).repeat(arms)
    label = torch.arange(arms).repeat_interleave(per)
    angle = radius * 3.5 * math.pi + label * (2 * math.pi / arms)
    angle = angle + noise * torch.randn(angle.shape, generator=g, dtype=torch.float64)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x, label


def _raw(name: str, seed: int):
    if name == "spiral":
        x, y = spiral(seed=seed)
        return x, y, ["arm 0", "arm 1"]
    sk = require_sklearn()
    if name == "diabetes":
        bunch = sk.load_diabetes(scaled=False)  # the original units; we standardise below
        return (torch.as_tensor(bunch.data, dtype=torch.float64),
                torch.as_tensor(bunch.target, dtype=torch.float64), [])
    if name == "moons":
        x, y = sk.make_moons(n_samples=600, noise=0.2, random_state=seed)
        names = ["upper", "lower"]
    elif name == "circles":
        x, y = sk.make_circles(n_samples=600, noise=0.1, factor=0.5, random_state=seed)
        names = ["outer", "inner"]
    else:
        bunch = {"digits": sk.load_digits, "breast_cancer": sk.load_breast_cancer,
                 "iris": sk.load_iris, "wine": sk.load_wine}[name]()
        x, y, names = bunch.data, bunch.target, [str(c) for c in bunch.target_names]
    return torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.long), names


def load(name: str, *, seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15,
         train_size: int | None = None) -> Split:
    """Load ``name``, shuffle with ``seed``, split, standardise on the training split.

    ``train_size`` keeps only that many training examples (to make overfitting
    visible); validation and test splits are unchanged by it.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets are: {', '.join(DATASETS)}")
    for label, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < fraction < 1:
            raise ValueError(f"{label} must be between 0 and 1, got {fraction}")
    if val_fraction + test_fraction >= 0.9:
        raise ValueError("val_fraction + test_fraction must leave at least 10% for training")
    x, y, names = _raw(name, seed)
    n = len(x)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    x, y = x[order], y[order]
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    n_train = n - n_test - n_val
    if train_size is not None and not 1 <= train_size <= n_train:
        raise ValueError(f"train_size must be between 1 and {n_train} for {name}, got {train_size}")
    parts = {"train": slice(0, train_size or n_train), "val": slice(n_train, n_train + n_val),
             "test": slice(n_train + n_val, n)}
    train_x = x[parts["train"]]
    mean = train_x.mean(dim=0)
    # one training example has no spread to measure: leave the scale alone then
    std = train_x.std(dim=0) if len(train_x) > 1 else torch.ones_like(mean)
    std = torch.where(std > 0, std, torch.ones_like(std))  # constant pixels in digits
    target_mean, target_std = 0.0, 1.0
    if name in REGRESSION:
        train_y = y[parts["train"]]
        if len(train_y) < 2:
            raise ValueError(f"{name} is a regression dataset: standardising its target needs "
                             f"at least 2 training examples, got train_size={len(train_y)}")
        target_mean, target_std = float(train_y.mean()), float(train_y.std())
        if not target_std > 0:
            raise ValueError(f"the training targets of {name} are all equal ({target_mean:g}): "
                             "there is nothing to regress; use a larger train_size")
        targets = ((y - target_mean) / target_std).unsqueeze(1)
    elif int(y.max()) + 1 == 2:
        targets = y.double().unsqueeze(1)
    else:
        targets = torch.nn.functional.one_hot(y, int(y.max()) + 1).double()
    scaled = {k: ((x[s] - mean) / std, targets[s]) for k, s in parts.items()}
    return Split(name, scaled["train"], scaled["val"], scaled["test"], names, mean, std,
                 target_mean, target_std)


def r2_score(predictions, targets) -> float:
    """The coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², as in scikit-learn.

    1 is a perfect fit; 0 is no better than always predicting the mean of
    ``targets``. Unchanged by standardising targets and predictions alike.
    With several output columns, each column gets its own R² and the result
    is their mean; a column whose targets are all equal scores 1 if it is
    predicted exactly and 0 otherwise.
    """
    predictions = torch.as_tensor(predictions).double()
    targets = torch.as_tensor(targets).double()
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions {tuple(predictions.shape)} and targets "
                         f"{tuple(targets.shape)} must have the same shape")
    if targets.dim() not in (1, 2) or targets.shape[0] < 2:
        raise ValueError("r2_score needs at least 2 rows of (n,) or (n, outputs) values, got "
                         f"shape {tuple(targets.shape)}")
    if targets.dim() == 1:
        predictions, targets = predictions.unsqueeze(1), targets.unsqueeze(1)
    residual = (targets - predictions).square().sum(dim=0)
    total = (targets - targets.mean(dim=0)).square().sum(dim=0)
    exact = (residual == 0).double()
    tiny = torch.finfo(total.dtype).tiny  # where() computes both branches: never divide by 0
    per_column = torch.where(total > 0, 1 - residual / total.clamp_min(tiny), exact)
    return float(per_column.mean())
