"""The grader's memory when students answer with as much data as they can.

    python benchmarks/bench_hostile_replies.py [--copies 3] [--workers 2]

Grades two classes of a2_convolution with ``--workers 2`` and samples (every 50 ms) the
resident memory of the grader's own processes (the command and its workers; the
sandboxes, which have their own 2 GiB limit each, are left out):

- honest: copies of the correct sample student;
- hostile: students whose conv2d_forward answers every call with 12 arrays of 256 MiB
  (3 GiB: refused at the reply budget before anything is allocated), with arrays just under
  the budget on every call, with a 4 MiB JSON header of numbers, or with JSON nested
  deeper than the parser's recursion limit.

Prints the peak of each class and the difference: what hostile replies can add to a
grader's memory is bounded by the reply budget per worker (Limits.reply_budget).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "a2_convolution"

BODIES = {
    "many_huge_arrays": "    return tuple(np.ones(2**25) for _ in range(12))\n",
    "just_under_budget": "    return tuple(np.ones(2**20 // 2) for _ in range(7))\n",
    "big_json_header": "    return [float(i) for i in range(400_000)]\n",
    "deep_json": "    import sys\n    sys.setrecursionlimit(100_000)\n"
                 "    value = []\n    for _ in range(50_000):\n        value = [value]\n"
                 "    return value\n",
}


def filled(notebook: str, body: str | None = None):
    released = nbformat.read(ROOT / "notebooks" / ASSIGNMENT / f"{notebook}.ipynb", 4)
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{notebook}.ipynb", 4)
    sources = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = sources[meta["grade_id"]]
            if body and meta["grade_id"] == "conv2d_forward":
                cell.source = cell.source.replace(
                    "    ### BEGIN SOLUTION\n", "    ### BEGIN SOLUTION\n" + body, 1)
    return released


def write_class(folder: Path, students: dict[str, str | None]) -> None:
    for name, body in students.items():
        target = folder / name / ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(filled("03_convolution", body), target / "03_convolution.ipynb")
        nbformat.write(filled("04_pooling"), target / "04_pooling.ipynb")


def grader_peak(submitted: Path, tmp: Path, workers: int) -> tuple[float, float, dict]:
    """(peak MiB of the grader and its workers, seconds, report)."""
    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT,
               "--submitted", str(submitted), "--json", str(tmp / "grades.json"),
               "--gradebook", str(tmp / "gradebook.db"), "--feedback", str(tmp / "fb"),
               "--workers", str(workers), "--quiet", "--course-dir", str(ROOT),
               "--seed", "1", "--timeout-notebook", "600"]
    start = time.perf_counter()
    grader = subprocess.Popen(command)
    peak = [0]

    def sample() -> None:
        root = psutil.Process(grader.pid)
        while grader.poll() is None:
            try:
                own = [root, *root.children(recursive=False)]  # the command and its workers
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in own))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    grader.wait()
    sampler.join()
    seconds = time.perf_counter() - start
    return peak[0] / 2**20, seconds, json.loads((tmp / "grades.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="students per behaviour")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        honest = {f"honest{i}": None for i in range(args.copies * len(BODIES))}
        hostile = {f"{name}{i}": body for name, body in BODIES.items()
                   for i in range(args.copies)}
        write_class(tmp / "honest", honest)
        write_class(tmp / "hostile", hostile)
        (tmp / "run1").mkdir()
        (tmp / "run2").mkdir()
        calm, calm_s, _ = grader_peak(tmp / "honest", tmp / "run1", args.workers)
        loud, loud_s, report = grader_peak(tmp / "hostile", tmp / "run2", args.workers)
    print(f"{len(hostile)} students per class, --workers {args.workers}; peak resident "
          "memory of the grader and its workers (sandboxes excluded):")
    print(f"  honest class:  {calm:7.0f} MiB  ({calm_s:.1f} s)")
    print(f"  hostile class: {loud:7.0f} MiB  ({loud_s:.1f} s)")
    print(f"  difference:    {loud - calm:7.0f} MiB (bound: one reply budget of 32 MiB per "
          "worker, plus what parsing it costs)")
    for student, result in sorted(report["students"].items()):
        conv = result["notebooks"]["03_convolution"]
        lost = sorted({t["grade_id"] for t in conv["tests"] if t["status"] != "passed"})
        print(f"  {student:22} {result['score']:g}/{result['max_score']:g}  lost: "
              f"{', '.join(lost) or '-'}")


if __name__ == "__main__":
    main()
