"""Re-create every figure of the seed in one folder.

Runs each experiment with the seed's settings (in-process, one after another)
into a new folder -- by default ``runs/figures/<start time>/`` -- and copies each
figure there as ``fig<NN>_<name>.png`` next to the per-run folders (with
``summary.json`` and TensorBoard events). A folder given with ``--out`` must
not exist yet, so earlier figures are never overwritten. ``--docs`` also
refreshes the gallery under ``docs/figures/`` that the README shows: each
figure, its per-neuron view where the net has hidden units, with
``--animate`` the animated GIFs, and ``gallery.json``, which records the flags
and the final loss of every run so a test can check the gallery still comes
from today's code and settings. Those files are under version control, so git
keeps what they replace.

    python -m experiments.all [--out DIR] [--animate] [--docs]
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from experiments import activations, error_surface, logic, regression, ring, xor
from experiments.flags import ExperimentParser, positive_float
from torchann.runs.folders import make_folder, new_run_dir, write_json

# (file stem, module, flags): the seed's figures in the blog's order.
FIGURES = [
    ("fig02_activations", activations, []),
    ("fig04_error_surface", error_surface, []),
    ("fig07_logic_or", logic, ["--gate", "or"]),
    ("fig08_logic_and", logic, ["--gate", "and"]),
    ("fig09_logic_xor", logic, ["--gate", "xor"]),
    ("fig10_xor", xor, []),
    ("fig11_ring", ring, []),
    ("fig12_regression_sin", regression, ["--target", "sin"]),
    ("fig13_regression_abs", regression, ["--target", "abs"]),
]
TRAINS = {logic, xor, ring, regression}
DOCS = Path(__file__).resolve().parents[1] / "docs" / "figures"


def build_parser():
    parser = ExperimentParser(prog="python -m experiments.all",
                              description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None,
                        help="a new folder for the figures (default: runs/figures/<start time>)")
    parser.add_argument("--animate", action="store_true",
                        help="also write each training run's learning.gif")
    parser.add_argument("--no-tensorboard", dest="tensorboard", action="store_false",
                        help="write no TensorBoard events")
    parser.add_argument("--docs", action="store_true",
                        help="refresh the README gallery's small PNGs in docs/figures/")
    parser.add_argument("--epochs-scale", type=positive_float, default=1.0,
                        help="multiply every training run's epochs (e.g. 0.1 for a quick look)")
    return parser


def _out_dir(parser, requested: str | None) -> Path:
    """A new timestamped runs/figures/<time> folder, or ``--out`` if it is new or empty."""
    try:
        if requested is None:
            return new_run_dir("runs", "figures")
        out = Path(requested)
        if out.is_dir() and any(out.iterdir()):
            parser.error(f"--out {out} already exists and is not empty; figures are never "
                         "overwritten, choose a new folder")
        return make_folder(out, "the --out folder")
    except ValueError as error:
        parser.error(str(error))


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = _out_dir(parser, args.out)
    written, timings, gallery = {}, {}, {}
    progress = tqdm(FIGURES, desc="figures", unit="figure")
    for stem, module, flags in progress:
        progress.set_postfix_str(stem)
        argv_i = [*flags, "--logdir", str(out / "runs"), "--run-name", stem, "--quiet"]
        if not args.tensorboard:
            argv_i.append("--no-tensorboard")
        if module in TRAINS:
            epochs = module.build_parser().parse_args(flags).epochs
            argv_i += ["--epochs", str(max(1, round(epochs * args.epochs_scale)))]
            if args.animate:
                argv_i.append("--animate")
        start = time.perf_counter()
        summary = module.main(argv_i)
        timings[stem] = {"total": time.perf_counter() - start,
                         **summary.get("timing_seconds", {})}
        target = out / f"{stem}.png"
        shutil.copyfile(summary["figure"], target)
        written[stem] = {"figure": str(target), "run": summary["run_dir"],
                         **({"animation": summary["animation"]} if "animation" in summary else {})}
        if args.docs:
            DOCS.mkdir(parents=True, exist_ok=True)
            copies = {"figure": ".png", "animation": ".gif", "hidden_units": "_hidden_units.png",
                      "hidden_units_animation": "_hidden_units.gif"}
            for key, suffix in copies.items():
                if key in summary:
                    with Image.open(summary[key]) as image:  # re-encoded: smaller files
                        if suffix.endswith(".png"):
                            image.save(DOCS / f"{stem}{suffix}", optimize=True)
                        else:
                            shutil.copyfile(summary[key], DOCS / f"{stem}{suffix}")
            gallery[stem] = {"flags": flags, "epochs_scale": args.epochs_scale,
                             "final_loss": summary.get("final_loss"),
                             "files": sorted(f"{stem}{s}" for k, s in copies.items()
                                             if k in summary)}
    progress.close()
    if args.docs:
        write_json(DOCS / "gallery.json", {"torch": torch.__version__, "figures": gallery})

    print(f"\nFigures written to {out}/:")
    for stem, files in written.items():
        print(f"  {stem}.png   (run: {files['run']})")
        if "animation" in files:
            print(f"  {' ' * len(stem)}     animation: {files['animation']}")
    if args.docs:
        print(f"Gallery images refreshed in {DOCS}/")
    print("\nWhere the time went (seconds):")
    columns = ["total", "training", "callbacks", "tensorboard_images", "figure", "animation",
               "tensorboard_final"]
    print("  " + f"{'figure':<22}" + "".join(f"{c:>19}" for c in columns))
    for stem, t in timings.items():
        print("  " + f"{stem:<22}" + "".join(
            f"{t[c]:>19.2f}" if c in t else f"{'-':>19}" for c in columns))
    total = {c: sum(t.get(c, 0.0) for t in timings.values()) for c in columns}
    print("  " + f"{'all':<22}" + "".join(f"{total[c]:>19.2f}" for c in columns))
    return {"out": str(out), "figures": written, "timing_seconds": timings}


if __name__ == "__main__":
    main()
