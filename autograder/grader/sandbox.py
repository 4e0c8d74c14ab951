"""Run a student's program in a confined child process and call into it.

How the child is confined is the business of ``backends.py`` (bubblewrap, or a weaker
fallback that says what it lacks). What this module promises on top, whatever the backend:

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


class Sandbox:
    """One running student program. Use as a context manager; ``request`` talks to it."""

    def __init__(self, program: str, student_lib: Path | None, limits: Limits) -> None:
        self.limits = limits
        self.backend = backends.choose()
        self.root = Path(tempfile.mkdtemp(prefix="cnn-course-sandbox-"))
        self.layout = self.backend.layout(self.root, student_lib)
        for name, text in (("program.json", program),
                           ("child.py", (HERE / "child.py").read_text()),
                           ("wire.py", (HERE / "wire.py").read_text())):
            path = self.layout.grader / name
            path.write_text(text)
            os.chmod(path, 0o644)
        out = self.root / "out"  # the student's output: only the grader reaches this folder
        out.mkdir(mode=0o700)
        self._out_fds = [_private_file(out, "stdout"), _private_file(out, "stderr")]
        self.process: subprocess.Popen | None = None
        self._to_child = self._from_child = -1
        self.loaded = False
        self.load_error: LoadError | None = None

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, load_timeout: float | None = None) -> None:
        """Run the program top to bottom (``load_timeout`` s, default the load limit)."""
        warn_if_fallback()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        program = f"{self.layout.inside_grader}/program.json"
        args = [program, str(to_child_r), str(from_child_w)]
        fds = [to_child_r, from_child_w]
        filter_fd = None
        if isinstance(self.backend, backends.Bubblewrap) and seccomp.supported():
            filter_fd = os.memfd_create("cnn-course-seccomp", 0)  # bwrap applies it at exec
            os.write(filter_fd, seccomp.program())
            os.lseek(filter_fd, 0, os.SEEK_SET)
            fds.append(filter_fd)
        cwd = self.layout.scratch or self.root
        try:
            self.process = subprocess.Popen(
                self.backend.command(self.layout, args, filter_fd, self.limits),
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
        limit = self.limits.load_seconds if load_timeout is None else load_timeout
        reply, _ = self._receive(time.monotonic() + limit, limit, "loading your notebook",
                                 self.limits.reply_floor_mb * 2**20)
        if reply.get("loaded"):
            self.loaded = True
        else:
            self.load_error = LoadError(reply.get("error", {}))

    def close(self) -> None:
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
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def __del__(self) -> None:
        for fd in getattr(self, "_out_fds", []):
            try:
                os.close(fd)
            except OSError:
                pass

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- talking -----------------------------------------------------------------------
    def _fail(self, what: str, timeout: float, error: BaseException) -> SandboxError:
        if isinstance(error, wire.WireTimeout):
            self.close()
            return SandboxTimeout(f"{what} took longer than {timeout:g} s (infinite loop?)")
        code = self._exit_code()
        self.close()
        return SandboxCrashed(self._death_sentence(what, code, error))

    def _receive(self, deadline: float, timeout: float, what: str, budget: int):
        try:
            return wire.receive(self._reader, deadline, budget)
        except (EOFError, OSError, wire.WireError) as error:
            raise self._fail(what, timeout, error) from None

    def _exit_code(self) -> int | None:
        """How the child ended, if it has (it closes the pipe just before it exits)."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def _death_sentence(self, what: str, code, error) -> str:
        if isinstance(error, wire.WireError):
            return f"{what}: {error}"
        number = self.backend.signal_of(code) if code is not None else None
        if number is not None:
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            hint = {"SIGKILL": " (out of memory or killed)", "SIGXCPU": " (CPU time limit)",
                    "SIGSEGV": " (crashed)"}.get(name, "")
            return f"{what}: your code's process died with {name}{hint}"
        return f"{what}: your code's process exited (exit code {code}) instead of returning"

    def request(self, message: dict, arrays: list, what: str, timeout: float | None = None):
        """Send one operation and wait (``timeout`` s, default the per-call limit) for it."""
        if not self.alive:
            raise SandboxCrashed(f"{what}: the sandbox is no longer running")
        limit = self.limits.call_seconds if timeout is None else timeout
        deadline = time.monotonic() + limit
        try:
            wire.send(self._to_child, message, arrays, deadline)
        except (OSError, wire.WireError) as error:
            raise self._fail(what, limit, error) from None
        budget = self.limits.reply_budget(sum(getattr(a, "nbytes", 0) for a in arrays))
        reply, out_arrays = self._receive(deadline, limit, what, budget)
        if not isinstance(reply, dict):
            self.close()
            raise SandboxCrashed(f"{what}: the sandbox sent something unreadable")
        if not reply.get("ok"):
            raise StudentError(reply.get("error", {}))
        return reply.get("value"), out_arrays

    def output(self) -> str:
        """What the student's code printed, capped (read through the grader's own fds)."""
        cap = self.limits.output_kb * 1024
        text = ""
        for fd in self._out_fds:
            try:
                text += os.pread(fd, cap, 0).decode(errors="replace")
            except OSError:
                pass
        return text[:cap]
