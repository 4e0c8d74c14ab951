"""cnn-course gradescope ASSIGNMENT [--out ZIP]: a Gradescope autograder bundle.

The zip holds ``setup.sh`` (installs Python, bubblewrap and this course package from the
copy inside the zip), ``run_autograder`` (grades /autograder/submission with the same
sandboxed grader and writes /autograder/results/results.json) and ``course/``: the package
source, the hidden tests and the assignment's solution notebooks (for grade-cell metadata;
never shown to students). Set CNN_COURSE_GRADESCOPE_ROOT to run it outside /autograder.

Gradescope's results.json: score, execution_time, output, and tests[] with name, score,
max_score, status ("passed"/"failed"), output and visibility; the hidden tests are
``after_published`` so students see them only once grades are published.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .assignments import ASSIGNMENTS, find_course_dir, source_notebooks

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet /autograder/source/course
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
set -uo pipefail
ROOT="${{CNN_COURSE_GRADESCOPE_ROOT:-/autograder}}"
PYTHON="${{CNN_COURSE_PYTHON:-$ROOT/venv/bin/python}}"
exec "$PYTHON" -m autograder.gradescope --results {assignment} --root "$ROOT" \\
    --course-dir "$ROOT/source/course"
"""

COURSE_PARTS = ("pyproject.toml", "README.md", "nbgrader_config.py", "cnnlib", "autograder")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=ASSIGNMENTS)
    parser.add_argument("--out", type=Path, default=None,
                        help="the zip to write (default: dist/gradescope-ASSIGNMENT.zip)")
    parser.add_argument("--course-dir", type=Path, default=None)


def build_bundle(assignment: str, course: Path, out: Path) -> Path:
    """Write the autograder zip for ``assignment``."""
    notebooks = source_notebooks(course, assignment)
    out.parent.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        (stage / "setup.sh").write_text(SETUP_SH)
        (stage / "run_autograder").write_text(RUN_AUTOGRADER.format(assignment=assignment))
        target = stage / "course"
        target.mkdir()
        for part in COURSE_PARTS:
            source = course / part
            if source.is_dir():
                shutil.copytree(source, target / part, ignore=ignore)
            elif source.is_file():
                shutil.copy(source, target / part)
        for notebook in notebooks:
            dest = target / "solutions" / assignment / notebook.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(notebook, dest)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(stage.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(str(path.relative_to(stage)))
                    executable = path.name in ("setup.sh", "run_autograder")
                    info.external_attr = (0o755 if executable else 0o644) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    bundle.writestr(info, path.read_bytes())
    return out


def run(args: argparse.Namespace) -> int:
    course = find_course_dir(args.course_dir)
    out = args.out or course / "dist" / f"gradescope-{args.assignment}.zip"
    build_bundle(args.assignment, course, out)
    print(f"Gradescope autograder for {args.assignment}: {out}")
    print("Upload it as the assignment's autograder (zip); students submit their notebooks.")
    return 0


def to_gradescope(report: dict, assignment: str, seconds: float) -> dict:
    """Our grade report for one student, in Gradescope's results.json format."""
    students = list(report["students"].values())
    if not students:
        return {"score": 0.0, "execution_time": int(seconds), "tests": [],
                "output": f"No notebooks of {assignment} found in the submission."}
    result = students[0]
    tests, lines = [], []
    for notebook, nb in result["notebooks"].items():
        line = f"{notebook}: {nb['score']:g} / {nb['max_score']:g}"
        lines.append(line + (f" — could not be graded: {nb['error']}" if nb["error"] else ""))
        for test in nb["tests"]:
            tests.append({
                "name": f"{notebook} / {test['grade_id']} / {test['name']}",
                "score": test["score"], "max_score": test["max_score"],
                "status": "passed" if test["status"] == "passed" else "failed",
                "output": test["message"], "visibility": "after_published",
            })
    return {"score": result["score"], "execution_time": int(round(seconds)),
            "output": "\n".join(lines), "stdout_visibility": "hidden", "tests": tests}


def results_main(assignment: str, root: Path, course: Path) -> int:
    """Inside the container: grade /autograder/submission, write results/results.json."""
    from .grader.command import add_arguments as grade_arguments
    from .grader.command import run as grade

    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="cnn-course-gradescope-"))
    folder = work / "submitted" / "student" / assignment
    folder.mkdir(parents=True)
    for notebook in (root / "submission").rglob("*.ipynb"):
        if ".ipynb_checkpoints" not in notebook.parts:
            shutil.copy(notebook, folder / notebook.name)
    parser = argparse.ArgumentParser()
    grade_arguments(parser)
    args = parser.parse_args([
        assignment, "--submitted", str(work / "submitted"), "--json",
        str(work / "grades.json"), "--gradebook", str(work / "gradebook.db"),
        "--feedback", str(work / "feedback"), "--course-dir", str(course), "--workers", "1",
        "--quiet",
    ])
    code = grade(args)
    report = (json.loads((work / "grades.json").read_text()) if code == 0
              else {"students": {}})
    results = to_gradescope(report, assignment, time.perf_counter() - start)
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    parser.add_argument("--results", metavar="ASSIGNMENT", required=True)
    parser.add_argument("--root", type=Path,
                        default=Path(os.environ.get("CNN_COURSE_GRADESCOPE_ROOT", "/autograder")))
    parser.add_argument("--course-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    return results_main(args.results, args.root, args.course_dir)


if __name__ == "__main__":
    sys.exit(main())
