"""Every worked example of the course's lectures, computed with cnnlib.

Each test names the lecture its numbers come from: "Backpropagation from first
principles", "Convolution layers", "Backward pass of a convolution layer", or the slides
that accompany the convolution lectures.
"""

import math

import numpy as np
import pytest

import cnnlib as c
from cnnlib import Value

# "Convolution layers" (kernel flipping, pooling) and the slides: the top-left patch
# X(0:2, 0:2) of an image, and the Sobel-like kernel K'.
PATCH = np.array([[200.0, 150.0, 150.0],
                  [100.0, 50.0, 100.0],
                  [25.0, 25.0, 10.0]])
K_PRIME = np.array([[1.0, 0.0, -1.0],
                    [2.0, 0.0, -2.0],
                    [1.0, 0.0, -1.0]])
# "Backpropagation from first principles": the sigmoid neuron's weights and inputs.
W, X = [2.0, -3.0, -3.0], [-1.0, -2.0]


# --- Backpropagation from first principles ---------------------------------------------

@pytest.mark.nb01_computational_graphs
def test_add_mul_graph_by_hand_and_through_value():
    # f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4, with q = x + y = 3
    assert c.add_mul_graph(-2.0, 5.0, -4.0) == (-12.0, -4.0, -4.0, 3.0)
    assert all(isinstance(v, float) for v in c.add_mul_graph(-2.0, 5.0, -4.0))
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (f.data, q.data) == (-12.0, 3.0)
    assert (q.grad, x.grad, y.grad, z.grad) == (-4.0, -4.0, -4.0, 3.0)


@pytest.mark.nb01_computational_graphs
def test_sigmoid_neuron_output_and_the_gate_step():
    # w = [2, -3, -3], x = [-1, -2]: f = 0.73; the sigmoid gate's step (1 - 0.73) 0.73 = 0.2
    f, dw, dx = c.sigmoid_neuron(W, X)
    assert round(f, 2) == 0.73
    assert round((1 - f) * f, 1) == 0.2
    assert isinstance(f, float) and dw.shape == (3,) and dx.shape == (2,)
    np.testing.assert_allclose(dw, [-0.20, -0.39, 0.20], atol=0.005)
    np.testing.assert_allclose(dx, [0.39, -0.59], atol=0.005)


def _neuron_from_primitives(w, x):
    """The lecture's long graph: *, +, * -1, exp, + 1, 1/x, one gate at a time."""
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / ((z * -1.0).exp() + 1.0)


@pytest.mark.nb01_computational_graphs
def test_primitive_graph_and_sigmoid_gate_agree_on_every_gradient():
    # "The computational graph is not unique": both graphs give the same numbers.
    w1, x1 = [Value(v) for v in W], [Value(v) for v in X]
    long = _neuron_from_primitives(w1, x1)
    long.backward()
    w2, x2 = [Value(v) for v in W], [Value(v) for v in X]
    short = (w2[0] * x2[0] + w2[1] * x2[1] + w2[2]).sigmoid()
    short.backward()
    assert long.data == pytest.approx(short.data) and round(short.data, 2) == 0.73
    _, dw, dx = c.sigmoid_neuron(W, X)
    for a, b, hand in zip(w1 + x1, w2 + x2, list(dw) + list(dx), strict=True):
        assert a.grad == pytest.approx(b.grad) == pytest.approx(hand)


@pytest.mark.nb01_computational_graphs
def test_intermediate_gradients_of_the_primitive_graph():
    # Backward through the long graph, gate by gate: 1/x gives -1/1.37^2 = -0.53, +1 passes
    # it on, exp multiplies by e^-1 = 0.37 (-0.20), * -1 flips it (0.20 at the sum).
    w, x = [Value(v) for v in W], [Value(v) for v in X]
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    neg = z * -1.0
    e = neg.exp()
    d = e + 1.0
    f = 1.0 / d
    f.backward()
    assert round(z.data, 2) == 1.0 and round(e.data, 2) == 0.37 and round(d.data, 2) == 1.37
    assert round(d.grad, 2) == -0.53 and round(e.grad, 2) == -0.53
    assert round(neg.grad, 2) == -0.20 and round(z.grad, 2) == 0.20


@pytest.mark.nb01_computational_graphs
def test_gradient_flow_patterns():
    a, b = Value(3.0), Value(-1.0)
    ((a + b) * 5.0).backward()
    assert (a.grad, b.grad) == (5.0, 5.0), "add distributes"
    a, b = Value(3.0), Value(-1.0)
    ((a * b) * 2.0).backward()
    assert (a.grad, b.grad) == (-2.0, 6.0), "mul swaps"
    a = Value(3.0)
    (a * 2.0 + a * -4.0 + a).backward()
    assert a.grad == -1.0, "copy adds: 2 - 4 + 1"
    a, b = Value(4.0), Value(-2.0)
    (a.max(b) * 3.0).backward()
    assert (a.grad, b.grad) == (3.0, 0.0), "max routes"


@pytest.mark.nb02_vector_backprop
def test_relu_backward_of_the_lecture():
    # x = [1, -2, 3, -1], dL/dz = [4, -1, 5, 9] -> dL/dx = [4, 0, 5, 0]
    out, cache = c.relu_forward(np.array([1.0, -2.0, 3.0, -1.0]))
    np.testing.assert_array_equal(out, [1.0, 0.0, 3.0, 0.0])
    dx = c.relu_backward(np.array([4.0, -1.0, 5.0, 9.0]), cache)
    np.testing.assert_array_equal(dx, [4.0, 0.0, 5.0, 0.0])


