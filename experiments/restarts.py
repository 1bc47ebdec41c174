"""The seed's open questions, answered with numbers: thousands of random restarts at once.

Whether a run of the seed's experiments succeeds depends on its random start.
This trains K restarts (default 1,000) of each configuration as one batched
:class:`~torchann.ensemble.Ensemble` (our custom activation Functions inside,
the same manual SGD as ``fit``) on the seed's dataset for each task, and reports
how often they succeed:

* XOR and ring: the fraction of restarts that reach the seed experiments' bar
  (training accuracy >= 97% for XOR, >= 94% for the ring) as a function of the
  number of hidden units (1-8) and of the learning rate (with 3 hidden units);
* 2.5 + sin(x) and |x|: the fraction whose curve ends within MSE 0.1 of the
  true f, with the seed's annealing (0.99 per epoch) and without it (1.0).

Everything else is the seed's setting (online updates in the data's fixed
order, the seed's epochs). Writes, into ``runs/restarts/<time>/``:
``members.csv`` (one row per restart), ``configurations.csv`` and
``summary.json`` (success rates), ``loss_curves.csv.gz`` (tidy: every
``--curve-every`` epochs), ``success_rates.png``, ``final_losses.png`` (the
plateaus and local minima show as separate modes), ``members.png`` (stuck
restarts' decision regions next to solved ones), and TensorBoard's HParams
view (one row per configuration).

Each finished configuration is saved at once (``jobs/``), so a sweep of hours
survives being stopped. Ctrl-C, SIGTERM or SIGHUP drops only the ensemble in
training, writes the files above for the configurations done so far
(``summary.json`` says ``"complete": false`` and how many are done), prints
how to resume, and exits with 128 + the signal's number. ``--resume RUN_DIR``
trains only the rest and ends with the same results as an uninterrupted
sweep; it also finishes a sweep that was killed outright.

    python -m experiments.restarts [--restarts 1000] [--engine auto|compiled|explicit|autograd]
    python -m experiments.restarts --resume runs/restarts/<run>
    torchrun --nproc-per-node 2 -m experiments.restarts   # members split over 2 processes
"""

from __future__ import annotations

import csv
import gzip
import shutil
import signal
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from experiments.flags import (ExperimentParser, add_output_flags, learning_rate,  # noqa: E402
                               make_run_dir, positive_float, positive_int)
from experiments.recorder import run_record  # noqa: E402
from experiments.regression import fit_errors  # noqa: E402
from experiments.restarts_figures import (loss_histogram_figure, members_figure,  # noqa: E402
                                          success_rate_figure)
from torchann import MLP, data  # noqa: E402
from torchann.checks import DTYPES, check_memory, resolve_device  # noqa: E402
from torchann.ensemble.distributed import (finish, gather_members,  # noqa: E402
                                           init_from_environment, rank_and_size, shard)
from torchann.ensemble.fast import CompiledOnline  # noqa: E402
from torchann.ensemble.model import Ensemble  # noqa: E402
from torchann.ensemble.train import fit_ensemble  # noqa: E402
from torchann.runs.checkpoint import load_signed, save_signed  # noqa: E402
from torchann.runs.folders import hold_run_dir, make_folder, write_json  # noqa: E402
from torchann.runs.integrity import first_line  # noqa: E402
from torchann.runs.interrupt import InterruptFlag, Stopped  # noqa: E402


@dataclass(frozen=True)
class Task:
    make_data: Callable[[], tuple[torch.Tensor, torch.Tensor]]
    hidden: str
    output: str
    lr: float
    epochs: int
    anneal: float
    accuracy_bar: float | None = None        # classification: success = accuracy >= bar
    target: str | None = None                # regression: success = fit MSE to f < 0.1


TASKS = {
    "xor": Task(lambda: data.logic_gate("xor", seed=0), "sigmoid", "sigmoid", 2.0, 300, 1.0, 0.97),
    "ring": Task(lambda: data.ring(seed=0), "sigmoid", "sigmoid", 2.0, 300, 1.0, 0.94),
    "sin": Task(lambda: data.regression("sin", seed=1), "tanh", "identity", 0.15, 200, 0.99,
                target="sin"),
    "abs": Task(lambda: data.regression("abs", seed=1), "tanh", "identity", 0.15, 200, 0.99,
                target="abs"),
}
FIT_MSE_BAR = 0.1


