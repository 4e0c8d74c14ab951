"""A seccomp filter that lets the sandbox start no other task: no process, no thread.

RLIMIT_NPROC is not enforced for processes whose real user is root, which is what a
sandbox started by a root grader is outside its user namespace, and threads are tasks
too (thousands of small-stack threads fit in the memory limit and bring the host near
``pid_max``). So the cap on tasks is a system-call filter instead: fork, vfork and clone
fail with EPERM, clone3 with ENOSYS (glibc then tries clone, which fails). Python reports
"can't start new thread"; numpy's BLAS, told to use one thread, starts none. 32-bit
(int 0x80) and x32 calls are refused outright. Signals may go to the process itself only
(kill, tkill, tgkill and sigqueueinfo with another target fail with EPERM; pidfd signals,
ptrace and process_vm_writev are refused): a process that killed its zygote would die a
moment later, in whichever call runs then.

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
# system calls that send a signal, each with the target process (or thread group) first
_SIGNAL_FIRST_ARG_PID = (62, 200, 234, 129, 297)  # kill tkill tgkill rt_(tg)sigqueueinfo
_PIDFD_SEND_SIGNAL, _PTRACE, _PROCESS_VM_WRITEV = 424, 101, 311
_ARG0_LOW = 16  # offset of args[0]'s low 32 bits in struct seccomp_data (little-endian)


def supported() -> bool:
    return platform.machine() == "x86_64"


def _instructions(own_pid: int | None = None) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jump if true, jump if false, k), jumps resolved from labels."""
    deny, enosys = _ERRNO | errno.EPERM, _ERRNO | errno.ENOSYS
    # (code, label if true, label if false, k); None falls through to the next instruction
    rows: list[tuple[str | None, int, str | None, str | None, int]] = [
        (None, _LD_ABS_W, None, None, 4),              # arch
        (None, _JEQ, None, "deny", _ARCH_X86_64),      # any other ABI: refuse
        (None, _LD_ABS_W, None, None, 0),              # system call number
        (None, _JGE, "deny", None, _X32_BIT),
        (None, _JEQ, "deny", None, _CLONE),
        (None, _JEQ, "deny", None, _FORK),
        (None, _JEQ, "deny", None, _VFORK),
        (None, _JEQ, "enosys", None, _CLONE3),
    ]
    if own_pid is not None:
        # A signal may go to this process only: the zygote is its parent, and this process
        # dies with it, so a student who killed it would make a later call (another test)
        # die for it. Process groups (0, negative) and every other pid are refused.
        rows += [(None, _JEQ, "deny", None, n)
                 for n in (_PIDFD_SEND_SIGNAL, _PTRACE, _PROCESS_VM_WRITEV)]
        rows += [(None, _JEQ, "target", None, n) for n in _SIGNAL_FIRST_ARG_PID]
    rows += [(None, _RET, None, None, _ALLOW)]
    if own_pid is not None:
        rows += [("target", _LD_ABS_W, None, None, _ARG0_LOW),
                 (None, _JEQ, "allow", "deny", own_pid)]
    rows += [("allow", _RET, None, None, _ALLOW),
             ("deny", _RET, None, None, deny),
             ("enosys", _RET, None, None, enosys)]
    where = {label: i for i, (label, *_) in enumerate(rows) if label}

    def jump(i: int, label: str | None) -> int:
        return 0 if label is None else where[label] - i - 1

    return [(code, jump(i, yes), jump(i, no), k)
            for i, (_, code, yes, no, k) in enumerate(rows)]


def program(own_pid: int | None = None) -> bytes:
    """The filter as the kernel reads it: an array of struct sock_filter. With ``own_pid``,
    signals may go to that process only."""
    return b"".join(struct.pack("=HBBI", *ins) for ins in _instructions(own_pid))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Apply the filter to the calling process: no new task, signals to itself only."""
    import os

    code = program(os.getpid())
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
