"""Timing for the chapters' cost tables, by :mod:`timeit` (the method of ``%timeit``: runs
of many calls, and the fastest run, the one least disturbed by other programs).

Only ratios measured in one run mean anything, and only on one machine: the chapters print
timings as an illustration, never as a number a test compares.
"""

from __future__ import annotations

import math
import timeit


def best_times(*functions, repeats: int = 5, number: int | None = None, budget: float = 0.01,
               clock=timeit.default_timer) -> list[float]:
    """Seconds per call of each function: the fastest of ``repeats`` runs of ``number`` calls
    (by default, as many calls as last about ``budget`` seconds). The runs of the functions
    take turns, so that a machine that gets busy slows them all alike."""
    timers = [timeit.Timer(fn, timer=clock) for fn in functions]
    if number is None:  # one call first: it also warms caches up
        numbers = [max(1, math.ceil(budget / max(t.timeit(number=1), 1e-9))) for t in timers]
    else:
        numbers = [number] * len(timers)
    best = [math.inf] * len(timers)
    for _ in range(repeats):
        for i, (timer, n) in enumerate(zip(timers, numbers)):
            best[i] = min(best[i], timer.timeit(number=n) / n)
    return best


def best_time(fn, repeats: int = 5, number: int | None = None, budget: float = 0.01, clock=timeit.default_timer) -> float:
    """Seconds per call of ``fn``, as :func:`best_times` measures it."""
    return best_times(fn, repeats=repeats, number=number, budget=budget, clock=clock)[0]