def build_parser():
    parser = ExperimentParser(prog="python -m experiments.restarts",
                              description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=positive_int, default=1000, help="random starts per configuration")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=list(range(1, 9)),
                        help="hidden-unit counts to sweep (XOR and ring)")
    parser.add_argument("--lrs", type=learning_rate, nargs="+", default=[0.25, 0.5, 1.0, 2.0, 4.0, 8.0],
                        help="learning rates to sweep (XOR and ring, 3 hidden units)")
    parser.add_argument("--epochs-scale", type=positive_float, default=1.0,
                        help="multiply every task's epochs (e.g. 0.1 for a quick look)")
    parser.add_argument("--engine", choices=["auto", "autograd", "explicit", "compiled"],
                        default="auto",
                        help="autograd = our custom Functions; explicit = the derivation; "
                             "compiled = the derivation compiled by torch.compile (the "
                             "explicit engine's updates, to rounding; several times faster "
                             "once compiled, which takes seconds); auto = compiled for "
                             "ensembles big enough to repay compiling, explicit for the others")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--curve-every", type=positive_int, default=10,
                        help="epochs between the loss-curve points saved per restart")
    add_output_flags(parser)
    parser.add_argument("--resume", default=None, metavar="RUN_DIR",
                        help="finish the interrupted sweep in RUN_DIR: train only the "
                             "configurations it has not done yet")
    return parser


# The flags that make the sweep what it is: --resume takes them from the run.
SWEEP_FLAGS = ("restarts", "tasks", "hidden", "lrs", "epochs_scale", "engine", "dtype",
               "curve_every")


def jobs(args) -> list[dict]:
    """Every configuration to train, grouped into ensembles (one per architecture)."""
    planned = []
    for name in args.tasks:
        task = TASKS[name]
        if task.accuracy_bar is not None:
            for hidden in args.hidden:
                planned.append({"task": name, "sweep": "hidden", "hidden": hidden,
                                "lrs": [task.lr], "anneals": [task.anneal]})
            planned.append({"task": name, "sweep": "lr", "hidden": 3, "lrs": list(args.lrs),
                            "anneals": [task.anneal]})
        else:
            planned.append({"task": name, "sweep": "anneal", "hidden": 3, "lrs": [task.lr],
                            "anneals": [task.anneal, 1.0]})
    return planned


def check_sweep_fits(parser, args, planned: list[dict]) -> None:
    """Refuse, before any folder is made, a sweep whose largest ensemble cannot fit in memory:
    its weights, and its history of three numbers per member and epoch."""
    for job in planned:
        members = args.restarts * len(job_settings(job))
        epochs = max(1, round(TASKS[job["task"]].epochs * args.epochs_scale))
        weights = members * job["hidden"] * 8
        try:
            check_memory(8 * (3 * members * epochs + 4 * weights),
                         f"the {job['task']} ensemble of {members:,} members x {epochs:,} epochs")
        except ValueError as error:
            parser.error(str(error))


def job_settings(job: dict) -> list[tuple[float, float]]:
    """The job's configurations, as (lr, anneal) pairs in member-block order."""
    return [(lr, anneal) for lr in job["lrs"] for anneal in job["anneals"]]


def stop_when_signalled(flag: InterruptFlag):
    """A ``fit_ensemble`` callback: abandon the ensemble after the epoch in which a signal came."""
    def check(state):
        if flag.requested:
            raise Stopped(flag.signum)
    return check


# Compiling an ensemble's steps takes about 3 to 10 s. Measured on XOR (docs/speed.md), the
# compiled engine saves 46 ns per member-step over the explicit one at K = 1,000 and 17 ns
# at K = 10,000: it repays compiling from about 300 million member-steps.
COMPILING_PAYS = 300_000_000


def engine_for(choice: str, ensemble: Ensemble, member_steps: int) -> str:
    """The engine ``--engine`` asks for; ``auto`` compiles an ensemble the compiled engine
    can train whose member-steps (all processes' together) repay compiling."""
    if choice != "auto":
        return choice
    big = member_steps >= COMPILING_PAYS
    return "compiled" if big and CompiledOnline.unsupported(ensemble, 1) is None else "explicit"


