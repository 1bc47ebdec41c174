"""The opt-in fast engine for ensembles: ``fit_ensemble(..., engine="compiled")``.

The readable engines pay for every tensor operation separately: one online step
of a small net is some thirty dispatches, each costing far more than the few
floating-point operations it does for one member. Here one step is written
for a single *number* of every member at once: each weight W_l[i, j] and bias
b_l[j] is its own (K,) tensor, and each equation of the derivation

    z_j = Σ_i a_i W[i, j] + b_j,            a_j = g(z_j)                  (I)
    δ_L = g'(a_L) (a_L − t),                δ_i = g'(a_i) Σ_j W[i, j] δ_j   (II)
    W[i, j] ← W[i, j] − η a_i δ_j,          b_j ← b_j − η δ_j             (III, IV)

becomes a few elementwise operations on them. ``torch.compile`` turns a chunk
of such steps (up to eight; a divisor of the number of observations, so every
chunk has the same shapes and one graph serves them all) into one loop over the
K members in generated C++ (Triton on a GPU). A member's numbers are read once
at the start of the chunk and written once at its end, staying in registers or
cache in between: a chunk costs about one pass over memory instead of some
thirty per step.

It gives the updates of the explicit engine (the same equations, in the same
order, tested to 1e-12 in float64). It needs a C++ compiler on a CPU; without
one, or when ``torch.compile`` fails, ``fit_ensemble`` warns in one line and
uses the explicit engine's members-last kernel (``online.py``) instead.
Compiling takes seconds (more for bigger nets) and is timed on its own
(``EnsembleHistory.compile_seconds``): tracing, code generation, the C++ build
and one chunk run at learning rate 0. torch caches what it built on disk, so
later runs of the same graph (same net, dtype, K and chunk) start sooner.
"""

from __future__ import annotations

import shutil
import time
from functools import partial

import torch

from torchann.backprop import through_activation
from torchann.functional import get_activation

__all__ = ["CompiledOnline", "compiler_missing"]

MAX_STEPS_PER_CALL = 8   # online steps in one compiled call: more compiles longer, runs no faster
MAX_PARAMETERS = 200     # every weight and bias is its own row in the graph: more compiles slowly


def compiler_missing(device: torch.device) -> str | None:
    """Why torch.compile cannot build CPU code here, or ``None`` when it can."""
    if device.type == "cpu" and not any(map(shutil.which, ("c++", "g++", "clang++"))):
        return "torch.compile needs a C++ compiler (g++ or clang++) on a CPU, and none is installed"
    return None


