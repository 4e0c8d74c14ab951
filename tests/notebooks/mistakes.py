"""The mistake catalogue's format: one typical mistake, made in a correct notebook.

Each ``Mistake`` edits one solution cell of a solution notebook (``old`` -> ``new``); the
first visible check of that notebook that fails must name the misconception (its message
contains every fragment of ``names``, case-insensitive). Catalogues live beside this file
as ``mistakes_<assignment>.py``, each defining ``MISTAKES``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    notebook: str                 # e.g. "03_convolution"
    grade_id: str                 # the solution cell to edit
    old: str                      # text of that cell (must occur in it)
    new: str                      # what a student wrote instead
    names: tuple[str, ...]        # fragments the first failing check's message must hold
    why: str                      # the misconception, in a few words

    @property
    def id(self) -> str:
        return f"{self.notebook}:{self.grade_id}:{self.why}"
