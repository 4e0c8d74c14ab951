"""JupyterLab as a student meets it: start a server the way a student does, open a notebook
in headless Chromium, Run All from the menu, and read back what the page shows."""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import nbformat

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Flags that work as root in a container: no sandbox (root), no GPU, and nothing that
# phones home; each browser gets a fresh profile (user data dir) from Playwright.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STDERR = "application/vnd.jupyter.stderr"  # JupyterLab shows errors and stderr streams so
STUB_ERROR = re.compile(r"NotImplementedError: write (?P<name>[\w.]+): replace this line with "
                        r"your code")
FIGURE_PREFIX = "e2e:"  # user properties with this prefix are figures for the summary
INSTRUCTOR_WORDS = ("Nbgrader", "Formgrader", "Course List", "Create Assignment",
                    "Create assignment")


def unavailable(reason: str):
    """Skip with ``reason``, or fail where the browser tests must run (CI)."""
    import pytest

    if os.environ.get("CNN_COURSE_E2E_REQUIRED") == "1":
        pytest.fail(f"browser tests required (CNN_COURSE_E2E_REQUIRED=1) but {reason}")
    pytest.skip(reason)


def student_env(scratch: Path) -> dict[str, str]:
    """A student's shell: no MPLBACKEND, no make or venv of ours, a home for Jupyter's
    settings and workspaces that this run throws away."""
    dropped = {"MPLBACKEND", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "VIRTUAL_ENV", "PYTHONPATH",
               "JUPYTER_CONFIG_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_PATH"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST")}
    ours = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != ours)
    env["JUPYTERLAB_SETTINGS_DIR"] = str(scratch / "lab-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(scratch / "lab-workspaces")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab server that this test started (and alone stops)."""

    url: str
    token: str
    process: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.perf_counter)

    def api(self, method: str, path: str) -> tuple[int, object]:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method,
            headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                status, body = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            return error.code, None
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def shutdown_kernels(self) -> None:
        """What closing the notebook and shutting its kernel down does: a fresh kernel next."""
        _, sessions = self.api("GET", "/api/sessions")
        for session in sessions or []:
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: make and jupyter
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_lab(argv_for, cwd: Path, env: dict[str, str], log: Path, timeout: float = 240) -> Lab:
    """Start ``argv_for(lab_args)`` in ``cwd`` (its own process session) and wait until it
    serves. ``lab_args`` are what a launcher passes on to ``jupyter lab``: port, token, and
    --no-browser."""
    token, port = secrets.token_hex(16), free_port()
    lab_args = f"--no-browser --port={port} --IdentityProvider.token={token}"
    with open(log, "w") as sink:
        process = subprocess.Popen(argv_for(lab_args), cwd=cwd, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited ({process.returncode}):\n{lab.output()[-4000:]}")
        try:
            if lab.api("GET", "/api/status")[0] == 200:
                return lab
        except OSError:
            pass
        time.sleep(0.5)
    lab.stop()
    raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{lab.output()[-4000:]}")


# What the page shows of every cell, in notebook order; images are decoded first, so a width
# of 0 means the browser could not draw it.
_CELLS_JS = """async () => {
  const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));
  return await Promise.all(cells.map(async c => ({
    code: c.classList.contains('jp-CodeCell'),
    prompt: (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
    outputs: await Promise.all(Array.from(c.querySelectorAll('.jp-OutputArea-output')).map(
      async o => ({
        mime: o.getAttribute('data-mime-type') || '',
        text: o.textContent,
        images: await Promise.all(Array.from(o.querySelectorAll('img')).map(
          i => i.decode().then(() => i.naturalWidth, () => 0))),
      }))),
  })));
}"""

_DONE_JS = """([index, before]) => {
  const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'))
    .map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '');
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return prompts[index] !== before && !prompts.some(p => p.includes('*'))
    && status && status.getAttribute('data-status') === 'idle';
}"""


_ACTIVE_JS = """i => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
  return cell && cell.classList.contains('jp-mod-active');
}"""


class NotebookPage:
    """One notebook open in its own tab (and its own workspace, so nothing else reopens)."""

    def __init__(self, context, lab: Lab, path: str, cells: int, timeout_ms: int = 180_000):
        self.page = context.new_page()
        self.lab = lab
        started = time.perf_counter()
        self.page.goto(f"{lab.url}/lab/workspaces/t{uuid.uuid4().hex[:8]}/tree/{quote(path)}"
                       f"?token={lab.token}")
        self.count = cells
        self.wait_loaded(timeout_ms)
        self.page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                    timeout=timeout_ms)
        self.open_seconds = time.perf_counter() - started

    def wait_loaded(self, timeout_ms: int = 60_000) -> None:
        """Wait until every cell of the file is on the page, none with a run number yet."""
        self.page.wait_for_function("""n => {
          const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');
          const prompts = Array.from(document.querySelectorAll(
            '.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')).map(p => p.textContent);
          return cells.length === n && prompts.length > 0
            && prompts.every(p => !/[0-9*]/.test(p));
        }""", arg=self.count, timeout=timeout_ms)

    def no_dialog(self, doing: str) -> None:
        dialogs = self.page.locator(".jp-Dialog")
        if dialogs.count():
            self.page.screenshot(path=str(self.lab.log.with_suffix(".dialog.png")))
            raise AssertionError(f"a dialog is in the way of {doing}: "
                                 f"{dialogs.first.inner_text()[:600]!r}")

    def menu(self, menu: str, item: str) -> None:
        self.no_dialog(f"{menu} > {item}")
        self.page.locator(".lm-MenuBar-itemLabel",
                          has_text=re.compile(f"^{re.escape(menu)}$")).click()
        self.page.locator(".lm-Menu-itemLabel",
                          has_text=re.compile(f"^{re.escape(item)}$")).click()

    def accept_dialog(self, title: str) -> None:
        """Press the dialog's main button (Reload, Restart), after checking its title."""
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(timeout=30_000)
        header = dialog.locator(".jp-Dialog-header").inner_text()
        assert title in header, f"expected the dialog {title!r}, got {header!r}"
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        dialog.wait_for(state="detached", timeout=30_000)

    def restart_and_run_all_from_disk(self, timeout_ms: int = 300_000) -> float:
        """What a student does once the functions are written: File > Reload Notebook from
        Disk, then Kernel > Restart Kernel and Run All Cells. Returns the run's seconds."""
        self.menu("File", "Reload Notebook from Disk")
        self.accept_dialog("Reload")  # the notebook has outputs it has not saved: confirm
        self.wait_loaded()  # the file on disk has no outputs: all its prompts are empty
        first = next(i for i, c in enumerate(self.cells()) if c["code"])
        started = time.perf_counter()
        self.menu("Kernel", "Restart Kernel and Run All Cells…")
        self.accept_dialog("Restart")
        self.page.wait_for_function(_DONE_JS, arg=[first, "[ ]:"], timeout=timeout_ms,
                                    polling=250)
        return time.perf_counter() - started

    def _prompt(self, index: int) -> str:
        return self.page.evaluate(
            "i => (document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
            ".querySelector('.jp-InputArea-prompt') || {}).textContent || ''", index)

    def _run(self, index: int, menu_item: str, timeout_ms: int) -> float:
        before = self._prompt(index)
        started = time.perf_counter()
        self.menu("Run", menu_item)
        self.page.wait_for_function(_DONE_JS, arg=[index, before], timeout=timeout_ms,
                                    polling=250)
        return time.perf_counter() - started

    def run_all(self, timeout_ms: int = 300_000) -> float:
        """Run > Run All Cells; wait until the kernel is idle and nothing is queued."""
        first = next(i for i, c in enumerate(self.cells()) if c["code"])
        return self._run(first, "Run All Cells", timeout_ms)

    def step_through(self, timeout_ms: int = 300_000) -> float:
        """Run every cell in turn with Shift+Enter, as a student steps through a notebook
        (Run All stops at the first error, and ipykernel may still run a few of the queued
        cells after it, so it cannot show every stub's error)."""
        started = time.perf_counter()
        count = len(self.cells())
        first = self.page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt")
        first.click()  # the top of a page just opened: focus on the notebook, command mode
        for index in range(count):
            self.page.wait_for_function(_ACTIVE_JS, arg=index, timeout=10_000)
            self.no_dialog(f"running cell {index}")
            before = self._prompt(index)
            code = self.page.evaluate(
                "i => document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
                ".classList.contains('jp-CodeCell')", index)
            # Shift+Enter runs and moves on; on the last cell it would add an empty cell
            self.page.keyboard.press("Shift+Enter" if index + 1 < count else "Control+Enter")
            if code:
                self.page.wait_for_function(_DONE_JS, arg=[index, before], timeout=timeout_ms,
                                            polling=100)
        return time.perf_counter() - started

    def cells(self) -> list[dict]:
        return self.page.evaluate(_CELLS_JS)

    def shell_texts(self) -> dict[str, list[str]]:
        """The labels of JupyterLab's own chrome: menus, side-bar tabs, toolbar buttons."""
        return self.page.evaluate("""() => ({
          menus: Array.from(document.querySelectorAll('.lm-MenuBar-itemLabel'))
                   .map(e => e.textContent),
          sidebars: Array.from(document.querySelectorAll('.jp-SideBar .lm-TabBar-tab'))
                   .map(e => (e.getAttribute('title') || '') + ' ' + e.textContent
                        + ' ' + (e.getAttribute('data-id') || '')),
          toolbar: Array.from(document.querySelectorAll('.jp-Toolbar-item'))
                   .map(e => e.textContent + ' ' + (e.getAttribute('data-jp-item-name') || '')),
        })""")

    def palette_matches(self, query: str) -> list[str]:
        """Commands the command palette offers for ``query``."""
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+Shift+C")
        box = self.page.locator(".jp-ModalCommandPalette input, .lm-CommandPalette-input").first
        box.fill(query)
        items = self.page.locator(".jp-ModalCommandPalette .lm-CommandPalette-itemLabel")
        found = items.all_text_contents() if items.count() else []
        self.page.keyboard.press("Escape")
        return found

    def close(self) -> None:
        self.page.close(run_before_unload=False)  # a tab closed without saving