def run_job(job: dict, args, device, dtype, flag: InterruptFlag) -> dict:
    """Train one ensemble (this rank's share of it) and return the gathered per-member results.

    Raises :class:`Stopped` on every rank if a signal reached any of
    them: they agree before gathering, so none is left waiting for the others.
    """
    task = TASKS[job["task"]]
    K = args.restarts
    settings = job_settings(job)
    seeds = [s for _ in settings for s in range(K)]                 # member -> init seed
    member_lr = [lr for lr, _ in settings for _ in range(K)]
    member_anneal = [anneal for _, anneal in settings for _ in range(K)]
    rank, size = rank_and_size()
    mine = shard(len(seeds), rank, size)
    inputs, targets = task.make_data()
    epochs = max(1, round(task.epochs * args.epochs_scale))
    ensemble = Ensemble([inputs.shape[1], job["hidden"], 1], task.hidden, task.output,
                        seeds=[seeds[i] for i in mine], dtype=dtype, device=device)
    try:
        history = fit_ensemble(ensemble, inputs, targets, lr=[member_lr[i] for i in mine],
                               anneal=[member_anneal[i] for i in mine], epochs=epochs,
                               engine=engine_for(args.engine, ensemble,
                                                 len(seeds) * epochs * len(inputs)),
                               callbacks=stop_when_signalled(flag))
    except Stopped:
        pass  # this rank's flag is set: the agreement below stops every rank
    signum = int(gather_members(torch.tensor([flag.signum or 0])).max())
    if signum:
        raise Stopped(signum)
    result = {
        "loss": gather_members(history.stacked("online_loss")),                      # (epochs, M)
        "final_loss": gather_members(history.final_loss),
        "diverged_at": gather_members(history.diverged_at),
        "params": [gather_members(p.detach().cpu(), dim=0) for p in ensemble.parameters()],
    }
    if task.accuracy_bar is not None:
        result["final_accuracy"] = gather_members(history.final_accuracy)
        result["first_100"] = gather_members(history.first_epoch_reaching(1.0))
        result["success"] = result["final_accuracy"] >= task.accuracy_bar
    else:
        result["fit_mse"] = gather_members(fit_errors(ensemble, task.target).double().cpu())
        result["success"] = result["fit_mse"] < FIT_MSE_BAR
    result.update(seeds=seeds, lr=member_lr, anneal=member_anneal, epochs=epochs,
                  seconds=history.seconds, members=len(seeds), steps=history.steps,
                  compile_seconds=history.compile_seconds, engine=history.engine)
    return result


def configuration_id(job: dict, lr: float, anneal: float) -> str:
    return f"{job['task']}_{job['sweep']}-sweep_h{job['hidden']}_lr{lr:g}_anneal{anneal:g}"


def main(argv=None) -> dict:
    parser = build_parser()
    args, given = parser.parse(argv)
    saved = open_sweep(parser, args, given) if args.resume else None  # restores SWEEP_FLAGS
    try:
        device = resolve_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    distributed = init_from_environment(device)
    rank, size = rank_and_size()
    lead = rank == 0
    if saved is not None and saved.get("complete"):
        if lead:
            print(f"{args.resume} is already complete ({saved['configurations_total']} "
                  "configurations); nothing to resume", file=sys.stderr)
        if distributed:
            finish()
        return saved

    planned, summary = jobs(args), None
    check_sweep_fits(parser, args, planned)
    # Under torchrun the agent relays each signal, so a worker sees one Ctrl-C twice.
    with InterruptFlag(hard_stop=not distributed) as flag, ExitStack() as held:
        run_dir = Path(args.resume) if args.resume else (
            make_run_dir(parser, "restarts", args) if lead else None)
        if lead:
            held.enter_context(hold_run_dir(run_dir, on_error=parser.error))
        if lead and saved is None:  # from the start, the folder says what it holds
            write_outputs(run_dir, args, [], planned, size)
        results, signum = train_jobs(parser, args, run_dir, planned, device, flag)
        if lead:  # a signal from here on is ignored: the files below are what it asks for
            summary = write_outputs(run_dir, args, results, planned, size)
            report(summary, args)
    if distributed:
        finish()
    if signum:
        if lead:
            command = ("python -m experiments.restarts" if size == 1 else
                       f"torchrun --nproc-per-node {size} -m experiments.restarts")
            done, total = summary["configurations_done"], summary["configurations_total"]
            print(f"\nInterrupted by {signal.Signals(signum).name}: {done} of {total} "
                  f"configurations done; partial results written to {run_dir}.\n"
                  f"Resume with: {command} --resume {run_dir}", file=sys.stderr)
        raise SystemExit(128 + signum)  # as the shell reports a process the signal ended
    return summary


