"""Live demonstrations for the lessons that are not a container's verb.

* :mod:`.chroot`: chroot(2) alone fences only the filesystem -- the same
  commands run in a chroot and in a container, side by side (the history lesson:
  chroot, FreeBSD Jail, Solaris Zones, LXC, Docker).

(The containers-vs-VMs comparison lives in :mod:`runtime.vm`, next to qemu.)

Each demo makes real kernel objects, returns what it saw as plain data for the
web or the CLI to show, and removes everything it made before it returns, also
when it fails. It never prints.
"""
