"""The sample class in examples/submissions: each student's expected score pattern."""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from autograder.cli import main

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "examples" / "submissions"

CONV = ["test_conv_output_size", "test_cross_correlate2d", "test_convolve2d",
        "test_conv2d_forward_naive", "test_conv2d_forward", "test_conv2d_backward"]
POOL = ["test_maxpool2d_forward", "test_avgpool2d_forward", "test_maxpool2d_backward",
        "test_avgpool2d_backward"]
FORWARDS = ["test_conv2d_forward_naive", "test_conv2d_forward", "test_conv2d_backward"]

# student -> the grade cells it must lose (everything else at full marks). The backward
# test checks the student's backward against their own forward's cache, so a forward bug
# costs the backward cell too.
EXPECTED_LOSSES = {
    "a2_correct": [],
    "a2_partial_conv_only": POOL,
    "a2_partial_pool_only": CONV,
    "a2_bug_convolve_without_flip": ["test_convolve2d"],
    "a2_bug_xcorr_with_flip": ["test_cross_correlate2d", "test_convolve2d"],
    "a2_bug_bias_missing": FORWARDS,
    "a2_bug_stride_ignored": FORWARDS,
    "a2_bug_padding_ignored": FORWARDS,
    "a2_bug_dx_without_flip": ["test_conv2d_backward"],
    "a2_bug_maxpool_grad_to_window": ["test_maxpool2d_backward"],
    "a2_bug_avgpool_not_divided": ["test_avgpool2d_backward"],
    "a2_broken_renamed_function": ["test_conv2d_forward", "test_conv2d_backward"],
}
# broken files: the notebook is an error with a sentence, the other notebook is graded
BROKEN = {
    "a2_broken_invalid_json": ("03_convolution", "not a readable notebook"),
    "a2_broken_missing_notebook": ("04_pooling", "missing"),
    "a2_broken_exception_at_top": ("03_convolution", "I broke my notebook on purpose"),
}
# hostile: the grade cells of the attacked function (and of what calls it) earn nothing
HOSTILE_ATTACKED = {
    "a2_hostile_import_reference": ["test_cross_correlate2d"],
    "a2_hostile_patch_numpy": ["test_convolve2d"],
    "a2_hostile_liar_array": ["test_conv2d_forward"],
    "a2_hostile_exit": ["test_conv2d_backward"],
    "a2_hostile_infinite_loop": ["test_conv2d_forward_naive"],
    "a2_hostile_memory_bomb": ["test_conv_output_size"],
    "a2_hostile_output_flood": ["test_maxpool2d_forward"],
    "a2_hostile_spawn_processes": ["test_avgpool2d_forward"],
    "a2_hostile_kill_parent": ["test_maxpool2d_backward"],
    "a2_hostile_write_others": ["test_avgpool2d_backward"],
    "a2_hostile_read_stdin": ["test_convolve2d"],
}


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    gradebook = root / "gradebook.db"
    before = _tree_hash(SUBMISSIONS)
    code = main(["grade", "a2_convolution", "--submitted", str(SUBMISSIONS), "--json",
                 str(root / "grades.json"), "--gradebook", str(gradebook), "--feedback",
                 str(root / "feedback"), "--workers", "2", "--quiet", "--timeout-call", "5",
                 "--course-dir", str(ROOT)])
    assert code == 0
    assert _tree_hash(SUBMISSIONS) == before, "grading changed the submissions"
    return json.loads((root / "grades.json").read_text())


def _cells(result: dict) -> dict[str, tuple[float, float]]:
    cells: dict[str, list[float]] = {}
    for nb in result["notebooks"].values():
        for test in nb["tests"]:
            got = cells.setdefault(test["grade_id"], [0.0, 0.0])
            got[0] += test["score"]
            got[1] += test["max_score"]
    return {k: (v[0], v[1]) for k, v in cells.items()}


def test_every_sample_student_is_graded(report):
    expected = set(EXPECTED_LOSSES) | set(BROKEN) | set(HOSTILE_ATTACKED)
    assert set(report["students"]) == expected


A3_EXPECTED_LOSSES = {
    "a3_correct": [],
    "a3_bug_adam_without_bias_correction": ["test_adam_update"],
    "a3_bug_momentum_wrong_sign": ["test_sgd_momentum_update"],
    "a3_bug_residual_without_skip_gradient": ["test_residual_backward"],
}


