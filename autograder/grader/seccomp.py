"""A seccomp filter that lets the sandbox start no other task: no process, no thread.

RLIMIT_NPROC is not enforced for processes whose real user is root, which is what a
sandbox started by a root grader is outside its user namespace, and threads are tasks
too (thousands of small-stack threads fit in the memory limit and bring the host near
``pid_max``). So the cap on tasks is a system-call filter instead: fork, vfork and clone
fail with EPERM, clone3 with ENOSYS (glibc then tries clone, which fails). Python reports
"can't start new thread"; numpy's BLAS, told to use one thread, starts none. 32-bit
(int 0x80) and x32 calls are refused outright.

The filter is classic BPF over ``struct seccomp_data`` (nr at byte 0, arch at 4).
Other architectures get no filter (and the grader says so).
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

_LD_ABS_W, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_CLONE, _FORK, _VFORK, _CLONE3 = 56, 57, 58, 435


def supported() -> bool:
    return platform.machine() == "x86_64"


def _instructions() -> list[tuple[int, int, int, int]]:
    deny, enosys = _ERRNO | errno.EPERM, _ERRNO | errno.ENOSYS
    # index: (code, jump if true, jump if false, k); jumps count from the next instruction
    return [
        (_LD_ABS_W, 0, 0, 4),             # 0  arch
        (_JEQ, 1, 0, _ARCH_X86_64),       # 1  x86-64 -> 3
        (_RET, 0, 0, deny),               # 2  any other ABI: refuse
        (_LD_ABS_W, 0, 0, 0),             # 3  syscall number
        (_JGE, 5, 0, _X32_BIT),           # 4  x32 -> 10
        (_JEQ, 4, 0, _CLONE),             # 5  -> 10
        (_JEQ, 3, 0, _FORK),              # 6  -> 10
        (_JEQ, 2, 0, _VFORK),             # 7  -> 10
        (_JEQ, 2, 0, _CLONE3),            # 8  -> 11
        (_RET, 0, 0, _ALLOW),             # 9
        (_RET, 0, 0, deny),               # 10
        (_RET, 0, 0, enosys),             # 11
    ]


def program() -> bytes:
    """The filter as bwrap's ``--seccomp FD`` reads it: an array of struct sock_filter."""
    return b"".join(struct.pack("=HBBI", *ins) for ins in _instructions())


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Apply the filter to the calling process (the fallback's preexec hook uses this)."""
    code = program()
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
