"""Side-by-side timing shared by the benchmark scripts."""

from __future__ import annotations

import time
from typing import Callable

__all__ = ["take_turns"]


def take_turns(variants: dict[str, Callable[[], float]], rounds: int,
               pause: float = 0.0) -> dict[str, list[float]]:
    """Call every variant once per round and collect what each call measured.

    The order rotates from round to round, so no variant always runs first or
    always follows the same neighbour, and drift on a busy machine hits all of
    them alike. ``pause`` seconds of sleep before each call let numpy's
    spinning BLAS threads settle, so they do not steal cores from the next run.
    """
    names = list(variants)
    measured: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if pause:
                time.sleep(pause)
            measured[name].append(variants[name]())
    return measured
