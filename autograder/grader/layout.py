"""Find the class in a submissions folder: who submitted, which file is which notebook, when.

nbgrader's layout is ``DIR/<student>/<assignment>/<notebook>.ipynb`` with an optional
``timestamp.txt`` beside the notebooks. Folders that do not follow it get an error that
spells the layout out and says what was found instead; a notebook saved under a near-miss
name (``03_convolution (1).ipynb``, ``03_Convolution-Copy1.ipynb``) is graded, with a
warning. Nothing here follows a link (students' folders are data, see ``program.py``).
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .escape import one_line


class LayoutError(ValueError):
    """The submissions folder holds nothing gradable for this assignment; says why."""


def expected_layout(assignment: str, notebooks: list[str]) -> str:
    files = ", ".join(f"{nb}.ipynb" for nb in notebooks)
    return (f"expected nbgrader's layout: DIR/<student>/{assignment}/<notebook>.ipynb, one "
            f"folder per student, each with {files}")


def find_students(submitted: Path, assignment: str, notebooks: list[str]) -> list[str]:
    """Folder names under ``submitted`` holding ``assignment`` (links are listed too, to be
    reported as errors rather than followed); a LayoutError when there are none."""
    entries = sorted(os.scandir(submitted), key=lambda e: e.name)
    students = [e.name for e in entries
                if e.is_symlink() or (e.is_dir(follow_symlinks=False) and os.path.lexists(
                    os.path.join(e.path, assignment)))]
    if students:
        return students
    layout = expected_layout(assignment, notebooks)
    loose = [e.name for e in entries if e.name.endswith(".ipynb")]
    if not entries:
        raise LayoutError(f"{submitted} is empty; {layout}")
    if loose:
        raise LayoutError(f"{submitted} holds notebooks directly ({', '.join(loose[:3])}); "
                          f"{layout}")
    if any(e.name == assignment for e in entries):
        raise LayoutError(f"{submitted} holds {assignment}/ itself, which looks like one "
                          f"student's folder; pass its parent, or {layout}")
    folders = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
    inside = sorted({c for f in folders[:50] for c in os.listdir(os.path.join(submitted, f))
                     if os.path.isdir(os.path.join(submitted, f, c))})
    hint = f" (its student folders hold: {', '.join(inside[:5])})" if inside else ""
    raise LayoutError(f"no submissions of {assignment} in {submitted}{hint}; {layout}")


def check_requested(requested: list[str] | None, found: list[str]) -> list[str]:
    """The students to grade; a LayoutError naming close matches for unknown ones."""
    if requested is None:
        return found
    unknown = [s for s in requested if s not in found]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, found, n=3)
            hints.append(f"{one_line(name, 80)!r}" + (f" (did you mean {', '.join(close)}?)"
                                                       if close else ""))
        raise LayoutError(f"no submission from {', '.join(hints)}; {len(found)} student(s) "
                          "found")
    return [s for s in found if s in requested]


_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[-_ ]copy\d*|[-_ ]\d+)+$", re.IGNORECASE)


def _normal(stem: str) -> str:
    return re.sub(r"[\s\-]+", "_", _COPY_SUFFIX.sub("", stem.strip())).lower()


@dataclass(frozen=True)
class NotebookFile:
    """Which file in a student's folder is graded as a notebook, and a warning if it is
    not the expected name."""

    filename: str
    warning: str | None = None


def match_notebooks(folder: Path, notebooks: list[str]) -> dict[str, NotebookFile]:
    """For each expected notebook, the file to grade: its own name when present, else a
    unique near-miss (renamed by a download or a copy), else its own (missing) name."""
    try:
        present = [e.name for e in os.scandir(folder)
                   if e.name.endswith(".ipynb") and not e.is_dir(follow_symlinks=False)]
    except OSError:  # a link, or no folder: the grader reports it per notebook
        present = []
    chosen: dict[str, NotebookFile] = {}
    for notebook in notebooks:
        expected = f"{notebook}.ipynb"
        if expected in present:
            chosen[notebook] = NotebookFile(expected)
            continue
        near = [name for name in present if name not in {f"{n}.ipynb" for n in notebooks}
                and _normal(name[:-6]) == _normal(notebook)]
        if len(near) == 1:
            chosen[notebook] = NotebookFile(near[0], (
                f"graded {one_line(near[0], 120)} as {expected}: name it {expected} "
                "next time"))
        else:
            chosen[notebook] = NotebookFile(expected)
    return chosen


def read_timestamp(folder: Path) -> str | None:
    """The text of nbgrader's ``timestamp.txt`` in ``folder`` (a regular file, not a link),
    or None."""
    path = folder / "timestamp.txt"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.read(fd, 200).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)
    return text or None


def parse_time(text: str) -> datetime:
    """A timestamp as nbgrader writes and reads them: naive UTC."""
    from nbgrader.utils import parse_utc

    return parse_utc(text)


def submission_time(folder: Path, files: list[str]) -> tuple[datetime | None, str | None]:
    """(when it was submitted, in naive UTC; nbgrader's timestamp text or None).

    nbgrader's ``timestamp.txt`` when present and readable, else the newest modification
    time of the notebook files themselves."""
    text = read_timestamp(folder)
    if text is not None:
        try:
            return parse_time(text), text
        except (ValueError, OverflowError):
            text = None
    times = []
    for name in files:
        try:
            times.append(os.lstat(folder / name).st_mtime)
        except OSError:
            continue
    if not times:
        return None, None
    return datetime.fromtimestamp(max(times), timezone.utc).replace(tzinfo=None), None
