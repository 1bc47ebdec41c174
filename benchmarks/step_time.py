"""µs per online SGD step: custom-Function nets vs their ``builtin=True`` twins.

    python -m benchmarks.step_time [--rounds 9] [--epochs 10] [--device cpu]

Each round trains every variant for the same few epochs of the seed's XOR
data (batch size 1, fixed order), in alternating order, so drift on a busy
machine hits both sides alike; the table reports the median and the best
round, and the ratio of medians. At the end it times the whole default
``python -m experiments.xor`` run (with TensorBoard and figure).

Numbers are printed, never asserted: a timing test would fail on a loaded CI
machine without anything being wrong.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from torchann import TwoLayerNet, data, fit


def step_microseconds(model, inputs, targets, epochs: int) -> float:
    history = fit(model, inputs, targets, lr=0.5, epochs=epochs, shuffle=False)
    return history.seconds / history.steps * 1e6


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=10, help="epochs per round (120 steps each)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-xor-run", action="store_true")
    args = parser.parse_args(argv)
    device = torch.device(args.device)

    inputs, targets = data.logic_gate("xor", seed=0)
    nets = {
        "xor 2-3-1 sigmoid/sigmoid": dict(n_in=2, n_hidden=3, n_out=1, hidden="sigmoid",
                                          output="sigmoid"),
        "reg 1-3-1 tanh/identity": dict(n_in=1, n_hidden=3, n_out=1, hidden="tanh",
                                        output="identity"),
    }
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, "
          f"{args.rounds} rounds x {args.epochs} epochs x 120 online steps\n")
    print(f"{'network':<28}{'dtype':<9}{'custom µs/step':>16}{'builtin µs/step':>17}"
          f"{'ratio':>8}   (median; best in brackets)")
    results = {}
    for name, spec in nets.items():
        x = inputs if spec["n_in"] == 2 else inputs[:, :1]
        for dtype in (torch.float32, torch.float64):
            models = {b: TwoLayerNet(**spec, seed=0, dtype=dtype, device=device, builtin=b)
                      for b in (False, True)}
            times = {False: [], True: []}
            step_microseconds(models[False], x, targets, 1)  # warm-up
            step_microseconds(models[True], x, targets, 1)
            for r in range(args.rounds):
                for b in ((False, True) if r % 2 == 0 else (True, False)):
                    times[b].append(step_microseconds(models[b], x, targets, args.epochs))
            custom, builtin = (statistics.median(times[b]) for b in (False, True))
            ratio = custom / builtin
            results[(name, str(dtype))] = (custom, builtin, ratio)
            print(f"{name:<28}{str(dtype)[6:]:<9}{custom:>10.1f} [{min(times[False]):5.1f}]"
                  f"{builtin:>11.1f} [{min(times[True]):5.1f}]{ratio:>8.2f}")
    print("\ntarget: custom <= 1.25x builtin")

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
