"""cnn-course export [ASSIGNMENT ...] [--to FILE] [--format plain|canvas|moodle]

Grades from the nbgrader gradebook as CSV, one row per student: the autograder's scores,
every manual grade entered in the formgrader, and late penalties, as nbgrader itself
counts them (score = auto + manual + extra credit - late penalty, never below 0). All
assignments in the gradebook unless some are named. Students who submitted nothing score
0. Columns by format:

  plain   student_id, last_name, first_name, email, then per assignment A: "A" (score),
          "A max", "A pending" (points of manually graded cells nobody has graded yet),
          "A late penalty", "A submitted" (nbgrader's timestamp, UTC), and at the end
          "total", "total max".
  canvas  Canvas's gradebook import: Student ("Last, First"), ID (the LMS id nbgrader knows,
          else empty), SIS User ID (empty), SIS Login ID (the nbgrader student id: Canvas
          matches students on it), Section (empty), then one column per assignment named
          "A (points)", and a first data row "Points Possible" with each maximum.
  moodle  Moodle's grade import: Username (the nbgrader student id), Email address, First
          name, Last name, then one column per assignment; map Username to the user and
          each column to a grade item when importing.

Students with manual grading still pending are listed on stderr: an LMS would take their
partial scores as final.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .assignments import find_course_dir

FORMATS = ("plain", "canvas", "moodle")


@dataclass
class Entry:
    score: float = 0.0
    max_score: float = 0.0
    pending: float = 0.0
    late_penalty: float = 0.0
    submitted: str = ""


@dataclass
class Row:
    student_id: str
    last_name: str = ""
    first_name: str = ""
    email: str = ""
    lms_user_id: str = ""
    entries: dict[str, Entry] = field(default_factory=dict)


def collect(gradebook_path: Path, assignments: list[str] | None = None
            ) -> tuple[list[str], dict[str, float], list[Row]]:
    """(assignment names, their max scores, one row per student) read from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    from .grader.record import ensure_alembic_on_path

    ensure_alembic_on_path()
    rows: list[Row] = []
    with Gradebook(f"sqlite:///{Path(gradebook_path).resolve()}") as gb:
        known = [a.name for a in gb.assignments]
        names = assignments or known
        missing = [a for a in names if a not in known]
        if missing:
            raise FileNotFoundError(f"the gradebook has no assignment {', '.join(missing)} "
                                    f"(it has: {', '.join(known) or 'none'})")
        maxima = {a: float(gb.find_assignment(a).max_score) for a in names}
        for student in sorted(gb.students, key=lambda s: s.id):
            row = Row(student.id, student.last_name or "", student.first_name or "",
                      student.email or "", student.lms_user_id or "")
            for name in names:
                entry = Entry(max_score=maxima[name])
                try:
                    submission = gb.find_submission(name, student.id)
                except MissingEntry:
                    row.entries[name] = entry
                    continue
                entry.late_penalty = float(submission.late_submission_penalty or 0.0)
                entry.score = max(0.0, float(submission.score) - entry.late_penalty)
                entry.pending = sum(
                    float(grade.max_score) for notebook in submission.notebooks
                    for grade in notebook.grades
                    if grade.needs_manual_grade and grade.manual_score is None)
                entry.submitted = submission.timestamp.isoformat(" ") \
                    if submission.timestamp else ""
                row.entries[name] = entry
            rows.append(row)
    return names, maxima, rows


def _number(value: float) -> str:
    return f"{value:g}"


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def to_csv(names: list[str], maxima: dict[str, float], rows: list[Row], style: str) -> str:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    if style == "canvas":
        out.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                      *(f"{a} ({_number(maxima[a])})" for a in names)])
        out.writerow(["Points Possible", "", "", "", "", *(_number(maxima[a]) for a in names)])
        for row in rows:
            shown = ", ".join(p for p in (row.last_name, row.first_name) if p) or row.student_id
            out.writerow([shown, row.lms_user_id, "", row.student_id, "",
                          *(_number(row.entries[a].score) for a in names)])
    elif style == "moodle":
        out.writerow(["Username", "Email address", "First name", "Last name", *names])
        for row in rows:
            out.writerow([row.student_id, row.email, row.first_name, row.last_name,
                          *(_number(row.entries[a].score) for a in names)])
    else:
        header = ["student_id", "last_name", "first_name", "email"]
        for a in names:
            header += [a, f"{a} max", f"{a} pending", f"{a} late penalty", f"{a} submitted"]
        out.writerow([*header, "total", "total max"])
        for row in rows:
            cells = [_text(v) for v in (row.student_id, row.last_name, row.first_name,
                                         row.email)]
            for a in names:
                e = row.entries[a]
                cells += [_number(e.score), _number(e.max_score), _number(e.pending),
                          _number(e.late_penalty), e.submitted]
            total = sum(row.entries[a].score for a in names)
            out.writerow([*cells, _number(total), _number(sum(maxima.values()))])
    return buffer.getvalue()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help="assignments to export (default: all in the gradebook)")
    parser.add_argument("--to", type=Path, default=None,
                        help="the CSV file to write (default: standard output)")
    parser.add_argument("--format", choices=FORMATS, default="plain",
                        help="column layout: plain (default), canvas or moodle")
    parser.add_argument("--gradebook", type=Path, default=None,
                        help="nbgrader gradebook (default COURSE/gradebook.db)")
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="course root (default: nearest folder with nbgrader_config.py)")


def run(args: argparse.Namespace) -> int:
    gradebook = args.gradebook or find_course_dir(args.course_dir) / "gradebook.db"
    if not Path(gradebook).is_file():
        print(f"cnn-course export: no gradebook at {gradebook} (grade first, or pass "
              "--gradebook)", file=sys.stderr)
        return 2
    names, maxima, rows = collect(gradebook, args.assignments or None)
    text = to_csv(names, maxima, rows, args.format)
    if args.to:
        args.to.write_text(text)
        print(f"{len(rows)} student(s), {len(names)} assignment(s): {args.to}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    pending = [f"{row.student_id} ({a}: {row.entries[a].pending:g} points)"
               for row in rows for a in names if row.entries[a].pending]
    if pending:
        print(f"manual grading still pending for {len(pending)}: {', '.join(pending[:10])}"
              + (" ..." if len(pending) > 10 else ""), file=sys.stderr)
    return 0
