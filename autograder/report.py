"""cnn-course report ASSIGNMENT [--json GRADES] [--out report.html]

A self-contained HTML page on one assignment's grading run, for the instructor: the score
histogram, per-notebook means, each hidden test's pass rate, the most common
misconceptions (failing tests grouped by the hint they gave, with the students who hit
each), the students who scored least, and the notebooks that could not be graded. Plots
are drawn with matplotlib and embedded, so the file can be mailed or uploaded as it is.

The results come from the JSON report of `cnn-course grade --json` (``--json``), or else
from the grade cache beside the gradebook (``--gradebook``, default COURSE/gradebook.db).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .assignments import find_course_dir
from .grader.escape import for_html, one_line
from .grader.results import ClassResults, StudentResult


@dataclass
class TestRate:
    notebook: str
    grade_id: str
    name: str
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class Misconception:
    grade_id: str
    hint: str
    students: list[str] = field(default_factory=list)


@dataclass
class Summary:
    assignment: str
    seed: int | None
    scores: dict[str, float]
    max_score: float
    notebook_means: dict[str, float]
    tests: list[TestRate]
    misconceptions: list[Misconception]
    lowest: list[tuple[str, float]]
    errors: list[tuple[str, str, str]]  # student, notebook, sentence
    pending: dict[str, float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores.values()) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores.values()) if self.scores else 0.0


_PARENS = re.compile(r"\([^()]*\)")
_NUMBERS = re.compile(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?")


def hint_of(status: str, message: str) -> str:
    """The reusable part of a failing test's message: what was wrong, not where or with what
    numbers (so that students who made the same mistake on other inputs group together)."""
    if "not implemented" in message or "NotImplementedError" in message:
        return "not implemented yet"
    if status in ("error", "timeout") or message.startswith("your code raised"):
        head = message.split(":")[0]
        return one_line(_NUMBERS.sub("#", head), 120)
    text = message
    while _PARENS.search(text):
        text = _PARENS.sub("", text)
    parts = [p.strip() for p in text.split(": ") if p.strip()]
    text = ": ".join(parts[1:]) if len(parts) > 1 else (parts[0] if parts else "")
    return one_line(re.sub(r"\s+", " ", _NUMBERS.sub("#", text)).strip(" ;:,."), 300)


def summarize(results: ClassResults, lowest: int = 5, top: int = 10) -> Summary:
    students = results.students
    scores = {s: r.score for s, r in students.items()}
    max_score = max((r.max_score for r in students.values()), default=0.0)
    by_notebook: dict[str, list[float]] = defaultdict(list)
    rates: dict[tuple[str, str, str], list[int]] = {}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    errors = []
    for student, result in sorted(students.items()):
        for name, nb in result.notebooks.items():
            by_notebook[name].append(nb.score)
            if nb.error:
                errors.append((student, name, nb.error))
            for test in nb.tests:
                key = (name, test.grade_id, test.name)
                passed, total = rates.get(key, [0, 0])
                rates[key] = [passed + (test.status == "passed"), total + 1]
                if test.status != "passed" and not nb.error:
                    group = (test.grade_id, hint_of(test.status, test.message))
                    if student not in groups[group]:
                        groups[group].append(student)
    common = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
    return Summary(
        assignment=results.assignment, seed=results.seed, scores=scores, max_score=max_score,
        notebook_means={nb: statistics.fmean(v) for nb, v in sorted(by_notebook.items())},
        tests=[TestRate(nb, gid, name, p, t) for (nb, gid, name), (p, t) in rates.items()],
        misconceptions=[Misconception(gid, hint, names) for (gid, hint), names in common],
        lowest=sorted(scores.items(), key=lambda item: (item[1], item[0]))[:lowest],
        errors=errors,
        pending={s: r.pending for s, r in students.items() if r.pending},
    )


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _histogram(summary: Summary) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 2.6))
    values = list(summary.scores.values())
    top = summary.max_score or 1.0
    axes.hist(values, bins=min(20, max(5, int(top))), range=(0, top), color="#4c72b0",
              edgecolor="white")
    axes.set_xlabel(f"score (of {top:g})")
    axes.set_ylabel("students")
    axes.set_title(f"{summary.assignment}: {len(values)} students")
    image = _png(figure)
    plt.close(figure)
    return image


def _pass_rates(summary: Summary) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells: dict[str, list[float]] = defaultdict(list)
    for test in summary.tests:
        cells[test.grade_id].append(test.rate)
    names = sorted(cells, key=lambda g: statistics.fmean(cells[g]))
    figure, axes = plt.subplots(figsize=(6, 0.3 * len(names) + 0.8))
    axes.barh(names, [100 * statistics.fmean(cells[n]) for n in names], color="#55a868")
    axes.set_xlim(0, 100)
    axes.set_xlabel("tests passed (%), by grade cell")
    image = _png(figure)
    plt.close(figure)
    return image


def to_html(summary: Summary) -> str:
    esc = for_html
    scores = summary.scores
    parts = [
        f"<h1>{esc(summary.assignment)}: class report</h1>",
        f"<p>{len(scores)} students; mean {summary.mean:.2f}, median {summary.median:g}, "
        f"lowest {min(scores.values(), default=0):g}, highest {max(scores.values(), default=0):g} "
        f"of {summary.max_score:g}. Hidden inputs drawn from seed {summary.seed}.</p>",
    ]
    if scores:
        parts.append(f"<img alt='score histogram' src='data:image/png;base64,"
                     f"{_histogram(summary)}'>")
    parts.append("<h2>Notebooks</h2><table><tr><th>notebook</th><th>mean score</th></tr>")
    parts += [f"<tr><td>{esc(nb)}</td><td>{mean:.2f}</td></tr>"
              for nb, mean in summary.notebook_means.items()]
    parts.append("</table>")
    if summary.tests:
        parts.append("<h2>Hidden tests: pass rates</h2>"
                     f"<img alt='pass rates' src='data:image/png;base64,{_pass_rates(summary)}'>"
                     "<table><tr><th>notebook</th><th>grade cell</th><th>test</th>"
                     "<th>passed</th><th>rate</th></tr>")
        for t in sorted(summary.tests, key=lambda t: (t.rate, t.notebook, t.name)):
            parts.append(f"<tr><td>{esc(t.notebook)}</td><td>{esc(t.grade_id)}</td>"
                         f"<td>{esc(t.name)}</td><td>{t.passed} / {t.total}</td>"
                         f"<td>{100 * t.rate:.0f}%</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Most common misconceptions</h2><p>Failing tests grouped by the hint "
                 "they gave the student.</p><table><tr><th>students</th><th>grade cell</th>"
                 "<th>hint</th><th>who</th></tr>")
    for m in summary.misconceptions:
        parts.append(f"<tr><td>{len(m.students)}</td><td>{esc(m.grade_id)}</td>"
                     f"<td>{esc(m.hint)}</td><td>{esc(', '.join(m.students))}</td></tr>")
    parts.append("</table><h2>Lowest scores</h2><table><tr><th>student</th><th>score</th></tr>")
    parts += [f"<tr><td>{esc(s)}</td><td>{score:g}</td></tr>" for s, score in summary.lowest]
    parts.append("</table>")
    if summary.errors:
        parts.append("<h2>Notebooks that could not be graded</h2><table><tr><th>student</th>"
                     "<th>notebook</th><th>why</th></tr>")
        parts += [f"<tr><td>{esc(s)}</td><td>{esc(nb)}</td><td>{esc(why)}</td></tr>"
                  for s, nb, why in summary.errors]
        parts.append("</table>")
    if summary.pending:
        parts.append("<h2>Manual grading pending</h2><table><tr><th>student</th>"
                     "<th>points</th></tr>")
        parts += [f"<tr><td>{esc(s)}</td><td>{p:g}</td></tr>"
                  for s, p in sorted(summary.pending.items())]
        parts.append("</table>")
    style = ("body{font-family:sans-serif;max-width:64em;margin:2em auto}"
             "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}"
             "table{border-collapse:collapse;margin-bottom:1em}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{esc(summary.assignment)} report</title><style>{style}</style></head><body>"
            + "".join(parts) + "</body></html>")


def load(args: argparse.Namespace) -> ClassResults:
    if args.json:
        return ClassResults.read(args.json)
    gradebook = args.gradebook or find_course_dir(args.course_dir) / "gradebook.db"
    cache = Path(f"{gradebook}.cache") / args.assignment
    if not cache.is_dir():
        raise FileNotFoundError(f"no results for {args.assignment}: pass --json GRADES from "
                                f"`cnn-course grade --json`, or grade first ({cache})")
    seed_file = cache / "seed"
    seed = int(seed_file.read_text()) if seed_file.is_file() else None
    students = {}
    for path in sorted(cache.glob("*.json")):
        entry = json.loads(path.read_text())
        students[path.stem] = StudentResult.from_json(path.stem, entry["result"])
    return ClassResults(args.assignment, seed, students)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="the assignment graded")
    parser.add_argument("--json", type=Path, default=None,
                        help="the report of `cnn-course grade --json` (default: the grade "
                             "cache beside the gradebook)")
    parser.add_argument("--gradebook", type=Path, default=None,
                        help="nbgrader gradebook whose cache to read (default "
                             "COURSE/gradebook.db)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the HTML file (default: report-ASSIGNMENT.html)")
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="course root (default: nearest folder with nbgrader_config.py)")


def run(args: argparse.Namespace) -> int:
    results = load(args)
    if results.assignment != args.assignment:
        print(f"cnn-course report: {args.json} holds {results.assignment}, not "
              f"{args.assignment}", file=sys.stderr)
        return 2
    summary = summarize(results)
    out = args.out or Path(f"report-{args.assignment}.html")
    out.write_text(to_html(summary))
    counts = Counter(t.rate == 1.0 for t in summary.tests)
    print(f"{out}: {len(summary.scores)} students, mean {summary.mean:.2f} of "
          f"{summary.max_score:g}; {counts[False]} of {len(summary.tests)} tests failed by "
          "someone", file=sys.stderr)
    return 0
