"""The hidden tests' shared helpers and dtypes, against a real sandbox.

Arrays cross back with the dtype the student's code gave them: a cache holding a bool mask
or an int index array goes back into the student's backward pass with a plain call, and a
result that is int, float32 or bool where the hidden test expects floats is judged on its
values (the comparisons convert), never failed or crashed for its dtype.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.grader.program import program_of
from autograder.grader.proxy import Session, Student
from autograder.grader.sandbox import Limits, Sandbox

HIDDEN = Path(__file__).resolve().parents[2] / "autograder" / "hidden"
sys.path.insert(0, str(HIDDEN))
import _checks  # noqa: E402 - lives beside the hidden tests, which import it the same way

pytestmark = pytest.mark.a2_convolution

PROGRAM = r'''
import numpy as np

def relu_forward(x):
    return np.maximum(x, 0), x > 0          # the cache is a bare boolean mask

def relu_backward(dout, mask):
    dx = np.zeros_like(dout)
    dx[mask] = dout[mask]                   # a float "mask" would fail to index
    return dx

def first_forward(x):
    return x[:, 0], np.zeros(len(x), dtype=int)   # indices of 0s only: not a mask

def first_backward(dout, index):
    dx = np.zeros((len(dout), 3))
    dx[np.arange(len(dout)), index] = dout
    return dx

def _pairs(kernel_size, stride):
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    if stride is None:
        return kh, kw, kh, kw
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    return kh, kw, sh, sw

def maxpool2d_forward(x, kernel_size, stride=None):
    kh, kw, sh, sw = _pairs(kernel_size, stride)
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    windows = np.empty((n, c, ho, wo, kh * kw))
    for r in range(ho):
        for q in range(wo):
            windows[:, :, r, q] = x[:, :, r * sh:r * sh + kh, q * sw:q * sw + kw].reshape(n, c, -1)
    index = windows.argmax(axis=-1)           # int64: each window's first maximum
    return windows.max(axis=-1), (x.shape, index, (kh, kw, sh, sw))

def maxpool2d_backward(dout, cache):
    shape, index, (kh, kw, sh, sw) = cache
    n, c, ho, wo = dout.shape
    a, b = np.divmod(index, kw)
    rows = a + sh * np.arange(ho)[:, None]
    cols = b + sw * np.arange(wo)[None, :]
    examples, channels = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    dx = np.zeros(shape)
    np.add.at(dx, (examples[..., None, None], channels[..., None, None], rows, cols), dout)
    return dx                                 # float indices would raise IndexError

def as_ints(x):
    return np.rint(x).astype(np.int64)

def as_float32(x):
    return x.astype(np.float32)

def positive(x):
    return x > 0

def int_maxpool2d_forward(x, kernel_size, stride=None):
    out, cache = maxpool2d_forward(x, kernel_size, stride)
    return out.astype(np.int32), cache         # whole numbers in, whole numbers out

def doubled_maxpool2d_backward(dout, cache):
    return 2 * maxpool2d_backward(dout, cache)

def broken_backward(dout, cache):
    raise IndexError("the student's own bug")

def conv_output_size(size, kernel, stride=1, pad=0):
    return np.int64((size + 2 * pad - kernel) // stride + 1)

def receptive_field(layers):
    r, jump = np.float64(1), 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r                                  # a whole number held in a float
'''


@pytest.fixture(scope="module")
def student():
    session = Session(lambda: Sandbox(program_of(PROGRAM), None, Limits(call_seconds=10)))
    yield Student(session)
    session.close()


def _hidden(notebook: str):
    spec = importlib.util.spec_from_file_location(
        f"hidden_checks_{notebook}", HIDDEN / f"test_{notebook}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Renamed:
    """The student, with some functions answered by others of the same program."""

    def __init__(self, student, **names):
        self._student, self._names = student, names

    def __getattr__(self, name):
        return getattr(self._student, self._names.get(name, name))


X = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])


def test_a_bool_mask_cache_goes_back_to_the_students_backward_as_it_came(student):
    out, mask = student.relu_forward(X)
    assert mask.dtype == np.bool_ and type(mask) is np.ndarray
    dout = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(student.relu_backward(dout, mask), np.where(X > 0, dout, 0))


def test_an_int_index_cache_of_zeros_goes_back_as_ints(student):
    _, index = student.first_forward(X)
    assert index.dtype.kind == "i"
    dx = student.first_backward(np.array([7.0, 8.0]), index)
    np.testing.assert_array_equal(dx, [[7.0, 0, 0], [8.0, 0, 0]])


@pytest.mark.parametrize("notebook, tests", [
    ("02_vector_backprop", ["test_relu_backward_lecture_example",
                            "test_relu_backward_against_reference_and_numeric"]),
    ("04_pooling", ["test_maxpool_backward_routes_the_lecture_gradient_to_the_200",
                    "test_maxpool_backward_matches_the_reference",
                    "test_maxpool_backward_sends_ties_to_the_first_maximum",
                    "test_maxpool_backward_adds_up_over_overlapping_windows"]),
])
def test_hidden_backward_tests_pass_a_mask_or_index_cache_with_a_plain_call(student, notebook,
                                                                           tests):
    module = _hidden(notebook)
    for name in tests:
        getattr(module, name)(student)  # raises (fails this test) if the hidden test fails


def test_ints_float32_and_bools_are_compared_by_value(student):
    x = np.array([[0.25, -1.5, 3.0], [7.0, -2.0, 0.5]])
    ints, single, mask = student.as_ints(x), student.as_float32(x), student.positive(x)
    assert (ints.dtype, single.dtype, mask.dtype) == (np.int64, np.float32, np.bool_)
    assert _checks.close(ints, np.rint(x)) and not _checks.close(ints, x)
    assert _checks.close(single, x) and not _checks.close(single, x + 1e-3)
    assert _checks.close(mask, (x > 0).astype(float)) and _checks.close(mask, x > 0)
    assert not _checks.close(mask, x < 0)
    assert _checks.mismatch(mask, x < 0) == "6 of 6 entries differ, the first at index (0, 0)"
    assert _checks.mismatch(ints, x) == "3 of 6 entries differ, the first at index (0, 0)"


def test_hidden_tests_accept_whole_numbers_of_any_numeric_type(student):
    """The spec asks for ints (sizes, receptive fields); whole-number results of another
    numeric type pass where the values are right."""
    _hidden("03_convolution").test_output_size_for_sizes_that_fit(student)
    cnn = _hidden("05_training_a_cnn")
    cnn.test_receptive_field_of_stacked_stride_one_layers(student)
    cnn.test_receptive_field_of_published_networks(student)
    int_pool = _Renamed(student, maxpool2d_forward="int_maxpool2d_forward")
    _hidden("04_pooling").test_maxpool_of_the_lecture_window_and_the_default_stride(int_pool)


def test_a_wrong_backward_fails_and_a_broken_one_reports_its_own_error(student):
    module = _hidden("04_pooling")
    doubled = _Renamed(student, maxpool2d_backward="doubled_maxpool2d_backward")
    with pytest.raises(AssertionError):
        module.test_maxpool_backward_matches_the_reference(doubled)
    broken = _Renamed(student, maxpool2d_backward="broken_backward")
    with pytest.raises(Exception, match="the student's own bug") as failure:
        module.test_maxpool_backward_matches_the_reference(broken)
    assert _checks.raised(failure.value, "IndexError")


def test_close_is_relative_to_the_expected_scale_and_checks_shapes():
    assert _checks.close(np.array([1e6 + 0.01]), np.array([1e6]))
    assert not _checks.close(np.array([1.001]), np.array([1.0]))
    assert not _checks.close(np.zeros(3), np.zeros((3, 1)))
    assert not _checks.close(np.array([np.nan]), np.array([1.0]))
    assert _checks.mismatch(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == (
        "1 of 2 entries differ, the first at index (1,)")


def test_inputs_come_from_the_run_seed():
    before = _checks.run_seed()
    try:
        _checks.use_seed(7)
        first = _checks.rng(3).normal(size=4)
        assert np.array_equal(first, _checks.rng(3).normal(size=4))
        assert not np.array_equal(first, _checks.rng(4).normal(size=4))
        _checks.use_seed(8)
        assert not np.array_equal(first, _checks.rng(3).normal(size=4))
    finally:
        _checks.use_seed(before)


def test_redraw_keeps_drawing_until_the_property_holds():
    generator = np.random.default_rng(0)
    value = _checks.redraw(lambda: generator.normal(), lambda v: v > 2.0)
    assert value > 2.0
    with pytest.raises(RuntimeError, match="no input with the property"):
        _checks.redraw(lambda: 0.0, lambda v: v > 1.0, tries=5)
