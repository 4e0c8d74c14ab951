"""A release checks itself before it writes anything, and leaves nothing when it refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

import cnnlib
from autograder.release import release
from autograder.release_checks import ReleaseRefused, check_release

pytestmark = pytest.mark.grader

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "a2_convolution"
# the answer cells a2's solutions have, graded by hand in the formgrader
MANUAL = ["03_convolution: answer_flip (2 points)",
          "03_convolution: answer_gradient_sums (2 points)",
          "04_pooling: answer_invariance (2 points)", "04_pooling: answer_why_pool (2 points)"]


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    return course


def _nothing_written(course: Path) -> bool:
    return not (course / "notebooks").exists() and not (course / "dist").exists()


def test_the_solutions_earn_full_marks_and_a_release_says_so(tmp_path):
    report = check_release(_course(tmp_path), ASSIGNMENT)
    assert report.problems == []
    assert report.manual == MANUAL


def test_a_broken_reference_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    course = _course(tmp_path)
    correct = cnnlib.avgpool2d_forward

    def broken(x, kernel_size, stride=None):
        out, cache = correct(x, kernel_size, stride)
        return out * 1.01, cache  # the reference the hidden tests compare with is wrong

    monkeypatch.setattr(cnnlib, "avgpool2d_forward", broken)
    with pytest.raises(ReleaseRefused) as refused:
        release(ASSIGNMENT, course, use_db=False)
    assert any("04_pooling" in p and "test_avgpool2d_forward" in p
               for p in refused.value.problems)
    assert _nothing_written(course)


def test_points_that_differ_from_the_hidden_tests_are_refused(tmp_path):
    course = _course(tmp_path)
    path = course / "solutions" / ASSIGNMENT / "04_pooling.ipynb"
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_maxpool2d_forward":
            meta["points"] = meta["points"] + 1
    nbformat.write(nb, path)
    with pytest.raises(ReleaseRefused) as refused:
        release(ASSIGNMENT, course, use_db=False)
    assert any("test_maxpool2d_forward" in p and "hidden tests give" in p
               for p in refused.value.problems)
    assert _nothing_written(course)


def test_manual_cells_are_listed(tmp_path):
    course = _course(tmp_path)
    path = course / "solutions" / ASSIGNMENT / "04_pooling.ipynb"
    nb = nbformat.read(path, 4)
    answer = nbformat.v4.new_markdown_cell("Max pooling keeps the largest value ...")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False,
                                   "points": 2, "grade_id": "why_invariant",
                                   "schema_version": 3}
    nb.cells.append(answer)
    nbformat.write(nb, path)
    assert check_release(course, ASSIGNMENT).manual == [
        *MANUAL, "04_pooling: why_invariant (2 points)"]


def test_a_hidden_assert_already_public_in_a_visible_test_is_no_leak(tmp_path):
    from autograder.release import HIDDEN_DIR, leaked_lines

    course = _course(tmp_path)
    hidden = (HIDDEN_DIR / "test_04_pooling.py").read_text().splitlines()
    line = next(x.strip() for x in hidden if "assert" in x and len(x.strip()) > 30)
    def with_line(nb):
        visible = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                       and not c.metadata["nbgrader"].get("solution"))
        visible.source += "\n" + line
        return nb

    path = course / "solutions" / ASSIGNMENT / "04_pooling.ipynb"
    nbformat.write(with_line(nbformat.read(path, 4)), path)
    released = tmp_path / "released.ipynb"
    nbformat.write(with_line(nbformat.read(ROOT / "notebooks" / ASSIGNMENT /
                                           "04_pooling.ipynb", 4)), released)
    assert leaked_lines([released], ASSIGNMENT, course) == []
    # another hidden assert, public nowhere, is a leak wherever it shows up
    secret = next(x.strip() for x in hidden if "assert" in x and len(x.strip()) > 30
                  and x.strip() != line)
    other = tmp_path / "notes.md"
    other.write_text(line + "\n" + secret + "\n" + json.dumps(np.arange(3).tolist()))
    assert leaked_lines([other], ASSIGNMENT, course) == [f"{other}: {secret}"]
