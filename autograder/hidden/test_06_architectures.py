"""Hidden tests for 06_architectures: layer accounting, residual and Inception blocks.

Every ``student.<name>(...)`` call runs in the sandbox; expected values come from the
reference ``cnnlib`` in this (trusted) process, from real modules (``model_table``) and from
numerical gradients of the student's own forward pass. When a result is wrong, the usual
wrong versions (bias left out, fc input not flattened, skip missing, ReLU before the
addition, branches swapped, dx of one branch) are computed here to name the misconception.
Random inputs come from the run's seed (``_checks.rng``), drawn so that no ReLU input sits
near its kink at 0 (``_checks.redraw``); messages never print them nor an expected value.
"""

from __future__ import annotations

import numpy as np
import pytest
from _checks import as_float, batched_gradient, close, redraw, rng

import cnnlib

pytestmark = pytest.mark.a3_cnns


def _forward(student, name, *args):
    result = getattr(student, name)(*args)
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        f"{name} should return a pair (out, cache); got {type(result).__name__}")
    return as_float(result[0]), result[1]


def _grads(result, names: tuple[str, ...], what: str) -> list[np.ndarray]:
    assert isinstance(result, (tuple, list)) and len(result) == len(names), (
        f"{what} should return {len(names)} gradients ({', '.join(names)}); got "
        + (f"{len(result)} values" if isinstance(result, (tuple, list))
           else type(result).__name__))
    return [as_float(g) for g in result]


# --------------------------------------------------------------------------------------
# layer_table
# --------------------------------------------------------------------------------------

ALEXNET = [  # one-tower AlexNet (as in most re-implementations), 227x227 input
    ("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2),
    ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2),
    ("conv", 384, 3, 1, 1), ("relu",), ("conv", 384, 3, 1, 1), ("relu",),
    ("conv", 256, 3, 1, 1), ("relu",), ("pool", 3, 2),
    ("fc", 4096), ("relu",), ("fc", 4096), ("relu",), ("fc", 1000),
]
VGG16 = []
for _channels, _repeats in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
    VGG16 += [("conv", _channels, 3, 1, 1), ("relu",)] * _repeats + [("pool", 2, 2)]
VGG16 += [("fc", 4096), ("relu",), ("fc", 4096), ("relu",), ("fc", 1000)]


def _student_rows(student, input_shape, layers) -> list[dict]:
    rows = student.layer_table(input_shape, layers)
    assert isinstance(rows, (list, tuple)), (
        f"layer_table should return a list of dicts; got {type(rows).__name__}")
    assert len(rows) == len(layers), (
        f"{len(rows)} rows for {len(layers)} layers: one row per layer, relu and pool included")
    for i, row in enumerate(rows):
        assert isinstance(row, dict), f"row {i} is a {type(row).__name__}, expected a dict"
        missing = {"layer", "output_shape", "params", "activations"} - set(row)
        assert not missing, f"row {i} lacks the key(s) {sorted(missing)}"
    return list(rows)


def _param_hint(spec, shape_in, got: int) -> str:
    """Name the misconception behind a wrong parameter count, if it is a usual one."""
    if spec[0] == "conv":
        _, f, k, _, _ = spec
        c = shape_in[0]
        if got == k * k * c * f:
            return "the biases are not counted (one per kernel: + filters)"
        if got == (k * k + 1) * f:
            return "each kernel is as deep as its input: k * k * C_in weights, not k * k"
        if got == k * k * c + 1:
            return "that is one kernel: multiply by the number of filters"
        if got == (k * k * f + 1) * c:
            return "input and output channels are swapped: (k * k * C_in + 1) * filters"
    if spec[0] == "fc":
        out = spec[1]
        flat = int(np.prod(shape_in))
        if got == flat * out:
            return "the fc biases are not counted: (in + 1) * out"
        if got == (shape_in[0] + 1) * out:
            return "the fc input is not flattened: in = C * H * W of the previous output"
    if spec[0] in ("pool", "relu") and got != 0:
        return f"{spec[0]} has no learned parameters"
    return ""


