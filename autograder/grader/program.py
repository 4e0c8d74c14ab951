"""Read a submission and build the program the sandbox runs.

The program is the submission's code cells in order, minus test cells (nbgrader
``grade: true, solution: false``) and cells tagged ``skip-grading`` (training runs, plots,
timing) in either the submission or the source notebook (matched by cell id and grade_id,
so deleting a tag changes nothing), with IPython magics and shell escapes dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

SKIP_TAG = "skip-grading"


class SubmissionError(ValueError):
    """The notebook cannot be graded at all; the message says why in a sentence."""


@dataclass(frozen=True)
class SourceInfo:
    """What the instructor's notebook says about its cells."""

    skip_ids: frozenset[str]
    test_ids: frozenset[str]
    grade_cells: dict[str, float]  # grade_id -> points


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def read_source(path: Path) -> SourceInfo:
    nb = nbformat.read(path, as_version=4)
    skip, tests, points = set(), set(), {}
    for cell in nb.cells:
        meta = _meta(cell)
        keys = {cell.get("id"), meta.get("grade_id")} - {None}
        if SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            skip |= keys
        if meta.get("grade") and not meta.get("solution"):
            tests |= keys
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return SourceInfo(frozenset(skip), frozenset(tests), points)


def read_submission(path: Path):
    """The submitted notebook, validated; SubmissionError with a sentence otherwise."""
    if not path.is_file():
        raise SubmissionError(f"{path.name} is missing from the submission")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise SubmissionError(
            f"{path.name} is not a readable notebook ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:200] if str(error) else 'invalid'})"
        ) from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        raise SubmissionError(
            f"{path.name} is not a valid notebook: {error.message[:200]}"
        ) from None
    return nb


def _strip_magics(source: str) -> str:
    kept = []
    for line in source.splitlines():
        stripped = line.lstrip()
        kept.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(kept)


def build_program(nb, source: SourceInfo) -> str:
    """The student's code to run: a JSON list of cell sources, run in order by the child."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = _meta(cell)
        keys = {cell.get("id"), meta.get("grade_id")} - {None}
        tagged = SKIP_TAG in cell.get("metadata", {}).get("tags", [])
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        if tagged or is_test or keys & (source.skip_ids | source.test_ids):
            continue
        parts.append(_strip_magics(cell.source))
    return json.dumps(parts)
