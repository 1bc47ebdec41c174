"""Try every kind of bad input a user can give, and print what they see (a Markdown table).

    python scripts/bad_input_report.py

Each command-line case runs as a real subprocess (so the exit status and the
exact message are what a user gets); each library case calls the function
in-process. Nothing here asserts: the tests do (tests/test_*.py); this is the
readable overview.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLI = [
    ("xor --lr 0", ["experiments.xor", "--lr", "0"]),
    ("xor --lr nan", ["experiments.xor", "--lr", "nan"]),
    ("xor --lr fast", ["experiments.xor", "--lr", "fast"]),
    ("xor --epochs 0", ["experiments.xor", "--epochs", "0"]),
    ("xor --anneal 1.5", ["experiments.xor", "--anneal", "1.5"]),
    ("xor --anneal 0", ["experiments.xor", "--anneal", "0"]),
    ("xor --hidden 0", ["experiments.xor", "--hidden", "0"]),
    ("xor --batch-size -3", ["experiments.xor", "--batch-size", "-3"]),
    ("xor --device tpu", ["experiments.xor", "--device", "tpu"]),
    ("xor --device cuda (no GPU)", ["experiments.xor", "--device", "cuda"]),
    ("xor --dtype float16", ["experiments.xor", "--dtype", "float16"]),
    ("xor --noise -1", ["experiments.xor", "--noise", "-1"]),
    ("xor --repeats 0", ["experiments.xor", "--repeats", "0"]),
    ("xor --run-name ../x", ["experiments.xor", "--run-name", "../x"]),
    ("xor --logdir <a file>", ["experiments.xor", "--logdir", "{file}"]),
    ("xor --run-name <existing>", ["experiments.xor", "--logdir", "{tmp}", "--run-name", "taken"]),
    ("xor --resume <no checkpoint>", ["experiments.xor", "--resume", "{tmp}"]),
    ("xor --resume <run> --lr 0.5", ["experiments.xor", "--resume", "{tmp}/xor/taken", "--lr", "0.5"]),
    ("ring --resume <an xor run>", ["experiments.ring", "--resume", "{tmp}/xor/taken"]),
    ("xor --resume <malicious file>", ["experiments.xor", "--resume", "{evil}"]),
    ("regression --resume <an xor run>", ["experiments.regression", "--resume", "{tmp}/xor/taken"]),
    ("xor --resume /etc/passwd", ["experiments.xor", "--resume", "/etc/passwd"]),
    ("xor --resume <a text file>", ["experiments.xor", "--resume", "{file}"]),
    ("xor --resume <a 1-byte file>", ["experiments.xor", "--resume", "{byte}"]),
    ("xor --resume <a corrupted checkpoint>", ["experiments.xor", "--resume", "{corrupt}"]),
    ("xor --resume <a finished run>", ["experiments.xor", "--resume", "{tmp}/xor/taken"]),
    ("xor --lr 1e39", ["experiments.xor", "--lr", "1e39"]),
    ("xor --seed <20 digits>", ["experiments.xor", "--seed", "12345678901234567890123"]),
    ("xor --run-name <300 characters>", ["experiments.xor", "--run-name", "r" * 300]),
    ("xor --hidden 1000000000", ["experiments.xor", "--hidden", "1000000000"]),
    ("xor --repeats 10**12", ["experiments.xor", "--repeats", "1000000000000"]),
    ("regression --points 10**12", ["experiments.regression", "--points", "1000000000000"]),
    ("logic --gate nand", ["experiments.logic", "--gate", "nand"]),
    ("regression --target cos", ["experiments.regression", "--target", "cos"]),
    ("regression --lr 5 (diverges)", ["experiments.regression", "--lr", "5", "--logdir", "{tmp}",
                                      "--no-tensorboard", "--quiet"]),
    ("error_surface --grid 1", ["experiments.error_surface", "--grid", "1"]),
    ("error_surface --start 1 nan", ["experiments.error_surface", "--start", "1", "nan"]),
    ("activations --names swish", ["experiments.activations", "--names", "swish"]),
    ("all --out <non-empty folder>", ["experiments.all", "--out", "{tmp}"]),
]


def api_cases():
    import torch

    from torchann import MLP, Checkpoint, TwoLayerNet, data, fit
    from torchann.runs.checkpoint import load_checkpoint
    from torchann.runs.weights import import_weights

    x, t = data.logic_gate("xor", repeats=2)
    net = lambda: TwoLayerNet(2, 3, 1)  # noqa: E731
    nan_x = x.clone()
    nan_x[1, 0] = float("nan")
    return [
        ("fit(lr=0)", lambda: fit(net(), x, t, lr=0, epochs=1)),
        ("fit(lr=float('nan'))", lambda: fit(net(), x, t, lr=float("nan"), epochs=1)),
        ("fit(epochs=0)", lambda: fit(net(), x, t, lr=1, epochs=0)),
        ("fit(epochs=2.5)", lambda: fit(net(), x, t, lr=1, epochs=2.5)),
        ("fit(anneal=1.5)", lambda: fit(net(), x, t, lr=1, epochs=1, anneal=1.5)),
        ("fit(batch_size=0)", lambda: fit(net(), x, t, lr=1, epochs=1, batch_size=0)),
        ("fit(engine='magic')", lambda: fit(net(), x, t, lr=1, epochs=1, engine="magic")),
        ("fit(inputs with NaN)", lambda: fit(net(), nan_x, t, lr=1, epochs=1)),
        ("fit(inputs with 3 columns)", lambda: fit(net(), torch.rand(8, 3), t, lr=1, epochs=1)),
        ("fit(7 inputs, 8 targets)", lambda: fit(net(), x[:7], t, lr=1, epochs=1)),
        ("fit(empty data)", lambda: fit(net(), x[:0], t[:0], lr=1, epochs=1)),
        ("fit(inputs='abc')", lambda: fit(net(), "abc", t, lr=1, epochs=1)),
        ("fit(integer targets)", lambda: fit(net(), x, t.long(), lr=1, epochs=1) and "trains"),
        ("fit(lr=1e3, regression: diverges)", lambda: fit(
            TwoLayerNet(1, 3, 1, hidden="tanh", output="identity"), *data.regression("abs"),
            lr=1e3, epochs=5)),
        ("fit(Checkpoint(<file in a file>))", lambda: fit(
            net(), x, t, lr=1, epochs=1, callbacks=[Checkpoint("/etc/hostname/c.pt")])),
        ("TwoLayerNet(2, 0, 1)", lambda: TwoLayerNet(2, 0, 1)),
        ("TwoLayerNet(..., hidden='sigmiod')", lambda: TwoLayerNet(2, 3, 1, hidden="sigmiod")),
        ("TwoLayerNet(..., device='cuda') (no GPU)", lambda: TwoLayerNet(2, 3, 1, device="cuda")),
        ("TwoLayerNet(..., dtype=torch.int64)", lambda: TwoLayerNet(2, 3, 1, dtype=torch.int64)),
        ("MLP([2])", lambda: MLP([2])),
        ("MLP([2, 3, 1], ['tanh'])", lambda: MLP([2, 3, 1], ["tanh"])),
        ("load_checkpoint(<text file>)", lambda: load_checkpoint(__file__)),
        ("import_weights(<not JSON>)", lambda: import_weights(__file__)),
        ("fit(resume={})", lambda: fit(net(), x, t, lr=1, epochs=1, resume={})),
        ("fit(<every parameter frozen>)", lambda: fit(net().requires_grad_(False), x, t, lr=1,
                                                      epochs=1)),
        ("fit(loss='bce', targets 5)", lambda: fit(net(), x, 5 * t, lr=1, epochs=1, loss="bce")),
        ("fit(lr=1e39, float32 net)", lambda: fit(TwoLayerNet(2, 3, 1, dtype=torch.float32), x, t,
                                                  lr=1e39, epochs=1)),
        ("fit(epochs=10**12)", lambda: fit(net(), x, t, lr=1, epochs=10 ** 12)),
        ("net(<3 columns>)", lambda: net()(torch.rand(4, 3))),
        ("TwoLayerNet(2, 3, 1, seed=10**20)", lambda: TwoLayerNet(2, 3, 1, seed=10 ** 20)),
        ("MLP([2, 10**9, 1])", lambda: MLP([2, 10 ** 9, 1])),
        ("import_weights(<float32 file with 1e39>)", lambda: import_weights(_weights_file(
            lambda spec: spec["layers"][0]["weight"][0].__setitem__(0, 1e39)))),
        ("import_weights(<sizes [2, 10**9, 1]>)", lambda: import_weights(_weights_file(
            lambda spec: spec.update(sizes=[2, 10 ** 9, 1])))),
    ]


def _weights_file(change) -> str:
    """A float32 weights file of a 2-3-1 net, altered by ``change(spec)``, written as a
    version-1 file (no checksum), as someone might write one by hand."""
    import torch

    from torchann import TwoLayerNet
    from torchann.runs.weights import weights_to_dict
    spec = weights_to_dict(TwoLayerNet(2, 3, 1, dtype=torch.float32))
    spec.pop("checksum", None)
    spec["version"] = 1
    change(spec)
    handle, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(handle, "w") as stream:
        json.dump(spec, stream)
    return path


def one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "").replace("|", "\\|")[:220]


def main() -> None:
    import torch

    from experiments import xor
    with tempfile.TemporaryDirectory() as tmp:
        xor.main(["--logdir", tmp, "--run-name", "taken", "--epochs", "1", "--quiet"])
        (Path(tmp) / "afile").write_text("x")
        (Path(tmp) / "abyte").write_bytes(b"\x00")
        evil = Path(tmp) / "evil.pt"
        torch.save({"x": os.system}, evil)  # a pickled callable
        corrupt = bytearray((Path(tmp) / "xor" / "taken" / "checkpoint.pt").read_bytes())
        corrupt[len(corrupt) // 2] ^= 0x10  # one bit flipped in the middle of the file
        (Path(tmp) / "corrupt.pt").write_bytes(bytes(corrupt))
        print("| input | exit | what the user sees |\n|---|---|---|")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for label, args in CLI:
            args = [a.format(tmp=tmp, file=f"{tmp}/afile", byte=f"{tmp}/abyte", evil=evil,
                             corrupt=f"{tmp}/corrupt.pt") for a in args]
            result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=300)
            shown = one_line(result.stderr or result.stdout)
            tb = " (TRACEBACK!)" if "Traceback" in result.stderr else ""
            print(f"| `python -m experiments.{label}` | {result.returncode} | {shown}{tb} |")
        for label, call in api_cases():
            try:
                outcome = call()
                shown, kind = ("trains (converted to float)" if outcome else "accepted"), "ok"
            except Exception as error:  # noqa: BLE001 - we report whatever comes out
                shown, kind = one_line(str(error)), type(error).__name__
            print(f"| `{label}` | {kind} | {shown} |")


if __name__ == "__main__":
    main()
