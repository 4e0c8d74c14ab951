"""What students receive: in sync with a release, no outputs, no solutions, no hidden tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbtools import (
    RELEASED,
    ROOT,
    SOLUTIONS,
    fill_from_solution,
    is_solution_cell,
    nbgrader_meta,
    notebook_paths,
)

from autograder.assignments import ASSIGNMENTS
from autograder.release import leaked_lines, release, released_files, solution_lines

COMMITTED = notebook_paths(SOLUTIONS) + notebook_paths(RELEASED)


@pytest.mark.parametrize("path", COMMITTED, ids=[str(p.relative_to(ROOT)) for p in COMMITTED])
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: commit notebooks without outputs"
            )


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """A release of every assignment from a copy of the course, outside the work tree."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(SOLUTIONS, course / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for assignment in ASSIGNMENTS:
        release(assignment, course, use_db=False, check=False)  # checks: test_release_checks
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_release(fresh_release, assignment):
    fresh = sorted((fresh_release / "notebooks" / assignment).glob("*.ipynb"))
    committed = sorted((RELEASED / assignment).glob("*.ipynb"))
    assert [p.name for p in committed] == [p.name for p in fresh], (
        f"notebooks/{assignment} is out of date: run `cnn-course release {assignment}`"
    )
    for new, old in zip(fresh, committed, strict=True):
        assert nbformat.read(new, as_version=4) == nbformat.read(old, as_version=4), (
            f"notebooks/{assignment}/{old.name} differs from a fresh release: "
            f"run `cnn-course release {assignment}`"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_bundle_holds_no_solution_and_no_hidden_test(fresh_release, assignment):
    bundle = fresh_release / "dist" / "student" / assignment
    files = released_files(bundle)
    names = {p.name for p in files}
    assert "requirements.txt" in names and "__init__.py" in names
    assert not any(p.name.startswith("test_") and p.suffix == ".py" for p in files)
    assert leaked_lines(files, assignment, fresh_release) == []


@pytest.mark.parametrize("path", notebook_paths(SOLUTIONS), ids=lambda p: p.stem)
def test_released_notebook_has_stubs_where_solutions_were(path):
    released = nbformat.read(RELEASED / path.parent.name / path.name, as_version=4)
    secrets = solution_lines(path)
    assert secrets, f"{path.name} has no solution code"
    stubs = 0
    for cell in released.cells:
        assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        present = {line.strip() for line in cell.source.splitlines()}
        assert not secrets & present, f"{path.name}: solution lines released: {secrets & present}"
        if is_solution_cell(cell):
            assert "raise NotImplementedError()" not in cell.source, (
                f"{path.name}: a bare stub; each stub names its function (autograder/stubs.py)")
            stubs += 'raise NotImplementedError("write ' in cell.source
    assert stubs >= 1


@pytest.mark.parametrize("path", notebook_paths(SOLUTIONS), ids=lambda p: p.stem)
def test_released_answer_cells_hold_the_question_not_the_model_answer(path):
    solution = nbformat.read(path, as_version=4)
    released = nbformat.read(RELEASED / path.parent.name / path.name, as_version=4)
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in solution.cells
               if c.cell_type == "markdown" and nbgrader_meta(c).get("solution")}
    shown = {nbgrader_meta(c).get("grade_id"): c.source for c in released.cells
             if c.cell_type == "markdown" and nbgrader_meta(c).get("solution")}
    assert set(shown) == set(answers), f"{path.name}: answer cells lost or added by release"
    kept = [g for g, text in shown.items() if text.strip() != "YOUR ANSWER HERE"]
    assert not kept, f"{path.name}: answer cells released with text in them: {kept}"
    everything = "\n".join(c.source for c in released.cells)
    for grade_id, answer in answers.items():
        lines = {line.strip() for line in answer.splitlines() if len(line.strip()) > 30}
        leaked = [line for line in lines if line in everything]
        assert not leaked, f"{path.name}: the model answer of {grade_id} is released: {leaked}"


