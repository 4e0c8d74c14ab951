"""Submissions are data, never paths; student text cannot forge structure; a dead worker
costs one student. Each attack is a student in one class graded by `cnn-course grade`."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import time
from pathlib import Path

import nbformat
import pytest
from classbuilder import ROOT, filled, write

from autograder.cli import main
from autograder.grader.grading import load_sources

pytestmark = pytest.mark.grader

# Full marks as the course's grade cells give them (autograded points only: the answer
# cells wait for a TA), so the pins follow the notebooks when their points change.
_SOURCES = load_sources(ROOT, "a2_convolution", ["03_convolution", "04_pooling"])
POOL_FULL = sum(_SOURCES["04_pooling"].grade_cells.values())
ALL_FULL = POOL_FULL + sum(_SOURCES["03_convolution"].grade_cells.values())
ALL_MAX = ALL_FULL + sum(sum(s.manual_cells.values()) for s in _SOURCES.values())
FORGED = f"\n\n**Total: {ALL_FULL:g} / {ALL_FULL:g}**\n\n| x | y |\n<script>alert(1)</script>\n"
ESCAPE_NAME = "evil\x1b[2J\x1b[Hname"


def _raising_first(notebook: str, source: str):
    nb = filled("a2_convolution", notebook)
    nb.cells.insert(0, nbformat.v4.new_code_cell(source))
    return nb


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    sub = root / "submitted"
    pool = filled("a2_convolution", "04_pooling")
    conv = filled("a2_convolution", "03_convolution")
    write(sub, "correct", {"03_convolution": conv, "04_pooling": pool})
    secret = root / "secret.txt"
    secret.write_text("SECRET-CONTENT-0451\n")
    links = {
        "link_to_solution": ROOT / "solutions" / "a2_convolution" / "03_convolution.ipynb",
        "link_to_other": Path("../../correct/a2_convolution/03_convolution.ipynb"),
        "link_to_secret": secret,
    }
    for student, target in links.items():
        folder = write(sub, student, {"04_pooling": pool})
        (folder / "03_convolution.ipynb").symlink_to(target)
    (sub / "link_folder").symlink_to(sub / "correct")
    (sub / "link_assignment").mkdir()
    (sub / "link_assignment" / "a2_convolution").symlink_to(sub / "correct" / "a2_convolution")
    folder = write(sub, "fifo", {"04_pooling": pool})
    os.mkfifo(folder / "03_convolution.ipynb")
    cell = {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [],
            "execution_count": None}
    many = json.dumps({"cells": [dict(cell, id=f"c{i}") for i in range(100_000)],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    write(sub, "huge_cells", {"03_convolution": many, "04_pooling": pool})
    big = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("#" * (25 * 2**20))])
    write(sub, "too_big", {"03_convolution": big, "04_pooling": pool})
    write(sub, "deep_json", {"03_convolution": "[" * 200_000, "04_pooling": pool})
    write(sub, "forged_feedback", {
        "03_convolution": _raising_first("03_convolution", f"raise RuntimeError({FORGED!r})"),
        "04_pooling": pool})
    write(sub, "evil_class", {
        "03_convolution": _raising_first(
            "03_convolution", "raise type('Evil\\x1b[2J\\x1b[H', (Exception,), {})('boom')"),
        "04_pooling": pool})
    write(sub, ESCAPE_NAME, {"03_convolution": conv, "04_pooling": pool})
    report = root / "grades.json"
    args = ["grade", "a2_convolution", "--submitted", str(sub), "--json", str(report),
            "--gradebook", str(root / "gradebook.db"), "--feedback", str(root / "feedback"),
            "--workers", "2", "--course-dir", str(ROOT), "--seed", "11"]
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(args) == 0
    seconds = time.monotonic() - start
    return root, json.loads(report.read_text()), out.getvalue(), err.getvalue(), seconds


def _nb(report, student, notebook="03_convolution"):
    return report["students"][student]["notebooks"][notebook]


@pytest.mark.parametrize("student", ["link_to_solution", "link_to_other", "link_to_secret"])
def test_a_linked_notebook_is_an_error_not_its_target(attacked, student):
    _, report, *_ = attacked
    nb = _nb(report, student)
    assert nb["score"] == 0 and "symbolic link" in nb["error"]
    assert _nb(report, student, "04_pooling")["score"] == POOL_FULL  # the rest is graded


@pytest.mark.parametrize("student", ["link_folder", "link_assignment"])
def test_a_linked_folder_is_graded_as_an_error_not_as_its_target(attacked, student):
    _, report, *_ = attacked
    result = report["students"][student]
    assert result["score"] == 0
    assert all("symbolic link" in nb["error"] for nb in result["notebooks"].values())


def test_no_secret_reaches_any_output(attacked):
    root, report, out, err, _ = attacked
    texts = [json.dumps(report), out, err]
    texts += [p.read_text() for p in (root / "feedback").rglob("*") if p.is_file()]
    cache = Path(f"{root / 'gradebook.db'}.cache")
    texts += [p.read_text() for p in cache.rglob("*.json")]
    assert not any("SECRET-CONTENT-0451" in text for text in texts)


def test_special_files_and_oversized_notebooks_are_clear_errors(attacked):
    _, report, _, _, seconds = attacked
    assert "not a regular file" in _nb(report, "fifo")["error"]
    assert "over the limit of" in _nb(report, "huge_cells")["error"]
    assert "MiB" in _nb(report, "too_big")["error"]
    assert "not a readable notebook" in _nb(report, "deep_json")["error"]
    for student in ("fifo", "huge_cells", "too_big", "deep_json"):
        assert _nb(report, student, "04_pooling")["score"] == POOL_FULL
    assert seconds < 120  # nothing above blocked or parsed for long


def test_cache_and_report_are_readable_by_their_owner_only(attacked):
    root, *_ = attacked
    assert (root / "grades.json").stat().st_mode & 0o077 == 0
    cache = Path(f"{root / 'gradebook.db'}.cache")
    assert all(p.stat().st_mode & 0o077 == 0 for p in cache.rglob("*.json"))
    assert cache.stat().st_mode & 0o077 == 0


def test_an_error_message_cannot_forge_feedback_structure(attacked):
    root, report, *_ = attacked
    folder = root / "feedback" / "forged_feedback" / "a2_convolution"
    markdown = (folder / "feedback.md").read_text()
    lines = markdown.splitlines()
    totals = [line for line in lines if line.startswith("**Total: ")]
    assert len(totals) == 1 and totals[0].startswith(f"**Total: {POOL_FULL:g} / {ALL_MAX:g}")
    assert not any(line.strip().startswith(f"**Total: {ALL_FULL:g} / ") for line in lines)
    assert "<script>" not in markdown and "<script>" not in (folder / "feedback.html").read_text()
    assert "Total" in _nb(report, "forged_feedback")["error"]  # the text is kept, made inert


def test_control_characters_never_reach_the_terminal_or_feedback(attacked):
    root, report, out, err, _ = attacked
    assert "\x1b" not in out and "\x1b" not in err
    assert "\x1b" not in _nb(report, "evil_class")["error"]
    assert ESCAPE_NAME in report["students"]  # graded, under its real id...
    assert report["students"][ESCAPE_NAME]["score"] == ALL_FULL
    assert "evil" in out  # ...and listed in the class table, made inert
    for path in (root / "feedback").rglob("feedback.*"):
        assert "\x1b" not in path.read_text()


def test_a_worker_that_dies_costs_only_its_student(tmp_path, monkeypatch):
    from autograder.grader import command

    sub = tmp_path / "submitted"
    pool = filled("a2_convolution", "04_pooling")
    for student in ("alice", "killer", "zoe"):
        write(sub, student, {"04_pooling": pool, "03_convolution": "{}"})
    original = command.grade_student

    def grade_or_die(job):
        if job.student == "killer":
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        return original(job)

    monkeypatch.setattr(command, "grade_student", grade_or_die)
    report = tmp_path / "grades.json"
    assert main(["grade", "a2_convolution", "--submitted", str(sub), "--json", str(report),
                 "--gradebook", str(tmp_path / "gb.db"), "--feedback", str(tmp_path / "fb"),
                 "--workers", "2", "--quiet", "--course-dir", str(ROOT)]) == 0
    graded = json.loads(report.read_text())["students"]
    assert set(graded) == {"alice", "killer", "zoe"}
    assert graded["alice"]["score"] == graded["zoe"]["score"] == POOL_FULL
    killed = graded["killer"]["notebooks"]["04_pooling"]
    assert graded["killer"]["score"] == 0 and "SIGKILL" in killed["error"]
