"""`onggi system init|df|prune`: set up, measure, and clean up after anything.

prune is also the answer to "a CLI was killed half way": it finds kernel objects
and files that no live container accounts for (an overlay still mounted, a cgroup
with no container, a directory with no record, a name pointing nowhere) and
removes them, as well as stopped containers and dangling images, like Docker's.
"""
from __future__ import annotations

import os
import shutil

from .errors import ContainerNotFound


def init(rt) -> list[str]:
    """Create onggi's directories and the offline busybox base image."""
    for d in (rt.config.root, rt.config.run, rt.config.containers_dir, rt.config.names_dir):
        d.mkdir(parents=True, exist_ok=True)
    image = rt.images.ensure_base()
    return [f"onggi root: {rt.config.root}", f"base image: busybox:latest {image.id}"]


def _dir_size(path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
            except OSError:
                pass
    return total


def disk_usage(rt) -> dict:
    containers = rt.ps(all=True)
    in_use, in_use_layers = rt.images_in_use()
    images = rt.images.disk_usage(in_use, in_use_layers)
    sizes = [_dir_size(c.record.upper) for c in containers]
    stopped = [s for c, s in zip(containers, sizes) if c.state.status.value != "running"]
    return {"images": images,
            "containers": {"total": len(containers),
                           "active": sum(c.state.status.value == "running" for c in containers),
                           "size": sum(sizes), "reclaimable": sum(stopped)}}


def prune(rt) -> list[str]:
    from .container.container import Container
    done: list[str] = []
    live: set[str] = set()
    # 1. stopped containers, and records whose monitor died (cleaned fully).
    for record in rt.containers.list():
        c = Container(rt, record)
        if c.state.status.value == "running":
            live.add(record.id)
            continue
        c.remove(force=True)
        done.append(f"Deleted container: {record.id}")
    # 2. half-made container directories (a CLI killed during create).
    for cid in rt.containers.ids():
        if cid in live:
            continue
        with rt.containers.lock(cid):
            try:
                rt.containers.load(cid)
                continue
            except ContainerNotFound:
                pass
            path = rt.config.containers_dir / cid
            _unmount_under(rt, path)
            shutil.rmtree(path, ignore_errors=True)
            shutil.rmtree(rt.config.run_containers_dir / cid, ignore_errors=True)
            done.append(f"Deleted leftover directory: {path}")
    # 3. names that point at nothing.
    if rt.config.names_dir.exists():
        for name in os.listdir(rt.config.names_dir):
            link = rt.config.names_dir / name
            if not (rt.config.containers_dir / os.readlink(link) / "container.json").exists():
                link.unlink(missing_ok=True)
                done.append(f"Deleted stale name: {name}")
    # 4. cgroups under our parent that no live container owns.
    try:
        for name in rt.cgroups.names():
            if name not in live:
                cg = rt.cgroups.get(name)
                cg.kill(9)
                cg.destroy(timeout=5.0)
                done.append(f"Deleted cgroup: {cg.path}")
        # and spares a killed CLI's zygote left (runtime.container.zygote)
        done += [f"Deleted cgroup: {path}" for path in rt.cgroups.remove_stale_spares()]
    except OSError:
        pass
    # 5. overlay mounts under our containers dir that no live container owns.
    for cid, mountpoint in _our_mounts(rt):
        if cid not in live:
            from .rootfs import overlay
            overlay.unmount(rt.syscalls, mountpoint)
            done.append(f"Unmounted: {mountpoint}")
    # 6. removed containers' files left in the trash (a monitor killed while deleting;
    #    step 5 unmounted what was still mounted there), and run dirs for containers
    #    that are gone.
    if rt.config.trash_dir.exists():
        for name in os.listdir(rt.config.trash_dir):
            path = rt.config.trash_dir / name
            shutil.rmtree(path, ignore_errors=True)
            done.append(f"Deleted leftover directory: {path}")
    if rt.config.run_containers_dir.exists():
        for cid in os.listdir(rt.config.run_containers_dir):
            if not (rt.config.containers_dir / cid).exists():
                shutil.rmtree(rt.config.run_containers_dir / cid, ignore_errors=True)
    # 7. networks: veths with no container, stale leases.
    try:
        done += rt.networks.prune(live)
    except ImportError:
        pass
    # 8. dangling images and layers nothing references.
    in_use, in_use_layers = rt.images_in_use()
    done += rt.images.prune(in_use, in_use_layers)
    return done


def _our_mounts(rt):
    from .inspect import mounts as mountinfo
    prefixes = (str(rt.config.containers_dir) + "/", str(rt.config.trash_dir) + "/")
    for m in mountinfo.mountinfo("self", rt.config.proc):
        for prefix in prefixes:
            if m.mountpoint.startswith(prefix):
                cid = m.mountpoint[len(prefix):].split("/", 1)[0]
                yield cid, m.mountpoint


def _unmount_under(rt, path) -> None:
    from .inspect import mounts as mountinfo
    from .rootfs import overlay
    for m in reversed(mountinfo.mountinfo("self", rt.config.proc)):
        if m.mountpoint.startswith(str(path) + "/") or m.mountpoint == str(path):
            overlay.unmount(rt.syscalls, m.mountpoint)
