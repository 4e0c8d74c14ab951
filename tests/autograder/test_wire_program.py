"""The wire format and the program builder."""

import io
import json
import os

import nbformat
import numpy as np
import pytest

from autograder.grader import wire
from autograder.grader.program import (
    SourceInfo,
    SubmissionError,
    build_program,
    read_submission,
)


def _round_trip(value, to_handle=None):
    read, write = os.pipe()
    arrays: list = []
    wire.send(write, {"v": wire.encode(value, arrays, to_handle)}, arrays)
    message, got = wire.receive(read)
    os.close(read)
    os.close(write)
    return wire.decode(message["v"], got, from_handle=lambda k: ("handle", k))


def test_nested_values_and_arrays_cross_intact():
    value = {"a": (np.arange(6, dtype=np.int32).reshape(2, 3), 2.5, None),
             "b": [True, "x", float("inf")]}
    got = _round_trip(value)
    assert got["a"][0].dtype == np.int32 and got["a"][0].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert got["a"][1:] == (2.5, None) and got["b"] == [True, "x", float("inf")]


def test_objects_become_handles_and_never_pickles():
    assert _round_trip([object()], to_handle=lambda obj: 7) == [("handle", 7)]
    with pytest.raises(wire.WireError):
        wire.encode(object(), [])
    with pytest.raises(wire.WireError):
        wire.encode(np.array([object()]), [])


def test_a_pickled_payload_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    body = json.dumps({"message": {}, "arrays": 1}).encode()
    frame = (wire._HEADER.pack(len(body)) + body + wire._HEADER.pack(buffer.tell())
             + buffer.getvalue())
    read, write = os.pipe()
    os.write(write, frame)
    with pytest.raises(wire.WireError, match="refused"):
        wire.receive(read)


def _notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


def test_program_leaves_out_tests_skipped_cells_and_magics():
    given = nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\n!ls")
    solution = nbformat.v4.new_code_cell("def f(x):\n    return x")
    solution.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "f"}
    test = nbformat.v4.new_code_cell("assert f(1) == 1")
    test.metadata["nbgrader"] = {"solution": False, "grade": True, "grade_id": "test_f",
                                 "points": 1}
    plot = nbformat.v4.new_code_cell("train_for_an_hour()")
    plot.metadata["tags"] = ["skip-grading"]
    untagged = nbformat.v4.new_code_cell("also_slow()")  # tag deleted by the student
    source = SourceInfo(frozenset({untagged.id}), frozenset(), {"test_f": 1.0})
    cells = json.loads(build_program(_notebook([given, solution, test, plot, untagged]),
                                     source))
    assert [c["source"] for c in cells] == ["\nimport numpy as np\n", "def f(x):\n    return x"]
    assert [c["cell"] for c in cells] == [1, 2]  # numbered as the notebook shows them


def test_unreadable_and_missing_notebooks_say_why(tmp_path):
    with pytest.raises(SubmissionError, match="missing"):
        read_submission(tmp_path / "03_convolution.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(SubmissionError, match="not a readable notebook"):
        read_submission(bad)
