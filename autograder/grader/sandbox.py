"""Run a student's programs in a confined process and call into them.

How the process is confined is the business of ``backends.py`` (bubblewrap, or a weaker
fallback that says what it lacks). One confined process per student, the **zygote**,
imports numpy and the student edition once; each notebook's program then runs in a fresh
process forked from it (``Sandbox``), which applies the seccomp filter to itself before it
runs a line of the student's code. So a notebook starts from a clean interpreter, as it
would in Jupyter, without paying for Python and numpy again, and a crashed notebook
restarts in milliseconds. The zygote runs only this package's code (``child.py``), never
a student's, and it serves one student: nothing of one submission reaches another.

What this module promises on top, whatever the backend:

- **the grader never waits on the student**: every write to and read from the pipe has a
  deadline (the per-call limit, cut to what is left of the notebook's budget), so a child
  that stalls mid-reply or stops reading is a timeout, never a hang;
- **bounded replies**: one reply may carry at most ``reply_budget`` bytes, in proportion to
  the call's inputs with a fixed ceiling, refused before anything is allocated;
- **nothing the student can replace**: what the program prints goes to files in a folder
  only the grader can reach, read back through the descriptors the grader opened;
- **nothing left running**: the process group is killed when the sandbox closes, and the
  child dies with the worker that started it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import backends, seccomp, wire
from .backends import bwrap_works, nobody_can_run_python  # noqa: F401 (re-export)
from .escape import one_line

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (the grade command's flags set them)."""

    cpu_seconds: int = 60
    memory_mb: int = 2048
    processes: int = 64
    file_mb: int = 16
    open_files: int = 64
    call_seconds: float = 20.0
    load_seconds: float = 60.0
    notebook_seconds: float = 120.0  # wall clock for one notebook: loading plus every call
    output_kb: int = 64
    scratch_mb: int = 64             # each of the sandbox's /scratch and /tmp (bubblewrap)
    reply_floor_mb: int = 32         # any reply may be this large...
    reply_factor: int = 8            # ...or this many times the call's input bytes...
    reply_ceiling_mb: int = 256      # ...but never larger than this

    def reply_budget(self, input_bytes: int) -> int:
        wanted = max(self.reply_floor_mb * 2**20, self.reply_factor * input_bytes)
        return min(wanted, self.reply_ceiling_mb * 2**20)


class SandboxError(RuntimeError):
    """The sandbox could not answer: it died, broke the protocol, or ran out of time."""


class SandboxTimeout(SandboxError):
    pass


class SandboxCrashed(SandboxError):
    pass


class StudentError(Exception):
    """The student's code raised: type, message and where, as the child reported them.

    Every field is the student's text: made one line, without control characters, and
    capped, before anything else sees it.
    """

    def __init__(self, info: dict) -> None:
        info = info if isinstance(info, dict) else {}
        self.type = one_line(info.get("type", "Exception"), 80) or "Exception"
        self.message = one_line(info.get("message", ""), 500)
        self.where = one_line(info.get("where", ""), 200)
        super().__init__(f"{self.type}: {self.message}{self.where}")


class LoadError(StudentError):
    """The notebook's code failed while it ran top to bottom."""


def isolation() -> str:
    """'bubblewrap', 'fallback-nobody' or 'fallback': what protects the grader."""
    return backends.choose().name


_WARNED: list[bool] = []


def warn_if_fallback() -> None:
    """Without full isolation, say once, loudly, which protections are missing."""
    missing = backends.choose().missing()
    if missing is None or _WARNED:
        return
    _WARNED.append(True)
    warnings.warn(
        "bubblewrap (bwrap) is unavailable or cannot create namespaces: student code runs "
        f"without them; {missing}. Install bubblewrap (apt-get install bubblewrap) for full "
        "isolation.", RuntimeWarning, stacklevel=3,
    )


def _private_file(folder: Path, name: str) -> int:
    return os.open(folder / name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                   | os.O_CLOEXEC, 0o600)


