"""The judge: points from markers, one status and message per test, on fixture hidden files."""

import shutil
from pathlib import Path

import pytest

from autograder.grader import judge
from autograder.grader.program import program_of
from autograder.grader.proxy import Session
from autograder.grader.sandbox import Limits, Sandbox

pytestmark = pytest.mark.a2_convolution

ROOT = Path(__file__).resolve().parents[2]

# The "notebook": a correct function, a wrong one, one that raises, a stub, hostile ones.
PROGRAM = r'''
import os
import numpy as np

def double(x):
    return 2 * x

def triple(x):
    return 2 * x  # the bug the hidden test should name

def divide(a, b):
    return a / b

def todo(x):
    raise NotImplementedError

def leave():
    os._exit(0)

def spin():
    while True:
        pass

import sys
print("noise on stderr", file=sys.stderr)
'''

HIDDEN = r'''
import numpy as np
import pytest


@pytest.mark.grade(grade_id="cell_double", points=2)
def test_double(student):
    np.testing.assert_allclose(student.double(np.arange(3.0)), [0, 2, 4])


@pytest.mark.grade(grade_id="cell_triple", points=3)
def test_triple(student):
    got = student.triple(np.ones(2))
    assert np.allclose(got, 3), "triple(x) returned 2*x: did you multiply by 2?"


@pytest.mark.grade(grade_id="cell_triple", points=1)
def test_triple_bare_assert(student):
    assert student.triple(1.0) == 3.0


@pytest.mark.grade(grade_id="cell_divide", points=1)
def test_divide_by_zero_raises_in_student_code(student):
    student.divide(1, "x")


@pytest.mark.grade(grade_id="cell_todo", points=1)
def test_stub(student):
    student.todo(1)


@pytest.mark.grade(grade_id="cell_gone", points=1)
def test_renamed(student):
    student.conv2d_forward(1)


@pytest.mark.grade(grade_id="cell_exit", points=1)
def test_exit(student):
    student.leave()


@pytest.mark.grade(grade_id="cell_spin", points=1)
def test_spin(student):
    student.spin()


@pytest.mark.grade(grade_id="cell_double", points=1)
def test_double_again_after_the_crashes(student):
    assert student.double(4) == 8
'''


def _hidden_dir(tmp_path: Path, monkeypatch, files: dict[str, str]) -> Path:
    folder = tmp_path / "hidden"
    folder.mkdir()
    shutil.copy(ROOT / "autograder" / "hidden" / "conftest.py", folder / "conftest.py")
    for name, text in files.items():
        (folder / name).write_text(text)
    monkeypatch.setattr(judge, "HIDDEN_DIR", folder)
    return folder


def _session(limits=None, **kwargs):
    limits = limits or Limits(call_seconds=2)
    return Session(lambda: Sandbox(program_of(PROGRAM), None, limits), **kwargs)


def _judge(notebook, session, through_pytest):
    try:
        if through_pytest:
            return {r.name: r for r in judge.run_with_pytest(notebook, session)}
        return {r.name: r for r in judge.run_hidden_tests(notebook, session)}
    finally:
        session.close()


@pytest.mark.parametrize("through_pytest", [False, True], ids=["direct", "pytest"])
def test_points_statuses_and_messages(tmp_path, monkeypatch, through_pytest):
    # a distinct notebook name per run: pytest keeps modules it imported by name
    notebook = f"nb_{'pytest' if through_pytest else 'direct'}"
    _hidden_dir(tmp_path, monkeypatch, {f"test_{notebook}.py": HIDDEN})
    results = _judge(notebook, _session(), through_pytest)
    expected_status = {
        "test_double": "passed", "test_triple": "failed", "test_triple_bare_assert": "failed",
        "test_divide_by_zero_raises_in_student_code": "failed", "test_stub": "failed",
        "test_renamed": "error", "test_exit": "error", "test_spin": "timeout",
        "test_double_again_after_the_crashes": "passed",
    }
    assert {name: r.status for name, r in results.items()} == expected_status
    assert (results["test_double"].score, results["test_double"].max_score) == (2.0, 2.0)
    assert (results["test_triple"].score, results["test_triple"].max_score) == (0.0, 3.0)
    assert results["test_triple"].grade_id == "cell_triple"
    assert results["test_triple"].message == "triple(x) returned 2*x: did you multiply by 2?"
    assert "TypeError" in results["test_divide_by_zero_raises_in_student_code"].message
    assert "not implemented" in results["test_stub"].message
    assert "function conv2d_forward not found" in results["test_renamed"].message
    assert "exited" in results["test_exit"].message
    for result in results.values():  # never the hidden file's source or a traceback into it
        assert "student.triple(1.0) == 3.0" not in result.message
        assert f"test_{notebook}.py" not in result.message and "Traceback" not in result.message


def test_a_test_without_its_marker_is_a_configuration_error(tmp_path, monkeypatch):
    unmarked = "def test_no_marker(student):\n    assert student.double(1) == 2\n"
    _hidden_dir(tmp_path, monkeypatch, {"test_unmarked.py": unmarked})
    with pytest.raises(judge.ConfigurationError, match="no @pytest.mark.grade"):
        _judge("unmarked", _session(), through_pytest=False)
    with pytest.raises(judge.ConfigurationError, match="no @pytest.mark.grade"):
        _judge("unmarked", _session(), through_pytest=True)


def test_a_missing_hidden_file_is_a_configuration_error(tmp_path, monkeypatch):
    _hidden_dir(tmp_path, monkeypatch, {})
    with pytest.raises(judge.ConfigurationError, match="no hidden tests"):
        judge.hidden_file("nb")


def test_restarts_are_capped_then_the_rest_are_errors(tmp_path, monkeypatch):
    crashes = "".join(
        f"@pytest.mark.grade(grade_id='c', points=1)\ndef test_exit_{i}(student):\n"
        "    student.leave()\n\n" for i in range(4))
    crashes += ("@pytest.mark.grade(grade_id='c', points=1)\ndef test_z_after(student):\n"
                "    assert student.double(1) == 2\n")
    _hidden_dir(tmp_path, monkeypatch, {"test_nb.py": "import pytest\n\n" + crashes})
    results = _judge("nb", _session(max_restarts=2), through_pytest=False)
    assert [r.status for r in results.values()] == ["error"] * 5
    assert "too often" in results["test_z_after"].message


def test_the_notebook_budget_turns_the_remaining_tests_into_timeouts(tmp_path, monkeypatch):
    spins = "".join(
        f"@pytest.mark.grade(grade_id='c', points=1)\ndef test_spin_{i}(student):\n"
        "    student.spin()\n\n" for i in range(3))
    spins += ("@pytest.mark.grade(grade_id='c', points=1)\ndef test_z_after(student):\n"
              "    assert student.double(1) == 2\n")
    _hidden_dir(tmp_path, monkeypatch, {"test_nb.py": "import pytest\n\n" + spins})
    session = _session(Limits(call_seconds=1.0), notebook_seconds=1.5)
    results = _judge("nb", session, through_pytest=False)
    assert [r.status for r in results.values()] == ["timeout"] * 4
    assert "time limit" in results["test_z_after"].message
