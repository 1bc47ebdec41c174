"""What makes a checkpoint file trustworthy before a run resumes from it: three checks,
each run before anything trusts what the next one reads (:func:`check_archive`, then
:func:`content_checksum`, then :func:`check_run_state`)."""

from __future__ import annotations

import dataclasses
import hashlib
import reprlib
import zipfile
from pathlib import Path

import torch

from torchann.checks import is_integer, is_number
from torchann.training.history import History

__all__ = ["check_archive", "content_checksum", "check_run_state", "same", "first_line"]


def content_checksum(payload: dict, *, limit: int | None = None) -> str:
    """SHA-256 of everything in ``payload`` except its ``"checksum"`` entry.

    The content is walked in a fixed order (dicts by key) and every value is fed
    with its type, so ``1``, ``1.0``, ``True`` and ``"1"`` differ, as do a list and
    a tuple; a tensor is fed as its dtype, shape, ``requires_grad`` and raw bytes.
    Two payloads get the same sum exactly when they hold the same values.

    ``limit`` caps the number of values walked. A crafted pickle can make a list
    that holds itself, or one list shared a billion times over in a few bytes,
    and a plain walk would never end; each value a torchann checkpoint holds
    costs at least one byte of the file, so a walk longer than the file is refused.
    """
    digest, walked = hashlib.sha256(), 0

    def feed(value, depth: int) -> None:
        nonlocal walked
        walked += 1
        if depth > 32 or (limit is not None and walked > limit):
            raise ValueError("its content nests too deeply or repeats itself")
        if isinstance(value, torch.Tensor):
            digest.update(f"tensor:{value.dtype}:{tuple(value.shape)}:{value.requires_grad}:"
                          .encode())
            digest.update(_raw_bytes(value))
        elif isinstance(value, dict):
            digest.update(f"dict:{len(value)}:".encode())
            for key, item in sorted(value.items(), key=lambda pair: repr(pair[0])):
                feed(key, depth + 1)
                feed(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            digest.update(f"{type(value).__name__}:{len(value)}:".encode())
            for item in value:
                feed(item, depth + 1)
        elif value is None or isinstance(value, (bool, str)):
            digest.update(f"{type(value).__name__}:{value!r};".encode("utf-8", "surrogatepass"))
        elif isinstance(value, int):  # hex: exact, and no limit on the number of digits
            digest.update(f"int:{value:x};".encode())
        elif isinstance(value, float):
            digest.update(f"float:{value.hex()};".encode())
        else:
            raise TypeError(f"a checkpoint holds tensors and plain data (dicts, lists, "
                            f"numbers, strings), not {type(value).__name__}")

    feed({key: value for key, value in payload.items() if key != "checksum"}, 0)
    return digest.hexdigest()


def _raw_bytes(tensor: torch.Tensor):
    """The exact bits of a tensor's values (NaN payloads and -0.0 included), in order.

    Only a plain dense tensor has them; a sparse, quantized or meta one, which
    only a crafted file would hold, is refused.
    """
    if tensor.layout != torch.strided or tensor.is_quantized or tensor.is_meta:
        raise TypeError(f"a checkpoint holds plain dense tensors, not a {tensor.layout} "
                        f"{tensor.dtype} one on {tensor.device}")
    values = tensor.detach().cpu().resolve_conj().resolve_neg().contiguous()
    return values.reshape(-1).view(torch.uint8).numpy()


def same(value, kind: type, expected) -> bool:
    """``value == expected`` for a value of type ``kind`` only: a tensor (or ``True`` for
    ``1``) from a damaged file must not pass by comparing equal."""
    return type(value) is kind and value == expected


def first_line(error: BaseException, limit: int = 200) -> str:
    """An exception's message as one line of at most ``limit`` characters, to quote in
    ours (torch's can run to many lines)."""
    lines = str(error).strip().splitlines()
    return lines[0][:limit] if lines else type(error).__name__


def check_archive(path: Path, what: str = "checkpoint") -> None:
    """Refuse what is not a zip archive of stored entries that fit in the file.

    ``torch.save`` writes exactly that. Refusing anything else before
    ``torch.load`` sees it means a small file can never make it allocate much
    more than its own size (a compressed entry can inflate a thousandfold), and
    torch's older non-zip format, which torchann never writes, is never parsed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except Exception:  # zipfile raises many kinds of error on junk; all mean "not a zip"
        raise ValueError(f"{path} is not a readable {what} (not a zip archive as "
                         "torch.save writes)") from None
    if (any(entry.compress_type != zipfile.ZIP_STORED for entry in entries)
            or sum(entry.file_size for entry in entries) > path.stat().st_size):
        raise ValueError(f"{path} is not a readable {what}: its archive holds compressed "
                         "entries or entries larger than the file")


# What TrainingRun.state_dict writes and load_state_dict reads, with its type.
_RUN_STATE = {"run_id": str, "epoch": int, "step": int, "order_state": torch.Tensor,
              "partial_losses": torch.Tensor, "state_dict": dict, "history": dict,
              "fit_args": dict, "data": str, "callbacks": dict}


def check_run_state(saved, source: str = "the checkpoint") -> None:
    """Raise a one-line ``ValueError`` unless ``saved`` holds every entry a resume reads,
    each of the type and size ``TrainingRun.state_dict`` writes: a damaged or hand-made
    state is refused with its problem named, never with a KeyError or a torch error from
    deep inside ``fit``."""
    def fail(problem: str) -> ValueError:
        return ValueError(f"{source} is not a usable checkpoint: {problem}")

    if not isinstance(saved, dict):
        raise fail(f"it is a {type(saved).__name__}, not a dict")
    missing = [key for key in _RUN_STATE if key not in saved]
    if missing:
        raise fail("it has no " + ", ".join(map(repr, missing)))
    for key, kind in _RUN_STATE.items():
        if not (is_integer(saved[key]) if kind is int else isinstance(saved[key], kind)):
            raise fail(f"{key!r} is a {type(saved[key]).__name__}, not a {kind.__name__}")
    epoch, step, losses = saved["epoch"], saved["step"], saved["partial_losses"]
    if epoch < 0 or step < 0:
        raise fail(f"epoch {epoch} and step {step} cannot be negative")
    if not (losses.dtype.is_floating_point and losses.dim() == 1 and len(losses) == step):
        raise fail(f"step {step} with step losses of shape {tuple(losses.shape)}")
    if not all(isinstance(key, str) and isinstance(value, torch.Tensor)
               and value.dtype.is_floating_point for key, value in saved["state_dict"].items()):
        raise fail("'state_dict' must map parameter names to floating-point tensors")
    try:  # the one judge of a valid generator state is the generator
        torch.Generator().set_state(saved["order_state"])
    except (RuntimeError, TypeError) as error:
        raise fail(f"'order_state' is not a generator state ({first_line(error)})") from None
    problem = _history_problem(saved["history"], epoch)
    if problem:
        raise fail(problem)
    if not all(value is None or isinstance(value, (bool, int, float, str))
               for value in saved["fit_args"].values()):
        raise fail("'fit_args' must hold plain values (numbers, strings, None)")
    if not all(isinstance(key, str) and isinstance(value, dict)
               for key, value in saved["callbacks"].items()):
        raise fail("'callbacks' must map callback names to dicts")


# History's field annotations (strings, thanks to `from __future__ import annotations`),
# each with the test a saved value must pass.
_FIELD_CHECKS = {"list[float]": lambda v: isinstance(v, list) and all(map(is_number, v)),
                 "float | None": lambda v: v is None or is_number(v),
                 "int | None": lambda v: v is None or is_integer(v),
                 "float": is_number, "int": is_integer, "bool": lambda v: isinstance(v, bool)}


def _history_problem(history: dict, epochs: int) -> str | None:
    """What is wrong with a saved ``History`` of ``epochs`` finished epochs, or ``None``.

    The fields and their types come from the dataclass itself, so this check
    follows it when a field is added. Every epoch appends one loss, online loss
    and lr; accuracy and the validation numbers are kept for at most that many
    (a run may be resumed without its ``Validation``).
    """
    fields = {field.name: field.type for field in dataclasses.fields(History)}
    if set(history) != set(fields):
        missing = sorted(set(fields) - set(history))
        unexpected = reprlib.repr(sorted(set(history) - set(fields), key=repr))
        return (f"its history fields differ from History's: missing {missing}, "
                f"unexpected {unexpected}")
    for name, kind in fields.items():
        if not _FIELD_CHECKS[kind](history[name]):
            return f"history field {name!r} is not a {kind}"
    for name in ("loss", "online_loss", "lr"):  # one entry every epoch
        if len(history[name]) != epochs:
            return f"history {name!r} has {len(history[name])} entries for {epochs} epochs"
    for name in ("accuracy", "val_loss", "val_accuracy"):  # at most one per epoch
        if len(history[name]) > epochs:
            return f"history {name!r} has {len(history[name])} entries for {epochs} epochs"
    return None
