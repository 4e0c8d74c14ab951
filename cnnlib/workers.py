"""Worker threads for the fast layers' array copies (``cnnlib.fast_layers``).

Why: numpy copies and elementwise operations run on one core, while BLAS runs the matrix
products on all of its threads. The fast layers alternate the two: copies split over
these workers, then one matrix product on the calling thread, where BLAS uses its own
threads. The workers never call BLAS, so cnnlib never changes BLAS's thread count: two
user threads may run layers at the same time, and numpy code elsewhere in the process
keeps whatever threads it was given.

How many: as many as BLAS may use now (``threadpoolctl.threadpool_limits(1)`` or
``OMP_NUM_THREADS=1`` makes cnnlib serial too), 1 when that cannot be known. A forked
child (multiprocessing's default on Linux, the grader's workers) starts a fresh pool: the
parent's threads do not exist in it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["copy_workers", "run_parallel", "share"]

_lock = threading.Lock()
_pool: dict[str, Any] = {}  # "executor", made on first use
_MAX_THREADS = 32
_blas: dict[str, Any] = {}  # threadpoolctl's view of numpy's BLAS, found once


def _after_fork_in_child() -> None:
    """Forget the parent's pool (its threads did not survive the fork) and its lock (a
    parent thread may have held it at the fork)."""
    global _lock
    _lock = threading.Lock()
    _pool.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def copy_workers() -> int:
    """How many threads the fast layers split their copies over: numpy's BLAS threads now."""
    with _lock:
        if "controller" not in _blas:
            try:
                from threadpoolctl import ThreadpoolController

                found = ThreadpoolController().select(user_api="blas")
                _blas["controller"] = found if found.lib_controllers else None
            except (ImportError, OSError, RuntimeError):  # an unknown BLAS: serial
                _blas["controller"] = None
        controller = _blas["controller"]
    if controller is None:
        return 1
    return max(1, max(lib.num_threads for lib in controller.lib_controllers))


def _executor() -> ThreadPoolExecutor:
    """The process's pool, made on first use. Its threads start only as parts need them,
    up to ``_MAX_THREADS``; it is never replaced, so no caller can find it shut down."""
    with _lock:
        if "executor" not in _pool:
            _pool["executor"] = ThreadPoolExecutor(_MAX_THREADS, thread_name_prefix="cnnlib")
        return _pool["executor"]


def run_parallel(task: Callable[[int], Any], parts: int) -> list:
    """``[task(part) for part in range(parts)]``, part 0 on this thread and the others on
    the pool at the same time; results in order.

    Each part must write only memory that no other part writes, and must not call BLAS
    (BLAS's own threads would compete with the pool's for the same cores).
    """
    if parts <= 1:
        return [task(0)]
    pool = _executor()
    futures = [pool.submit(task, part) for part in range(1, parts)]
    first = task(0)
    return [first, *(future.result() for future in futures)]


def share(count: int, part: int, parts: int) -> tuple[int, int]:
    """Part ``part`` of ``parts`` of the range [0, count): nearly equal, possibly empty."""
    return count * part // parts, count * (part + 1) // parts
