"""Read a submission and build the program the sandbox runs.

The program is the submission's code cells in order, minus test cells (nbgrader
``grade: true, solution: false``) and cells tagged ``skip-grading`` (training runs, plots,
timing) in either the submission or the source notebook (matched by cell id and grade_id,
so deleting a tag changes nothing), with IPython magics and shell escapes dropped.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .escape import one_line

SKIP_TAG = "skip-grading"

# A submission is data: these bound what reading one may cost before any sandbox limit applies.
MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_CELLS = 2000
PARSE_SECONDS = 20.0


class SubmissionError(ValueError):
    """The notebook cannot be graded at all; the message says why in a sentence."""


@dataclass(frozen=True)
class SourceInfo:
    """What the instructor's notebook says about its cells."""

    skip_ids: frozenset[str]
    test_ids: frozenset[str]
    grade_cells: dict[str, float]  # autograded test cells: grade_id -> points
    manual_cells: dict[str, float] = field(default_factory=dict)  # graded by hand
    cell_types: dict[str, str] = field(default_factory=dict)  # grade_id -> code | markdown
    solution_cells: frozenset[str] = frozenset()  # every cell a student writes in (comments)
    task_cells: frozenset[str] = frozenset()


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def read_source(path: Path) -> SourceInfo:
    """Test cells, manually graded cells and skipped cells of an instructor's notebook.

    nbgrader's kinds: a test cell is ``grade`` without ``solution`` (autograded here, by the
    hidden tests); a ``grade`` cell that is also a ``solution`` (an answer) or a ``task`` is
    graded by hand in the formgrader.
    """
    nb = nbformat.read(path, as_version=4)
    skip, tests, points, manual, types = set(), set(), {}, {}, {}
    solutions, tasks = set(), set()
    for cell in nb.cells:
        meta = _meta(cell)
        keys = {cell.get("id"), meta.get("grade_id")} - {None}
        if meta.get("grade_id"):
            types.setdefault(meta["grade_id"], cell.cell_type)
            if meta.get("solution"):
                solutions.add(meta["grade_id"])
            if meta.get("task"):
                tasks.add(meta["grade_id"])
        if SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            skip |= keys
        if meta.get("grade") and not meta.get("solution") and not meta.get("task"):
            tests |= keys
            points[meta["grade_id"]] = float(meta.get("points", 0))
            types[meta["grade_id"]] = cell.cell_type
        elif (meta.get("grade") and meta.get("solution")) or meta.get("task"):
            manual[meta["grade_id"]] = float(meta.get("points", 0))
            types[meta["grade_id"]] = cell.cell_type
    return SourceInfo(frozenset(skip), frozenset(tests), points, manual, types,
                      frozenset(solutions), frozenset(tasks))


def _open_no_follow(name: str, dir_fd: int | None, directory: bool, shown: str) -> int:
    """Open one path component without following a link (and without blocking on a FIFO)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    if directory:
        flags |= os.O_DIRECTORY
    kind = "folder" if directory else "file"
    try:
        if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            raise OSError(errno.ELOOP, "a link")  # the O_NOFOLLOW below guards the race
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise SubmissionError(f"{shown} is missing from the submission") from None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EMLINK):
            raise SubmissionError(f"{shown} is a symbolic link, not a {kind}: submit the "
                                  "notebook itself") from None
        if error.errno == errno.ENOTDIR:
            raise SubmissionError(f"{shown} is not a folder") from None
        raise SubmissionError(f"{shown} cannot be read ({error.strerror})") from None
    if not directory and not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SubmissionError(f"{shown} is not a regular file")
    return fd


def read_notebook_bytes(folder: Path, relative: tuple[str, ...], cap: int = MAX_NOTEBOOK_BYTES
                        ) -> bytes:
    """The bytes of ``folder/relative...``, opening each component without following links.

    ``folder`` is the grader's (the --submitted folder); everything below it belongs to a
    student: a link, a FIFO or a device anywhere on the way is an error, never followed.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, part in enumerate(relative):
            last = index == len(relative) - 1
            shown = one_line(part, 120) if last else f"the folder {one_line(part, 120)}"
            opened = _open_no_follow(part, fd, not last, shown)
            os.close(fd)
            fd = opened
        size = os.fstat(fd).st_size
        if size > cap:
            raise SubmissionError(f"{one_line(relative[-1], 120)} is {size / 2**20:.1f} MiB, "
                                  f"over the {cap // 2**20} MiB limit for a notebook")
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise SubmissionError(f"{one_line(relative[-1], 120)} is over the "
                                  f"{cap // 2**20} MiB limit for a notebook")
        return b"".join(chunks)
    finally:
        os.close(fd)


class _OutOfTime(Exception):
    pass


@contextmanager
def time_budget(seconds: float):
    """Raise ``_OutOfTime`` in the main thread after ``seconds`` (elsewhere: no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum, _frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse_notebook(data: bytes, name: str):
    """A validated notebook from untrusted bytes; SubmissionError with a sentence otherwise."""
    shown = one_line(name, 120)
    try:
        with time_budget(PARSE_SECONDS):
            try:
                raw = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as error:
                raise SubmissionError(f"{shown} is not a readable notebook "
                                      f"({type(error).__name__}: "
                                      f"{one_line(str(error), 160) or 'invalid'})") from None
            if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
                raise SubmissionError(f"{shown} is not a readable notebook (no list of cells)")
            if len(raw["cells"]) > MAX_CELLS:
                raise SubmissionError(f"{shown} has {len(raw['cells'])} cells, over the limit "
                                      f"of {MAX_CELLS}")
            try:
                nb = nbformat.reads(json.dumps(raw), as_version=4)
            except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
                raise SubmissionError(f"{shown} is not a readable notebook "
                                      f"({type(error).__name__}: "
                                      f"{one_line(str(error), 160) or 'invalid'})") from None
            try:
                nbformat.validate(nb)
            except nbformat.ValidationError as error:
                raise SubmissionError(f"{shown} is not a valid notebook: "
                                      f"{one_line(error.message, 200)}") from None
    except _OutOfTime:
        raise SubmissionError(f"{shown} took more than {PARSE_SECONDS:g} s to read") from None
    return nb


def read_submission(path: Path, root: Path | None = None):
    """The submitted notebook at ``path``, read as data and validated.

    ``root`` is the grader's folder above it (default: ``path``'s parent); no component
    below ``root`` is followed if it is a link.
    """
    root = root or path.parent
    relative = path.relative_to(root).parts
    return parse_notebook(read_notebook_bytes(root, relative), path.name)


def _strip_magics(source: str) -> str:
    kept = []
    for line in source.splitlines():
        stripped = line.lstrip()
        kept.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(kept)


def build_program(nb, source: SourceInfo) -> str:
    """The student's code to run: a JSON list of {cell: its number in the notebook, counted
    from 1 over all cells, source}, run in order by the child."""
    parts = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        meta = _meta(cell)
        keys = {cell.get("id"), meta.get("grade_id")} - {None}
        tagged = SKIP_TAG in cell.get("metadata", {}).get("tags", [])
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        if tagged or is_test or keys & (source.skip_ids | source.test_ids):
            continue
        parts.append({"cell": number, "source": _strip_magics(cell.source)})
    return json.dumps(parts)


def program_of(*sources: str) -> str:
    """A program made of ``sources`` as consecutive cells 1, 2, ... (for tests and tools)."""
    return json.dumps([{"cell": n, "source": s} for n, s in enumerate(sources, start=1)])
