"""The two ways of confining a student's program, each an object chosen once per process.

- ``Bubblewrap``: new user, PID, network, IPC, UTS and mount namespaces. The sandbox's file
  system holds the system's libraries, the interpreter with its standard library, the
  allowlisted packages (``interpreter.py``), the student edition of cnnlib (read-only),
  the grader's three files (read-only) and two size-capped tmpfs mounts, ``/scratch`` and
  ``/tmp``. Nothing else of the host exists there: not the course, not the hidden tests,
  not the gradebook, not other submissions. It runs as uid 65534 with no capabilities.
- ``Fallback`` (no bwrap, or it cannot make namespaces, or ``CNN_COURSE_SANDBOX=fallback``):
  ``python -I -S`` with an explicit ``sys.path``, a new session, and, when the grader is
  root and nobody can run the interpreter, uid/gid 65534. The file system is the host's,
  seen with nobody's rights; there is no network isolation and no cap on the total bytes
  written. ``missing()`` says so, and the grader warns once.

Both: a minimal environment built here (nothing inherited from the grader), rlimits on CPU,
address space, file size and open files, the parent-death signal, and output to files that
only the grader can reach. Each notebook's process, forked by the sandbox's zygote
(``child.py``), applies a seccomp filter to itself that allows no new process or thread.
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .interpreter import Interpreter, describe

NOBODY = 65534
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Layout:
    """Host folders of one sandbox and the paths its program sees them at."""

    root: Path            # private to the grader: holds the rest
    grader: Path          # program.json, child.py, wire.py (read-only inside)
    scratch: Path | None  # the fallback's working folder (bubblewrap uses a tmpfs)
    student_lib: Path | None
    inside_grader: str
    inside_scratch: str
    inside_lib: str | None


def _boot(layout: Layout, info: Interpreter, site: list[str]) -> str:
    """``python -c`` source: an explicit sys.path, then child.py as __main__."""
    path = [layout.inside_grader, *([layout.inside_lib] if layout.inside_lib else []),
            layout.inside_scratch, *info.stdlib, *site]
    child = f"{layout.inside_grader}/child.py"
    return (f"import sys; sys.path[:] = {path!r}; sys.argv = [{child!r}, *sys.argv[1:]]; "
            f"import runpy; runpy.run_path({child!r}, run_name='__main__')")


def minimal_env(home: str, tmp: str) -> dict[str, str]:
    """Everything the student's program gets as its environment."""
    return {
        "PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": tmp, "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
        # one BLAS thread: the seccomp filter refuses new threads
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def _set_rlimits(limits) -> None:
    for which, value in [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_AS, limits.memory_mb * 2**20),
        (resource.RLIMIT_FSIZE, limits.file_mb * 2**20),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]:
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # big writes fail instead of killing


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Backend:
    name = "none"

    def missing(self) -> str | None:
        """The protections this backend lacks, as a clause for a warning; None if none."""
        return None

    def layout(self, root: Path, student_lib: Path | None) -> Layout:
        raise NotImplementedError

    def command(self, layout: Layout, args: list[str], filter_fd: int | None,
                limits) -> list[str]:
        raise NotImplementedError

    def env(self, layout: Layout) -> dict[str, str]:
        raise NotImplementedError

    def preexec(self, limits) -> None:
        raise NotImplementedError

    def signal_of(self, code: int) -> int | None:
        """The signal that ended the program, from its exit code (None: it exited)."""
        return -code if code < 0 else None


class Bubblewrap(Backend):
    name = "bubblewrap"
    SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/etc/alternatives")

    def __init__(self, info: Interpreter) -> None:
        self.info = info

    def layout(self, root: Path, student_lib: Path | None) -> Layout:
        grader = root / "grader"
        grader.mkdir()
        return Layout(root, grader, None, student_lib, "/grader", "/scratch",
                      "/studentlib" if student_lib else None)

    def _bound_trees(self) -> list[str]:
        trees = [d for d in self.SYSTEM_DIRS if Path(d).exists()]
        if not _inside_any(self.info.base_prefix, trees):
            trees.append(self.info.base_prefix)
        return trees

    def command(self, layout: Layout, args: list[str], filter_fd: int | None,
                limits) -> list[str]:
        info = self.info
        cmd = ["bwrap", "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
               "--disable-userns", "--uid", str(NOBODY), "--gid", str(NOBODY),
               "--cap-drop", "ALL", "--clearenv",
               *(["--seccomp", str(filter_fd)] if filter_fd is not None else []),
               "--proc", "/proc", "--dev", "/dev"]
        trees = self._bound_trees()
        for tree in trees:
            cmd += ["--ro-bind", tree, tree]
        # every site-packages directory in what is bound is emptied, and only the
        # allowlisted packages come back, under /site
        for site in info.sites:
            if _inside_any(site, trees) and Path(site).is_dir():
                cmd += ["--tmpfs", site]
        for entry in info.entries:
            cmd += ["--ro-bind", entry, f"/site/{Path(entry).name}"]
        for key, value in self.env(layout).items():
            cmd += ["--setenv", key, value]
        cmd += ["--ro-bind", str(layout.grader), layout.inside_grader]
        if layout.student_lib and layout.inside_lib:
            cmd += ["--ro-bind", str(layout.student_lib), layout.inside_lib]
        size = str(limits.scratch_mb * 2**20)
        cmd += ["--size", size, "--tmpfs", "/scratch", "--size", size, "--tmpfs", "/tmp",
                "--chdir", "/scratch",
                info.executable, "-I", "-S", "-c", _boot(layout, info, ["/site"]), *args]
        return cmd

    def env(self, layout: Layout) -> dict[str, str]:
        return minimal_env("/scratch", "/tmp")

    def preexec(self, limits) -> None:
        _set_rlimits(limits)

    def signal_of(self, code: int) -> int | None:
        if code < 0:  # bwrap itself was killed
            return -code
        return code - 128 if code > 128 else None  # bwrap reports 128 + N


