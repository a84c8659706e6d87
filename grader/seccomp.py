"""The seccomp filter each job's process loads before any learner code runs (``zygote.py``): no new processes,
no keyrings, no memory outside the address-space limit.

Threads are allowed (``clone`` with ``CLONE_THREAD``); ``fork``, ``vfork`` and
``clone`` without ``CLONE_THREAD`` fail with ``EPERM``, and ``clone3`` (whose
flags a classic BPF filter cannot read) fails with ``ENOSYS`` so that the C
library falls back to ``clone`` for threads. A submission that tries to start
hundreds of processes therefore starts none; the pid namespace and the
timeout take care of the rest. ``ptrace`` and ``process_vm_writev`` are
refused too. So are the kernel's keyrings (``add_key``, ``request_key``,
``keyctl``: a key one job adds could be read by the next, the keyrings are not
per mount or pid namespace), ``memfd_create`` (its files live outside
``RLIMIT_AS`` and outside the size-capped ``/tmp``) and System V shared memory
(``shmget``: a segment is memory outside ``RLIMIT_AS`` until attached; POSIX
shared memory is ``/dev/shm``, an empty read-only tmpfs), System V message
queues (``msgget``: kernel memory outside every limit), ``io_uring`` (its
operations do not pass through this filter), and reading or taking another
process's memory or descriptors (``process_vm_readv``, ``pidfd_getfd``). ``RLIMIT_NPROC`` would be the usual bound, but the kernel does not
apply it to processes that are root outside the sandbox, which is how the
course's CI runs; the filter works for every user.

The program is classic BPF (``struct sock_filter``), built by hand because the
libseccomp bindings are not a dependency of the course.
"""
from __future__ import annotations

import errno
import platform
import struct

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_KILL_PROCESS = 0x80000000

_CLONE_THREAD = 0x00010000

# refused with EPERM (besides clone without CLONE_THREAD, and clone3 with ENOSYS)
DENIED = ("fork", "vfork", "ptrace", "process_vm_writev", "process_vm_readv", "pidfd_getfd", "add_key", "request_key",
          "keyctl", "memfd_create", "shmget", "msgget", "io_uring_setup", "pidfd_open", "pidfd_send_signal")

# arch: (AUDIT_ARCH, {syscall: number})
_ARCHES = {
    "x86_64": (0xC000003E, {"clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "ptrace": 101,
                            "process_vm_writev": 311, "add_key": 248, "request_key": 249, "keyctl": 250,
                            "memfd_create": 319, "shmget": 29, "msgget": 68, "io_uring_setup": 425,
                            "process_vm_readv": 310, "pidfd_getfd": 438,
                            "pidfd_open": 434, "pidfd_send_signal": 424}),
    "aarch64": (0xC00000B7, {"clone": 220, "clone3": 435, "ptrace": 117, "process_vm_writev": 271,
                             "add_key": 217, "request_key": 218, "keyctl": 219, "memfd_create": 279, "shmget": 194,
                             "msgget": 186, "io_uring_setup": 425, "process_vm_readv": 270, "pidfd_getfd": 438,
                             "pidfd_open": 434, "pidfd_send_signal": 424}),
}


def _ins(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes:
    """The filter for this machine's architecture: ``struct sock_filter`` records, as bytes."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        raise RuntimeError(f"no seccomp filter for architecture {machine}")
    audit_arch, numbers = _ARCHES[machine]
    deny = _ERRNO | errno.EPERM
    rules: list[tuple[int, int]] = []  # (syscall number, action)
    for name in DENIED:
        if name in numbers:
            rules.append((numbers[name], deny))
    rules.append((numbers["clone3"], _ERRNO | errno.ENOSYS))

    body: list[bytes] = []
    body.append(_ins(_LD_W_ABS, 0, 0, 4))                 # A = arch
    body.append(_ins(_JEQ_K, 1, 0, audit_arch))           # right arch: skip the kill
    body.append(_ins(_RET_K, 0, 0, _KILL_PROCESS))
    body.append(_ins(_LD_W_ABS, 0, 0, 0))                 # A = syscall number
    if machine == "x86_64":                               # x32 ABI numbers: refuse
        body.append(_ins(_JGE_K, 0, 1, 0x40000000))
        body.append(_ins(_RET_K, 0, 0, deny))
    for number, action in rules:
        body.append(_ins(_JEQ_K, 0, 1, number))
        body.append(_ins(_RET_K, 0, 0, action))
    body.append(_ins(_JEQ_K, 0, 3, numbers["clone"]))    # clone: look at the flags
    body.append(_ins(_LD_W_ABS, 0, 0, 16))                # A = low 32 bits of args[0]
    body.append(_ins(_JSET_K, 1, 0, _CLONE_THREAD))
    body.append(_ins(_RET_K, 0, 0, deny))                 # a new process
    body.append(_ins(_RET_K, 0, 0, _ALLOW))               # a thread, or any other syscall
    return b"".join(body)
