"""The course's assignments, in release order, and where their files live.

An assignment is a folder of notebooks in ``solutions/`` (nbgrader's source directory),
and the names that cnnlib's solution markers use (``# BEGIN SOLUTION a2_convolution``):
adding an assignment needs no code change. Release order is the names' sorted order, so
name them to sort (``a1_...``, ``a2_...``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import nbformat

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_MARKER = re.compile(r"^[ \t]*# BEGIN SOLUTION (\w+)\s*$", re.MULTILINE)


@lru_cache(maxsize=8)
def _marked(cnnlib_dir: Path) -> frozenset[str]:
    """Assignment names used by solution markers in cnnlib."""
    return frozenset(name for path in cnnlib_dir.rglob("*.py")
                     for name in _MARKER.findall(path.read_text()))


def assignment_names(course_dir: Path | None = None) -> tuple[str, ...]:
    """The course's assignments in release order: folders of notebooks in solutions/, and
    the assignments cnnlib's markers name (a bundle may carry one assignment's notebooks
    but must still know the later ones, whose solutions it hides)."""
    names = set(_marked(_PACKAGE_ROOT / "cnnlib"))
    for root in {course_dir, _PACKAGE_ROOT} - {None}:
        folder = Path(root) / "solutions"
        if folder.is_dir():
            names |= {d.name for d in folder.iterdir() if d.is_dir() and any(d.glob("*.ipynb"))}
    return tuple(sorted(names))


ASSIGNMENTS: tuple[str, ...] = assignment_names()


class UnknownAssignment(ValueError):
    """Raised for an assignment name the course does not have."""


def check_assignment(name: str, course_dir: Path | None = None) -> str:
    """Return ``name`` if it is one of the course's assignments, else raise with the choices."""
    known = assignment_names(course_dir)
    if name not in known:
        raise UnknownAssignment(
            f"unknown assignment {name!r}; the course has: {', '.join(known)}"
        )
    return name


def assignments_from(name: str, course_dir: Path | None = None) -> tuple[str, ...]:
    """The assignment ``name`` and every later one: what a release of ``name`` must hide."""
    known = assignment_names(course_dir)
    check_assignment(name, course_dir)
    return known[known.index(name):]


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
    folder = course_dir / "solutions" / check_assignment(assignment, course_dir)
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
