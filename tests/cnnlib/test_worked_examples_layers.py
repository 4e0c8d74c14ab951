"""The lectures' worked examples, computed with cnnlib's layers.

Each test quotes where its numbers come from in ../shared/seeds/ (the course's lectures):
001 = convolution layers, 002 = the slide version, 003 = backpropagation.
"""

import numpy as np
import pytest

import cnnlib as c

# seed 001 ("An example:" under kernel flipping) and seed 002 (slides): the top-left patch
# X(0:2, 0:2) of an image, and the Sobel-like kernel K'.
PATCH = np.array([[200.0, 150.0, 150.0],
                  [100.0, 50.0, 100.0],
                  [25.0, 25.0, 10.0]])
K_PRIME = np.array([[1.0, 0.0, -1.0],
                    [2.0, 0.0, -2.0],
                    [1.0, 0.0, -1.0]])


@pytest.mark.a1_backprop
def test_relu_backward_of_the_lecture():
    # seed 003, "ReLU" Jacobian example: x = [1, -2, 3, -1], 4D dL/dz = [4, -1, 5, 9],
    # dL/dx = [4, 0, 5, 0] ("dL/dx_i = dL/dz_i if x_i > 0, 0 otherwise")
    out, cache = c.relu_forward(np.array([1.0, -2.0, 3.0, -1.0]))
    np.testing.assert_array_equal(out, [1.0, 0.0, 3.0, 0.0])
    dx = c.relu_backward(np.array([4.0, -1.0, 5.0, 9.0]), cache)
    np.testing.assert_array_equal(dx, [4.0, 0.0, 5.0, 0.0])


@pytest.mark.a1_backprop
def test_matrix_multiply_example_of_the_lecture():
    # seed 003, "Example: Matrix Multiplication": x [N x D] = [[2, 1, -3], [-3, 4, 2]],
    # w [D x M] = [[3, 2, 1, -1], [2, 1, 3, 2], [3, 2, 1, -2]], y = xw = [[-1, -1, 2, 6],
    # [5, 2, 11, 7]]; upstream rows [2, 3, -3, 9] and [-8, 1, 4, 6] give
    # dL/dx_{1,1} = 3*2 + 2*3 + 1*(-3) + (-1)*9 = 0 and dL/dx_{2,3} = 3*(-8) + 2*1 + 1*4
    # + (-2)*6 = -30 (1-based indices on the slides).
    x = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
    w = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])
    y, cache = c.affine_forward(x, w, np.zeros(4))
    np.testing.assert_array_equal(y, [[-1.0, -1.0, 2.0, 6.0], [5.0, 2.0, 11.0, 7.0]])
    dy = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])
    dx, dw, db = c.affine_backward(dy, cache)
    assert dx[0, 0] == 0.0
    assert dx[1, 2] == -30.0
    # and the slide's shape rule "dL/dw = x^T (dL/dy)", entry by entry from the definition
    assert dw[0, 0] == 2 * 2 + (-3) * (-8)
    np.testing.assert_array_equal(db, dy.sum(axis=0))


@pytest.mark.a1_backprop
def test_the_jacobian_of_a_big_layer_takes_256_gib():
    # seed 003: "N=64, D=M=4096 ... Each Jacobian takes 256 GB of memory!" -- the Jacobian
    # of y (N x M) with respect to x (N x D) has (N M) x (N D) entries of 4 bytes (float32).
    n, d, m = 64, 4096, 4096
    entries = (n * m) * (n * d)
    assert entries * np.dtype(np.float32).itemsize == 256 * 2**30


@pytest.mark.a2_convolution
def test_patch_times_sobel_like_kernel_is_65_plus_bias():
    # seed 001/002: "X(0:2, 0:2) . K' = 65 + bias" (a dot product: multiply and sum)
    bias = 0.5
    assert c.cross_correlate2d(PATCH, K_PRIME)[0, 0] == 65.0
    out, _ = c.conv2d_forward(PATCH[None, None], K_PRIME[None, None], np.array([bias]))
    assert out.shape == (1, 1, 1, 1)
    assert out[0, 0, 0, 0] == 65.0 + bias


