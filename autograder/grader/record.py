"""Record results: nbgrader gradebook, per-student feedback, the JSON report, a class table."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

from .escape import for_html, for_markdown, for_terminal, one_line
from .program import SourceInfo


def ensure_alembic_on_path() -> None:
    """nbgrader's Gradebook runs `alembic` from PATH: put this interpreter's bin/ first."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def alembic_head() -> str:
    """The schema revision that nbgrader stamps on a new gradebook, found in-process.

    nbgrader asks for it by running ``alembic heads`` in a subprocess, which starts a whole
    interpreter (about 3 s here); alembic's own API reads the same migration scripts.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite://") as ini:
        head = ScriptDirectory.from_config(Config(ini)).get_current_head()
    if not head:
        raise RuntimeError("nbgrader's alembic migrations name no head revision")
    return head


def _open_gradebook(url: str):  # -> nbgrader.api.Gradebook
    import nbgrader.api

    # the only place nbgrader calls it is a new gradebook's version stamp
    original = nbgrader.api.get_alembic_version
    nbgrader.api.get_alembic_version = alembic_head
    try:
        return nbgrader.api.Gradebook(url)
    finally:
        nbgrader.api.get_alembic_version = original


class GradebookWriter:
    """Writes auto scores into an nbgrader gradebook (SQLite by default), idempotently."""

    def __init__(self, db_path: Path, assignment: str, sources: dict[str, SourceInfo]) -> None:
        ensure_alembic_on_path()
        warnings.filterwarnings("ignore", module="nbgrader")
        warnings.filterwarnings("ignore", module="sqlalchemy")
        self.url = f"sqlite:///{Path(db_path).resolve()}"
        self.assignment = assignment
        self.sources = sources
        self.gradebook = _open_gradebook(self.url)
        self.gradebook.update_or_create_assignment(assignment)
        for notebook, info in sources.items():
            self.gradebook.update_or_create_notebook(notebook, assignment)
            for grade_id, points in info.grade_cells.items():
                self.gradebook.update_or_create_grade_cell(
                    grade_id, notebook, assignment, max_score=points, cell_type="code"
                )

    def record(self, student: str, result: dict, commit: bool = True) -> None:
        """Write one student's auto scores; ``commit=False`` leaves that to ``close``."""
        from nbgrader.api import MissingEntry

        gb = self.gradebook
        gb.update_or_create_student(student)
        try:
            gb.find_submission(self.assignment, student)
        except MissingEntry:
            gb.add_submission(self.assignment, student)
        for notebook, info in self.sources.items():
            by_cell: dict[str, float] = {}
            for test in result["notebooks"].get(notebook, {}).get("tests", []):
                by_cell[test["grade_id"]] = by_cell.get(test["grade_id"], 0.0) + test["score"]
            for grade_id, points in info.grade_cells.items():
                grade = gb.find_grade(grade_id, notebook, self.assignment, student)
                grade.auto_score = min(points, round(by_cell.get(grade_id, 0.0), 6))
                grade.needs_manual_grade = False
        if commit:
            gb.db.commit()

    def close(self) -> None:
        self.gradebook.db.commit()
        self.gradebook.close()


def _code(identifier: str) -> str:
    """A test or grade-cell name (ours, not the student's) as a Markdown code span."""
    return f"`{identifier.replace('`', '')}`" if identifier == one_line(identifier, 200) \
        else for_markdown(identifier)


