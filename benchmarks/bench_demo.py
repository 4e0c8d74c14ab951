"""The digits CNN of `make demo`: test accuracy and training time.

    python benchmarks/bench_demo.py
"""

import subprocess
import sys
import tempfile
import time

start = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    done = subprocess.run([sys.executable, "-m", "cnnlib.demo", "--out", out],
                          capture_output=True, text=True)
print(done.stdout.strip().splitlines()[-1])
print(f"whole run including data loading: {time.perf_counter() - start:.1f} s "
      f"(target: >= 97% test accuracy in <= 60 s); exit {done.returncode}")
