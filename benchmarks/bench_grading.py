"""cnn-course grade vs nbgrader autograde on the a2_convolution sample class (one run each).

    python benchmarks/bench_grading.py

Only the honest students (correct, partial, one per common bug) are used: nbgrader runs
student code unsandboxed in its own kernel, so the broken and hostile students are not
handed to it. Prints both wall times, the ratio (target: ours >= 15x faster with
--workers 2), the fixed cost of one grading run, and whether both agree, notebook by
notebook, on which submissions earn full marks and which earn nothing (autograded points
only: the written answers wait for a TA in both).
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
    """Wall time of one `cnn-course grade` run, and (student, notebook) -> (score, max)."""
    submitted = tmp / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    for s in students:
        shutil.copytree(SAMPLE / s, submitted / s)
    for stale in tmp.glob("ours.db*"):  # a fresh gradebook and no cache: nothing reused
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT,
                    "--submitted", str(submitted), "--json", str(tmp / "ours.json"),
                    "--gradebook", str(tmp / "ours.db"), "--feedback", str(tmp / "fb"),
                    "--workers", "2", "--quiet", "--course-dir", str(ROOT)], check=True)
    seconds = time.perf_counter() - start
    report = json.loads((tmp / "ours.json").read_text())["students"]
    return seconds, {(s, nb): (sum(t["score"] for t in r["tests"]),
                               sum(t["max_score"] for t in r["tests"]))
                     for s, result in report.items() for nb, r in result["notebooks"].items()}


def run_nbgrader(students: list[str], tmp: Path) -> tuple[float, dict[str, tuple[float, float]]]:
    course = tmp / "course"
    course.mkdir()
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    # the course's config refuses nbgrader's own autograde (it runs student code unsandboxed);
    # the comparison needs it to run, so this copy lifts that refusal
    config = (ROOT / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(config + "\nc.Autograde.pre_convert_hook = None\n")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT,
                    "--force", "--log-level=ERROR"], cwd=course, env=env(), check=True)
    for s in students:
        shutil.copytree(SAMPLE / s / ASSIGNMENT, course / "submitted" / s / ASSIGNMENT)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT,
                           "--create", "--log-level=ERROR"], cwd=course, env=env(),
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed:\n{done.stderr[-3000:]}")
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            for notebook in gradebook.find_submission(ASSIGNMENT, student).notebooks:
                scores[student, notebook.name] = (notebook.code_score, notebook.max_code_score)
    return seconds, scores


def verdict(scores: dict[tuple[str, str], tuple[float, float]]) -> dict[tuple[str, str], str]:
    return {key: "full" if sc >= top else ("nothing" if sc == 0 else "partial")
            for key, (sc, top) in scores.items()}


def main() -> None:
    students = honest()
    print("OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE left as set (unsetting them changed nothing "
          "measurable here)")
    with tempfile.TemporaryDirectory() as tmp:
        one_s, _ = run_ours(["a2_correct"], Path(tmp))  # the fixed cost of one run
        ours_s, ours = run_ours(students, Path(tmp))
        nbg_s, nbg = run_nbgrader(students, Path(tmp))
    n = len(students)
    print(f"{n} honest a2 submissions (2 notebooks each), one run each, wall time:")
    print(f"  cnn-course grade --workers 2: {ours_s:6.1f} s ({ours_s / n:.2f} s each)")
    print(f"  nbgrader autograde:           {nbg_s:6.1f} s ({nbg_s / n:.2f} s each)")
    print(f"  speedup: {nbg_s / ours_s:.1f}x (target >= 15x)")
    marginal = (ours_s - one_s) / (n - 1)
    print(f"  of which cnn-course's fixed cost (one submission alone): {one_s:.1f} s; each "
          f"further submission {marginal:.2f} s, {nbg_s / n / marginal:.0f}x less than "
          "nbgrader's per-submission time")
    mine, theirs = verdict(ours), verdict(nbg)
    for label in ("full", "nothing"):
        a = sorted(f"{s}/{nb}" for (s, nb), v in mine.items() if v == label)
        b = sorted(f"{s}/{nb}" for (s, nb), v in theirs.items() if v == label)
        print(f"notebooks earning {label}: {'same' if a == b else 'DIFFERENT'} "
              f"({len(a)} by cnn-course, {len(b)} by nbgrader)")
        for extra in sorted(set(a) ^ set(b)):
            print(f"  {extra}: {'cnn-course only' if extra in a else 'nbgrader only'}")
        if label == "full" and set(b) - set(a):
            print("  (nbgrader runs only the notebook's visible test cells: a bug that only "
                  "our hidden tests see earns full marks there)")
    whole = {s for s in students if all(mine[s, nb] == "full" for (t, nb) in mine if t == s)}
    print(f"students with full marks: {sorted(whole)}")


if __name__ == "__main__":
    main()
