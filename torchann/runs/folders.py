"""Run folders and run records.

Each run gets its own new folder, ``<logdir>/<experiment>/<run name>``, named
by the start time unless a name is given. An existing folder is never reused
or written into, so nothing a user already has is overwritten. While a process
works in a run folder it holds the folder's lock (:func:`lock_run_dir`), so a
second process resuming the same run is refused instead of interleaving its
files with the first one's.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import contextmanager, suppress

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not locked there
    fcntl = None
from datetime import datetime
from pathlib import Path
from typing import Callable

__all__ = ["new_run_dir", "make_folder", "atomic_write", "write_json", "lock_run_dir",
           "hold_run_dir"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]*$")
MAX_NAME = 100  # file systems allow 255 bytes; keep room for the files written inside
LOCK_NAME = ".lock"


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
    if run_name is not None and len(run_name) > MAX_NAME:
        raise ValueError(f"run name is {len(run_name)} characters long; use at most {MAX_NAME}")
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
        with suppress(FileExistsError):  # mkdir is atomic: fails if another run took this name
            path.mkdir()
            return path
    raise ValueError(f"could not find a free run folder name under {base}")


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(temporary_path)``, then rename the file onto ``path`` in one step.

    A crash or Ctrl-C mid-write leaves the old file (or none), never half a file.
    The file's bytes and then the rename are forced to disk (fsync), so even a power
    cut cannot leave a renamed file whose content never arrived. A temporary file
    left by a process killed mid-write is removed by :func:`hold_run_dir`.
    """
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        umask = os.umask(0)  # reading the umask means setting it
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; use normal permissions
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _fsync(path: str | Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # a folder cannot be opened on Windows: nothing to sync there
        return
    try:
        with suppress(OSError):  # some file systems do not sync folders
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def lock_run_dir(run_dir: str | Path):
    """Take ``run_dir``'s lock for this process; ValueError if another process holds it.

    Returns the open lock file: the lock lasts until it is closed or the process
    ends, however it ends (the operating system releases it even after a crash
    or SIGKILL, so there is never a stale lock to clean up).
    """
    path = Path(run_dir) / LOCK_NAME
    try:
        handle = open(path, "a+")
    except OSError as error:
        raise ValueError(f"cannot lock the run folder {run_dir}: {error.strerror}") from None
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise ValueError(f"another process is using the run folder {run_dir} (training or "
                             "resuming it); wait for it to finish, or stop it first") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")  # who holds it, for a person looking
    handle.flush()
    return handle


@contextmanager
def hold_run_dir(run_dir: str | Path | None, on_error: Callable[[str], object] | None = None):
    """Work in ``run_dir`` alone: take its lock, delete the temporary files an
    :func:`atomic_write` killed mid-write left in it (or in a folder inside it), and release
    the lock on the way out, however the block ends.

    ``None`` holds nothing (a folder that does not exist yet). A lock another process
    holds is a ValueError, or is passed to ``on_error`` (a parser's ``error``) when given.
    """
    if run_dir is None:
        yield None
        return
    try:
        handle = lock_run_dir(run_dir)
    except ValueError as error:
        if on_error is not None:
            on_error(str(error))
        raise
    try:
        for stale in Path(run_dir).rglob(".*.tmp"):  # no writer is active: we hold the lock
            if stale.is_file():
                stale.unlink()
        yield Path(run_dir)
    finally:
        handle.close()


def write_json(path: str | Path, data: dict) -> Path:
    """Write ``data`` as indented JSON, atomically (see :func:`atomic_write`)."""
    def write(tmp: str) -> None:
        with open(tmp, "w") as stream:
            json.dump(data, stream, indent=2)
            stream.write("\n")
    return atomic_write(path, write)