def _inside_any(path: str, roots) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


class Fallback(Backend):
    def __init__(self, info: Interpreter, drop_to_nobody: bool) -> None:
        self.info = info
        self.drop = drop_to_nobody

    def missing(self) -> str:
        if self.drop:
            return ("student code runs as nobody, so it cannot signal the grader, but it can "
                    "read every file nobody can read (the hidden tests and the reference "
                    "cnnlib if they are world-readable), reach the network, and fill the disk "
                    "file by file")
        return ("student code runs as the grader's own user (nobody cannot start this "
                "Python), so it CAN read the hidden tests and the gradebook and signal the "
                "grader; only rlimits, the seccomp filter, a new session and the wall-clock "
                "limits hold")

    @property
    def name(self) -> str:  # type: ignore[override]
        return "fallback-nobody" if self.drop else "fallback"

    def layout(self, root: Path, student_lib: Path | None) -> Layout:
        grader, scratch = root / "grader", root / "scratch"
        grader.mkdir()
        scratch.mkdir()
        os.chmod(root, 0o711)  # nobody may pass through, not list
        os.chmod(grader, 0o755)
        if self.drop:
            os.chown(scratch, NOBODY, NOBODY)
        os.chmod(scratch, 0o700)
        lib = str(student_lib) if student_lib else None
        return Layout(root, grader, scratch, student_lib, str(grader), str(scratch), lib)

    def command(self, layout: Layout, args: list[str], filter_fd: int | None,
                limits) -> list[str]:
        boot = _boot(layout, self.info, [self.info.linked_site()])
        return [self.info.executable, "-I", "-S", "-c", boot, *args]

    def env(self, layout: Layout) -> dict[str, str]:
        return minimal_env(layout.inside_scratch, layout.inside_scratch)

    def preexec(self, limits) -> None:
        _set_rlimits(limits)
        if self.drop:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            # counted for nobody from here on (RLIMIT_NPROC binds an unprivileged user)
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        _die_with_parent()  # after the uid change, which clears it


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether bubblewrap exists and can make the namespaces we need (checked once)."""
    path = shutil.which("bwrap")
    if not path:
        return False
    try:
        probe = subprocess.run(
            [path, "--unshare-all", "--unshare-user", "--disable-userns", "--ro-bind", "/", "/",
             "--uid", str(NOBODY), "--size", "1048576", "--tmpfs", "/tmp", "true"],
            capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _drop_to_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


@lru_cache(maxsize=1)
def nobody_can_run_python() -> bool:
    """Whether uid 65534 can start the sandbox's interpreter and import numpy (root only).

    A Python installed under a private home (/root/.pyenv) cannot be run by nobody; the
    fallback then keeps the grader's uid, and its warning says so.
    """
    if os.geteuid() != 0:
        return False
    info = describe()
    path = [*info.stdlib, info.linked_site()]
    boot = f"import sys; sys.path[:] = {path!r}; import numpy"
    try:
        probe = subprocess.run([info.executable, "-I", "-S", "-c", boot], cwd="/",
                               capture_output=True, timeout=60, preexec_fn=_drop_to_nobody,
                               env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@lru_cache(maxsize=1)
def choose() -> Backend:
    """The strongest backend that works here (``CNN_COURSE_SANDBOX=fallback`` forces the
    fallback, to test it or where namespaces are known to be unavailable)."""
    info = describe()
    if os.environ.get("CNN_COURSE_SANDBOX") != "fallback" and bwrap_works():
        return Bubblewrap(info)
    return Fallback(info, nobody_can_run_python())
