"""`onggi network create|ls|inspect|rm|connect|disconnect|prune`."""
from __future__ import annotations

import sys

from . import output


def network_setup(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    c = sub.add_parser("create", help="create a bridge network")
    c.add_argument("--subnet", help="subnet in CIDR format, e.g. 10.89.1.0/24 (default: a free /24)")
    c.add_argument("--gateway", help="IPv4 gateway for the subnet (default: its first address)")
    c.add_argument("-d", "--driver", default="bridge", help="driver to manage the network (only bridge)")
    c.add_argument("--label", action="append", default=[], help="set metadata on a network")
    c.add_argument("name")
    ls = sub.add_parser("ls", aliases=["list"], help="list networks")
    ls.add_argument("-q", "--quiet", action="store_true", help="only display network IDs")
    ls.add_argument("--no-trunc", action="store_true", help="do not truncate the output")
    i = sub.add_parser("inspect", help="display detailed information on one or more networks")
    i.add_argument("-f", "--format", help="print one field, e.g. '{{.IPAM.Config}}'")
    i.add_argument("names", nargs="+", metavar="NETWORK")
    rm = sub.add_parser("rm", aliases=["remove"], help="remove one or more networks")
    rm.add_argument("names", nargs="+", metavar="NETWORK")
    con = sub.add_parser("connect", help="connect a container to a network")
    con.add_argument("network")
    con.add_argument("container")
    dis = sub.add_parser("disconnect", help="disconnect a container from a network")
    dis.add_argument("-f", "--force", action="store_true", help="force the container to disconnect")
    dis.add_argument("network")
    dis.add_argument("container")
    pr = sub.add_parser("prune", help="remove all networks no running container uses")
    pr.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")


def network(args) -> int:
    from ..core import Runtime
    from ..errors import InvalidArgument, OnggiError
    rt = Runtime()
    nets = rt.networks
    action = {"list": "ls", "remove": "rm"}.get(args.action, args.action)
    if action == "ls":
        rows = []
        for n in nets.list():
            if args.quiet:
                print(n.id if args.no_trunc else n.short_id)
                continue
            rows.append([n.id if args.no_trunc else n.short_id, n.name, n.driver, "local"])
        if not args.quiet:
            output.table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows)
        return 0
    if action == "inspect":
        results, code = [], 0
        for ref in args.names:
            try:
                results.append(nets.inspect(ref))
            except OnggiError as e:
                print(f"onggi: {e.one_line()}", file=sys.stderr)
                code = 1
        output.print_documents(results, args.format)
        return code
    rt.check_host()
    if action == "create":
        if args.driver != "bridge":
            raise InvalidArgument(f"invalid driver '{args.driver}': onggi has only the bridge driver")
        labels = dict(label.partition("=")[::2] for label in args.label)
        net = nets.create(args.name, subnet=args.subnet, gateway=args.gateway, labels=labels)
        print(net.id)
        return 0
    if action == "rm":
        code = 0
        for ref in args.names:
            try:
                nets.remove(ref)
                print(ref)
            except OnggiError as e:
                print(f"onggi: {e.one_line()}", file=sys.stderr)
                code = e.exit_code
        return code
    if action in ("connect", "disconnect"):
        network = nets.get(args.network).name          # Docker names the network first
        if action == "connect":
            nets.connect(network, rt.container(args.container))
        else:
            nets.disconnect(network, rt.container(args.container), force=args.force)
        return 0
    if not args.force:
        print("WARNING! This will remove all custom networks not used by at least one container.\n"
              "Are you sure you want to continue? [y/N] ", end="", flush=True)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    removed = nets.prune_networks()
    if removed:
        print("Deleted Networks:")
        for name in removed:
            print(name)
    return 0


COMMANDS = {"network": (network_setup, network)}