def _online_steps(activations: tuple[str, ...], sizes: tuple[tuple[int, int], ...],
                  params: torch.Tensor, xs: torch.Tensor, ts: torch.Tensor,
                  rate: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``len(xs)`` online steps of every member; returns the new parameters and each
    member's summed step losses ½ Σ_j (a_L,j − t_j)², (K,).

    ``params``: (P, K), one row per number of a member, P = Σ_l (n_in·n_out + n_out):
    layer after layer, first its weights W[i][j] (row ``offset + i·n_out + j``), then
    its biases b[j] (row ``offset + n_in·n_out + j``). Each row is a (K,) tensor here.
    ``xs``: (S, n_in) rows shared by all members, or (S, n_in, K) one per member;
    ``ts`` likewise (S, n_out) or (S, n_out, K); ``rate``: (K,) η of each member.
    """
    g = [get_activation(name, builtin=True) for name in activations]
    rows, layers, offset = params.unbind(0), [], 0
    for n_in, n_out in sizes:
        weights = [rows[offset + i * n_out:offset + (i + 1) * n_out] for i in range(n_in)]
        offset += n_in * n_out
        layers.append((weights, rows[offset:offset + n_out]))
        offset += n_out
    loss_sum = 0
    for s in range(xs.shape[0]):
        a = [[xs[s, i] for i in range(sizes[0][0])]]               # I. forward, unit by unit
        for (weights, biases), g_l in zip(layers, g):
            a.append([g_l(sum(a[-1][i] * weights[i][j] for i in range(len(weights))) + b)
                      for j, b in enumerate(biases)])
        error = [a_j - ts[s, j] for j, a_j in enumerate(a[-1])]
        loss_sum = loss_sum + 0.5 * sum(e * e for e in error)
        # II. δ_L from the output a_L alone, then back through each layer before it changes
        delta = [through_activation(activations[-1], e, a_j) for e, a_j in zip(error, a[-1])]
        for l in range(len(layers) - 1, -1, -1):
            weights, biases = layers[l]
            below = a[l]
            if l > 0:
                incoming = [sum(w_ij * d for w_ij, d in zip(row, delta)) for row in weights]
            eta_delta = [rate * d for d in delta]
            # III + IV: W[i, j] ← W[i, j] − η a_i δ_j and b_j ← b_j − η δ_j
            layers[l] = ([[w_ij - below[i] * ed_j for w_ij, ed_j in zip(row, eta_delta)]
                          for i, row in enumerate(weights)],
                         [b - ed_j for b, ed_j in zip(biases, eta_delta)])
            if l > 0:
                delta = [through_activation(activations[l - 1], inc, a_i)
                         for inc, a_i in zip(incoming, below)]
    flat = []
    for weights, biases in layers:
        flat += [w for row in weights for w in row] + list(biases)
    return torch.stack(flat), loss_sum


class CompiledOnline:
    """An ensemble's parameters as a (P, K) table, a row per number, stepped in compiled
    chunks of online steps."""

    engine = "compiled"

    def __init__(self, ensemble, inputs: torch.Tensor, targets: torch.Tensor, *,
                 per_member: bool):
        self.layers = list(ensemble.layers)
        # Contiguous, as every epoch's reordered rows are: the graph is built for their
        # strides, and other strides would make torch compile it again mid-training.
        self.inputs, self.targets = inputs.contiguous(), targets.contiguous()
        self.per_member = per_member  # each member its own order: (n, ·, K) rows
        self.chunk = max(s for s in range(1, MAX_STEPS_PER_CALL + 1) if len(inputs) % s == 0)
        steps = partial(_online_steps, tuple(l.activation for l in self.layers),
                        tuple((l.n_in, l.n_out) for l in self.layers))
        self._steps = torch.compile(steps, fullgraph=True, dynamic=False)
        rows = []  # each layer's (K, n_in, n_out) weights as rows W[i][j] of (K,), then b[j]
        for layer in self.layers:
            rows += [layer.weight.detach().permute(1, 2, 0).reshape(-1, layer.weight.shape[0]),
                     layer.bias.detach()[:, 0, :].t()]
        self.params = self.start = torch.cat(rows)

    @staticmethod
    def unsupported(ensemble, batch_size: int) -> str | None:
        """Why the engine cannot train this ensemble, or ``None``."""
        if batch_size != 1:
            return f"it trains online (batch_size=1), got batch_size={batch_size}"
        if any(l.activation == "softmax" for l in ensemble.layers):
            return "it needs elementwise activations (softmax couples the output units)"
        count = sum(l.n_in * l.n_out + l.n_out for l in ensemble.layers)
        if count > MAX_PARAMETERS:
            return (f"each member has {count} parameters; it compiles nets of up to "
                    f"{MAX_PARAMETERS} (use engine='explicit')")
        return None

    @torch.no_grad()
    def push(self) -> None:
        """Copy the rows back into the ensemble's parameters."""
        sizes = []  # the rows of each layer's weights, then of its biases
        for layer in self.layers:
            sizes += [layer.n_in * layer.n_out, layer.n_out]
        rows = self.params.split(sizes)
        for layer, w, b in zip(self.layers, rows[::2], rows[1::2]):
            layer.weight.copy_(w.view(layer.n_in, layer.n_out, -1).permute(2, 0, 1))
            layer.bias.copy_(b.t().unsqueeze(1))

    def _layout(self, order: torch.Tensor | None):
        """The epoch's rows as :func:`_online_steps` takes them, in ``order`` (``None``: as
        given; (n,) shared; (K, n) one per member, laid out (n, ·, K))."""
        if order is None and self.per_member:  # (as every epoch will have them)
            K = self.params.shape[1]
            return tuple(v.expand(K, -1, -1).contiguous().permute(1, 2, 0)
                         for v in (self.inputs, self.targets))
        if order is None:
            return self.inputs, self.targets
        xs, ts = self.inputs[order], self.targets[order]
        return (xs.permute(1, 2, 0), ts.permute(1, 2, 0)) if order.ndim == 2 else (xs, ts)

    def compile(self, rate: torch.Tensor) -> float:
        """Compile now, on a chunk of these data, changing nothing; returns the seconds taken.

        Every architecture is a graph of its own, all of one Python function, and torch
        stops compiling a function after a few graphs (8 by default), so its limits are
        raised for this one compilation; the epochs then reuse the graph without
        compiling again (same shapes, dtypes and strides).
        """
        limits = {name: 1_000_000 for name in ("recompile_limit", "cache_size_limit",
                                               "accumulated_recompile_limit",
                                               "accumulated_cache_size_limit")
                  if hasattr(torch._dynamo.config, name)}  # their names moved in torch 2.7
        start = time.perf_counter()
        xs, ts = self._layout(None)
        with torch._dynamo.config.patch(**limits):
            self._steps(self.params.clone(), xs[:self.chunk], ts[:self.chunk],
                        torch.zeros_like(rate))
        return time.perf_counter() - start

    def epoch(self, order: torch.Tensor | None, rate: torch.Tensor,
              scalar_rate: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """As ``BatchedSteps.epoch`` (``train.py``); ``scalar_rate`` is not used."""
        xs, ts = self._layout(order)
        self.start, total = self.params, 0  # the compiled steps never change their input
        for begin in range(0, xs.shape[0], self.chunk):
            end = begin + self.chunk
            self.params, losses = self._steps(self.params, xs[begin:end], ts[begin:end], rate)
            total = total + losses
        self.push()
        return total, torch.isfinite(self.params).all(dim=0)

    def restore(self, members: torch.Tensor) -> None:
        """Put ``members`` (a (K,) mask) back to where the last epoch started."""
        self.params = torch.where(members.to(self.params.device), self.start, self.params)
        self.push()