def train_jobs(parser, args, run_dir: Path | None, planned, device, flag) -> tuple[list, int]:
    """Train the planned jobs that ``run_dir`` does not hold yet, saving each as it finishes.

    Returns the (job, result) pairs done, in order, and the signal that stopped
    the sweep (0 if none). Only rank 0 keeps results; the others hold ``None``.
    """
    lead = rank_and_size()[0] == 0
    results = []
    progress = tqdm(planned, desc="sweep", unit="ensemble", disable=not lead or args.quiet,
                    file=sys.stderr)
    for job in progress:
        progress.set_postfix_str(f"{job['task']} {job['sweep']} h={job['hidden']}")
        kept = Path(args.resume, "jobs", f"{job_id(job)}.pt") if args.resume else None
        if kept is not None and kept.exists():  # done before the sweep was stopped
            results.append((job, load_job(parser, kept) if lead else None))
            continue
        try:
            result = run_job(job, args, device, DTYPES[args.dtype], flag)
        except Stopped as stop:
            progress.close()
            return results, stop.signum
        if lead:
            save_job(run_dir, job, result)
        results.append((job, result))
    progress.close()
    return results, 0


def job_id(job: dict) -> str:
    return f"{job['task']}_{job['sweep']}-sweep_h{job['hidden']}"


def save_job(run_dir: Path, job: dict, result: dict) -> None:
    """Keep a finished ensemble's results (tensors and plain data) until the sweep is done,
    signed and written as a checkpoint is."""
    folder = make_folder(run_dir / "jobs", "the folder for finished configurations")
    save_signed(folder / f"{job_id(job)}.pt", result)


def load_job(parser, path: Path) -> dict:
    """A saved configuration, checked as a checkpoint is (archive, no pickled code, checksum)."""
    try:
        result = load_signed(path, "saved configuration")
    except (OSError, ValueError) as error:
        parser.error(f"--resume: {first_line(error)}; delete {path} to train that ensemble "
                     "again")
    result.pop("checksum")
    return result


def open_sweep(parser: ExperimentParser, args, given: set[str]) -> dict:
    """Read the summary of the run ``--resume`` names and take its SWEEP_FLAGS into ``args``.

    A sweep flag given on the command line that differs from the run's is a
    usage error, even when it equals the default: the results would mix two
    different sweeps. ``--device``, ``--quiet`` and ``--no-tensorboard`` may change.
    """
    run_dir = Path(args.resume)
    saved = run_record(run_dir)
    try:
        settings = {key: saved["settings"][key] for key in SWEEP_FLAGS}
        if saved["experiment"] != "restarts":
            raise ValueError(saved["experiment"])
    except (ValueError, KeyError, TypeError):
        parser.error(f"--resume: {run_dir} is not a run of experiments.restarts "
                     "(no readable summary.json with its settings)")
    if given & {"logdir", "run_name"}:
        parser.error("--resume: --logdir and --run-name name a new run; RUN_DIR is the one "
                     "that is continued")
    for key in SWEEP_FLAGS:
        if key in given and getattr(args, key) != settings[key]:
            parser.error(f"--resume: --{key.replace('_', '-')} cannot change when resuming "
                         f"(the run used {settings[key]!r}, got {getattr(args, key)!r})")
        setattr(args, key, settings[key])
    return saved


CONFIGURATION_FIELDS = ["configuration", "task", "sweep", "hidden", "lr", "anneal", "restarts",
                        "epochs", "success_rate", "median_final_loss"]


