"""Notebooks run: solutions top to bottom; released ones filled pass; stubs fail only tests."""

from __future__ import annotations

import nbformat
import pytest
from nbtools import (
    RELEASED,
    SOLUTION_TIMES,
    SOLUTIONS,
    execute,
    fill_from_solution,
    is_test_cell,
    notebook_paths,
)

pytestmark = pytest.mark.notebooks

SOLUTION_NOTEBOOKS = notebook_paths(SOLUTIONS)
IDS = [p.stem for p in SOLUTION_NOTEBOOKS]


def test_all_seven_notebooks_exist():
    assert IDS == [
        "01_computational_graphs", "02_vector_backprop", "03_convolution", "04_pooling",
        "05_training_a_cnn", "06_architectures", "07_tuning_and_transfer",
    ]


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=IDS)
def test_solution_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    _, seconds = execute(nb, path.parent)
    SOLUTION_TIMES[path.stem] = seconds


def _released(path):
    released = RELEASED / path.parent.name / path.name
    assert released.is_file(), f"{released} missing: run `cnn-course release {path.parent.name}`"
    return nbformat.read(released, as_version=4)


def _check_cnnlib_cell(folder):
    return nbformat.v4.new_code_cell(
        "import cnnlib as _c, os as _os\n"
        f"assert _os.path.realpath(_c.__file__).startswith(_os.path.realpath({str(folder)!r})),"
        " _c.__file__"
    )


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=IDS)
def test_released_notebook_filled_with_solutions_passes_its_tests(path, student_dir):
    folder = student_dir(path.parent.name)
    solution = nbformat.read(path, as_version=4)
    filled = fill_from_solution(_released(path), solution)
    filled.cells.insert(0, _check_cnnlib_cell(folder))
    execute(filled, folder)  # raises CellExecutionError on the first failing cell


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=IDS)
def test_released_stubs_fail_only_in_test_cells(path, student_dir):
    folder = student_dir(path.parent.name)
    nb = _released(path)
    nb.cells.insert(0, _check_cnnlib_cell(folder))
    executed, _ = execute(nb, folder, allow_errors=True)
    test_cells = 0
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if is_test_cell(cell):
            test_cells += 1
            assert errors, f"test cell {index} passes with the stubs unfilled:\n{cell.source}"
            assert errors[0]["ename"] == "NotImplementedError", (
                f"test cell {index} fails with {errors[0]['ename']} instead of the stub's "
                f"NotImplementedError: {errors[0]['evalue']}"
            )
        else:
            assert not errors, (
                f"cell {index} (not a test) breaks with the stubs unfilled: "
                f"{errors[0]['ename']}: {errors[0]['evalue']}\n{cell.source}"
            )
    assert test_cells > 0
