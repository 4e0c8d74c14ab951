"""The course as instructors and TAs run it: nbgrader's formgrader and generate_feedback
reading our grades, manual grading in every total, late work, exports, reports, reruns."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from classbuilder import ROOT, filled, stubs, write

from autograder.cli import main
from autograder.grader.results import ClassResults
from autograder.report import summarize, to_html

pytestmark = pytest.mark.grader

ASSIGNMENT = "a2_convolution"
MANUAL_ID = "why_max_pooling_is_invariant"
# the notebooks' own answers graded by hand (2 points each), beside the one added here
ANSWERS = {"03_convolution": ["answer_flip", "answer_gradient_sums"],
           "04_pooling": ["answer_invariance", "answer_why_pool"]}
DUE = "2026-12-01 17:00:00 UTC"


def _manual_cell():
    cell = nbformat.v4.new_markdown_cell("Max pooling keeps the largest value of a window...")
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False,
                                 "points": 2, "grade_id": MANUAL_ID, "schema_version": 3}
    return cell


def _with_manual(nb):
    nb.cells.append(_manual_cell())
    return nb


def _env() -> dict:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder like an instructor's: 04 has a manually graded answer cell, and a
    class of five graded with the defaults (gradebook, autograded/ and feedback/ in it)."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    source = root / "solutions" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / ASSIGNMENT / "03_convolution.ipynb", source)
    nbformat.write(_with_manual(nbformat.read(ROOT / "solutions" / ASSIGNMENT /
                                              "04_pooling.ipynb", 4)), source / "04_pooling.ipynb")
    sub = root / "submitted"
    conv, pool = filled(ASSIGNMENT, "03_convolution"), _with_manual(filled(ASSIGNMENT,
                                                                           "04_pooling"))
    write(sub, "alice", {"03_convolution": conv, "04_pooling": pool})
    (sub / "alice" / ASSIGNMENT / "timestamp.txt").write_text("2026-12-01 16:00:00.000000 UTC")
    write(sub, "bob", {"03_convolution": conv, "04_pooling": pool})
    (sub / "bob" / ASSIGNMENT / "timestamp.txt").write_text("2026-12-03 09:30:00.000000 UTC")
    write(sub, "carol", {"03_convolution": stubs(ASSIGNMENT, "03_convolution"),
                         "04_pooling": pool})
    folder = write(sub, "dave", {"03_convolution": conv})
    nbformat.write(pool, folder / "04_pooling (1).ipynb")  # a browser's download name
    broken = filled(ASSIGNMENT, "03_convolution", [(
        "conv2d_forward", "    ### BEGIN SOLUTION\n",
        "    ### BEGIN SOLUTION\n    from cnnlib import conv2d_forward as library\n"
        "    return library(x, w, b, stride=stride, pad=pad)\n")])
    broken.cells.insert(2, nbformat.v4.new_code_cell("def helper(v):\n    return 1 / v\n"))
    broken.cells.insert(3, nbformat.v4.new_code_cell("value = helper(0)"))
    write(sub, "erin", {"03_convolution": broken, "04_pooling": pool})
    args = ["grade", ASSIGNMENT, "--submitted", str(sub), "--course-dir", str(root),
            "--json", str(root / "grades.json"), "--workers", "2", "--quiet",
            "--seed", "5", "--due", DUE, "--late-penalty", "0.1"]
    assert main(args) == 0
    return root, args


def _report(root: Path) -> dict:
    return json.loads((root / "grades.json").read_text())


def _nbgrader_api(root: Path, code: str) -> dict:
    """Run ``code`` against nbgrader's own API (as the formgrader does) in the course."""
    program = (
        "import json, sys\n"
        "from traitlets.config.loader import PyFileConfigLoader\n"
        "from nbgrader.apps.api import NbGraderAPI\n"
        "from nbgrader.coursedir import CourseDirectory\n"
        "config = PyFileConfigLoader('nbgrader_config.py', path='.').load_config()\n"
        "api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)\n"
        + code)
    done = subprocess.run([sys.executable, "-c", program], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_formgrader_lists_every_submission_as_autograded_with_our_score(course):
    root, _ = course
    report = _report(root)
    submissions = _nbgrader_api(root, (
        f"print(json.dumps({{s['student']: s for s in api.get_submissions({ASSIGNMENT!r})}}, "
        "default=str))"))
    for student, result in report["students"].items():
        shown = submissions[student]
        assert shown["autograded"] is True, student
        assert shown["needs_manual_grade"] is True  # the answer cell waits for a TA
        assert shown["max_score"] == pytest.approx(result["max_score"]) == 36 + 8 + 2
        assert shown["score"] == pytest.approx(result["score"] + result.get("late_penalty", 0))


def test_generate_feedback_works_on_our_grades_and_carries_our_messages(course):
    root, _ = course
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT,
                           "--force"], cwd=root, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    page = (root / "feedback" / "carol" / ASSIGNMENT / "03_convolution.html").read_text()
    assert "Autograder feedback" in page and "not implemented yet" in page  # our findings
    assert "test_conv2d_backward" in page


