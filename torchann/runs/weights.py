"""Export a trained network's weights as plain JSON, and load them back.

The file names the architecture (sizes and activations per layer) and lists
each layer's weight matrix (n_in rows of n_out numbers) and bias, so it can
be read by any language. Numbers are written with Python's shortest exact
float repr, so a float64 (or float32) network loads back bit-identical.

Version 2 files also carry a ``checksum``: SHA-256 of the rest of the content
(:func:`weights_checksum`), checked on import, so a file damaged on disk or
in transfer is refused instead of giving a network with a changed weight.
Version 1 files, which have no checksum, are still read: writing this format
by hand or from another language is a documented use, and reproducing
Python's exact JSON number formatting to compute the sum is more than such a
writer should need. Their numbers are checked as before, just not against a sum.
"""

from __future__ import annotations

import hashlib
import json
import reprlib
from pathlib import Path

import torch
from torch import nn

from torchann.checks import DTYPES
from torchann.nn import MLP, SingleLayerNet, TwoLayerNet
from torchann.runs.folders import write_json
from torchann.runs.integrity import first_line

__all__ = ["FORMAT", "weights_to_dict", "export_weights", "weights_from_dict", "import_weights",
           "weights_checksum"]

FORMAT = "torchann-weights"
VERSION = 2  # 2 added "checksum"; version 1 (no checksum) is still read


def weights_checksum(spec: dict) -> str:
    """SHA-256 of ``spec`` without its ``"checksum"`` field, as compact JSON with sorted keys.

    It is taken over the parsed values, not over the file's text, so indentation
    and number spelling do not matter: in Python it is
    ``sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode())``.
    """
    content = {key: value for key, value in spec.items() if key != "checksum"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def weights_to_dict(model: nn.Module) -> dict:
    layers = list(getattr(model, "layers", ()))
    if not layers:
        raise TypeError(f"can only export torchann nets, got {type(model).__name__}")
    dtype = str(layers[0].weight.dtype).removeprefix("torch.")
    spec = {
        "format": FORMAT,
        "version": VERSION,
        "kind": type(model).__name__,
        "dtype": dtype,
        "sizes": [layers[0].n_in] + [layer.n_out for layer in layers],
        "activations": [layer.activation for layer in layers],
        "layers": [{"activation": layer.activation,
                    "weight": layer.weight.detach().cpu().double().tolist(),
                    "bias": layer.bias.detach().cpu().double().tolist()} for layer in layers],
    }
    return spec | {"checksum": weights_checksum(spec)}


def export_weights(model: nn.Module, path: str | Path) -> Path:
    """Write ``model``'s architecture and weights to ``path`` as JSON (atomically)."""
    return write_json(path, weights_to_dict(model))


def _fail(source: str, problem: str) -> ValueError:
    return ValueError(f"{source} is not a valid torchann weights file: {problem}")


def _layer_tensor(values, shape: tuple[int, int], dtype: torch.dtype, where: str,
                  source: str) -> torch.Tensor:
    """One weight matrix or bias from the file, checked for shape and finiteness in ``dtype``.

    The shape is checked here, before the net is built, so the net never holds
    more numbers than the file does: a few bytes that declare a layer of a
    billion units are refused instead of allocated. Finiteness is checked after
    the cast, where 1e39 has become inf in a float32 file.
    """
    try:
        tensor = torch.tensor(values, dtype=torch.float64)
    except (TypeError, ValueError, OverflowError, RuntimeError) as error:
        raise _fail(source, f"{where}: {reprlib.repr(values)} is not a matrix of numbers "
                            f"({first_line(error, 80)})") from None
    if tuple(tensor.shape) != shape:
        raise _fail(source, f"{where} has shape {tuple(tensor.shape)}, expected {shape}")
    tensor = tensor.to(dtype)
    if not bool(torch.isfinite(tensor).all()):
        raise _fail(source, f"{where} contains NaN or inf, or a number too large for "
                            f"{str(dtype).removeprefix('torch.')}")
    return tensor


def weights_from_dict(spec: dict, *, source: str = "the weights", device=None,
                      builtin: bool = False) -> nn.Module:
    """Build the network ``spec`` describes, with its weights."""
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise _fail(source, f"'format' must be {FORMAT!r}")
    version = spec.get("version")
    if type(version) is not int or version not in (1, VERSION):
        raise _fail(source, f"unsupported version {reprlib.repr(version)}")
    if "checksum" in spec or version != 1:  # a version 1 file is checked only if it has one
        try:
            expected = weights_checksum(spec)
        except (TypeError, ValueError, RecursionError):  # a dict that is not JSON data
            raise _fail(source, "its content is not plain JSON data") from None
        if spec.get("checksum") != expected:
            raise ValueError(f"corrupt weights file {source}: "
                             "its content does not match its checksum")
    try:
        sizes, names, layers = list(spec["sizes"]), list(spec["activations"]), list(spec["layers"])
        dtype = DTYPES[spec.get("dtype", "float64")]
    except (KeyError, TypeError) as error:
        raise _fail(source, f"missing or malformed field {first_line(error, 80)}") from None
    if len(sizes) < 2 or len(names) != len(sizes) - 1 or len(layers) != len(names):
        raise _fail(source, "sizes, activations and layers do not agree")
    if not all(type(size) is int and size > 0 for size in sizes):
        raise _fail(source, f"sizes must be positive integers, got {reprlib.repr(sizes)}")
    tensors = []
    for i, layer in enumerate(layers):  # Dense keeps weight as (n_in, n_out), bias as (1, n_out)
        if not isinstance(layer, dict) or not {"weight", "bias"} <= set(layer):
            raise _fail(source, f"layer {i} must be an object with 'weight' and 'bias'")
        n_in, n_out = sizes[i], sizes[i + 1]
        tensors.append([_layer_tensor(layer[name], shape, dtype, f"layer {i} {name}", source)
                        for name, shape in (("weight", (n_in, n_out)), ("bias", (1, n_out)))])
    kind = spec.get("kind", "MLP")
    try:
        if kind == "SingleLayerNet" and len(names) == 1:
            model = SingleLayerNet(sizes[0], sizes[1], names[0], dtype=dtype, builtin=builtin)
        elif kind == "TwoLayerNet" and len(names) == 2:
            model = TwoLayerNet(sizes[0], sizes[1], sizes[2], names[0], names[1], dtype=dtype,
                                builtin=builtin)
        else:
            model = MLP(sizes, names, dtype=dtype, builtin=builtin)
    except (TypeError, ValueError) as error:
        raise _fail(source, str(error)) from None
    with torch.no_grad():
        for layer, (weight, bias) in zip(model.layers, tensors):
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)
    return model.to(device) if device is not None else model


def import_weights(path: str | Path, *, device=None, builtin: bool = False) -> nn.Module:
    """Load a network written by :func:`export_weights` (or by hand, as version 1)."""
    path = Path(path)
    try:
        spec = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise _fail(str(path), "not UTF-8 text") from None
    except ValueError as error:  # JSONDecodeError, or an integer of more digits than Python parses
        raise _fail(str(path), f"not JSON ({first_line(error, 100)})") from None
    except RecursionError:
        raise _fail(str(path), "not JSON this reader can take (nested too deeply)") from None
    return weights_from_dict(spec, source=str(path), device=device, builtin=builtin)
