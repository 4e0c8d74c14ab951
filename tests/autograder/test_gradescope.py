"""The Gradescope bundle: built, unpacked, and run on a scratch root."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.cli import main

pytestmark = pytest.mark.a2_convolution

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "submissions"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "a2.zip"
    assert main(["gradescope", "a2_convolution", "--out", str(out),
                 "--course-dir", str(ROOT)]) == 0
    return out


def test_bundle_has_setup_and_run_scripts(bundle):
    with zipfile.ZipFile(bundle) as zipped:
        names = set(zipped.namelist())
        assert {"setup.sh", "run_autograder", "course/pyproject.toml"} <= names
        assert "course/autograder/hidden/test_03_convolution.py" in names
        assert "course/solutions/a2_convolution/03_convolution.ipynb" in names
        assert not any("a3_cnns" in n or "a1_backprop" in n for n in names if "solutions" in n)
        assert (zipped.getinfo("run_autograder").external_attr >> 16) & 0o111


@pytest.mark.parametrize("student", ["a2_correct", "a2_bug_dx_without_flip",
                                     "a2_broken_invalid_json"])
def test_run_autograder_writes_gradescope_results(bundle, tmp_path, student):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zipped:
        zipped.extractall(root / "source")
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    shutil.copytree(SAMPLE / student / "a2_convolution", root / "submission")
    env = dict(os.environ, CNN_COURSE_GRADESCOPE_ROOT=str(root), CNN_COURSE_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert set(results) >= {"score", "execution_time", "output", "tests"}
    assert isinstance(results["execution_time"], int)
    assert all(set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
               for t in results["tests"])
    assert {t["status"] for t in results["tests"]} <= {"passed", "failed"}
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    # Gradescope's spec: the top-level score is the submission's; tests carry their own
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert all(0 <= t["score"] <= t["max_score"] for t in results["tests"])
    assert all((t["status"] == "passed") == (t["score"] == t["max_score"])
               for t in results["tests"])
    total = sum(t["max_score"] for t in results["tests"])
    if student == "a2_correct":
        assert results["score"] == total == 32
    elif student == "a2_bug_dx_without_flip":
        assert 0 < results["score"] < total
    else:
        assert "could not be graded" in results["output"] and results["score"] == 12