def test_nbgraders_own_autograde_refuses_and_changes_no_grade(course):
    root, _ = course
    before = _nbgrader_api(root, f"print(json.dumps([s['score'] for s in "
                                 f"api.get_submissions({ASSIGNMENT!r})]))")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT,
                           "--student", "carol", "--force"], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert "cnn-course grade" in done.stdout + done.stderr
    after = _nbgrader_api(root, f"print(json.dumps([s['score'] for s in "
                                f"api.get_submissions({ASSIGNMENT!r})]))")
    assert after == before


def test_manual_cells_are_pending_then_a_formgrader_grade_reaches_every_total(course):
    root, args = course
    report = _report(root)
    alice = report["students"]["alice"]
    assert alice["pending"] == 10 and alice["score"] == 36 and alice["max_score"] == 46
    manual = alice["notebooks"]["04_pooling"]["manual"]
    assert manual == [{"grade_id": grade_id, "max_score": 2.0, "score": None,
                       "status": "needs manual grading"}
                      for grade_id in [*ANSWERS["04_pooling"], MANUAL_ID]]
    # a TA grades the answer in the formgrader (nbgrader's API does what its page does)
    _nbgrader_api(root, (
        "from nbgrader.api import Gradebook\n"
        "with Gradebook('sqlite:///gradebook.db') as gb:\n"
        f"    grade = gb.find_grade({MANUAL_ID!r}, '04_pooling', {ASSIGNMENT!r}, 'alice')\n"
        "    grade.manual_score = 1.5\n"
        "    gb.db.commit()\n"
        "print('{}')"))
    out = io.StringIO()
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "export",
                           "--course-dir", str(root)], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert float(rows["alice"][ASSIGNMENT]) == 37.5
    assert float(rows["alice"][f"{ASSIGNMENT} pending"]) == 8  # the notebooks' own answers
    assert float(rows["carol"][f"{ASSIGNMENT} pending"]) == 10
    del out
    # a rerun (all from the cache) shows the manual grade in the JSON and the table too
    assert main(args) == 0
    again = _report(root)["students"]["alice"]
    assert again["score"] == 37.5 and again["pending"] == 8
    feedback = root / "feedback"
    assert "10 points still to be graded by hand" in (
        feedback / "carol" / ASSIGNMENT / "feedback.md").read_text()
    assert "8 points still to be graded by hand" in (
        feedback / "alice" / ASSIGNMENT / "feedback.md").read_text()


