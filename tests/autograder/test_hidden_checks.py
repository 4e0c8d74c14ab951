"""The hidden tests' shared helpers, against a real sandbox: a backward pass whose cache is a
bare mask or index array (it crosses back as float64 data) still gets judged on its values,
and a backward that is wrong stays wrong after the retries."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.grader.proxy import Session, Student
from autograder.grader.sandbox import Limits, Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "autograder" / "hidden"))
import _checks  # noqa: E402 - lives beside the hidden tests, which import it the same way

pytestmark = pytest.mark.a2_convolution

PROGRAM = r'''
import numpy as np

def relu_forward(x):
    return np.maximum(x, 0), x > 0          # the cache is a bare boolean mask

def relu_backward(dout, mask):
    dx = np.zeros_like(dout)
    dx[mask] = dout[mask]                   # indexing with a float array fails
    return dx

def first_forward(x):
    return x[:, 0], np.zeros(len(x), dtype=int)   # indices of 0s only: not a mask

def first_backward(dout, index):
    dx = np.zeros((len(dout), 3))
    dx[np.arange(len(dout)), index] = dout
    return dx

def wrong_backward(dout, mask):
    dx = np.zeros_like(dout)
    dx[mask] = 2 * dout[mask]
    return dx

def broken_backward(dout, mask):
    raise IndexError("the student's own bug")
'''


@pytest.fixture(scope="module")
def student():
    session = Session(lambda: Sandbox(json.dumps([PROGRAM]), None, Limits(call_seconds=10)))
    yield Student(session)
    session.close()


X = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])


def test_a_mask_cache_comes_back_as_floats_and_the_retry_restores_it(student):
    out, mask = student.relu_forward(X)
    assert mask.dtype == np.float64  # the premise: data, not a handle
    dout = np.arange(6.0).reshape(2, 3)
    dx = _checks.backward(student, "relu_backward", dout, mask)
    np.testing.assert_array_equal(dx, np.where(X > 0, dout, 0.0))


def test_an_index_cache_of_zeros_and_ones_is_tried_as_integers_too(student):
    _, index = student.first_forward(X)
    dx = _checks.backward(student, "first_backward", np.array([7.0, 8.0]), index)
    np.testing.assert_array_equal(dx, [[7.0, 0, 0], [8.0, 0, 0]])


def test_a_wrong_backward_stays_wrong_and_a_broken_one_reports_its_own_error(student):
    _, mask = student.relu_forward(X)
    dout = np.ones((2, 3))
    assert not _checks.close(_checks.backward(student, "wrong_backward", dout, mask),
                             np.where(X > 0, dout, 0.0))
    with pytest.raises(Exception, match="the student's own bug"):
        _checks.backward(student, "broken_backward", dout, mask)


def test_restored_leaves_non_integer_data_alone_and_says_when_nothing_changed():
    assert _checks.restored((np.array([0.5, 1.0]), "label"), masks=True) is None
    restored = _checks.restored({"m": np.array([0.0, 1.0]), "i": np.array([2.0, 0.0])}, True)
    assert restored["m"].dtype == bool and restored["i"].dtype == np.int64


def test_close_is_relative_to_the_expected_scale_and_checks_shapes():
    assert _checks.close(np.array([1e6 + 0.01]), np.array([1e6]))
    assert not _checks.close(np.array([1.001]), np.array([1.0]))
    assert not _checks.close(np.zeros(3), np.zeros((3, 1)))
