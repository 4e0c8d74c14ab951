"""The notebook's own visible test cells, run against a submission in the sandbox.

Students see these checks in their notebook; on Gradescope they are shown at once, before
grades are published, as zero-point tests ("the checks you can run yourself: did they pass
here?"), while the hidden tests that carry the points wait for publication. The cells'
source is the instructor's (from the source notebook), never the submission's copy of it.
"""

from __future__ import annotations

import nbformat

from .escape import one_line
from .grading import Job
from .program import SubmissionError, build_program, read_submission
from .proxy import Session
from .sandbox import Limits, Sandbox, SandboxError, StudentError, Zygote


def visible_cells(job: Job, notebook: str, course_dir) -> list[tuple[str, str, int]]:
    """(grade_id, source, cell number) of each visible test cell of the source notebook."""
    path = course_dir / "solutions" / job.assignment / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    found = []
    for number, cell in enumerate(nb.cells, start=1):
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            found.append((meta["grade_id"], cell.source, number))
    return found


def run_visible_checks(job: Job, notebook: str, course_dir,
                       zygote: Zygote | None = None) -> list[tuple[str, bool, str]]:
    """(grade_id, passed, what happened) for each visible check of ``notebook``."""
    cells = visible_cells(job, notebook, course_dir)
    try:
        nb = read_submission(job.notebook_path(notebook), root=job.submitted)
    except SubmissionError as error:
        return [(grade_id, False, f"not run: {error}") for grade_id, _, _ in cells]
    program = build_program(nb, job.sources[notebook])
    limits: Limits = job.limits
    session = Session(lambda: Sandbox(program, job.student_lib, limits, zygote),
                      notebook_seconds=limits.notebook_seconds)
    results = []
    try:
        for grade_id, source, number in cells:
            try:
                session.sandbox().request({"op": "exec", "source": source,
                                           "cell": number, "args": [],
                                           "kwargs": {"__dict__": {}}},
                                          [], f"the check {grade_id}")
                results.append((grade_id, True, "passed"))
            except StudentError as error:
                results.append((grade_id, False, one_line(
                    f"{error.type}: {error.message}" if error.message else error.type, 1000)))
            except SandboxError as error:
                results.append((grade_id, False, one_line(str(error), 500)))
    finally:
        session.close()
    return results
