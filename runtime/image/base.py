"""``busybox:latest`` made offline from the host's static busybox (Debian's busybox-static).

The image is laid out like the official Docker Hub busybox image: the one binary
at ``/bin/busybox`` with every applet hard-linked beside it in ``/bin``, the
buildroot skeleton's ``/etc/passwd`` and ``/etc/group``, and the empty directories
a shell expects. One uncompressed layer; config ``Cmd ["sh"]`` and the usual PATH.

It is reproducible: every member gets the busybox file's mtime (the Debian
package's build time, the same on every host that installed that package) and
uid/gid 0, and ``created`` is that same time, so the same busybox binary gives the
same layer, config and manifest digests on every machine.
"""
from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from runtime.errors import Unsupported
from runtime.image.layers import Entry, write_tree
from runtime.image.manifest import OCI_LAYER, descriptor, new_config, put_image
from runtime.image.store import BlobStore

NAME = "busybox:latest"
DEFAULT_BUSYBOX = Path("/bin/busybox")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# From the official image (buildroot's skeleton), so that `id nobody` and `su` work.
PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
"""
# (path, mode): the directories of the official image.
DIRS = (("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("home", 0o755), ("proc", 0o755),
        ("root", 0o700), ("sys", 0o755), ("tmp", 0o1777), ("usr", 0o755), ("usr/sbin", 0o755),
        ("var", 0o755), ("var/spool", 0o755), ("var/spool/mail", 0o755), ("var/www", 0o755))


def applets(busybox: Path) -> list[str]:
    """The applet names this busybox was built with.

    We run the binary because only it knows: the set is chosen at build time and
    differs between Debian's busybox and busybox-static and across versions.
    """
    out = _run(busybox, "--list")
    return sorted({line.strip() for line in out.splitlines()
                   if line.strip() and "/" not in line and line.strip() != "busybox"})


def version(busybox: Path) -> str:
    """"1.35.0" from the banner busybox prints ("BusyBox v1.35.0 (Debian ...) multi-call binary")."""
    match = re.search(r"BusyBox v(\S+)", _run(busybox, "--help", check=False))
    return match.group(1) if match else "unknown"


def _run(busybox: Path, arg: str, check: bool = True) -> str:
    try:
        done = subprocess.run([str(busybox), arg], capture_output=True, text=True, timeout=10,
                              check=check)
    except (OSError, subprocess.CalledProcessError) as e:
        raise Unsupported(f"cannot build the base image: running {busybox} {arg}: {e}",
                          hint="install Debian's busybox-static (apt-get install busybox-static)") from None
    return done.stdout + done.stderr


def entries(busybox: Path) -> list[Entry]:
    """Every member of the base layer."""
    result = [Entry(path, "dir", mode) for path, mode in DIRS]
    result.append(Entry("bin/busybox", "file", 0o755, source=busybox))
    result += [Entry(f"bin/{name}", "link", 0o755, target="bin/busybox")
               for name in applets(busybox)]
    result.append(Entry("etc/passwd", "file", 0o644, data=PASSWD.encode()))
    result.append(Entry("etc/group", "file", 0o644, data=GROUP.encode()))
    return result


def build(blobs: BlobStore, busybox: Path = DEFAULT_BUSYBOX) -> dict:
    """Store the base image's blobs; return its manifest descriptor (not yet tagged)."""
    busybox = Path(busybox)
    if not busybox.is_file():
        raise Unsupported(f"cannot build the base image: {busybox} does not exist",
                          hint="install Debian's busybox-static (apt-get install busybox-static)")
    mtime = int(os.stat(busybox).st_mtime)
    with blobs.writer() as w:
        write_tree(entries(busybox), w, mtime)
        layer_digest, layer_size = w.commit()
    created = datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    history = {"created": created,
               # No host path here: it would make the digests depend on where busybox is.
               "created_by": f"onggi: static busybox {version(busybox)} from the host, "
                             "every applet hard-linked in /bin",
               "comment": "built offline by onggi"}
    config = new_config(created, history, [str(layer_digest)],
                        {"Env": [PATH_ENV], "Cmd": ["sh"]})
    return put_image(blobs, config, [descriptor(OCI_LAYER, layer_digest, layer_size)])