def write_outputs(run_dir: Path, args, results, planned, processes: int) -> dict:
    """Write the tables, figures and summary for the finished ``results`` of the ``planned``
    jobs. Fewer than planned make a partial set (``"complete": false``) without TensorBoard,
    which is written once, when the sweep completes (then the saved jobs are deleted)."""
    configurations, member_rows = [], []
    curves_path = run_dir / "loss_curves.csv.gz"
    with gzip.open(curves_path, "wt", newline="") as curves_file:
        curves = csv.writer(curves_file)
        curves.writerow(["configuration", "seed", "epoch", "online_loss"])
        for job, r in results:
            K = args.restarts
            for block, (lr, anneal) in enumerate(job_settings(job)):
                cid = configuration_id(job, lr, anneal)
                members = range(block * K, (block + 1) * K)
                success = r["success"][block * K:(block + 1) * K]
                configurations.append({
                    "configuration": cid, "task": job["task"], "sweep": job["sweep"],
                    "hidden": job["hidden"], "lr": lr, "anneal": anneal, "restarts": K,
                    "epochs": r["epochs"], "success_rate": float(success.double().mean()),
                    "median_final_loss": float(r["final_loss"][block * K:(block + 1) * K].median()),
                })
                for m in members:
                    row = {"configuration": cid, "task": job["task"], "hidden": job["hidden"],
                           "lr": lr, "anneal": anneal, "seed": r["seeds"][m],
                           "final_loss": float(r["final_loss"][m]),
                           "success": bool(r["success"][m]),
                           "diverged_at_epoch": int(r["diverged_at"][m])}
                    if "final_accuracy" in r:
                        row["final_accuracy"] = float(r["final_accuracy"][m])
                        row["first_epoch_100pct"] = int(r["first_100"][m])
                    else:
                        row["fit_mse"] = float(r["fit_mse"][m])
                    member_rows.append(row)
                    for e in range(args.curve_every - 1, r["epochs"], args.curve_every):
                        curves.writerow([cid, r["seeds"][m], e + 1, f"{float(r['loss'][e, m]):.6g}"])
    fields = ["configuration", "task", "hidden", "lr", "anneal", "seed", "final_loss",
              "final_accuracy", "first_epoch_100pct", "fit_mse", "success", "diverged_at_epoch"]
    with open(run_dir / "members.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=fields)
        writer.writeheader()
        writer.writerows(member_rows)
    with open(run_dir / "configurations.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=CONFIGURATION_FIELDS)
        writer.writeheader()
        writer.writerows(configurations)

    figures = make_figures(run_dir, args, results, configurations)
    member_steps = sum(r["members"] * r["steps"] for _, r in results)
    seconds = sum(r["seconds"] for _, r in results)  # training, over every session
    complete = len(results) == len(planned)
    summary = {"experiment": "restarts", "run_dir": str(run_dir), "complete": complete,
               "configurations_done": len(configurations),
               "configurations_total": sum(len(job_settings(job)) for job in planned),
               "settings": {key: getattr(args, key) for key in SWEEP_FLAGS},
               "restarts": args.restarts,
               "engine": args.engine, "dtype": args.dtype, "processes": processes,
               "engines_ran": sorted({r.get("engine", args.engine) for _, r in results}),
               "seconds": seconds, "member_steps": member_steps,
               "compile_seconds": sum(r.get("compile_seconds", 0.0) for _, r in results),
               "member_steps_per_second": member_steps / seconds if seconds else None,
               "configurations": configurations, "files": {
                   "members": str(run_dir / "members.csv"),
                   "configurations": str(run_dir / "configurations.csv"),
                   "loss_curves": str(curves_path),
                   **{f"{name}_figure": path for name, (path, _) in figures.items()}}}
    if complete and args.tensorboard:
        write_tensorboard(run_dir, configurations, figures)
    write_json(run_dir / "summary.json", summary)
    if complete:
        shutil.rmtree(run_dir / "jobs", ignore_errors=True)
    return summary


def report(summary: dict, args) -> None:
    """Print the success rates of the configurations done."""
    if args.quiet or not summary["configurations"]:
        return
    configurations = summary["configurations"]
    rate = summary["member_steps_per_second"]
    compiling = (f" (+ {summary['compile_seconds']:.1f} s compiling)"
                 if summary["compile_seconds"] else "")
    print(f"\n{args.restarts * len(configurations):,} restarts in {summary['seconds']:.1f} s"
          f"{compiling} with engine {', '.join(summary['engines_ran'])} "
          f"({rate:,.0f} member-steps/s, {summary['processes']} process(es))")
    print(f"{'configuration':<44}{'success':>9}{'median final loss':>20}")
    for c in configurations:
        print(f"{c['configuration']:<44}{100 * c['success_rate']:>8.1f}%"
              f"{c['median_final_loss']:>20.4g}")
    partial = "" if summary["complete"] else " (partial)"
    files = ", ".join(Path(path).name for path in summary["files"].values())
    print(f"Wrote {summary['run_dir']}/{partial}: {files}, summary.json")


def make_figures(run_dir: Path, args, results, configurations) -> dict:
    """Save the figures as PNGs; returns {name: (path, Figure)} for the summary and TensorBoard."""
    panels: dict[str, dict] = {}
    for sweep, label in (("hidden", "hidden units"), ("lr", "learning rate (3 hidden units)")):
        for task in ("xor", "ring"):
            rows = [c for c in configurations if c["task"] == task and c["sweep"] == sweep]
            if rows:
                key = "hidden" if sweep == "hidden" else "lr"
                panels.setdefault(label, {})[task] = ([c[key] for c in rows],
                                                      [c["success_rate"] for c in rows])
    regression = [c for c in configurations if c["sweep"] == "anneal"]
    if regression:
        label = "annealing factor (1 = none)"
        for task in ("sin", "abs"):
            rows = [c for c in regression if c["task"] == task]
            if rows:
                panels.setdefault(label, {})[task] = ([c["anneal"] for c in rows],
                                                      [c["success_rate"] for c in rows])
    files = {}
    if panels:
        figure = success_rate_figure(panels, f"How often a random start succeeds "
                                             f"({args.restarts} restarts per point)")
        figure.savefig(run_dir / "success_rates.png", dpi=100)
        files["success_rates"] = (str(run_dir / "success_rates.png"), figure)

    finals, panel_nets, panel_labels, panel_data = {}, [], [], None
    for job, r in results:
        default = TASKS[job["task"]]
        if job["sweep"] in ("hidden", "anneal") and job["hidden"] == 3:
            finals[job["task"]] = r["final_loss"][:args.restarts].tolist()
        if job["task"] == "xor" and job["sweep"] == "hidden" and job["hidden"] == 3:
            solved = [m for m in range(args.restarts) if r["success"][m]][:4]
            stuck = [m for m in range(args.restarts) if not r["success"][m]][:4]
            sizes = [2, 3, 1]
            for m, tag in [(m, "solved") for m in solved] + [(m, "stuck") for m in stuck]:
                net = MLP(sizes, default.hidden, default.output)  # gets member m's weights
                with torch.no_grad():
                    for p, gathered in zip(net.parameters(), r["params"]):
                        p.copy_(gathered[m])
                accuracy = float(r["final_accuracy"][m])
                panel_nets.append(net)
                panel_labels.append(f"seed {r['seeds'][m]}: {tag}, {100 * accuracy:.0f}%")
            panel_data = default.make_data()
    if finals:
        figure = loss_histogram_figure(finals, "Final loss of every restart (3 hidden units)")
        figure.savefig(run_dir / "final_losses.png", dpi=100)
        files["final_losses"] = (str(run_dir / "final_losses.png"), figure)
    if panel_nets:
        figure = members_figure(panel_nets, panel_labels, *panel_data,
                                title="XOR, 3 hidden units: solved restarts and stuck ones")
        figure.savefig(run_dir / "members.png", dpi=100)
        files["members"] = (str(run_dir / "members.png"), figure)
    return files


def write_tensorboard(run_dir: Path, configurations, figures) -> None:
    from torchann.viz.tensorboard import TensorBoardLogger
    for c in configurations:
        with TensorBoardLogger(run_dir / "hparams" / c["configuration"]) as logger:
            logger.add_hparams({k: c[k] for k in ("task", "sweep", "hidden", "lr", "anneal",
                                                  "restarts", "epochs")},
                               {"trained/success_rate": c["success_rate"],
                                "trained/median_final_loss": c["median_final_loss"]})
    with TensorBoardLogger(run_dir) as logger:
        for name, (_, figure) in figures.items():
            logger.add_figure(f"views/{name}", figure, 0, dpi=100)


if __name__ == "__main__":
    main()
