"""What grading found, as typed objects with one method per output format.

``TestResult`` (one hidden test), ``ManualCell`` (a cell a TA grades by hand),
``NotebookResult``, ``StudentResult`` and ``ClassResults`` (one assignment, one run). The
JSON report (``to_json``; the grading command's contract), the feedback pages, the class
table, Gradescope's results.json and the CSV export are all methods here; the gradebook is
written by ``record.GradebookWriter`` from the same objects. Everything a student
controls is escaped by the method that shows it (``escape.py``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .escape import for_html, for_markdown, for_terminal, one_line

STATUSES = ("passed", "failed", "error", "timeout")


@dataclass
class TestResult:
    name: str
    grade_id: str
    score: float
    max_score: float
    status: str  # passed | failed | error | timeout
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class CheckResult:
    """One of the notebook's visible test cells, run against the submission (no points)."""

    grade_id: str
    passed: bool
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ManualCell:
    """A cell graded by hand in the formgrader: its points, and its score once entered."""

    grade_id: str
    max_score: float
    score: float | None = None  # None: still to be graded

    def as_dict(self) -> dict:
        return {"grade_id": self.grade_id, "max_score": self.max_score, "score": self.score,
                "status": "graded" if self.score is not None else "needs manual grading"}


@dataclass
class NotebookResult:
    tests: list[TestResult] = field(default_factory=list)
    error: str | None = None
    manual: list[ManualCell] = field(default_factory=list)
    output: str = ""  # what the student's program printed: for the TA's log, never reported
    warning: str | None = None  # graded, but something to tell (a near-miss file name)
    late_penalty: float = 0.0  # points taken off this notebook for lateness
    checks: list[CheckResult] = field(default_factory=list)  # visible test cells (Gradescope)

    @property
    def auto_score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def score(self) -> float:
        return round(self.auto_score + sum(m.score or 0.0 for m in self.manual), 6)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests) + sum(m.max_score for m in self.manual)

    @property
    def pending(self) -> float:
        """Points of manually graded cells that nobody has graded yet."""
        return sum(m.max_score for m in self.manual if m.score is None)

    def to_json(self) -> dict:
        data = {"score": self.score, "max_score": self.max_score, "error": self.error,
                "tests": [t.as_dict() for t in self.tests]}
        if self.manual:
            data["manual"] = [m.as_dict() for m in self.manual]
            data["pending"] = self.pending
        if self.warning:
            data["warning"] = self.warning
        if self.late_penalty:
            data["late_penalty"] = self.late_penalty
        if self.checks:
            data["checks"] = [c.as_dict() for c in self.checks]
        return data

    @classmethod
    def from_json(cls, data: dict) -> NotebookResult:
        return cls(tests=[TestResult(**t) for t in data.get("tests", [])],
                   error=data.get("error"),
                   manual=[ManualCell(m["grade_id"], m["max_score"], m.get("score"))
                           for m in data.get("manual", [])],
                   warning=data.get("warning"), late_penalty=data.get("late_penalty", 0.0),
                   checks=[CheckResult(**c) for c in data.get("checks", [])])


