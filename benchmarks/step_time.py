"""µs per online SGD step: our Functions, torch's built-ins, and the explicit derivation.

    python -m benchmarks.step_time [--rounds 9] [--epochs 10] [--device cpu]

For each network, every round trains each variant for the same few epochs of
the seed's XOR data (batch size 1, fixed order) through ``fit``, in a rotating
order, so drift on a busy machine hits every variant alike. Variants:

    ours      custom-Function net, engine="autograd" (the default)
    builtin   the builtin=True twin (torch.sigmoid etc.), engine="autograd"
    torch     engine="torch": the same layers through torch's ops, no Module calls
    explicit  engine="explicit": the seed's δ equations, no autograd graph

The table gives the median µs/step (best round in brackets) and the ratios
ours/builtin (target <= 1.25) and explicit/builtin (target <= 0.6). At the end
it times the whole default ``python -m experiments.xor`` run.

Numbers are printed, never asserted: a timing test would fail on a loaded CI
machine without anything being wrong.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from benchmarks.timing import take_turns
from torchann import MLP, TwoLayerNet, data, fit

VARIANTS = {  # name: (builtin twin?, engine)
    "ours": (False, "autograd"),
    "builtin": (True, "autograd"),
    "torch": (False, "torch"),
    "explicit": (False, "explicit"),
}
NETS = {
    "xor 2-3-1 sigmoid/sigmoid": lambda **kw: TwoLayerNet(2, 3, 1, **kw),
    "reg 1-3-1 tanh/identity": lambda **kw: TwoLayerNet(1, 3, 1, hidden="tanh",
                                                        output="identity", **kw),
    "mlp 2-16-16-1 tanh/sigmoid": lambda **kw: MLP([2, 16, 16, 1], "tanh", output="sigmoid", **kw),
}


def step_microseconds(model, inputs, targets, epochs: int, engine: str) -> float:
    history = fit(model, inputs, targets, lr=0.5, epochs=epochs, shuffle=False, engine=engine)
    return history.seconds / history.steps * 1e6


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=10, help="epochs per round (120 steps each)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--skip-xor-run", action="store_true")
    args = parser.parse_args(argv)
    device = torch.device(args.device)

    inputs, targets = data.logic_gate("xor", seed=0)
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, "
          f"{args.rounds} rounds x {args.epochs} epochs x {len(inputs)} online steps")
    print("median µs per step [best round]\n")
    header = f"{'network':<28}{'dtype':<9}" + "".join(f"{v:>17}" for v in VARIANTS) + \
        f"{'ours/builtin':>14}{'explicit/builtin':>18}{'explicit/torch':>16}"
    print(header)
    results = {}
    for net_name, make in NETS.items():
        x = inputs if not net_name.startswith("reg") else inputs[:, :1]
        for dtype_name in args.dtypes:
            dtype = getattr(torch, dtype_name)
            models = {v: make(seed=0, dtype=dtype, device=device, builtin=b)
                      for v, (b, _) in VARIANTS.items()}
            for v in VARIANTS:  # warm-up
                step_microseconds(models[v], x, targets, 1, VARIANTS[v][1])
            times = take_turns({v: (lambda v=v: step_microseconds(models[v], x, targets,
                                                                   args.epochs, VARIANTS[v][1]))
                                for v in VARIANTS}, args.rounds)
            med = {v: statistics.median(t) for v, t in times.items()}
            ratios = (med["ours"] / med["builtin"], med["explicit"] / med["builtin"],
                      med["explicit"] / med["torch"])
            results[(net_name, dtype_name)] = {"median_us": med, "ratios": ratios}
            print(f"{net_name:<28}{dtype_name:<9}" +
                  "".join(f"{med[v]:>9.1f} [{min(times[v]):5.1f}]" for v in VARIANTS) +
                  f"{ratios[0]:>14.2f}{ratios[1]:>18.2f}{ratios[2]:>16.2f}")
    print("\ntargets: ours/builtin <= 1.25 (issue: custom Functions); "
          "explicit/builtin <= 0.6 (issue: explicit engine)")

    if not args.skip_xor_run:
        from experiments import xor
        with tempfile.TemporaryDirectory() as logdir:
            start = time.perf_counter()
            summary = xor.main(["--logdir", logdir, "--quiet", "--device", args.device])
            total = time.perf_counter() - start
        print(f"\nwhole default `python -m experiments.xor` (in-process, TensorBoard + figure): "
              f"{total:.2f} s, of which training {summary['seconds']:.2f} s "
              f"({summary['steps_per_second']:,.0f} steps/s, accuracy {summary['accuracy']:.3f})")
    return results


if __name__ == "__main__":
    main()
