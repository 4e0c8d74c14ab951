"""Helpers for executing notebooks: solution, released-and-filled, released-with-stubs."""

from __future__ import annotations

import ast
import copy
import os
import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
RELEASED = ROOT / "notebooks"

SKIP_TAG = "skip-grading"
# Kernels draw as they do for a student in JupyterLab: the inline backend, whatever
# MPLBACKEND the test run itself has (make test sets Agg).
INLINE = "module://matplotlib_inline.backend_inline"
# What a released stub says when it runs (autograder/stubs.py writes it).
STUB_MESSAGE = re.compile(r"^write (?P<name>[\w.]+): replace this line with your code$")


def notebook_paths(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.ipynb"))


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_solution_cell(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_answer_cell(cell) -> bool:
    """A written answer that a TA grades: a Markdown cell the student writes in."""
    return cell.cell_type == "markdown" and bool(nbgrader_meta(cell).get("solution"))


def is_skipped(cell) -> bool:
    return SKIP_TAG in cell.get("metadata", {}).get("tags", [])


def kernel_env() -> dict[str, str]:
    return dict(os.environ, MPLBACKEND=INLINE)


def client_for(nb, cwd: Path, *, allow_errors: bool = False, timeout: int = 300):
    return NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )


def execute(nb, cwd: Path, *, allow_errors: bool = False, timeout: int = 300):
    """Run ``nb`` in a fresh kernel with ``cwd`` as working directory; return (nb, seconds)."""
    client = client_for(nb, cwd, allow_errors=allow_errors, timeout=timeout)
    start = time.perf_counter()
    client.execute(env=kernel_env())
    return nb, time.perf_counter() - start


def fill_from_solution(released, solution):
    """The released notebook with each solution cell's source taken from the solution, and
    each written answer (a Markdown cell for a TA) answered as the solution answers it."""
    sources = {nbgrader_meta(c).get("grade_id"): c.source for c in solution.cells
               if is_solution_cell(c) or is_answer_cell(c)}
    filled = copy.deepcopy(released)
    for cell in filled.cells:
        if is_solution_cell(cell) or is_answer_cell(cell):
            cell.source = sources[nbgrader_meta(cell)["grade_id"]]
    return filled


def preamble(nb) -> list:
    """The imports: the code cells at the top, before the first section's text.

    Given helpers that several test cells share live here too (right after the imports).
    """
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            cells.append(cell)
        elif cells:
            break
    return cells


def defined_names(source: str) -> set[str]:
    """Names a cell defines at its top level: functions, classes and assignments."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def errors(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def images(cell) -> list:
    return [o for o in cell.get("outputs", [])
            if o.get("output_type") in ("display_data", "execute_result")
            and any(k.startswith("image/") for k in o.get("data", {}))]


def new_cell(source: str):
    return nbformat.v4.new_code_cell(source)


SOLUTION_TIMES: dict[str, float] = {}
