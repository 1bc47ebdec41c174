"""Many networks at once: what K restarts of the seed's XOR experiment cost.

    python -m benchmarks.ensemble [--epochs 300] [--members 1 10 100 1000 10000] [--device cpu]

For each K and each engine (our custom Functions under autograd, and the
explicit derivation, which runs online ensembles in its members-last kernel,
``torchann/ensemble/online.py``) it trains an Ensemble of K 2-3-1 sigmoid nets online for
``--epochs`` epochs of the seed's XOR data, each in a fresh subprocess so its
peak memory (max RSS, which includes Python and torch themselves) is its own.
In the same run it times one network trained by ``fit`` (the per-step
baseline) and, when scikit-learn is installed, one ``MLPClassifier`` with
solver="sgd", batch_size=1 and the same architecture, learning rate and epochs.

Targets: at K = 1,000 the cost per member-step <= 1/300 of a single network's
step; 1,000 restarts faster than scikit-learn trains one network; peak memory
at K = 10,000 under 1 GiB. On a CUDA device it also runs K up to 100,000 and
prints member-steps per second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings

ROOT = __file__.rsplit("/benchmarks/", 1)[0]


def one_run(members: int, engine: str, epochs: int, device: str) -> dict:
    """Train K members once (called in a subprocess) and report time and memory."""
    import resource

    import torch

    from torchann import data
    from torchann.ensemble.model import Ensemble
    from torchann.ensemble.train import fit_ensemble

    inputs, targets = data.logic_gate("xor", seed=0)
    ensemble = Ensemble([2, 3, 1], "sigmoid", seeds=range(members), device=device)
    start = time.perf_counter()
    # Like scikit-learn (which records only the loss per epoch), evaluate the training
    # accuracy once, after the last epoch.
    history = fit_ensemble(ensemble, inputs, targets, lr=2.0, epochs=epochs, engine=engine,
                           track_accuracy=False)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    solved = float((history.final_accuracy >= 0.97).double().mean())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
    return {"members": members, "engine": engine, "seconds": seconds, "steps": history.steps,
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
    parser.add_argument("--members", type=int, nargs="+", default=[1, 10, 100, 1000, 10000])
    parser.add_argument("--engines", nargs="+", default=["autograd", "explicit"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--one", nargs=2, metavar=("K", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(int(args.one[0]), args.one[1], args.epochs, args.device)))
        return {}

    import torch
    members = list(args.members)
    if args.device == "cuda" and torch.cuda.is_available():
        members += [k for k in (30000, 100000) if k not in members]
    base = single_network(args.epochs)
    sk = sklearn_network(args.epochs)
    print(f"torch {torch.__version__}, device {args.device}, online XOR (120 observations), "
          f"{args.epochs} epochs = {args.epochs * 120:,} steps per member\n")
    print(f"one network with fit (custom Functions): {base['step_seconds'] * 1e6:.1f} µs/step, "
          f"{base['run_seconds']:.2f} s for {args.epochs} epochs")
    if sk:
        print(f"one scikit-learn MLPClassifier(solver='sgd', batch_size=1): {sk['seconds']:.2f} s "
              f"({sk['epochs']} epochs, accuracy {sk['accuracy']:.3f})")
    else:
        print("scikit-learn is not installed: pip install scikit-learn for that comparison")
    print(f"\n{'engine':<10}{'K':>8}{'wall s':>10}{'µs/step':>10}{'µs/member-step':>16}"
          f"{'vs one net':>12}{'member-steps/s':>16}{'solved':>8}{'peak RSS MiB':>14}")
    rows = []
    for engine in args.engines:
        for k in members:
            out = subprocess.run([sys.executable, "-m", "benchmarks.ensemble", "--one", str(k),
                                  engine, "--epochs", str(args.epochs), "--device", args.device],
                                 cwd=ROOT, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per_step = r["seconds"] / r["steps"]
            per_member = per_step / k
            r.update(per_member_step=per_member, ratio=per_member / base["step_seconds"])
            rows.append(r)
            print(f"{engine:<10}{k:>8}{r['seconds']:>10.2f}{per_step * 1e6:>10.1f}"
                  f"{per_member * 1e6:>16.4f}{'1/' + format(1 / r['ratio'], '.0f'):>12}"
                  f"{k * r['steps'] / r['seconds']:>16,.0f}{r['solved']:>8.3f}{r['peak_mib']:>14.0f}")
    print("\ntargets: at K=1000, µs/member-step <= 1/300 of one network's step; "
          "K=1000 wall time < one scikit-learn network; peak at K=10000 < 1024 MiB")
    for r in rows:
        if r["members"] == 1000 and sk:
            verdict = "faster" if r["seconds"] < sk["seconds"] else "SLOWER"
            print(f"  {r['engine']}: 1,000 restarts {r['seconds']:.2f} s vs one scikit-learn net "
                  f"{sk['seconds']:.2f} s -> {verdict} ({r['seconds'] / sk['seconds']:.2f}x)")
    return {"single": base, "sklearn": sk, "rows": rows}


if __name__ == "__main__":
    main()
