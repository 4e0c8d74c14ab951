"""The sample class in examples/submissions, graded: each student's expected score pattern.

Each assignment is graded once per test session (lazily, so `-m a1_backprop` grades only
a1; under xdist the first test process to need a class grades it and the others read its
run) with `--json` and a gradebook in a temporary folder. The tables below are written from
what each student is (examples/make_sample_class.py says what was changed), not from a
grading run: a bug loses the grade cells that check what it broke and every cell that
checks through it (a backward test uses the student's own forward), and keeps the rest.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.cli import main

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "examples" / "submissions"
MARKS = {"a1_backprop": pytest.mark.a1_backprop, "a2_convolution": pytest.mark.a2_convolution,
         "a3_cnns": pytest.mark.a3_cnns}

# notebook -> its grade cells (the hidden tests' grade ids)
CELLS = {
    "01_computational_graphs": ["test_add_mul_graph", "test_sigmoid_neuron", "test_value_ops",
                                "test_value_graphs", "test_value_reuse", "test_value_zero_grad",
                                "test_gate_needs_forward_values"],
    "02_vector_backprop": ["test_numerical_gradient", "test_sigmoid_forward",
                           "test_sigmoid_backward", "test_relu_forward", "test_relu_backward",
                           "test_affine_forward", "test_affine_backward",
                           "test_softmax_cross_entropy", "test_matmul_jacobian_entries"],
    "03_convolution": ["test_conv_output_size", "test_cross_correlate2d", "test_convolve2d",
                       "test_conv_params", "test_conv2d_forward_naive", "test_conv2d_forward",
                       "test_conv2d_backward"],
    "04_pooling": ["test_maxpool2d_forward", "test_avgpool2d_forward", "test_maxpool2d_backward",
                   "test_avgpool2d_backward", "test_invariant_shifts"],
    "05_training_a_cnn": ["test_sgd_momentum_update", "test_adam_update", "test_train_step",
                          "test_receptive_field"],
    "06_architectures": ["test_layer_table", "test_residual_forward", "test_residual_backward",
                         "test_inception_forward", "test_inception_backward"],
    "07_tuning_and_transfer": ["test_grid_configs", "test_random_configs",
                               "test_diagnose_curves", "test_transfer_strategy",
                               "test_finetune_step"],
}
NOTEBOOKS = {"a1_backprop": ["01_computational_graphs", "02_vector_backprop"],
             "a2_convolution": ["03_convolution", "04_pooling"],
             "a3_cnns": ["05_training_a_cnn", "06_architectures", "07_tuning_and_transfer"]}
# notebook -> its manually graded answer cells and their points (pending until a TA grades)
MANUAL = {
    "01_computational_graphs": {"q_graph_not_unique": 2.0, "q_topological_order": 2.0},
    "02_vector_backprop": {"q_sigmoid_saturation": 2.0, "q_bias_sum": 2.0},
    "03_convolution": {"answer_flip": 2.0, "answer_gradient_sums": 2.0},
    "04_pooling": {"answer_invariance": 2.0, "answer_why_pool": 2.0},
    "05_training_a_cnn": {"question_adam_bias": 2.0, "question_sanity_checks": 2.0},
    "06_architectures": {"question_vgg_memory": 2.0, "question_skip_gradient": 2.0,
                         "question_one_by_one": 2.0},
    "07_tuning_and_transfer": {"q_random_vs_grid": 2.0, "q_error_tradeoff": 2.0,
                               "q_freeze_or_finetune": 2.0},
}
# autograded points plus the manual cells' points
MAX_SCORE = {"a1_backprop": 34 + 8, "a2_convolution": 36 + 8, "a3_cnns": 32 + 16}
CONV_FORWARDS = ["test_conv2d_forward_naive", "test_conv2d_forward", "test_conv2d_backward"]

# student -> the grade cells it loses; every other cell of the assignment is at full marks
LOSSES: dict[str, list[str]] = {
    "a1_correct": [],
    "a1_partial_graphs_only": CELLS["02_vector_backprop"],
    "a1_partial_vector_only": CELLS["01_computational_graphs"],
    # the add gate is in every graph, so every Value cell loses (the reuse cell says why)
    "a1_bug_assign_instead_of_accumulate": ["test_value_ops", "test_value_graphs",
                                            "test_value_reuse", "test_value_zero_grad"],
    # a node reached along two paths (the graphs' mixed graph, the reuse cell's m) runs twice
    "a1_bug_recursive_backward": ["test_value_graphs", "test_value_reuse",
                                  "test_value_zero_grad"],
    "a1_bug_jacobian_as_variable_sizes": ["test_matmul_jacobian_entries"],
    "a1_bug_affine_without_reshape": ["test_affine_forward", "test_affine_backward"],
    "a1_bug_softmax_overflow": ["test_softmax_cross_entropy"],
    "a1_broken_invalid_json": CELLS["02_vector_backprop"],
    "a1_broken_missing_notebook": CELLS["01_computational_graphs"],
    "a1_broken_renamed_function": ["test_softmax_cross_entropy"],
    "a1_broken_exception_at_top": CELLS["01_computational_graphs"],
    "a1_hostile_exit": ["test_sigmoid_neuron"],
    "a1_hostile_patch_numpy": ["test_relu_forward", "test_relu_backward"],
    "a1_hostile_import_reference": ["test_relu_backward"],

    "a2_correct": [],
    "a2_partial_conv_only": CELLS["04_pooling"],
    "a2_partial_pool_only": CELLS["03_convolution"],
    "a2_bug_convolve_without_flip": ["test_convolve2d"],
    "a2_bug_xcorr_with_flip": ["test_cross_correlate2d", "test_convolve2d"],
    "a2_bug_bias_missing": CONV_FORWARDS,
    "a2_bug_stride_ignored": CONV_FORWARDS,
    "a2_bug_padding_ignored": CONV_FORWARDS,
    "a2_bug_dx_without_flip": ["test_conv2d_backward"],
    "a2_bug_dx_stride_not_spread": ["test_conv2d_backward"],
    "a2_bug_conv_params_without_bias": ["test_conv_params"],
    "a2_bug_shifts_swapped": ["test_invariant_shifts"],
    "a2_bug_maxpool_grad_to_window": ["test_maxpool2d_backward"],
    "a2_bug_avgpool_not_divided": ["test_avgpool2d_backward"],
    "a2_broken_invalid_json": CELLS["03_convolution"],
    "a2_broken_missing_notebook": CELLS["04_pooling"],
    "a2_broken_renamed_function": ["test_conv2d_forward", "test_conv2d_backward"],
    "a2_broken_exception_at_top": CELLS["03_convolution"],
    # convolve2d is written with the student's cross_correlate2d
    "a2_hostile_import_reference": ["test_cross_correlate2d", "test_convolve2d"],
    "a2_hostile_patch_numpy": ["test_convolve2d"],
    "a2_hostile_liar_array": ["test_conv2d_forward", "test_conv2d_backward"],
    "a2_hostile_exit": ["test_conv2d_backward"],
    "a2_hostile_infinite_loop": ["test_conv2d_forward_naive"],
    # every conv forward asks conv_output_size for its output shape
    "a2_hostile_memory_bomb": ["test_conv_output_size", *CONV_FORWARDS],
    "a2_hostile_output_flood": ["test_maxpool2d_forward", "test_maxpool2d_backward"],
    "a2_hostile_spawn_processes": ["test_avgpool2d_forward", "test_avgpool2d_backward"],
    "a2_hostile_kill_parent": ["test_maxpool2d_backward"],
    "a2_hostile_write_others": ["test_avgpool2d_backward"],
    "a2_hostile_read_stdin": ["test_convolve2d"],

    "a3_correct": [],
    "a3_partial_05_only": CELLS["06_architectures"] + CELLS["07_tuning_and_transfer"],
    "a3_partial_no_05": CELLS["05_training_a_cnn"],
    "a3_bug_random_search_uniform_not_log": ["test_random_configs"],
    "a3_bug_finetune_step_uphill": ["test_finetune_step"],
    "a3_bug_adam_without_bias_correction": ["test_adam_update"],
    "a3_bug_momentum_wrong_sign": ["test_sgd_momentum_update"],
    "a3_bug_residual_without_skip_gradient": ["test_residual_backward"],
    "a3_bug_train_step_without_zero_grad": ["test_train_step"],
    "a3_bug_inception_dx_from_last_branch": ["test_inception_backward"],
    "a3_broken_missing_notebook": CELLS["07_tuning_and_transfer"],
    "a3_broken_invalid_json": CELLS["06_architectures"],
    "a3_broken_renamed_function": ["test_adam_update"],
    "a3_broken_exception_at_top": CELLS["05_training_a_cnn"],
}
# broken file -> (the notebook that is an error, words its error sentence must contain)
BROKEN = {
    "a1_broken_invalid_json": ("02_vector_backprop", "not a readable notebook"),
    "a1_broken_missing_notebook": ("01_computational_graphs", "missing"),
    "a1_broken_exception_at_top": ("01_computational_graphs", "I broke my notebook on purpose"),
    "a2_broken_invalid_json": ("03_convolution", "not a readable notebook"),
    "a2_broken_missing_notebook": ("04_pooling", "missing"),
    "a2_broken_exception_at_top": ("03_convolution", "I broke my notebook on purpose"),
    "a3_broken_missing_notebook": ("07_tuning_and_transfer", "missing"),
    "a3_broken_invalid_json": ("06_architectures", "not a readable notebook"),
    "a3_broken_exception_at_top": ("05_training_a_cnn", "I broke my notebook on purpose"),
}
# a renamed function: its cells say which name is missing
RENAMED = {"a1_broken_renamed_function": "softmax_cross_entropy",
           "a2_broken_renamed_function": "conv2d_forward",
           "a3_broken_renamed_function": "adam_update"}
# hostile student -> the cell of the function that attacks (cells checked through it may
# keep partial credit: the student's other functions are honest)
ATTACKED = {
    "a1_hostile_exit": "test_sigmoid_neuron",
    "a1_hostile_patch_numpy": "test_relu_forward",
    "a1_hostile_import_reference": "test_relu_backward",
    "a2_hostile_import_reference": "test_cross_correlate2d",
    "a2_hostile_patch_numpy": "test_convolve2d",
    "a2_hostile_liar_array": "test_conv2d_forward",
    "a2_hostile_exit": "test_conv2d_backward",
    "a2_hostile_infinite_loop": "test_conv2d_forward_naive",
    "a2_hostile_memory_bomb": "test_conv_output_size",
    "a2_hostile_output_flood": "test_maxpool2d_forward",
    "a2_hostile_spawn_processes": "test_avgpool2d_forward",
    "a2_hostile_kill_parent": "test_maxpool2d_backward",
    "a2_hostile_write_others": "test_avgpool2d_backward",
    "a2_hostile_read_stdin": "test_convolve2d",
}
# the honest students graded a second time without the hostile ones (a3 has none)
HONEST_ALONE = {"a1_backprop": ["a1_correct", "a1_bug_softmax_overflow"],
                "a2_convolution": ["a2_correct", "a2_bug_dx_without_flip",
                                   "a2_partial_conv_only"]}


def _assignment(student: str) -> str:
    return {"a1": "a1_backprop", "a2": "a2_convolution", "a3": "a3_cnns"}[student[:2]]


def _params(students) -> list:
    return [pytest.param(s, marks=MARKS[_assignment(s)], id=s) for s in sorted(students)]


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def _grade(root: Path, assignment: str, students: list[str] | None = None) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    before = _tree_hash(SUBMISSIONS)
    code = main(["grade", assignment, "--submitted", str(SUBMISSIONS), "--json",
                 str(root / "grades.json"), "--gradebook", str(root / "gradebook.db"),
                 "--feedback", str(root / "feedback"), "--workers", "2", "--quiet",
                 "--timeout-call", "5", "--course-dir", str(ROOT)]
                + sum((["--student", s] for s in students or []), []))
    assert code == 0
    assert _tree_hash(SUBMISSIONS) == before, "grading changed the submissions"
    return json.loads((root / "grades.json").read_text())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """assignment -> (folder of the run, its JSON), graded on first use in this session."""
    runs: dict[str, tuple[Path, dict]] = {}
    base = tmp_path_factory.getbasetemp()
    # xdist gives each test process its own folder inside the session's: share that one
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

    def get(assignment: str) -> tuple[Path, dict]:
        if assignment not in runs:
            root = shared / f"sample_class_{assignment}"
            with open(shared / f"sample_class_{assignment}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one process grades; the others wait
                if not (root / "grades.json").is_file():
                    shutil.rmtree(root, ignore_errors=True)  # a run that failed halfway
                    _grade(root, assignment)
            runs[assignment] = root, json.loads((root / "grades.json").read_text())
        return runs[assignment]

    return get


def _cells(result: dict) -> dict[str, tuple[float, float]]:
    cells: dict[str, list[float]] = {}
    for nb in result["notebooks"].values():
        for test in nb["tests"]:
            got = cells.setdefault(test["grade_id"], [0.0, 0.0])
            got[0] += test["score"]
            got[1] += test["max_score"]
    return {k: (v[0], v[1]) for k, v in cells.items()}


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=m) for a, m in MARKS.items()])
def test_every_sample_student_is_graded_and_the_json_follows_the_schema(graded, assignment):
    _, report = graded(assignment)
    assert report["assignment"] == assignment
    assert set(report["students"]) == {s for s in LOSSES if _assignment(s) == assignment}
    pending = sum(sum(MANUAL.get(nb, {}).values()) for nb in NOTEBOOKS[assignment])
    for student in report["students"].values():
        assert set(student) == {"score", "max_score", "notebooks"} | (
            {"pending"} if pending else set())
        assert student.get("pending", 0) == pytest.approx(pending)
        assert student["max_score"] == MAX_SCORE[assignment]
        assert sorted(student["notebooks"]) == NOTEBOOKS[assignment]  # a missing one too
        assert student["score"] == pytest.approx(
            sum(nb["score"] for nb in student["notebooks"].values()))
        for name, nb in student["notebooks"].items():
            manual = MANUAL.get(name, {})
            assert set(nb) == {"score", "max_score", "error", "tests"} | (
                {"manual", "pending"} if manual else set())
            if manual:  # listed with their points, ungraded, pending in the total
                assert {m["grade_id"]: m["max_score"] for m in nb["manual"]} == manual
                assert all(m["score"] is None and m["status"] == "needs manual grading"
                           for m in nb["manual"])
                assert nb["pending"] == pytest.approx(sum(manual.values()))
            assert nb["error"] is None or (isinstance(nb["error"], str) and nb["error"])
            assert {t["grade_id"] for t in nb["tests"]} == set(CELLS[name])
            for test in nb["tests"]:
                assert set(test) == {"name", "grade_id", "score", "max_score", "status",
                                     "message"}
                assert test["status"] in {"passed", "failed", "error", "timeout"}
                assert 0 <= test["score"] <= test["max_score"]
                assert (test["status"] == "passed") == (test["score"] == test["max_score"])
            assert nb["score"] == pytest.approx(sum(t["score"] for t in nb["tests"]))
            assert nb["max_score"] == pytest.approx(
                sum(t["max_score"] for t in nb["tests"]) + sum(manual.values()))


@pytest.mark.parametrize("student", _params(LOSSES))
def test_each_student_loses_exactly_its_cells(graded, student):
    _, report = graded(_assignment(student))
    cells = _cells(report["students"][student])
    lost = sorted(g for g, (score, top) in cells.items() if score < top)
    assert lost == sorted(LOSSES[student])


@pytest.mark.parametrize("student", _params(BROKEN))
def test_a_broken_notebook_is_an_error_and_the_others_are_graded(graded, student):
    _, report = graded(_assignment(student))
    notebook, words = BROKEN[student]
    result = report["students"][student]["notebooks"]
    assert words in result[notebook]["error"] and result[notebook]["score"] == 0
    for other, nb in result.items():
        if other != notebook:  # full marks but for the answer cells a TA has yet to grade
            assert nb["error"] is None
            assert nb["score"] == nb["max_score"] - sum(MANUAL.get(other, {}).values())


@pytest.mark.parametrize("student", _params(RENAMED))
def test_a_renamed_function_is_named_in_the_message(graded, student):
    _, report = graded(_assignment(student))
    tests = [t for nb in report["students"][student]["notebooks"].values() for t in nb["tests"]]
    lost = [t for t in tests if t["score"] < t["max_score"]]
    assert lost and all(f"{RENAMED[student]} not found" in t["message"] for t in lost)


@pytest.mark.parametrize("student", _params(ATTACKED))
def test_hostile_tricks_score_nothing_on_what_they_attack(graded, student):
    _, report = graded(_assignment(student))
    cells = _cells(report["students"][student])
    # an honest wrong answer (the unfilled stub) scores 0 on the cell: so must the attack
    assert cells[ATTACKED[student]][0] == 0, f"{student} scored on {ATTACKED[student]}"


def test_every_hostile_student_has_its_attacked_cell():
    assert set(ATTACKED) == {s for s in LOSSES if "_hostile_" in s}
    assert all(cell in LOSSES[s] for s, cell in ATTACKED.items())


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=MARKS[a]) for a in HONEST_ALONE])
def test_honest_students_score_the_same_without_the_hostile_ones(graded, assignment,
                                                                tmp_path):
    _, report = graded(assignment)
    alone = _grade(tmp_path, assignment, HONEST_ALONE[assignment])
    for student in HONEST_ALONE[assignment]:
        assert alone["students"][student] == report["students"][student]


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=m) for a, m in MARKS.items()])
def test_the_gradebook_holds_the_json_scores(graded, assignment):
    root, report = graded(assignment)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student, result in report["students"].items():
            submission = gradebook.find_submission(assignment, student)
            assert submission.score == pytest.approx(result["score"])
            for notebook in submission.notebooks:
                assert notebook.score == pytest.approx(
                    result["notebooks"][notebook.name]["score"])


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
    assert {s.name for s in module.STUDENTS} == set(LOSSES)
