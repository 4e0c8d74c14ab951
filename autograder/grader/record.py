"""Record results in the nbgrader gradebook (the other formats are methods of ``results``)."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from .program import SourceInfo
from .results import StudentResult


def ensure_alembic_on_path() -> None:
    """nbgrader's Gradebook runs `alembic` from PATH: put this interpreter's bin/ first."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def alembic_head() -> str:
    """The schema revision that nbgrader stamps on a new gradebook, found in-process.

    nbgrader asks for it by running ``alembic heads`` in a subprocess, which starts a whole
    interpreter (about 3 s here); alembic's own API reads the same migration scripts.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite://") as ini:
        head = ScriptDirectory.from_config(Config(ini)).get_current_head()
    if not head:
        raise RuntimeError("nbgrader's alembic migrations name no head revision")
    return head


def _open_gradebook(url: str):  # -> nbgrader.api.Gradebook
    import nbgrader.api

    # the only place nbgrader calls it is a new gradebook's version stamp
    original = nbgrader.api.get_alembic_version
    nbgrader.api.get_alembic_version = alembic_head
    try:
        return nbgrader.api.Gradebook(url)
    finally:
        nbgrader.api.get_alembic_version = original


class GradebookWriter:
    """Writes auto scores into an nbgrader gradebook (SQLite by default), idempotently.

    Test cells get their auto scores; manually graded cells are created with their points
    and left to the formgrader (a manual score a TA entered is never overwritten, and is
    read back into the results so every total counts it). The submission's timestamp is
    the one nbgrader reads from ``submitted/<student>/<assignment>/timestamp.txt``, so the
    formgrader sees our grading as the autograding of that submission.
    """

    def __init__(self, db_path: Path, assignment: str, sources: dict[str, SourceInfo],
                 duedate=None) -> None:
        ensure_alembic_on_path()
        warnings.filterwarnings("ignore", module="nbgrader")
        warnings.filterwarnings("ignore", module="sqlalchemy")
        self.url = f"sqlite:///{Path(db_path).resolve()}"
        self.assignment = assignment
        self.sources = sources
        self.gradebook = _open_gradebook(self.url)
        options = {"duedate": duedate} if duedate is not None else {}
        record = self.gradebook.update_or_create_assignment(assignment, **options)
        self.duedate = record.duedate
        for notebook, info in sources.items():
            self.gradebook.update_or_create_notebook(notebook, assignment)
            for grade_id, points in {**info.grade_cells, **info.manual_cells}.items():
                if grade_id in info.task_cells:
                    self.gradebook.update_or_create_task_cell(
                        grade_id, notebook, assignment, max_score=points,
                        cell_type=info.cell_types.get(grade_id, "markdown"))
                else:
                    self.gradebook.update_or_create_grade_cell(
                        grade_id, notebook, assignment, max_score=points,
                        cell_type=info.cell_types.get(grade_id, "code"))
            # every cell a student writes in: nbgrader keeps a comment for each, which its
            # generate_feedback and the formgrader's comment boxes expect
            for grade_id in info.solution_cells:
                self.gradebook.update_or_create_solution_cell(grade_id, notebook, assignment)
        # grade rows name their cell by id: the names, once, for ``record``
        self.cell_names = {cell.id: cell.name
                           for nb in self.gradebook.find_assignment(assignment).notebooks
                           for cell in [*nb.grade_cells, *nb.task_cells]}

    def record(self, result: StudentResult, timestamp=None, commit: bool = True) -> None:
        """Write one student's auto scores and read back their manual ones (into
        ``result``); ``commit=False`` leaves the commit to ``close``."""
        from nbgrader.api import MissingEntry

        gb = self.gradebook
        gb.update_or_create_student(result.student)
        try:
            submission = gb.find_submission(self.assignment, result.student)
        except MissingEntry:
            submission = gb.add_submission(self.assignment, result.student)
        submission.timestamp = timestamp
        # one pass over the submission's notebooks and grades (a query per grade cell cost
        # a tenth of a second per student, in the process that records the whole class)
        from nbgrader.api import Grade

        submitted = {snb.name: snb for snb in submission.notebooks}
        notebook_of = {snb.id: name for name, snb in submitted.items()}
        every = gb.db.query(Grade).filter(Grade.notebook_id.in_(list(notebook_of))).all()
        by_name = {(notebook_of[g.notebook_id], self.cell_names.get(g.cell_id)): g
                   for g in every}
        for notebook, info in self.sources.items():
            nb = result.notebooks.get(notebook)
            snb = submitted[notebook]
            grades = {name: g for (where, name), g in by_name.items() if where == notebook}
            by_cell: dict[str, float] = {}
            for test in nb.tests if nb else []:
                by_cell[test.grade_id] = by_cell.get(test.grade_id, 0.0) + test.score
            for grade_id, points in info.grade_cells.items():
                grade = grades[grade_id]
                grade.auto_score = min(points, round(by_cell.get(grade_id, 0.0), 6))
                grade.needs_manual_grade = False
            for cell in nb.manual if nb else []:
                grade = grades[cell.grade_id]
                cell.score = grade.manual_score
                grade.needs_manual_grade = grade.manual_score is None
            snb.late_submission_penalty = nb.late_penalty if nb else 0.0
        if commit:
            gb.db.commit()

    def close(self) -> None:
        self.gradebook.db.commit()
        self.gradebook.close()


class NoGradebook:
    """Stands in for the gradebook when grades are kept elsewhere (Gradescope)."""

    duedate = None

    def record(self, result: StudentResult, timestamp=None, commit: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


def write_autograded(folder: Path, job, timestamp: str | None,
                     result: StudentResult | None = None) -> Path:
    """Leave ``folder/<student>/<assignment>/`` as `nbgrader autograde` would: the notebooks
    (outputs cleared: the formgrader renders them for TAs) and the submission's timestamp,
    so the formgrader lists the submission as autograded and opens it for manual grading.

    Each notebook ends with a Markdown cell of this grader's findings for it, so the pages
    `nbgrader generate_feedback` makes from these notebooks carry them to students. The
    notebook was validated when it was graded; here it is handled as plain JSON.
    """
    import json

    from .program import SubmissionError, read_notebook_bytes

    target = folder / job.student / job.assignment
    target.mkdir(parents=True, exist_ok=True)
    for notebook in job.notebooks:
        out = target / f"{notebook}.ipynb"
        graded = result.notebooks.get(notebook) if result is not None else None
        try:
            if graded is not None and graded.error is not None:
                raise SubmissionError(graded.error)
            nb = json.loads(read_notebook_bytes(
                job.submitted, (job.student, job.assignment, job.file(notebook).filename)))
            cells = nb["cells"]
        except (SubmissionError, ValueError, KeyError, TypeError):
            out.unlink(missing_ok=True)
            continue
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        if graded is not None:
            cells.append({"cell_type": "markdown", "metadata": {},
                          "source": result.notebook_markdown(notebook,
                                                             heading="## Autograder feedback")})
            if nb.get("nbformat_minor", 0) >= 5:
                cells[-1]["id"] = f"cnn-course-feedback-{notebook}"[:64]
        out.write_text(json.dumps(nb, ensure_ascii=False))
    stamp = target / "timestamp.txt"
    if timestamp is not None:
        stamp.write_text(timestamp + "\n")
    else:
        stamp.unlink(missing_ok=True)
    return target
