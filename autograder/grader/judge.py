"""Judge in the trusted process: run a notebook's hidden pytest file against the proxy.

The hidden tests (``autograder/hidden/test_<notebook>.py``) are ordinary pytest files. Their
``student`` fixture (in ``autograder/hidden/conftest.py``) asks this module for the session
being graded; every comparison therefore runs here, never in the student's process. Each
test's ``@pytest.mark.grade(grade_id=..., points=...)`` gives its points and grade cell.
"""

from __future__ import annotations

import io
import os
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from ..student_edition import STUB_PREFIX
from .escape import one_line
from .proxy import Session, Student
from .results import TestResult
from .sandbox import LoadError, SandboxCrashed, SandboxTimeout, StudentError

HIDDEN_DIR = Path(__file__).resolve().parent.parent / "hidden"

_CURRENT: Student | None = None


def current_student() -> Student | None:
    """The proxy of the submission being judged, or None outside a grading run."""
    return _CURRENT


class ConfigurationError(RuntimeError):
    """A hidden test without its grade marker, or a hidden file that is missing."""


def hidden_file(notebook: str) -> Path:
    path = HIDDEN_DIR / f"test_{notebook}.py"
    if not path.is_file():
        raise ConfigurationError(f"no hidden tests for {notebook} ({path})")
    return path


def _assertion_message(error: AssertionError) -> str:
    """The author's message, without pytest's introspection (which quotes test source)."""
    text = str(error)
    for marker in ("\nassert ", "\n +  where", "\nAssertionError"):
        text = text.split(marker)[0]
    if text.startswith("assert "):
        return "the result is not what was expected"
    return text.strip() or "the result is not what was expected"


_GRADER_ROOT = str(Path(__file__).resolve().parents[2])


def _shown(text: str, cap: int = 2000) -> str:
    """A message as a student may see it: one line, capped, no path of the grader's."""
    return one_line(text.replace(_GRADER_ROOT, "…"), cap)


def verdict(error: BaseException | None) -> tuple[str, str]:
    """(status, message) for how a test ended."""
    status, message = _verdict(error)
    return status, _shown(message)


def _verdict(error: BaseException | None) -> tuple[str, str]:
    if error is None:
        return "passed", "ok"
    if isinstance(error, SandboxTimeout):
        return "timeout", str(error)
    if isinstance(error, LoadError):
        return "error", f"your notebook failed while running: {error}"
    if isinstance(error, SandboxCrashed):
        return "error", str(error)
    if isinstance(error, StudentError):
        if error.type == "NotImplementedError":
            if error.message.startswith(STUB_PREFIX):  # the student edition's stubs
                return "failed", (
                    f"your code called the course library for something you are to write "
                    f"yourself ({error.message}{error.where}): write it in the notebook")
            return "failed", ("not implemented yet: the stub still raises "
                              f"NotImplementedError ({error.message or 'no message'})")
        if error.type == "LookupError":
            return "error", error.message
        return "failed", f"your code raised {error}"
    if isinstance(error, AssertionError):
        return "failed", _assertion_message(error)
    if isinstance(error, pytest.fail.Exception):
        return "failed", str(error).strip()
    return "error", f"{type(error).__name__}: {str(error)[:300]}"


class _Collector:
    """A pytest plugin: points from markers, a status and message per test."""

    def __init__(self) -> None:
        self.results: list[TestResult] = []
        self.problems: list[str] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if call.when == "call" or (call.when == "setup" and report.failed):
            marker = item.get_closest_marker("grade")
            if marker is None:
                self.problems.append(f"{item.name} has no @pytest.mark.grade marker")
                return
            points = float(marker.kwargs["points"])
            error = call.excinfo.value if call.excinfo else None
            status, message = verdict(error)
            self.results.append(TestResult(
                name=item.name, grade_id=marker.kwargs["grade_id"],
                score=points if status == "passed" else 0.0, max_score=points,
                status=status, message=message,
            ))

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.append(f"could not collect hidden tests: {report.longreprtext[:500]}")


_MODULES: dict[Path, object] = {}


def _load_hidden(path: Path):
    """The hidden test module, imported once per process (workers grade many students)."""
    if path not in _MODULES:
        import importlib.util
        import sys

        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(f"hidden_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]


def _direct_tests(module) -> list | None:
    """(name, function, grade mark) of each test, or None if any needs more than ``student``.

    Hidden tests that take only the ``student`` fixture can be called directly, which
    skips pytest's per-run start-up (about half a second per notebook).
    """
    import inspect

    tests = []
    for name, function in vars(module).items():
        if not name.startswith("test") or not inspect.isfunction(function):
            continue
        if list(inspect.signature(function).parameters) != ["student"]:
            return None
        marks = [m for m in getattr(function, "pytestmark", []) if m.name == "grade"]
        if not marks:
            raise ConfigurationError(f"{name} has no @pytest.mark.grade marker")
        tests.append((name, function, marks[0]))
    return tests


def use_seed(seed: int) -> None:
    """Make the hidden tests draw their inputs from ``seed`` (their ``_checks.rng``)."""
    import sys

    if str(HIDDEN_DIR) not in sys.path:
        sys.path.insert(0, str(HIDDEN_DIR))
    import _checks

    _checks.use_seed(seed)


def run_hidden_tests(notebook: str, session: Session, seed: int | None = None) -> list[TestResult]:
    """Run the hidden tests of ``notebook`` against ``session``; one result per test.

    ``seed`` is the grading run's: the hidden tests draw their random inputs from it.
    """
    path = hidden_file(notebook)
    tests = _direct_tests(_load_hidden(path))
    if seed is not None:
        use_seed(seed)
    if tests is None:
        return run_with_pytest(notebook, session)
    student = Student(session)
    results = []
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, function, mark in tests:
            points = float(mark.kwargs["points"])
            try:
                function(student)
                error = None
            except BaseException as raised:  # noqa: BLE001 - every ending is a verdict
                if isinstance(raised, (KeyboardInterrupt, SystemExit)):
                    raise
                error = raised
            status, message = verdict(error)
            results.append(TestResult(name, mark.kwargs["grade_id"],
                                      points if status == "passed" else 0.0, points,
                                      status, message))
    return results


def run_with_pytest(notebook: str, session: Session) -> list[TestResult]:
    """Run the hidden tests through pytest itself (for tests that use other fixtures)."""
    global _CURRENT
    path = hidden_file(notebook)
    collector = _Collector()
    _CURRENT = Student(session)
    sink = io.StringIO()
    try:
        with redirect_stdout(sink), redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = pytest.main(
                [str(path), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                 "--import-mode=importlib",  # repeated runs in one process: no name clash
                 "--no-header", "-o", "console_output_style=classic",
                 "--rootdir", str(HIDDEN_DIR), "-c", os.devnull],
                plugins=[collector],
            )
    finally:
        _CURRENT = None
    if collector.problems:
        raise ConfigurationError("; ".join(collector.problems))
    if code not in (0, 1) and not collector.results:
        raise ConfigurationError(f"pytest exited with {code} on {path}:\n{sink.getvalue()[-2000:]}")
    return collector.results