@pytest.mark.nb02_vector_backprop
def test_matrix_multiply_example_of_the_lecture():
    # "Example: Matrix Multiplication": x [N x D] times w [D x M] gives y = [[-1, -1, 2, 6],
    # [5, 2, 11, 7]]; upstream rows [2, 3, -3, 9] and [-8, 1, 4, 6] give dL/dx_{1,1} = 0 and
    # dL/dx_{2,3} = -30 (1-based indices on the slides).
    x = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
    w = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])
    y, cache = c.affine_forward(x, w, np.zeros(4))
    np.testing.assert_array_equal(y, [[-1.0, -1.0, 2.0, 6.0], [5.0, 2.0, 11.0, 7.0]])
    dy = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])
    dx, dw, db = c.affine_backward(dy, cache)
    assert dx[0, 0] == 0.0 and dx[1, 2] == -30.0
    # the slide's shape rule dL/dw = x^T (dL/dy), entry (1, 1) from the definition
    assert dw[0, 0] == 2 * 2 + (-3) * (-8)
    np.testing.assert_array_equal(db, dy.sum(axis=0))


@pytest.mark.nb05_training_a_cnn
@pytest.mark.parametrize("classes", [3, 10, 100])
def test_initial_softmax_loss_is_log_c(classes):
    # sanity checks: "e.g. log(C) for softmax with C classes": with small random scores every
    # class is about equally likely, so the loss is about -log(1/C)
    rng = np.random.default_rng(classes)
    scores = 1e-3 * rng.standard_normal((50, classes))
    loss, _ = c.softmax_cross_entropy(scores, rng.integers(0, classes, 50))
    assert loss == pytest.approx(math.log(classes), abs=1e-2)


# --- Convolution layers, and the slides -------------------------------------------------

@pytest.mark.nb03_convolution
def test_patch_times_sobel_like_kernel_is_65_plus_bias():
    # "X(0:2, 0:2) . K' = 65 + bias" (a dot product: multiply and sum)
    bias = 0.5
    assert c.cross_correlate2d(PATCH, K_PRIME)[0, 0] == 65.0
    out, _ = c.conv2d_forward(PATCH[None, None], K_PRIME[None, None], np.array([bias]))
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == 65.0 + bias


@pytest.mark.nb03_convolution
def test_kernel_flip_of_one_to_nine():
    # convolution = "take the kernel, and rotate 180 degrees along center", then
    # cross-correlate. With k = 1..9, the convolution of a unit impulse in the middle of a
    # 5x5 image reproduces k, while cross-correlation gives 9..1.
    k = np.arange(1.0, 10.0).reshape(3, 3)
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    np.testing.assert_array_equal(c.convolve2d(image, k), k)
    np.testing.assert_array_equal(c.cross_correlate2d(image, k),
                                  [[9.0, 8.0, 7.0], [6.0, 5.0, 4.0], [3.0, 2.0, 1.0]])
    expected = sum(PATCH[a, b] * k[2 - a, 2 - b] for a in range(3) for b in range(3))
    assert c.convolve2d(PATCH, k)[0, 0] == expected


@pytest.mark.nb03_convolution
def test_parameter_count_112():
    # the slides, "Multiple Kernels": four 3x3 kernels over 3 input channels, with biases:
    # (3 * 3 * 3 + 1) * 4 = 112, and as many output channels as kernels
    layer = c.Conv2d(3, 4, 3, rng=0)
    assert sum(p.data.size for p in layer.parameters()) == 112
    assert layer.forward(np.zeros((1, 3, 5, 5))).shape[1] == 4


@pytest.mark.nb03_convolution
@pytest.mark.parametrize("h,k", [(5, 3), (7, 3), (32, 5), (6, 1)])
def test_valid_output_size_is_h_minus_k_plus_one(h, k):
    # "Valid Convolution": the output is (H - k1 + 1) x (W - k2 + 1)
    assert c.conv_output_size(h, k) == h - k + 1
    out, _ = c.conv2d_forward(np.ones((1, 1, h, h + 1)), np.ones((1, 1, k, k)), np.zeros(1))
    assert out.shape[2:] == (h - k + 1, h + 1 - k + 1)


@pytest.mark.nb03_convolution
def test_stride_3_on_5x5_with_a_3x3_kernel_never_reads_the_last_pixels():
    # "Stride": "some combinations are not going to be valid ... a stride of 3 for 5x5 input
    # with a 3 by 3 kernel." Frameworks take the floor: one position per axis, and the
    # last two rows and columns are dropped, so changing them changes nothing.
    assert c.conv_output_size(5, 3, stride=3) == 1
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    changed = x.copy()
    changed[..., 3:, :] = changed[..., :, 3:] = -100.0
    w, b = np.ones((1, 1, 3, 3)), np.zeros(1)
    out, _ = c.conv2d_forward(x, w, b, stride=3)
    assert out.shape == (1, 1, 1, 1) and out.item() == x[0, 0, :3, :3].sum()
    np.testing.assert_array_equal(c.conv2d_forward(changed, w, b, stride=3)[0], out)


@pytest.mark.nb04_pooling
def test_max_200_and_average_90_of_the_patch():
    # pooling: "max(X(0:2,0:2)) = 200" and "avg(X(0:2,0:2)) = ... = 90"
    x = PATCH[None, None]
    assert c.maxpool2d_forward(x, 3)[0].item() == 200.0
    assert c.avgpool2d_forward(x, 3)[0].item() == 90.0
