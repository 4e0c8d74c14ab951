"""`cnn-course grade` end to end on a small a2 class made from the released notebooks."""

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from classbuilder import filled
from classbuilder import write as _write

from autograder.cli import main

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.a2_convolution
NOTEBOOKS = ("03_convolution", "04_pooling")
# each notebook's points: autograded, and its answers graded by hand (pending until a TA
# grades them in the formgrader)
AUTO = {"03_convolution": 22, "04_pooling": 14}
MANUAL = {"03_convolution": 4, "04_pooling": 4}


def _filled(notebook: str, edits=()):
    return filled("a2_convolution", notebook, edits)


NO_FLIP = ("convolve2d", "return cross_correlate2d(x, k[::-1, ::-1])",
           "return cross_correlate2d(x, k)")
HOSTILE_PATCH = ("convolve2d", "    ### BEGIN SOLUTION",
                 "    ### BEGIN SOLUTION\n    np.allclose = lambda *a, **k: True\n"
                 "    np.testing.assert_allclose = lambda *a, **k: None\n"
                 "    return np.zeros((1, 1))")
READS_REFERENCE = ("cross_correlate2d", "    ### BEGIN SOLUTION",
                   "    ### BEGIN SOLUTION\n    import cnnlib.conv as ref\n"
                   "    return ref.cross_correlate2d(x, k)")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    submitted = root / "submitted"
    correct = {nb: _filled(nb) for nb in NOTEBOOKS}
    _write(submitted, "correct", correct)
    _write(submitted, "no_flip", {"03_convolution": _filled("03_convolution", [NO_FLIP]),
                                  "04_pooling": correct["04_pooling"]})
    _write(submitted, "stubs", {nb: nbformat.read(
        ROOT / "notebooks" / "a2_convolution" / f"{nb}.ipynb", 4) for nb in NOTEBOOKS})
    _write(submitted, "broken_json", {"03_convolution": "{oops",
                                      "04_pooling": correct["04_pooling"]})
    _write(submitted, "missing_one", {"03_convolution": correct["03_convolution"]})
    _write(submitted, "hostile", {"03_convolution": _filled("03_convolution",
                                                            [HOSTILE_PATCH, READS_REFERENCE]),
                                  "04_pooling": correct["04_pooling"]})
    top = _filled("04_pooling")
    top.cells.insert(0, nbformat.v4.new_code_cell("raise RuntimeError('boom at the top')"))
    _write(submitted, "crash_on_load", {"03_convolution": correct["03_convolution"],
                                        "04_pooling": top})
    report = root / "grades.json"
    gradebook = root / "gradebook.db"
    args = ["grade", "a2_convolution", "--submitted", str(submitted), "--json", str(report),
            "--gradebook", str(gradebook), "--feedback", str(root / "feedback"),
            "--workers", "2", "--quiet", "--course-dir", str(ROOT), "--seed", "7"]
    assert main(args) == 0
    return root, args, json.loads(report.read_text())


def _nb(report, student, notebook):
    return report["students"][student]["notebooks"][notebook]


def test_schema_and_every_student_found(graded):
    _, _, report = graded
    assert report["assignment"] == "a2_convolution"
    assert set(report["students"]) == {"correct", "no_flip", "stubs", "broken_json",
                                       "missing_one", "hostile", "crash_on_load"}
    for result in report["students"].values():
        assert set(result) == {"score", "max_score", "notebooks", "pending"}
        assert result["pending"] == sum(MANUAL.values())  # nobody graded the answers yet
        assert set(result["notebooks"]) == set(NOTEBOOKS)
        for name, nb in result["notebooks"].items():
            assert set(nb) == {"score", "max_score", "error", "tests", "manual", "pending"}
            assert nb["pending"] == MANUAL[name] and nb["max_score"] == AUTO[name] + MANUAL[name]
            for test in nb["tests"]:
                assert set(test) == {"name", "grade_id", "score", "max_score", "status",
                                     "message"}
                assert test["status"] in {"passed", "failed", "error", "timeout"}
                assert "def test_" not in test["message"]


def test_correct_student_gets_full_marks(graded):
    result = graded[2]["students"]["correct"]
    assert result["score"] == result["max_score"] - result["pending"] == sum(AUTO.values())


def test_missing_flip_loses_only_the_convolve_tests(graded):
    report = graded[2]
    lost = {t["grade_id"] for t in _nb(report, "no_flip", "03_convolution")["tests"]
            if t["status"] != "passed"}
    assert lost == {"test_convolve2d"}
    assert _nb(report, "no_flip", "04_pooling")["score"] == AUTO["04_pooling"]


def test_stubs_score_zero_with_a_clear_message(graded):
    nb = _nb(graded[2], "stubs", "03_convolution")
    assert nb["score"] == 0 and nb["error"] is None
    assert all("not implemented" in t["message"] or "NotImplementedError" in t["message"]
               for t in nb["tests"])


def test_broken_files_are_errors_and_the_rest_is_graded(graded):
    report = graded[2]
    assert "not a readable notebook" in _nb(report, "broken_json", "03_convolution")["error"]
    assert _nb(report, "broken_json", "04_pooling")["score"] == AUTO["04_pooling"]
    assert "missing" in _nb(report, "missing_one", "04_pooling")["error"]
    assert _nb(report, "missing_one", "03_convolution")["score"] == AUTO["03_convolution"]
    crashed = _nb(report, "crash_on_load", "04_pooling")
    assert crashed["score"] == 0 and "boom at the top" in crashed["error"]