@dataclass
class StudentResult:
    student: str
    notebooks: dict[str, NotebookResult]
    seconds: float = 0.0
    submitted_at: str | None = None  # ISO timestamp (UTC) of the submission, when known
    late_seconds: float = 0.0

    @property
    def late_penalty(self) -> float:
        return round(sum(nb.late_penalty for nb in self.notebooks.values()), 6)

    @property
    def score(self) -> float:
        total = sum(nb.score for nb in self.notebooks.values()) - self.late_penalty
        return round(max(total, 0.0), 6)

    @property
    def max_score(self) -> float:
        return sum(nb.max_score for nb in self.notebooks.values())

    @property
    def pending(self) -> float:
        return sum(nb.pending for nb in self.notebooks.values())

    def to_json(self) -> dict:
        data = {"score": self.score, "max_score": self.max_score,
                "notebooks": {name: nb.to_json() for name, nb in self.notebooks.items()}}
        if self.pending:
            data["pending"] = self.pending
        if self.late_seconds > 0:  # (the contract's keys alone when lateness is moot)
            data["submitted_at"] = self.submitted_at
            data["late_seconds"] = self.late_seconds
            data["late_penalty"] = self.late_penalty
        return data

    @classmethod
    def from_json(cls, student: str, data: dict) -> StudentResult:
        return cls(student, {name: NotebookResult.from_json(nb)
                             for name, nb in data.get("notebooks", {}).items()},
                   submitted_at=data.get("submitted_at"),
                   late_seconds=data.get("late_seconds", 0.0))

    @classmethod
    def crashed(cls, student: str, notebooks: dict[str, list[TestResult]],
                sentence: str) -> StudentResult:
        """Every test at zero when the grader itself failed on this submission."""
        return cls(student, {name: NotebookResult(tests, f"the grader failed on this "
                                                         f"submission: {sentence}")
                             for name, tests in notebooks.items()})

    # -- feedback -------------------------------------------------------------------------
    def _total_line(self) -> str:
        line = f"Total: {self.score:g} / {self.max_score:g}"
        if self.pending:
            line += f" ({self.pending:g} points still to be graded by hand)"
        if self.late_penalty:
            line += f", after a late penalty of {self.late_penalty:g}"
        return line

    def feedback_markdown(self, assignment: str) -> str:
        """Feedback as Markdown; every string a submission could influence is escaped."""
        md = for_markdown
        lines = [f"# Feedback for {md(self.student, 200)}: {md(assignment)}", "",
                 f"**{md(self._total_line())}**", ""]
        for name in self.notebooks:
            lines += [self.notebook_markdown(name), ""]
        return "\n".join(lines)

    def notebook_markdown(self, name: str, heading: str = "##") -> str:
        """One notebook's findings as Markdown: its score, any error, one row per test."""
        md, nb = for_markdown, self.notebooks[name]
        title = f"{md(name)}: {nb.score:g} / {nb.max_score:g}"
        lines = [f"{heading} {title}" if heading == "##" else f"{heading}: {title}", ""]
        if nb.error:
            lines += [f"**Could not be graded:** {md(nb.error)}", ""]
        if nb.warning:
            lines += [f"**Note:** {md(nb.warning)}", ""]
        if nb.late_penalty:
            lines += [f"**Late:** {nb.late_penalty:g} points off", ""]
        lines += ["| test | grade cell | points | status | what we found |",
                  "|---|---|---|---|---|"]
        for t in nb.tests:
            lines.append(f"| {_code(t.name)} | {_code(t.grade_id)} | {t.score:g} / "
                         f"{t.max_score:g} | {md(t.status)} | {md(t.message)} |")
        for m in nb.manual:
            score = "–" if m.score is None else f"{m.score:g}"
            lines.append(f"| (graded by hand) | {_code(m.grade_id)} | {score} / "
                         f"{m.max_score:g} | {md(m.as_dict()['status'])} | |")
        return "\n".join(lines)

    def feedback_html(self, assignment: str) -> str:
        """Feedback as one self-contained HTML page; student strings are escaped."""
        esc = for_html
        rows = []
        for name, nb in self.notebooks.items():
            rows.append(f"<h2>{esc(name)}: {nb.score:g} / {nb.max_score:g}</h2>")
            if nb.error:
                rows.append(f"<p class='error'><b>Could not be graded:</b> {esc(nb.error)}</p>")
            if nb.warning:
                rows.append(f"<p><b>Note:</b> {esc(nb.warning)}</p>")
            rows.append("<table><tr><th>test</th><th>grade cell</th><th>points</th>"
                        "<th>status</th><th>what we found</th></tr>")
            for t in nb.tests:
                status = t.status if t.status in STATUSES else "error"
                rows.append(
                    f"<tr class='{status}'><td>{esc(t.name)}</td><td>{esc(t.grade_id)}</td>"
                    f"<td>{t.score:g} / {t.max_score:g}</td><td>{esc(t.status)}</td>"
                    f"<td>{esc(t.message)}</td></tr>")
            for m in nb.manual:
                score = "–" if m.score is None else f"{m.score:g}"
                rows.append(f"<tr class='manual'><td>(graded by hand)</td>"
                            f"<td>{esc(m.grade_id)}</td><td>{score} / {m.max_score:g}</td>"
                            f"<td>{esc(m.as_dict()['status'])}</td><td></td></tr>")
            rows.append("</table>")
        style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
                 "td,th{border:1px solid #ccc;padding:.3em;text-align:left;vertical-align:top}"
                 "table{border-collapse:collapse}.passed td{background:#eef8ee}"
                 ".failed td,.error td,.timeout td{background:#fbeeee}.error{color:#a00}"
                 ".manual td{background:#f4f4fb}")
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>"
                f"{esc(self.student, 200)} {esc(assignment)}</title><style>{style}</style>"
                f"</head><body><h1>Feedback for {esc(self.student, 200)}: {esc(assignment)}"
                f"</h1><p><b>{esc(self._total_line())}</b></p>" + "".join(rows)
                + "</body></html>")

    def write_feedback(self, folder: Path, assignment: str) -> Path:
        target = folder / self.student / assignment
        target.mkdir(parents=True, exist_ok=True)
        (target / "feedback.md").write_text(self.feedback_markdown(assignment))
        (target / "feedback.html").write_text(self.feedback_html(assignment))
        return target


