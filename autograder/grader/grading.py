"""Grade one student's submission of an assignment: every notebook, every hidden test."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from .judge import hidden_file, run_hidden_tests
from .layout import NotebookFile
from .program import (
    SourceInfo,
    SubmissionError,
    build_program,
    read_notebook_bytes,
    read_source,
    read_submission,
)
from .proxy import Session
from .results import CheckResult, ManualCell, NotebookResult, StudentResult, TestResult
from .sandbox import Limits, Sandbox, Zygote


@dataclass
class Job:
    """Everything a worker needs to grade one student (picklable)."""

    student: str
    assignment: str
    submitted: Path                   # DIR (the grader's): DIR/<student>/<assignment>/*.ipynb
    notebooks: list[str]
    sources: dict[str, SourceInfo]
    student_lib: Path
    limits: Limits
    seed: int = 0                     # the run's seed: hidden tests draw inputs from it
    course_key: str = ""              # course_fingerprint(): the course's side of the cache key
    files: dict[str, NotebookFile] = field(default_factory=dict)  # notebook -> file to grade
    course_dir: Path | None = None    # set to also run the notebook's visible test cells

    @property
    def folder(self) -> Path:
        return self.submitted / self.student / self.assignment

    def file(self, notebook: str) -> NotebookFile:
        return self.files.get(notebook) or NotebookFile(f"{notebook}.ipynb")

    def notebook_path(self, notebook: str) -> Path:
        return self.folder / self.file(notebook).filename


def zero_tests(notebook: str, message: str = "not graded: see the notebook's error"
               ) -> list[TestResult]:
    """The hidden tests of a notebook, each with 0 points (for notebooks not gradable)."""
    import ast

    tests = []
    tree = ast.parse(hidden_file(notebook).read_text())
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "grade":
                kw = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                tests.append(TestResult(node.name, kw["grade_id"], 0.0, float(kw["points"]),
                                        "error", message))
    return tests


def _manual(job: Job, notebook: str) -> list[ManualCell]:
    return [ManualCell(grade_id, points)
            for grade_id, points in job.sources[notebook].manual_cells.items()]


def grade_notebook(job: Job, notebook: str, zygote: Zygote | None = None) -> NotebookResult:
    """One notebook's hidden tests (and, if asked, its visible checks); ``zygote`` is the
    student's sandbox process that each program is forked from (one of its own if None)."""
    zygote = zygote or Zygote(job.student_lib, job.limits)
    result = _grade_notebook(job, notebook, zygote)
    result.warning = job.file(notebook).warning if result.error is None else None
    if job.course_dir is not None:
        from .visible import run_visible_checks

        result.checks = [CheckResult(*found) for found in
                         run_visible_checks(job, notebook, job.course_dir, zygote)]
    return result


def _grade_notebook(job: Job, notebook: str, zygote: Zygote) -> NotebookResult:
    manual = _manual(job, notebook)
    try:
        nb = read_submission(job.notebook_path(notebook), root=job.submitted)
    except SubmissionError as error:
        return NotebookResult(zero_tests(notebook), str(error), manual)
    program = build_program(nb, job.sources[notebook])
    session = Session(lambda: Sandbox(program, job.student_lib, job.limits, zygote),
                      notebook_seconds=job.limits.notebook_seconds)
    try:
        session.sandbox()  # load once up front: a notebook that cannot run is one error
    except Exception as error:  # noqa: BLE001 - load errors, crashes and timeouts alike
        session.close()
        sentence = str(error) if not hasattr(error, "type") else (
            f"your notebook failed while running top to bottom: {error}")
        return NotebookResult(zero_tests(notebook), sentence, manual, session.printed)
    try:
        tests = run_hidden_tests(notebook, session, job.seed)
    finally:
        session.close()
    return NotebookResult(tests, None, manual, session.printed[:4000])


def grade_student(job: Job) -> StudentResult:
    """Every notebook of one student's submission, graded; one sandbox for the student,
    a fresh process forked from it for each notebook."""
    start = time.perf_counter()
    zygote = Zygote(job.student_lib, job.limits)
    try:
        notebooks = {nb: grade_notebook(job, nb, zygote) for nb in job.notebooks}
    finally:
        zygote.close()
    return StudentResult(job.student, notebooks, seconds=time.perf_counter() - start)


def crashed(job: Job, sentence: str) -> StudentResult:
    """The result for a student whose grading failed in the grader itself."""
    result = StudentResult.crashed(job.student, {nb: zero_tests(nb) for nb in job.notebooks},
                                   sentence)
    for name, nb in result.notebooks.items():
        nb.manual = _manual(job, name)
    return result


def course_fingerprint(sources: dict[str, SourceInfo]) -> str:
    """A hash of everything on the course's side that can change a grade: every hidden-test
    file and helper, the reference cnnlib, the grader's own code, the source notebooks'
    grade cells and points, and the package's version."""
    from importlib import metadata

    from ..student_edition import CNNLIB_DIR

    digest = hashlib.sha256()
    try:
        digest.update(metadata.version("cnn-course").encode())
    except metadata.PackageNotFoundError:
        digest.update(b"<no version>")
    grader_dir = Path(__file__).resolve().parent
    for folder in (hidden_file(next(iter(sources))).parent, CNNLIB_DIR, grader_dir):
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    for notebook, info in sorted(sources.items()):
        digest.update(repr((notebook, sorted(info.grade_cells.items()), sorted(info.skip_ids),
                            sorted(info.test_ids))).encode())
    return digest.hexdigest()


def fingerprint(job: Job) -> str:
    """A hash of what decides a student's grade: their files, the course's side
    (``job.course_key``), the limits and the seed."""
    digest = hashlib.sha256(job.course_key.encode())
    for notebook in job.notebooks:
        digest.update(notebook.encode())
        digest.update(job.file(notebook).filename.encode())
        try:
            digest.update(read_notebook_bytes(
                job.submitted, (job.student, job.assignment, job.file(notebook).filename)))
        except SubmissionError as error:
            digest.update(f"<{error}>".encode())
    digest.update(repr(job.limits).encode())
    digest.update(str(job.seed).encode())
    digest.update(b"checks" if job.course_dir is not None else b"")
    return digest.hexdigest()


def load_sources(course: Path, assignment: str, notebooks: list[str]) -> dict[str, SourceInfo]:
    return {nb: read_source(course / "solutions" / assignment / f"{nb}.ipynb")
            for nb in notebooks}
