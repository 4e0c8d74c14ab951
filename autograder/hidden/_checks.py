"""Helpers shared by the hidden tests: comparing results and calling backward passes.

Runs in the trusted process only. Errors raised by the student's code arrive from the
sandbox as ``StudentError`` with the original type's name in ``.type``; with the reference
stand-in (``CNN_COURSE_STUDENT=reference``) they are the original exceptions.
"""

from __future__ import annotations

import os

import numpy as np

# The grading run's seed: every random input of a hidden test comes from ``rng(stream)``,
# so inputs change from run to run (a student cannot tabulate them) and a regrade with the
# recorded seed reproduces every score. ``cnn-course grade`` sets it through ``use_seed``.
DEFAULT_SEED = 20261203
_run_seed = int(os.environ.get("CNN_COURSE_SEED", DEFAULT_SEED))


def use_seed(seed: int) -> None:
    """Draw this run's hidden inputs from ``seed`` (the grader calls this)."""
    global _run_seed
    _run_seed = int(seed)


def run_seed() -> int:
    return _run_seed


def rng(stream: int) -> np.random.Generator:
    """A generator for one test's inputs: the run's seed combined with the test's stream."""
    return np.random.default_rng([_run_seed, int(stream)])


def as_float(value) -> np.ndarray:
    """``value`` as a float64 ndarray, as every comparison here expects."""
    return np.asarray(value, dtype=np.float64)


def close(a, b, tol: float = 1e-7) -> bool:
    """Same shape and equal up to tol relative to the larger array's scale."""
    a, b = as_float(a), as_float(b)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    return bool(np.all(np.abs(a - b) <= tol * scale))


def raised(error: BaseException, name: str) -> bool:
    """Whether error is (or, from the sandbox, reports) an exception of type ``name``."""
    return type(error).__name__ == name or getattr(error, "type", None) == name


def int_pair(value) -> tuple[int, int]:
    """An int-or-(h, w) argument such as stride or kernel_size, as (h, w)."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def raises_value_error(call) -> tuple[bool, str]:
    """(raised a ValueError?, what happened) for a call that should refuse its arguments."""
    try:
        result = call()
    except Exception as error:  # the sandbox re-raises the student's error as its own type
        text = f"{type(error).__name__}: {error}"
        return "ValueError" in text, text
    return False, f"returned {result!r}"


def restored(value, masks: bool):
    """A cache that crossed back as float64 data, with its integer-valued arrays made int64
    again, and (``masks``) those holding only 0 and 1 made bool; ``None`` if no array changed.

    Arrays returned by the student's process arrive as float64, so an index array or a
    boolean mask kept in a cache loses its dtype on the way back and then cannot index.
    """
    changed = []

    def restore(item):
        if isinstance(item, np.ndarray):
            if item.dtype.kind != "f" or not item.size or not np.all(np.isfinite(item)):
                return item
            if masks and np.all((item == 0) | (item == 1)):
                changed.append(item)
                return item.astype(bool)
            if np.all(item == np.round(item)):
                changed.append(item)
                return item.astype(np.int64)
            return item
        if isinstance(item, tuple):
            return tuple(restore(v) for v in item)
        if isinstance(item, list):
            return [restore(v) for v in item]
        if isinstance(item, dict):
            return {k: restore(v) for k, v in item.items()}
        return item

    result = restore(value)
    return result if changed else None


def backward(student, name: str, dout, cache):
    """``student.<name>(dout, cache)``; if the student's code fails to index with a cache
    that came back as data, tried again with its masks and indices restored, then with
    its indices only (an index array may hold just 0s and 1s).

    Only the student's own function runs on the retries, so a wrong backward cannot pass
    through them; a right one is not failed for how the sandbox carried its cache.
    """
    try:
        return getattr(student, name)(dout, cache)
    except Exception as error:
        if not (raised(error, "IndexError") or raised(error, "TypeError")):
            raise
        for masks in (True, False):
            retry = restored(cache, masks)
            if retry is None:
                continue
            try:
                return getattr(student, name)(dout, retry)
            except Exception:  # noqa: BLE001 - the first error is the one to report
                continue
        raise error from None
