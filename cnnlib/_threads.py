"""Run independent blocks of array work on the cores numpy's BLAS is allowed to use.

Why: numpy's copies and elementwise ops run on one core, and a BLAS call on small matrices
uses its threads poorly. Giving each core its own block of images, with BLAS held to one
thread per call, keeps every core busy through the copies as well as the products.

The number of workers follows numpy's BLAS: ``threadpoolctl.threadpool_limits(1)`` (or
``OMP_NUM_THREADS=1``) makes cnnlib serial too. Without a BLAS that threadpoolctl can
control, everything runs serially.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _after_fork_in_child() -> None:
    """A forked child has none of its parent's threads: a pool inherited from before the
    fork would take work and never run it. Start afresh (the lock too: a parent thread
    may have held it at the fork)."""
    global _lock
    _lock = threading.Lock()
    _state.pop("pool", None)
    _state.pop("workers", None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _controller() -> Any | None:
    """threadpoolctl's view of numpy's BLAS, made once (it scans the loaded libraries)."""
    with _lock:
        if "controller" not in _state:
            try:
                from threadpoolctl import ThreadpoolController

                blas = ThreadpoolController().select(user_api="blas")
                _state["controller"] = blas if blas.lib_controllers else None
            except Exception:  # noqa: BLE001 - no threadpoolctl or an unknown BLAS: serial
                _state["controller"] = None
        return _state["controller"]


def blas_threads() -> int:
    """How many threads numpy's BLAS may use now (1 when that cannot be known)."""
    blas = _controller()
    if blas is None:
        return 1
    return max(1, max(lib.num_threads for lib in blas.lib_controllers))


def _pool(workers: int) -> ThreadPoolExecutor:
    with _lock:
        pool = _state.get("pool")
        if pool is None or _state["workers"] != workers:
            if pool is not None:
                pool.shutdown(wait=False)
            pool = ThreadPoolExecutor(workers, thread_name_prefix="cnnlib")
            _state["pool"], _state["workers"] = pool, workers
        return pool


def run_blocks(work: Callable[[int, int], Any], bounds: Sequence[tuple[int, int]]) -> list:
    """``[work(lo, hi) for lo, hi in bounds]``, spread over the BLAS threads when there are
    several blocks; each block's results come back in order. ``work`` must only write to
    memory that no other block writes.
    """
    workers = min(blas_threads(), len(bounds))
    if workers <= 1 or threading.current_thread().name.startswith("cnnlib"):
        return [work(lo, hi) for lo, hi in bounds]
    # each worker takes one contiguous run of blocks: a thread hand-off per block costs
    # tens of microseconds on a virtual machine, as much as a small block's work
    runs = [bounds[i * len(bounds) // workers:(i + 1) * len(bounds) // workers]
            for i in range(workers)]
    blas = _controller()
    # one BLAS thread per block: the blocks themselves are the parallelism
    with blas.limit(limits=1) if blas is not None else nullcontext():
        done = _pool(workers).map(lambda run: [work(lo, hi) for lo, hi in run], runs)
        return [result for run in done for result in run]


_buffers = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype: Any) -> Any:
    """A per-thread buffer reused call after call (fresh large arrays page-fault each time).

    Only for temporaries that never leave the call; its contents are whatever the last
    call left, so the caller writes every entry it reads.
    """
    import numpy as np

    cache = getattr(_buffers, "arrays", None)
    if cache is None:
        cache = _buffers.arrays = {}
    key = (name, shape, np.dtype(dtype).str)
    array = cache.get(key)
    if array is None:
        if len(cache) > 16:  # shapes change (a new model): forget the old ones
            cache.clear()
        array = cache[key] = np.empty(shape, dtype)
    return array
