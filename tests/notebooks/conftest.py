"""Fixtures for the notebook tests, and the solution-notebook timing summary."""

import shutil
from pathlib import Path

import pytest
from nbtools import SOLUTION_TIMES


@pytest.fixture
def student_dir(tmp_path):
    """A folder like a student's: the student edition of cnnlib for an assignment."""
    from autograder.student_edition import build_student_cnnlib

    def make(assignment: str) -> Path:
        folder = tmp_path / assignment
        folder.mkdir()
        build_student_cnnlib(assignment, folder)
        return folder

    yield make
    shutil.rmtree(tmp_path, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    if SOLUTION_TIMES:
        total = sum(SOLUTION_TIMES.values())
        parts = ", ".join(f"{name} {sec:.1f}s" for name, sec in sorted(SOLUTION_TIMES.items()))
        terminalreporter.write_line(
            f"solution notebooks executed in {total:.1f}s ({parts})"
        )
