"""What every training experiment shares: its settings record, and how a run is opened
(new, or resumed from its checkpoint) and trained. Its flags are in ``experiments.flags``.

An experiment describes itself as an :class:`Experiment` (its name, data, net and
picture) and calls :func:`run_experiment`. That parses the flags once, turns them into
one frozen :class:`Settings` record, opens the run folder (:func:`resume_run`, the one
resume protocol), trains with ``torchann.fit`` and hands the trained run to
:class:`experiments.recorder.Recorder`, which writes every output of the folder.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Callable

import torch

from experiments.flags import ExperimentParser
from experiments.recorder import Recorder, Results, run_record
from torchann.checks import DTYPES, check_learning_rate, check_memory, resolve_device
from torchann.runs.checkpoint import Checkpoint, load_checkpoint
from torchann.runs.folders import hold_run_dir, new_run_dir
from torchann.train import TrainingDiverged, TrainingInterrupted, fit
from torchann.training.loop import HISTORY_BYTES_PER_EPOCH, finished
from torchann.training.validation import Validation
from torchann.viz.plots import draw_classification

# --- the settings record -----------------------------------------------------------------

# fit keeps these in its own part of the checkpoint ("fit_args") and compares them on
# resume; the experiment's record holds the rest, so each setting is stored once. (fit
# stores the batch size it used, "full" resolved to a number: the record keeps the flag's.)
FIT_SETTINGS = ("lr", "anneal", "seed")
# Flags a resume may change; the others would make a different run. Not given, they keep
# the run's values.
MAY_CHANGE = ("epochs", "device", "tensorboard", "quiet", "images", "animate", "frames",
              "checkpoint_every")


@dataclass(frozen=True)
class Settings:
    """Everything that makes a run what it is: one record, from the flags or the checkpoint."""

    experiment: str
    epochs: int
    lr: float
    anneal: float
    hidden: int | None
    batch_size: int | None
    seed: int
    device: str
    dtype: str
    logdir: str
    run_name: str | None
    tensorboard: bool
    quiet: bool
    images: int
    animate: bool
    frames: int
    checkpoint_every: int
    data: dict = field(default_factory=dict)  # the experiment's data flags

    @classmethod
    def from_flags(cls, experiment: str, args, data_keys) -> "Settings":
        names = {f.name for f in fields(cls)} - {"experiment", "data"}
        return cls(experiment=experiment, data={k: getattr(args, k) for k in data_keys},
                   **{k: v for k, v in vars(args).items() if k in names})

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def stored(self) -> dict:
        """The checkpoint's record: what fit does not store itself."""
        return {k: v for k, v in asdict(self).items() if k not in FIT_SETTINGS}


def check_run_fits(settings: Settings) -> None:
    """Refuse, before any folder is made, settings the run cannot hold: an lr its dtype
    cannot represent, or sizes that cannot fit in memory (a rough bound from the flags:
    the data, the hidden layer on the whole set, weights, snapshots and the history)."""
    try:
        check_learning_rate(settings.lr, settings.torch_dtype)
    except ValueError as error:
        raise ValueError(f"--{error}") from None  # named as the flag that set it
    data = settings.data
    # The corner clouds have at most 9 points per repeat (the ring); the digits, with no
    # size flag, have about 1,800 rows of 64 inputs and 10 outputs.
    rows = data.get("points") or 9 * (data.get("repeats") or 200)
    hidden, epochs = settings.hidden or 1, settings.epochs
    weights = hidden * (64 + 10 + 2)
    snapshots = min(epochs, 1000) * weights if settings.animate or settings.images else 0
    check_memory(8 * (3 * rows * (hidden + 4) + 3 * weights + snapshots)
                 + HISTORY_BYTES_PER_EPOCH * epochs,
                 f"this run (up to {rows:,} observations, {hidden:,} hidden units, "
                 f"{epochs:,} epochs)")
    resolve_device(settings.device)


# --- the resume protocol -----------------------------------------------------------------

@dataclass
class Run:
    settings: Settings
    folder: Path
    saved: dict | None = None  # the checkpoint a resume continues from
    recorded: int | None = None  # epochs its summary.json shows, if the outputs were written

    @property
    def to_train(self) -> bool:
        """Whether epochs are left to train (fit's rule, ``finished``); else the outputs are
        (re)recorded from the checkpoint alone."""
        return self.saved is None or not finished(self.saved, self.settings.epochs)


def new_run(spec: "Experiment", args) -> Run:
    """A new run of the flags' settings, in a new folder made after every check passed."""
    try:
        settings = Settings.from_flags(spec.name_for({k: getattr(args, k) for k in spec.data_keys}),
                                       args, spec.data_keys)
        check_run_fits(settings)
        return Run(settings, new_run_dir(settings.logdir, settings.experiment, settings.run_name))
    except ValueError as error:
        spec.parser.error(str(error))