def test_hostile_tricks_earn_nothing(graded):
    report = graded[2]
    tests = {t["grade_id"]: t for t in _nb(report, "hostile", "03_convolution")["tests"]}
    assert tests["test_convolve2d"]["score"] == 0  # patched numpy lives in the sandbox only
    assert tests["test_cross_correlate2d"]["score"] == 0  # no reference there to import
    assert report["students"]["correct"]["score"] == sum(AUTO.values())


def test_gradebook_is_what_nbgrader_exports(graded):
    root, _, report = graded
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    work = root / "export"
    work.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", work)
    out = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", str(work / "grades.csv"),
         f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}"],
        cwd=work, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader((work / "grades.csv").open()))
    scores = {(r["student_id"]): float(r["score"]) for r in rows}
    assert scores["correct"] == sum(AUTO.values())
    assert scores["no_flip"] == report["students"]["no_flip"]["score"]


def test_feedback_lists_tests_without_hidden_source(graded):
    root = graded[0]
    text = (root / "feedback" / "no_flip" / "a2_convolution" / "feedback.md").read_text()
    assert "test_convolve2d" in text and "assert " not in text
    hidden = (ROOT / "autograder" / "hidden" / "test_03_convolution.py").read_text()
    assert not any(line.strip() in text for line in hidden.splitlines()
                   if len(line.strip()) > 30 and "assert" in line)
    assert (root / "feedback" / "no_flip" / "a2_convolution" / "feedback.html").is_file()


def test_rerun_is_idempotent_and_a_killed_run_resumes(graded):
    root, args, report = graded
    cache = Path(f"{root / 'gradebook.db'}.cache") / "a2_convolution"
    (cache / "no_flip.json").unlink()  # as if the run was killed before this student
    assert main(args) == 0
    again = json.loads((root / "grades.json").read_text())
    assert again == report
    # one row per student and grade cell, whatever the number of runs
    with sqlite3.connect(root / "gradebook.db") as db:
        rows = db.execute("SELECT COUNT(*) FROM grade").fetchone()[0]
        students = db.execute("SELECT COUNT(*) FROM student").fetchone()[0]
        cells = db.execute("SELECT COUNT(*) FROM grade_cells").fetchone()[0]
    assert students == len(report["students"]) and rows == students * cells


def test_bad_arguments_exit_non_zero(tmp_path):
    assert main(["grade", "a2_convolution", "--submitted", str(tmp_path / "nope"),
                 "--course-dir", str(ROOT), "--quiet"]) == 2
    assert main(["grade", "a9_unknown", "--submitted", str(tmp_path),
                 "--course-dir", str(ROOT)]) == 2


def test_a_run_killed_halfway_keeps_its_records_and_the_next_completes_it(graded, tmp_path):
    root, args, report = graded
    run = ["grade", "a2_convolution", "--submitted", str(root / "submitted"),
           "--gradebook", str(tmp_path / "gradebook.db"), "--json", str(tmp_path / "out.json"),
           "--feedback", str(tmp_path / "feedback"), "--workers", "1", "--quiet",
           "--course-dir", str(ROOT), "--seed", "7"]
    cache = tmp_path / "gradebook.db.cache" / "a2_convolution"
    process = subprocess.Popen([sys.executable, "-m", "autograder.cli", *run],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if cache.is_dir() and any(cache.glob("*.json")):
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {p.stem for p in cache.glob("*.json")}
    assert 0 < len(done_before) < len(report["students"])  # it really stopped halfway
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        recorded = {name for (name,) in db.execute("SELECT id FROM student")}
    assert done_before <= recorded  # what was finished is in the gradebook
    assert main(run) == 0
    assert json.loads((tmp_path / "out.json").read_text()) == report


def test_in_process_alembic_head_matches_nbgraders_subprocess(tmp_path):
    """The gradebook's schema stamp must be the one nbgrader's own `alembic heads` reports,
    or `nbgrader export` would try to migrate (or refuse) the gradebooks we write."""
    import nbgrader.api

    from autograder.grader.record import GradebookWriter, alembic_head, ensure_alembic_on_path

    ensure_alembic_on_path()
    assert alembic_head() == nbgrader.api.get_alembic_version()
    GradebookWriter(tmp_path / "gradebook.db", "a2_convolution", {}).close()
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        (stamp,) = db.execute("select version_num from alembic_version").fetchone()
    assert stamp == alembic_head()


def test_ctrl_c_cancels_queued_work_and_keeps_what_was_recorded(graded, tmp_path):
    root, _, report = graded
    run = ["grade", "a2_convolution", "--submitted", str(root / "submitted"),
           "--gradebook", str(tmp_path / "gradebook.db"), "--json", str(tmp_path / "out.json"),
           "--feedback", str(tmp_path / "feedback"), "--workers", "1", "--quiet",
           "--course-dir", str(ROOT), "--seed", "7"]
    cache = tmp_path / "gradebook.db.cache" / "a2_convolution"
    process = subprocess.Popen([sys.executable, "-m", "autograder.cli", *run],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if cache.is_dir() and any(cache.glob("*.json")):
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole group
    start = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert time.monotonic() - start < 30  # queued students were not graded first
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted:")
    done = {p.stem for p in cache.glob("*.json")}
    assert 0 < len(done) < len(report["students"])
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        recorded = {name for (name,) in db.execute("SELECT id FROM student")}
    assert recorded == done  # the gradebook holds exactly the students that finished
    assert main(run) == 0
    assert json.loads((tmp_path / "out.json").read_text()) == report
