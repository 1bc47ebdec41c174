"""torchann vs scikit-learn's MLP under matched settings: accuracy, wall time, memory.

    python -m benchmarks.sklearn_compare [--seeds 5] [--epochs 100] [--skip-timing]

Part 1, accuracy: on every bundled dataset, the same architecture (one hidden
layer of 64 tanh units; a sigmoid output with binary cross-entropy for two
classes, softmax with cross-entropy for more; scikit-learn's own output layer
and log-loss are the same), the same solver (plain SGD: no momentum, no L2
penalty, constant learning rate 0.1), minibatch 32, the same epochs and a
fresh shuffle every epoch, on the same standardised train split -- test
accuracy averaged over ``--seeds`` seeds, and wall time, side by side in one
run. Initial weights: Glorot/Xavier for both.

Part 2, speed: on the digits, minibatch 32 and 128, hidden width 64 and 512,
``--timing-epochs`` epochs: wall time of torchann with its custom Functions,
of the same net on torch's built-in ops (``builtin=True``), and of
scikit-learn (median of 3, in rotating order with a pause between runs, so
numpy's spinning BLAS threads do not slow whatever runs next). Part 3 measures peak memory (max RSS of a fresh
process) for training on the full digits set at width 512.

Requires scikit-learn (``pip install 'torchann[data]'``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings

import torch

from torchann import MLP, datasets, fit

ROOT = __file__.rsplit("/benchmarks/", 1)[0]


def torchann_run(split, hidden: int, lr: float, batch: int, epochs: int, seed: int,
                 builtin: bool = False) -> tuple[float, float]:
    """(test accuracy, seconds) of our MLP trained like scikit-learn's."""
    binary = split.n_out == 1
    net = MLP([split.n_in, hidden, split.n_out], "tanh", output="sigmoid" if binary else "softmax",
              seed=seed, dtype=torch.float64, init="xavier", builtin=builtin)
    start = time.perf_counter()
    fit(net, *split.train, lr=lr, epochs=epochs, batch_size=batch, shuffle=True, seed=seed,
        loss="bce" if binary else "ce", track_accuracy=False)  # scikit-learn tracks loss only
    seconds = time.perf_counter() - start
    x, t = split.test
    with torch.no_grad():
        out = net(x)
    predicted = (out[:, 0] > 0.5).long() if binary else out.argmax(dim=1)
    truth = t[:, 0].long() if binary else t.argmax(dim=1)
    return float((predicted == truth).double().mean()), seconds


def sklearn_run(split, hidden: int, lr: float, batch: int, epochs: int,
                seed: int) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    x, t = (v.numpy() for v in split.train)
    y = t[:, 0] if split.n_out == 1 else t.argmax(axis=1)
    clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="tanh", solver="sgd",
                        learning_rate="constant", learning_rate_init=lr, momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, batch_size=batch, max_iter=epochs,
                        shuffle=True, tol=0.0, n_iter_no_change=epochs + 1, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(x, y)
        seconds = time.perf_counter() - start
    xt, tt = (v.numpy() for v in split.test)
    yt = tt[:, 0] if split.n_out == 1 else tt.argmax(axis=1)
    return float(clf.score(xt, yt)), seconds


