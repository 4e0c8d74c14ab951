"""cnnlib.fast_layers: equal to the teaching layers on random shapes, caches shared with
them, safe from two threads and after a fork, nothing kept between calls, and every body
a solution region (the student edition must stub the fast path with the teaching one)."""

import ast
import os
import signal
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from strategies import conv_problems, pool_problems

import cnnlib as c
from cnnlib import fast_layers

pytestmark = pytest.mark.nb03_convolution

CLOSE = {"rtol": 1e-10, "atol": 1e-12}


def _conv_pair(p):
    """(teaching, fast) outputs and gradients of one conv problem, crossing the caches."""
    out, cache = c.conv2d_forward(p.x, p.w, p.b, stride=p.stride, pad=p.pad)
    fast_out, fast_cache = c.conv2d_forward_fast(p.x, p.w, p.b, stride=p.stride, pad=p.pad)
    dout = p.dout(out.shape)
    return (out, c.conv2d_backward(dout, cache)), (fast_out, c.conv2d_backward_fast(
        dout, fast_cache)), (cache, fast_cache, dout)


@given(conv_problems(max_batch=3))
def test_fast_conv_equals_the_teaching_conv(problem):
    (out, grads), (fast_out, fast_grads), _ = _conv_pair(problem)
    assert fast_out.shape == out.shape
    np.testing.assert_allclose(fast_out, out, **CLOSE)
    for name, got, want in zip(["dx", "dw", "db"], fast_grads, grads, strict=True):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, err_msg=name, **CLOSE)


@given(conv_problems(max_batch=2))
def test_conv_caches_are_one_layout(problem):
    (_, grads), _, (cache, fast_cache, dout) = _conv_pair(problem)
    assert len(cache) == len(fast_cache) == 5
    assert all(a is b for a, b in zip(cache[:3], fast_cache[:3], strict=True))
    for got in (c.conv2d_backward_fast(dout, cache), c.conv2d_backward(dout, fast_cache),
                c.conv2d_backward_naive(dout, fast_cache)):
        for g, want in zip(got, grads, strict=True):
            np.testing.assert_allclose(g, want, **CLOSE)


@pytest.fixture
def small_blocks_in_parallel(monkeypatch):
    """Blocks of one or two images, split over two workers even for tiny inputs."""
    monkeypatch.setattr(fast_layers, "_BLOCK_BYTES", 3000)
    monkeypatch.setattr(fast_layers, "_PARALLEL_BYTES", 0)
    monkeypatch.setattr(fast_layers, "copy_workers", lambda: 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,pad", [(1, 1), (2, 1), ((1, 2), (0, 2))])
def test_many_blocks_over_two_workers_give_the_same_answer(small_blocks_in_parallel, dtype,
                                                           stride, pad):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 3, 9, 8))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out, cache = c.conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    grads = c.conv2d_backward(dout, cache)
    fast_out, fast_cache = c.conv2d_forward_fast(*(a.astype(dtype) for a in (x, w, b)),
                                                 stride=stride, pad=pad)
    fast_grads = c.conv2d_backward_fast(dout.astype(dtype), fast_cache)
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else CLOSE
    assert fast_out.dtype == dtype and all(g.dtype == dtype for g in fast_grads)
    np.testing.assert_allclose(fast_out, out, **tol)
    for got, want in zip(fast_grads, grads, strict=True):
        np.testing.assert_allclose(got, want, **tol)


@given(pool_problems(ties=True))
def test_fast_pools_equal_the_teaching_pools_with_ties(problem):
    p = problem
    pools = [(c.maxpool2d_forward, c.maxpool2d_backward, c.maxpool2d_forward_fast,
              c.maxpool2d_backward_fast),
             (c.avgpool2d_forward, c.avgpool2d_backward, c.avgpool2d_forward_fast,
              c.avgpool2d_backward_fast)]
    for forward, backward, fast_forward, fast_backward in pools:
        out, cache = forward(p.x, p.kernel_size, p.stride)
        fast_out, fast_cache = fast_forward(p.x, p.kernel_size, p.stride)
        np.testing.assert_allclose(fast_out, out, **CLOSE)
        dout = p.rng.standard_normal(out.shape)
        want = backward(dout, cache)
        for got in (fast_backward(dout, fast_cache), fast_backward(dout, cache),
                    backward(dout, fast_cache)):
            np.testing.assert_allclose(got, want, **CLOSE)