@pytest.mark.a2_convolution
def test_max_200_and_average_90_of_the_patch():
    # seed 001, pooling: "max(X(0:2,0:2)) = 200" and "avg(X(0:2,0:2)) = ... = 90"
    x = PATCH[None, None]
    assert c.maxpool2d_forward(x, 3)[0].item() == 200.0
    assert c.avgpool2d_forward(x, 3)[0].item() == 90.0


@pytest.mark.a2_convolution
def test_kernel_flip_of_one_to_nine():
    # seed 001: convolution = "take the kernel, and rotate 180 degrees along center
    # (sometimes referred to as 'flip')", then cross-correlate. With k = 1..9, the
    # convolution of a unit impulse placed in the middle of a 5x5 image reproduces k
    # itself (the flip undoes the impulse's mirror), while cross-correlation gives 9..1.
    k = np.arange(1.0, 10.0).reshape(3, 3)
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    np.testing.assert_array_equal(c.convolve2d(image, k), k)
    np.testing.assert_array_equal(c.cross_correlate2d(image, k),
                                  [[9.0, 8.0, 7.0], [6.0, 5.0, 4.0], [3.0, 2.0, 1.0]])
    # on the patch itself: one valid position, sum x(a, b) k(2 - a, 2 - b)
    expected = sum(PATCH[a, b] * k[2 - a, 2 - b] for a in range(3) for b in range(3))
    assert c.convolve2d(PATCH, k)[0, 0] == expected


@pytest.mark.a2_convolution
def test_parameter_count_112():
    # seed 002, "Multiple Kernels": k1 = k2 = 3, N = 4 filters, 3 input channels:
    # (3 * 3 * 3 + 1) * 4 = 112. Count what conv2d_forward actually consumes.
    w, b = np.zeros((4, 3, 3, 3)), np.zeros(4)
    out, _ = c.conv2d_forward(np.zeros((1, 3, 5, 5)), w, b)
    assert out.shape[1] == 4  # "number of channels in output is equal to number of kernels"
    assert w.size + b.size == 112


@pytest.mark.a2_convolution
@pytest.mark.parametrize("h,k", [(5, 3), (7, 3), (32, 5), (6, 1)])
def test_valid_output_size_is_h_minus_k_plus_one(h, k):
    # seed 001, "Valid Convolution": the output is (H - k1 + 1) x (W - k2 + 1)
    assert c.conv_output_size(h, k) == h - k + 1
    out, _ = c.conv2d_forward(np.ones((1, 1, h, h + 1)), np.ones((1, 1, k, k)), np.zeros(1))
    assert out.shape[2:] == (h - k + 1, h + 1 - k + 1)


@pytest.mark.a2_convolution
def test_stride_3_on_5x5_with_a_3x3_kernel_does_not_fit():
    # seed 001, "Stride": "some combinations are not going to be valid ... For example a
    # stride of 3 for 5x5 input with a 3 by 3 kernel."
    with pytest.raises(ValueError, match="stride 3"):
        c.conv_output_size(5, 3, stride=3)
    with pytest.raises(ValueError):
        c.conv2d_forward(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), np.zeros(1), stride=3)


@pytest.mark.a1_backprop
@pytest.mark.parametrize("classes", [3, 10, 100])
def test_initial_softmax_loss_is_log_c(classes):
    # seed 003, sanity checks: "e.g. log(C) for softmax with C classes" -- with small
    # random scores every class is about equally likely, so the loss is about -log(1/C)
    rng = np.random.default_rng(classes)
    scores = 1e-3 * rng.standard_normal((50, classes))
    loss, _ = c.softmax_cross_entropy(scores, rng.integers(0, classes, 50))
    assert loss == pytest.approx(np.log(classes), abs=1e-2)
