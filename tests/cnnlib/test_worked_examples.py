"""Every worked example of the lectures (../shared/seeds), asserted against cnnlib."""

import math

import numpy as np
import pytest

import cnnlib as c

# seed 001 / 002: the image patch and the Sobel-like kernel K'.
PATCH = np.array([[200.0, 150, 150], [100, 50, 100], [25, 25, 10]])
K_PRIME = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


@pytest.mark.a1_backprop
def test_add_mul_graph_of_the_lecture():
    # seed 003: f(x, y, z) = (x + y) z at x=-2, y=5, z=-4.
    assert c.add_mul_graph(-2, 5, -4) == (-12.0, -4.0, -4.0, 3.0)
    x, y, z = c.Value(-2), c.Value(5), c.Value(-4)
    f = (x + y) * z
    f.backward()
    assert (f.data, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)


@pytest.mark.a1_backprop
def test_sigmoid_gate_step():
    # seed 003: the sigmoid neuron's output 0.73 and the gate step (1 - 0.73) * 0.73 = 0.2.
    f, dw, dx = c.sigmoid_neuron([2, -3, -3], [-1, -2])
    assert round(f, 2) == 0.73
    assert round((1 - f) * f, 2) == 0.2
    np.testing.assert_allclose(dw, [-0.2, -0.39, 0.2], atol=0.01)
    np.testing.assert_allclose(dx, [0.39, -0.59], atol=0.01)


@pytest.mark.a1_backprop
def test_relu_backward_example():
    # seed 003: x = [1, -2, 3, -1], dL/dz = [4, -1, 5, 9] -> dL/dx = [4, 0, 5, 0].
    x = np.array([1.0, -2, 3, -1])
    out, cache = c.relu_forward(x)
    assert out.tolist() == [1, 0, 3, 0]
    assert c.relu_backward(np.array([4.0, -1, 5, 9]), cache).tolist() == [4, 0, 5, 0]


@pytest.mark.a1_backprop
def test_matrix_multiply_example():
    # seed 003: x (2x3) times w (3x4); the slides' rows of w are [3,2,1,-1] and [3,2,1,-2].
    x = np.array([[2.0, 1, -3], [-3, 4, 2]])
    w = np.array([[3.0, 2, 1, -1], [2, 1, 3, 2], [3, 2, 1, -2]])
    y, cache = c.affine_forward(x, w, np.zeros(4))
    assert y.tolist() == [[-1, -1, 2, 6], [5, 2, 11, 7]]
    dx, dw, _ = c.affine_backward(np.array([[2.0, 3, -3, 9], [-8, 1, 4, 6]]), cache)
    assert dx[0, 0] == 0 and dx[1, 2] == -30


@pytest.mark.a1_backprop
def test_jacobian_of_a_big_layer_would_take_256_gib():
    # seed 003: N=64, D=M=4096: the Jacobian has (N D) x (N M) float32 entries.
    entries = (64 * 4096) * (64 * 4096)
    assert entries * 4 == 256 * 2**30


@pytest.mark.a2_convolution
def test_patch_times_sobel_kernel_is_65_plus_bias():
    assert c.cross_correlate2d(PATCH, K_PRIME).item() == 65
    out, _ = c.conv2d_forward(PATCH[None, None], K_PRIME[None, None], np.array([0.5]))
    assert out.item() == 65.5


@pytest.mark.a2_convolution
def test_max_200_and_average_90_of_the_patch():
    x = PATCH[None, None]
    assert c.maxpool2d_forward(x, 3)[0].item() == 200
    assert c.avgpool2d_forward(x, 3)[0].item() == 90


@pytest.mark.a2_convolution
def test_kernel_flip_of_one_to_nine():
    # seed 001: convolution uses the kernel rotated by 180 degrees: 1..9 becomes 9..1.
    k = np.arange(1.0, 10).reshape(3, 3)
    x = np.zeros((3, 3))
    x[0, 0] = 1  # picks the kernel entry that lands on the top-left pixel
    flipped = [[c.convolve2d(_unit(i, j), k).item() for j in range(3)] for i in range(3)]
    assert flipped == [[9, 8, 7], [6, 5, 4], [3, 2, 1]]
    assert c.cross_correlate2d(x, k).item() == 1


def _unit(i, j):
    x = np.zeros((3, 3))
    x[i, j] = 1
    return x


@pytest.mark.a2_convolution
def test_parameter_count_112():
    # seed 002: 3x3 kernels over 3 input channels, 4 of them, with biases.
    layer = c.Conv2d(3, 4, 3)
    assert sum(p.data.size for p in layer.parameters()) == (3 * 3 * 3 + 1) * 4 == 112


@pytest.mark.a2_convolution
def test_output_sizes_valid_and_a_stride_that_does_not_fit():
    assert c.conv_output_size(7, 3) == 7 - 3 + 1
    assert c.conv_output_size(7, 3, stride=2) == 3
    assert c.conv_output_size(7, 3, pad=1) == 7
    with pytest.raises(ValueError, match="does not fit"):
        c.conv_output_size(7, 3, stride=3)


@pytest.mark.a3_cnns
def test_initial_softmax_loss_is_log_c():
    rng = np.random.default_rng(0)
    for classes in (3, 10, 100):
        scores = 1e-3 * rng.standard_normal((500, classes))
        loss, _ = c.softmax_cross_entropy(scores, rng.integers(0, classes, 500))
        assert loss == pytest.approx(math.log(classes), rel=1e-3)