def resume_run(spec: "Experiment", args, given: set[str], folder: Path) -> Run:
    """The run in ``folder`` (``--resume``), from its checkpoint: the one resume protocol.

    Every usage error is one line (exit 2) before anything in the folder changes. The
    training and data flags come from the checkpoint (giving one with another value is
    an error, even the default); the flags in ``MAY_CHANGE`` keep the run's values unless
    given. A run whose training ended but whose outputs are missing or partial is
    recorded again by ``--resume`` alone.
    """
    parser, source = spec.parser, Path(args.resume)
    try:
        saved = load_checkpoint(source)
    except ValueError as error:
        parser.error(f"--resume: {error}")
    record, fit_args = saved["config"], saved["fit_args"]
    if isinstance(record.get("training"), dict):  # written before the settings were one record
        record = {"experiment": record.get("experiment"), "data": record.get("data", {}),
                  **{k: v for k, v in record["training"].items() if k not in FIT_SETTINGS}}
    if not {"experiment", "data"} <= set(record):
        parser.error(f"--resume: {source} holds no experiment settings to resume from")
    if set(record) != {f.name for f in fields(Settings)} - set(FIT_SETTINGS) \
            or not set(FIT_SETTINGS) <= set(fit_args):
        parser.error(f"--resume: {source} holds settings these experiments do not know "
                     "(written by another version of torchann?)")
    for key in given & {"logdir", "run_name"}:
        parser.error(f"--resume: --{key.replace('_', '-')} cannot be given with --resume "
                     f"(the run stays in its folder, {source})")
    stored = {**record, **{k: fit_args[k] for k in FIT_SETTINGS}}
    for key in sorted(given - {"resume", *MAY_CHANGE}) + [k for k in spec.data_keys
                                                          if k not in stored["data"]]:
        if key not in stored and key not in stored["data"]:
            parser.error(f"--resume: {source} is a run of {stored['experiment']!r}, which "
                         f"has no --{key.replace('_', '-')}: resume it with its own experiment")
        was = stored[key] if key in stored else stored["data"][key]
        if getattr(args, key) != was:
            parser.error(f"--resume: --{key.replace('_', '-')} cannot change when resuming "
                         f"(the run used {was!r}, got {getattr(args, key)!r})")
    changes = {k: getattr(args, k) for k in given & set(MAY_CHANGE)}
    settings = replace(Settings(**stored), **changes, logdir=str(folder.parent.parent),
                       run_name=folder.name)
    if spec.name_for(settings.data) != settings.experiment:
        parser.error(f"--resume: {folder} is a run of {settings.experiment!r}, "
                     f"not of {spec.name_for(settings.data)!r}")
    run = Run(settings, folder, saved, run_record(folder).get("epochs"))
    recorded = run.recorded == saved["epoch"]
    if recorded and saved["history"]["stopped_early"]:
        parser.error(f"--resume: {folder} stopped early after {saved['epoch']} epochs (its "
                     "validation loss stopped improving) and has been recorded: nothing is left")
    if not run.to_train and (saved["step"] or saved["epoch"] > settings.epochs or recorded):
        parser.error(f"--resume: {folder} has already trained {saved['epoch']} epochs"
                     + (" and been recorded" if recorded else "") +
                     f"; ask for more with --epochs (at least {saved['epoch'] + 1})")
    try:
        check_run_fits(settings)
    except ValueError as error:
        parser.error(str(error))
    return run


# --- one experiment, described once ------------------------------------------------------

@dataclass(frozen=True)
class Experiment:
    """What a training experiment is. ``name`` may depend on the flags (``logic-xor``); the
    hooks are functions of the run's :class:`Settings`: ``make_data`` gives (inputs,
    targets), ``make_model`` the net, ``title`` the picture's title, ``draw`` the
    function that draws a training state ``(figure, state)`` (classification: the
    decision region); optionally ``validation(model,
    settings)`` a Validation callback, ``measure(model, settings)`` the
    :class:`~experiments.recorder.Results` of the trained net and ``describe`` facts
    about the data for the summary. ``requires()`` may refuse the run (a missing package)."""

    name: str | Callable[[dict], str]
    parser: ExperimentParser
    make_data: Callable[[Settings], tuple[torch.Tensor, torch.Tensor]]
    make_model: Callable[[Settings], torch.nn.Module]
    title: str | Callable[[Settings], str]
    draw: Callable[[Settings], Callable] | None = None
    data_keys: tuple[str, ...] = ()
    shuffle: bool = False
    loss: str = "squared"
    validation: Callable[[torch.nn.Module, Settings], Validation] | None = None
    measure: Callable[[torch.nn.Module, Settings], Results] | None = None
    describe: Callable[[Settings], dict] | None = None
    requires: Callable[[], object] | None = None

    def name_for(self, data: dict) -> str:
        """The experiment's name for a run with these data flags (``Settings.data``)."""
        return self.name(data) if callable(self.name) else self.name

    @property
    def command(self) -> str:
        return f"python -m experiments.{self.parser.prog.split('.')[-1]}"


