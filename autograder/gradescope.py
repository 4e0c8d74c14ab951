"""cnn-course gradescope ASSIGNMENT [--out ZIP]: a Gradescope autograder bundle.

The zip holds ``setup.sh``, ``run_autograder`` and ``course/`` (the package, the hidden
tests and the assignment's solution notebooks, for grade-cell metadata). Gradescope runs
``setup.sh`` once when it builds the image and ``run_autograder`` for every submission;
both honour ``CNN_COURSE_GRADESCOPE_ROOT`` (default ``/autograder``), so the bundle can be
tried anywhere exactly as Gradescope runs it.

``setup.sh`` makes two environments. The grader's (``grader-venv``: this package and what
grading needs) and the course's source are readable by root only. The sandbox's
(``sandbox-venv``: numpy and the notebooks' libraries, pinned to the versions the bundle
was built with, nothing of the course) is the only Python that student code runs on. So
even where Gradescope's container cannot give bubblewrap its namespaces and the sandbox
falls back to running as nobody, the reference cnnlib and the hidden tests stay out of
reach.

``results.json`` follows Gradescope's format: a score, an execution time, an ``output``
for the student, and one entry per hidden test with its points, status and message. It
holds no path of the grader and no hidden-test source; every student string in it is one
line without control characters. The run's seed goes to ``extra_data``, which students do
not see; the instructor-facing stdout (``results/stdout``) gets the summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

from .assignments import find_course_dir, source_notebooks
from .grader.escape import one_line
from .grader.interpreter import SANDBOX_PACKAGES
from .grader.program import MAX_NOTEBOOK_BYTES

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
ROOT="${CNN_COURSE_GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON3="${CNN_COURSE_SETUP_PYTHON:-/usr/bin/python3}"
missing=()
for package in python3 python3-venv python3-pip bubblewrap; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
# The grader: this package and what grading needs, readable by root only.
"$PYTHON3" -m venv "$ROOT/grader-venv"
# The sandbox's Python: the notebooks' libraries and nothing of the course.
"$PYTHON3" -m venv "$ROOT/sandbox-venv"
"$ROOT/grader-venv/bin/pip" install --quiet -r "$SOURCE/grader-requirements.txt" &
grader=$!
"$ROOT/sandbox-venv/bin/pip" install --quiet -r "$SOURCE/sandbox-requirements.txt" &
sandbox=$!
wait "$grader" && wait "$sandbox"
"$ROOT/grader-venv/bin/pip" install --quiet --no-deps "$SOURCE/course"
chmod 700 "$ROOT/grader-venv" "$SOURCE"
chmod -R a+rX "$ROOT/sandbox-venv"
chmod 755 "$ROOT"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
set -uo pipefail
ROOT="${{CNN_COURSE_GRADESCOPE_ROOT:-/autograder}}"
PYTHON="${{CNN_COURSE_PYTHON:-$ROOT/grader-venv/bin/python}}"
export CNN_COURSE_SANDBOX_PYTHON="${{CNN_COURSE_SANDBOX_PYTHON:-$ROOT/sandbox-venv/bin/python}}"
cd "$ROOT"
exec "$PYTHON" -m autograder.gradescope --results {assignment} --root "$ROOT" \\
    --course-dir "$ROOT/source/course" --hidden-tests {hidden} --visible-checks {checks}
"""

VISIBILITY = ("visible", "after_due_date", "after_published", "hidden")

