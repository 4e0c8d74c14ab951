"""What a release checks before it writes anything: the solutions earn what they should.

The hidden tests compare students with the reference cnnlib, and the visible checks in the
notebooks with values of their own; the solution notebooks are a third copy of the same
functions. A release refuses unless the three agree:

- every solution notebook, graded as a submission (sandboxed, against the student edition
  of this assignment), earns full marks on its hidden tests;
- every visible test cell passes when run against the solution in the same sandbox;
- each grade cell's points equal the points of the hidden tests that carry its grade_id,
  and no hidden test names a grade cell that the notebook lacks.

Manually graded cells are listed (their points wait for the formgrader).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .assignments import source_notebooks
from .grader.grading import Job, course_fingerprint, grade_student, load_sources, zero_tests
from .grader.layout import NotebookFile
from .grader.sandbox import Limits
from .grader.visible import run_visible_checks
from .student_edition import build_student_cnnlib


class ReleaseRefused(RuntimeError):
    """The solutions and the hidden tests disagree; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("release refused:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)  # "notebook: grade_id (points)"
    seconds: float = 0.0


def point_problems(assignment: str, sources) -> list[str]:
    """Grade cells whose points differ from their hidden tests', or that have none."""
    problems = []
    for notebook, info in sources.items():
        hidden: dict[str, float] = defaultdict(float)
        for test in zero_tests(notebook):
            hidden[test.grade_id] += test.max_score
        for grade_id, points in info.grade_cells.items():
            if grade_id not in hidden:
                problems.append(f"{notebook}: grade cell {grade_id} ({points:g} points) has no "
                                "hidden test")
            elif abs(hidden[grade_id] - points) > 1e-9:
                problems.append(f"{notebook}: grade cell {grade_id} is worth {points:g} points "
                                f"but its hidden tests give {hidden[grade_id]:g}")
        for grade_id in sorted(set(hidden) - set(info.grade_cells)):
            problems.append(f"{notebook}: hidden tests carry grade_id {grade_id}, which is no "
                            "test cell of the notebook")
    return problems


def check_release(course_dir: Path, assignment: str, seed: int = 20261203) -> CheckReport:
    """Every check of this module's docstring; problems in the report, nothing written."""
    import time

    start = time.perf_counter()
    report = CheckReport()
    notebooks = [p.stem for p in source_notebooks(course_dir, assignment)]
    sources = load_sources(course_dir, assignment, notebooks)
    report.problems += point_problems(assignment, sources)
    report.manual = [f"{nb}: {gid} ({pts:g} points)" for nb, info in sources.items()
                     for gid, pts in info.manual_cells.items()]
    with tempfile.TemporaryDirectory(prefix="cnn-course-release-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "submitted" / "solution" / assignment
        folder.mkdir(parents=True)
        for notebook in notebooks:
            shutil.copy(course_dir / "solutions" / assignment / f"{notebook}.ipynb", folder)
        build_student_cnnlib(assignment, tmp / "lib", course_dir=course_dir)
        job = Job("solution", assignment, tmp / "submitted", notebooks, sources,
                  tmp / "lib", Limits(), seed, course_fingerprint(sources),
                  {nb: NotebookFile(f"{nb}.ipynb") for nb in notebooks})
        result = grade_student(job)
        for name, nb in result.notebooks.items():
            if nb.error:
                report.problems.append(f"{name}: the solution could not be graded: {nb.error}")
            for test in nb.tests:
                if test.status != "passed":
                    report.problems.append(f"{name}: the solution fails the hidden test "
                                           f"{test.name} ({test.grade_id}): {test.message}")
            for grade_id, passed, message in run_visible_checks(job, name, course_dir):
                if not passed:
                    report.problems.append(f"{name}: the solution fails its visible check "
                                           f"{grade_id}: {message}")
    report.seconds = time.perf_counter() - start
    return report