A1_EXPECTED_LOSSES = {
    "a1_correct": [],
    # the add gate is in every graph, so every Value cell loses; the reuse cell says why
    "a1_bug_assign_instead_of_accumulate": ["test_value_ops", "test_value_graphs",
                                            "test_value_reuse", "test_value_zero_grad"],
    "a1_bug_affine_without_reshape": ["test_affine_forward", "test_affine_backward"],
    "a1_bug_softmax_overflow": ["test_softmax_cross_entropy"],
    # hostile: exactly what they attacked (and its backward, which uses its cache)
    "a1_hostile_exit": ["test_sigmoid_neuron"],
    "a1_hostile_patch_numpy": ["test_relu_forward", "test_relu_backward"],
}


def _grade(tmp_path_factory, assignment: str, students: list[str]) -> dict:
    root = tmp_path_factory.mktemp(f"sample_{assignment}")
    code = main(["grade", assignment, "--submitted", str(SUBMISSIONS), "--json",
                 str(root / "grades.json"), "--gradebook", str(root / "gradebook.db"),
                 "--feedback", str(root / "feedback"), "--workers", "2", "--quiet",
                 "--course-dir", str(ROOT)] + sum((["--student", s] for s in students), []))
    assert code == 0
    return json.loads((root / "grades.json").read_text())


@pytest.fixture(scope="module")
def report_a1(tmp_path_factory):
    return _grade(tmp_path_factory, "a1_backprop", list(A1_EXPECTED_LOSSES))


@pytest.mark.parametrize("student", sorted(A1_EXPECTED_LOSSES))
def test_a1_patterns(report_a1, student):
    cells = _cells(report_a1["students"][student])
    lost = sorted(g for g, (score, top) in cells.items() if score < top)
    assert lost == sorted(A1_EXPECTED_LOSSES[student])
    if "hostile" in student:  # the attacked function itself earns nothing
        attacked = A1_EXPECTED_LOSSES[student][0]
        assert cells[attacked][0] == 0, f"{student} scored on {attacked}"


@pytest.fixture(scope="module")
def report_a3(tmp_path_factory):
    return _grade(tmp_path_factory, "a3_cnns",
                  [*A3_EXPECTED_LOSSES, "a3_broken_missing_notebook"])


@pytest.mark.parametrize("student", sorted(A3_EXPECTED_LOSSES))
def test_a3_bugs_lose_exactly_their_cells(report_a3, student):
    cells = _cells(report_a3["students"][student])
    lost = sorted(g for g, (score, top) in cells.items() if score < top)
    assert lost == sorted(A3_EXPECTED_LOSSES[student])


def test_a3_missing_notebook_is_an_error(report_a3):
    result = report_a3["students"]["a3_broken_missing_notebook"]["notebooks"]
    assert "missing" in result["07_tuning_and_transfer"]["error"]
    assert result["05_training_a_cnn"]["score"] == result["05_training_a_cnn"]["max_score"]


@pytest.mark.parametrize("student", sorted(EXPECTED_LOSSES))
def test_each_bug_loses_exactly_its_cells(report, student):
    cells = _cells(report["students"][student])
    lost = sorted(g for g, (score, top) in cells.items() if score < top)
    assert lost == sorted(EXPECTED_LOSSES[student])
    for grade_id in EXPECTED_LOSSES[student]:
        assert cells[grade_id][0] < cells[grade_id][1]


@pytest.mark.parametrize("student", sorted(BROKEN))
def test_broken_files_error_and_the_rest_is_graded(report, student):
    notebook, words = BROKEN[student]
    result = report["students"][student]["notebooks"]
    assert words in result[notebook]["error"] and result[notebook]["score"] == 0
    other = next(nb for nb in result if nb != notebook)
    assert result[other]["error"] is None and result[other]["score"] == result[other]["max_score"]


@pytest.mark.parametrize("student", sorted(HOSTILE_ATTACKED))
def test_hostile_tricks_earn_nothing_for_what_they_attack(report, student):
    cells = _cells(report["students"][student])
    for grade_id in HOSTILE_ATTACKED[student]:
        assert cells[grade_id][0] == 0, f"{student} scored on {grade_id}"
    honest_wrong = report["students"]["a2_partial_pool_only"]["score"]
    assert report["students"][student]["score"] < report["students"]["a2_correct"]["score"]
    assert honest_wrong <= report["students"]["a2_correct"]["score"]


def test_honest_students_are_unaffected_by_the_hostile_ones(report):
    # every honest student's cells are full except the expected losses (asserted above);
    # the correct student, graded alongside all the attacks, keeps full marks
    correct = report["students"]["a2_correct"]
    assert correct["score"] == correct["max_score"] == 32


def test_sample_class_is_what_the_generator_makes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "make_sample_class", ROOT / "examples" / "make_sample_class.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_sample_class", module)  # dataclasses look it up
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path)
    module.main()
    assert _tree_hash(tmp_path) == _tree_hash(SUBMISSIONS), (
        "examples/submissions is stale: run `python examples/make_sample_class.py`")
