"""Many networks at once: what K restarts of the seed's XOR experiment cost.

    python -m benchmarks.ensemble [--epochs 300] [--members 1 100 1000 10000 100000]
                                  [--engines autograd explicit compiled] [--dtype float32]

For each K and each engine (our custom Functions under autograd; the explicit
derivation, which runs online ensembles in its members-last kernel,
``torchann/ensemble/online.py``; and the compiled engine, ``torchann/ensemble/fast.py``)
it trains an Ensemble of K 2-3-1 sigmoid nets online for ``--epochs`` epochs of
the seed's XOR data, each in a fresh subprocess so its peak memory (max RSS,
which includes Python and torch themselves) is its own. The compiled engine's
compile time is a column of its own, not part of the training time (torch
caches the compiled code on disk, so it is shorter the second time). In the
same run it times one network trained by ``fit`` (the per-step baseline) and,
when scikit-learn is installed, one ``MLPClassifier`` with solver="sgd",
batch_size=1 and the same architecture, learning rate and epochs.

Targets: 10,000 restarts train in less time than scikit-learn takes for one
network; peak memory at K = 100,000 under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings

ROOT = __file__.rsplit("/benchmarks/", 1)[0]


def one_run(members: int, engine: str, epochs: int, device: str, dtype: str) -> dict:
    """Train K members once (called in a subprocess) and report time and memory."""
    import resource

    import torch

    from torchann import data
    from torchann.ensemble.model import Ensemble
    from torchann.ensemble.train import fit_ensemble

    inputs, targets = data.logic_gate("xor", seed=0)
    ensemble = Ensemble([2, 3, 1], "sigmoid", seeds=range(members), device=device,
                        dtype=getattr(torch, dtype))
    # Like scikit-learn (which records only the loss per epoch), evaluate the training
    # accuracy once, after the last epoch.
    history = fit_ensemble(ensemble, inputs, targets, lr=2.0, epochs=epochs, engine=engine,
                           track_accuracy=False)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = history.seconds  # training only: compiling is history.compile_seconds
    solved = float((history.final_accuracy >= 0.97).double().mean())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
    return {"members": members, "engine": history.engine, "seconds": seconds,
            "compile_seconds": history.compile_seconds, "steps": history.steps,
            "solved": solved, "peak_mib": peak,
            "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None}


def single_network(epochs: int) -> dict:
    from torchann import TwoLayerNet, data, fit
    inputs, targets = data.logic_gate("xor", seed=0)
    times = []
    for _ in range(3):
        history = fit(TwoLayerNet(2, 3, 1, seed=0), inputs, targets, lr=2.0,
                      epochs=max(1, epochs // 10), shuffle=False)
        times.append(history.seconds / history.steps)
    step = min(times)
    return {"step_seconds": step, "run_seconds": step * epochs * len(inputs)}


def sklearn_network(epochs: int) -> dict | None:
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    from torchann import data
    inputs, targets = data.logic_gate("xor", seed=0)
    X, y = inputs.numpy(), targets.numpy()[:, 0]
    clf = MLPClassifier(hidden_layer_sizes=(3,), activation="logistic", solver="sgd",
                        batch_size=1, learning_rate_init=2.0, momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, max_iter=epochs, shuffle=False,
                        tol=0.0, n_iter_no_change=epochs + 1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "accuracy": clf.score(X, y), "epochs": clf.n_iter_}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--members", type=int, nargs="+", default=[1, 100, 1000, 10000, 100000])
    parser.add_argument("--engines", nargs="+", default=["autograd", "explicit", "compiled"])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--one", nargs=2, metavar=("K", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(int(args.one[0]), args.one[1], args.epochs, args.device,
                                 args.dtype)))
        return {}

    import torch
    members = list(args.members)
    base = single_network(args.epochs)
    sk = sklearn_network(args.epochs)
    print(f"torch {torch.__version__}, device {args.device}, {args.dtype}, online XOR "
          f"(120 observations), {args.epochs} epochs = {args.epochs * 120:,} steps per member\n")
    print(f"one network with fit (custom Functions): {base['step_seconds'] * 1e6:.1f} µs/step, "
          f"{base['run_seconds']:.2f} s for {args.epochs} epochs")
    if sk:
        print(f"one scikit-learn MLPClassifier(solver='sgd', batch_size=1): {sk['seconds']:.2f} s "
              f"({sk['epochs']} epochs, accuracy {sk['accuracy']:.3f})")
    else:
        print("scikit-learn is not installed: pip install scikit-learn for that comparison")
    print(f"\n{'engine':<10}{'K':>8}{'train s':>10}{'compile s':>11}{'ns/member-step':>16}"
          f"{'member-steps/s':>16}{'vs K sklearn':>14}{'solved':>8}{'peak RSS MiB':>14}")
    rows = []
    for engine in args.engines:
        for k in members:
            out = subprocess.run([sys.executable, "-m", "benchmarks.ensemble", "--one", str(k),
                                  engine, "--epochs", str(args.epochs), "--device", args.device,
                                  "--dtype", args.dtype],
                                 cwd=ROOT, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per_step = r["seconds"] / r["steps"]
            per_member = per_step / k
            r.update(per_member_step=per_member, ratio=per_member / base["step_seconds"])
            rows.append(r)
            versus = f"{r['seconds'] / (k * sk['seconds']):.2g}x" if sk else "-"
            print(f"{r['engine']:<10}{k:>8}{r['seconds']:>10.2f}{r['compile_seconds']:>11.1f}"
                  f"{per_member * 1e9:>16.1f}{k * r['steps'] / r['seconds']:>16,.0f}"
                  f"{versus:>14}{r['solved']:>8.3f}{r['peak_mib']:>14.0f}")
    print("\n'vs K sklearn': training time / (K x one scikit-learn fit). Targets: 10,000 "
          "restarts train faster than one scikit-learn network; peak RSS at K=100,000 < 1024 MiB")
    for r in rows:
        if r["members"] == 10000 and sk:
            verdict = "faster" if r["seconds"] < sk["seconds"] else "SLOWER"
            print(f"  {r['engine']}: 10,000 restarts {r['seconds']:.2f} s (+ {r['compile_seconds']:.1f} s "
                  f"compiling) vs one scikit-learn net {sk['seconds']:.2f} s -> {verdict} "
                  f"({r['seconds'] / sk['seconds']:.2f}x)")
    return {"single": base, "sklearn": sk, "rows": rows}


if __name__ == "__main__":
    main()
