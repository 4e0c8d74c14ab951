"""Late work: when an assignment was due, and what lateness costs.

The due date is the gradebook's (``nbgrader db assignment add A --duedate ...``) unless
``--due`` gives one. Policies, in the terms of nbgrader's gradebook, which stores a
``late_submission_penalty`` per submitted notebook and subtracts it from the score:

- ``none``: lateness is recorded and shown, nothing is taken off (nbgrader's default);
- ``zero``: a late notebook scores nothing (nbgrader's built-in ``zero`` method);
- a number ``f`` in (0, 1]: each started day late takes ``f`` of the notebook's points,
  never more than it scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .results import StudentResult


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None = None  # naive UTC, like nbgrader's
    method: str = "none"         # none | zero | per_day
    per_day: float = 0.0

    @classmethod
    def parse(cls, due: datetime | None, text: str) -> LatePolicy:
        if text in ("none", "zero"):
            return cls(due, text)
        try:
            fraction = float(text)
        except ValueError:
            raise ValueError(f"--late-penalty must be 'none', 'zero' or a fraction of the "
                             f"points per day late, not {text!r}") from None
        if not 0 < fraction <= 1:
            raise ValueError("--late-penalty per day must lie in (0, 1]")
        return cls(due, "per_day", fraction)

    def penalty(self, score: float, max_score: float, late_seconds: float) -> float:
        if late_seconds <= 0 or self.method == "none":
            return 0.0
        if self.method == "zero":
            return score
        days = math.ceil(late_seconds / 86400)
        return round(min(score, self.per_day * days * max_score), 6)

    def apply(self, result: StudentResult, submitted: datetime | None) -> None:
        """Set the result's lateness and each notebook's penalty (from scratch: cached
        results are judged by the policy of the current run)."""
        late = 0.0
        if self.due is not None and submitted is not None:
            late = max(0.0, (submitted - self.due).total_seconds())
        result.late_seconds = late
        result.submitted_at = submitted.isoformat() if submitted else None
        for nb in result.notebooks.values():
            nb.late_penalty = self.penalty(nb.score, nb.max_score, late)
