"""Keeping a run safe on disk: run folders and their locks, checkpoints, exported weights,
and stopping cleanly on Ctrl-C, SIGTERM or SIGHUP."""

from torchann.runs.checkpoint import Checkpoint, load_checkpoint
from torchann.runs.folders import atomic_write, make_folder, new_run_dir, write_json

__all__ = ["Checkpoint", "load_checkpoint", "atomic_write", "make_folder", "new_run_dir",
           "write_json"]
