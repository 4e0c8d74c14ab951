"""Helpers for executing notebooks: solution, released-and-filled, released-with-stubs."""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
RELEASED = ROOT / "notebooks"

SKIP_TAG = "skip-grading"


def notebook_paths(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.ipynb"))


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_solution_cell(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_skipped(cell) -> bool:
    return SKIP_TAG in cell.get("metadata", {}).get("tags", [])


def execute(nb, cwd: Path, *, allow_errors: bool = False, timeout: int = 300):
    """Run ``nb`` in a fresh kernel with ``cwd`` as working directory; return (nb, seconds)."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def fill_from_solution(released, solution):
    """The released notebook with each solution cell's source taken from the solution."""
    sources = {nbgrader_meta(c).get("grade_id"): c.source for c in solution.cells
               if is_solution_cell(c)}
    filled = copy.deepcopy(released)
    for cell in filled.cells:
        if is_solution_cell(cell):
            cell.source = sources[nbgrader_meta(cell)["grade_id"]]
    return filled


SOLUTION_TIMES: dict[str, float] = {}
