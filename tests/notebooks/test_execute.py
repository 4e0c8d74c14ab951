"""Notebooks run: solutions top to bottom; released ones filled pass; stubs fail only tests,
each naming the function to write; every test cell stands alone after the imports."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from nbtools import (
    RELEASED,
    SOLUTION_TIMES,
    SOLUTIONS,
    STUB_MESSAGE,
    client_for,
    defined_names,
    errors,
    execute,
    fill_from_solution,
    images,
    is_solution_cell,
    is_test_cell,
    kernel_env,
    nbgrader_meta,
    new_cell,
    notebook_paths,
    preamble,
)

from autograder.stubs import enclosing_name

pytestmark = pytest.mark.notebooks

SOLUTION_NOTEBOOKS = notebook_paths(SOLUTIONS)
IDS = [p.stem for p in SOLUTION_NOTEBOOKS]


def test_all_seven_notebooks_exist():
    assert IDS == [
        "01_computational_graphs", "02_vector_backprop", "03_convolution", "04_pooling",
        "05_training_a_cnn", "06_architectures", "07_tuning_and_transfer",
    ]


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=IDS)
def test_solution_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    _, seconds = execute(nb, path.parent)
    SOLUTION_TIMES[path.stem] = seconds


def _released(path):
    released = RELEASED / path.parent.name / path.name
    assert released.is_file(), f"{released} missing: run `cnn-course release {path.parent.name}`"
    return nbformat.read(released, as_version=4)


def _check_cnnlib_cell(folder):
    return new_cell(
        "import cnnlib as _c, os as _os\n"
        f"assert _os.path.realpath(_c.__file__).startswith(_os.path.realpath({str(folder)!r})),"
        " _c.__file__"
    )


def stub_names(solution) -> set[str]:
    """What the stubs of a solution notebook name: each solution region's function."""
    names = set()
    for cell in solution.cells:
        if is_solution_cell(cell):
            lines = cell.source.split("\n")
            names.update(enclosing_name(lines, i) for i, line in enumerate(lines)
                         if "BEGIN SOLUTION" in line)
    return names


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=IDS)
def test_released_notebook_filled_with_solutions_passes_its_tests(path, student_dir):
    folder = student_dir(path.parent.name)
    solution = nbformat.read(path, as_version=4)
    filled = fill_from_solution(_released(path), solution)
    filled.cells.insert(0, _check_cnnlib_cell(folder))
    execute(filled, folder)  # raises CellExecutionError on the first failing cell


# The stub run records which cells reached a stub: each stub's raise first notes its name
# under the running cell's execution count (a copy of the notebook; the file is untouched).
_RECORD_HITS = (  # this cell is In [1]: count the others from it, whatever IPython's offset
    "import builtins as _builtins\n"
    "_builtins._stub_hits, _builtins._first_count = {}, get_ipython().execution_count\n"
    "def _stub_hit(name):\n"
    "    count = get_ipython().execution_count - _builtins._first_count + 1\n"
    "    _builtins._stub_hits.setdefault(count, []).append(name)\n"
    "_builtins._stub_hit = _stub_hit"
)
_STUB_RAISE = re.compile(r'^(?P<indent>\s*)raise NotImplementedError\("write (?P<name>[\w.]+): ')


