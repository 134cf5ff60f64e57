"""Many independent, CPU-bound pieces of output (the site's chart pages) rendered in worker
processes, one per core: Python renders on one core otherwise.

Workers are spawned, not forked: the caller may be an Airflow task process with threads of its
own. The results come back in the order of the items, so the output does not depend on how many
workers made it.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

MAX_WORKERS = 4


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def worker_count(items: int, min_items: int) -> int:
    """One process below ``min_items`` (starting a worker costs its imports: about a second),
    else one per core, at most MAX_WORKERS."""
    return 1 if items < min_items else min(cores(), MAX_WORKERS)


def map_in_workers(function: Callable[[Any], Any], items: Sequence, workers: int,
                   initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> list:
    """``[function(item) for item in items]``, in ``workers`` processes (each prepared by
    ``initializer(*initargs)``); with one worker, in this process. ``function`` and ``initializer``
    must be module-level functions, and the items and results picklable."""
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        return [function(item) for item in items]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=initializer,
                             initargs=initargs) as pool:
        return list(pool.map(function, items, chunksize=max(1, len(items) // (workers * 4))))
