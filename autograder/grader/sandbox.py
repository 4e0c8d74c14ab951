"""Run a student's program in a confined child process and call into it.

Confinement, strongest first:

- **bubblewrap** (``bwrap``): new user, PID, network, IPC and mount namespaces; only the
  Python installation, the student edition of cnnlib and a scratch directory are visible
  (read-only but for scratch); the child runs as uid 65534 and dies with the grader. The
  reference cnnlib, the hidden tests, the gradebook and other submissions are simply not
  in its file system.
- **fallback** (no bwrap, or it cannot create namespaces): ``python -I -S`` with an explicit
  ``sys.path`` (so the editable install of the reference is not on it), a new session, and,
  when the grader runs as root and nobody can start this Python, uid/gid 65534 (nobody),
  which cannot signal the grader. A warning names what is then missing (the file system is
  visible to nobody; without the uid drop, everything the grader's user can do).

Either way: a seccomp filter (x86-64) refuses new processes but not threads (a root
grader's sandbox is root outside its namespace, and RLIMIT_NPROC does not bind root);
rlimits on CPU seconds, address space, processes, file size and open files;
stdin is /dev/null; stdout and stderr go to capped files in scratch; a wall-clock limit per
call and for loading the program (and per notebook, kept by ``proxy.Session``); the whole
process group is killed when done.
"""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import seccomp, wire

HERE = Path(__file__).resolve().parent
NOBODY = 65534


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


class SandboxError(RuntimeError):
    """The sandbox could not answer: it died, broke the protocol, or ran out of time."""


class SandboxTimeout(SandboxError):
    pass


class SandboxCrashed(SandboxError):
    pass


class StudentError(Exception):
    """The student's code raised: type, message and where, as the child reported them."""

    def __init__(self, info: dict) -> None:
        self.type = info.get("type", "Exception")
        self.message = info.get("message", "")
        self.where = info.get("where", "")
        super().__init__(f"{self.type}: {self.message}{self.where}")


