"""numerical_gradient and rel_error: the yardsticks every other gradient test relies on.

They are checked here against derivatives known in closed form, so that a bug in the
yardstick cannot hide a bug in a layer.
"""

import numpy as np
import pytest

from cnnlib import numerical_gradient, rel_error

pytestmark = pytest.mark.nb02_vector_backprop


def test_gradient_of_a_sum_of_squares_is_twice_x():
    x = np.array([[1.5, -2.0, 0.25], [3.0, 0.0, -0.5]])
    grad = numerical_gradient(lambda t: t**2, x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-9, atol=1e-9)


def test_upstream_gradient_weights_each_output():
    # f(x) = x * c elementwise; d sum(f * dout) / dx = c * dout
    rng = np.random.default_rng(0)
    x, c, dout = (rng.standard_normal((3, 4)) for _ in range(3))
    grad = numerical_gradient(lambda t: t * c, x, dout)
    np.testing.assert_allclose(grad, c * dout, rtol=1e-8, atol=1e-10)


def test_output_of_a_different_shape_than_x():
    # f(x) = A @ x maps (3,) to (2,); d sum(f * dout)/dx = A^T dout
    a = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    x, dout = np.array([0.3, -0.7, 2.0]), np.array([2.0, -1.0])
    grad = numerical_gradient(lambda t: a @ t, x, dout)
    np.testing.assert_allclose(grad, a.T @ dout, rtol=1e-9)


def test_scalar_valued_function():
    x = np.array([0.1, -0.4, 1.2])
    grad = numerical_gradient(lambda t: float(np.sum(np.exp(t))), x)
    np.testing.assert_allclose(grad, np.exp(x), rtol=1e-8)


def test_x_is_restored_exactly():
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    before = x.copy()
    numerical_gradient(np.sin, x)
    assert np.array_equal(x, before)


def test_nudges_reach_f_when_x_is_a_strided_view():
    # A transposed view cannot be flattened without a copy: nudging a copy would leave
    # f(x) unchanged and give a zero gradient.
    base = np.arange(6.0).reshape(2, 3)
    x = base.T
    grad = numerical_gradient(lambda t: t**3, x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-7, atol=1e-9)
    assert np.array_equal(base, np.arange(6.0).reshape(2, 3))


def test_function_that_returns_a_view_of_its_input():
    # f returns x itself: the first evaluation must not change when x is nudged again
    x = np.array([1.0, 2.0])
    grad = numerical_gradient(lambda t: t, x, np.array([3.0, -4.0]))
    np.testing.assert_allclose(grad, [3.0, -4.0], rtol=1e-9)


def test_rel_error_is_zero_for_equal_arrays_and_for_zeros():
    a = np.array([1.0, -2.0, 3.0])
    assert rel_error(a, a.copy()) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_rel_error_takes_the_worst_entry_relative_to_its_own_size():
    # entry 0: |1 - 1.1| / 2.1; entry 1: |100 - 101| / 201 -> the first is larger
    got = rel_error(np.array([1.0, 100.0]), np.array([1.1, 101.0]))
    assert got == pytest.approx(0.1 / 2.1)


def test_rel_error_of_opposite_signs_is_one():
    assert rel_error(np.array([2.0]), np.array([-2.0])) == pytest.approx(1.0)


def test_rel_error_floor_keeps_tiny_values_finite():
    # |a| + |b| = 2e-12 < 1e-8: the denominator is 1e-8
    assert rel_error(np.array([1e-12]), np.array([-1e-12])) == pytest.approx(2e-4)
