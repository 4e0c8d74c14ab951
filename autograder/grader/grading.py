"""Grade one student's submission of an assignment: every notebook, every hidden test."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from .judge import TestResult, hidden_file, run_hidden_tests
from .program import (
    SourceInfo,
    SubmissionError,
    build_program,
    read_notebook_bytes,
    read_source,
    read_submission,
)
from .proxy import Session
from .sandbox import Limits, Sandbox


@dataclass
class NotebookResult:
    score: float
    max_score: float
    error: str | None
    tests: list[TestResult] = field(default_factory=list)
    output: str = ""

    def as_dict(self) -> dict:
        return {"score": self.score, "max_score": self.max_score, "error": self.error,
                "tests": [t.as_dict() for t in self.tests]}


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

    @property
    def folder(self) -> Path:
        return self.submitted / self.student / self.assignment

    def notebook_path(self, notebook: str) -> Path:
        return self.folder / f"{notebook}.ipynb"


def _zero_tests(notebook: str, session: Session | None = None) -> list[TestResult]:
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
                                        "error", "not graded: see the notebook's error"))
    return tests


def grade_notebook(job: Job, notebook: str) -> NotebookResult:
    try:
        nb = read_submission(job.notebook_path(notebook), root=job.submitted)
    except SubmissionError as error:
        tests = _zero_tests(notebook)
        return NotebookResult(0.0, sum(t.max_score for t in tests), str(error), tests)
    program = build_program(nb, job.sources[notebook])
    session = Session(lambda: Sandbox(program, job.student_lib, job.limits),
                      notebook_seconds=job.limits.notebook_seconds)
    try:
        session.sandbox()  # load once up front: a notebook that cannot run is one error
    except Exception as error:  # noqa: BLE001 - load errors, crashes and timeouts alike
        session.close()
        tests = _zero_tests(notebook)
        sentence = str(error) if not hasattr(error, "type") else (
            f"your notebook failed while running top to bottom: {error}")
        return NotebookResult(0.0, sum(t.max_score for t in tests), sentence, tests,
                              session.printed)
    try:
        tests = run_hidden_tests(notebook, session, job.seed)
    finally:
        session.close()
    return NotebookResult(
        score=round(sum(t.score for t in tests), 6),
        max_score=sum(t.max_score for t in tests),
        error=None, tests=tests, output=session.printed,
    )


def grade_student(job: Job) -> dict:
    """The student's entry of the JSON report (DESIGN.md's schema), plus timing."""
    start = time.perf_counter()
    notebooks = {nb: grade_notebook(job, nb) for nb in job.notebooks}
    return {
        "score": round(sum(r.score for r in notebooks.values()), 6),
        "max_score": sum(r.max_score for r in notebooks.values()),
        "notebooks": {nb: r.as_dict() for nb, r in notebooks.items()},
        "_output": {nb: r.output[:4000] for nb, r in notebooks.items()},
        "_seconds": time.perf_counter() - start,
    }


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
        try:
            digest.update(read_notebook_bytes(
                job.submitted, (job.student, job.assignment, f"{notebook}.ipynb")))
        except SubmissionError as error:
            digest.update(f"<{error}>".encode())
    digest.update(repr(job.limits).encode())
    digest.update(str(job.seed).encode())
    return digest.hexdigest()


def load_sources(course: Path, assignment: str, notebooks: list[str]) -> dict[str, SourceInfo]:
    return {nb: read_source(course / "solutions" / assignment / f"{nb}.ipynb")
            for nb in notebooks}
