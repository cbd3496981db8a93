"""Coding a container's blocks on several cores.

Blocks are independent by construction (each payload starts from the codec's prior), so coding
them on a thread pool gives the same bytes as coding them in turn, whatever the number of
threads: the pool only changes when a block is coded, never what it is coded from.  Threads, not
processes: the waveform kernels release the GIL (``nogil=True``) and the blocks stay in shared
memory, where a process pool would copy every block twice.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

from .errors import InvalidConfigError

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None) -> int:
    """``None`` means every available core; otherwise a positive integer."""
    if threads is None:
        return available_cores()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InvalidConfigError(f"threads must be a positive integer or None (all cores), got {threads!r}")
    return threads


def map_ordered(fn: Callable[[T], R], items: Iterable[T], threads: int | None = None,
                progress: str | None = None) -> list[R]:
    """``[fn(item) for item in items]`` on up to ``threads`` threads, results in the order of ``items``.

    An exception from ``fn`` propagates; when several items fail, the first one in order wins,
    so the error a caller sees does not depend on the thread count.  ``progress``: a label for a
    progress bar on stderr, one step per finished item (shown only when there are several).
    """
    items = list(items)
    workers = min(resolve_threads(threads), len(items))
    from ._progress import tqdm

    with tqdm(total=len(items), desc=progress or "", unit="block",
              disable=progress is None or len(items) < 2, leave=False) as bar:
        def step(item: T) -> R:
            result = fn(item)
            bar.update(1)
            return result

        if workers <= 1:
            return [step(item) for item in items]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="neurocodec") as pool:
            return list(pool.map(step, items))
