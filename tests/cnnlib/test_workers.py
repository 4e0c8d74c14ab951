"""cnnlib.workers: parts run at the same time and come back in order, the pool follows
BLAS's thread count without changing it, and a forked child gets a working pool."""

import os
import signal
import threading

import pytest

from cnnlib import workers

pytestmark = pytest.mark.nb03_convolution


def _two_blas_threads():
    """threadpool_limits(2), or a skip where numpy's BLAS cannot be set to 2 threads."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    limits = threadpoolctl.threadpool_limits(2)
    if workers.copy_workers() != 2:
        limits.restore_original_limits()
        pytest.skip("numpy's BLAS cannot be set to 2 threads here (threadpoolctl sees none)")
    return limits


def test_share_cuts_a_range_into_nearly_equal_parts():
    for count in range(0, 12):
        for parts in range(1, 5):
            pieces = [workers.share(count, part, parts) for part in range(parts)]
            assert pieces[0][0] == 0 and pieces[-1][1] == count
            assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
            sizes = [hi - lo for lo, hi in pieces]
            assert max(sizes) - min(sizes) <= 1


def test_parts_run_at_the_same_time_and_return_in_order():
    both_started = threading.Barrier(3, timeout=10)  # fails unless 3 parts run at once

    def task(part):
        both_started.wait()
        return part * 10

    assert workers.run_parallel(task, 3) == [0, 10, 20]


def test_an_exception_in_a_part_reaches_the_caller():
    def task(part):
        if part == 1:
            raise KeyError("part 1")
        return part

    with pytest.raises(KeyError, match="part 1"):
        workers.run_parallel(task, 2)


def test_copy_workers_follow_blas_threads_and_leave_them_alone():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    limits = _two_blas_threads()
    try:
        workers.run_parallel(lambda part: part, workers.copy_workers())
        blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        assert all(i["num_threads"] == 2 for i in blas)
        with threadpoolctl.threadpool_limits(1):
            assert workers.copy_workers() == 1
        assert workers.copy_workers() == 2
    finally:
        limits.restore_original_limits()


def test_a_child_forked_after_the_pool_started_gets_a_working_pool():
    workers.run_parallel(lambda part: part, 2)  # the parent's pool thread now exists
    pid = os.fork()
    if pid == 0:  # the child: a pool inherited from the parent would never run the part
        code = 4  # an exception: never return into pytest's loop in a child
        try:
            signal.alarm(20)
            code = 0 if workers.run_parallel(lambda part: part + 1, 2) == [1, 2] else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (
        "the forked child's parts hung (killed by its alarm) or came back wrong")