def test_hidden_test_points_match_the_notebook_grade_cells():
    import ast

    for path in notebook_paths(SOLUTIONS):
        nb = nbformat.read(path, as_version=4)
        # test cells only: an answer cell (grade and solution) is graded by hand, not by tests
        cells = {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c).get("points", 0))
                 for c in nb.cells
                 if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
        hidden = Path(ROOT / "autograder" / "hidden" / f"test_{path.stem}.py")
        assert hidden.is_file(), f"no hidden tests for {path.stem}"
        points: dict[str, float] = {}
        for node in ast.walk(ast.parse(hidden.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "grade":
                kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
                points[kwargs["grade_id"]] = points.get(kwargs["grade_id"], 0) + kwargs["points"]
        assert set(points) == set(cells), (
            f"{path.stem}: grade cells {sorted(cells)} vs hidden {sorted(points)}"
        )
        for grade_id, total in points.items():
            assert abs(total - cells[grade_id]) < 1e-9, (
                f"{path.stem}/{grade_id}: hidden tests give {total} points, "
                f"the cell {cells[grade_id]}"
            )


@pytest.mark.parametrize("path", notebook_paths(RELEASED), ids=lambda p: p.stem)
def test_released_checksums_are_what_nbgrader_computes(path):
    """The named stubs are written before nbgrader checksums the cells, so its checks hold."""
    from nbgrader.utils import compute_checksum

    nb = nbformat.read(path, as_version=4)
    summed = 0
    for cell in nb.cells:
        stored = nbgrader_meta(cell).get("checksum")
        if stored:
            summed += 1
            assert compute_checksum(cell) == stored, (
                f"{path.name}, cell {nbgrader_meta(cell)['grade_id']}: its checksum is not "
                "nbgrader's for its source: was the notebook edited after generate_assignment?")
    assert summed > 0


def test_nbgrader_validate_passes_a_filled_release(tmp_path):
    """nbgrader's own Validate, as a student with the extension would run it."""
    name = "a2_convolution/04_pooling.ipynb"
    filled = fill_from_solution(nbformat.read(RELEASED / name, as_version=4),
                                nbformat.read(SOLUTIONS / name, as_version=4))
    nbformat.write(filled, tmp_path / "04_pooling.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", "04_pooling.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    report = result.stdout + result.stderr
    assert "Success! Your notebook passes all the tests." in report, report[-3000:]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_bundle_is_zipped_and_says_how_to_install_check_and_hand_in(
        fresh_release, assignment):
    bundle = fresh_release / "dist" / "student" / assignment
    files = sorted(str(p.relative_to(bundle.parent)) for p in bundle.rglob("*") if p.is_file())
    with zipfile.ZipFile(bundle.with_suffix(".zip")) as zipped:
        assert sorted(zipped.namelist()) == files, "the zip is not the bundle's folder"
        assert zipped.read(f"{assignment}/README.md") == (bundle / "README.md").read_bytes()
    readme = (bundle / "README.md").read_text()
    for needed in ("python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt",
                   ".venv/bin/jupyter lab", "Python 3.10 or newer", "Restart Kernel and Run All",
                   f"nbgrader submit {assignment}", "Gradescope", "Validate"):
        assert needed in readme, f"the student README of {assignment} lacks {needed!r}"
    for notebook in bundle.glob("*.ipynb"):
        assert f"`{notebook.name}`" in readme
    requirements = (bundle / "requirements.txt").read_text().split()
    assert {"ipywidgets>=8", "jupyterlab>=4", "tqdm>=4.60"} <= set(requirements), (
        "tqdm.auto's progress bars need ipywidgets in the student's environment")


def _solution_cell(source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": "cell-1", "locked": False,
                                 "schema_version": 3, "solution": True, "task": False}
    return cell


def test_named_stubs_name_the_function_or_method_of_each_region():
    from autograder.stubs import NamedStubs

    cell = _solution_cell(
        "class Value:\n"
        "    def __add__(self, other):\n"
        "        ### BEGIN SOLUTION\n"
        "        return Value(self.data + other.data)\n"
        "        ### END SOLUTION\n\n\n"
        "def relu(x):\n"
        "    '''Docstring stays.'''\n"
        "    ### BEGIN SOLUTION\n"
        "    return x * (x > 0)\n"
        "    ### END SOLUTION\n\n\n"
        "### BEGIN SOLUTION\n"
        "answer = 42\n"
        "### END SOLUTION"
    )
    stubbed, _ = NamedStubs().preprocess_cell(cell, {"language": "python"}, 0)
    lines = stubbed.source.splitlines()
    assert '        raise NotImplementedError("write Value.__add__: replace this line with your '\
        'code")' in lines
    assert '    raise NotImplementedError("write relu: replace this line with your code")' in lines
    assert 'raise NotImplementedError("write the solution of cell cell-1: replace this line with '\
        'your code")' in lines
    assert "    '''Docstring stays.'''" in lines and "return x * (x > 0)" not in stubbed.source


def test_named_stubs_refuse_a_bare_raise_they_cannot_tell_from_a_stub():
    from autograder.stubs import NamedStubs

    cell = _solution_cell(
        "def f(x):\n"
        "    if x is None:\n"
        "        raise NotImplementedError()\n"
        "    ### BEGIN SOLUTION\n"
        "    return x\n"
        "    ### END SOLUTION"
    )
    with pytest.raises(RuntimeError, match="1 solution regions but 2 lines"):
        NamedStubs().preprocess_cell(cell, {"language": "python"}, 0)