def test_fast_maxpool_routes_a_nan_like_argmax():
    x = np.array([[[[1.0, np.nan, 5.0, 2.0],
                    [np.nan, 0.0, 5.0, 5.0]]]])
    out, cache = c.maxpool2d_forward_fast(x, 2)
    np.testing.assert_array_equal(np.isnan(out), [[[[True, False]]]])
    dx = c.maxpool2d_backward_fast(np.array([[[[3.0, 7.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 3.0, 7.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def _benchmark_shape(dtype=np.float32, n=16):
    rng = np.random.default_rng(2)
    return (rng.standard_normal((n, 16, 16, 16)).astype(dtype),
            rng.standard_normal((8, 16, 3, 3)).astype(dtype),
            rng.standard_normal(8).astype(dtype))


def test_two_threads_at_once_get_their_own_answers():
    problems = [_benchmark_shape(n=12), tuple(a * -0.5 for a in _benchmark_shape(n=12))]
    expected = [c.conv2d_forward_fast(*p, pad=1)[0] for p in problems]
    start = threading.Barrier(2, timeout=10)
    results, errors = [None, None], []

    def run(i):
        try:
            start.wait()
            for _ in range(5):
                out, cache = c.conv2d_forward_fast(*problems[i], pad=1)
                c.conv2d_backward_fast(np.ones_like(out), cache)
            results[i] = out
        except Exception as error:  # noqa: BLE001 - reported below, in the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_conv_leaves_blas_threads_alone_while_it_runs():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(2):
        blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
        if not blas.lib_controllers or blas.lib_controllers[0].num_threads != 2:
            pytest.skip("numpy's BLAS cannot be set to 2 threads here")
        seen, done = set(), threading.Event()

        def watch():
            while not done.is_set():
                seen.add(blas.lib_controllers[0].get_num_threads())

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            for _ in range(5):
                out, cache = c.conv2d_forward_fast(*_benchmark_shape(), pad=1)
                c.conv2d_backward_fast(out, cache)
        finally:
            done.set()
            watcher.join()
    assert seen == {2}, f"BLAS thread counts seen during a conv: {sorted(seen)}"


def test_a_child_forked_after_a_parallel_conv_can_run_one(small_blocks_in_parallel):
    problem = _benchmark_shape(n=6)
    expected = c.conv2d_forward_fast(*problem, pad=1)[0]  # the parent's pool now exists
    pid = os.fork()
    if pid == 0:  # the child: a hung pool would never answer; the alarm ends it
        code = 4  # an exception: never return into pytest's loop in a child
        try:
            signal.alarm(20)
            code = 0 if np.array_equal(c.conv2d_forward_fast(*problem, pad=1)[0], expected) else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (
        "the forked child's conv hung (killed by its alarm) or computed something else")


def test_nothing_is_kept_between_calls():
    problem = _benchmark_shape(n=16)
    out, cache = c.conv2d_forward_fast(*problem, pad=1)
    del out, cache
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2):
            out, cache = c.conv2d_forward_fast(*problem, pad=1)
            grads = c.conv2d_backward_fast(out, cache)
            pooled = c.maxpool2d_forward_fast(out, 2)
            del out, cache, grads, pooled
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 64 * 1024, f"{kept} bytes still allocated after the calls returned"


def test_every_function_of_the_fast_path_is_a_solution_region():
    source = Path(fast_layers.__file__).read_text()
    lines = [line.strip() for line in source.splitlines()]
    begins = [n for n, line in enumerate(lines, 1) if line == "# BEGIN SOLUTION a2_convolution"]
    ends = [n for n, line in enumerate(lines, 1) if line == "# END SOLUTION"]
    regions = list(zip(begins, ends, strict=True))
    outside = [node.name for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.FunctionDef)
               and not any(lo < node.body[-1].lineno < hi for lo, hi in regions)]
    assert regions and not outside, f"functions of fast_layers outside a region: {outside}"
