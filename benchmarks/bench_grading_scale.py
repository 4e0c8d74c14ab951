"""300 synthetic a2_convolution submissions graded with --workers 2: wall time and memory.

    python benchmarks/bench_grading_scale.py [--students 300] [--workers 2]

The class is made of copies of the honest sample students (correct, partial and buggy),
so every submission runs real code and real hidden tests. Target: <= 5 minutes on a
2-core machine. Prints wall time, time per submission and the peak resident memory of the
grader and of its largest child process.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
        done = subprocess.run(
            [sys.executable, "-m", "autograder.cli", "grade", "a2_convolution",
             "--submitted", str(submitted), "--json", f"{tmp}/grades.json",
             "--gradebook", f"{tmp}/gradebook.db", "--feedback", f"{tmp}/feedback",
             "--workers", str(args.workers), "--quiet", "--course-dir", str(ROOT)],
        )
        wall = time.perf_counter() - start
        report = json.loads(Path(f"{tmp}/grades.json").read_text())
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    full = sum(1 for s in report["students"].values() if s["score"] == s["max_score"])
    print(f"graded {len(report['students'])} submissions (exit {done.returncode}) with "
          f"{args.workers} workers in {wall:.1f} s = {wall / args.students:.2f} s each "
          f"(target: 300 in <= 300 s)")
    print(f"full marks: {full}; peak RSS of the largest process (grader, worker or "
          f"sandbox): {children:.0f} MiB")


if __name__ == "__main__":
    main()
