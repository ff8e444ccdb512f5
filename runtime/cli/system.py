"""`onggi system init|df|prune`."""
from __future__ import annotations

from . import output


def system_setup(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    sub.add_parser("init", help="create onggi's directories and the busybox base image (offline)")
    sub.add_parser("df", help="show onggi disk usage")
    prune = sub.add_parser("prune", help="remove stopped containers, dangling images and anything left behind")
    prune.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")


def system(args) -> int:
    from ..core import Runtime
    rt = Runtime()
    if args.action == "init":
        from ..system import init
        for line in init(rt):
            print(line)
        return 0
    if args.action == "df":
        usage = rt.system_df()
        im, co = usage["images"], usage["containers"]
        output.table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], [
            # Images.disk_usage counts images under "images" (not "total").
            ["Images", str(im["images"]), str(im["active"]), output.human_size(im["size"]),
             output.human_size(im["reclaimable"])],
            ["Containers", str(co["total"]), str(co["active"]), output.human_size(co["size"]),
             output.human_size(co["reclaimable"])],
        ])
        return 0
    if not args.force:
        import sys
        print("WARNING! This will remove all stopped containers, dangling images, and any\n"
              "mounts, cgroups and network devices that no running container owns.\n"
              "Are you sure you want to continue? [y/N] ", end="", flush=True)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    rt.check_host()
    lines = rt.system_prune()
    for line in lines:
        print(line)
    print(f"Total: {len(lines)} item(s) removed")
    return 0


COMMANDS = {"system": (system_setup, system)}
