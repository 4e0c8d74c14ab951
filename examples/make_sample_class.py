"""Build the sample class in examples/submissions/ from the released notebooks.

    python examples/make_sample_class.py

Every student starts from the released notebook with each solution cell filled from
solutions/ (a fully correct student) and then gets one explicit, readable change: a common
bug, a broken file, or a hostile trick. An edit that does not apply stops the script, so a
failed substitution can never pass for a correct student. The expected outcome of each
student is in examples/submissions/README.md and asserted by
tests/autograder/test_sample_class.py.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "submissions"


@dataclass
class Student:
    name: str
    assignment: str
    what: str
    edits: list[tuple[str, str, str, str]] = field(default_factory=list)  # nb, cell, old, new
    unfilled: tuple[str, ...] = ()     # notebooks left with their stubs
    missing: tuple[str, ...] = ()      # notebooks deleted
    invalid: tuple[str, ...] = ()      # notebooks replaced by invalid JSON
    first_cell: dict[str, str] = field(default_factory=dict)  # notebook -> code put first


C, P = "03_convolution", "04_pooling"

A2 = [
    Student("a2_correct", "a2_convolution", "every function right: full marks"),
    Student("a2_partial_conv_only", "a2_convolution", "did 03, left 04's stubs",
            unfilled=(P,)),
    Student("a2_partial_pool_only", "a2_convolution", "did 04, left 03's stubs",
            unfilled=(C,)),
    Student("a2_bug_convolve_without_flip", "a2_convolution",
            "convolution written as cross-correlation (kernel not flipped)",
            [(C, "convolve2d", "cross_correlate2d(x, k[::-1, ::-1])",
              "cross_correlate2d(x, k)")]),
    Student("a2_bug_xcorr_with_flip", "a2_convolution",
            "cross-correlation that flips the kernel (so convolve2d flips twice)",
            [(C, "cross_correlate2d", "np.sum(x[r:r + kh, c:c + kw] * k)",
              "np.sum(x[r:r + kh, c:c + kw] * k[::-1, ::-1])")]),
    Student("a2_bug_bias_missing", "a2_convolution", "conv forward without the bias",
            [(C, "conv2d_forward", "+ b  # (N * H_out * W_out, F)", "  # (N * H_out * W_out, F)"),
             (C, "conv2d_forward_naive", "np.sum(patch_ * w[f]) + b[f]", "np.sum(patch_ * w[f])")]),
    Student("a2_bug_stride_ignored", "a2_convolution", "conv forward ignores the stride",
            [(C, "conv2d_forward", "(sh, sw), (ph, pw) = pair(stride), pair(pad)",
              "(sh, sw), (ph, pw) = (1, 1), pair(pad)"),
             (C, "conv2d_forward_naive", "(sh, sw), (ph, pw) = pair(stride), pair(pad)",
              "(sh, sw), (ph, pw) = (1, 1), pair(pad)")]),
    Student("a2_bug_padding_ignored", "a2_convolution", "conv forward ignores the padding",
            [(C, "conv2d_forward", "(sh, sw), (ph, pw) = pair(stride), pair(pad)",
              "(sh, sw), (ph, pw) = pair(stride), (0, 0)"),
             (C, "conv2d_forward_naive", "(sh, sw), (ph, pw) = pair(stride), pair(pad)",
              "(sh, sw), (ph, pw) = pair(stride), (0, 0)")]),
    Student("a2_bug_dx_without_flip", "a2_convolution",
            "conv backward: dx correlates with the kernel instead of its flip",
            [(C, "conv2d_backward", "w[:, :, ::-1, ::-1], optimize=True", "w, optimize=True")]),
    Student("a2_bug_dx_stride_not_spread", "a2_convolution",
            "conv backward: dout is not spread out by the stride before the full convolution",
            [(C, "conv2d_backward", "full = np.pad(spread,", "full = np.pad(dout,")]),
    Student("a2_bug_conv_params_without_bias", "a2_convolution",
            "parameter count without the biases",
            [(C, "conv_params", "(kh * kw * in_channels + 1) * n_kernels",
              "kh * kw * in_channels * n_kernels")]),
    Student("a2_bug_shifts_swapped", "a2_convolution",
            "invariant_shifts returns (right, left): passes the visible format check only",
            [(P, "invariant_shifts", "return offset, kernel_size - 1 - offset",
              "return kernel_size - 1 - offset, offset")]),
    Student("a2_bug_maxpool_grad_to_window", "a2_convolution",
            "max-pool backward sends the gradient to every element of the window",
            [(P, "maxpool2d_backward",
              "    np.add.at(dx, (n_idx[..., None, None], c_idx[..., None, None], rows, cols), "
              "dout)",
              "    for a in range(kh):\n        for b in range(kw):\n"
              "            dx[:, :, a:a + sh * out_h:sh, b:b + sw * out_w:sw] += dout")]),
    Student("a2_bug_avgpool_not_divided", "a2_convolution",
            "average-pool backward does not divide by the window size",
            [(P, "avgpool2d_backward", "share = dout / (kh * kw)", "share = dout")]),
    Student("a2_broken_invalid_json", "a2_convolution", "03 is not valid JSON",
            invalid=(C,)),
    Student("a2_broken_missing_notebook", "a2_convolution", "04 was deleted", missing=(P,)),
    Student("a2_broken_renamed_function", "a2_convolution",
            "conv2d_forward renamed to conv2d_forward_fast",
            [(C, "conv2d_forward", "def conv2d_forward(x,", "def conv2d_forward_fast(x,")]),
    Student("a2_broken_exception_at_top", "a2_convolution",
            "03 raises before anything is defined",
            first_cell={C: "raise RuntimeError('I broke my notebook on purpose')"}),
]

# Hostile students: correct but for one function, which attacks instead of computing.
HOSTILE = [
    ("import_reference", "imports the reference cnnlib and reads the hidden tests",
     C, "cross_correlate2d",
     "import glob, cnnlib\n    for up in range(6):\n"
     "        for path in glob.glob('../' * up + 'autograder/hidden/test_*.py'):\n"
     "            print(open(path).read()[:100])\n    return cnnlib.cross_correlate2d(x, k)"),
    ("patch_numpy", "patches numpy's comparisons and returns zeros", C, "convolve2d",
     "np.allclose = lambda *a, **k: True\n    np.testing.assert_allclose = lambda *a, **k: None\n"
     "    np.array_equal = lambda *a, **k: True\n"
     "    return np.zeros((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1))"),
    ("liar_array", "returns an ndarray subclass that claims to equal anything", C,
     "conv2d_forward",
     "class Liar(np.ndarray):\n        def __eq__(self, other):\n            return True\n"
     "        def __array_ufunc__(self, *a, **k):\n            return np.zeros(())\n"
     "    (sh, sw), (ph, pw) = pair(stride), pair(pad)\n"
     "    shape = (x.shape[0], w.shape[0], (x.shape[2] + 2 * ph - w.shape[2]) // sh + 1,\n"
     "             (x.shape[3] + 2 * pw - w.shape[3]) // sw + 1)\n"
     "    return np.zeros(shape).view(Liar), None"),
    ("exit", "calls os._exit inside conv2d_backward", C, "conv2d_backward",
     "import os\n    os._exit(0)"),
    ("infinite_loop", "loops forever in conv2d_forward_naive", C, "conv2d_forward_naive",
     "while True:\n        pass"),
    ("memory_bomb", "allocates without bound in conv_output_size", C, "conv_output_size",
     "hoard = []\n    while True:\n        hoard.append(bytearray(2**26))"),
    ("output_flood", "prints gigabytes in maxpool2d_forward", P, "maxpool2d_forward",
     "while True:\n        print('spam' * 10000)"),
    ("spawn_processes", "starts processes from avgpool2d_forward", P, "avgpool2d_forward",
     "import os, subprocess, time\n    for _ in range(100):  # bounded: 100 sleepers, no chain\n"
     "        if os.fork() == 0:\n            time.sleep(600)\n            os._exit(0)\n"
     "    for _ in range(20):\n        subprocess.Popen(['sleep', '600'])\n"
     "    return np.zeros(1), None"),
    ("kill_parent", "tries to kill the grader from maxpool2d_backward", P, "maxpool2d_backward",
     "import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n"
     "    os.killpg(os.getpgid(0), signal.SIGKILL)\n    return np.zeros(1)"),
    ("write_others", "writes into other submissions and the gradebook", P,
     "avgpool2d_backward",
     "import glob, os, sys\n    targets = []\n    for up in range(1, 5):  # walk up from cwd\n"
     "        targets += glob.glob('../' * up + '*/*/*.ipynb') + glob.glob('../' * up + '*.db')\n"
     "    # absolute paths: wherever the course or a grading run might live\n"
     "    for base in sys.path + ['/work', '/autograder', '/tmp', os.path.expanduser('~')]:\n"
     "        for pattern in ('*/examples/submissions/*/*/*.ipynb', '../examples/submissions/"
     "*/*/*.ipynb', '*.db', '*/*.db', '*/*/*.db', '*/*/*/*.db', 'submission/*.ipynb'):\n"
     "            targets += glob.glob(os.path.join(base, pattern))\n"
     "    for path in targets:\n"
     "        try:\n            open(path, 'w').write('pwned')\n"
     "        except OSError:\n            pass\n    return np.zeros(1)"),
    ("read_stdin", "waits for input on stdin", C, "convolve2d",
     "return input('kernel? ')"),
]
for short, what, nb, cell, body in HOSTILE:
    attack = f"    ### BEGIN SOLUTION\n    {body}"
    A2.append(Student(f"a2_hostile_{short}", "a2_convolution", what,
                      [(nb, cell, "    ### BEGIN SOLUTION", attack)]))

T, R = "05_training_a_cnn", "06_architectures"

A3 = [
    Student("a3_correct", "a3_cnns", "every function right: full marks"),
    Student("a3_partial_05_only", "a3_cnns", "did 05, left 06 and 07's stubs",
            unfilled=(R, "07_tuning_and_transfer")),
    Student("a3_bug_adam_without_bias_correction", "a3_cnns",
            "Adam steps with the raw moments (no bias correction)",
            [(T, "adam_update", "w - lr * m_unbiased / (np.sqrt(v_unbiased) + eps)",
              "w - lr * m_next / (np.sqrt(v_next) + eps)")]),
    Student("a3_bug_momentum_wrong_sign", "a3_cnns",
            "momentum adds the gradient instead of subtracting it",
            [(T, "sgd_momentum_update", "v_next = momentum * v - lr * dw",
              "v_next = momentum * v + lr * dw")]),
    Student("a3_bug_residual_without_skip_gradient", "a3_cnns",
            "residual backward forgets the gradient that flows through the skip",
            [(R, "residual_backward", "d_x = d_x_through_f + d_s", "d_x = d_x_through_f")]),
    Student("a3_bug_train_step_without_zero_grad", "a3_cnns",
            "train_step never calls optimizer.zero_grad() (gradients pile up across steps)",
            [(T, "train_step", "optimizer.zero_grad()  # backward accumulates: clear the "
              "previous step's gradients\n    ", "")]),
    Student("a3_bug_inception_dx_from_last_branch", "a3_cnns",
            "inception backward keeps only the last branch's dx instead of the sum of the three",
            [(R, "inception_backward", "dx_total = dx_total + dx_branch",
              "dx_total = dx_branch")]),
    Student("a3_bug_random_search_uniform_not_log", "a3_cnns",
            "random search draws log-scale hyperparameters uniformly in the value",
            [("07_tuning_and_transfer", "random_configs",
              "exponent = generator.uniform(np.log10(low), np.log10(high))\n"
              "                trial[name] = float(np.clip(10.0 ** exponent, low, high))",
              "trial[name] = float(generator.uniform(low, high))")]),
    Student("a3_bug_finetune_step_uphill", "a3_cnns",
            "the frozen SGD step adds lr * grad: a step up the gradient",
            [("07_tuning_and_transfer", "finetune_step",
              "stepped[name] = value - lr * grads[name]",
              "stepped[name] = value + lr * grads[name]")]),
    Student("a3_partial_no_05", "a3_cnns", "did 06 and 07, left 05's stubs",
            unfilled=(T,)),
    Student("a3_broken_missing_notebook", "a3_cnns", "07 was deleted",
            missing=("07_tuning_and_transfer",)),
    Student("a3_broken_invalid_json", "a3_cnns", "06 is not valid JSON", invalid=(R,)),
    Student("a3_broken_renamed_function", "a3_cnns", "adam_update renamed to adam_step",
            [(T, "adam_update", "def adam_update(", "def adam_step(")]),
    Student("a3_broken_exception_at_top", "a3_cnns", "05 raises before anything is defined",
            first_cell={T: "raise RuntimeError('I broke my notebook on purpose')"}),
]

G, V = "01_computational_graphs", "02_vector_backprop"

A1 = [
    Student("a1_correct", "a1_backprop", "every function right: full marks"),
    Student("a1_bug_assign_instead_of_accumulate", "a1_backprop",
            "Value's add gate sets grads with = instead of += (a reused node loses a path)",
            [(G, "Value", "self.grad += 1.0 * out.grad\n            other.grad += 1.0 * out.grad",
              "self.grad = 1.0 * out.grad\n            other.grad = 1.0 * out.grad")]),
    Student("a1_bug_affine_without_reshape", "a1_backprop",
            "affine_forward multiplies x without flattening it to (N, D)",
            [(V, "affine_forward", "rows = x.reshape(len(x), -1)  # (N, D): one row per example",
              "rows = x")]),
    Student("a1_bug_recursive_backward", "a1_backprop",
            "Value.backward recurses into each node's inputs as it reaches them, without a "
            "topological order (a node reached along two paths runs once per path)",
            [(G, "Value", "        self.grad = 1.0\n"
              "        for node in reversed(self._topological_order()):\n"
              "            node._backward()",
              "        self.grad = 1.0\n\n"
              "        def propagate(node):\n"
              "            node._backward()\n"
              "            for child in node._children:\n"
              "                propagate(child)\n\n"
              "        propagate(self)")]),
    Student("a1_bug_jacobian_as_variable_sizes", "a1_backprop",
            "the Jacobians of y = x w counted as the sizes of x and w (question 1 of 02)",
            [(V, "matmul_jacobian_entries", "return n * d * outputs, d * m * outputs",
              "return n * d, d * m")]),
    Student("a1_bug_softmax_overflow", "a1_backprop",
            "softmax without subtracting the row maximum (overflows on large scores)",
            [(V, "softmax_cross_entropy",
              "shifted = scores - np.max(scores, axis=1, keepdims=True)", "shifted = scores")]),
    Student("a1_partial_graphs_only", "a1_backprop", "did 01, left 02's stubs",
            unfilled=(V,)),
    Student("a1_partial_vector_only", "a1_backprop", "did 02, left 01's stubs",
            unfilled=(G,)),
    Student("a1_broken_invalid_json", "a1_backprop", "02 is not valid JSON", invalid=(V,)),
    Student("a1_broken_missing_notebook", "a1_backprop", "01 was deleted", missing=(G,)),
    Student("a1_broken_renamed_function", "a1_backprop",
            "softmax_cross_entropy renamed to softmax_loss",
            [(V, "softmax_cross_entropy", "def softmax_cross_entropy(", "def softmax_loss(")]),
    Student("a1_broken_exception_at_top", "a1_backprop", "01 raises before anything is defined",
            first_cell={G: "raise RuntimeError('I broke my notebook on purpose')"}),
    Student("a1_hostile_import_reference", "a1_backprop",
            "imports the reference cnnlib for relu_backward and reads the hidden tests",
            [(V, "relu_backward", "    ### BEGIN SOLUTION",
              "    ### BEGIN SOLUTION\n    import glob, cnnlib\n    for up in range(6):\n"
              "        for path in glob.glob('../' * up + 'autograder/hidden/test_*.py'):\n"
              "            print(open(path).read()[:100])\n"
              "    return cnnlib.relu_backward(dout, cache)")]),
    Student("a1_hostile_exit", "a1_backprop", "calls os._exit inside sigmoid_neuron",
            [(G, "sigmoid_neuron", "    ### BEGIN SOLUTION",
              "    ### BEGIN SOLUTION\n    import os\n    os._exit(0)")]),
    Student("a1_hostile_patch_numpy", "a1_backprop",
            "patches numpy's comparisons and returns zeros from relu_forward",
            [(V, "relu_forward", "    ### BEGIN SOLUTION",
              "    ### BEGIN SOLUTION\n    np.allclose = lambda *a, **k: True\n"
              "    np.array_equal = lambda *a, **k: True\n    return np.zeros_like(x), x")]),
]

STUDENTS = A1 + A2 + A3

# a1's and a2's notebooks have four questions each graded by hand: pending in every a1 and
# a2 student's grades
PENDING = "; 8 points pending (the four questions, graded by hand)"
# a3's notebooks have eight questions graded by hand (two in 05, three in 06, three in 07)
PENDING_A3 = "; 16 points pending (the eight questions of 05, 06 and 07, graded by hand)"

# What grading each student gives (tests/autograder/test_sample_class.py asserts it cell by
# cell). "Loses X" means those grade cells score less than full and every other cell is full.
OUTCOME = {
    "a1_correct": "34/42: every autograded point" + PENDING,
    "a1_partial_graphs_only": "01 full, 02 nothing (stubs)" + PENDING,
    "a1_partial_vector_only": "02 full, 01 nothing (stubs)" + PENDING,
    "a1_bug_assign_instead_of_accumulate": "loses the four Value cells (ops, graphs, reuse, "
                                           "zero_grad); the reuse message names = vs +="
                                           + PENDING,
    "a1_bug_recursive_backward": "loses the Value cells whose graphs share a node (graphs, "
                                 "reuse, zero_grad); the reuse message names the recursive "
                                 "walk" + PENDING,
    "a1_bug_jacobian_as_variable_sizes": "loses matmul_jacobian_entries" + PENDING,
    "a1_bug_affine_without_reshape": "loses affine forward and backward" + PENDING,
    "a1_bug_softmax_overflow": "loses softmax_cross_entropy" + PENDING,
    "a1_broken_invalid_json": "02 is an error ('not a readable notebook'), 0; 01 full" + PENDING,
    "a1_broken_missing_notebook": "01 is an error ('missing from the submission'), 0; 02 full"
                                  + PENDING,
    "a1_broken_renamed_function": "loses softmax_cross_entropy ('not found ... renamed?')"
                                  + PENDING,
    "a1_broken_exception_at_top": "01 is an error (its RuntimeError), 0; 02 full" + PENDING,
    "a1_hostile_import_reference": "loses relu_backward (no reference cnnlib in the sandbox)"
                                   + PENDING,
    "a1_hostile_exit": "loses sigmoid_neuron (its process exited)" + PENDING,
    "a1_hostile_patch_numpy": "loses relu forward and backward (comparisons run in the "
                              "grader)" + PENDING,
    "a2_correct": "36/44: every autograded point",
    "a2_partial_conv_only": "03 full, 04 nothing (stubs)",
    "a2_partial_pool_only": "04 full, 03 nothing (stubs)",
    "a2_bug_convolve_without_flip": "loses convolve2d",
    "a2_bug_xcorr_with_flip": "loses cross_correlate2d and convolve2d (built on it)",
    "a2_bug_bias_missing": "loses both conv forwards and conv backward (checked through the "
                           "student's forward)",
    "a2_bug_stride_ignored": "loses both conv forwards and conv backward",
    "a2_bug_padding_ignored": "loses both conv forwards and conv backward",
    "a2_bug_dx_without_flip": "loses conv2d_backward",
    "a2_bug_dx_stride_not_spread": "loses conv2d_backward (the visible check names the spreading)",
    "a2_bug_conv_params_without_bias": "loses conv_params",
    "a2_bug_shifts_swapped": "loses invariant_shifts (only the hidden tests check its values)",
    "a2_bug_maxpool_grad_to_window": "loses maxpool2d_backward",
    "a2_bug_avgpool_not_divided": "loses avgpool2d_backward",
    "a2_broken_invalid_json": "03 is an error ('not a readable notebook'), 0; 04 full",
    "a2_broken_missing_notebook": "04 is an error ('missing from the submission'), 0; 03 full",
    "a2_broken_renamed_function": "loses conv2d_forward and conv2d_backward ('not found')",
    "a2_broken_exception_at_top": "03 is an error (its RuntimeError), 0; 04 full",
    "a2_hostile_import_reference": "loses cross_correlate2d and convolve2d: 0 on both",
    "a2_hostile_patch_numpy": "loses convolve2d: 0",
    "a2_hostile_liar_array": "loses conv2d_forward and conv2d_backward: 0 (arrays cross as "
                             "plain ndarrays)",
    "a2_hostile_exit": "loses conv2d_backward: 0 (process exited)",
    "a2_hostile_infinite_loop": "loses conv2d_forward_naive: 0 (timeout)",
    "a2_hostile_memory_bomb": "loses conv_output_size and the three conv cells that call it: 0",
    "a2_hostile_output_flood": "loses maxpool forward and backward: 0 (file-size limit)",
    "a2_hostile_spawn_processes": "loses avgpool forward and backward: 0 (no new processes)",
    "a2_hostile_kill_parent": "loses maxpool2d_backward: 0; the grader lives on",
    "a2_hostile_write_others": "loses avgpool2d_backward: 0; nothing outside its sandbox "
                               "changes",
    "a2_hostile_read_stdin": "loses convolve2d: 0 (EOF on stdin)",
    "a3_correct": "32/48: every autograded point" + PENDING_A3,
    "a3_partial_05_only": "05 full, 06 and 07 nothing (stubs)" + PENDING_A3,
    "a3_partial_no_05": "06 and 07 full, 05 nothing (stubs)" + PENDING_A3,
    "a3_bug_adam_without_bias_correction": "loses adam_update" + PENDING_A3,
    "a3_bug_momentum_wrong_sign": "loses sgd_momentum_update" + PENDING_A3,
    "a3_bug_residual_without_skip_gradient": "loses residual_backward" + PENDING_A3,
    "a3_bug_train_step_without_zero_grad": "loses train_step; the visible check names "
                                           "zero_grad" + PENDING_A3,
    "a3_bug_inception_dx_from_last_branch": "loses inception_backward; the visible check "
                                            "names the sum of the three" + PENDING_A3,
    "a3_bug_random_search_uniform_not_log": "loses random_configs (the distribution test "
                                            "names the uniform draw)" + PENDING_A3,
    "a3_bug_finetune_step_uphill": "loses finetune_step (its message says to subtract)"
                                   + PENDING_A3,
    "a3_broken_missing_notebook": "07 is an error ('missing from the submission'), 0; the "
                                  "rest full" + PENDING_A3,
    "a3_broken_invalid_json": "06 is an error ('not a readable notebook'), 0; the rest "
                              "full" + PENDING_A3,
    "a3_broken_renamed_function": "loses adam_update ('not found ... renamed?')" + PENDING_A3,
    "a3_broken_exception_at_top": "05 is an error (its RuntimeError), 0; the rest "
                                  "full" + PENDING_A3,
}
OUTCOME.update({name: outcome + PENDING for name, outcome in OUTCOME.items()
                if name.startswith("a2_")})  # a1's entries say it themselves


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def filled(assignment: str, notebook: str):
    """The released notebook with every solution cell taken from solutions/."""
    released = nbformat.read(ROOT / "notebooks" / assignment / f"{notebook}.ipynb", 4)
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{notebook}.ipynb", 4)
    sources = {_grade_id(c): c.source for c in solution.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = sources[_grade_id(cell)]
    return released


def build(student: Student) -> None:
    folder = OUT / student.name / student.assignment
    folder.mkdir(parents=True)
    notebooks = sorted(p.stem for p in (ROOT / "notebooks" / student.assignment).glob("*.ipynb"))
    for notebook in notebooks:
        path = folder / f"{notebook}.ipynb"
        if notebook in student.missing:
            continue
        if notebook in student.invalid:
            path.write_text('{"cells": [ this is not JSON')
            continue
        if notebook in student.unfilled:
            shutil.copy(ROOT / "notebooks" / student.assignment / f"{notebook}.ipynb", path)
            continue
        nb = filled(student.assignment, notebook)
        for target_nb, grade_id, old, new in student.edits:
            if target_nb != notebook:
                continue
            cells = [c for c in nb.cells if _grade_id(c) == grade_id]
            if len(cells) != 1 or old not in cells[0].source:
                raise SystemExit(f"{student.name}: edit of {grade_id} did not apply: {old!r}")
            cells[0].source = cells[0].source.replace(old, new, 1)
        if notebook in student.first_cell:
            added = nbformat.v4.new_code_cell(student.first_cell[notebook])
            added.id = "added-by-student"  # fixed, so regenerating gives the same files
            nb.cells.insert(0, added)
        nbformat.write(nb, path)


def main() -> None:
    if OUT.exists():
        for child in OUT.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    OUT.mkdir(parents=True, exist_ok=True)
    for student in STUDENTS:
        build(student)
    assert set(OUTCOME) == {s.name for s in STUDENTS}, "every student needs an outcome"
    rows = ["| student | assignment | what it is | expected outcome |", "|---|---|---|---|"]
    rows += [f"| {s.name} | {s.assignment} | {s.what} | {OUTCOME[s.name]} |" for s in STUDENTS]
    (OUT / "README.md").write_text(
        "# The sample class\n\nGenerated by `python examples/make_sample_class.py` from the "
        "released notebooks and solutions/; graded by `make demo` and checked by "
        "tests/autograder/test_sample_class.py, which asserts each student's expected "
        "outcome grade cell by grade cell. Hostile students are correct but for the one "
        "function that attacks.\n\n"
        + "\n".join(rows) + "\n")
    print(f"wrote {len(STUDENTS)} students to {OUT}")


if __name__ == "__main__":
    main()
