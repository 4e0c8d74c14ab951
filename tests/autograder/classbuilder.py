"""Build submissions for grading tests: released notebooks with the solutions filled in."""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]


def filled(assignment: str, notebook: str, edits=()):
    """The released ``notebook`` with every solution cell filled from solutions/.

    ``edits`` are (grade_id, old, new) replacements applied to the filled solution cells.
    """
    released = nbformat.read(ROOT / "notebooks" / assignment / f"{notebook}.ipynb", 4)
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{notebook}.ipynb", 4)
    sources = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = sources[grade_id]
            for target, old, new in edits:
                if target == grade_id:
                    assert old in cell.source, f"edit {old!r} did not apply"
                    cell.source = cell.source.replace(old, new)
    return released


def stubs(assignment: str, notebook: str):
    return nbformat.read(ROOT / "notebooks" / assignment / f"{notebook}.ipynb", 4)


def write(root: Path, student: str, notebooks: dict, assignment: str = "a2_convolution") -> Path:
    """Write ``notebooks`` (name -> notebook or raw text) as ``student``'s submission."""
    folder = root / student / assignment
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        if isinstance(nb, str):
            (folder / f"{name}.ipynb").write_text(nb)
        else:
            nbformat.write(nb, folder / f"{name}.ipynb")
    return folder
