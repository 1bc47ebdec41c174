"""Keeping a run safe on disk: run folders, checkpoints, exported weights, Ctrl-C."""

from torchann.runs.folders import atomic_write, make_folder, new_run_dir, write_json

__all__ = ["atomic_write", "make_folder", "new_run_dir", "write_json"]
