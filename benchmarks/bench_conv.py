"""Speed of cnnlib's vectorized conv and max-pool against PyTorch CPU, and naive vs vectorized.

    python benchmarks/bench_conv.py

Prints, for float32 x (64, 16, 32, 32), w (32, 16, 3, 3), pad 1: forward+backward time,
GFLOP/s and the ratio to torch.nn.functional.conv2d (both on 2 threads, one run, best of
several repeats), the same for 2x2 max-pool, and the naive/vectorized speedup on the
CS231n timing shape. Torch is optional: `pip install torch==2.13.0` on the side.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE slow numpy on these machines; this script re-executes
itself with both unset (for its own process only) and says so.
"""

from __future__ import annotations

import os
import sys
import time

_SLOW = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _SLOW) and "--keep-env" not in sys.argv:
    env = {k: v for k, v in os.environ.items() if k not in _SLOW}
    env.update(OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    os.execve(sys.executable, [sys.executable, *sys.argv, "--unset-note"], env)

import numpy as np  # noqa: E402

import cnnlib as c  # noqa: E402


def best_of(fn, repeats: int = 7) -> float:
    fn()  # warm up caches and allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def blas_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return ", ".join(f"{i['internal_api']} {i.get('architecture')} "
                         f"{i['num_threads']} threads" for i in info)
    except ImportError:
        return "unknown (threadpoolctl missing)"


def main() -> None:
    if "--unset-note" in sys.argv:
        print("note: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for this benchmark only")
    print(f"numpy {np.__version__}, BLAS: {blas_kernel()}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16, 32, 32)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    dout = rng.standard_normal((64, 32, 32, 32)).astype(np.float32)
    flops = 3 * 2 * 64 * 32 * 16 * 9 * 32 * 32  # forward + two backward products

    def ours_conv():
        out, cache = c.conv2d_forward(x, w, b, pad=1)
        c.conv2d_backward(dout, cache)

    pool_dout = rng.standard_normal((64, 16, 16, 16)).astype(np.float32)

    def ours_pool():
        out, cache = c.maxpool2d_forward(x, 2)
        c.maxpool2d_backward(pool_dout, cache)

    t_conv, t_pool = best_of(ours_conv), best_of(ours_pool)
    print(f"cnnlib conv2d fwd+bwd: {t_conv * 1e3:7.1f} ms  {flops / t_conv / 1e9:5.1f} GFLOP/s")
    print(f"cnnlib maxpool2x2 fwd+bwd: {t_pool * 1e3:7.1f} ms")
    try:
        import torch
    except ImportError:
        print("torch not installed: skipping the PyTorch comparison "
              "(pip install torch==2.13.0 to include it)")
    else:
        torch.set_num_threads(2)
        tx = torch.from_numpy(x).requires_grad_()
        tw = torch.from_numpy(w).requires_grad_()
        tb = torch.from_numpy(b).requires_grad_()
        tdout, tpool = torch.from_numpy(dout), torch.from_numpy(pool_dout)

        def torch_conv():
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tdout)

        def torch_pool():
            tx.grad = None
            torch.nn.functional.max_pool2d(tx, 2).backward(tpool)

        tt_conv, tt_pool = best_of(torch_conv), best_of(torch_pool)
        print(f"torch {torch.__version__} conv2d fwd+bwd: {tt_conv * 1e3:7.1f} ms  "
              f"{flops / tt_conv / 1e9:5.1f} GFLOP/s  (2 threads)")
        print(f"torch maxpool2x2 fwd+bwd: {tt_pool * 1e3:7.1f} ms")
        print(f"ratio cnnlib/torch: conv {t_conv / tt_conv:.2f}x, maxpool {t_pool / tt_pool:.2f}x"
              "  (target: within 2x)")

    xs = rng.standard_normal((100, 3, 31, 31))
    ws = rng.standard_normal((25, 3, 3, 3))
    bs = rng.standard_normal(25)
    ds = rng.standard_normal((100, 25, 16, 16))

    def naive():
        _, cache = c.conv2d_forward_naive(xs, ws, bs, stride=2, pad=1)
        c.conv2d_backward_naive(ds, cache)

    def fast():
        _, cache = c.conv2d_forward(xs, ws, bs, stride=2, pad=1)
        c.conv2d_backward(ds, cache)

    t_naive, t_fast = best_of(naive, 1), best_of(fast)
    print(f"CS231n shape x (100,3,31,31) w (25,3,3,3) stride 2 pad 1, fwd+bwd float64: "
          f"naive {t_naive:.2f} s, vectorized {t_fast * 1e3:.1f} ms, "
          f"speedup {t_naive / t_fast:.0f}x")


if __name__ == "__main__":
    main()
