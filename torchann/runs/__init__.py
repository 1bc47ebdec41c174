"""Keeping a run safe on disk: run folders and their locks, checkpoints, exported weights,
checksums, and stopping cleanly on Ctrl-C, SIGTERM or SIGHUP."""
