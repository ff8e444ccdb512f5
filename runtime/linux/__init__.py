"""The only code that makes syscalls: ctypes, clone, mount, setns, capabilities.

Everything above this package asks a :class:`~runtime.linux.syscalls.Syscalls`
object (or the recording fake in tests). It never decides policy: which mounts a
container gets, or which capabilities, is decided in ``rootfs/`` and
``container/``; this package only knows how to ask the kernel.
"""
