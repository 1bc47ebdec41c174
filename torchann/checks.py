"""Every argument check, once: the library calls these, and the experiments' flag types
are built from them (``experiments/flags.py``), so a setting is judged by one function.

Every check runs before any training work starts and raises ``ValueError`` or
``TypeError`` with a message that names the argument, the bad value and what
is allowed. :func:`check_memory` is the one place that refuses sizes that
cannot fit, before anything is allocated.
"""

from __future__ import annotations

import math
import numbers
import os

import torch
from torch import nn

from torchann.losses import LOSSES

__all__ = ["is_integer", "is_number", "check_int", "check_learning_rate", "check_anneal", "check_batch_size",
           "check_seed", "check_dtype", "check_loss_fits_output", "as_training_data",
           "resolve_device", "memory_limit", "check_memory", "check_targets_fit_loss", "DTYPES"]

# Seeds are stored by torch.Generator as unsigned 64-bit numbers; negative ones wrap around.
SEED_RANGE = (-(2 ** 63), 2 ** 64 - 1)
MEMORY_LIMIT_VARIABLE = "TORCHANN_MEMORY_LIMIT"
DTYPES = {"float32": torch.float32, "float64": torch.float64}  # the dtypes files and flags name


def is_integer(value) -> bool:
    """A whole number, and not a bool (``True`` is an ``int`` to Python, never to us)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    """An int or a float, and not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int(name: str, value, minimum: int = 1) -> int:
    if not is_integer(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_seed(seed) -> int:
    if not is_integer(seed):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise ValueError(f"seed must fit in 64 bits ({SEED_RANGE[0]} to {SEED_RANGE[1]}), "
                         f"got {seed}")
    return int(seed)


def _parse_bytes(text: str) -> int:
    """'8G', '512M', '2.5e9' -> bytes (K, M, G, T are powers of 1024)."""
    text = text.strip().upper().removesuffix("B")
    scale = 1024 ** ("KMGT".index(text[-1]) + 1) if text and text[-1] in "KMGT" else 1
    value = float(text[:-1] if scale > 1 else text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError
    return int(value * scale)


def memory_limit() -> int:
    """Bytes one run may plan to use: ``$TORCHANN_MEMORY_LIMIT`` ('8G', '500M', bytes) if
    set, else half of the memory the machine has available now."""
    setting = os.environ.get(MEMORY_LIMIT_VARIABLE)
    if setting:
        try:
            return _parse_bytes(setting)
        except (ValueError, IndexError):
            raise ValueError(f"{MEMORY_LIMIT_VARIABLE}={setting!r} is not a size; use for "
                             "example 8G, 512M or a number of bytes") from None
    available = _available_memory()
    return 2 ** 63 if available is None else available // 2


def _available_memory() -> int | None:
    """What the machine can give without swapping: Linux's MemAvailable (free memory plus
    caches it can drop), else the physical memory; None where neither can be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:,.0f} {unit}" if unit == "bytes" else f"{nbytes:,.1f} {unit}"
        nbytes /= 1024
    return ""


def check_memory(nbytes: float, what: str) -> None:
    """Refuse, before allocating, a plan that needs more than :func:`memory_limit` bytes.

    ``nbytes`` is an estimate from the sizes alone; ``what`` names what needs it.
    Failing here costs nothing, while running out of memory halfway through can
    take the whole machine down with it.
    """
    if nbytes < 2 ** 26:  # under 64 MB always fits: skip reading the machine's memory
        return
    limit = memory_limit()
    if nbytes > limit:
        source = (f"set by {MEMORY_LIMIT_VARIABLE}" if os.environ.get(MEMORY_LIMIT_VARIABLE) else
                  f"half the available memory; set {MEMORY_LIMIT_VARIABLE}, e.g. to 64G, to change it")
        raise ValueError(f"{what} would need about {_size(nbytes)} of memory, more than the "
                         f"limit of {_size(limit)} ({source})")


def check_dtype(dtype) -> torch.dtype:
    """``None`` means torch's default dtype; anything else must be a real floating dtype."""
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point or dtype.is_complex:
        raise TypeError(f"dtype must be a real floating-point torch dtype (e.g. torch.float32 or "
                        f"torch.float64), got {dtype!r}")
    return dtype


def check_loss_fits_output(loss, model: nn.Module) -> None:
    """The cross-entropies take probabilities: they need a sigmoid or softmax output layer."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid losses are: {', '.join(LOSSES)}")
    layers = getattr(model, "layers", None)
    if loss != "squared" and layers is not None and \
            layers[-1].activation not in ("sigmoid", "softmax"):
        raise ValueError(f"loss {loss!r} needs outputs in [0, 1]: give the net a sigmoid or "
                         f"softmax output (it has {layers[-1].activation!r})")


def check_targets_fit_loss(loss: str, targets: torch.Tensor) -> None:
    """The cross-entropies compare probabilities: their targets must lie in [0, 1]."""
    if loss in ("bce", "ce") and not bool(((targets >= 0) & (targets <= 1)).all()):
        bad = targets[(targets < 0) | (targets > 1)][0].item()
        raise ValueError(f"loss {loss!r} needs targets between 0 and 1 (class labels as 0/1 or "
                         f"one-hot rows), got {bad:g}")


def check_learning_rate(lr, dtype: torch.dtype | None = None) -> float:
    """A finite number > 0, and (given the run's ``dtype``) one that dtype can hold."""
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"lr must be a number, got {lr!r}")
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    if dtype is not None and lr > torch.finfo(dtype).max:
        raise ValueError(f"lr {lr:g} is larger than any {dtype} number")
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
    return min(check_int("batch_size", batch_size), n_observations)


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
