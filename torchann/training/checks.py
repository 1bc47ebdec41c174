"""Argument checks shared by ``fit`` and the experiments.

Every check runs before any training work starts and raises ``ValueError`` or
``TypeError`` with a message that names the argument, the bad value and what
is allowed.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

__all__ = ["check_positive_int", "check_learning_rate", "check_anneal", "check_batch_size",
           "check_seed", "check_dtype", "check_loss_fits_output", "as_training_data",
           "resolve_device"]


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return seed


def check_dtype(dtype) -> torch.dtype:
    """``None`` means torch's default dtype; anything else must be a real floating dtype."""
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point or dtype.is_complex:
        raise TypeError(f"dtype must be a real floating-point torch dtype (e.g. torch.float32 or "
                        f"torch.float64), got {dtype!r}")
    return dtype


def check_loss_fits_output(loss, model: nn.Module) -> None:
    """The cross-entropies take probabilities: they need a sigmoid or softmax output layer."""
    from torchann.losses import LOSSES
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid losses are: {', '.join(LOSSES)}")
    layers = getattr(model, "layers", None)
    if loss != "squared" and layers is not None and \
            layers[-1].activation not in ("sigmoid", "softmax"):
        raise ValueError(f"loss {loss!r} needs outputs in [0, 1]: give the net a sigmoid or "
                         f"softmax output (it has {layers[-1].activation!r})")


def check_learning_rate(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"lr must be a number, got {lr!r}")
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    return float(lr)


def check_anneal(anneal) -> float:
    if isinstance(anneal, bool) or not isinstance(anneal, numbers.Real):
        raise TypeError(f"anneal must be a number, got {anneal!r}")
    if not (0 < anneal <= 1):  # also False for NaN
        raise ValueError(f"anneal must be in (0, 1] (1 means no annealing), got {anneal}")
    return float(anneal)


def check_batch_size(batch_size, n_observations: int) -> int:
    """``None`` means the whole dataset (full-batch gradient descent)."""
    if batch_size is None:
        return n_observations
    return min(check_positive_int("batch_size", batch_size), n_observations)


def _as_matrix(name: str, data, n_columns: int) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        try:
            data = torch.as_tensor(data)
        except (TypeError, ValueError, RuntimeError) as error:
            raise TypeError(f"{name} must be a tensor or array of numbers: {error}") from None
    if data.is_complex():
        raise TypeError(f"{name} must be real-valued, got dtype {data.dtype}")
    if data.ndim == 1 and n_columns == 1:
        data = data.unsqueeze(1)  # a plain vector of values for a 1-input / 1-output net
    if data.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (observations, features) tensor, "
                         f"got shape {tuple(data.shape)}")
    if data.shape[1] != n_columns:
        raise ValueError(f"{name} has {data.shape[1]} columns but the model expects {n_columns}")
    return data


def as_training_data(model: nn.Module, inputs, targets) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate ``inputs``/``targets`` against ``model`` and move them to its device and dtype.

    Integer or boolean targets (class labels) are converted to the model's
    floating dtype, since that is what a user means by them.
    """
    parameter = next(model.parameters(), None)
    if parameter is None:
        raise ValueError("the model has no parameters to train")
    n_in = getattr(model, "n_in", None)
    n_out = getattr(model, "n_out", None)
    if n_in is None or n_out is None:
        raise TypeError("the model must expose n_in and n_out (as torchann's nets do)")
    inputs = _as_matrix("inputs", inputs, n_in)
    targets = _as_matrix("targets", targets, n_out)
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"inputs has {inputs.shape[0]} observations but targets has "
                         f"{targets.shape[0]}; they must match")
    if inputs.shape[0] == 0:
        raise ValueError("the dataset is empty: inputs and targets have 0 observations")
    inputs = inputs.to(device=parameter.device, dtype=parameter.dtype)
    targets = targets.to(device=parameter.device, dtype=parameter.dtype)
    for name, data in (("inputs", inputs), ("targets", targets)):
        if not bool(torch.isfinite(data).all()):
            bad = (~torch.isfinite(data)).nonzero()[0].tolist()
            raise ValueError(f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    return inputs, targets


def resolve_device(name: str) -> torch.device:
    """``"auto"`` picks CUDA when present; ``"cuda"`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for but no CUDA GPU is available; "
                         "use the CPU instead (device 'cpu', or 'auto' to pick a GPU when present)")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {name!r}; use auto, cpu or cuda")
    return device
