"""Release an assignment to students: nbgrader's generate_assignment, then the student bundle.

Steps, each small:
1. ``nbgrader generate_assignment`` turns ``solutions/A`` into ``notebooks/A`` (stubs, no
   outputs, locked cells, checksums);
2. the student edition of cnnlib is written beside the notebooks of the bundle;
3. ``dist/student/A`` gets the notebooks, that cnnlib, a requirements file and a README,
   and ``dist/student/A.zip`` the same folder zipped;
4. a leak check searches everything released for reference solution lines and hidden tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .assignments import check_assignment, source_notebooks
from .student_edition import all_regions, build_student_cnnlib

PYTHON_VERSIONS = "3.10 or newer"  # what pyproject.toml's requires-python allows

STUDENT_REQUIREMENTS = """\
# What a student needs to run this assignment's notebooks (Python {python}).
numpy>=1.24
matplotlib>=3.7
scikit-learn>=1.2
tqdm>=4.60
# tqdm's progress bars in JupyterLab are widgets: without ipywidgets they print a warning.
ipywidgets>=8
jupyterlab>=4
"""

STUDENT_README = """\
# {assignment}

The notebooks of this assignment, and the copy of `cnnlib` they import (`cnnlib/`):

{notebook_list}

Each notebook asks you to write a few functions: fill the cells marked `# YOUR CODE HERE`.
Until you do, such a function raises `NotImplementedError("write NAME: ...")` naming itself.

## Set up and open (once per computer, then only the last command)

You need Python {python} (`python3 --version`). In a terminal, in this folder:

```
python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt
.venv/bin/jupyter lab
```

On Windows (PowerShell), the same two commands are:

```
py -m venv .venv; .venv\\Scripts\\python -m pip install -r requirements.txt
.venv\\Scripts\\jupyter lab
```

The first makes a virtual environment in `.venv` and installs JupyterLab, numpy,
matplotlib, scikit-learn, tqdm and ipywidgets into it, nothing outside this folder. The
second opens JupyterLab in your browser on this folder: open a notebook from the file list.
Always start JupyterLab from this folder, so that `import cnnlib` finds the copy here.
(In a container or on a server where you are root, Jupyter refuses to start until you add
`--allow-root` to the second command.)

## Check your work

* After writing a function, run its cell and then the test cell below it. A test cell
  prints a line ending in "ok" when your function passes, and otherwise fails with a message
  that says what is wrong. A test cell needs only the cells at the top of the notebook (the
  imports and given helpers) and the cells of the functions it calls: work in any order.
* Before handing in, run Kernel > Restart Kernel and Run All Cells, and check that every
  test cell prints its "ok". The grader runs more tests than the ones you see, so a
  visible test passing is necessary, not sufficient.
* If your course uses nbgrader, you may add its Validate button (the student-side part of
  nbgrader) to the notebook toolbar; it runs the whole notebook and lists failing tests.
  Install nbgrader and switch its instructor tools off:

  ```
  .venv/bin/python -m pip install nbgrader
  .venv/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader:formgrader \\
      @jupyter/nbgrader:create-assignment @jupyter/nbgrader:course-list
  .venv/bin/jupyter server extension disable --sys-prefix \\
      nbgrader.server_extensions.formgrader nbgrader.server_extensions.course_list
  ```

  Restart JupyterLab: each notebook's toolbar then has Validate, and no instructor tools.

## Hand in

Hand in the notebooks themselves, names unchanged, saved after a final Restart Kernel and
Run All Cells; leave out `.venv` and `cnnlib/`. Keep the given cells as they are (do not
delete or copy them): the grader recognises cells by their nbgrader metadata.

* **nbgrader exchange** (a course on JupyterHub): the exchange expects this folder, named
  `{assignment}`, with the notebooks inside, in the folder where you fetched it. Submit it
  from the Assignments tab, or in a terminal in the folder that contains `{assignment}/`:
  `nbgrader submit {assignment} --course COURSE_ID`.
