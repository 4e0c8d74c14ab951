"""The released bundle as a student meets it: the zip unpacked, set up with the two commands
of its README in a fresh venv from PyPI, JupyterLab opened in Chromium, every notebook
filled in and run with Run All: no error or stderr (tqdm's bars need ipywidgets), figures
drawn, no instructor tool on the page. (The notebooks with their stubs unfilled are run in
test_make_lab.py, which has the same notebooks and the same student cnnlib.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from labdriver import (
    FIGURE_PREFIX,
    ROOT,
    NotebookPage,
    cell_count,
    check_filled,
    fill,
    instructor_ui,
    start_lab,
    student_env,
    unavailable,
)

from autograder.assignments import ASSIGNMENTS
from autograder.release import build_bundle

pytestmark = pytest.mark.e2e

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
OFFLINE = re.compile(r"Failed to establish a new connection|Temporary failure in name "
                     r"resolution|Network is unreachable|Could not fetch URL|ConnectTimeout")


def readme_commands(readme: str) -> tuple[str, str]:
    """The README's two commands (the first code block): set up, then open JupyterLab."""
    block = re.search(r"## Set up.*?```\n(.*?)```", readme, re.S)
    assert block, "the bundle README has no set-up commands"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 2, f"the README should give two commands, it gives {lines}"
    return lines[0], lines[1]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, browser):
    """Each assignment's bundle, unzipped where a student keeps it, set up as its README
    says, with JupyterLab started from its folder. The three bundles have the same
    requirements (checked), so the second and third share the first's venv by a link
    instead of installing the same packages again."""
    dist = tmp_path_factory.mktemp("dist")
    home = tmp_path_factory.mktemp("student")
    scratch = tmp_path_factory.mktemp("scratch")
    env = student_env(scratch)
    figures: dict[str, float] = {}
    started = time.perf_counter()
    for assignment in ASSIGNMENTS:
        build_bundle(ROOT, assignment, dist)
    figures["release the three bundles"] = time.perf_counter() - started

    requirements = {(dist / a / "requirements.txt").read_text() for a in ASSIGNMENTS}
    assert len(requirements) == 1, "the bundles ask for different requirements"
    setup, launch = readme_commands((dist / ASSIGNMENTS[0] / "README.md").read_text())
    if os.geteuid() == 0:
        assert "--allow-root" in (dist / ASSIGNMENTS[0] / "README.md").read_text()
        launch += " --allow-root"  # what the README tells a student who is root

    started = time.perf_counter()
    with zipfile.ZipFile(dist / f"{ASSIGNMENTS[0]}.zip") as zipped:
        zipped.extractall(home)
    first = home / ASSIGNMENTS[0]
    result = subprocess.run(["sh", "-c", setup], cwd=first, env=env, capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        said = result.stdout[-3000:] + result.stderr[-3000:]
        if OFFLINE.search(said):
            unavailable(f"PyPI is unreachable, the bundle cannot be installed:\n{said}")
        pytest.fail(f"the README's set-up command failed: {setup}\n{said}")
    figures["bundle: unzip, venv and pip install (README command 1)"] = (
        time.perf_counter() - started)

    labs = {}
    try:
        for assignment in ASSIGNMENTS:
            folder = home / assignment
            if assignment != ASSIGNMENTS[0]:
                with zipfile.ZipFile(dist / f"{assignment}.zip") as zipped:
                    zipped.extractall(home)
                (folder / ".venv").symlink_to(first / ".venv")
            server_started = time.perf_counter()
            labs[assignment] = start_lab(
                lambda lab_args: ["sh", "-c", f"{launch} {lab_args}"], folder, env,
                scratch / f"{assignment}.log")
            if assignment == ASSIGNMENTS[0]:
                figures["bundle: JupyterLab serving (README command 2)"] = (
                    time.perf_counter() - server_started)
                context = browser.new_context()
                page = NotebookPage(context, labs[assignment], NOTEBOOKS[0].name,
                                    cell_count(NOTEBOOKS[0]))
                figures["bundle: first notebook open, kernel idle"] = page.open_seconds
                figures["bundle: fresh bundle to an open notebook"] = (
                    time.perf_counter() - started)
                page.close()
                context.close()
                labs[assignment].shutdown_kernels()
        yield {a: (labs[a], home / a) for a in ASSIGNMENTS}, figures
    finally:
        for lab in labs.values():
            lab.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_a_fresh_bundle_installs_and_opens(bundles, record_property):
    labs, figures = bundles
    assert set(labs) == set(ASSIGNMENTS)
    for name, seconds in figures.items():
        record_property(FIGURE_PREFIX + name, seconds)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_student_runs_the_filled_notebook(bundles, context, notebook, record_property):
    labs, _ = bundles
    lab, folder = labs[notebook.parent.name]
    fill(folder / notebook.name, ROOT / "solutions" / notebook.parent.name / notebook.name)
    page = NotebookPage(context, lab, notebook.name, cell_count(notebook))
    try:
        shown = instructor_ui(page.shell_texts())
        seconds = page.run_all()
        problems = check_filled(page.cells(), folder / notebook.name)
    finally:
        page.close()
        lab.shutdown_kernels()
    record_property(FIGURE_PREFIX + f"bundle: {notebook.stem} filled, Run All", seconds)
    if shown:
        problems.append(f"instructor tools on the student's page: {shown}")
    assert not problems, "\n".join(problems)


def test_the_bundle_venv_holds_no_nbgrader(bundles):
    """The student's environment has JupyterLab alone: nbgrader is not even installed."""
    labs, _ = bundles
    _, folder = labs[ASSIGNMENTS[0]]
    python = Path(folder) / ".venv" / "bin" / "python"
    found = subprocess.run([str(python), "-c", "import nbgrader"], capture_output=True)
    assert found.returncode != 0, "nbgrader is installed in the student's venv"
