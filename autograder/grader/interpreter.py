"""The Python that runs students' code, and exactly which of its packages the sandbox sees.

A student's program needs the interpreter, its standard library, numpy and the libraries
the notebooks plot and load data with (the student bundle's requirements), and the student
edition of cnnlib. It must not see the grader: not the reference cnnlib, not the hidden
tests, not an editable install's finder that names the course's folder. So the sandbox is
given an allowlist, the top-level entries (``numpy/``, ``numpy.libs/``, ``six.py``, their
``.dist-info``) of the distributions in ``SANDBOX_PACKAGES`` and everything they require,
found through ``importlib.metadata`` in the sandbox's own interpreter. Every other
site-packages directory is hidden.

The interpreter is the grader's own unless ``CNN_COURSE_SANDBOX_PYTHON`` names another
(the Gradescope bundle gives the sandbox a separate virtual environment that holds only
these packages, which also protects the fallback that has no mount namespace).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# What student code may import besides the standard library and the student edition.
SANDBOX_PACKAGES = ("numpy", "matplotlib", "scikit-learn", "tqdm")

# Runs inside the sandbox's interpreter (``python -I``): prints what it can see.
_PROBE = r"""
import importlib.metadata as md, json, os, re, site, sys, sysconfig
wanted, seen, entries = list(json.loads(sys.argv[1])), set(), set()
while wanted:
    name = re.sub(r"[-_.]+", "-", wanted.pop()).lower()
    if name in seen:
        continue
    seen.add(name)
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        continue
    for requirement in dist.requires or []:
        if "extra ==" in requirement.replace('"', "").replace("'", ""):
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            wanted.append(match.group(1))
    base = os.path.realpath(str(dist.locate_file("")))
    for file in dist.files or []:
        top = file.parts[0] if file.parts else ""
        if not top or top in ("..", "__pycache__") or top.endswith(".pth"):
            continue
        path = os.path.join(base, top)
        if os.path.exists(path):
            entries.add(path)
stdlib = os.path.dirname(os.__file__)
base = {"base": sys.base_prefix, "platbase": sys.base_prefix}
sites = (set(site.getsitepackages()) | set(site.getsitepackages([sys.base_prefix]))
         | {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
         | {sysconfig.get_paths(vars=base)[k] for k in ("purelib", "platlib")})
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "base_prefix": os.path.realpath(sys.base_prefix),
    "stdlib": [os.path.realpath(stdlib), os.path.realpath(os.path.join(stdlib, "lib-dynload"))],
    "sites": sorted(os.path.realpath(p) for p in sites if os.path.isdir(p)),
    "entries": sorted(entries),
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """What the sandbox needs to know about the Python that runs students' code."""

    executable: str          # resolved: a venv's bin/python is a link to the base one
    base_prefix: str         # the installation the executable and standard library are in
    stdlib: tuple[str, ...]  # the standard library and its compiled modules
    sites: tuple[str, ...]   # every site-packages directory (hidden in the sandbox)
    entries: tuple[str, ...]  # allowlisted top-level entries of those directories

    def linked_site(self) -> str:
        """A folder of links to the allowlisted entries, for the fallback's ``sys.path``.

        Without a mount namespace the real site-packages stay readable; this only keeps
        the rest of them off the path (made once per process, readable by everyone).
        """
        return _linked_site(self.entries)


@lru_cache(maxsize=4)
def _linked_site(entries: tuple[str, ...]) -> str:
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cnn-course-site-"))
    atexit.register(shutil.rmtree, folder, True)
    for entry in entries:
        (folder / Path(entry).name).symlink_to(entry)
    os.chmod(folder, 0o755)
    return str(folder)


class InterpreterError(RuntimeError):
    """The sandbox's interpreter cannot be started or lacks numpy."""


def sandbox_python() -> str:
    return os.environ.get("CNN_COURSE_SANDBOX_PYTHON") or sys.executable


@lru_cache(maxsize=4)
def describe(python: str | None = None) -> Interpreter:
    """Probe ``python`` (default: the sandbox's) once per process."""
    python = python or sandbox_python()
    try:
        done = subprocess.run(
            [python, "-I", "-c", _PROBE, json.dumps(list(SANDBOX_PACKAGES))],
            capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InterpreterError(f"cannot run the sandbox's Python {python}: {error}") from None
    if done.returncode != 0:
        raise InterpreterError(f"the sandbox's Python {python} failed to describe itself: "
                               f"{done.stderr.strip()[-500:]}")
    found = json.loads(done.stdout)
    info = Interpreter(found["executable"], found["base_prefix"], tuple(found["stdlib"]),
                       tuple(found["sites"]), tuple(found["entries"]))
    if not any(Path(entry).name == "numpy" for entry in info.entries):
        raise InterpreterError(f"the sandbox's Python {python} has no numpy")
    return info
