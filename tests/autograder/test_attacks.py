"""A determined student against the sandbox: each promise, attacked.

Every function of ``ATTACKS`` is something a student's notebook can define; the tests call
it through the proxy, the way a hidden test would, and check that the grader holds: it
answers within its deadlines, reads nothing the student controls, hands out nothing of the
grader's environment, and bounds what one reply and one sandbox may consume.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.grader.program import program_of
from autograder.grader.proxy import Session, Student
from autograder.grader.sandbox import (
    Limits,
    Sandbox,
    SandboxError,
    SandboxTimeout,
    StudentError,
)
from autograder.student_edition import build_student_cnnlib

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.grader

ATTACKS = r'''
import os, sys, time, numpy as np

def environment():
    return dict(os.environ)

def search_path():
    return list(sys.path)

def importable(name):
    import importlib.util
    for entry in list(sys.path):
        pass
    return importlib.util.find_spec(name) is not None

def visible(path):
    return os.path.exists(path)

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as error:
        return [f"<{type(error).__name__}>"]

def reference_by_path(paths):
    # put every candidate site directory first on the path and import cnnlib from there
    import importlib
    for path in paths:
        sys.path.insert(0, path)
    for name in [n for n in sys.modules if n == "cnnlib" or n.startswith("cnnlib.")]:
        del sys.modules[name]
    module = importlib.import_module("cnnlib")
    return module.__file__

def stall_mid_frame():
    # a frame header that promises 100 bytes, then nothing, forever
    os.write(int(sys.argv[3]), (100).to_bytes(8, "big"))
    time.sleep(3600)

def stop_reading():
    # the grader's next request will not be read; the pipe is made as small as it goes
    import fcntl
    fcntl.fcntl(int(sys.argv[2]), 1031, 4096)  # F_SETPIPE_SZ
    sys.modules["wire"].receive = lambda fd: time.sleep(3600)
    return True

def echo(x):
    return x

def fifo_for_output():
    for name in ("stdout.txt", "stderr.txt"):
        for folder in ("/scratch", os.getcwd()):
            path = os.path.join(folder, name)
            if os.path.lexists(path):
                os.remove(path)
                os.mkfifo(path)
    return True

def symlink_output(target):
    for name in ("stdout.txt", "stderr.txt"):
        for folder in ("/scratch", os.getcwd()):
            path = os.path.join(folder, name)
            if os.path.lexists(path):
                os.remove(path)
                os.symlink(target, path)
    return True

def many_arrays(count, mib):
    return tuple(np.ones(mib * 2**20 // 8) for _ in range(count))

def fill(folder, mib):
    written = 0
    try:
        for index in range(10**6):
            with open(os.path.join(folder, f"fill{index}.bin"), "wb") as handle:
                handle.write(b"\0" * 2**20)
            written += 1
            if written >= mib:
                break
    except OSError:
        pass
    return written

def threads(count):
    import threading
    threading.stack_size(65536)  # small stacks: the address-space limit alone allows thousands
    started, stop = 0, threading.Event()
    try:
        for _ in range(count):
            threading.Thread(target=stop.wait, daemon=True).start()
            started += 1
    except RuntimeError:
        pass
    stop.set()
    return started

def raise_with(type_name, message):
    raise type(type_name, (Exception,), {})(message)
'''


@pytest.fixture(scope="module")
def student_lib(tmp_path_factory):
    lib = tmp_path_factory.mktemp("lib")
    build_student_cnnlib("a2_convolution", lib)
    os.chmod(lib, 0o755)
    return lib


def _session(student_lib, **limits) -> Session:
    settings = {"call_seconds": 4, "memory_mb": 1024, "file_mb": 8, **limits}
    return Session(lambda: Sandbox(program_of(ATTACKS), student_lib, Limits(**settings)))


@pytest.fixture
def student(student_lib):
    session = _session(student_lib)
    yield Student(session)
    session.close()


# -- 9: a minimal, explicit environment --------------------------------------------------

def test_the_graders_environment_does_not_reach_the_sandbox(student_lib, monkeypatch):
    monkeypatch.setenv("TA_API_TOKEN", "s3cret-token")
    session = _session(student_lib)
    try:
        env = Student(session).environment()
    finally:
        session.close()
    assert "TA_API_TOKEN" not in env and "s3cret-token" not in json.dumps(env)
    assert set(env) <= {"PATH", "HOME", "LANG", "LC_ALL", "MPLBACKEND", "MPLCONFIGDIR",
                        "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "OMP_NUM_THREADS",
                        "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TMPDIR", "PWD"}
    assert str(ROOT) not in json.dumps(env)


def test_no_path_of_the_course_or_the_grader_is_visible(student):
    path = student.search_path()
    assert not any(str(ROOT) in entry for entry in path)
    assert not any(".venv" in entry or "site-packages" in entry and "cnn" in entry
                   for entry in path)
    # the editable install's finder names the course's folder: it must not be readable
    site = [p for p in path if p.endswith("site-packages") or p.endswith("/site")]
    for folder in site:
        assert not [n for n in student.listing(folder) if "editable" in n or "cnn" in n]


# -- 1: the reference is not reachable from the sandbox ----------------------------------

def test_the_reference_cannot_be_imported_by_putting_site_packages_first(student):
    import sysconfig

    candidates = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
                         str(ROOT)})
    try:
        where = student.reference_by_path(candidates)
    except StudentError:
        return  # no cnnlib outside the student edition: nothing to import
    assert where.startswith("/studentlib") or "cnn-course-lib" in where


# -- 4: deadlines on every read and write of the pipe ------------------------------------

def test_a_reply_that_stops_mid_frame_times_out(student):
    start = time.monotonic()
    with pytest.raises(SandboxTimeout):
        student.stall_mid_frame()
    assert time.monotonic() - start < 15
    assert student.echo(2) == 2  # a fresh sandbox answers the next call


def test_a_sandbox_that_stops_reading_cannot_block_the_grader(student):
    assert student.stop_reading() is True
    start = time.monotonic()
    with pytest.raises(SandboxTimeout):
        student.echo(np.ones(2**20))  # 8 MiB: far more than the pipe holds
    assert time.monotonic() - start < 15


# -- 5: the grader opens nothing the student can replace ---------------------------------

def test_output_files_replaced_by_a_fifo_do_not_block_the_grader(student):
    assert student.fifo_for_output() is True
    start = time.monotonic()
    student._session.close()  # collects what the program printed
    assert time.monotonic() - start < 10


def test_output_files_replaced_by_a_symlink_leak_nothing(student, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE\n")
    os.chmod(tmp_path, 0o755)
    secret.chmod(0o644)
    assert student.symlink_output(str(secret)) is True
    student._session.close()
    assert "TOP-SECRET-LINE" not in student._session.printed


# -- 6: replies are bounded ----------------------------------------------------------------

def test_a_reply_far_larger_than_its_inputs_is_refused(student):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SandboxError, match="too large|over the"):
        student.many_arrays(6, 64)  # 384 MiB in answer to two integers
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB
    assert grown < 300 * 1024
    assert student.echo(3) == 3


# -- 7: host resources around the limits ---------------------------------------------------

@pytest.mark.parametrize("folder", ["/tmp", "."])
def test_temporary_and_scratch_space_are_capped_in_total(student, folder):
    # every file is under the per-file cap; their total is not
    written = student.fill(folder, 400)
    assert written < 400


def test_threads_are_bounded(student):
    assert student.threads(2000) < 100


# -- 10: student strings cannot forge structure ---------------------------------------------

def test_exception_names_and_messages_arrive_without_control_characters(student):
    with pytest.raises(StudentError) as caught:
        student.raise_with("Evil\x1b[2J\x1b[H", "line one\n**Total: 32 / 32**\r\x07")
    text = str(caught.value)
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text


def test_the_grader_keeps_running_python(student):
    # sanity: the attacks above are real calls into a live sandbox
    assert student.echo(1.5) == 1.5
    assert sys.executable
