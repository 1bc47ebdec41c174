"""The seed's networks as ``nn.Module``s: a dense layer, and the one- and two-layer nets.

The seed writes a layer as z = a_in W + b followed by a = g(z), with the input
as a row vector. We keep that orientation: ``weight`` is (n_in, n_out),
``bias`` is (1, n_out), and a batch is a (batch, n_in) matrix whose rows pass
through together. Initial weights are drawn from a seeded ``torch.Generator``
on the CPU in float64 and then cast, so a seed names one starting network
whatever the dtype or device.
"""

from __future__ import annotations

import torch
from torch import nn

from torchann.checks import check_dtype, check_int, check_memory, check_seed, resolve_device
from torchann.functional import canonical_name, get_activation

__all__ = ["INITS", "initial_weights", "Dense", "LayerStack", "SingleLayerNet", "TwoLayerNet", "MLP"]

INITS = ("uniform", "xavier", "he")


def initial_weights(n_in: int, n_out: int, init: str,
                    generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) in float64 on the CPU, drawn from ``generator``.

    * ``"uniform"``: the tutorial's U(−0.5, 0.5) for weights and biases. With hundreds
      of inputs z = Σ a_i w_i spreads like √n_in and sigmoid units start
      saturated (``experiments.init_saturation`` shows it).
    * ``"xavier"``: weights U(±√(6/(n_in + n_out))), biases 0.
    * ``"he"``: weights N(0, 2/n_in), biases 0, the usual choice for relu.
    """
    def uniform(*shape):
        return torch.rand(*shape, generator=generator, dtype=torch.float64)
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; valid inits are: {', '.join(INITS)}")
    check_memory(24 * (n_in + 1) * n_out, f"a layer of {n_in:,} x {n_out:,} weights")
    if init == "uniform":
        return uniform(n_in, n_out) - 0.5, uniform(1, n_out) - 0.5
    if init == "xavier":
        weight = (uniform(n_in, n_out) * 2 - 1) * (6.0 / (n_in + n_out)) ** 0.5
    else:
        weight = torch.randn(n_in, n_out, generator=generator, dtype=torch.float64) * (2.0 / n_in) ** 0.5
    return weight, torch.zeros(1, n_out, dtype=torch.float64)


class Dense(nn.Module):
    """One layer of units: z = a_in @ weight + bias, a = g(z).

    ``builtin=True`` uses torch's own activation op instead of our Function: the
    same network, differentiated by torch's formulas (the tests' reference).
    """

    def __init__(self, n_in: int, n_out: int, activation: str = "sigmoid", *,
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None, builtin: bool = False,
                 init: str = "uniform"):
        super().__init__()
        self.n_in = check_int("n_in", n_in)
        self.n_out = check_int("n_out", n_out)
        self.activation = canonical_name(activation)
        self.builtin = bool(builtin)
        self.g = get_activation(self.activation, builtin=self.builtin)
        dtype = check_dtype(dtype)
        device = None if device is None else resolve_device(str(device))
        weight, bias = initial_weights(n_in, n_out, init, generator)
        self.weight = nn.Parameter(weight.to(device=device, dtype=dtype))
        self.bias = nn.Parameter(bias.to(device=device, dtype=dtype))

    def forward(self, a_in: torch.Tensor) -> torch.Tensor:
        z = torch.addmm(self.bias, a_in, self.weight)  # a_in @ W + b in one op: (batch, n_out)
        return self.g(z)

    def extra_repr(self) -> str:
        kind = ", builtin=True" if self.builtin else ""
        return f"n_in={self.n_in}, n_out={self.n_out}, activation={self.activation}{kind}"


class LayerStack(nn.Module):
    """Feeds the input through ``self.layers`` in order (every net here is one)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.n_in:
            raise ValueError(f"this net takes {self.n_in} input columns, got {x.shape[-1]}")
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
        return " -> ".join([str(self.n_in)] + [f"{l.n_out} {l.activation}" for l in self.layers])

    def extra_repr(self) -> str:
        return self.architecture()


class SingleLayerNet(LayerStack):
    """The seed's single-layer net: inputs -> ``output``. A sigmoid output makes it a
    linear classifier (OR, AND); an identity output, linear regression."""

    def __init__(self, n_in: int, n_out: int, activation: str = "sigmoid", *, seed: int = 0,
                 dtype=None, device=None, builtin: bool = False):
        super().__init__()
        generator = torch.Generator().manual_seed(check_seed(seed))
        self.output = Dense(n_in, n_out, activation, generator=generator, dtype=dtype,
                            device=device, builtin=builtin)
        self.layers = (self.output,)
        self.seed = seed


class TwoLayerNet(LayerStack):
    """The seed's two-layer net (layers of weights): inputs -> ``hidden`` -> ``output``.

    The hidden layer is drawn first, then the output layer, weight before bias,
    in the order the seed initialises them.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, hidden: str = "sigmoid",
                 output: str = "sigmoid", *, seed: int = 0, dtype=None, device=None,
                 builtin: bool = False):
        super().__init__()
        check_int("n_hidden", n_hidden)
        generator = torch.Generator().manual_seed(check_seed(seed))
        common = dict(generator=generator, dtype=dtype, device=device, builtin=builtin)
        self.hidden = Dense(n_in, n_hidden, hidden, **common)
        self.output = Dense(n_hidden, n_out, output, **common)
        self.layers = (self.hidden, self.output)
        self.seed = seed


class MLP(LayerStack):
    """A feed-forward net of any depth, from the same :class:`Dense` layers.

    ``sizes`` lists the units per layer, inputs first (``[2, 8, 8, 1]``).
    ``activations`` is one name per layer of weights, or one name for every
    hidden layer with ``output`` naming the output's (default: the same).
    ``init`` is ``"uniform"`` (the tutorial's), ``"xavier"`` or ``"he"`` (:func:`initial_weights`).
    """

    def __init__(self, sizes, activations="sigmoid", output: str | None = None, *, seed: int = 0,
                 dtype=None, device=None, builtin: bool = False, init: str = "uniform"):
        super().__init__()
        sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else sizes
        if not isinstance(sizes, list) or len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes!r}")
        for i, size in enumerate(sizes):
            check_int(f"sizes[{i}]", size)
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
        generator = torch.Generator().manual_seed(check_seed(seed))
        self.layers = nn.ModuleList(
            Dense(n_in, n_out, name, generator=generator, dtype=dtype, device=device,
                  builtin=builtin, init=init)
            for n_in, n_out, name in zip(sizes[:-1], sizes[1:], names))
        self.seed = seed
