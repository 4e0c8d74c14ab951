"""The student edition strips exactly the regions of the released and later assignments."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.assignments import ASSIGNMENTS
from autograder.release import public_cnnlib_lines
from autograder.student_edition import (
    MarkerError,
    all_regions,
    build_student_cnnlib,
    find_regions,
    strip_source,
)

SAMPLE = textwrap.dedent('''\
    def early(x):
        """Given once a1 is over."""
        # BEGIN SOLUTION a1_backprop
        return x + 1
        # END SOLUTION


    class Thing:
        def method(self, y):
            # BEGIN SOLUTION a2_convolution
            return y * 2
            # END SOLUTION


    def late(z):
        # BEGIN SOLUTION a3_cnns
        return z - 3
        # END SOLUTION
''')


def _load(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<edition>", "exec"), namespace)
    return namespace


def test_regions_know_their_function_and_class():
    regions = find_regions(Path("sample.py"), SAMPLE.splitlines())
    assert [(r.function, r.owner, r.assignment) for r in regions] == [
        ("early", None, "a1_backprop"),
        ("method", "Thing", "a2_convolution"),
        ("late", None, "a3_cnns"),
    ]


def test_release_of_a2_keeps_a1_and_hides_a2_and_later():
    notebooks = {"Thing": "03_convolution", "late": "05_training_a_cnn"}
    stripped = strip_source(Path("s.py"), SAMPLE, ("a2_convolution", "a3_cnns"), notebooks)
    assert "return y * 2" not in stripped and "return z - 3" not in stripped
    namespace = _load(stripped)
    assert namespace["early"](1) == 2
    with pytest.raises(NotImplementedError, match=r"Thing.method is yours to write in 03_conv"):
        namespace["Thing"]().method(1)
    with pytest.raises(NotImplementedError, match="late is yours to write in 05_training"):
        namespace["late"](1)


@pytest.mark.parametrize(
    "broken",
    [
        "def f():\n    # BEGIN SOLUTION a1_backprop\n    return 1\n",
        "def f():\n    return 1\n    # END SOLUTION\n",
        "def f():\n    # BEGIN SOLUTION a7_nothing\n    return 1\n    # END SOLUTION\n",
    ],
)
def test_unbalanced_or_unknown_markers_are_refused(broken):
    with pytest.raises(MarkerError):
        find_regions(Path("broken.py"), broken.splitlines())


def test_every_assignment_has_solution_regions_in_cnnlib():
    assignments = {region.assignment for region, _ in all_regions()}
    assert assignments == set(ASSIGNMENTS)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_edition_imports_alone_and_raises_for_the_assignment(tmp_path, assignment):
    build_student_cnnlib(assignment, tmp_path)
    hidden = ASSIGNMENTS[ASSIGNMENTS.index(assignment):]
    sources = "".join(p.read_text() for p in (tmp_path / "cnnlib").rglob("*.py"))
    for name in hidden:
        assert f"BEGIN SOLUTION {name}" not in sources
    public = public_cnnlib_lines(set(hidden))  # lines given code legitimately shares
    edition_lines = {line.strip() for line in sources.splitlines()}
    for region, body in all_regions():
        if region.assignment not in hidden:
            continue
        for line in body:
            text = line.strip()
            if len(text) > 25 and text not in public:
                assert text not in edition_lines, f"{region.function}: {text!r} leaked"
    # Import the edition in a fresh interpreter, first on sys.path, and call one function
    # of the released assignment: it must raise and name a notebook.
    probe = {
        "a1_backprop": "cnnlib.relu_forward(np.ones(3))",
        "a2_convolution": "cnnlib.conv_output_size(5, 3)",
        "a3_cnns": "cnnlib.sgd_momentum_update(np.ones(2), np.ones(2), np.zeros(2))",
    }[assignment]
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np, cnnlib
        assert cnnlib.__file__.startswith({str(tmp_path)!r}), cnnlib.__file__
        try:
            {probe}
        except NotImplementedError as e:
            print("raised:", e)
        else:
            print("no raise")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("raised:") and "yours to write in" in out.stdout, out.stdout
