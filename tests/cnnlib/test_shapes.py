"""cnnlib.shapes: (h, w) pairs, window geometry, conv input checks and pooling geometry."""

import numpy as np
import pytest

from cnnlib.shapes import Window, check_conv_inputs, pair, pool_geometry

pytestmark = pytest.mark.nb03_convolution


def test_pair_takes_an_int_or_a_pair():
    assert pair(3, "stride") == (3, 3)
    assert pair((2, 1), "stride") == (2, 1) and pair([4, 5], "pad") == (4, 5)
    assert all(type(v) is int for v in pair((np.int64(2), 1.0), "pad"))
    with pytest.raises(ValueError, match="stride"):
        pair((1, 2, 3), "stride")


def test_window_defaults_to_no_padding():
    assert Window((3, 3), (1, 1)).pad == (0, 0)


def test_conv_inputs_are_checked_with_the_shapes_in_the_message():
    x, w, b = np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.ones(4)
    check_conv_inputs(x, w, b)
    with pytest.raises(ValueError, match=r"x has 3 channels"):
        check_conv_inputs(x, np.ones((4, 2, 3, 3)), b)
    with pytest.raises(ValueError, match=r"\(4,\)"):
        check_conv_inputs(x, w, np.ones((4, 1)))


@pytest.mark.nb04_pooling
@pytest.mark.parametrize("x_shape,kernel,stride,expected", [
    ((1, 1, 4, 4), 2, None, (2, 2, 2, 2, 2, 2)),
    ((1, 1, 5, 7), (2, 3), None, (2, 3, 2, 3, 2, 2)),  # remainders dropped
    ((1, 1, 5, 5), 3, 1, (3, 3, 1, 1, 3, 3)),
    ((1, 1, 3, 3), 3, (2, 1), (3, 3, 2, 1, 1, 1)),
])
def test_pool_geometry_takes_the_floor(x_shape, kernel, stride, expected):
    assert pool_geometry(x_shape, kernel, stride) == expected


@pytest.mark.nb04_pooling
@pytest.mark.parametrize("x_shape,kernel,stride", [
    ((4, 4), 2, None), ((1, 1, 3, 5), (4, 2), None), ((1, 1, 4, 4), 2, 0), ((1, 1, 4, 4), 0, 1),
])
def test_pool_geometry_refuses_what_cannot_be_a_pool(x_shape, kernel, stride):
    with pytest.raises(ValueError):
        pool_geometry(x_shape, kernel, stride)