class LoadError(StudentError):
    """The notebook's code failed while it ran top to bottom."""


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether bubblewrap exists and can make the namespaces we need (checked once)."""
    path = shutil.which("bwrap")
    if not path:
        return False
    probe = subprocess.run(
        [path, "--unshare-all", "--ro-bind", "/", "/", "--uid", str(NOBODY), "true"],
        capture_output=True, timeout=20,
    )
    return probe.returncode == 0


def _drop_to_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


@lru_cache(maxsize=1)
def nobody_can_run_python() -> bool:
    """Fallback only: whether uid 65534 can start this interpreter and import numpy.

    A Python installed under a private home (/root/.pyenv) cannot be run by nobody; the
    fallback then keeps the grader's uid, and its warning says so.
    """
    if os.geteuid() != 0:
        return False
    boot = f"import sys; sys.path[:] = {[*_stdlib_dirs(), *_site_dirs()]!r}; import numpy"
    try:
        probe = subprocess.run([sys.executable, "-I", "-S", "-c", boot], cwd="/",
                               capture_output=True, timeout=60, preexec_fn=_drop_to_nobody)
    except OSError:
        return False
    return probe.returncode == 0


def isolation() -> str:
    """'bubblewrap', 'fallback-nobody' or 'fallback' (rlimits only): what protects the grader."""
    if bwrap_works():
        return "bubblewrap"
    return "fallback-nobody" if nobody_can_run_python() else "fallback"


_WARNED: list[bool] = []


def warn_if_fallback() -> None:
    """Without bubblewrap, say once, loudly, which protections are missing."""
    if bwrap_works() or _WARNED:
        return
    _WARNED.append(True)
    if nobody_can_run_python():
        missing = ("it runs as nobody, so it cannot signal the grader, but it can read every "
                   "file nobody can read (the hidden tests and reference cnnlib if they are "
                   "world-readable) and reach the network")
    else:
        missing = ("it runs as the grader's own user (nobody cannot start this Python), so "
                   "it CAN read the hidden tests and the gradebook and signal the grader; "
                   "only rlimits, a new session and the wall-clock limits hold")
    warnings.warn(
        "bubblewrap (bwrap) is unavailable or cannot create namespaces: student code runs "
        f"without them; {missing}. Install bubblewrap (apt-get install bubblewrap) for full "
        "isolation.", RuntimeWarning, stacklevel=3,
    )


def _site_dirs() -> list[str]:
    """Where numpy and friends live, without processing .pth files (editable installs)."""
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return sorted(p for p in paths if Path(p).is_dir())


def _stdlib_dirs() -> list[str]:
    """The standard library and its compiled modules (a venv's platstdlib has neither)."""
    stdlib = Path(os.__file__).resolve().parent
    return [str(stdlib), str(stdlib / "lib-dynload")]


class Sandbox:
    """One running student program. Use as a context manager; ``call`` talks to it."""

    def __init__(self, program: str, student_lib: Path | None, limits: Limits) -> None:
        self.limits = limits
        self.scratch = Path(tempfile.mkdtemp(prefix="cnn-course-sandbox-"))
        self.student_lib = student_lib
        (self.scratch / "program.py").write_text(program)
        shutil.copy(HERE / "child.py", self.scratch / "child.py")
        shutil.copy(HERE / "wire.py", self.scratch / "wire.py")
        self.process: subprocess.Popen | None = None
        self.loaded = False
        self.load_error: LoadError | None = None

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _command(self, inside: Path, child_args: list[str], filter_fd: int | None) -> list[str]:
        python = sys.executable
        if bwrap_works():
            cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                   "--uid", str(NOBODY), "--gid", str(NOBODY), "--cap-drop", "ALL",
                   *(["--seccomp", str(filter_fd)] if filter_fd is not None else []),
                   "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
            for system_dir in ("/usr", "/lib", "/lib64", "/bin", "/etc/alternatives"):
                if Path(system_dir).exists():
                    cmd += ["--ro-bind", system_dir, system_dir]
            for prefix in sorted({sys.base_prefix, sys.prefix, str(Path(python).parent)}):
                cmd += ["--ro-bind", prefix, prefix]
            cmd += ["--bind", str(self.scratch), "/scratch"]
            if self.student_lib:
                cmd += ["--ro-bind", str(self.student_lib), "/studentlib"]
            cmd += ["--chdir", "/scratch", "--setenv", "HOME", "/scratch",
                    "--setenv", "PYTHONPATH", "/studentlib:/scratch",
                    "--setenv", "MPLBACKEND", "Agg", "--setenv", "MPLCONFIGDIR", "/scratch",
                    "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
                    python, "-s", "/scratch/child.py", *child_args]
            return cmd
        # Fallback: no site processing, so no editable-install hook; explicit sys.path.
        path = [str(self.student_lib or ""), str(inside), *_stdlib_dirs(), *_site_dirs()]
        boot = (f"import sys; sys.path[:] = {path!r}; sys.argv = sys.argv[1:]; "
                f"import runpy; runpy.run_path({str(inside / 'child.py')!r}, "
                "run_name='__main__')")
        return [python, "-I", "-S", "-c", boot, str(inside / "child.py"), *child_args]

    def _preexec(self) -> None:
        lim = self.limits
        mem = lim.memory_mb * 2**20
        for which, value in [
            (resource.RLIMIT_CPU, lim.cpu_seconds),
            (resource.RLIMIT_AS, mem),
            (resource.RLIMIT_FSIZE, lim.file_mb * 2**20),
            (resource.RLIMIT_NOFILE, lim.open_files),
            (resource.RLIMIT_CORE, 0),
        ]:
            resource.setrlimit(which, (value, value))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # big writes fail instead of killing
        if not bwrap_works() and nobody_can_run_python():
            _drop_to_nobody()
        # per-user process cap; counted for the (possibly unprivileged) user from here on
        resource.setrlimit(resource.RLIMIT_NPROC, (lim.processes, lim.processes))
        if not bwrap_works() and seccomp.supported():
            seccomp.install()  # root ignores RLIMIT_NPROC: no new processes at all

    def start(self, load_timeout: float | None = None) -> None:
        """Run the program top to bottom (``load_timeout`` s, default the load limit)."""
        if not bwrap_works():
            warn_if_fallback()
            nobody_can_run_python()  # cached now: the preexec hook must not start processes
            os.chmod(self.scratch, 0o777)  # nobody must write its own scratch
            for name in ("program.py", "child.py", "wire.py"):
                os.chmod(self.scratch / name, 0o644)
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        inside = Path("/scratch") if bwrap_works() else self.scratch
        program = inside / "program.py"
        args = [str(program), str(to_child_r), str(from_child_w)]
        fds = [to_child_r, from_child_w]
        filter_fd = None
        if bwrap_works() and seccomp.supported():  # bwrap installs it right before exec
            filter_fd = os.memfd_create("cnn-course-seccomp", 0)
            os.write(filter_fd, seccomp.program())
            os.lseek(filter_fd, 0, os.SEEK_SET)
            fds.append(filter_fd)
        self.stdout_path = self.scratch / "stdout.txt"
        self.stderr_path = self.scratch / "stderr.txt"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                self._command(inside, args, filter_fd), stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, pass_fds=tuple(fds), start_new_session=True,
                preexec_fn=self._preexec, close_fds=True, cwd=self.scratch,
            )
        for fd in fds:
            os.close(fd)
        self._to_child, self._from_child = to_child_w, from_child_r
        try:
            limit = self.limits.load_seconds if load_timeout is None else load_timeout
            reply, _ = self._receive(limit, "loading your notebook")
        except SandboxError:
            self.close()
            raise
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
                try:
                    os.close(fd)
                except OSError:
                    pass
        shutil.rmtree(self.scratch, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- talking -----------------------------------------------------------------------
    def _receive(self, timeout: float, what: str) -> tuple[dict, list]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise SandboxTimeout(f"{what} took longer than {timeout:g} s (infinite loop?)")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 0.5))
            if ready:
                break
            if not self.alive:
                break
        try:
            return wire.receive(self._from_child)
        except (EOFError, OSError, wire.WireError) as error:
            code = self._exit_code()
            self.close()
            raise SandboxCrashed(self._death_sentence(what, code, error)) from None

    def _exit_code(self) -> int | None:
        """How the child ended: -N for signal N (bwrap reports 128+N), None if unknown."""
        if self.process is None:
            return None
        try:
            code = self.process.wait(timeout=2)  # the pipe closes just before the exit
        except subprocess.TimeoutExpired:
            return None
        if code > 128 and bwrap_works():
            return -(code - 128)
        return code

    def _death_sentence(self, what: str, code, error) -> str:
        if isinstance(error, wire.WireError):
            return f"{what}: the sandbox sent something unreadable ({error})"
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = {"SIGKILL": " (out of memory or killed)", "SIGXCPU": " (CPU time limit)",
                    "SIGSEGV": " (crashed)"}.get(name, "")
            return f"{what}: your code's process died with {name}{hint}"
        return f"{what}: your code's process exited (exit code {code}) instead of returning"

    def request(self, message: dict, arrays: list, what: str, timeout: float | None = None):
        """Send one operation and wait (``timeout`` s, default the per-call limit) for it."""
        if not self.alive:
            raise SandboxCrashed(f"{what}: the sandbox is no longer running")
        try:
            wire.send(self._to_child, message, arrays)
        except OSError:
            code = self._exit_code()
            self.close()
            raise SandboxCrashed(self._death_sentence(what, code, EOFError())) from None
        limit = self.limits.call_seconds if timeout is None else timeout
        reply, out_arrays = self._receive(limit, what)
        if not reply.get("ok"):
            raise StudentError(reply.get("error", {}))
        return reply.get("value"), out_arrays

    def output(self) -> str:
        """What the student's code printed, capped."""
        cap = self.limits.output_kb * 1024
        text = ""
        for path in (getattr(self, "stdout_path", None), getattr(self, "stderr_path", None)):
            if path and path.exists():
                with open(path, "rb") as handle:
                    text += handle.read(cap).decode(errors="replace")
        return text[:cap]
