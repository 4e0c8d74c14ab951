"""Helpers shared by the hidden tests: their random inputs, comparisons and messages.

Runs in the trusted process only. Arrays come back from the sandbox with the dtype the
student's code gave them (a bool mask stays bool, an index array stays int), so a cache can
be passed back as it is; every comparison converts to float64 itself (``as_float``,
``close``). Errors raised by the student's code arrive from the sandbox as ``StudentError``
with the original type's name in ``.type``; with the reference stand-in
(``CNN_COURSE_STUDENT=reference``) they are the original exceptions.

Messages shown to students never print an expected value or a hidden input: ``mismatch``
says where a result is wrong without saying what it should be.
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
    """Same shape and equal up to tol relative to the scale of ``b``, the expected array
    (at least 1); any numeric dtype, compared as float64."""
    a, b = as_float(a), as_float(b)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    return bool(np.all(np.abs(a - b) <= tol * scale))


def error_name(error: BaseException) -> str:
    """The exception's type as the student wrote it (errors from the sandbox carry it)."""
    return getattr(error, "type", None) or type(error).__name__


def described(error: BaseException) -> str:
    """'Type: message', the student's own type and words, never the grader's class names."""
    return str(error) if hasattr(error, "type") else f"{type(error).__name__}: {error}"


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
        if raised(error, "NotImplementedError"):
            raise  # an unfilled stub: the grader says so in its own words
        text = described(error)
        return raised(error, "ValueError"), text
    return False, f"returned {result!r}"


def mismatch(got, want, tol: float = 1e-7, *, atol: float | None = None) -> str:
    """Where ``got`` differs from ``want`` (same shape), in words that give away no value:
    how many entries are off and the index of the first. Entries are off as for ``close``,
    or, given ``atol``, as for ``np.isclose(got, want, rtol=tol, atol=atol)``."""
    got, want = as_float(got), as_float(want)
    if atol is None:
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        wrong = ~(np.abs(got - want) <= tol * scale)  # nan counts as wrong
    else:
        wrong = ~np.isclose(got, want, rtol=tol, atol=atol)
    count = int(np.count_nonzero(wrong))
    if not count:
        return "no entry differs"
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(wrong)), wrong.shape))
    where = f", the first at index {first}" if wrong.ndim else ""
    return f"{count} of {wrong.size} entries differ{where}"


def redraw(make, good, tries: int = 1000):
    """``make()`` again until ``good(result)``: inputs with a property every seed must have
    (e.g. no pre-activation near a ReLU's kink). ``make`` draws from the test's ``rng``, so
    the result is still reproducible from the run's seed."""
    for _ in range(tries):
        result = make()
        if good(result):
            return result
    raise RuntimeError(f"no input with the property after {tries} draws")


def batched_gradient(evaluate, x, dout=None, h: float = 1e-5) -> np.ndarray:
    """Centered differences of f at ``x`` contracted with ``dout`` (ones when None), like
    ``cnnlib.numerical_gradient``, with every f(x +- h e_i) computed by one call of
    ``evaluate(points) -> outputs``: a single round trip to the sandbox instead of two per
    entry (``student.NAME.map``)."""
    x = as_float(x)
    points = []
    for index in np.ndindex(x.shape):
        for sign in (1.0, -1.0):
            point = x.copy()
            point[index] += sign * h
            points.append(point)
    outputs = [as_float(value) for value in evaluate(points)]
    if len(outputs) != len(points):
        raise AssertionError("the batched forward returned a wrong number of results")
    dout = np.ones_like(outputs[0]) if dout is None else as_float(dout)
    grad = np.zeros_like(x)
    for k, index in enumerate(np.ndindex(x.shape)):
        up, down = outputs[2 * k], outputs[2 * k + 1]
        if up.shape != dout.shape or down.shape != dout.shape:
            raise AssertionError(f"your forward's output shape {up.shape} does not match "
                                 f"the upstream gradient's {dout.shape}")
        grad[index] = np.sum((up - down) * dout) / (2 * h)
    return grad
