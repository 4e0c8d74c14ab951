"""Fixtures for the hidden tests.

During grading, ``student`` is the proxy of the submission being judged (its calls run in
the sandbox; autograder.grader.judge provides it). For developing hidden tests,
``CNN_COURSE_STUDENT=reference`` makes ``student`` the reference cnnlib, its array results
copied to plain ndarrays of their own dtype as the proxy does, so every hidden test can be
checked to pass there (``CNN_COURSE_SEED`` picks the seed of their random inputs).
"""

import os

import numpy as np
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "grade(grade_id, points): points and grade cell")


def _plain(value):
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True, subok=False)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class _ReferenceStudent:
    def __getattr__(self, name):
        import cnnlib

        target = getattr(cnnlib, name)
        if not callable(target) or isinstance(target, type):
            return target

        def call(*args, **kwargs):
            result = target(*args, **kwargs)
            if isinstance(result, tuple):  # (out, cache): caches stay as they are, like handles
                return tuple(v if isinstance(v, (tuple, list, dict)) else _plain(v)
                             for v in result)
            return _plain(result)

        def map_calls(calls, pick=None):  # like the proxy's one-round-trip batch
            results = [target(*args, **kwargs) for args, kwargs in calls]
            return [_plain(r[pick] if pick is not None else r) for r in results]

        call.map = map_calls
        return call


@pytest.fixture
def student():
    from autograder.grader.judge import current_student

    proxy = current_student()
    if proxy is not None:
        return proxy
    if os.environ.get("CNN_COURSE_STUDENT") == "reference":
        return _ReferenceStudent()
    pytest.fail("no student: run through `cnn-course grade` or set CNN_COURSE_STUDENT=reference")