def _code(identifier: str) -> str:
    """A test or grade-cell name (ours, not the student's) as a Markdown code span."""
    if identifier == one_line(identifier, 200):
        return f"`{identifier.replace('`', '')}`"
    return for_markdown(identifier)


@dataclass
class ClassResults:
    """One assignment's results for a class, from one run (or merged runs)."""

    assignment: str
    seed: int | None
    students: dict[str, StudentResult] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"assignment": self.assignment, "seed": self.seed,
                "students": {s: r.to_json() for s, r in sorted(self.students.items())}}

    @classmethod
    def from_json(cls, data: dict) -> ClassResults:
        return cls(data["assignment"], data.get("seed"),
                   {s: StudentResult.from_json(s, r) for s, r in data["students"].items()})

    @classmethod
    def read(cls, path: Path) -> ClassResults:
        return cls.from_json(json.loads(Path(path).read_text()))

    def merged_into(self, path: Path) -> ClassResults:
        """These results over those already in ``path`` (a one-student regrade keeps the
        rest of the class); a report of another assignment is not merged."""
        if not Path(path).is_file():
            return self
        try:
            earlier = ClassResults.read(path)
        except (ValueError, KeyError, TypeError):
            return self
        if earlier.assignment != self.assignment:
            return self
        return ClassResults(self.assignment, self.seed, {**earlier.students, **self.students})

    def write_json(self, path: Path) -> None:
        """Write the report atomically, readable by its owner only (it holds every grade)."""
        tmp = Path(f"{path}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(self.to_json(), indent=1))
        tmp.replace(path)

    def class_table(self, notebooks: list[str]) -> str:
        """The class at a glance, for a terminal: names and errors cannot escape it."""
        names = {student: for_terminal(student, 40) for student in self.students}
        width = max([7, *(len(n) for n in names.values())])
        header = f"{'student':<{width}}  " + "  ".join(f"{nb[:14]:>14}" for nb in notebooks)
        header += f"  {'total':>13}  notes"
        lines = [header, "-" * len(header)]
        for student, result in sorted(self.students.items()):
            cells, notes = [], []
            for nb in notebooks:
                r = result.notebooks.get(nb)
                if r is None:
                    cells.append("-")
                    continue
                cells.append(f"{r.score:>6g} / {r.max_score:<5g}")
                if r.error:
                    notes.append(f"{nb}: {for_terminal(r.error, 60)}")
                elif r.warning:
                    notes.append(f"{nb}: {for_terminal(r.warning, 60)}")
            if result.pending:
                notes.append(f"{result.pending:g} points to grade by hand")
            if result.late_penalty:
                notes.append(f"late: -{result.late_penalty:g}")
            lines.append(f"{names[student]:<{width}}  " + "  ".join(f"{c:>14}" for c in cells)
                         + f"  {result.score:>6g} / {result.max_score:<5g} "
                         + " " + "; ".join(notes))
        return "\n".join(lines)

    def to_gradescope(self, seconds: float, visibility: dict[str, str] | None = None) -> dict:
        """The first (only) student's results in Gradescope's results.json format.

        ``visibility`` maps "hidden" (the hidden tests, which carry the points; default
        after_published) and "checks" (the notebook's visible test cells, no points;
        default visible) to Gradescope's visibility values."""
        visibility = {"hidden": "after_published", "checks": "visible", **(visibility or {})}
        base = {"execution_time": int(round(seconds)), "output_format": "text",
                "stdout_visibility": "hidden", "extra_data": {"seed": self.seed}}
        if not self.students:
            return {**base, "score": 0.0, "tests": [],
                    "output": f"No notebooks of {self.assignment} found in the submission."}
        result = next(iter(self.students.values()))
        tests, lines = [], []
        for name, nb in result.notebooks.items():
            line = f"{name}: {nb.score:g} / {nb.max_score:g}"
            if nb.error:
                line += f" — could not be graded: {one_line(nb.error, 500)}"
            if nb.pending:
                line += f" ({nb.pending:g} points to be graded by hand)"
            lines.append(line)
            for check in nb.checks:
                tests.append({
                    "name": f"{name} / your notebook's check {check.grade_id}",
                    "score": 0.0, "max_score": 0.0,
                    "status": "passed" if check.passed else "failed",
                    "output": "passed" if check.passed else one_line(check.message, 2000),
                    "output_format": "text", "visibility": visibility["checks"],
                })
            for test in nb.tests:
                tests.append({
                    "name": f"{name} / {test.grade_id} / {test.name}",
                    "score": test.score, "max_score": test.max_score,
                    "status": "passed" if test.status == "passed" else "failed",
                    "output": one_line(test.message, 2000), "output_format": "text",
                    "visibility": visibility["hidden"],
                })
        return {**base, "score": result.score, "output": "\n".join(lines), "tests": tests}
