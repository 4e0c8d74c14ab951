"""`make lab` as a student in the course repository starts it. Every notebook is stepped
through cell by cell with its stubs unfilled (only test cells fail, each naming the stub to
write), then filled in and run with Restart Kernel and Run All Cells (no error or stderr,
figures drawn); no nbgrader instructor tool is on the page, and as root it starts with a
warning. `make formgrader`, the instructor's launcher, shows those tools (which also shows
that the probes can see them).

Both run in a copy of the course (its .venv a link to this one), so that the notebooks can
be filled in and run without touching the work tree."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from labdriver import (
    FIGURE_PREFIX,
    ROOT,
    NotebookPage,
    cell_count,
    check_filled,
    check_unfilled,
    fill,
    instructor_ui,
    start_lab,
    stub_names,
    student_env,
    unavailable,
)

pytestmark = pytest.mark.e2e

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
# The two training notebooks take most of a filled run; the bundle's test runs them filled
# (as it runs every notebook), so here they are only stepped through unfilled.
BUNDLE_ONLY = {"05_training_a_cnn", "07_tuning_and_transfer"}
COURSE_PARTS = ("Makefile", "pyproject.toml", "nbgrader_config.py", "jupyter", "notebooks",
                "solutions")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course, notebooks as released."""
    if not (ROOT / ".venv" / ".installed").is_file() or not shutil.which("make"):
        unavailable("`make lab` needs make and this work tree's .venv (run the tests with make)")
    copy = tmp_path_factory.mktemp("course")
    for part in COURSE_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, copy / part, ignore=shutil.ignore_patterns(
                "cnnlib", ".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(source, copy / part)  # keeps mtimes: make sees .venv up to date
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


@pytest.fixture(scope="module")
def make_lab(course, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("scratch")
    started = time.perf_counter()
    lab = start_lab(lambda lab_args: ["make", "--no-print-directory", "lab",
                                      f"LAB_ARGS={lab_args}"],
                    course, student_env(scratch), scratch / "make-lab.log")
    lab.started = time.perf_counter() - started
    yield lab
    lab.stop()


def test_make_lab_starts_as_root_with_a_warning(make_lab, record_property):
    record_property(FIGURE_PREFIX + "make lab: JupyterLab serving", make_lab.started)
    said = make_lab.output()
    if os.geteuid() == 0:
        assert "warning: running as root" in said and "--allow-root" in said, said[-2000:]
    else:
        assert "running as root" not in said and "--allow-root" not in said, said[-2000:]


def test_make_lab_hides_the_instructor_tools(make_lab, context):
    page = NotebookPage(context, make_lab, NOTEBOOKS[0].relative_to(ROOT / "notebooks")
                        .as_posix(), cell_count(NOTEBOOKS[0]))
    try:
        shown = instructor_ui(page.shell_texts())
        assert not shown, f"instructor tools on the student's page: {shown}"
        assert page.palette_matches("run all cells"), "the command palette finds nothing"
        for query in ("formgrader", "create assignment", "course list"):
            assert not page.palette_matches(query), f"the command palette offers {query!r}"
        assert "Validate" in " ".join(page.shell_texts()["toolbar"]), (
            "nbgrader's student-side Validate button is missing from the notebook toolbar")
    finally:
        page.close()
        make_lab.shutdown_kernels()
    assert make_lab.api("GET", "/formgrader")[0] == 404, "the formgrader is served"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_student_steps_through_then_fills_the_notebook(make_lab, course, context, notebook,
                                                         record_property):
    relative = notebook.relative_to(ROOT / "notebooks")
    path = course / "notebooks" / relative
    page = NotebookPage(context, make_lab, relative.as_posix(), cell_count(notebook))
    try:
        shown = instructor_ui(page.shell_texts())
        assert not shown, f"instructor tools on the student's page: {shown}"
        seconds = page.step_through()
        problems = check_unfilled(page.cells(), path, stub_names(ROOT / "solutions" / relative))
        record_property(FIGURE_PREFIX + f"make lab: {notebook.stem} unfilled, cell by cell",
                        seconds)
        assert not problems, "\n".join(problems)

        if notebook.stem in BUNDLE_ONLY:
            return
        fill(path, ROOT / "solutions" / relative)  # the student writes every function, then
        seconds = page.restart_and_run_all_from_disk()  # checks it before handing it in
        problems = check_filled(page.cells(), path)
        record_property(FIGURE_PREFIX + f"make lab: {notebook.stem} filled, Restart Kernel "
                        "and Run All", seconds)
        assert not problems, "\n".join(problems)
    finally:
        page.close()
        make_lab.shutdown_kernels()


def test_make_formgrader_shows_the_instructor_tools(course, context, tmp_path):
    """The instructor's launcher: the same probes find nbgrader's tools there."""
    lab = start_lab(lambda lab_args: ["make", "--no-print-directory", "formgrader",
                                      f"LAB_ARGS={lab_args}"],
                    course, student_env(tmp_path), tmp_path / "formgrader.log")
    try:
        path = f"notebooks/{NOTEBOOKS[0].parent.name}/{NOTEBOOKS[0].name}"  # from the root
        page = NotebookPage(context, lab, path, cell_count(NOTEBOOKS[0]))
        shown = instructor_ui(page.shell_texts())
        offered = page.palette_matches("formgrader")
        page.close()
        assert any("Nbgrader" in label for label in shown), f"no Nbgrader menu: {shown}"
        assert any("Create Assignment" in label for label in shown), (
            f"no Create Assignment panel: {shown}")
        assert offered, "the command palette does not offer the formgrader"
        assert lab.api("GET", "/formgrader")[0] == 200, "the formgrader is not served"
    finally:
        lab.shutdown_kernels()
        lab.stop()