def _recording(nb):
    """A copy of ``nb`` whose stubs note themselves before they raise; and the number of stubs."""
    stubs = 0
    for cell in nb.cells:
        if not is_solution_cell(cell):
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            match = _STUB_RAISE.match(line)
            if match:
                stubs += 1
                lines[i] = f"{match['indent']}_stub_hit({match['name']!r}); {line.lstrip()}"
        cell.source = "\n".join(lines)
    nb.cells.insert(0, new_cell(_RECORD_HITS))
    nb.cells.append(new_cell("import builtins, json\nprint(json.dumps(builtins._stub_hits))"))
    return nb, stubs


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=IDS)
def test_released_stubs_fail_only_in_test_cells_and_name_the_stub(path, student_dir):
    """Unfilled: each test cell fails with its stub's message, each demo says so in a line."""
    folder = student_dir(path.parent.name)
    names = stub_names(nbformat.read(path, as_version=4))
    nb, stubs = _recording(_released(path))
    assert stubs == len(names), (
        f"{path.stem}: {stubs} stubs say 'write NAME: ...', the solution has {len(names)} "
        "regions: is the release made with autograder.stubs.NamedStubs (nbgrader_config.py)?")
    nb.cells.insert(1, _check_cnnlib_cell(folder))
    executed, _ = execute(nb, folder, allow_errors=True)
    hits = {int(k): v for k, v in json.loads(executed.cells[-1].outputs[0]["text"]).items()}
    test_cells = 0
    for index, cell in enumerate(executed.cells[2:-1], start=2):
        if cell.cell_type != "code":
            continue
        failed, hit = errors(cell), hits.get(cell.execution_count, [])
        where = f"{path.stem}, cell {nbgrader_meta(cell).get('grade_id', index)}"
        if is_test_cell(cell):
            test_cells += 1
            assert failed, f"{where}: the test passes with the stubs unfilled:\n{cell.source}"
            assert failed[0]["ename"] == "NotImplementedError", (
                f"{where}: fails with {failed[0]['ename']} instead of the stub's "
                f"NotImplementedError: {failed[0]['evalue']}")
            said = STUB_MESSAGE.match(failed[0]["evalue"])
            assert said and said["name"] in names and said["name"] == hit[0], (
                f"{where}: the error says {failed[0]['evalue']!r}; it should name the "
                f"stub it reached ({hit}) as 'write NAME: replace this line with your code'")
            continue
        assert not failed, (
            f"{where} (not a test) breaks with the stubs unfilled: "
            f"{failed[0]['ename']}: {failed[0]['evalue']}\n{cell.source}")
        if hit:  # a demo that needs a student's function: one line, no empty figure
            shown = [o for o in cell.outputs if o.get("output_type") != "stream"]
            text = "".join(o.get("text", "") for o in cell.outputs
                           if o.get("output_type") == "stream" and o.get("name") == "stdout")
            assert not images(cell) and not shown, (
                f"{where} reaches the stub of {hit[0]} and still shows {len(shown)} outputs "
                "(an empty figure?): with a stub unfilled a demo prints one line instead")
            assert len(text.strip().splitlines()) == 1 and all(
                o.get("name") == "stdout" for o in cell.outputs), (
                f"{where} reaches the stub of {hit[0]}: it should print one line saying "
                f"what to write first, it printed:\n{text}")
    assert test_cells > 0


# Each test cell alone, in a kernel that has run only the imports (preamble): the test is
# run, and whenever it stops at a function students write (NameError: not defined yet),
# that function's solution cell is run, and the test again, until it passes.
_SNAPSHOT = (
    "__snap = dict(globals())\n"
    "def __restore():\n"
    "    g = globals()\n"
    "    for k in [k for k in g if k not in __snap and k not in ('__snap', '__restore')]:\n"
    "        del g[k]\n"
    "    g.update(__snap)\n"
    "    import matplotlib.pyplot\n"
    "    matplotlib.pyplot.close('all')"
)
_UNDEFINED = re.compile(r"name '(?P<name>\w+)' is not defined")


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=IDS)
def test_each_test_cell_runs_alone_after_the_imports(path):
    """Any check runs once its own stubs are filled, whatever else ran before it."""
    nb = nbformat.read(path, as_version=4)
    first = preamble(nb)
    solutions = [c for c in nb.cells if is_solution_cell(c)]
    provider = {name: cell for cell in solutions for name in defined_names(cell.source)}
    tests = [c for c in nb.cells if is_test_cell(c)]
    work = nbformat.v4.new_notebook(metadata=nb.metadata)
    work.cells = [new_cell(c.source) for c in first] + [new_cell(_SNAPSHOT)]
    client = client_for(work, path.parent, allow_errors=True)
    needs = {}
    with client.setup_kernel(env=kernel_env()):
        for index, cell in enumerate(work.cells):
            client.execute_cell(cell, index)
            assert not errors(cell), f"{path.stem}: the imports fail: {errors(cell)}"
        for test in tests:
            grade_id = nbgrader_meta(test)["grade_id"]
            run = [new_cell("__restore()")]
            filled: list[str] = []
            while True:
                run.append(new_cell(test.source))
                for cell in run:
                    work.cells.append(cell)
                    client.execute_cell(cell, len(work.cells) - 1)
                failed = errors(run[-1])
                missing = failed and _UNDEFINED.search(failed[0]["evalue"])
                if not missing or missing["name"] not in provider or missing["name"] in filled:
                    break
                filled.append(missing["name"])  # the student writes and runs that cell
                run = [new_cell("__restore()")] + [
                    new_cell(provider[name].source) for name in filled]
            assert not failed, (
                f"{path.stem}, {grade_id}, run after the imports and the cells of "
                f"{filled or 'no function'}: {failed[0]['ename']}: {failed[0]['evalue']}. "
                "A test cell builds its own inputs and helpers (shared helpers go in a given "
                "cell right after the imports)")
            needs[grade_id] = filled
    assert needs, f"{path.stem} has no test cells"
