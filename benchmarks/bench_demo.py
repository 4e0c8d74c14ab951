"""How long the digits demo takes and what it reaches: `python -m cnnlib.demo`, timed.

    python benchmarks/bench_demo.py [--epochs N] [--seed S]

Runs the demo twice in child processes: once with the environment as it is, once with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed (they pin OpenBLAS to slower kernels on this
machine; only that second child's environment changes). Prints test accuracy, training
seconds (as the demo measures them) and the child's whole wall time (imports, data, plot).
Exits non-zero if a run fails or misses the demo's 97% target.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

RESULT = re.compile(
    r"test accuracy (?P<acc>[\d.]+)% after (?P<epochs>\d+) epochs in (?P<sec>[\d.]+) s"
)
SLOWING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def run_demo(extra: list[str], env: dict[str, str]) -> tuple[int, float, float, float]:
    """(return code, test accuracy %, training seconds, wall seconds) of one demo run."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "cnnlib.demo", "--out", out, *extra],
            env=env, capture_output=True, text=True,
        )
        wall = time.perf_counter() - start
    match = RESULT.search(done.stdout)
    if not match:
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
        return done.returncode or 1, float("nan"), float("nan"), wall
    return done.returncode, float(match["acc"]), float(match["sec"]), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    extra = ["--seed", str(args.seed)]
    if args.epochs is not None:
        extra += ["--epochs", str(args.epochs)]

    as_is = dict(os.environ)
    unset = {k: v for k, v in os.environ.items() if k not in SLOWING_VARS}
    present = [k for k in SLOWING_VARS if k in os.environ]
    runs = [("environment as given", as_is)]
    if present:
        runs.append((f"without {' and '.join(present)} (unset for this run only)", unset))
    else:
        print(f"note: {' and '.join(SLOWING_VARS)} are not set here; one run only")

    print(f"python -m cnnlib.demo {' '.join(extra)}  (cpu count {os.cpu_count()}; "
          "target: >= 97% test accuracy in <= 60 s)")
    failed = False
    for label, env in runs:
        code, accuracy, train_s, wall_s = run_demo(extra, env)
        print(f"  {label}: test accuracy {accuracy:.1f}%, training {train_s:.1f} s, "
              f"whole run {wall_s:.1f} s, exit code {code}")
        failed |= code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
