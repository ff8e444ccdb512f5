"""A real virtual machine beside a real container, for the containers-vs-VMs lesson.

What it is for: booting a tiny VM -- a Debian kernel and a busybox initramfs under
``qemu-system-x86_64`` -- and starting a busybox container at the same moment, then
putting side by side what each costs and sees: the time until it first speaks, the
memory it reserves, and ``uname -r`` (the VM runs its own kernel, the container
shares the host's).

* :mod:`.initramfs` builds the VM's initramfs offline from the host's static busybox
  (a ``newc`` cpio with an ``/init`` that prints one marker line and powers off).
* :mod:`.qemu` finds qemu and a kernel, probes whether KVM works (once, cached),
  boots the VM and always kills qemu when a boot times out or is cancelled.
* :mod:`.compare` runs both side by side, or returns a *modeled* comparison
  (labelled so) when this host has no qemu or no kernel.

What it never does: download anything (the kernel comes from Debian's
``linux-image-amd64``, busybox from ``busybox-static``), give the VM a disk or a
network, or leave a qemu process behind.
"""