def test_late_work_is_judged_from_its_timestamp(course):
    root, _ = course
    students = _report(root)["students"]
    assert "late_seconds" not in students["alice"]  # an hour early
    bob = students["bob"]
    assert bob["late_seconds"] == pytest.approx(40.5 * 3600)  # two started days
    # 0.2 of each notebook's points, answers graded by hand included: 5.2 of 03's 22 + 4,
    # 4 of 04's 14 + 4 + 2
    assert bob["late_penalty"] == pytest.approx(9.2)
    assert bob["score"] == pytest.approx(36 - 9.2)
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "export",
                           "--course-dir", str(root)], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=300)
    rows = {r["student_id"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert float(rows["bob"][f"{ASSIGNMENT} late penalty"]) == pytest.approx(9.2)
    assert rows["bob"][f"{ASSIGNMENT} submitted"].startswith("2026-12-03 09:30")


def test_a_near_miss_name_is_graded_with_a_warning(course):
    root, _ = course
    dave = _report(root)["students"]["dave"]["notebooks"]["04_pooling"]
    assert dave["error"] is None and dave["score"] == 14
    assert "04_pooling (1).ipynb" in dave["warning"]


def test_errors_name_the_cell_and_a_library_call_is_not_called_a_stub(course):
    root, _ = course
    erin = _report(root)["students"]["erin"]["notebooks"]["03_convolution"]
    assert "in helper, cell 3 of your notebook, the one starting `def helper(v):`" in erin["error"]
    assert "ZeroDivisionError" in erin["error"] and "StudentError" not in erin["error"]
    carol = _report(root)["students"]["carol"]["notebooks"]["03_convolution"]
    assert all("not implemented yet" in t["message"] for t in carol["tests"])


def test_a_library_call_is_named_as_such(tmp_path):
    sub = tmp_path / "submitted"
    conv = filled(ASSIGNMENT, "03_convolution", [(
        "conv2d_forward", "    ### BEGIN SOLUTION\n",
        "    ### BEGIN SOLUTION\n    from cnnlib import conv2d_forward as library\n"
        "    return library(x, w, b, stride=stride, pad=pad)\n")])
    write(sub, "frank", {"03_convolution": conv, "04_pooling": filled(ASSIGNMENT, "04_pooling")})
    report = tmp_path / "grades.json"
    assert main(["grade", ASSIGNMENT, "--submitted", str(sub), "--json", str(report),
                 "--gradebook", str(tmp_path / "gb.db"), "--feedback", str(tmp_path / "fb"),
                 "--quiet", "--course-dir", str(ROOT), "--seed", "3"]) == 0
    tests = json.loads(report.read_text())["students"]["frank"]["notebooks"]["03_convolution"]
    messages = [t["message"] for t in tests["tests"] if t["grade_id"] == "test_conv2d_forward"]
    assert messages and all("called the course library" in m for m in messages)


def test_a_one_student_regrade_merges_into_the_report(course):
    root, args = course
    before = _report(root)
    assert main([*args, "--student", "carol", "--force"]) == 0
    after = _report(root)
    assert set(after["students"]) == set(before["students"])
    assert after["students"]["carol"] == before["students"]["carol"]


def test_bad_layouts_and_unknown_students_exit_2_with_the_layout_spelled_out(tmp_path, capsys):
    base = ["grade", ASSIGNMENT, "--course-dir", str(ROOT), "--quiet",
            "--gradebook", str(tmp_path / "gb.db")]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*base, "--submitted", str(empty)]) == 2
    assert "is empty" in capsys.readouterr().err
    flat = tmp_path / "flat"
    flat.mkdir()
    nbformat.write(filled(ASSIGNMENT, "04_pooling"), flat / "04_pooling.ipynb")
    assert main([*base, "--submitted", str(flat)]) == 2
    err = capsys.readouterr().err
    assert "holds notebooks directly" in err and "DIR/<student>/a2_convolution/" in err
    sub = tmp_path / "sub"
    write(sub, "alice", {"04_pooling": filled(ASSIGNMENT, "04_pooling")})
    assert main([*base, "--submitted", str(sub), "--student", "alcie"]) == 2
    assert "did you mean alice" in capsys.readouterr().err


