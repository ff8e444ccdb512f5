"""The simulated busybox:latest: the files of the offline base image, as data.

The real base image (``runtime/image/base.py``) is built from the host's static
busybox: one binary at ``/bin/busybox``, every applet hard-linked beside it in
``/bin``, buildroot's ``/etc/passwd`` and ``/etc/group``, the usual empty
directories. The simulation has no binary to run, so it carries the same layout
as data: Debian 12's busybox-static 1.35.0 applet list and binary size, so that
``ls /bin`` and the layer sizes in the diagrams read like the real thing.
"""
from __future__ import annotations

from runtime.image.base import DIRS, GROUP, PASSWD, PATH_ENV

VERSION = "1.35.0"
BANNER = "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."
BINARY_SIZE = 1_982_256
# Every file gets the package's build time, as the real base image does.
MTIME = 1683849600        # 2023-05-12

APPLETS = tuple("""
    [ [[ acpid adjtimex ar arch arp arping ascii ash awk base64 basename bc blkdiscard
    blockdev brctl bunzip2 bzcat bzip2 cal cat chgrp chmod chown chroot chvt clear cmp cp
    cpio crc32 crond crontab cttyhack cut date dc dd deallocvt depmod devmem df diff dirname
    dmesg dnsdomainname dos2unix dpkg dpkg-deb du dumpkmap dumpleases echo ed egrep env
    expand expr factor fallocate false fatattr fdisk fgrep find findfs fold free freeramdisk
    fsfreeze fstrim ftpget ftpput getopt getty grep groups gunzip gzip halt head hexdump
    hostid hostname httpd hwclock i2cdetect i2cdump i2cget i2cset i2ctransfer id ifconfig
    ifdown ifup init insmod ionice ip ipcalc ipneigh kill killall klogd last less link
    linux32 linux64 linuxrc ln loadfont loadkmap logger login logname logread losetup ls
    lsmod lsscsi lzcat lzma lzop md5sum mdev microcom mim mkdir mkdosfs mke2fs mkfifo mknod
    mkpasswd mkswap mktemp modinfo modprobe more mount mt mv nameif nc netstat nl nologin
    nproc nsenter nslookup nuke od openvt partprobe passwd paste patch pidof ping ping6
    pivot_root poweroff printf ps pwd rdate readlink realpath reboot renice reset resume rev
    rm rmdir rmmod route rpm rpm2cpio run-init run-parts sed seq setkeycodes setpriv setsid
    sh sha1sum sha256sum sha3sum sha512sum shred shuf sleep sort ssl_client start-stop-daemon
    stat strings stty su sulogin svc svok swapoff swapon switch_root sync sysctl
    syslogd tac tail tar taskset tc tee telnet telnetd test tftp time timeout top touch tr
    traceroute traceroute6 true truncate ts tty tunctl ubirename udhcpc udhcpd uevent umount
    uname uncompress unexpand uniq unix2dos unlink unlzma unshare unxz unzip uptime usleep
    uudecode uuencode vconfig vi w watch watchdog wc wget which who whoami xargs xxd xz
    xzcat yes zcat
""".split())


def layer() -> dict:
    """The base layer: path -> entry (see :mod:`runtime.sim.fs`)."""
    files = {"/" + path: {"k": "d", "m": mode, "t": MTIME} for path, mode in DIRS}
    files["/bin/busybox"] = {"k": "f", "m": 0o755, "s": BINARY_SIZE, "t": MTIME}
    for name in APPLETS:
        files[f"/bin/{name}"] = {"k": "f", "m": 0o755, "s": BINARY_SIZE, "t": MTIME, "h": "/bin/busybox"}
    files["/etc/passwd"] = {"k": "f", "m": 0o644, "t": MTIME, "d": PASSWD, "s": len(PASSWD)}
    files["/etc/group"] = {"k": "f", "m": 0o644, "t": MTIME, "d": GROUP, "s": len(GROUP)}
    return files


def config(created: str, diff_id: str) -> dict:
    """The image config, as base.build writes it."""
    return {"architecture": "amd64", "os": "linux", "created": created,
            "config": {"Env": [PATH_ENV], "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created,
                         "created_by": f"onggi: static busybox {VERSION} from the host, "
                                       "every applet hard-linked in /bin",
                         "comment": "built offline by onggi"}]}
