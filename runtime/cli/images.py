"""Image verbs: images, image (ls|inspect|rm|tag|history|prune), tag, rmi, history, save,
load, import."""
from __future__ import annotations

import sys

from . import output


def _runtime():
    from ..core import Runtime
    return Runtime()


def images_setup(p) -> None:
    p.add_argument("-a", "--all", action="store_true", help="show all images")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("repository", nargs="?", help="only images of this repository")


def images(args) -> int:
    rt = _runtime()
    rows = []
    for image in rt.list_images():
        names = image.tags or ["<none>:<none>"]
        for name in names:
            repo, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "<none>")
            if args.repository and repo != args.repository:
                continue
            image_id = image.id if args.no_trunc else image.short_id
            if args.quiet:
                print(image_id)
                continue
            rows.append([repo, tag, image_id, output.ago(image.created), output.human_size(image.size)])
    if not args.quiet:
        output.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows)
    return 0


def tag_setup(p) -> None:
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def tag(args) -> int:
    _runtime().images.tag(args.source, args.target)
    return 0


def rmi_setup(p) -> None:
    p.add_argument("-f", "--force", action="store_true", help="force removal of the image")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def rmi(args) -> int:
    from ..errors import OnggiError
    rt = _runtime()
    in_use, in_use_layers = rt.images_in_use()
    code = 0
    for ref in args.images:
        try:
            for line in rt.images.remove(ref, force=args.force, in_use=in_use,
                                         in_use_layers=in_use_layers):
                print(line)
        except OnggiError as e:
            print(f"onggi: {e.one_line()}", file=sys.stderr)
            code = 1
    return code


def history_setup(p) -> None:
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("image")


def history(args) -> int:
    rows = []
    for h in _runtime().images.history(args.image):
        image_id = h.get("id") or "<missing>"
        if image_id != "<missing>" and not args.no_trunc:
            image_id = image_id.removeprefix("sha256:")[:12]
        if args.quiet:
            print(image_id)
            continue
        created_by = h.get("created_by", "")
        rows.append([image_id, output.ago(h.get("created", "")),
                     created_by if args.no_trunc else output.truncate(created_by, 45),
                     output.human_size(h.get("size", 0)), h.get("comment", "")])
    if not args.quiet:
        output.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows)
    return 0


def save_setup(p) -> None:
    p.add_argument("-o", "--output", help="write to a file instead of STDOUT")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def save(args) -> int:
    from ..errors import InvalidArgument
    rt = _runtime()
    if args.output:
        rt.images.save(args.images, args.output)
        return 0
    if sys.stdout.isatty():
        raise InvalidArgument("cowardly refusing to save to a terminal", hint="use -o FILE or redirect")
    rt.images.save(args.images, sys.stdout.buffer)
    return 0


def load_setup(p) -> None:
    p.add_argument("-i", "--input", help="read from a tar archive file instead of STDIN")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")


def load(args) -> int:
    rt = _runtime()
    names = rt.images.load(args.input if args.input else sys.stdin.buffer)
    if not args.quiet:
        for name in names:
            print(f"Loaded image: {name}" if not name.startswith("sha256:") else f"Loaded image ID: {name}")
    return 0


def import_setup(p) -> None:
    p.add_argument("-c", "--change", action="append", default=[], help="apply a Dockerfile instruction")
    p.add_argument("-m", "--message", default="", help="commit message")
    p.add_argument("file", metavar="file|-")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")


def import_(args) -> int:
    from .containers import parse_changes
    rt = _runtime()
    source = sys.stdin.buffer if args.file == "-" else args.file
    image = rt.images.import_rootfs(source, args.reference, parse_changes(args.change) or None)
    print(image.id)
    return 0


def image_setup(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    for name, (setup, _run) in _IMAGE_SUB.items():
        setup(sub.add_parser(name, help=_IMAGE_HELP[name]))


def image(args) -> int:
    return _IMAGE_SUB[args.action][1](args)


def image_inspect_setup(p) -> None:
    p.add_argument("-f", "--format", help="print one field, e.g. '{{.Config.Cmd}}'")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def image_inspect(args) -> int:
    rt = _runtime()
    output.print_documents([rt.images.inspect(ref) for ref in args.images], args.format)
    return 0


def image_prune_setup(p) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")


def image_prune(args) -> int:
    rt = _runtime()
    in_use, in_use_layers = rt.images_in_use()
    for line in rt.images.prune(in_use, in_use_layers):
        print(line)
    return 0


_IMAGE_SUB = {
    "ls": (images_setup, images), "inspect": (image_inspect_setup, image_inspect),
    "rm": (rmi_setup, rmi), "tag": (tag_setup, tag), "history": (history_setup, history),
    "prune": (image_prune_setup, image_prune), "save": (save_setup, save),
    "load": (load_setup, load), "import": (import_setup, import_),
}
_IMAGE_HELP = {"ls": "list images", "inspect": "display detailed information on images",
               "rm": "remove images", "tag": "tag an image", "history": "show the history of an image",
               "prune": "remove dangling images", "save": "save images to a tar archive",
               "load": "load images from a tar archive", "import": "import a rootfs tarball"}

COMMANDS = {
    "images": (images_setup, images), "image": (image_setup, image), "tag": (tag_setup, tag),
    "rmi": (rmi_setup, rmi), "history": (history_setup, history), "save": (save_setup, save),
    "load": (load_setup, load), "import": (import_setup, import_),
}
