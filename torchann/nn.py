"""The seed's networks as ``nn.Module``s: a dense layer, and the one- and two-layer nets.

The seed writes a layer as z = a_in W + b followed by a = g(z), with the input
as a row vector. We keep that orientation exactly: ``weight`` has shape
(n_in, n_out), ``bias`` has shape (1, n_out), and a batch of observations is a
(batch, n_in) matrix whose rows pass through together. Weights and biases start
uniform in [-0.5, 0.5), as the seed's ``rand(...) - .5`` does, drawn from a
seeded ``torch.Generator`` so a seed names one network.
"""

from __future__ import annotations

import torch
from torch import nn

from torchann.training.checks import resolve_device
from torchann.functional import canonical_name, get_activation

__all__ = ["INITS", "initial_weights", "Dense", "SingleLayerNet", "TwoLayerNet", "MLP"]


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _check_dtype_device(dtype, device):
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point or dtype.is_complex:
        raise TypeError(f"dtype must be a real floating-point torch dtype (e.g. torch.float32 or "
                        f"torch.float64), got {dtype!r}")
    if device is not None:
        device = resolve_device(str(device))
    return dtype, device


def _seed_generator(seed) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


INITS = ("seed", "xavier", "he")


def initial_weights(n_in: int, n_out: int, init: str,
                    generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) in float64 on the CPU, drawn from ``generator``.

    * ``"seed"``: the seed's U(−0.5, 0.5) for weights and biases. Fine for a
      handful of inputs, but z = Σ_i a_i w_i then has a spread that grows like
      √n_in, so with hundreds of inputs sigmoid units start saturated
      (σ' ≈ 0) and learn slowly; ``experiments.init_saturation`` shows it.
    * ``"xavier"`` (Glorot): weights U(±√(6/(n_in + n_out))), biases 0, which
      keeps the spread of z about the same from layer to layer.
    * ``"he"``: weights N(0, 2/n_in), biases 0, the usual choice for relu.
    """
    if init == "seed":
        weight = torch.rand(n_in, n_out, generator=generator, dtype=torch.float64) - 0.5
        bias = torch.rand(1, n_out, generator=generator, dtype=torch.float64) - 0.5
    elif init == "xavier":
        limit = (6.0 / (n_in + n_out)) ** 0.5
        weight = (torch.rand(n_in, n_out, generator=generator, dtype=torch.float64) * 2 - 1) * limit
        bias = torch.zeros(1, n_out, dtype=torch.float64)
    elif init == "he":
        weight = torch.randn(n_in, n_out, generator=generator, dtype=torch.float64) * (2.0 / n_in) ** 0.5
        bias = torch.zeros(1, n_out, dtype=torch.float64)
    else:
        raise ValueError(f"unknown init {init!r}; valid inits are: {', '.join(INITS)}")
    return weight, bias


class Dense(nn.Module):
    """One layer of units: z = a_in @ weight + bias, a = g(z).

    ``weight``: (n_in, n_out); ``bias``: (1, n_out). The initial values (see
    :func:`initial_weights`; the seed's U(−0.5, 0.5) by default) are drawn on
    the CPU in float64 and then cast, so the same generator state gives the
    same starting network whatever ``dtype`` or ``device`` you ask for.
    """

    def __init__(self, n_in: int, n_out: int, activation: str = "sigmoid", *,
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None, builtin: bool = False,
                 init: str = "seed"):
        super().__init__()
        self.n_in = _check_size("n_in", n_in)
        self.n_out = _check_size("n_out", n_out)
        self.activation = canonical_name(activation)
        self.builtin = bool(builtin)
        self.g = get_activation(self.activation, builtin=self.builtin)
        dtype, device = _check_dtype_device(dtype, device)
        weight, bias = initial_weights(n_in, n_out, init, generator)
        self.weight = nn.Parameter(weight.to(device=device, dtype=dtype))
        self.bias = nn.Parameter(bias.to(device=device, dtype=dtype))

    def forward(self, a_in: torch.Tensor) -> torch.Tensor:
        # (batch, n_in) @ (n_in, n_out) + (1, n_out) -> (batch, n_out), fused in one op
        z = torch.addmm(self.bias, a_in, self.weight)
        return self.g(z)

    def extra_repr(self) -> str:
        kind = ", builtin=True" if self.builtin else ""
        return f"n_in={self.n_in}, n_out={self.n_out}, activation={self.activation}{kind}"


class _LayerStack(nn.Module):
    """Feeds the input through ``self.layers`` in order (shared by every net)."""

    layers: "tuple[Dense, ...] | nn.ModuleList"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    @property
    def builtin(self) -> bool:
        return self.layers[0].builtin

    def architecture(self) -> str:
        """e.g. ``"2 -> 3 sigmoid -> 1 sigmoid"``."""
        parts = [str(self.n_in)] + [f"{layer.n_out} {layer.activation}" for layer in self.layers]
        return " -> ".join(parts)

    def extra_repr(self) -> str:
        return self.architecture()


class SingleLayerNet(_LayerStack):
    """The seed's single-layer network (a perceptron): inputs -> ``output`` layer.

    With a sigmoid output it is a linear binary classifier (the seed's OR/AND
    example); with an identity output it is linear regression.
    """

    def __init__(self, n_in: int, n_out: int, activation: str = "sigmoid", *, seed: int = 0,
                 dtype: torch.dtype | None = None, device: torch.device | str | None = None,
                 builtin: bool = False):
        super().__init__()
        generator = _seed_generator(seed)
        self.output = Dense(n_in, n_out, activation, generator=generator, dtype=dtype,
                            device=device, builtin=builtin)
        self.layers = (self.output,)
        self.seed = seed


class TwoLayerNet(_LayerStack):
    """The seed's two-layer network: inputs -> ``hidden`` layer -> ``output`` layer.

    "Two layers" counts layers of weights, as the seed does. The hidden layer
    is drawn from the generator first, then the output layer (weight before
    bias in each), matching the order the seed initialises them in.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, hidden: str = "sigmoid",
                 output: str = "sigmoid", *, seed: int = 0, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None, builtin: bool = False):
        super().__init__()
        for name, value in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
            _check_size(name, value)
        generator = _seed_generator(seed)
        common = dict(generator=generator, dtype=dtype, device=device, builtin=builtin)
        self.hidden = Dense(n_in, n_hidden, hidden, **common)
        self.output = Dense(n_hidden, n_out, output, **common)
        self.layers = (self.hidden, self.output)
        self.seed = seed


class MLP(_LayerStack):
    """A feed-forward net of any depth, built from the same :class:`Dense` layers.

    ``init`` picks the initial weights: the seed's ``"seed"`` (default),
    ``"xavier"`` or ``"he"`` (see :func:`initial_weights`).

    ``sizes`` lists the units per layer, inputs first: ``[2, 8, 8, 1]`` is two
    hidden layers of 8 between 2 inputs and 1 output. ``activations`` is
    either one name per layer of weights (``["tanh", "tanh", "sigmoid"]``) or
    a single name for every hidden layer, with ``output`` naming the output
    layer's activation (default: the same name). The seed derives
    backpropagation for exactly this stack of layers; ``SingleLayerNet`` and
    ``TwoLayerNet`` are its depth-1 and depth-2 cases (with the attribute
    names the seed's code uses).
    """

    def __init__(self, sizes, activations="sigmoid", output: str | None = None, *, seed: int = 0,
                 dtype: torch.dtype | None = None, device: torch.device | str | None = None,
                 builtin: bool = False, init: str = "seed"):
        super().__init__()
        sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else sizes
        if not isinstance(sizes, list) or len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes!r}")
        for i, size in enumerate(sizes):
            _check_size(f"sizes[{i}]", size)
        depth = len(sizes) - 1
        if isinstance(activations, str):
            names = [activations] * (depth - 1) + [output or activations]
        else:
            names = list(activations)
            if output is not None:
                raise ValueError("give output= only with a single hidden activation name")
            if len(names) != depth:
                raise ValueError(f"{depth} layers of weights need {depth} activations, "
                                 f"got {len(names)}: {names!r}")
        generator = _seed_generator(seed)
        self.layers = nn.ModuleList(
            Dense(n_in, n_out, name, generator=generator, dtype=dtype, device=device,
                  builtin=builtin, init=init)
            for n_in, n_out, name in zip(sizes[:-1], sizes[1:], names))
        self.seed = seed
