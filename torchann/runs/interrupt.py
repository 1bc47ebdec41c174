"""Ctrl-C, SIGTERM and SIGHUP during training: finish the current step, then stop cleanly.

Schedulers, ``timeout`` and ``docker stop`` send SIGTERM, and a closed terminal
sends SIGHUP. While ``fit`` runs, each of them is treated like Ctrl-C. The
first one only raises a flag and records which signal it was (where no loop
checks a flag, as while a run's outputs are written, ``raise_at_once`` raises
:class:`Stopped` instead). The loop checks the flag after each update, so
parameters are never left half-updated, and
the caller can exit with 128 + the signal's number, as the shell would report
it. A second signal of any of the three stops at once: Ctrl-C raises
KeyboardInterrupt as usual, while SIGTERM and SIGHUP get their earlier handler
back and are delivered again, so by default the process dies of the signal.

SIGTERM and SIGHUP are left alone when the process was started ignoring them:
under ``nohup`` a closed terminal must not stop the run. Outside the main
thread (where Python cannot install signal handlers) nothing changes.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["InterruptFlag", "Stopped", "STOP_SIGNALS"]

# SIGHUP does not exist on Windows.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class Stopped(BaseException):
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP) arrived where nothing can wait for the end of
    a step; ``signum`` says which. A BaseException, like KeyboardInterrupt, so no
    ``except Exception`` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class InterruptFlag:
    """Context manager: ``.requested`` becomes True on the first stop signal inside it,
    and ``.signum`` says which one it was (``None`` until then).

    ``hard_stop=False`` makes a repeated signal do nothing more. That is for
    torchrun's workers: the agent relays each signal it gets to them, so one
    Ctrl-C in the terminal reaches a worker twice, and the agent kills workers
    that take too long to stop.

    ``raise_at_once=True`` raises :class:`Stopped` at the first signal instead, for
    work with no step to finish (writing a run's outputs), so it ends with a message
    rather than a traceback.
    """

    def __init__(self, *, hard_stop: bool = True, raise_at_once: bool = False):
        self.requested, self.signum, self.hard_stop = False, None, hard_stop
        self.raise_at_once = raise_at_once
        self._previous: dict[int, object] = {}

    def _handle(self, signum, frame):
        if not self.requested:
            self.requested, self.signum = True, signum
            if self.raise_at_once:
                raise Stopped(signum)
        elif self.hard_stop:  # a second signal: stop now, as if we had never been here
            self._restore()
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            signal.raise_signal(signum)

    def __enter__(self) -> "InterruptFlag":
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                previous = signal.getsignal(signum)
                if signum == signal.SIGINT or previous is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        self._restore()

    def _restore(self) -> None:
        for signum, previous in self._previous.items():
            if previous is None:  # the handler was not set from Python; use the default
                previous = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            signal.signal(signum, previous)
        self._previous = {}