def memory_probe(hidden: int, batch: int, epochs: int) -> None:
    import resource
    split = datasets.load("digits", seed=0)
    torchann_run(split, hidden, 0.1, batch, epochs, 0)
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--timing-epochs", type=int, default=20)
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        memory_probe(512, 32, args.timing_epochs)
        return {}
    datasets.require_sklearn()

    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads); both use the "
          "machine's default threading\n")
    print(f"Part 1: test accuracy, mean of seeds 0-{args.seeds - 1}; 64 tanh hidden units, "
          f"SGD lr 0.1, no momentum, batch 32, {args.epochs} epochs\n")
    print(f"{'dataset':<15}{'train':>7}{'test':>6}{'torchann':>10}{'sklearn':>9}{'diff (pp)':>11}"
          f"{'torchann s':>12}{'sklearn s':>11}")
    accuracy_rows = {}
    for name in datasets.DATASETS:
        ours, theirs, t_ours, t_theirs = [], [], [], []
        for seed in range(args.seeds):
            split = datasets.load(name, seed=seed)
            a, s = torchann_run(split, 64, 0.1, 32, args.epochs, seed)
            b, u = sklearn_run(split, 64, 0.1, 32, args.epochs, seed)
            ours.append(a), theirs.append(b), t_ours.append(s), t_theirs.append(u)
        row = {"torchann": statistics.mean(ours), "sklearn": statistics.mean(theirs),
               "torchann_seconds": statistics.mean(t_ours),
               "sklearn_seconds": statistics.mean(t_theirs)}
        accuracy_rows[name] = row
        diff = 100 * (row["torchann"] - row["sklearn"])
        print(f"{name:<15}{len(split.train[0]):>7}{len(split.test[0]):>6}"
              f"{100 * row['torchann']:>9.1f}%{100 * row['sklearn']:>8.1f}%{diff:>+11.1f}"
              f"{row['torchann_seconds']:>12.2f}{row['sklearn_seconds']:>11.2f}")
    print("target: torchann within 1 percentage point of scikit-learn, or better")

    timing_rows = {}
    if not args.skip_timing:
        split = datasets.load("digits", seed=0)
        print(f"\nPart 2: wall time on the digits ({len(split.train[0])} training images), "
              f"{args.timing_epochs} epochs, median of 3\n")
        print(f"{'batch':>6}{'width':>7}{'ours s':>9}{'builtin s':>11}{'sklearn s':>11}"
              f"{'ours/sklearn':>14}{'ours/builtin':>14}")
        for batch in (32, 128):
            for width in (64, 512):
                runs = {"ours": [], "builtin": [], "sklearn": []}
                variants = {
                    "ours": lambda: torchann_run(split, width, 0.1, batch, args.timing_epochs, 0),
                    "builtin": lambda: torchann_run(split, width, 0.1, batch, args.timing_epochs,
                                                    0, builtin=True),
                    "sklearn": lambda: sklearn_run(split, width, 0.1, batch, args.timing_epochs, 0),
                }
                names = list(variants)
                for r in range(3):  # rotate the order, so no variant always follows another
                    for name in names[r:] + names[:r]:
                        # numpy's BLAS threads spin for a moment after a call; let them settle
                        # so they do not steal the cores from whatever runs next.
                        time.sleep(0.3)
                        runs[name].append(variants[name]()[1])
                med = {k: statistics.median(v) for k, v in runs.items()}
                timing_rows[(batch, width)] = med
                print(f"{batch:>6}{width:>7}{med['ours']:>9.3f}{med['builtin']:>11.3f}"
                      f"{med['sklearn']:>11.3f}{med['ours'] / med['sklearn']:>14.2f}"
                      f"{med['ours'] / med['builtin']:>14.2f}")
        print("targets: ours/sklearn <= 1.0 at width 64, <= 0.6 at width 512; "
              "ours/builtin <= 1.10 at width 512")
        probe = subprocess.run([sys.executable, "-m", "benchmarks.sklearn_compare",
                                "--memory-probe", "--timing-epochs", str(args.timing_epochs)],
                               cwd=ROOT, capture_output=True, text=True, check=True)
        peak = json.loads(probe.stdout.strip().splitlines()[-1])["peak_mib"]
        print(f"\nPart 3: peak memory (max RSS of a fresh process: Python + torch + training on "
              f"the full digits, width 512): {peak:.0f} MiB (target < 500 MiB)")
        timing_rows["peak_mib"] = peak
    return {"accuracy": accuracy_rows, "timing": timing_rows}


if __name__ == "__main__":
    main()
