"""What one Python autograd.Function costs inside a real training step.

    python -m benchmarks.function_overhead [--rounds 30] [--steps 200]

The step is the digits network of ``benchmarks.sklearn_compare`` (64 inputs,
one tanh hidden layer, 10 softmax outputs, cross-entropy, float64), written
out as plain tensor code so that only the Functions differ between variants:

    builtin         torch.tanh, torch.softmax: no Python Function at all
    identity@loss   builtin + torchann's Identity Function on the scalar loss
    identity@hidden builtin + Identity on the hidden activations
    our tanh        torchann's Tanh Function instead of torch.tanh
    our softmax     torchann's Softmax Function instead of torch.softmax
    ours            both: what ``MLP`` (builtin=False) runs

Each variant runs forward and backward (``torch.autograd.grad``); the variants
take turns, ``--rounds`` times, for ``--steps`` steps each, and the table gives
the median µs per step and the extra over ``builtin``. The identity rows show
the fixed price of the Python Function machinery itself, whatever the
Function computes.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.timing import take_turns
from torchann.functional import identity, softmax, tanh

VARIANTS = ("builtin", "identity@loss", "identity@hidden", "our tanh", "our softmax", "ours")


def make_step(variant: str, batch: int, width: int):
    gen = torch.Generator().manual_seed(0)
    f64 = dict(dtype=torch.float64)
    x = torch.randn(batch, 64, generator=gen, **f64)
    targets = torch.nn.functional.one_hot(torch.randint(0, 10, (batch,), generator=gen), 10).double()
    w1 = (torch.randn(64, width, generator=gen, **f64) * 0.1).requires_grad_()
    b1 = torch.zeros(1, width, **f64).requires_grad_()
    w2 = (torch.randn(width, 10, generator=gen, **f64) * 0.1).requires_grad_()
    b2 = torch.zeros(1, 10, **f64).requires_grad_()
    params = (w1, b1, w2, b2)
    hidden_g = tanh if variant in ("our tanh", "ours") else torch.tanh
    output_g = softmax if variant in ("our softmax", "ours") else (lambda z: torch.softmax(z, -1))
    on_hidden = identity if variant == "identity@hidden" else (lambda a: a)
    on_loss = identity if variant == "identity@loss" else (lambda e: e)

    def step():
        a1 = on_hidden(hidden_g(torch.addmm(b1, x, w1)))
        a2 = output_g(torch.addmm(b2, a1, w2))
        loss = on_loss(torch.xlogy(targets, a2).sum() * (-1.0 / batch))
        return torch.autograd.grad(loss, params)
    return step


def measure(batch: int, width: int, rounds: int, steps: int) -> dict[str, float]:
    steps_of = {name: make_step(name, batch, width) for name in VARIANTS}
    for step in steps_of.values():  # warm up every code path
        for _ in range(50):
            step()
    def microseconds_per_step(step) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return (time.perf_counter() - start) / steps * 1e6

    times = take_turns({name: (lambda step=step: microseconds_per_step(step))
                        for name, step in steps_of.items()}, rounds)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    for name in ("rounds", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64; median µs "
          f"per forward+backward step over {args.rounds} rounds of {args.steps} steps\n")
    header = "".join(f"{name:>18}" for name in VARIANTS)
    print(f"{'batch':>6}{'width':>7}{header}")
    results = {}
    for batch in (32, 128):
        for width in (64, 512):
            med = measure(batch, width, args.rounds, args.steps)
            results[(batch, width)] = med
            base = med["builtin"]
            cells = "".join(f"{med[name]:>9.1f} ({med[name] - base:+6.1f})" if name != "builtin"
                            else f"{base:>18.1f}" for name in VARIANTS)
            print(f"{batch:>6}{width:>7}{cells}")
    print("\n(in brackets: µs per step more than builtin)")
    return results


if __name__ == "__main__":
    main()
