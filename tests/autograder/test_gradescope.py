"""The Gradescope bundle, run the way Gradescope runs it: unzip into a root, `setup.sh` as
root once, then `run_autograder` per submission, reading results/results.json. The root is
a scratch folder (both scripts honour CNN_COURSE_GRADESCOPE_ROOT).

Students attack it as a determined student would on Gradescope, where results.json's
output comes back at once: import the reference from the grader's environment, print the
hidden tests or the environment into an error message, submit a link to the solutions.
Each under bubblewrap and under the fallback (Gradescope's containers may refuse
namespaces)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from classbuilder import filled

from autograder.cli import main

pytestmark = [pytest.mark.grader, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "submissions"
HIDDEN = ROOT / "autograder" / "hidden" / "test_03_convolution.py"
SECRET = "gradescope-token-7f3a9"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "a2.zip"
    assert main(["gradescope", "a2_convolution", "--out", str(out),
                 "--course-dir", str(ROOT)]) == 0
    return out


@pytest.fixture(scope="module")
def autograder(bundle):
    """A Gradescope image, made by the bundle's own setup.sh in a scratch root."""
    if os.geteuid() != 0:
        pytest.skip("setup.sh installs system packages and must run as root, as on Gradescope")
    root = Path(tempfile.mkdtemp(prefix="gradescope-"))
    with zipfile.ZipFile(bundle) as zipped:
        zipped.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    env = dict(os.environ, CNN_COURSE_GRADESCOPE_ROOT=str(root))
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _submit(root: Path, files: dict[str, object], sandbox: str) -> dict:
    """Run run_autograder on ``files`` (name -> notebook, text, or ('link', target))."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / "submission" / "nested").mkdir(parents=True)
    for name, content in files.items():
        path = root / "submission" / "nested" / name
        if isinstance(content, tuple):
            path.symlink_to(content[1])
        elif isinstance(content, str):
            path.write_text(content)
        else:
            nbformat.write(content, path)
    env = {"PATH": "/usr/bin:/bin", "CNN_COURSE_GRADESCOPE_ROOT": str(root),
           "GRADESCOPE_API_TOKEN": SECRET, "HOME": "/root"}
    if sandbox == "fallback":
        env["CNN_COURSE_SANDBOX"] = "fallback"
    done = subprocess.run([str(root / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def _sample(student: str) -> dict:
    folder = SAMPLE / student / "a2_convolution"
    return {p.name: p.read_text() for p in folder.glob("*.ipynb")}


def _attacker(root: Path):
    """A correct 03 whose cross-correlation comes from the grader's reference cnnlib,
    whose convolution raises the hidden tests' text and whose output size raises the
    environment."""
    grab_reference = (
        "    ### BEGIN SOLUTION\n"
        "    import glob, importlib, sys\n"
        f"    for site in glob.glob({str(root)!r} + '/*/lib/python3*/site-packages'):\n"
        "        sys.path.insert(0, site)\n"
        "    sys.modules.pop('cnnlib', None)\n"
        "    reference = importlib.import_module('cnnlib')\n"
        "    return reference.cross_correlate2d(x, k)\n")
    leak_hidden = (
        "    ### BEGIN SOLUTION\n"
        f"    raise RuntimeError(open({str(root)!r} + '/source/course/autograder/hidden/"
        "test_03_convolution.py').read())\n")
    leak_env = ("    ### BEGIN SOLUTION\n"
                "    import os, sys\n"
                "    raise RuntimeError(repr(dict(os.environ)) + repr(sys.path))\n")
    return filled("a2_convolution", "03_convolution", [
        ("cross_correlate2d", "    ### BEGIN SOLUTION\n", grab_reference),
        ("convolve2d", "    ### BEGIN SOLUTION\n", leak_hidden),
        ("conv_output_size", "    ### BEGIN SOLUTION\n", leak_env),
    ])


def _leaks(results: dict, root: Path, typed_by_student: bool = False) -> list[str]:
    """Everything of the grader's that shows in results.json (the root's path is allowed
    when the student typed it into an error message themselves)."""
    text = json.dumps(results)
    needles = ["grader-venv", SECRET, str(ROOT)]
    if not typed_by_student:  # (the sandbox's own site-packages lie under the root)
        needles += [str(root), "autograder/", "/source/course", "site-packages"]
    found = [needle for needle in needles if needle in text]
    hidden_lines = [line.strip() for line in HIDDEN.read_text().splitlines()
                    if len(line.strip()) > 30]
    found += [line for line in hidden_lines if line in text]
    return found


def _by_cell(results: dict, notebook: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for test in results["tests"]:
        if not test["max_score"]:
            continue  # the notebook's own checks: no points, no grade cell
        nb, cell, _ = test["name"].split(" / ")
        if nb == notebook:
            scores[cell] = scores.get(cell, 0.0) + test["score"]
    return scores


def _check_format(results: dict) -> None:
    assert set(results) >= {"score", "execution_time", "output", "tests"}
    assert isinstance(results["execution_time"], int)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in {"passed", "failed"}
        assert 0 <= test["score"] <= test["max_score"]
        if test["max_score"]:  # the notebook's own checks carry no points
            assert (test["status"] == "passed") == (test["score"] == test["max_score"])


@pytest.fixture(scope="module")
def samples(autograder):
    """results.json of three sample students, as Gradescope would show them."""
    return {student: _submit(autograder, _sample(student), "bubblewrap")
            for student in ("a2_correct", "a2_bug_dx_without_flip", "a2_broken_invalid_json")}


@pytest.mark.parametrize("student,expected", [("a2_correct", 36),
                                              ("a2_bug_dx_without_flip", None),
                                              ("a2_broken_invalid_json", 14)])
def test_sample_students_get_their_scores(autograder, samples, student, expected):
    results = samples[student]
    _check_format(results)
    assert _leaks(results, autograder) == []
    total = sum(t["max_score"] for t in results["tests"])
    if expected is None:
        assert 0 < results["score"] < total
    else:
        assert results["score"] == expected
    if student == "a2_broken_invalid_json":
        assert "could not be graded" in results["output"]
    # the hidden tests wait for publication; the notebook's own checks show at once
    hidden = [t for t in results["tests"] if t["max_score"] > 0]
    checks = [t for t in results["tests"] if "check" in t["name"] and t["max_score"] == 0]
    assert {t["visibility"] for t in hidden} == {"after_published"}
    assert checks and {t["visibility"] for t in checks} == {"visible"}
    failed = {t["name"].rsplit(" ", 1)[-1] for t in checks if t["status"] == "failed"}
    if student == "a2_correct":
        assert failed == set()
    elif student == "a2_bug_dx_without_flip":
        assert failed == {"test_conv2d_backward"}


@pytest.mark.parametrize("sandbox", ["bubblewrap", "fallback"])
def test_the_reference_the_hidden_tests_the_environment_and_links_stay_out_of_reach(
        autograder, sandbox):
    """03 imports the reference, prints the hidden tests and the environment; 04 is a link
    to the solution."""
    solution = autograder / "source" / "course" / "solutions" / "a2_convolution"
    results = _submit(autograder, {
        "03_convolution.ipynb": _attacker(autograder),
        "04_pooling.ipynb": ("link", solution / "04_pooling.ipynb")}, sandbox)
    _check_format(results)
    assert _leaks(results, autograder, typed_by_student=True) == []
    cells = _by_cell(results, "03_convolution")
    assert cells["test_cross_correlate2d"] == 0  # no reference to import
    assert cells["test_convolve2d"] == 0
    assert "symbolic link" in results["output"]
    pooling = _by_cell(results, "04_pooling")
    assert pooling and not any(pooling.values())


def test_the_run_writes_a_summary_for_the_instructor_and_a_seed_students_do_not_see(
        autograder, samples):
    results = samples["a2_correct"]
    assert isinstance(results["extra_data"]["seed"], int)
    assert results["stdout_visibility"] == "hidden"
    assert str(results["extra_data"]["seed"]) not in results["output"]
    again = _submit(autograder, _sample("a2_correct"), "bubblewrap")
    assert again["extra_data"]["seed"] != results["extra_data"]["seed"]  # fresh inputs
    assert again["score"] == results["score"]
