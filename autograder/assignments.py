"""The course's assignments, in release order, and where their files live."""

from __future__ import annotations

from pathlib import Path

import nbformat

ASSIGNMENTS: tuple[str, ...] = ("a1_backprop", "a2_convolution", "a3_cnns")


class UnknownAssignment(ValueError):
    """Raised for an assignment name the course does not have."""


def check_assignment(name: str) -> str:
    """Return ``name`` if it is one of the course's assignments, else raise with the choices."""
    if name not in ASSIGNMENTS:
        raise UnknownAssignment(
            f"unknown assignment {name!r}; the course has: {', '.join(ASSIGNMENTS)}"
        )
    return name


def assignments_from(name: str) -> tuple[str, ...]:
    """The assignment ``name`` and every later one: what a release of ``name`` must hide."""
    check_assignment(name)
    return ASSIGNMENTS[ASSIGNMENTS.index(name):]


def find_course_dir(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: cwd) holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "nbgrader_config.py").is_file():
            return candidate
    packaged = Path(__file__).resolve().parent.parent
    if (packaged / "nbgrader_config.py").is_file():
        return packaged
    raise FileNotFoundError(
        f"no nbgrader_config.py in {here} or above: run this inside the course directory "
        "or pass --course-dir"
    )


def source_notebooks(course_dir: Path, assignment: str) -> list[Path]:
    """The solution notebooks of an assignment, sorted by name (01_..., 02_...)."""
    folder = course_dir / "solutions" / check_assignment(assignment)
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks in {folder}")
    return notebooks


def graded_names(course_dir: Path, assignment: str) -> dict[str, str]:
    """Map each function or class a student writes in ``assignment`` to its notebook name.

    Read from the solution cells of the source notebooks: the names they ``def`` or
    ``class`` at the top level.
    """
    names: dict[str, str] = {}
    for path in source_notebooks(course_dir, assignment):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("solution"):
                continue
            for line in cell.source.splitlines():
                for keyword in ("def ", "class "):
                    if line.startswith(keyword):
                        name = line[len(keyword):].split("(")[0].split(":")[0].strip()
                        names.setdefault(name, path.stem)
    return names
