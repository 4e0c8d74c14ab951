"""`make demo`: the course workflow end to end, in a scratch copy of the course.

1. release an assignment (nbgrader generate_assignment + the student bundle);
2. grade the sample class in examples/submissions with the sandboxed grader;
3. print the class table, write per-student feedback and a grades CSV;
4. train a small CNN on the digits with cnnlib and draw its learning curves.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .assignments import find_course_dir
from .release import release, venv_env


def _step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def copy_course(course: Path, scratch: Path) -> Path:
    """A fresh course directory holding the sources, so the demo leaves the tree untouched."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    shutil.copytree(course / "solutions", scratch / "solutions")
    shutil.copy(course / "nbgrader_config.py", scratch)
    return scratch


def write_grades_csv(report: dict, path: Path) -> None:
    """One row per student: total, maximum, and each notebook's score (or its error)."""
    notebooks = sorted({nb for s in report["students"].values() for nb in s["notebooks"]})
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max_score", *notebooks, "errors"])
        for student, result in sorted(report["students"].items()):
            row = [student, result["score"], result["max_score"]]
            row += [result["notebooks"].get(nb, {}).get("score", 0.0) for nb in notebooks]
            errors = [f"{nb}: {r['error']}" for nb, r in result["notebooks"].items() if r["error"]]
            writer.writerow([*row, "; ".join(errors)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="a2_convolution")
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--skip-training", action="store_true", help="only the grading workflow")
    args = parser.parse_args(argv)

    course = find_course_dir()
    out = args.out.resolve()
    scratch = copy_course(course, out / "course")

    _step(f"1. release {args.assignment}")
    released = release(args.assignment, scratch)
    for path in released.notebooks:
        print(f"   {path.relative_to(scratch)}")
    print(f"   student bundle: {released.bundle}")

    _step(f"2. grade the sample class ({course / 'examples' / 'submissions'})")
    report_path = out / "grades.json"
    command = [
        sys.executable, "-m", "autograder.cli", "grade", args.assignment,
        "--submitted", str(course / "examples" / "submissions"),
        "--json", str(report_path), "--gradebook", str(scratch / "gradebook.db"),
        "--course-dir", str(scratch),
        "--timeout-call", "5",  # the sample class has an infinite loop: don't wait long
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    start = time.perf_counter()
    graded = subprocess.run(command, env=venv_env())
    if graded.returncode != 0:
        print("grading failed", file=sys.stderr)
        return graded.returncode
    print(f"   graded in {time.perf_counter() - start:.1f} s")

    _step("3. grades and feedback")
    report = json.loads(report_path.read_text())
    write_grades_csv(report, out / "grades.csv")
    print(f"   grades CSV:  {out / 'grades.csv'}")
    print(f"   JSON:        {report_path}")
    print(f"   feedback:    {scratch / 'feedback'}")
    print(f"   gradebook:   {scratch / 'gradebook.db'} (nbgrader export / formgrader read it)")

    if args.skip_training:
        return 0
    _step("4. train a CNN on the digits with cnnlib")
    return subprocess.run([sys.executable, "-m", "cnnlib.demo", "--out", str(out)]).returncode


if __name__ == "__main__":
    sys.exit(main())
