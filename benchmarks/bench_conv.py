"""Speed of cnnlib's conv and max-pool, teaching and fast versions, against PyTorch CPU.

    python benchmarks/bench_conv.py [--rounds 3]

Prints, for float32 x (64, 16, 32, 32), w (32, 16, 3, 3), stride 1, pad 1: forward,
backward and forward+backward times and GFLOP/s (2*N*F*C*KH*KW*Ho*Wo per conv, three of
them for forward+backward) of the fast path (cnnlib.fast_layers, what the modules use), of
the teaching vectorized version (cnnlib.conv, im2col + one matmul) and of
torch.nn.functional.conv2d, with the ratios; where the fast path's time goes (its three
GEMMs timed alone, the rest is copies); the same for 2x2 max-pool; and the loops against
both vectorized versions on the CS231n timing shape x (100, 3, 31, 31), w (25, 3, 3, 3),
stride 2, pad 1 (float64).

Fairness: both libraries run on 2 threads (threadpoolctl for numpy's BLAS,
torch.set_num_threads(2)), each in its own child process, so one library's idle worker
threads never spin on the cores the other is timing. The children alternate (numpy, torch,
numpy, torch, ...) and each figure is the best over rounds and repeats, so a burst of load
from other processes hits both sides alike. Torch is optional: `pip install torch==2.13.0`
on the side (not a project dependency); without it the comparison is skipped.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE slow numpy on these machines; this script re-executes
itself with both unset (for its own processes only) and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

_SLOW = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREADS = 2
if any(v in os.environ for v in _SLOW) and "--side" not in sys.argv:
    env = {k: v for k, v in os.environ.items() if k not in _SLOW}
    env["CNNLIB_BENCH_UNSET"] = ",".join(v for v in _SLOW if v in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np  # noqa: E402

N, C, H, W, F, K = 64, 16, 32, 32, 32, 3
CONV_FLOPS = 2 * N * F * C * K * K * H * W  # one conv-sized product (stride 1, pad 1)


def best_of(fn, repeats: int = 7, warm: bool = True, clock=time.perf_counter) -> float:
    if warm:
        fn()  # warm up caches and the allocator
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def problem() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x": rng.standard_normal((N, C, H, W)).astype(np.float32),
        "w": rng.standard_normal((F, C, K, K)).astype(np.float32),
        "b": rng.standard_normal(F).astype(np.float32),
        "dout": rng.standard_normal((N, F, H, W)).astype(np.float32),
        "pool_dout": rng.standard_normal((N, C, H // 2, W // 2)).astype(np.float32),
    }


def gemm_time(x, w, dout, clock=time.perf_counter) -> float:
    """The fast path's three products alone, block by block as it runs them, on arrays
    already in place: the part of its time that is BLAS's."""
    from cnnlib import fast_layers

    grid = fast_layers._Grid(x.shape, w.shape, 1, 1)
    dtype = x.dtype
    f = w.shape[0]
    blocks, _ = grid.plan(x.shape[0], dtype.itemsize)
    widest = (blocks[0][1] - blocks[0][0]) * grid.cells
    rng = np.random.default_rng(3)
    cols = rng.standard_normal((grid.taps + 1, widest)).astype(dtype)
    on_grid = rng.standard_normal((f, widest)).astype(dtype)
    w_ext, w_cols = rng.standard_normal((f, grid.taps + 1)).astype(dtype), w.reshape(f, -1).T
    products, dcols = np.empty_like(on_grid), np.empty((grid.taps, widest), dtype)

    def all_three():
        for lo, hi in blocks:
            width = (hi - lo) * grid.cells
            np.matmul(w_ext, cols[:, :width], out=products[:, :width])
            cols[:, :width] @ on_grid[:, :width].T
            np.matmul(w_cols, on_grid[:, :width], out=dcols[:, :width])

    return best_of(all_three, clock=clock)