class Zygote:
    """One student's confined process, from which each notebook's process is forked.

    ``spawn`` runs a program in a fresh child and returns its first reply; while the child
    lives, ``request`` talks to it; when it ends (cleanly on ``end_program``, or by dying),
    the zygote reports how in one frame, read in place of a reply.
    """

    def __init__(self, student_lib: Path | None, limits: Limits) -> None:
        self.limits = limits
        self.student_lib = student_lib
        self.backend = backends.choose()
        self.process: subprocess.Popen | None = None
        self._to_child = self._from_child = -1
        self._out_fds: list[int] = []
        self._prepare()

    def _prepare(self) -> None:
        """Fresh folders for a (re)start: the grader's files, private output files."""
        self._close_output()
        self.root = Path(tempfile.mkdtemp(prefix="cnn-course-sandbox-"))
        self.layout = self.backend.layout(self.root, self.student_lib)
        for name in ("child.py", "wire.py", "seccomp.py"):
            path = self.layout.grader / name
            path.write_text((HERE / name).read_text())
            os.chmod(path, 0o644)
        out = self.root / "out"  # the student's output: only the grader reaches this folder
        out.mkdir(mode=0o700)
        self._out_fds = [_private_file(out, "stdout"), _private_file(out, "stderr")]
        self._out_seen = 0
        self._programs = 0
        self.child_running = False

    def restart(self, timeout: float) -> None:
        """A new confined process in place of a dead one (a crash killed it, or a timeout)."""
        self.close()
        self._prepare()
        self.start(timeout)

    # -- lifecycle -------------------------------------------------------------------
    def start(self, timeout: float) -> None:
        """Start the confined process and wait (``timeout`` s) until it is ready."""
        warn_if_fallback()
        if not self.root.exists():  # closed before: fresh folders
            self._prepare()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        filter_on = "1" if seccomp.supported() else "0"
        args = ["--zygote", str(to_child_r), str(from_child_w), filter_on]
        fds = [to_child_r, from_child_w]
        cwd = self.layout.scratch or self.root
        try:
            self.process = subprocess.Popen(
                self.backend.command(self.layout, args, None, self.limits),
                stdin=subprocess.DEVNULL, stdout=self._out_fds[0], stderr=self._out_fds[1],
                pass_fds=tuple(fds), start_new_session=True, close_fds=True,
                preexec_fn=lambda: self.backend.preexec(self.limits),
                cwd=cwd, env=self.backend.env(self.layout),
            )
        finally:
            for fd in fds:
                os.close(fd)
        self._to_child, self._from_child = to_child_w, from_child_r
        os.set_blocking(self._to_child, False)
        os.set_blocking(self._from_child, False)
        self._reader = wire.Reader(self._from_child)
        reply, _ = self.receive(time.monotonic() + timeout, timeout, "starting the sandbox",
                                self.limits.reply_floor_mb * 2**20)
        if not reply.get("ready"):
            self.close()
            raise SandboxCrashed("starting the sandbox: it answered something unexpected")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        """Kill the whole process group and remove the sandbox's folders."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            self.process = None
        for fd in (self._to_child, self._from_child):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._to_child = self._from_child = -1
        self.child_running = False
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def _close_output(self) -> None:
        for fd in getattr(self, "_out_fds", []):
            try:
                os.close(fd)
            except OSError:
                pass
        self._out_fds = []

    def __del__(self) -> None:
        self._close_output()

    # -- programs -----------------------------------------------------------------------
    def spawn(self, program: str, timeout: float) -> dict:
        """Run ``program`` (the JSON of ``program.build_program``) in a fresh child; its
        first reply ({"loaded": ...}) or, if it died while loading, the zygote's report."""
        self._programs += 1
        path = self.layout.grader / f"program-{self._programs}.json"
        path.write_text(program)
        os.chmod(path, 0o644)
        inside = f"{self.layout.inside_grader}/{path.name}"
        self.child_running = True
        reply, _ = self.exchange({"op": "spawn", "program": inside}, [],
                                 "loading your notebook", timeout,
                                 self.limits.reply_floor_mb * 2**20)
        return reply

    def end_program(self) -> None:
        """Ask the running child to exit and read the zygote's report of it."""
        if not self.child_running or not self.alive:
            return
        try:
            reply, _ = self.exchange({"op": "exit"}, [], "ending a notebook", 10.0,
                                     self.limits.reply_floor_mb * 2**20)
        except SandboxError:
            return  # closed by exchange: the next notebook gets a fresh sandbox
        if "ended" not in reply:
            self.close()

    # -- talking -----------------------------------------------------------------------
    def exchange(self, message: dict, arrays: list, what: str, timeout: float, budget: int):
        """Send one frame and read the next; a report that the child ended ends it here."""
        if not self.alive:
            raise SandboxCrashed(f"{what}: the sandbox is no longer running")
        deadline = time.monotonic() + timeout
        try:
            wire.send(self._to_child, message, arrays, deadline)
        except (OSError, wire.WireError) as error:
            raise self._fail(what, timeout, error) from None
        reply, out_arrays = self.receive(deadline, timeout, what, budget)
        if not isinstance(reply, dict):
            self.close()
            raise SandboxCrashed(f"{what}: the sandbox sent something unreadable")
        if "ended" in reply:
            self.child_running = False
        return reply, out_arrays

    def receive(self, deadline: float, timeout: float, what: str, budget: int):
        try:
            return wire.receive(self._reader, deadline, budget)
        except (EOFError, OSError, wire.WireError) as error:
            raise self._fail(what, timeout, error) from None

    def _fail(self, what: str, timeout: float, error: BaseException) -> SandboxError:
        if isinstance(error, wire.WireTimeout):
            self.close()
            return SandboxTimeout(f"{what} took longer than {timeout:g} s (infinite loop?)")
        code = self._exit_code()
        self.close()
        return SandboxCrashed(death_sentence(what, code, error, self.backend))

    def _exit_code(self) -> int | None:
        """How the process ended, if it has (it closes the pipe just before it exits)."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def output(self) -> str:
        """What the student's code printed since the last call, capped (read through the
        grader's own descriptors)."""
        cap = self.limits.output_kb * 1024
        text = ""
        for fd in self._out_fds:
            try:
                text += os.pread(fd, cap, 0).decode(errors="replace")
            except OSError:
                pass
        text = text[:cap]
        new, self._out_seen = text[self._out_seen:], len(text)
        return new


