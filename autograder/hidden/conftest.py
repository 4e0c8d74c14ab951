"""Fixtures for the hidden tests.

Development stub (the grader replaces this with the sandbox proxy): with
``CNN_COURSE_STUDENT=reference`` the ``student`` fixture is the reference cnnlib, its
array results converted to float64 as the real proxy does, so hidden tests can be run
and checked against the reference: every hidden test must pass there.
"""

import os

import numpy as np
import pytest


def _plain(value):
    if isinstance(value, np.ndarray):
        return np.array(value, dtype=np.float64)
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
        return lambda *a, **k: _plain(target(*a, **k))


@pytest.fixture
def student():
    if os.environ.get("CNN_COURSE_STUDENT") == "reference":
        return _ReferenceStudent()
    pytest.fail("no student: run through `cnn-course grade` or set CNN_COURSE_STUDENT=reference")