def test_the_report_shows_the_reports_numbers(course):
    root, _ = course
    results = ClassResults.read(root / "grades.json")
    summary = summarize(results)
    raw = _report(root)["students"]
    assert summary.scores == {s: r["score"] for s, r in raw.items()}
    assert summary.mean == pytest.approx(sum(r["score"] for r in raw.values()) / len(raw))
    for rate in summary.tests:
        outcomes = [t["status"] == "passed" for r in raw.values()
                    for t in r["notebooks"][rate.notebook]["tests"] if t["name"] == rate.name]
        assert (rate.passed, rate.total) == (sum(outcomes), len(outcomes))
    stub_hint = [m for m in summary.misconceptions if m.hint == "not implemented yet"]
    assert stub_hint and "carol" in stub_hint[0].students
    html = to_html(summary)
    assert f"mean {summary.mean:.2f}" in html and "data:image/png;base64," in html
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "report", ASSIGNMENT,
                           "--json", str(root / "grades.json"), "--out",
                           str(root / "report.html")], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and (root / "report.html").read_text() == html


def test_canvas_and_moodle_exports_have_their_import_columns(course):
    root, _ = course
    for style, first in (("canvas", ["Student", "ID", "SIS User ID", "SIS Login ID",
                                     "Section"]),
                         ("moodle", ["Username", "Email address", "First name", "Last name"])):
        done = subprocess.run([sys.executable, "-m", "autograder.cli", "export", "--format",
                               style, "--course-dir", str(root)], cwd=root, env=_env(),
                              capture_output=True, text=True, timeout=300)
        rows = list(csv.reader(io.StringIO(done.stdout)))
        assert rows[0][:len(first)] == first
        students = {r[3] if style == "canvas" else r[0] for r in rows[1:]} - {""}
        assert {"alice", "bob", "carol", "dave", "erin"} <= students


def test_help_lists_each_command_once(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    listing = [line.split()[0] for line in text.split("COMMAND\n", 1)[1].splitlines()
               if line.startswith("    ") and not line.startswith("      ")]
    assert sorted(listing) == sorted(set(listing))
    assert {"release", "grade", "export", "report", "gradescope", "demo"} <= set(listing)


def test_the_cache_key_covers_everything_that_can_change_a_grade(tmp_path, monkeypatch):
    from dataclasses import replace

    from autograder import student_edition
    from autograder.grader import grading, judge

    notebooks = ["03_convolution", "04_pooling"]
    sources = grading.load_sources(ROOT, ASSIGNMENT, notebooks)
    base = grading.course_fingerprint(sources)
    assert grading.course_fingerprint(sources) == base  # stable when nothing changed
    # the points of a grade cell
    conv = sources["03_convolution"]
    repointed = {**sources, "03_convolution": replace(
        conv, grade_cells={**conv.grade_cells, "test_conv2d_forward": 9.0})}
    assert grading.course_fingerprint(repointed) != base
    # a helper of the hidden tests, not a test file itself
    hidden = tmp_path / "hidden"
    shutil.copytree(judge.HIDDEN_DIR, hidden, ignore=shutil.ignore_patterns("__pycache__"))
    (hidden / "_checks.py").write_text((hidden / "_checks.py").read_text() + "\n# edited\n")
    monkeypatch.setattr(judge, "HIDDEN_DIR", hidden)
    helper_changed = grading.course_fingerprint(sources)
    assert helper_changed != base
    # the reference cnnlib the hidden tests compare with
    lib = tmp_path / "cnnlib"
    shutil.copytree(student_edition.CNNLIB_DIR, lib, ignore=shutil.ignore_patterns("__pycache__"))
    (lib / "losses.py").write_text((lib / "losses.py").read_text() + "\n# edited\n")
    monkeypatch.setattr(student_edition, "CNNLIB_DIR", lib)
    assert grading.course_fingerprint(sources) not in (base, helper_changed)
