"""300 synthetic a2_convolution submissions graded with --workers 2: wall time and memory.

    python benchmarks/bench_grading_scale.py [--students 300] [--workers 2]

The class is made of copies of the honest sample students (correct, partial and buggy),
so every submission runs real code and real hidden tests. Target: <= 5 minutes on a
2-core machine. Prints wall time, time per submission and the peak resident memory: of the
largest single process (getrusage RUSAGE_CHILDREN) and, when psutil is installed, of the
grader with all its workers and sandboxes together (sampled every 0.1 s). OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE are left as the environment sets them (the grader sees what a TA's
shell would).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

try:
    import psutil
except ImportError:  # the tree-wide figure is then not printed
    psutil = None

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "submissions"


def honest_students() -> list[Path]:
    return sorted(p for p in SAMPLE.iterdir() if p.is_dir() and p.name.startswith("a2_")
                  and "hostile" not in p.name and "broken" not in p.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    templates = honest_students()
    with tempfile.TemporaryDirectory() as tmp:
        submitted = Path(tmp) / "submitted"
        for i in range(args.students):
            source = templates[i % len(templates)]
            shutil.copytree(source, submitted / f"s{i:04d}_{source.name[3:]}")
        start = time.perf_counter()
        grader = subprocess.Popen(
            [sys.executable, "-m", "autograder.cli", "grade", "a2_convolution",
             "--submitted", str(submitted), "--json", f"{tmp}/grades.json",
             "--gradebook", f"{tmp}/gradebook.db", "--feedback", f"{tmp}/feedback",
             "--workers", str(args.workers), "--quiet", "--course-dir", str(ROOT)],
        )
        peak = [0]
        sampler = threading.Thread(target=_sample_tree_rss, args=(grader, peak), daemon=True)
        sampler.start()
        returncode = grader.wait()
        wall = time.perf_counter() - start
        sampler.join()
        report = json.loads(Path(f"{tmp}/grades.json").read_text())
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    full = sum(1 for s in report["students"].values()  # autograded points: answers wait for a TA
               if all(t["score"] == t["max_score"]
                      for nb in s["notebooks"].values() for t in nb["tests"]))
    print(f"graded {len(report['students'])} submissions (exit {returncode}) with "
          f"{args.workers} workers in {wall:.1f} s = {wall / args.students:.2f} s each "
          f"(target: 300 in <= 120 s)")
    print(f"full autograded marks: {full}; peak RSS of the largest single process "
          f"(grader, worker or sandbox): {children:.0f} MiB")
    if psutil is not None:
        print(f"peak RSS of the grader, its workers and sandboxes together: "
              f"{peak[0] / 2**20:.0f} MiB")


def _sample_tree_rss(process: subprocess.Popen, peak: list[int]) -> None:
    """Keep in peak[0] the largest summed RSS of process and its descendants seen so far."""
    if psutil is None:
        return
    root = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        total = 0
        for proc in tree:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:  # a sandbox that ended while we counted
                pass
        peak[0] = max(peak[0], total)
        time.sleep(0.1)


if __name__ == "__main__":
    main()
