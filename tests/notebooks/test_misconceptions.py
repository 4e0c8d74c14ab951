"""The mistake catalogue: typical mistakes, each made in a correct notebook, each named by
the first visible check that fails.

The notebook's own test cells (the instructor's, from solutions/) run against the edited
solution in the grader's sandbox with the student edition of cnnlib, as a student's Run All
would meet them, in the order the notebook has them.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import nbformat
import pytest
from mistakes import Mistake

from autograder.assignments import ASSIGNMENTS
from autograder.grader.grading import Job, load_sources
from autograder.grader.layout import NotebookFile
from autograder.grader.sandbox import Limits, Zygote
from autograder.grader.visible import run_visible_checks
from autograder.student_edition import build_student_cnnlib

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MINIMUM = 40


def catalogue() -> list[Mistake]:
    found = []
    for path in sorted(HERE.glob("mistakes_*.py")):
        found += importlib.import_module(path.stem).MISTAKES
    return found


def _assignment(notebook: str) -> str:
    for assignment in ASSIGNMENTS:
        if (ROOT / "solutions" / assignment / f"{notebook}.ipynb").is_file():
            return assignment
    raise LookupError(f"no solution notebook {notebook}")


LIMITS = Limits(call_seconds=120, load_seconds=120, notebook_seconds=600)


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    """The student edition of an assignment and one sandbox on it, made once per test
    process: each mistake's notebook still runs in a fresh process forked from it, as each
    notebook of one student does in the grader."""
    made: dict[str, tuple[Path, Zygote]] = {}

    def edition(assignment: str) -> tuple[Path, Zygote]:
        if assignment not in made:
            folder = tmp_path_factory.mktemp(f"lib-{assignment}")
            build_student_cnnlib(assignment, folder, course_dir=ROOT)
            os.chmod(folder, 0o755)
            made[assignment] = folder, Zygote(folder, LIMITS)
        return made[assignment]

    yield edition
    for _, zygote in made.values():
        zygote.close()


def checks(notebook: str, nb, edition: tuple[Path, Zygote],
           tmp_path: Path) -> list[tuple[str, bool, str]]:
    """Every visible check of ``notebook`` run against ``nb``: (grade_id, passed, message)."""
    assignment = _assignment(notebook)
    folder = tmp_path / "submitted" / "student" / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{notebook}.ipynb")
    sources = load_sources(ROOT, assignment, [notebook])
    student_lib, zygote = edition
    job = Job("student", assignment, tmp_path / "submitted", [notebook], sources, student_lib,
              LIMITS, 0, "", {notebook: NotebookFile(f"{notebook}.ipynb")})
    return run_visible_checks(job, notebook, ROOT, zygote)


def _edited(mistake: Mistake):
    path = ROOT / "solutions" / _assignment(mistake.notebook) / f"{mistake.notebook}.ipynb"
    nb = nbformat.read(path, 4)
    cells = [c for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade_id") == mistake.grade_id]
    assert len(cells) == 1, f"no single solution cell {mistake.grade_id}"
    assert mistake.old in cells[0].source, f"{mistake.old!r} is not in {mistake.grade_id}"
    cells[0].source = cells[0].source.replace(mistake.old, mistake.new, 1)
    return nb


def test_the_catalogue_is_large_enough():
    mistakes = catalogue()
    assert len(mistakes) >= MINIMUM, f"{len(mistakes)} mistakes; the catalogue needs {MINIMUM}"
    assert len({m.id for m in mistakes}) == len(mistakes), "two mistakes share an id"


@pytest.mark.parametrize("mistake", catalogue(), ids=lambda m: m.id)
def test_the_first_failing_check_names_the_mistake(mistake, editions, tmp_path):
    results = checks(mistake.notebook, _edited(mistake),
                     editions(_assignment(mistake.notebook)), tmp_path)
    failing = [(grade_id, message) for grade_id, passed, message in results if not passed]
    assert failing, f"no visible check catches: {mistake.why}"
    grade_id, message = failing[0]
    missing = [f for f in mistake.names if f.lower() not in message.lower()]
    assert not missing, (f"the first failing check ({grade_id}) does not name "
                         f"{mistake.why!r}: {message}")


@pytest.mark.parametrize("notebook", sorted({m.notebook for m in catalogue()}))
def test_the_correct_notebook_passes_every_check(notebook, editions, tmp_path):
    path = ROOT / "solutions" / _assignment(notebook) / f"{notebook}.ipynb"
    results = checks(notebook, nbformat.read(path, 4), editions(_assignment(notebook)),
                     tmp_path)
    assert results and all(passed for _, passed, _ in results), results
