"""Stubs that say what to write: nbgrader's ClearSolutions, naming the function of each stub.

nbgrader replaces every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region with one fixed
``ClearSolutions.code_stub``, so an unfilled notebook fails with a bare
``NotImplementedError()``. ``NamedStubs`` takes ClearSolutions' place in generate_assignment's
preprocessors (``nbgrader_config.py``) and writes, for each region, the stub with its raise
naming the function or method the region belongs to::

    # YOUR CODE HERE
    raise NotImplementedError("write conv2d_forward: replace this line with your code")

It runs where ClearSolutions ran, before nbgrader computes checksums and records the cells
in the gradebook, so the released notebooks, their checksums and the gradebook agree.
"""

from __future__ import annotations

import json
import re

from nbgrader.preprocessors import ClearSolutions
from traitlets import Unicode

_DEF = re.compile(r"(?P<indent>\s*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")
BARE_RAISE = "raise NotImplementedError()"


def enclosing_name(lines: list[str], index: int) -> str | None:
    """The dotted name of the def (and its classes) around ``lines[index]``, or None."""
    line = lines[index]
    level = len(line) - len(line.lstrip())
    names = []
    for previous in reversed(lines[:index]):
        match = _DEF.match(previous)
        if match and len(match["indent"]) < level:
            names.append(match["name"])
            level = len(match["indent"])
            if level == 0:
                break
    return ".".join(reversed(names)) or None


class NamedStubs(ClearSolutions):
    """ClearSolutions whose Python code stubs raise NotImplementedError naming what to write."""

    stub_message = Unicode(
        "write {name}: replace this line with your code",
        help="The NotImplementedError message of a code stub; {name} is the function (or "
        "Class.method) the solution region was in, or the cell's grade_id at top level.",
    ).tag(config=True)

    def _replace_solution_region(self, cell, language: str) -> bool:
        if cell.cell_type != "code" or BARE_RAISE not in self.code_stub.get(language, ""):
            return super()._replace_solution_region(cell, language)
        lines = cell.source.split("\n")
        names = [
            enclosing_name(lines, i) or f"the solution of cell {cell.metadata.nbgrader['grade_id']}"
            for i, line in enumerate(lines) if self.begin_solution_delimeter in line
        ]
        replaced = super()._replace_solution_region(cell, language)
        if not replaced:
            return False
        stubbed = cell.source.split("\n")
        raises = [i for i, line in enumerate(stubbed) if line.strip() == BARE_RAISE]
        if len(raises) != len(names):  # a bare raise of the instructor's own outside a region
            raise RuntimeError(
                f"cell {cell.metadata.nbgrader['grade_id']}: {len(names)} solution regions but "
                f"{len(raises)} lines '{BARE_RAISE}' after clearing them; write that line "
                "differently outside the regions"
            )
        for i, name in zip(raises, names, strict=True):
            indent = stubbed[i][: len(stubbed[i]) - len(stubbed[i].lstrip())]
            message = self.stub_message.format(name=name)
            stubbed[i] = f"{indent}raise NotImplementedError({json.dumps(message)})"
        cell.source = "\n".join(stubbed)
        return True