def _compare_tables(student, input_shape, layers, what: str) -> None:
    expected = cnnlib.layer_table(input_shape, layers)
    rows = _student_rows(student, input_shape, layers)
    shape_in = tuple(input_shape)
    for i, (spec, row, ref) in enumerate(zip(layers, rows, expected, strict=True)):
        where = f"{what}, layer {i} {spec}"
        got_shape = tuple(int(s) for s in np.atleast_1d(as_float(row["output_shape"])))
        if got_shape != ref["output_shape"]:
            hint = ""
            if len(ref["output_shape"]) == 3 and got_shape == (*ref["output_shape"][1:],
                                                               ref["output_shape"][0]):
                hint = ": shapes are channels first, (C, H, W)"
            elif spec[0] == "conv" and spec[4] and got_shape == (
                    spec[1], *((d - spec[2]) // spec[3] + 1 for d in shape_in[1:])):
                hint = ": the padding is not applied (H + 2 * pad - kernel)"
            elif spec[0] in ("conv", "pool") and spec[-1] != 1 and len(shape_in) == 3:
                hint = ": is the stride used? (H + 2 pad - kernel) // stride + 1"
            raise AssertionError(
                f"{where}: your output_shape {got_shape} is wrong"
                + (hint or ": (C, H, W) with (H + 2 pad - kernel) // stride + 1 for conv and "
                   "pool, (out,) for fc"))
        params = row["params"]
        assert float(params) == ref["params"], (
            f"{where}: your params {params} are wrong: "
            + (_param_hint(spec, shape_in, int(params)) or "conv (kernel * kernel * C_in + 1) "
               "* filters, fc (in + 1) * out, none for relu and pool"))
        assert float(row["activations"]) == ref["activations"], (
            f"{where}: your activations {row['activations']} are wrong: the number of values "
            "in this layer's output, for one example")
        shape_in = ref["output_shape"]


@pytest.mark.grade(grade_id="test_layer_table", points=1)
def test_layer_table_matches_real_modules(student):
    nets = [
        ((1, 8, 8), [("conv", 4, 3, 1, 1), ("relu",), ("pool", 2, 2), ("fc", 10)]),
        ((3, 12, 10), [("conv", 5, 3, 1, 0), ("relu",), ("conv", 2, 5, 1, 2), ("pool", 2, 2),
                       ("fc", 7), ("relu",), ("fc", 3)]),
        ((2, 9, 9), [("conv", 3, 3, 2, 0), ("conv", 6, 1, 1, 0), ("fc", 4)]),
        ((1, 1, 1), [("conv", 1, 1, 1, 0), ("fc", 1)]),
        ((4, 6, 14), [("conv", 2, 3, 1, 1), ("pool", 3, 3), ("relu",), ("fc", 5)]),
    ]
    for input_shape, layers in nets:
        _compare_tables(student, input_shape, layers, f"input {input_shape}")
        # independent check: the same network built from modules, measured by running it
        modules, c = [], input_shape[0]
        for spec in layers:
            if spec[0] == "fc":
                break  # the modules measure the feature extractor; fc rows are checked above
            if spec[0] == "conv":
                modules.append(cnnlib.Conv2d(c, spec[1], spec[2], stride=spec[3], pad=spec[4]))
                c = spec[1]
            elif spec[0] == "pool":
                modules.append(cnnlib.MaxPool2d(spec[1], spec[2]))
            elif spec[0] == "relu":
                modules.append(cnnlib.ReLU())
        measured = cnnlib.model_table(cnnlib.Sequential(*modules), input_shape) if modules else []
        rows = _student_rows(student, input_shape, layers)
        for i, (row, real) in enumerate(zip(rows, measured, strict=False)):
            assert int(row["params"]) == real["params"], (
                f"input {input_shape}, layer {i}: your params {row['params']} are not what "
                "the real module of that layer holds")


@pytest.mark.grade(grade_id="test_layer_table", points=1)
def test_layer_table_of_alexnet_and_vgg16(student):
    _compare_tables(student, (3, 227, 227), ALEXNET, "AlexNet")
    _compare_tables(student, (3, 224, 224), VGG16, "VGG-16")
    total = sum(int(r["params"]) for r in _student_rows(student, (3, 224, 224), VGG16))
    assert total == 138_357_544, (
        f"your VGG-16 table totals {total:,} parameters, not the published count")


@pytest.mark.grade(grade_id="test_layer_table", points=0.5)
def test_layer_table_pooling_strides_and_fc_stacks(student):
    _compare_tables(student, (3, 13, 11), [("pool", 3, 2), ("relu",), ("pool", 2, 1),
                                           ("fc", 6), ("fc", 6), ("relu",), ("fc", 2)],
                    "overlapping pools then three fc layers")
    _compare_tables(student, (1, 5, 7), [("conv", 8, 5, 1, 2), ("conv", 1, 3, 3, 1)],
                    "pad 2 and stride 3 on a non-square input")


@pytest.mark.grade(grade_id="test_layer_table", points=0.5)
def test_layer_table_returns_ints_and_tuples(student):
    rows = _student_rows(student, (3, 8, 8), [("conv", 4, 3, 1, 0), ("pool", 2, 1), ("fc", 2)])
    for i, row in enumerate(rows):
        assert isinstance(row["layer"], str), f"row {i}: 'layer' should be a str"
        assert isinstance(row["output_shape"], (tuple, list)), (
            f"row {i}: output_shape should be a tuple of ints, got "
            f"{type(row['output_shape']).__name__}")
        for key in ("params", "activations"):
            assert isinstance(row[key], int) and not isinstance(row[key], bool), (
                f"row {i}: {key} should be an int, got {type(row[key]).__name__} "
                "(counts are whole numbers: convert with int(...))")
    empty = student.layer_table((3, 8, 8), [])
    assert list(empty) == [], "no layers: an empty list"


# --------------------------------------------------------------------------------------
# residual block
# --------------------------------------------------------------------------------------

def _away_from_kinks(inputs, margin: float) -> bool:
    """Every ReLU input at least ``margin`` (relative to its scale) away from 0."""
    return all(np.min(np.abs(z), initial=np.inf) >= margin * max(1.0, np.max(np.abs(z)))
               for z in inputs)


def _residual_inputs(args):
    """The inputs of the block's two ReLUs: conv1's output, and F(x) + x."""
    x, w1, b1, w2, b2 = args
    z = cnnlib.conv2d_forward(x, w1, b1, pad=1)[0]
    return [z, cnnlib.conv2d_forward(np.maximum(z, 0), w2, b2, pad=1)[0] + x]


def _residual_case(gen, shape, scale=1.0, margin=1e-6):
    """x, w1, b1, w2, b2 with no ReLU input within ``margin`` of 0 (1e-6: the masks cannot
    depend on rounding; 1e-2: centered differences never cross a kink), and the final ReLU
    both open and closed somewhere (so that a gradient that skips it shows)."""
    n, c, h, w = shape

    def make():
        x = scale * gen.normal(size=shape)
        return [x, 0.4 * gen.normal(size=(c, c, 3, 3)), gen.normal(size=c),
                0.4 * gen.normal(size=(c, c, 3, 3)), gen.normal(size=c)]

    def good(args):
        inputs = _residual_inputs(args)
        return _away_from_kinks(inputs, margin) and np.any(inputs[1] > 0) and np.any(
            inputs[1] < 0)

    return redraw(make, good)


RESIDUAL_SHAPES = [(2, 3, 5, 4), (1, 1, 3, 3), (3, 2, 4, 7), (1, 4, 1, 6), (2, 1, 6, 2)]


def _residual_hint(args, out) -> str:
    x, w1, b1, w2, b2 = args
    h = np.maximum(cnnlib.conv2d_forward(x, w1, b1, pad=1)[0], 0)
    f = cnnlib.conv2d_forward(h, w2, b2, pad=1)[0]
    if close(out, np.maximum(f, 0)):
        return "the skip connection is missing: out = relu(F(x) + x)"
    if close(out, np.maximum(f, 0) + x):
        return "the ReLU is applied before the addition; it comes after: relu(F(x) + x)"
    if close(out, f + x):
        return "the final ReLU (after the addition) is missing"
    if close(out, np.maximum(cnnlib.conv2d_forward(x, w1, b1, pad=1)[0] + x, 0)):
        return "only the first convolution is used: F(x) = conv(relu(conv(x, w1, b1)), w2, b2)"
    if close(out, np.maximum(cnnlib.conv2d_forward(
            cnnlib.conv2d_forward(x, w1, b1, pad=1)[0], w2, b2, pad=1)[0] + x, 0)):
        return "the ReLU between the two convolutions is missing"
    return "compare with relu(conv(relu(conv(x, w1, b1, pad=1)), w2, b2, pad=1) + x)"


@pytest.mark.grade(grade_id="test_residual_forward", points=1.5)
def test_residual_forward_matches_reference(student):
    gen = rng(60)
    for shape in RESIDUAL_SHAPES:
        for scale in (1.0, 1e3):
            args = _residual_case(gen, shape, scale)
            expected = cnnlib.residual_forward(*args)[0]
            out, _ = _forward(student, "residual_forward", *args)
            assert out.shape == expected.shape, (
                f"x {shape}: out has shape {out.shape}, expected {expected.shape} "
                "(3x3 convolutions with pad=1 and stride 1 keep the shape)")
            assert close(out, expected), f"x {shape}, |x| ~ {scale:g}: {_residual_hint(args, out)}"


@pytest.mark.grade(grade_id="test_residual_forward", points=0.5)
def test_residual_forward_with_zero_weights_is_relu_of_x(student):
    x = rng(66).normal(size=(2, 3, 4, 5))
    zw, zb = np.zeros((3, 3, 3, 3)), np.zeros(3)
    out, _ = _forward(student, "residual_forward", x, zw, zb, zw, zb)
    assert close(out, np.maximum(x, 0)), (
        "with all weights and biases zero, F(x) = 0 and the block must return relu(x): "
        + ("the skip connection is missing" if close(out, 0 * x) else
           "is the ReLU applied after adding x?"))


def _residual_backward(student, args, dout):
    _, cache = _forward(student, "residual_forward", *args)
    return _grads(student.residual_backward(dout, cache),
                  ("dx", "dw1", "db1", "dw2", "db2"), "residual_backward")


@pytest.mark.grade(grade_id="test_residual_backward", points=1.5)
def test_residual_backward_matches_reference(student):
    names = ("dx", "dw1", "db1", "dw2", "db2")
    gen = rng(75)
    for shape in RESIDUAL_SHAPES:
        args = _residual_case(gen, shape)
        out, cache = cnnlib.residual_forward(*args)
        # some gradient passes the final ReLU and some is stopped by it, so that a missing
        # skip gradient and one that skips the ReLU both show
        dout = redraw(lambda out=out: gen.normal(size=out.shape),
                      lambda d, out=out: min(np.abs(d * (out > 0)).max(),
                                             np.abs(d * (out <= 0)).max()) > 0.1)
        expected = cnnlib.residual_backward(dout, cache)
        got = _residual_backward(student, args, dout)
        for name, g, inp in zip(names, got, args, strict=True):
            assert g.shape == inp.shape, (
                f"x {shape}: {name} has shape {g.shape}, expected {inp.shape}")
        ds = dout * (out > 0)
        if not close(got[0], expected[0]):
            if close(got[0], expected[0] - ds):
                raise AssertionError(f"x {shape}: dx is only the gradient through the "
                                     "convolutions; the skip's gradient is missing "
                                     "(dx = dx_through_F + dL/ds)")
            if close(got[0], expected[0] - ds + dout):
                raise AssertionError(f"x {shape}: the skip passes dout to dx; it joins before "
                                     "the last ReLU, so it carries dL/ds = dout * (s > 0)")
        for name, g, e in zip(names, got, expected, strict=True):
            assert close(g, e, 1e-6), f"x {shape}: {name} differs from the reference"


@pytest.mark.grade(grade_id="test_residual_backward", points=1)
def test_residual_backward_agrees_with_numerical_gradient_of_your_forward(student):
    gen = rng(103)
    args = _residual_case(gen, (1, 2, 4, 3), margin=1e-2)
    dout = gen.normal(size=args[0].shape)
    got = _residual_backward(student, args, dout)
    for i, name in enumerate(("dx", "dw1", "db1", "dw2", "db2")):
        def f(points, i=i):  # one round trip to the sandbox for every nudged input
            calls = [((*args[:i], p, *args[i + 1:]), {}) for p in points]
            return student.residual_forward.map(calls, pick=0)
        numeric = batched_gradient(f, args[i], dout)
        assert close(got[i], numeric, 1e-6), (
            f"{name} does not match the numerical gradient of your own residual_forward: the "
            "backward pass must differentiate what the forward computes")


@pytest.mark.grade(grade_id="test_residual_backward", points=0.5)
def test_residual_skip_is_a_gradient_highway(student):
    gen = rng(108)
    x = gen.normal(size=(1, 2, 3, 4))
    zw, zb = np.zeros((2, 2, 3, 3)), np.zeros(2)
    dout = gen.normal(size=x.shape)
    dx = _residual_backward(student, [x, zw, zb, zw, zb], dout)[0]
    assert close(dx, dout * (x > 0)), (
        "with zero weights nothing flows through the convolutions: dx must be the skip's "
        "gradient dout * (x > 0)"
        + ("; yours is zero, so the skip's gradient is missing" if close(dx, 0 * x) else ""))


# --------------------------------------------------------------------------------------
# Inception block
# --------------------------------------------------------------------------------------

def _inception_case(gen, shape, filters, scale=1.0, margin=1e-6):
    """x, w1, b1, w3, b3, w5, b5 with no branch's ReLU input within ``margin`` of 0 and
    every branch with some active unit."""
    c = shape[1]

    def make():
        args = [scale * gen.normal(size=shape)]
        for f, k in zip(filters, (1, 3, 5), strict=True):
            args += [gen.normal(size=(f, c, k, k)), gen.normal(size=f)]
        return args

    def good(args):
        inputs = [cnnlib.conv2d_forward(args[0], args[1 + 2 * i], args[2 + 2 * i], pad=p)[0]
                  for i, p in enumerate((0, 1, 2))]
        return _away_from_kinks(inputs, margin) and all(np.any(z > 0) for z in inputs)

    return redraw(make, good)


INCEPTION_CASES = [((2, 3, 5, 6), (2, 4, 1)), ((1, 1, 3, 3), (1, 1, 1)),
                   ((2, 2, 6, 4), (3, 2, 2)), ((1, 3, 1, 1), (2, 1, 3)),
                   ((3, 1, 2, 7), (1, 3, 2))]


def _branches(args):
    x = args[0]
    return [np.maximum(cnnlib.conv2d_forward(x, args[1 + 2 * i], args[2 + 2 * i], pad=p)[0], 0)
            for i, p in enumerate((0, 1, 2))]


def _inception_hint(args, out) -> str:
    branches = _branches(args)
    x = args[0]
    raw = [cnnlib.conv2d_forward(x, args[1 + 2 * i], args[2 + 2 * i], pad=p)[0]
           for i, p in enumerate((0, 1, 2))]
    if close(out, np.concatenate(raw, axis=1)):
        return "the ReLU after each branch's convolution is missing"
    for order in ((0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        if close(out, np.concatenate([branches[i] for i in order], axis=1)):
            return "the branches are concatenated in the wrong order: 1x1, then 3x3, then 5x5"
    return "compare with concatenate([relu(conv 1x1), relu(conv 3x3, pad 1), " \
           "relu(conv 5x5, pad 2)], axis=1)"


@pytest.mark.grade(grade_id="test_inception_forward", points=1.5)
def test_inception_forward_matches_reference(student):
    gen = rng(80)
    for shape, filters in INCEPTION_CASES:
        args = _inception_case(gen, shape, filters)
        expected = cnnlib.inception_forward(*args)[0]
        out, _ = _forward(student, "inception_forward", *args)
        if out.shape != expected.shape:
            hint = ""
            if out.ndim == 4 and out.shape[1] == expected.shape[1] and out.shape[2:] != shape[2:]:
                hint = ": every branch must keep H x W (pad 0, 1 and 2 for 1x1, 3x3, 5x5)"
            elif out.ndim == 4 and out.shape[0] != shape[0]:
                hint = ": concatenate along the channels (axis 1), not the batch"
            raise AssertionError(f"x {shape}, filters {filters}: out has shape {out.shape}, "
                                 f"expected {expected.shape}{hint}")
        assert close(out, expected), f"x {shape}, filters {filters}: {_inception_hint(args, out)}"


@pytest.mark.grade(grade_id="test_inception_forward", points=0.5)
def test_inception_forward_large_inputs(student):
    args = _inception_case(rng(88), (2, 2, 4, 4), (1, 2, 1), scale=1e4)
    out, _ = _forward(student, "inception_forward", *args)
    assert close(out, cnnlib.inception_forward(*args)[0]), (
        f"inputs of size ~1e4: {_inception_hint(args, out)}")


def _inception_backward(student, args, dout):
    _, cache = _forward(student, "inception_forward", *args)
    return _grads(student.inception_backward(dout, cache),
                  ("dx", "dw1", "db1", "dw3", "db3", "dw5", "db5"), "inception_backward")


@pytest.mark.grade(grade_id="test_inception_backward", points=1.5)
def test_inception_backward_matches_reference(student):
    names = ("dx", "dw1", "db1", "dw3", "db3", "dw5", "db5")
    gen = rng(90)
    for shape, filters in INCEPTION_CASES:
        args = _inception_case(gen, shape, filters)
        out, cache = cnnlib.inception_forward(*args)
        dout = gen.normal(size=out.shape)
        expected = cnnlib.inception_backward(dout, cache)
        got = _inception_backward(student, args, dout)
        for name, g, inp in zip(names, got, args, strict=True):
            assert g.shape == inp.shape, (
                f"x {shape}, filters {filters}: {name} has shape {g.shape}, expected {inp.shape}")
        # dx through each branch alone: did the student return just one of them?
        start = 0
        for i, (f, p) in enumerate(zip(filters, (0, 1, 2), strict=True)):
            z, conv_cache = cnnlib.conv2d_forward(args[0], args[1 + 2 * i], args[2 + 2 * i], pad=p)
            part = cnnlib.conv2d_backward(dout[:, start:start + f] * (z > 0), conv_cache)[0]
            start += f
            if not close(got[0], expected[0]) and close(got[0], part):
                raise AssertionError(
                    f"x {shape}: dx is the gradient of the {(1, 3, 5)[i]}x{(1, 3, 5)[i]} branch "
                    "only; x feeds all three branches, so dx is the sum of their gradients")
        for name, g, e in zip(names, got, expected, strict=True):
            assert close(g, e, 1e-6), (
                f"x {shape}, filters {filters}: {name} differs from the reference; does each "
                "branch get its own slice of dout (channels in the order 1x1, 3x3, 5x5)?")


@pytest.mark.grade(grade_id="test_inception_backward", points=1)
def test_inception_backward_agrees_with_numerical_gradient_of_your_forward(student):
    gen = rng(104)
    args = _inception_case(gen, (1, 2, 4, 3), (1, 2, 1), margin=1e-2)
    out = cnnlib.inception_forward(*args)[0]
    dout = gen.normal(size=out.shape)
    got = _inception_backward(student, args, dout)
    for i, name in enumerate(("dx", "dw1", "db1", "dw3", "db3", "dw5", "db5")):
        def f(points, i=i):  # one round trip to the sandbox for every nudged input
            calls = [((*args[:i], p, *args[i + 1:]), {}) for p in points]
            return student.inception_forward.map(calls, pick=0)
        numeric = batched_gradient(f, args[i], dout)
        assert close(got[i], numeric, 1e-6), (
            f"{name} does not match the numerical gradient of your own inception_forward: the "
            "backward pass must differentiate what the forward computes")


@pytest.mark.grade(grade_id="test_inception_backward", points=0.5)
def test_inception_dx_sums_the_branches(student):
    # with dout non-zero on one branch's channels only, dx comes from that branch alone
    gen = rng(111)
    args = _inception_case(gen, (1, 2, 4, 4), (1, 1, 1))
    out = cnnlib.inception_forward(*args)[0]
    dout_all = gen.normal(size=out.shape)
    total = 0
    for channel in range(3):
        dout = np.zeros_like(dout_all)
        dout[:, channel] = dout_all[:, channel]
        total = total + _inception_backward(student, args, dout)[0]
    dx = _inception_backward(student, args, dout_all)[0]
    assert close(dx, total), (
        "dx for the full dout is not the sum of the branches' dx: x feeds the three branches, "
        "and its gradient adds them up")
    expected = cnnlib.inception_backward(dout_all, cnnlib.inception_forward(*args)[1])[0]
    assert close(dx, expected), (
        "dx differs from the sum of the three branches' input gradients: check each branch's "
        "slice of dout (1x1, then 3x3, then 5x5) and its ReLU mask")
