"""cnn-course grade vs nbgrader autograde on the a2_convolution sample class (one run each).

    python benchmarks/bench_grading.py

Only the honest students (correct, partial, one per common bug) are used: nbgrader runs
student code unsandboxed in its own kernel, so the broken and hostile students are not
handed to it. Prints both wall times, the ratio (target: ours >= 10x faster with
--workers 2) and whether both agree on which students earn full marks and which earn
nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "submissions"
ASSIGNMENT = "a2_convolution"


def honest() -> list[str]:
    return sorted(p.name for p in SAMPLE.iterdir() if p.is_dir() and p.name.startswith("a2_")
                  and "hostile" not in p.name and "broken" not in p.name)


def env() -> dict:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def run_ours(students: list[str], tmp: Path) -> tuple[float, dict[str, tuple[float, float]]]:
    submitted = tmp / "ours"
    for s in students:
        shutil.copytree(SAMPLE / s, submitted / s)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT,
                    "--submitted", str(submitted), "--json", str(tmp / "ours.json"),
                    "--gradebook", str(tmp / "ours.db"), "--feedback", str(tmp / "fb"),
                    "--workers", "2", "--quiet", "--course-dir", str(ROOT)], check=True)
    seconds = time.perf_counter() - start
    report = json.loads((tmp / "ours.json").read_text())["students"]
    return seconds, {s: (r["score"], r["max_score"]) for s, r in report.items()}


def run_nbgrader(students: list[str], tmp: Path) -> tuple[float, dict[str, tuple[float, float]]]:
    course = tmp / "course"
    course.mkdir()
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT,
                    "--force", "--log-level=ERROR"], cwd=course, env=env(), check=True)
    for s in students:
        shutil.copytree(SAMPLE / s / ASSIGNMENT, course / "submitted" / s / ASSIGNMENT)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create",
                    "--log-level=ERROR"], cwd=course, env=env(), check=True)
    seconds = time.perf_counter() - start
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            submission = gradebook.find_submission(ASSIGNMENT, student)
            scores[student] = (submission.score, submission.max_score)
    return seconds, scores


def verdict(scores: dict[str, tuple[float, float]]) -> dict[str, str]:
    return {s: "full" if sc >= top else ("nothing" if sc == 0 else "partial")
            for s, (sc, top) in scores.items()}


def main() -> None:
    students = honest()
    with tempfile.TemporaryDirectory() as tmp:
        ours_s, ours = run_ours(students, Path(tmp))
        nbg_s, nbg = run_nbgrader(students, Path(tmp))
    print(f"{len(students)} honest a2 submissions (2 notebooks each)")
    print(f"cnn-course grade --workers 2: {ours_s:6.1f} s ({ours_s / len(students):.2f} s each)")
    print(f"nbgrader autograde:           {nbg_s:6.1f} s ({nbg_s / len(students):.2f} s each)")
    print(f"speedup: {nbg_s / ours_s:.1f}x (target >= 10x)")
    mine, theirs = verdict(ours), verdict(nbg)
    for label in ("full", "nothing"):
        a = sorted(s for s, v in mine.items() if v == label)
        b = sorted(s for s, v in theirs.items() if v == label)
        print(f"earn {label}: cnn-course {a}; nbgrader {b}; "
              f"{'same' if a == b else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