class NoGradebook:
    """Stands in for the gradebook when grades are kept elsewhere (Gradescope)."""

    def record(self, student: str, result: dict, commit: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


def feedback_markdown(student: str, assignment: str, result: dict) -> str:
    """Feedback as Markdown; every string a submission could influence is escaped."""
    md = for_markdown
    lines = [f"# Feedback for {md(student, 200)}: {md(assignment)}", "",
             f"**Total: {result['score']:g} / {result['max_score']:g}**", ""]
    for notebook, nb in result["notebooks"].items():
        lines += [f"## {md(notebook)}: {nb['score']:g} / {nb['max_score']:g}", ""]
        if nb["error"]:
            lines += [f"**Could not be graded:** {md(nb['error'])}", ""]
        lines += ["| test | grade cell | points | status | what we found |",
                  "|---|---|---|---|---|"]
        for t in nb["tests"]:
            lines.append(f"| {_code(t['name'])} | {_code(t['grade_id'])} | {t['score']:g} / "
                         f"{t['max_score']:g} | {md(t['status'])} | {md(t['message'])} |")
        lines.append("")
    return "\n".join(lines)


def feedback_html(student: str, assignment: str, result: dict) -> str:
    """Feedback as one self-contained HTML page; student strings are escaped."""
    esc = for_html
    rows = []
    for notebook, nb in result["notebooks"].items():
        rows.append(f"<h2>{esc(notebook)}: {nb['score']:g} / {nb['max_score']:g}</h2>")
        if nb["error"]:
            rows.append(f"<p class='error'><b>Could not be graded:</b> {esc(nb['error'])}</p>")
        rows.append("<table><tr><th>test</th><th>grade cell</th><th>points</th>"
                    "<th>status</th><th>what we found</th></tr>")
        for t in nb["tests"]:
            status = t["status"] if t["status"] in ("passed", "failed", "error",
                                                     "timeout") else "error"
            rows.append(
                f"<tr class='{status}'><td>{esc(t['name'])}</td>"
                f"<td>{esc(t['grade_id'])}</td><td>{t['score']:g} / {t['max_score']:g}</td>"
                f"<td>{esc(t['status'])}</td><td>{esc(t['message'])}</td></tr>")
        rows.append("</table>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "td,th{border:1px solid #ccc;padding:.3em;text-align:left;vertical-align:top}"
             "table{border-collapse:collapse}.passed td{background:#eef8ee}"
             ".failed td,.error td,.timeout td{background:#fbeeee}.error{color:#a00}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(student, 200)} "
            f"{esc(assignment)}</title><style>{style}</style></head><body>"
            f"<h1>Feedback for {esc(student, 200)}: {esc(assignment)}</h1>"
            f"<p><b>Total: {result['score']:g} / {result['max_score']:g}</b></p>"
            + "".join(rows) + "</body></html>")


def write_feedback(folder: Path, student: str, assignment: str, result: dict) -> Path:
    target = folder / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    (target / "feedback.md").write_text(feedback_markdown(student, assignment, result))
    (target / "feedback.html").write_text(feedback_html(student, assignment, result))
    return target


def public(result: dict) -> dict:
    """A student's result without the private fields (printed output, timing)."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def write_json(path: Path, assignment: str, results: dict[str, dict], seed: int) -> None:
    report = {"assignment": assignment, "seed": seed,
              "students": {s: public(r) for s, r in sorted(results.items())}}
    tmp = Path(f"{path}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:  # the report holds every student's grades: owner only
        handle.write(json.dumps(report, indent=1))
    tmp.replace(path)


def class_table(notebooks: list[str], results: dict[str, dict]) -> str:
    """The class at a glance, for a terminal: student names and errors cannot escape it."""
    names = {student: for_terminal(student, 40) for student in results}
    width = max([7, *(len(n) for n in names.values())])
    header = f"{'student':<{width}}  " + "  ".join(f"{nb[:14]:>14}" for nb in notebooks)
    header += f"  {'total':>13}  errors"
    lines = [header, "-" * len(header)]
    for student, result in sorted(results.items()):
        cells = []
        errors = []
        for nb in notebooks:
            r = result["notebooks"][nb]
            cells.append(f"{r['score']:>6g} / {r['max_score']:<5g}")
            if r["error"]:
                errors.append(f"{nb}: {for_terminal(r['error'], 60)}")
        lines.append(f"{names[student]:<{width}}  " + "  ".join(f"{c:>14}" for c in cells)
                     + f"  {result['score']:>6g} / {result['max_score']:<5g} "
                     + " " + "; ".join(errors))
    return "\n".join(lines)
