"""Export a trained network's weights as plain JSON, and load them back.

The file names the architecture (sizes and activations per layer) and lists
each layer's weight matrix (n_in rows of n_out numbers) and bias, so it can
be read by any language. Numbers are written with Python's shortest exact
float repr, so a float64 (or float32) network loads back bit-identical.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

from torchann.nn import MLP, SingleLayerNet, TwoLayerNet
from torchann.runs.folders import write_json

__all__ = ["FORMAT", "weights_to_dict", "export_weights", "weights_from_dict", "import_weights"]

FORMAT = "torchann-weights"
VERSION = 1
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def weights_to_dict(model: nn.Module) -> dict:
    layers = list(getattr(model, "layers", ()))
    if not layers:
        raise TypeError(f"can only export torchann nets, got {type(model).__name__}")
    dtype = str(layers[0].weight.dtype).removeprefix("torch.")
    return {
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


def export_weights(model: nn.Module, path: str | Path) -> Path:
    """Write ``model``'s architecture and weights to ``path`` as JSON (atomically)."""
    return write_json(path, weights_to_dict(model))


def _fail(source: str, problem: str) -> ValueError:
    return ValueError(f"{source} is not a valid torchann weights file: {problem}")


def weights_from_dict(spec: dict, *, source: str = "the weights", device=None,
                      builtin: bool = False) -> nn.Module:
    """Build the network ``spec`` describes, with its weights."""
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise _fail(source, f"'format' must be {FORMAT!r}")
    if spec.get("version") != VERSION:
        raise _fail(source, f"unsupported version {spec.get('version')!r}")
    try:
        sizes, names, layers = list(spec["sizes"]), list(spec["activations"]), list(spec["layers"])
        dtype = _DTYPES[spec.get("dtype", "float64")]
    except (KeyError, TypeError) as error:
        raise _fail(source, f"missing or malformed field {error}") from None
    if len(sizes) < 2 or len(names) != len(sizes) - 1 or len(layers) != len(names):
        raise _fail(source, "sizes, activations and layers do not agree")
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
        for i, (layer, values) in enumerate(zip(model.layers, layers)):
            for name in ("weight", "bias"):
                try:
                    tensor = torch.tensor(values[name], dtype=torch.float64)
                except (KeyError, TypeError, ValueError) as error:
                    raise _fail(source, f"layer {i} {name}: {error}") from None
                target = getattr(layer, name)
                if tuple(tensor.shape) != tuple(target.shape):
                    raise _fail(source, f"layer {i} {name} has shape {tuple(tensor.shape)}, "
                                        f"expected {tuple(target.shape)}")
                if not all(math.isfinite(v) for v in tensor.flatten().tolist()):
                    raise _fail(source, f"layer {i} {name} contains NaN or inf")
                target.copy_(tensor.to(dtype))
    return model.to(device) if device is not None else model


def import_weights(path: str | Path, *, device=None, builtin: bool = False) -> nn.Module:
    """Load a network written by :func:`export_weights`."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise _fail(str(path), f"not JSON ({error})") from None
    return weights_from_dict(spec, source=str(path), device=device, builtin=builtin)