COURSE_PARTS = ("pyproject.toml", "README.md", "nbgrader_config.py", "cnnlib", "autograder")
# What the grader imports (the gradebook is not needed: Gradescope keeps the grades).
GRADER_PACKAGES = ("numpy", "nbformat", "pytest", "tqdm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="an assignment: a folder of notebooks in solutions/")
    parser.add_argument("--out", type=Path, default=None,
                        help="the zip to write (default: dist/gradescope-ASSIGNMENT.zip)")
    parser.add_argument("--course-dir", type=Path, default=None)
    parser.add_argument("--hidden-tests", choices=VISIBILITY, default="after_published",
                        help="when students see the hidden tests, which carry the points "
                             "(default after_published)")
    parser.add_argument("--visible-checks", choices=(*VISIBILITY, "none"), default="visible",
                        help="when students see their notebook's own test cells run on "
                             "Gradescope, no points (default visible: at once; none: not run)")


def pinned(packages: tuple[str, ...]) -> str:
    """Requirement lines pinning each package to the version installed here (if any)."""
    lines = []
    for name in packages:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


def build_bundle(assignment: str, course: Path, out: Path, hidden: str = "after_published",
                 checks: str = "visible") -> Path:
    """Write the autograder zip for ``assignment``."""
    notebooks = source_notebooks(course, assignment)
    out.parent.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        (stage / "setup.sh").write_text(SETUP_SH)
        (stage / "run_autograder").write_text(RUN_AUTOGRADER.format(
            assignment=assignment, hidden=hidden, checks=checks))
        (stage / "grader-requirements.txt").write_text(pinned(GRADER_PACKAGES))
        (stage / "sandbox-requirements.txt").write_text(pinned(SANDBOX_PACKAGES))
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
    build_bundle(args.assignment, course, out, args.hidden_tests, args.visible_checks)
    print(f"Gradescope autograder for {args.assignment}: {out}")
    print("Upload it as the assignment's autograder (zip); students submit their notebooks.")
    return 0


# -- inside the container ---------------------------------------------------------------

def collect_submission(submission: Path, folder: Path, notebooks: list[str]) -> list[str]:
    """Mirror the submission's notebooks into ``folder`` without following anything.

    Gradescope puts whatever the student uploaded under /autograder/submission, folders
    included. A regular ``<notebook>.ipynb`` anywhere in it is copied (up to the size cap,
    beyond which the grader reports it too large); a link or a special file is mirrored as
    a link or a FIFO, so the grader reports it for what it is instead of reading it.
    Returns notes for the instructor's log.
    """
    notes, wanted = [], {f"{name}.ipynb" for name in notebooks}
    for directory, subdirs, files in os.walk(submission, followlinks=False):
        subdirs[:] = [d for d in subdirs if d != ".ipynb_checkpoints"]
        for name in files + [d for d in subdirs if os.path.islink(os.path.join(directory, d))]:
            if name not in wanted:
                continue
            source, target = Path(directory) / name, folder / name
            if os.path.lexists(target):
                notes.append(f"{one_line(name)} appears twice; the first one is graded")
                continue
            mode = os.lstat(source).st_mode
            if stat.S_ISLNK(mode):
                target.symlink_to(os.readlink(source))
            elif stat.S_ISREG(mode):
                fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                with os.fdopen(fd, "rb") as src, open(target, "wb") as dst:
                    dst.write(src.read(MAX_NOTEBOOK_BYTES + 1))
            else:
                os.mkfifo(target)
    return notes


def _failure(assignment: str, seconds: float) -> dict:
    return {"score": 0.0, "execution_time": int(round(seconds)), "tests": [],
            "output_format": "text", "stdout_visibility": "hidden",
            "output": f"The autograder could not grade this submission of {assignment}; "
                      "your instructor has been shown why."}


def results_main(assignment: str, root: Path, course: Path, hidden: str = "after_published",
                 checks: str = "visible") -> int:
    """Inside the container: grade ``root``/submission, write results/results.json."""
    from .grader.command import add_arguments as grade_arguments
    from .grader.command import run as grade
    from .grader.results import ClassResults

    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="cnn-course-gradescope-"))
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    try:
        notebooks = [p.stem for p in source_notebooks(course, assignment)]
        folder = work / "submitted" / "student" / assignment
        folder.mkdir(parents=True)
        for note in collect_submission(root / "submission", folder, notebooks):
            print(note)
        parser = argparse.ArgumentParser()
        grade_arguments(parser)
        args = parser.parse_args([
            assignment, "--submitted", str(work / "submitted"), "--json",
            str(work / "grades.json"), "--no-gradebook", "--gradebook",
            str(work / "gradebook.db"), "--feedback", str(work / "feedback"),
            "--course-dir", str(course), "--workers", "1", "--quiet", "--seed", "new",
            *(["--visible-checks"] if checks != "none" else []),
        ])
        code = grade(args)
        report = (ClassResults.read(work / "grades.json") if code == 0
                  else ClassResults(assignment, None))
        output = report.to_gradescope(time.perf_counter() - start,
                                      {"hidden": hidden, "checks": checks})
        if report.students:
            print(report.class_table(notebooks))
        print(f"seed {report.seed}; graded in {time.perf_counter() - start:.1f} s")
    except Exception as error:  # noqa: BLE001 - Gradescope must always get a results.json
        print(f"grading failed: {type(error).__name__}: {error}")
        output = _failure(assignment, time.perf_counter() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (results / "results.json").write_text(json.dumps(output, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    parser.add_argument("--results", metavar="ASSIGNMENT", required=True)
    parser.add_argument("--root", type=Path,
                        default=Path(os.environ.get("CNN_COURSE_GRADESCOPE_ROOT", "/autograder")))
    parser.add_argument("--course-dir", type=Path, required=True)
    parser.add_argument("--hidden-tests", choices=VISIBILITY, default="after_published")
    parser.add_argument("--visible-checks", choices=(*VISIBILITY, "none"), default="visible")
    args = parser.parse_args(argv)
    return results_main(args.results, args.root, args.course_dir, args.hidden_tests,
                        args.visible_checks)


if __name__ == "__main__":
    sys.exit(main())
