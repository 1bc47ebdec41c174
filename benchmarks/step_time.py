"""µs per online SGD step: torchann against the loop a PyTorch user would write.

    python -m benchmarks.step_time [--rounds 9] [--epochs 10] [--device cpu]

Every variant trains the same net on the seed's XOR data (or its regression
twin) one observation at a time, in the same fixed order, for ``--epochs``
epochs per round; the variants take turns round by round, so drift on a busy
machine hits them alike. Variants:

    idiomatic  what a user writes without torchann, as PyTorch's tutorials do: nn.Sequential(
               Linear, Sigmoid, ...), nn.MSELoss, optim.SGD, zero_grad / backward / step, one
               row at a time, the epoch's mean loss kept from loss.item()
    ours       torchann.fit, our activation Functions (the default)
    builtin    torchann.fit on the builtin=True twin: torch's own activation ops
    explicit   torchann.fit(engine="explicit"): the derivation written out, no autograd
    numpy      the seed's algorithm in NumPy, for the 2-3-1 XOR net only: the floor
               a framework's per-op overhead is measured against

The table gives median µs/step (best round in brackets) and each variant's
ratio to ``idiomatic``: the median over rounds of that round's ratio. A round
runs the variants back to back, so a ratio compares runs seconds apart; on a
virtual machine whose speed drifts by tens of percent from minute to minute,
that is steadier than a ratio of two medians. Numbers are printed, never
asserted: a timing test would fail on a loaded machine without anything being wrong.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch
from torch import nn

from benchmarks.timing import take_turns
from torchann import MLP, TwoLayerNet, data, fit

VARIANTS = ("idiomatic", "ours", "builtin", "explicit", "numpy")
NETS = {
    "xor 2-3-1 sigmoid/sigmoid": lambda **kw: TwoLayerNet(2, 3, 1, **kw),
    "reg 1-3-1 tanh/identity": lambda **kw: TwoLayerNet(1, 3, 1, hidden="tanh",
                                                        output="identity", **kw),
    "mlp 2-16-16-1 tanh/sigmoid": lambda **kw: MLP([2, 16, 16, 1], "tanh", output="sigmoid", **kw),
}
MODULES = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
           "softplus": nn.Softplus}
LR = 0.5


def idiomatic_model(net) -> nn.Sequential:
    """The same network as ``net`` (same starting weights) in stock PyTorch modules."""
    modules = []
    for layer in net.layers:
        linear = nn.Linear(layer.n_in, layer.n_out, dtype=layer.weight.dtype,
                           device=layer.weight.device)
        with torch.no_grad():
            linear.weight.copy_(layer.weight.T)      # nn.Linear keeps W as (n_out, n_in)
            linear.bias.copy_(layer.bias[0])
        modules += [linear, MODULES[layer.activation]()]
    return nn.Sequential(*modules)


def train_idiomatic(model: nn.Sequential, inputs, targets, epochs: int) -> list[float]:
    """The loop of PyTorch's tutorials, one observation at a time, keeping each epoch's mean
    loss as ``fit`` does. lr/2 because MSELoss has no ½: the updates equal ours."""
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR / 2)
    history = []
    for _ in range(epochs):
        running_loss = 0.0
        for x, t in zip(inputs, targets):
            optimizer.zero_grad()
            loss = loss_fn(model(x), t)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        history.append(running_loss / 2 / len(inputs))
    return history


def train_numpy(weights, inputs: np.ndarray, targets: np.ndarray, epochs: int) -> None:
    """The seed's online algorithm for a sigmoid 2-layer net, in NumPy, in place."""
    W1, b1, W2, b2 = weights
    for _ in range(epochs):
        for x, t in zip(inputs, targets):
            x = x[None, :]
            a1 = 1 / (1 + np.exp(-(x @ W1 + b1)))
            a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
            d2 = a2 * (1 - a2) * (a2 - t)
            d1 = a1 * (1 - a1) * (d2 @ W2.T)
            W2 -= LR * a1.T @ d2
            b2 -= LR * d2
            W1 -= LR * x.T @ d1
            b1 -= LR * d1


def make_variant(name: str, make, inputs, targets, epochs: int, dtype, device):
    """A function that trains a fresh net for ``epochs`` and returns µs per step."""
    steps = epochs * len(inputs)
    x, t = inputs.to(device=device, dtype=dtype), targets.to(device=device, dtype=dtype)

    def timed(train):
        start = time.perf_counter()
        train()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / steps * 1e6

    def run():
        net = make(seed=0, dtype=dtype, device=device, builtin=(name == "builtin"))
        if name == "idiomatic":
            model = idiomatic_model(net)
            return timed(lambda: train_idiomatic(model, x, t, epochs))
        if name == "numpy":
            weights = [p.detach().cpu().numpy().copy() for p in net.parameters()]
            xs, ts = x.cpu().numpy(), t.cpu().numpy()
            return timed(lambda: train_numpy(weights, xs, ts, epochs))
        engine = "explicit" if name == "explicit" else "autograd"
        return timed(lambda: fit(net, x, t, lr=LR, epochs=epochs, shuffle=False, engine=engine))
    return run


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
    print("median µs per step [best round]; ratio = median over rounds of variant / idiomatic\n")
    print(f"{'network':<28}{'dtype':<9}" + "".join(f"{v:>17}" for v in VARIANTS) +
          "".join(f"{v + '/idiom':>16}" for v in VARIANTS[1:]))
    results = {}
    for net_name, make in NETS.items():
        x = inputs if not net_name.startswith("reg") else inputs[:, :1]
        variants = [v for v in VARIANTS if v != "numpy" or net_name.startswith("xor")]
        for dtype_name in args.dtypes:
            dtype = getattr(torch, dtype_name)
            runs = {v: make_variant(v, make, x, targets, args.epochs, dtype, device)
                    for v in variants}
            for run in runs.values():  # warm-up
                run()
            times = take_turns(runs, args.rounds)
            med = {v: statistics.median(t) for v, t in times.items()}
            ratios = {v: statistics.median(mine / idiom for mine, idiom
                                           in zip(times[v], times["idiomatic"]))
                      for v in variants[1:]}
            results[(net_name, dtype_name)] = {"median_us": med, "ratios": ratios}
            print(f"{net_name:<28}{dtype_name:<9}" +
                  "".join(f"{med[v]:>9.1f} [{min(times[v]):5.1f}]" if v in med else f"{'':>17}"
                          for v in VARIANTS) +
                  "".join(f"{ratios[v]:>16.2f}" if v in ratios else f"{'':>16}"
                          for v in VARIANTS[1:]))
    print("\ncontract, every row: ours/idiomatic <= 1.0 (never slower than the idiomatic loop), "
          "explicit/idiomatic <= 0.5")

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
