"""Speed of cnnlib's vectorized conv and max-pool against PyTorch CPU, and naive vs vectorized.

    python benchmarks/bench_conv.py [--rounds 3]

Prints, for float32 x (64, 16, 32, 32), w (32, 16, 3, 3), stride 1, pad 1: forward,
backward and forward+backward times, GFLOP/s (2*N*F*C*KH*KW*Ho*Wo per conv, three of them
for forward+backward) and the ratio to torch.nn.functional.conv2d; the same for 2x2
max-pool; and the naive/vectorized speedup on the CS231n timing shape x (100, 3, 31, 31),
w (25, 3, 3, 3), stride 2, pad 1 (float64, forward and backward separately).

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


def best_of(fn, repeats: int = 7, warm: bool = True) -> float:
    if warm:
        fn()  # warm up caches and the allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
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


def side_numpy() -> dict:
    from threadpoolctl import threadpool_info, threadpool_limits

    import cnnlib as c

    threadpool_limits(THREADS)
    blas = [f"{i['internal_api']} {i.get('version')} kernel {i.get('architecture')}, "
            f"{i['num_threads']} threads"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    p = problem()
    x, w, b, dout, pool_dout = p["x"], p["w"], p["b"], p["dout"], p["pool_dout"]
    _, cache = c.conv2d_forward(x, w, b, pad=1)
    _, pool_cache = c.maxpool2d_forward(x, 2)

    def conv_both():
        _, cch = c.conv2d_forward(x, w, b, pad=1)
        c.conv2d_backward(dout, cch)

    def pool_both():
        _, cch = c.maxpool2d_forward(x, 2)
        c.maxpool2d_backward(pool_dout, cch)

    return {
        "blas": "; ".join(blas) or "unknown",
        "numpy": np.__version__,
        "conv_fwd": best_of(lambda: c.conv2d_forward(x, w, b, pad=1)),
        "conv_bwd": best_of(lambda: c.conv2d_backward(dout, cache)),
        "conv_both": best_of(conv_both),
        "pool_fwd": best_of(lambda: c.maxpool2d_forward(x, 2)),
        "pool_bwd": best_of(lambda: c.maxpool2d_backward(pool_dout, pool_cache)),
        "pool_both": best_of(pool_both),
    }


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

    return {"torch": torch.__version__, "conv_fwd": best_of(conv_fwd),
            "conv_both": best_of(conv_both), "pool_fwd": best_of(pool_fwd),
            "pool_both": best_of(pool_both)}


def side_naive() -> dict:
    from threadpoolctl import threadpool_limits

    import cnnlib as c

    threadpool_limits(THREADS)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((100, 3, 31, 31)), rng.standard_normal((25, 3, 3, 3))
    b, dout = rng.standard_normal(25), rng.standard_normal((100, 25, 16, 16))
    _, slow_cache = c.conv2d_forward_naive(x, w, b, stride=2, pad=1)
    _, fast_cache = c.conv2d_forward(x, w, b, stride=2, pad=1)
    return {
        "naive_fwd": best_of(lambda: c.conv2d_forward_naive(x, w, b, stride=2, pad=1), 1, False),
        "naive_bwd": best_of(lambda: c.conv2d_backward_naive(dout, slow_cache), 1, False),
        "fast_fwd": best_of(lambda: c.conv2d_forward(x, w, b, stride=2, pad=1), 15),
        "fast_bwd": best_of(lambda: c.conv2d_backward(dout, fast_cache), 15),
    }


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
    print(f"numpy {ours['numpy']}, BLAS: {ours['blas']}")
    print(f"conv x ({N},{C},{H},{W}) w ({F},{C},{K},{K}) pad 1, float32; "
          f"{CONV_FLOPS / 1e9:.2f} GFLOP per conv-sized product")
    ms = lambda s: f"{s * 1e3:7.1f} ms"  # noqa: E731
    print(f"  cnnlib conv2d forward   {ms(ours['conv_fwd'])}  "
          f"{CONV_FLOPS / ours['conv_fwd'] / 1e9:6.1f} GFLOP/s")
    print(f"  cnnlib conv2d backward  {ms(ours['conv_bwd'])}  "
          f"{2 * CONV_FLOPS / ours['conv_bwd'] / 1e9:6.1f} GFLOP/s")
    print(f"  cnnlib conv2d fwd+bwd   {ms(ours['conv_both'])}  "
          f"{3 * CONV_FLOPS / ours['conv_both'] / 1e9:6.1f} GFLOP/s")
    print(f"  cnnlib maxpool 2x2 forward {ms(ours['pool_fwd'])}, backward "
          f"{ms(ours['pool_bwd'])}, fwd+bwd {ms(ours['pool_both'])}")
    if not torch_runs:
        print("torch not installed: skipping the PyTorch comparison "
              "(pip install torch==2.13.0 on the side to include it)")
    else:
        tt = merge(torch_runs)
        print(f"  torch {tt['torch']} conv2d forward {ms(tt['conv_fwd'])}  "
              f"{CONV_FLOPS / tt['conv_fwd'] / 1e9:6.1f} GFLOP/s; fwd+bwd "
              f"{ms(tt['conv_both'])}  {3 * CONV_FLOPS / tt['conv_both'] / 1e9:6.1f} GFLOP/s")
        print(f"  torch maxpool 2x2 forward {ms(tt['pool_fwd'])}, fwd+bwd {ms(tt['pool_both'])}")
        print(f"ratio cnnlib/torch (target: within 2x): conv fwd "
              f"{ours['conv_fwd'] / tt['conv_fwd']:.2f}x, conv fwd+bwd "
              f"{ours['conv_both'] / tt['conv_both']:.2f}x, maxpool fwd+bwd "
              f"{ours['pool_both'] / tt['pool_both']:.2f}x")
    naive = run_side("naive")
    print("CS231n shape x (100,3,31,31) w (25,3,3,3) stride 2 pad 1, float64:")
    for part in ("fwd", "bwd"):
        slow, fast = naive[f"naive_{part}"], naive[f"fast_{part}"]
        print(f"  {part}: naive {slow:6.2f} s, vectorized {fast * 1e3:6.2f} ms, "
              f"speedup {slow / fast:,.0f}x")


if __name__ == "__main__":
    main()
