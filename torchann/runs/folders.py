"""Run folders and run records.

Each run gets its own new folder, ``<logdir>/<experiment>/<run name>``, named
by the start time unless a name is given. An existing folder is never reused
or written into, so nothing a user already has is overwritten.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Callable

__all__ = ["new_run_dir", "make_folder", "atomic_write", "write_json"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]*$")


def make_folder(folder: str | Path, description: str) -> Path:
    """Create ``folder`` and its parents if needed, or raise a ValueError that says why not.

    ``description`` names it in the message ("the log folder", ...): a file in the
    way, a permission problem, or a folder that exists but cannot be written to.
    """
    folder = Path(folder)
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise ValueError(f"cannot create {description} {folder}: {blocker} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create {description} {folder}: {error.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{description} {folder} is not writable")
    return folder


def new_run_dir(logdir: str | Path, experiment: str, run_name: str | None = None) -> Path:
    """Create and return a fresh run folder; never returns one that existed before."""
    if run_name is not None and not _NAME.match(run_name):
        raise ValueError(f"run name {run_name!r} is not allowed: use letters, digits and . _ = + - "
                         "(no slashes or spaces), starting with a letter or digit")
    base = make_folder(Path(logdir) / experiment, "the log folder")
    if run_name is not None:
        path = base / run_name
        try:
            path.mkdir()
        except FileExistsError:
            raise ValueError(f"the run folder {path} already exists; choose another run name "
                             "(runs are never overwritten)") from None
        return path
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        path = base / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            path.mkdir()  # atomic: fails if another run just took this name
            return path
        except FileExistsError:
            continue
    raise ValueError(f"could not find a free run folder name under {base}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(temporary_path)``, then rename the file onto ``path`` in one step.

    A crash or Ctrl-C mid-write leaves the old file (or none), never half a file.
    """
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; use normal permissions
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json(path: str | Path, data: dict) -> Path:
    """Write ``data`` as indented JSON, atomically (see :func:`atomic_write`)."""
    def write(tmp: str) -> None:
        with open(tmp, "w") as stream:
            json.dump(data, stream, indent=2)
            stream.write("\n")
    return atomic_write(path, write)