def side_numpy() -> dict:
    from threadpoolctl import threadpool_info, threadpool_limits

    import cnnlib as c

    threadpool_limits(THREADS)
    blas = [f"{i['internal_api']} {i.get('version')} kernel {i.get('architecture')}, "
            f"{i['num_threads']} threads"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    p = problem()
    x, w, b, dout, pool_dout = p["x"], p["w"], p["b"], p["dout"], p["pool_dout"]
    times = {"blas": "; ".join(blas) or "unknown", "numpy": np.__version__}
    for name, forward, backward in [
        ("fast", c.conv2d_forward_fast, c.conv2d_backward_fast),
        ("teach", c.conv2d_forward, c.conv2d_backward),
    ]:
        _, cache = forward(x, w, b, pad=1)
        repeats = 7 if name == "fast" else 3

        def both(forward=forward, backward=backward):
            _, cch = forward(x, w, b, pad=1)
            backward(dout, cch)

        times[f"{name}_fwd"] = best_of(lambda f=forward: f(x, w, b, pad=1), repeats)
        times[f"{name}_bwd"] = best_of(lambda g=backward, k=cache: g(dout, k), repeats)
        times[f"{name}_both"] = best_of(both, repeats)
    times["gemms"] = gemm_time(x, w, dout)
    # The same split in CPU seconds on one thread: what load from other processes on a
    # shared machine disturbs least.
    with threadpool_limits(1):
        def fast_both():
            _, cch = c.conv2d_forward_fast(x, w, b, pad=1)
            c.conv2d_backward_fast(dout, cch)

        times["cpu_both"] = best_of(fast_both, clock=time.process_time)
        times["cpu_gemms"] = gemm_time(x, w, dout, clock=time.process_time)
    _, pool_cache = c.maxpool2d_forward_fast(x, 2)

    def pool_both():
        _, cch = c.maxpool2d_forward_fast(x, 2)
        c.maxpool2d_backward_fast(pool_dout, cch)

    times["pool_fwd"] = best_of(lambda: c.maxpool2d_forward_fast(x, 2))
    times["pool_bwd"] = best_of(lambda: c.maxpool2d_backward_fast(pool_dout, pool_cache))
    times["pool_both"] = best_of(pool_both)
    return times


def side_torch() -> dict:
    import torch

    torch.set_num_threads(THREADS)
    p = {k: torch.from_numpy(v) for k, v in problem().items()}
    x = p["x"].clone().requires_grad_()
    w, b = p["w"].clone().requires_grad_(), p["b"].clone().requires_grad_()
    fn = torch.nn.functional

    def conv_fwd():
        with torch.no_grad():
            fn.conv2d(x, w, b, padding=1)

    def conv_both():
        x.grad = w.grad = b.grad = None
        fn.conv2d(x, w, b, padding=1).backward(p["dout"])

    def pool_fwd():
        with torch.no_grad():
            fn.max_pool2d(x, 2)

    def pool_both():
        x.grad = None
        fn.max_pool2d(x, 2).backward(p["pool_dout"])

    times = {"torch": torch.__version__, "conv_fwd": best_of(conv_fwd),
             "conv_both": best_of(conv_both), "pool_fwd": best_of(pool_fwd),
             "pool_both": best_of(pool_both)}
    torch.set_num_threads(1)
    times["cpu_both"] = best_of(conv_both, clock=time.process_time)
    return times


def side_naive() -> dict:
    from threadpoolctl import threadpool_limits

    import cnnlib as c

    threadpool_limits(THREADS)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((100, 3, 31, 31)), rng.standard_normal((25, 3, 3, 3))
    b, dout = rng.standard_normal(25), rng.standard_normal((100, 25, 16, 16))
    _, cache = c.conv2d_forward(x, w, b, stride=2, pad=1)
    times = {
        "naive_fwd": best_of(lambda: c.conv2d_forward_naive(x, w, b, stride=2, pad=1), 1, False),
        "naive_bwd": best_of(lambda: c.conv2d_backward_naive(dout, cache), 1, False),
    }
    for name, forward, backward in [("teach", c.conv2d_forward, c.conv2d_backward),
                                    ("fast", c.conv2d_forward_fast, c.conv2d_backward_fast)]:
        times[f"{name}_fwd"] = best_of(lambda f=forward: f(x, w, b, stride=2, pad=1), 15)
        times[f"{name}_bwd"] = best_of(lambda g=backward: g(dout, cache), 15)
    return times


def run_side(name: str) -> dict | None:
    done = subprocess.run([sys.executable, __file__, "--side", name],
                          capture_output=True, text=True, env=os.environ.copy())
    if done.returncode:
        if name == "torch" and "ModuleNotFoundError" in done.stderr:
            return None
        raise RuntimeError(f"{name} side failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def merge(runs: list[dict]) -> dict:
    """Best time of each figure over rounds; other fields from the first round."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            out[key] = min(r[key] for r in runs)
    return out


def main() -> None:
    if "--side" in sys.argv:
        name = sys.argv[sys.argv.index("--side") + 1]
        print(json.dumps({"numpy": side_numpy, "torch": side_torch,
                          "naive": side_naive}[name]()))
        return
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    unset = os.environ.get("CNNLIB_BENCH_UNSET")
    if unset:
        print(f"note: {unset.replace(',', ' and ')} unset for this benchmark's processes only")
    print(f"threads: {THREADS} (threadpoolctl for numpy's BLAS, torch.set_num_threads); "
          f"each library timed in its own child process, {rounds} alternating rounds, "
          f"best of 7 repeats; load average at start {os.getloadavg()[0]:.2f}")
    ours_runs, torch_runs = [], []
    for _ in range(rounds):
        ours_runs.append(run_side("numpy"))
        t = run_side("torch")
        if t is not None:
            torch_runs.append(t)
    ours = merge(ours_runs)
    tt = merge(torch_runs) if torch_runs else None
    print(f"numpy {ours['numpy']}, BLAS: {ours['blas']}")
    print(f"conv x ({N},{C},{H},{W}) w ({F},{C},{K},{K}) pad 1, float32; "
          f"{CONV_FLOPS / 1e9:.2f} GFLOP per conv-sized product")
    ms = lambda s: f"{s * 1e3:7.1f} ms"  # noqa: E731
    rate = lambda products, s: f"{products * CONV_FLOPS / s / 1e9:6.1f} GFLOP/s"  # noqa: E731
    print(f"  {'':28} {'forward':>18} {'backward':>18} {'fwd+bwd':>18}")
    rows = [("cnnlib fast (fast_layers)", "fast"), ("cnnlib teaching (conv)", "teach")]
    for label, key in rows:
        print(f"  {label:28} {ms(ours[key + '_fwd'])} {rate(1, ours[key + '_fwd'])} "
              f"{ms(ours[key + '_bwd'])} {rate(2, ours[key + '_bwd'])} "
              f"{ms(ours[key + '_both'])} {rate(3, ours[key + '_both'])}")
    if tt is None:
        print("torch not installed: skipping the PyTorch comparison "
              "(pip install torch==2.13.0 on the side to include it)")
    else:
        print(f"  {'torch ' + tt['torch']:28} {ms(tt['conv_fwd'])} {rate(1, tt['conv_fwd'])} "
              f"{'':>18} {ms(tt['conv_both'])} {rate(3, tt['conv_both'])}")
        print(f"ratio to torch (target 1.0x): fast fwd {ours['fast_fwd'] / tt['conv_fwd']:.2f}x, "
              f"fast fwd+bwd {ours['fast_both'] / tt['conv_both']:.2f}x; teaching fwd "
              f"{ours['teach_fwd'] / tt['conv_fwd']:.2f}x, teaching fwd+bwd "
              f"{ours['teach_both'] / tt['conv_both']:.2f}x")
    gemms = ours["gemms"]
    print(f"where the fast fwd+bwd goes: its three GEMMs alone {ms(gemms)} "
          f"({gemms / ours['fast_both']:.0%}, {rate(3, gemms)}); copies, padding, col2im and "
          f"thread hand-offs {ms(ours['fast_both'] - gemms)}")
    cpu, cpu_gemms = ours["cpu_both"], ours["cpu_gemms"]
    print(f"  in CPU time on 1 thread: fwd+bwd {ms(cpu)}, of which GEMMs {ms(cpu_gemms)} "
          f"({cpu_gemms / cpu:.0%}, {rate(3, cpu_gemms)}) and copies {ms(cpu - cpu_gemms)}"
          + (f"; torch fwd+bwd {ms(tt['cpu_both'])} ({cpu / tt['cpu_both']:.2f}x)" if tt else ""))
    print(f"maxpool 2x2 (fast): forward {ms(ours['pool_fwd'])}, backward "
          f"{ms(ours['pool_bwd'])}, fwd+bwd {ms(ours['pool_both'])}"
          + (f"; torch forward {ms(tt['pool_fwd'])}, fwd+bwd {ms(tt['pool_both'])}, ratio "
             f"{ours['pool_both'] / tt['pool_both']:.2f}x" if tt else ""))
    naive = run_side("naive")
    print("CS231n shape x (100,3,31,31) w (25,3,3,3) stride 2 pad 1, float64:")
    for part in ("fwd", "bwd"):
        slow = naive[f"naive_{part}"]
        print(f"  {part}: loops {slow:6.2f} s, teaching {naive[f'teach_{part}'] * 1e3:6.2f} ms "
              f"({slow / naive[f'teach_{part}']:,.0f}x), fast {naive[f'fast_{part}'] * 1e3:6.2f} "
              f"ms ({slow / naive[f'fast_{part}']:,.0f}x)")


if __name__ == "__main__":
    main()
