"""The `student` proxy: plain data crosses, everything else is a handle that still works."""


import numpy as np
import pytest

from autograder.grader.program import program_of
from autograder.grader.proxy import Remote, Session, Student
from autograder.grader.sandbox import Limits, Sandbox, StudentError

pytestmark = pytest.mark.a1_backprop

PROGRAM = r'''
import numpy as np

class Node:
    """A scalar with a gradient: just enough of a Value for the proxy's operators."""
    def __init__(self, data, parents=(), back=lambda: None):
        self.data, self.grad, self._parents, self._back = float(data), 0.0, parents, back

    def __add__(self, other):
        other = other if isinstance(other, Node) else Node(other)
        out = Node(self.data + other.data, (self, other))
        def back():
            self.grad += out.grad
            other.grad += out.grad
        out._back = back
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Node) else Node(other)
        out = Node(self.data * other.data, (self, other))
        def back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._back = back
        return out

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def backward(self):
        order, seen = [], set()
        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node._parents:
                    visit(parent)
                order.append(node)
        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._back()

def scale_forward(x, k):
    return x * k, {"x": x, "k": k, "secret": object()}

def scale_backward(dout, cache):
    return dout * cache["k"]

def shapes():
    return {"a": np.zeros((2, 3), dtype=np.float32), "b": (1, np.int64(2), np.float32(0.5)),
            "c": [True, None, "s"]}

class Sneaky(np.ndarray):
    def __eq__(self, other):
        return True

def sneaky():
    return np.arange(4.0).view(Sneaky)

LEARNING_RATE = 0.1
TABLE = {"rows": 3}

def fails():
    raise ValueError("kernel larger than the input")
'''


@pytest.fixture(scope="module")
def student():
    session = Session(lambda: Sandbox(program_of(PROGRAM), None, Limits(call_seconds=10)))
    yield Student(session)
    session.close()


def test_value_handles_support_operators_and_backward(student):
    a = student.Node(2.0)
    b = student.Node(3.0)
    assert isinstance(a, Remote)
    c = a * b + a          # dc/da = b + 1 = 4, dc/db = a = 2
    d = 2.0 * c - b        # radd/rmul with a plain float on the left, sub, neg
    d.backward()
    assert c.data == 8.0 and d.data == 13.0
    assert a.grad == 8.0 and b.grad == 3.0
    assert type(a.grad) is float


def test_a_cache_handle_goes_back_as_an_argument(student):
    out, cache = student.scale_forward(np.ones((2, 2)), 3.0)
    assert isinstance(cache, Remote)
    assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    dx = student.scale_backward(np.full((2, 2), 2.0), cache)
    assert dx.tolist() == [[6.0, 6.0], [6.0, 6.0]]


def test_data_crosses_as_plain_python_and_arrays_keep_their_dtype(student):
    got = student.shapes()
    assert got["a"].dtype == np.float32 and got["a"].shape == (2, 3)
    assert got["b"] == (1, 2, 0.5) and [type(v) for v in got["b"]] == [int, int, float]
    assert got["c"] == [True, None, "s"]


def test_an_ndarray_subclass_loses_its_tricks(student):
    value = student.sneaky()
    assert type(value) is np.ndarray
    assert not np.array_equal(value, np.zeros(4))


def test_values_of_names_are_fetched(student):
    assert student.LEARNING_RATE.value() == 0.1
    assert student.TABLE.value() == {"rows": 3}


def test_missing_names_and_student_exceptions_say_what_happened(student):
    with pytest.raises(StudentError) as missing:
        student.conv2d_forward(np.ones(3))
    assert missing.value.type == "LookupError"
    assert "function conv2d_forward not found in your notebook (renamed?)" in missing.value.message
    with pytest.raises(StudentError) as raised:
        student.fails()
    assert raised.value.type == "ValueError"
    assert raised.value.message == "kernel larger than the input"
    assert "line" in raised.value.where  # points into the notebook's code, not the grader
