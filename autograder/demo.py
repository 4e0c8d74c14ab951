"""cnn-course demo (`make demo`): the course workflow end to end, in a scratch copy.

1. release an assignment (nbgrader generate_assignment + the student bundle);
2. grade the sample class in examples/submissions with the sandboxed grader;
3. print the class table, write per-student feedback, the grades CSV and the class report;
4. train a small CNN on the digits with cnnlib and draw its learning curves.
"""

from __future__ import annotations

import argparse
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", default="a2_convolution",
                        help="the assignment to release and grade (default a2_convolution)")
    parser.add_argument("--out", type=Path, default=Path("demo-output"),
                        help="where everything goes (default ./demo-output)")
    parser.add_argument("--workers", type=int, default=None, help="grading workers")
    parser.add_argument("--skip-training", action="store_true", help="only the grading workflow")


def run(args: argparse.Namespace) -> int:
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

    _step("3. grades, feedback and the class report")
    for command in (["export", args.assignment, "--gradebook", str(scratch / "gradebook.db"),
                     "--to", str(out / "grades.csv"), "--course-dir", str(scratch)],
                    ["report", args.assignment, "--json", str(report_path),
                     "--out", str(out / "report.html"), "--course-dir", str(scratch)]):
        done = subprocess.run([sys.executable, "-m", "autograder.cli", *command], env=venv_env())
        if done.returncode != 0:
            return done.returncode
    print(f"   grades CSV:  {out / 'grades.csv'}")
    print(f"   report:      {out / 'report.html'}")
    print(f"   JSON:        {report_path}")
    print(f"   feedback:    {scratch / 'feedback'}")
    print(f"   gradebook:   {scratch / 'gradebook.db'} (nbgrader export / formgrader read it)")

    if args.skip_training:
        return 0
    _step("4. train a CNN on the digits with cnnlib")
    return subprocess.run([sys.executable, "-m", "cnnlib.demo", "--out", str(out)]).returncode


def main(argv: list[str] | None = None) -> int:
    from .cli import main as cli

    return cli(["demo", *(argv or [])])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