def ran(cell: dict) -> bool:
    return bool(re.search(r"\d", cell["prompt"]))


def failed(cell: dict) -> bool:
    return any(o["mime"] == STDERR for o in cell["outputs"])


def instructor_ui(texts: dict[str, list[str]]) -> list[str]:
    """The labels among ``texts`` that belong to nbgrader's instructor tools. (The page must
    show JupyterLab's own menus and side bars, or finding nothing would prove nothing.)"""
    assert {"File", "Run", "Kernel"} <= set(texts["menus"]) and texts["sidebars"], (
        f"JupyterLab's menus and side bars are not on the page: {texts}")
    return [label for labels in texts.values() for label in labels
            if any(word in label for word in INSTRUCTOR_WORDS)]


def fill(released: Path, solution: Path) -> None:
    """Write the solution's code into each solution cell of ``released`` (as a student would)."""
    nb = nbformat.read(released, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(solution, as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    filled = copy.deepcopy(nb)
    for cell in filled.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    nbformat.write(filled, released)


def stub_names(solution: Path) -> set[str]:
    """The functions the stubs of a notebook name: each solution region's def (or method)."""
    from autograder.stubs import enclosing_name

    names = set()
    for cell in nbformat.read(solution, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            lines = cell.source.split("\n")
            names.update(enclosing_name(lines, i) for i, line in enumerate(lines)
                         if "BEGIN SOLUTION" in line)
    return names


def plots(notebook: Path) -> bool:
    """Whether a notebook draws figures (pyplot, or cnnlib's plots)."""
    return any(re.search(r"\bplt\.|\bax\w*\.(plot|imshow)|plot_\w+\(", cell.source)
               for cell in nbformat.read(notebook, as_version=4).cells
               if cell.cell_type == "code")


def check_filled(cells: list[dict], notebook: Path) -> list[str]:
    """What is wrong with a Run All of a notebook whose stubs are filled, as sentences."""
    nb = nbformat.read(notebook, as_version=4)
    problems = []
    if len(cells) != len(nb.cells):
        return [f"the page shows {len(cells)} cells, the notebook has {len(nb.cells)}"]
    for index, (shown, cell) in enumerate(zip(cells, nb.cells, strict=True)):
        where = f"{notebook.name} cell {cell.get('id', index)}"
        if not shown["code"]:
            continue
        if not ran(shown):
            problems.append(f"{where} did not run (prompt {shown['prompt']!r})")
        for out in shown["outputs"]:
            if out["mime"] == STDERR:
                problems.append(f"{where} shows an error or stderr: {out['text'][-600:]}")
            if any(width == 0 for width in out["images"]):
                problems.append(f"{where} has an image the browser could not draw")
    drawn = sum(len(o["images"]) for c in cells for o in c["outputs"])
    if plots(notebook) and drawn == 0:
        problems.append(f"{notebook.name} plots but no figure was drawn on the page")
    return problems


def check_unfilled(cells: list[dict], notebook: Path, names: set[str]) -> list[str]:
    """What is wrong with a run of a released notebook, stubs unfilled: only test cells may
    fail, and each failure must name a stub of this notebook."""
    nb = nbformat.read(notebook, as_version=4)
    if len(cells) != len(nb.cells):
        return [f"the page shows {len(cells)} cells, the notebook has {len(nb.cells)}"]
    problems, tests = [], 0
    for index, (shown, cell) in enumerate(zip(cells, nb.cells, strict=True)):
        if not shown["code"]:
            continue
        meta = cell.metadata.get("nbgrader", {})
        where = f"{notebook.name} cell {meta.get('grade_id', index)}"
        errors = [o["text"] for o in shown["outputs"] if o["mime"] == STDERR]
        if not ran(shown):
            problems.append(f"{where} did not run (prompt {shown['prompt']!r})")
        elif meta.get("grade") and not meta.get("solution"):
            tests += 1
            said = STUB_ERROR.search(errors[0]) if errors else None
            if not errors:
                problems.append(f"{where}: a test cell passes with the stubs unfilled")
            elif not said or said["name"] not in names:
                problems.append(f"{where}: its error does not name a stub to write "
                                f"({sorted(names)}): {errors[0][-400:]}")
        elif errors:
            problems.append(f"{where} (not a test) shows an error or stderr with the stubs "
                            f"unfilled: {errors[0][-400:]}")
    if not tests:
        problems.append(f"{notebook.name}: no test cell ran")
    return problems


def cell_count(notebook: Path) -> int:
    return len(nbformat.read(notebook, as_version=4).cells)
