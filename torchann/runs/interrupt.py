"""Ctrl-C during training: finish the current step, then stop cleanly.

While ``fit`` runs, the first SIGINT only raises a flag; the loop checks it
after each update, so parameters are never left half-updated. A second Ctrl-C
interrupts at once, as usual. Outside the main thread (where Python cannot
install signal handlers) nothing changes.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["InterruptFlag"]


class InterruptFlag:
    """Context manager: ``.requested`` becomes True on the first Ctrl-C inside it."""

    def __init__(self):
        self.requested = False
        self._installed = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C: stop now
            signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "InterruptFlag":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:  # None: the handler was not set from Python; use the default
            signal.signal(signal.SIGINT, signal.default_int_handler if self._previous is None
                          else self._previous)
            self._installed, self._previous = False, None