def death_sentence(what: str, code, error, backend=None) -> str:
    """What killed a process, in a sentence for the student."""
    if isinstance(error, wire.WireError):
        return f"{what}: {error}"
    number = None
    if code is not None:
        number = backend.signal_of(code) if backend is not None else (-code if code < 0
                                                                       else None)
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = {"SIGKILL": " (out of memory or killed)", "SIGXCPU": " (CPU time limit)",
                "SIGSEGV": " (crashed)"}.get(name, "")
        return f"{what}: your code's process died with {name}{hint}"
    return f"{what}: your code's process exited (exit code {code}) instead of returning"


class Sandbox:
    """One notebook's program, running in a child of a student's ``Zygote``.

    With no ``zygote`` given it starts (and on ``close`` ends) one of its own. Use as a
    context manager, or ``start`` then ``request``; ``close`` ends the program.
    """

    def __init__(self, program: str, student_lib: Path | None, limits: Limits,
                 zygote: Zygote | None = None) -> None:
        self.program = program
        self.limits = limits
        self._own = zygote is None
        self.zygote = zygote or Zygote(student_lib, limits)
        self.loaded = False
        self.load_error: LoadError | None = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, load_timeout: float | None = None) -> None:
        """Run the program top to bottom (``load_timeout`` s, default the load limit); the
        zygote is started first if it is not running (its start counts toward the limit)."""
        limit = self.limits.load_seconds if load_timeout is None else load_timeout
        deadline = time.monotonic() + limit
        if self.zygote.process is None:
            self.zygote.start(limit)
        elif not self.zygote.alive:
            self.zygote.restart(limit)
        reply = self.zygote.spawn(self.program, max(deadline - time.monotonic(), 0.001))
        if "ended" in reply:
            raise SandboxCrashed(death_sentence("loading your notebook", reply["ended"], None))
        if reply.get("loaded"):
            self.loaded = True
        else:
            self.load_error = LoadError(reply.get("error", {}))

    @property
    def alive(self) -> bool:
        return self.zygote.alive and self.zygote.child_running

    def close(self) -> None:
        if self._own:
            self.zygote.close()
        else:
            self.zygote.end_program()

    def request(self, message: dict, arrays: list, what: str, timeout: float | None = None):
        """Send one operation and wait (``timeout`` s, default the per-call limit) for it."""
        if not self.alive:
            raise SandboxCrashed(f"{what}: the sandbox is no longer running")
        limit = self.limits.call_seconds if timeout is None else timeout
        budget = self.limits.reply_budget(sum(getattr(a, "nbytes", 0) for a in arrays))
        reply, out_arrays = self.zygote.exchange(message, arrays, what, limit, budget)
        if "ended" in reply:
            raise SandboxCrashed(death_sentence(what, reply["ended"], None))
        if not reply.get("ok"):
            raise StudentError(reply.get("error", {}))
        return reply.get("value"), out_arrays

    def output(self) -> str:
        return self.zygote.output()
