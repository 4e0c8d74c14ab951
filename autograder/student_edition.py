"""Build the student edition of cnnlib: solution regions replaced by NotImplementedError.

cnnlib marks every body a student writes with ``# BEGIN SOLUTION <assignment>`` and
``# END SOLUTION``. The edition shipped with an assignment keeps the regions of earlier
assignments (students use what they already wrote, in its reference form) and replaces
those of this and every later assignment with a ``raise`` that names the notebook.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .assignments import assignment_names, assignments_from, graded_names

CNNLIB_DIR = Path(__file__).resolve().parent.parent / "cnnlib"

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION (?P<assignment>\w+)\s*$")
_END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
_DEF = re.compile(r"^[ \t]*(?:async\s+)?def\s+(?P<name>\w+)|^[ \t]*class\s+(?P<cls>\w+)")


class MarkerError(ValueError):
    """A solution marker that is unbalanced or names no known assignment."""


@dataclass(frozen=True)
class Region:
    """One solution region of a source file: lines [begin, end] inclusive, 0-based."""

    path: Path
    begin: int
    end: int
    assignment: str
    function: str
    owner: str | None  # enclosing class, if any

    def body(self, lines: list[str]) -> list[str]:
        return lines[self.begin + 1:self.end]


def find_regions(path: Path, lines: list[str]) -> list[Region]:
    """Every solution region of a file, with the function (and class) it belongs to."""
    regions: list[Region] = []
    open_at: tuple[int, str] | None = None
    for number, line in enumerate(lines):
        begin = _BEGIN.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(f"{path}:{number + 1}: BEGIN SOLUTION inside another region")
            if begin["assignment"] not in assignment_names():
                raise MarkerError(
                    f"{path}:{number + 1}: unknown assignment {begin['assignment']!r}"
                )
            open_at = (number, begin["assignment"])
        elif _END.match(line):
            if open_at is None:
                raise MarkerError(f"{path}:{number + 1}: END SOLUTION without BEGIN")
            start, assignment = open_at
            function, owner = _enclosing(lines, start)
            regions.append(Region(path, start, number, assignment, function, owner))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{path}:{open_at[0] + 1}: BEGIN SOLUTION never ended")
    return regions


def _enclosing(lines: list[str], start: int) -> tuple[str, str | None]:
    """The def that contains line ``start``, and the class that contains that def."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    function, owner = "<module>", None
    for line in reversed(lines[:start]):
        match = _DEF.match(line)
        if not match:
            continue
        level = len(line) - len(line.lstrip())
        if level >= indent:
            continue
        if function == "<module>" and match["name"]:
            function, indent = match["name"], level
        elif match["cls"]:
            owner = match["cls"]
            break
        if level == 0:
            break
    return function, owner


def strip_source(
    path: Path, text: str, hidden: tuple[str, ...], notebooks: dict[str, str]
) -> str:
    """``text`` with the regions of the ``hidden`` assignments replaced by a raise."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    cursor = 0
    for region in find_regions(path, [line.rstrip("\n") for line in lines]):
        if region.assignment not in hidden:
            continue
        out.extend(lines[cursor:region.begin])
        indent = _BEGIN.match(lines[region.begin].rstrip("\n"))["indent"]
        out.append(f"{indent}raise NotImplementedError({_message(region, notebooks)!r})\n")
        cursor = region.end + 1
    out.extend(lines[cursor:])
    return "".join(out)


STUB_PREFIX = "cnnlib's "  # how the grader tells a call into these stubs from an empty cell


def _message(region: Region, notebooks: dict[str, str]) -> str:
    """What a stripped body raises: which notebook asks for it, or, for library code that
    computes what an assignment asks for (the fast path, tables), when it becomes given."""
    name = region.owner or region.function
    shown = f"{region.owner}.{region.function}" if region.owner else region.function
    where = notebooks.get(name) or notebooks.get(region.function)
    if where:
        return f"{STUB_PREFIX}{shown} is yours to write in {where}"
    return (f"{STUB_PREFIX}{shown} computes what {region.assignment} asks you to write, so "
            "the course library gives it only from the next assignment on")


def all_regions(cnnlib_dir: Path = CNNLIB_DIR) -> list[tuple[Region, list[str]]]:
    """Every solution region of cnnlib with its body lines (for leak checks)."""
    found = []
    for path in sorted(cnnlib_dir.rglob("*.py")):
        lines = path.read_text().splitlines()
        found.extend((region, region.body(lines)) for region in find_regions(path, lines))
    return found


def build_student_cnnlib(
    assignment: str, dest: Path, course_dir: Path | None = None, cnnlib_dir: Path = CNNLIB_DIR
) -> Path:
    """Write the student edition of cnnlib for ``assignment`` to ``dest/cnnlib``; return it."""
    hidden = assignments_from(assignment, course_dir)
    course = course_dir or cnnlib_dir.parent
    notebooks: dict[str, str] = {}
    for name in hidden:
        try:
            notebooks.update(graded_names(course, name))
        except FileNotFoundError:
            pass  # no notebooks yet: messages name the assignment instead
    target = Path(dest) / "cnnlib"
    if target.exists():
        shutil.rmtree(target)
    for path in sorted(cnnlib_dir.rglob("*.py")):
        relative = path.relative_to(cnnlib_dir)
        if "__pycache__" in relative.parts:
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(strip_source(path, path.read_text(), hidden, notebooks))
    return target