* **Gradescope**: upload the `.ipynb` files themselves; the autograder finds them by name.
* Any other way your course collects work: the same notebooks, names unchanged.
"""

HIDDEN_DIR = Path(__file__).resolve().parent / "hidden"


class LeakError(RuntimeError):
    """Raised when released files contain solution code or hidden tests."""


@dataclass
class Released:
    notebooks: list[Path]
    bundle: Path
    manual: list[str] = field(default_factory=list)  # cells a TA grades in the formgrader
    checked_seconds: float | None = None


def venv_env() -> dict[str, str]:
    """The environment with this interpreter's bin/ first on PATH (nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate_assignment(course_dir: Path, assignment: str, *, use_db: bool = True) -> list[Path]:
    """Run nbgrader's generate_assignment; return the released notebooks."""
    command = [
        sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
        "--force", "--log-level=WARN",
    ]
    if not use_db:
        command.append("--no-db")
    result = subprocess.run(
        command, cwd=course_dir, env=venv_env(), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"nbgrader generate_assignment {assignment} failed:\n{result.stdout}{result.stderr}"
        )
    released = sorted((course_dir / "notebooks" / assignment).glob("*.ipynb"))
    for path in released:  # nbgrader keeps outputs out already; make sure of it
        nb = nbformat.read(path, as_version=4)
        if any(c.cell_type == "code" and (c.outputs or c.execution_count) for c in nb.cells):
            raise RuntimeError(f"{path} was released with outputs")
    return released


def build_bundle(course_dir: Path, assignment: str, dist_dir: Path) -> Path:
    """Write ``dist_dir/assignment`` (notebooks, student cnnlib, requirements, README) and
    ``dist_dir/assignment.zip``, the same folder zipped, which is what an LMS takes."""
    bundle = dist_dir / assignment
    if bundle.exists():
        shutil.rmtree(bundle)
    shutil.copytree(
        course_dir / "notebooks" / assignment, bundle,
        ignore=shutil.ignore_patterns("cnnlib", ".ipynb_checkpoints", "__pycache__"),
    )
    build_student_cnnlib(assignment, bundle, course_dir=course_dir)
    notebook_list = "\n".join(f"* `{p.name}`" for p in sorted(bundle.glob("*.ipynb")))
    (bundle / "requirements.txt").write_text(STUDENT_REQUIREMENTS.format(python=PYTHON_VERSIONS))
    (bundle / "README.md").write_text(
        STUDENT_README.format(
            assignment=assignment, notebook_list=notebook_list, python=PYTHON_VERSIONS)
    )
    zip_bundle(bundle)
    return bundle


def zip_bundle(bundle: Path) -> Path:
    """``bundle`` as ``bundle.zip`` beside it: one top folder named after the assignment,
    files in sorted order with fixed timestamps, so the same release gives the same zip."""
    out = bundle.with_suffix(".zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(bundle.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                info = zipfile.ZipInfo(str(Path(bundle.name) / path.relative_to(bundle)),
                                       date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zipped.writestr(info, path.read_bytes())
    return out


def _meaningful(line: str) -> bool:
    """A line distinctive enough that finding it in a released file means a leak."""
    text = line.strip()
    if len(text) < 12 or text.startswith("#"):
        return False
    generic = ("return ", "raise ", "import ", "from ", "def ", "class ", '"""')
    return not text.startswith(generic) or len(text) > 40


def leaked_lines(paths: list[Path], assignment: str, course_dir: Path) -> list[str]:
    """Solution and hidden-test lines found in ``paths``, as 'file: line' strings."""
    from .assignments import assignments_from

    hidden = set(assignments_from(assignment))
    secrets: set[str] = set()
    for region, body in all_regions():
        if region.assignment in hidden:
            secrets.update(line.strip() for line in body if _meaningful(line))
    for name in hidden:
        try:
            notebooks = source_notebooks(course_dir, name)
        except FileNotFoundError:
            continue
        for source in notebooks:
            secrets.update(solution_lines(source))
            hidden_test = HIDDEN_DIR / f"test_{source.stem}.py"
            if hidden_test.is_file():
                secrets.update(
                    line.strip() for line in hidden_test.read_text().splitlines()
                    if _meaningful(line) and "assert" in line
                )
    # A line that also stands in code students legitimately receive (given functions of
    # cnnlib, earlier assignments, the notebooks' own visible tests and given cells) gives
    # nothing away.
    secrets -= public_cnnlib_lines(hidden)
    for source in source_notebooks(course_dir, assignment):
        secrets -= public_notebook_lines(source)
    found = []
    for path in paths:
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            nb = nbformat.reads(text, as_version=4)
            text = "\n".join(cell.source for cell in nb.cells)
        present = {line.strip() for line in text.splitlines()}
        found.extend(f"{path}: {line}" for line in sorted(secrets & present))
    return found


def public_cnnlib_lines(hidden: set[str]) -> set[str]:
    """Stripped lines of cnnlib that lie outside every region of the ``hidden`` assignments."""
    from .student_edition import CNNLIB_DIR, find_regions

    public: set[str] = set()
    for path in sorted(CNNLIB_DIR.rglob("*.py")):
        lines = path.read_text().splitlines()
        inside = set()
        for region in find_regions(path, lines):
            if region.assignment in hidden:
                inside.update(range(region.begin, region.end + 1))
        public.update(line.strip() for n, line in enumerate(lines) if n not in inside)
    return public


def public_notebook_lines(notebook: Path) -> set[str]:
    """Stripped lines of a source notebook that students receive as they are: everything
    outside ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (visible tests, given code)."""
    nb = nbformat.read(notebook, as_version=4)
    lines: set[str] = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif not inside:
                lines.add(line.strip())
    return lines


def solution_lines(notebook: Path) -> set[str]:
    """The distinctive lines between ### BEGIN SOLUTION and ### END SOLUTION of a notebook."""
    nb = nbformat.read(notebook, as_version=4)
    lines: set[str] = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and _meaningful(line):
                lines.add(line.strip())
    return lines


def released_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix in {".py", ".ipynb", ".txt", ".md"}
        and "__pycache__" not in p.parts
    )