def run_experiment(spec: Experiment, argv=None) -> dict:
    """Parse, open the run, train it (what is left of it) and record it; returns the summary.

    Exit status: 2 for any usage error, 1 when training diverges, 128 + the signal's
    number after Ctrl-C, SIGTERM or SIGHUP (the run is kept and can be resumed).
    """
    parser = spec.parser
    args, given = parser.parse(argv)
    if spec.requires is not None:
        try:
            spec.requires()
        except (ImportError, ValueError) as error:
            parser.error(str(error))
    run = new_run(spec, args) if args.resume is None else None
    folder = run.folder if run else Path(args.resume)
    folder = folder.parent if folder.is_file() else folder
    # One lock, for as long as the run is used: a resumed folder is locked before it is
    # read, a new one as soon as it is made. A folder without a checkpoint is not
    # touched (resume_run says what is wrong with it).
    with hold_run_dir(folder if run or (folder / "checkpoint.pt").is_file() else None,
                      on_error=parser.error):
        return _train_and_record(spec, run or resume_run(spec, args, given, folder))


def _train_and_record(spec: Experiment, run: Run) -> dict:
    settings, folder = run.settings, run.folder
    inputs, targets = spec.make_data(settings)
    model = spec.make_model(settings).to(resolve_device(settings.device))
    checkpoint = folder / "checkpoint.pt"
    with Recorder(run, title=spec.title(settings) if callable(spec.title) else spec.title,
                  draw=spec.draw(settings), loss=spec.loss, command=spec.command) as recorder:
        recorder.say(f"{settings.experiment}: training {model.architecture()} on {len(inputs)} "
                     f"observations ({next(model.parameters()).device.type}, {settings.dtype})")
        recorder.config_text(model.architecture())
        saving = Checkpoint(checkpoint, every=settings.checkpoint_every, config=settings.stored(),
                            resumed_from=checkpoint if run.saved else None)  # resume_run read it
        extra = [spec.validation(model, settings)] if spec.validation else []
        epochs = settings.epochs if run.to_train else run.saved["epoch"]  # early stopping ends sooner
        try:
            with recorder.training():
                history = fit(model, inputs, targets, lr=settings.lr, epochs=epochs,
                              batch_size=settings.batch_size, anneal=settings.anneal,
                              shuffle=spec.shuffle, seed=settings.seed, loss=spec.loss,
                              resume=run.saved, callbacks=[*recorder.timed, saving, *extra])
        except TrainingDiverged as error:
            print(f"error: {error} The last good state is in {checkpoint}.", file=sys.stderr)
            raise SystemExit(1) from None
        except TrainingInterrupted as stop:
            what = str(stop)  # "interrupted [by SIGTERM] in epoch 4 after step 1 of 12"
            print(f"\n{what[0].upper()}{what[1:]}; checkpoint written to {checkpoint}.\n"
                  f"Resume with: {spec.command} --resume {folder}", file=sys.stderr)
            raise SystemExit(128 + stop.signum) from None
        except ValueError as error:  # e.g. resuming with settings that do not match
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        # Training is done and checkpointed: the outputs are a function of that checkpoint.
        return recorder.record(
            model, inputs, targets, history,
            measure=None if spec.measure is None else (lambda m: spec.measure(m, settings)),
            describe=spec.describe(settings) if spec.describe else None)


# --- the seed's classification experiments (logic gates, XOR, ring) ----------------------

def draw_classification_state(figure, state, loss_ylim=None) -> None:
    """Decision region | loss curve. With 0/1 targets and the squared error, answering 0.5
    everywhere costs ½ (0.5)² per observation: the line a net has to get below."""
    draw_classification(figure, state.model, state.inputs, state.targets,
                        state.history.loss_curve(), reference=(0.125, "a = 0.5 everywhere"),
                        epoch=state.epoch, epochs=state.epochs, loss_ylim=loss_ylim)


def run_classification(spec: Experiment, argv=None) -> dict:
    """The corner clouds (``--repeats``, ``--noise``), trained online in their fixed
    (shuffled-once) order and drawn as decision region | loss curve."""
    return run_experiment(replace(spec, data_keys=("repeats", "noise", *spec.data_keys),
                                  draw=spec.draw or (lambda _: draw_classification_state)), argv)
