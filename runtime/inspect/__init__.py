"""Reading the kernel's truth: /proc/PID/ns, /proc/PID/mountinfo, /proc/PID/status.

Diagrams, step reports, ``inspect`` and ``top`` are drawn from here, never from
what the runtime believes it did. Every reader takes the proc root as a
parameter. Nothing here changes kernel state.
"""