def release(
    assignment: str, course_dir: Path, dist_dir: Path | None = None, *, use_db: bool = True,
    check: bool = True,
) -> Released:
    """Release ``assignment``: check it, then the four steps of this module's docstring.

    Nothing is written unless everything passes: the solutions are checked against the
    hidden tests and their own visible checks (``release_checks``), and the release is first
    made in a scratch copy of the course and searched for leaks there.
    """
    from .release_checks import ReleaseRefused, check_release

    check_assignment(assignment, course_dir)
    source_notebooks(course_dir, assignment)  # fail early, clearly, when there are none
    report = check_release(course_dir, assignment) if check else None
    if report is not None and report.problems:
        raise ReleaseRefused(report.problems)
    with tempfile.TemporaryDirectory(prefix="cnn-course-stage-") as stage:
        staged = Path(stage) / "course"
        shutil.copytree(course_dir / "solutions" / assignment,
                        staged / "solutions" / assignment)
        shutil.copy(course_dir / "nbgrader_config.py", staged)
        notebooks = generate_assignment(staged, assignment, use_db=False)
        bundle = build_bundle(staged, assignment, Path(stage) / "dist")
        leaks = leaked_lines(released_files(bundle) + notebooks, assignment, staged)
        if leaks:
            raise LeakError("released files contain solution code:\n" + "\n".join(leaks[:20]))
    notebooks = generate_assignment(course_dir, assignment, use_db=use_db)
    bundle = build_bundle(course_dir, assignment, dist_dir or course_dir / "dist" / "student")
    if report is None:
        return Released(notebooks=notebooks, bundle=bundle)
    return Released(notebooks, bundle, report.manual, report.seconds)


def prepare_lab(course_dir: Path) -> list[Path]:
    """Put each released assignment's student cnnlib beside its notebooks (for `make lab`)."""
    written = []
    for folder in sorted((course_dir / "notebooks").iterdir()):
        if folder.is_dir() and any(folder.glob("*.ipynb")):
            written.append(build_student_cnnlib(folder.name, folder, course_dir=course_dir))
    return written


# -- the command ----------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("assignment", help="an assignment: a folder of notebooks in solutions/")
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="course root (default: nearest folder with nbgrader_config.py)")
    parser.add_argument("--dist", type=Path, default=None,
                        help="where student bundles go (default: COURSE/dist/student)")
    parser.add_argument("--no-db", action="store_true",
                        help="do not record the assignment in the nbgrader gradebook")
    parser.add_argument("--no-check", action="store_true",
                        help="skip grading the solutions against the hidden tests and their "
                             "visible checks (the leak check always runs)")


def run(args) -> int:
    from .assignments import find_course_dir
    from .release_checks import ReleaseRefused

    course = find_course_dir(args.course_dir)
    try:
        result = release(args.assignment, course, args.dist, use_db=not args.no_db,
                         check=not args.no_check)
    except (LeakError, ReleaseRefused) as error:
        print(f"cnn-course release: {error}" if isinstance(error, ReleaseRefused)
              else f"release refused: {error}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return 1
    if result.checked_seconds is not None:
        print(f"checked: the solutions earn full marks on the hidden tests and pass their "
              f"visible checks, and grade cells' points match ({result.checked_seconds:.1f} s)")
    for path in result.notebooks:
        print(f"released {path.relative_to(course)}")
    print(f"student bundle: {result.bundle}")
    print(f"student bundle zipped (for an LMS): {result.bundle.with_suffix('.zip')}")
    for cell in result.manual:
        print(f"graded by hand in the formgrader: {cell}")
    return 0
