"""A seccomp filter that lets the sandbox start threads but no other process.

RLIMIT_NPROC is not enforced for processes whose real user is root, which is what a
sandbox started by a root grader is outside its user namespace. So the cap on processes is
a system-call filter instead: fork, vfork and a clone without CLONE_THREAD fail with EPERM;
clone3 fails with ENOSYS, so glibc's pthread_create falls back to clone (and numpy's
OpenBLAS threads still start). 32-bit (int 0x80) and x32 calls are refused outright.

The filter is classic BPF over ``struct seccomp_data`` (nr at byte 0, arch at 4, the first
argument's low word at 16 on little-endian x86-64). Other architectures get no filter.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

_LD_ABS_W, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_CLONE, _FORK, _VFORK, _CLONE3 = 56, 57, 58, 435
_CLONE_THREAD = 0x00010000


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
        (_JGE, 7, 0, _X32_BIT),           # 4  x32 -> 12
        (_JEQ, 6, 0, _FORK),              # 5  -> 12
        (_JEQ, 5, 0, _VFORK),             # 6  -> 12
        (_JEQ, 5, 0, _CLONE3),            # 7  -> 13
        (_JEQ, 0, 2, _CLONE),             # 8  clone -> 9, else -> 11
        (_LD_ABS_W, 0, 0, 16),            # 9  clone flags (low word)
        (_JSET, 0, 1, _CLONE_THREAD),     # 10 a thread -> 11, else -> 12
        (_RET, 0, 0, _ALLOW),             # 11
        (_RET, 0, 0, deny),               # 12
        (_RET, 0, 0, enosys),             # 13
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
