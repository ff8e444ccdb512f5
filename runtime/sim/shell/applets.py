"""The busybox programs the simulated shell can run, answering as busybox does in a container.

Each applet is ``name(call) -> exit status`` (see :class:`.interp.Call`): it reads
its arguments and input, writes its output, and asks the machine for what the
kernel would tell it (processes, interfaces, routes, mounts, memory). Output
formats follow busybox 1.35 as it answers inside an onggi container, so what a
learner sees in simulated mode reads like the real thing. An applet of the image
that is not here answers "this command is not available in simulated mode".
"""
from __future__ import annotations

import hashlib
import posixpath
import re
import time

from ..fs import DIR, FILE, LINK, norm
from . import net
from .interp import CantFork, RunsForever

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _flags(args: list[str], known: str) -> tuple[set[str], list[str]]:
    """Short flags (-la -n) and the rest; "--" ends the flags."""
    flags, rest = set(), []
    it = iter(args)
    for a in it:
        if a == "--":
            rest += list(it)
            break
        if a.startswith("-") and len(a) > 1 and all(ch in known for ch in a[1:]):
            flags.update(a[1:])
        else:
            rest.append(a)
    return flags, rest


def _read(c, name: str) -> str | None:
    """A file's text (or "-": the input); None (after saying so) when it cannot be read."""
    if name == "-":
        return c.stdin
    path = c.path(name)
    special = c.m.special_read(path)
    if special is not None:
        return special
    e = c.fs.lookup(path)
    if e is None:
        c.err(f"{c.argv[0]}: can't open '{name}': No such file or directory\n")
        return None
    if e["k"] == DIR:
        c.err(f"{c.argv[0]}: read error: Is a directory\n")
        return None
    data = e.get("d")
    if data is None:                       # only the size is known: a binary, a big file
        return "\x7fELF\x02\x01\x01" if path.startswith("/bin/") else "\0" * min(e.get("s", 0), 4096)
    return data


def _inputs(c, names: list[str]) -> tuple[list[str], int]:
    texts, status = [], 0
    for name in names or ["-"]:
        t = _read(c, name)
        if t is None:
            status = 1
        else:
            texts.append(t)
    return texts, status


# -- files ------------------------------------------------------------------------------------

def cat(c) -> int:
    _, names = _flags(c.args, "nuvetA")
    texts, status = _inputs(c, names)
    c.out("".join(texts))
    return status


def _mode_text(e: dict) -> str:
    kind = {DIR: "d", LINK: "l"}.get(e["k"], "-")
    mode = e.get("m", 0o644)
    bits = "".join(ch if mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
    if mode & 0o1000:
        bits = bits[:-1] + ("t" if mode & 1 else "T")
    return kind + bits


def _date_text(t: float) -> str:
    tm = time.gmtime(t)
    recent = time.time() - t < 180 * 86400
    return f"{MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} " + (f"{tm.tm_hour:02d}:{tm.tm_min:02d}" if recent
                                                          else f" {tm.tm_year}")


def ls(c) -> int:
    flags, names = _flags(c.args, "laA1dhFRt")
    status = 0
    long, show_all = "l" in flags, "a" in flags or "A" in flags
    targets = names or ["."]
    files, dirs = [], []
    for name in targets:
        path = c.path(name)
        listing = c.m.special_list(path)
        e = c.fs.lookup(path)
        link = c.m.special_link(path)
        if link is not None and listing is None and not long:
            listing = c.m.special_list(norm(link, posixpath.dirname(path)))     # /proc/self: ls follows it
        if e is None and listing is None and link is None and c.m.special_read(path) is None:
            c.err(f"ls: {name}: No such file or directory\n")
            status = 1
        elif (e is not None and e["k"] == DIR or listing is not None) and "d" not in flags and \
                not (link is not None and long and not name.endswith("/")):
            dirs.append((name, path, listing))
        else:
            files.append((name, path))
    lines = [_ls_line(c, name, path, long, "h" in flags) for name, path in sorted(files)]
    if lines:
        c.out("".join(lines))
    for i, (name, path, listing) in enumerate(dirs):
        entries = listing if listing is not None else c.fs.listdir(path)
        if not show_all:
            entries = [n for n in entries if not n.startswith(".")]
        if len(dirs) > 1 or files:
            c.out(("\n" if i or files else "") + f"{name}:\n")
        if long:
            total = sum((c.fs.lookup(norm(n, path)) or {}).get("s", 0) for n in entries) // 1024
            c.out(f"total {total}\n")
        c.out("".join(_ls_line(c, n, norm(n, path), long, "h" in flags) for n in entries))
    return status


def _ls_line(c, shown: str, path: str, long: bool, human: bool) -> str:
    if not long:
        return shown + "\n"
    e = c.fs.lookup(path)
    link = c.m.special_link(path)
    if e is None and link is not None:
        return f"lrwxrwxrwx    1 root     root             0 {_date_text(time.time())} {shown} -> {link}\n"
    if e is None:                    # /proc, /sys, /dev entries
        special = c.m.special_list(path) is not None
        return (f"{'dr-xr-xr-x' if special else '-r--r--r--'}    1 root     root             0 "
                f"{_date_text(time.time())} {shown}\n")
    size = e.get("s", 4096 if e["k"] == DIR else 0)
    size_text = _human(size) if human else str(size)
    target = f" -> {e['l']}" if e["k"] == LINK else ""
    return (f"{_mode_text(e)} {c.fs.nlink(path):4d} root     root     {size_text:>9} "
            f"{_date_text(e.get('t', 0))} {shown}{target}\n")


def _human(n: int) -> str:
    for unit in ("", "K", "M", "G", "T"):
        if n < 1024 or unit == "T":
            return f"{n:.1f}{unit}" if unit and n < 10 else f"{int(n)}{unit}"
        n /= 1024
    return str(n)


def readlink(c) -> int:
    """readlink [-f] LINK: a /proc link (ns/pid -> pid:[...]) or a link in the image."""
    flags, names = _flags(c.args, "fnsqv")
    status = 0
    for name in names:
        path = c.path(name)
        target = c.m.special_link(path)
        e = c.fs.lookup(path) if target is None else None
        if target is None and e is not None and e["k"] == LINK:
            target = e["l"]
        if target is None:
            status = 1                   # busybox says nothing for a file that is not a link
            continue
        if "f" in flags and not target.startswith("/") and ":[" not in target:
            target = norm(target, posixpath.dirname(path))
        c.out(target + "\n")
    return status


def mkdir(c) -> int:
    flags, names = _flags(c.args, "p")
    status = 0
    for name in names:
        path = c.path(name)
        if c.fs.exists(path):
            if "p" not in flags:
                c.err(f"mkdir: can't create directory '{name}': File exists\n")
                status = 1
            continue
        if not c.fs.is_dir(posixpath.dirname(path)) and "p" not in flags:
            c.err(f"mkdir: can't create directory '{name}': No such file or directory\n")
            status = 1
            continue
        c.fs.mkdir(path)
    return status


def rm(c) -> int:
    flags, names = _flags(c.args, "rRfi")
    status = 0
    for name in names:
        path = c.path(name)
        e = c.fs.lookup(path)
        if e is None:
            if "f" not in flags:
                c.err(f"rm: can't remove '{name}': No such file or directory\n")
                status = 1
            continue
        if path.startswith(("/proc", "/sys", "/dev")):
            c.err(f"rm: can't remove '{name}': Read-only file system\n")
            status = 1
            continue
        if e["k"] == DIR and not flags & {"r", "R"}:
            c.err(f"rm: '{name}' is a directory\n")
            status = 1
            continue
        c.fs.remove(path)
    return status


def rmdir(c) -> int:
    status = 0
    for name in c.args:
        path = c.path(name)
        if not c.fs.is_dir(path):
            c.err(f"rmdir: '{name}': No such file or directory\n")
            status = 1
        elif c.fs.listdir(path):
            c.err(f"rmdir: '{name}': Directory not empty\n")
            status = 1
        else:
            c.fs.remove(path)
    return status


def touch(c) -> int:
    _, names = _flags(c.args, "c")
    for name in names:
        path = c.path(name)
        if not c.fs.is_dir(posixpath.dirname(path)):
            c.err(f"touch: {name}: No such file or directory\n")
            return 1
        e = c.fs.lookup(path)
        if e is None:
            c.fs.write(path, "")
        elif e["k"] == FILE:
            c.fs.write(path, e.get("d"), size=None if e.get("d") is not None else e.get("s", 0))
    return 0


def cp(c) -> int:
    flags, names = _flags(c.args, "rRafp")
    if len(names) < 2:
        c.err("cp: missing destination file operand\n")
        return 1
    *sources, dest = names
    status = 0
    for src in sources:
        spath = c.path(src)
        e = c.fs.lookup(spath)
        if e is None:
            c.err(f"cp: can't stat '{src}': No such file or directory\n")
            status = 1
            continue
        dpath = c.path(dest)
        if c.fs.is_dir(dpath):
            dpath = norm(posixpath.basename(spath), dpath)
        if e["k"] == DIR:
            if not flags & {"r", "R", "a"}:
                c.err(f"cp: omitting directory '{src}'\n")
                status = 1
                continue
            c.fs.mkdir(dpath)
            for p in c.fs.walk(spath):
                q = dpath + p[len(spath):]
                x = c.fs.lookup(p)
                if x["k"] == DIR:
                    c.fs.mkdir(q)
                else:
                    c.fs.write(q, x.get("d"), size=x.get("s"), mode=x.get("m"))
        else:
            c.fs.write(dpath, e.get("d"), size=e.get("s"), mode=e.get("m"))
    return status


def mv(c) -> int:
    status = cp(type(c)(["cp", "-r"] + c.args, c.stdin, c.write, c.sh))
    if status == 0:
        for src in c.args[:-1]:
            c.fs.remove(c.path(src))
    return status


def ln(c) -> int:
    flags, names = _flags(c.args, "sf")
    if len(names) != 2:
        c.err("ln: usage: ln [-s] TARGET LINK\n")
        return 1
    target, link = names
    path = c.path(link)
    if c.fs.is_dir(path):
        path = norm(posixpath.basename(target), path)
    if "s" in flags:
        c.fs.symlink(target, path)
    else:
        e = c.fs.lookup(c.path(target))
        if e is None:
            c.err(f"ln: {target}: No such file or directory\n")
            return 1
        c.fs.write(path, e.get("d"), size=e.get("s"), mode=e.get("m"))
    return 0


def head(c) -> int:
    n, nbytes, names = 10, None, []
    args = list(c.args)
    while args:
        a = args.pop(0)
        if a == "-n" and args:
            n = int(args.pop(0))
        elif a == "-c" and args:
            nbytes = _size(args.pop(0))
        elif re.fullmatch(r"-\d+", a):
            n = int(a[1:])
        else:
            names.append(a)
    texts, status = _inputs(c, names)
    for t in texts:
        if nbytes is not None:
            c.out(t[:min(nbytes, 65536)])
        else:
            lines = t.splitlines(keepends=True)
            c.out("".join(lines[:n]))
    return status


def tail(c) -> int:
    n, names, follow = 10, [], False
    args = list(c.args)
    while args:
        a = args.pop(0)
        if a == "-n" and args:
            n = int(args.pop(0).lstrip("+"))
        elif a in ("-f", "-F"):
            follow = True
        elif re.fullmatch(r"-\d+", a):
            n = int(a[1:])
        else:
            names.append(a)
    if any(c.path(x) in ("/dev/zero", "/dev/urandom", "/dev/random") for x in names):
        raise RunsForever("busy")
    texts, status = _inputs(c, names)
    for t in texts:
        lines = t.splitlines(keepends=True)
        c.out("".join(lines[-n:] if n else []))
    if follow:
        c.m.sleep(float("inf"))
    return status


def wc(c) -> int:
    flags, names = _flags(c.args, "lwc")
    texts, status = _inputs(c, names)
    for name, t in zip(names or [""], texts):
        counts = {"l": t.count("\n"), "w": len(t.split()), "c": len(t.encode())}
        shown = [counts[k] for k in "lwc" if k in flags] or [counts["l"], counts["w"], counts["c"]]
        width = 1 if len(shown) == 1 and not names else 7
        c.out(" ".join(f"{x:>{width}}" for x in shown) + (f" {name}" if name else "") + "\n")
    return status


def grep(c) -> int:
    flags, rest = _flags(c.args, "vicqnEFwo")
    if not rest:
        c.err("grep: usage: grep [-vicqn] PATTERN [FILE]...\n")
        return 2
    pattern, names = rest[0], rest[1:]
    try:
        rx = re.compile(re.escape(pattern) if "F" in flags else _bre(pattern, "E" in flags),
                        re.IGNORECASE if "i" in flags else 0)
    except re.error:
        c.err(f"grep: bad regex '{pattern}'\n")
        return 2
    texts, status = _inputs(c, names)
    found = 0
    for name, t in zip(names or [""], texts):
        for i, line in enumerate(t.splitlines(), 1):
            hit = bool(rx.search(line)) != ("v" in flags)
            if hit:
                found += 1
                if not flags & {"q", "c"}:
                    prefix = (f"{name}:" if len(names) > 1 else "") + (f"{i}:" if "n" in flags else "")
                    c.out(prefix + line + "\n")
    if "c" in flags:
        c.out(f"{found}\n")
    return (0 if found else 1) if status == 0 else 2


def _bre(pattern: str, extended: bool) -> str:
    """A grep pattern as a Python regex (basic regex: \\| and \\+ are the special ones)."""
    if extended:
        return pattern
    return pattern.replace("\\|", "|").replace("\\+", "+").replace("\\?", "?")


def sort(c) -> int:
    flags, names = _flags(c.args, "rnu")
    texts, status = _inputs(c, names)
    lines = "".join(texts).splitlines()
    key = (lambda s: float(re.match(r"\s*(-?\d*\.?\d*)", s).group(1) or 0)) if "n" in flags else None
    lines.sort(key=key, reverse="r" in flags)
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    c.out("".join(line + "\n" for line in lines))
    return status


def uniq(c) -> int:
    flags, names = _flags(c.args, "c")
    texts, status = _inputs(c, names)
    out, prev, count = [], None, 0
    for line in "".join(texts).splitlines() + [None]:
        if line != prev and prev is not None:
            out.append((f"{count:7d} " if "c" in flags else "") + prev + "\n")
            count = 0
        prev, count = line, count + 1
    c.out("".join(out))
    return status


def seq(c) -> int:
    nums = [float(a) if "." in a else int(a) for a in c.args if re.fullmatch(r"-?\d+(\.\d+)?", a)]
    if not nums:
        c.err("seq: usage: seq [FIRST [INC]] LAST\n")
        return 1
    first, inc, last = (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 \
        else tuple(nums[:3])
    out, x = [], first
    while (inc > 0 and x <= last) or (inc < 0 and x >= last):
        out.append(f"{x}\n")
        x += inc
        if len(out) > 100000:
            break
    c.out("".join(out))
    return 0


def yes(c) -> int:
    if c.piped:                        # whoever reads stops at some point (head)
        c.out(((" ".join(c.args) or "y") + "\n") * 1000)
        return 0
    raise RunsForever("busy")


def tee(c) -> int:
    flags, names = _flags(c.args, "a")
    for name in names:
        c.fs.write(c.path(name), c.stdin, append="a" in flags)
    c.out(c.stdin)
    return 0


def _size(text: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)[bB]?", text)
    if not m:
        return 0
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]


def dd(c) -> int:
    opts = dict(a.split("=", 1) for a in c.args if "=" in a)
    bs, count = _size(opts.get("bs", "512")), opts.get("count")
    source = opts.get("if")
    device = source is not None and c.path(source) in ("/dev/zero", "/dev/urandom", "/dev/random")
    if device and count is None:
        raise RunsForever("busy")                 # an endless device, copied until killed
    if device:
        data, size = None, bs * int(count)        # the bytes are not kept, only how many
    else:
        data = _read(c, source) if source else c.stdin
        if data is None:
            return 1
        size = len(data.encode())
        if count is not None:
            size = min(size, bs * int(count))
            data = data.encode()[:size].decode(errors="replace")
    blocks = -(-size // bs) if bs else 0
    target = opts.get("of")
    if target and c.path(target) != "/dev/null":
        c.fs.write(c.path(target), data, size=size, mode=0o644)
    elif not target:
        c.out(data if data is not None else "\0" * min(size, 4096))
    # dd's own report, on stderr, in busybox's words
    seconds = max(size / 400e6, 0.001)
    c.err(f"{blocks}+0 records in\n{blocks}+0 records out\n"
          f"{size} bytes ({_dd_size(size)}) copied, {seconds:.6f} seconds, {_dd_size(size / seconds)}/s\n")
    return 0


def _dd_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.1f}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1000
    return str(n)


def _digest(c, algo: str) -> int:
    _, names = _flags(c.args, "bct")
    status = 0
    for name in names or ["-"]:
        path = c.path(name) if name != "-" else None
        e = c.fs.lookup(path) if path else None
        if e is not None and e.get("d") is None and e["k"] == FILE:
            # Only the size is known: a stable stand-in, the same for the same file.
            raw = f"{path}:{e.get('s', 0)}:{e.get('t', 0)}".encode()
        else:
            t = _read(c, name)
            if t is None:
                status = 1
                continue
            raw = t.encode("latin-1", errors="replace") if "\0" in t else t.encode()
        c.out(f"{hashlib.new(algo, raw).hexdigest()}  {name}\n")
    return status


def md5sum(c) -> int:
    return _digest(c, "md5")


def sha1sum(c) -> int:
    return _digest(c, "sha1")


def sha256sum(c) -> int:
    return _digest(c, "sha256")


def sha512sum(c) -> int:
    return _digest(c, "sha512")


def basename(c) -> int:
    if not c.args:
        return 1
    name = posixpath.basename(c.args[0].rstrip("/")) or "/"
    if len(c.args) > 1 and name.endswith(c.args[1]):
        name = name[:-len(c.args[1])]
    c.out(name + "\n")
    return 0


def dirname(c) -> int:
    if not c.args:
        return 1
    c.out((posixpath.dirname(c.args[0].rstrip("/")) or ".") + "\n")
    return 0


def find(c) -> int:
    args = list(c.args)
    roots = []
    while args and not args[0].startswith("-"):
        roots.append(args.pop(0))
    pattern = kind = None
    while args:
        a = args.pop(0)
        if a == "-name" and args:
            pattern = args.pop(0)
        elif a == "-type" and args:
            kind = args.pop(0)
    import fnmatch
    for root in roots or ["."]:
        base = c.path(root)
        for p in [base] + c.fs.walk(base):
            e = c.fs.lookup(p)
            if pattern and not fnmatch.fnmatchcase(posixpath.basename(p), pattern):
                continue
            if kind and (e or {}).get("k") != {"f": FILE, "d": DIR, "l": LINK}.get(kind):
                continue
            shown = root.rstrip("/") + p[len(base):] if root != "/" else p
            c.out((shown or "/") + "\n")
    return 0


def du(c) -> int:
    flags, names = _flags(c.args, "shk")
    for name in names or ["."]:
        base = c.path(name)
        total = sum((c.fs.lookup(p) or {}).get("s", 0) for p in [base] + c.fs.walk(base)) // 1024
        c.out(f"{_human(total * 1024) if 'h' in flags else total}\t{name}\n")
    return 0


def stat(c) -> int:
    for name in c.args:
        e = c.fs.lookup(c.path(name))
        if e is None:
            c.err(f"stat: can't stat '{name}': No such file or directory\n")
            return 1
        kind = {DIR: "directory", LINK: "symbolic link"}.get(e["k"], "regular file")
        c.out(f"  File: {name}\n  Size: {e.get('s', 0):<10}\tBlocks: {(e.get('s', 0) + 511) // 512:<10} "
              f"IO Block: 4096   {kind}\nAccess: ({e.get('m', 0):04o}/{_mode_text(e)})  "
              f"Uid: (    0/    root)   Gid: (    0/    root)\n")
    return 0


# -- who and where ---------------------------------------------------------------------------

def hostname(c) -> int:
    flags, names = _flags(c.args, "sfid")
    if "i" in flags:
        return net.hostname_address(c)
    if "d" in flags:
        return 0                        # no domain: busybox prints nothing at all
    if names:
        problem = c.m.sethostname(names[0])
        if problem:
            c.err(f"hostname: sethostname: {problem}\n")
            return 1
        return 0
    c.out(c.m.hostname + "\n")
    return 0


def uname(c) -> int:
    flags, _ = _flags(c.args, "asnrvmpio")
    u = c.m.uname()
    if "a" in flags:
        c.out(f"{u['sysname']} {c.m.hostname} {u['release']} {u['version']} {u['machine']} GNU/Linux\n")
        return 0
    order = (("s", u["sysname"]), ("n", c.m.hostname), ("r", u["release"]), ("v", u["version"]),
             ("m", u["machine"]), ("o", "GNU/Linux"))
    shown = [v for k, v in order if k in flags] or [u["sysname"]]
    c.out(" ".join(shown) + "\n")
    return 0


def id_(c) -> int:
    c.out("uid=0(root) gid=0(root) groups=10(wheel)\n")
    return 0


def whoami(c) -> int:
    c.out("root\n")
    return 0


def env(c) -> int:
    exported = {k: v for k, v in c.sh.vars.items() if k in c.sh.exported}
    c.out("".join(f"{k}={v}\n" for k, v in exported.items()))
    return 0


def printenv(c) -> int:
    if not c.args:
        return env(c)
    status = 0
    for name in c.args:
        if name in c.sh.vars:
            c.out(c.sh.vars[name] + "\n")
        else:
            status = 1
    return status


def date(c) -> int:
    t = c.m.now()
    fmt = next((a[1:] for a in c.args if a.startswith("+")), None)
    if fmt:
        c.out(time.strftime(fmt, time.gmtime(t)) + "\n")
    else:
        c.out(time.strftime("%a %b %e %H:%M:%S UTC %Y", time.gmtime(t)) + "\n")
    return 0


def which(c) -> int:
    status = 0
    for name in c.args:
        path = c.sh.find_program(name)
        if path:
            c.out(path + "\n")
        else:
            status = 1
    return status


def nproc(c) -> int:
    c.out(f"{c.m.ncpu()}\n")
    return 0


def uptime(c) -> int:
    # busybox: " 13:54:38 up  6:09,  0 users,  load average: ..." ("up 2 days,  1:05", "up 5 min").
    up = int(c.m.uptime())
    now = time.gmtime(c.m.now())
    days, hours, mins = up // 86400, up // 3600 % 24, up // 60 % 60
    since = f"{days} day{'s' if days != 1 else ''}, " if days else ""
    since += f"{hours:2d}:{mins:02d}" if hours else f"{mins} min"
    c.out(f" {now.tm_hour:02d}:{now.tm_min:02d}:{now.tm_sec:02d} up {since},  "
          f"0 users,  load average: {c.m.load():.2f}, {c.m.load():.2f}, {c.m.load():.2f}\n")
    return 0


def free(c) -> int:
    flags, _ = _flags(c.args, "mhkgb")
    mem = c.m.memory()
    div = 1 << 20 if "m" in flags else 1 << 30 if "g" in flags else 1 if "b" in flags else 1024
    col = lambda n: f"{n // div:>12}"       # noqa: E731
    c.out("              total        used        free      shared  buff/cache   available\n"
          f"Mem:   {col(mem['total'])}{col(mem['used'])}{col(mem['free'])}{col(mem['shared'])}"
          f"{col(mem['cache'])}{col(mem['available'])}\nSwap:  {col(0)}{col(0)}{col(0)}\n")
    return 0


def ps(c) -> int:
    c.out("PID   USER     COMMAND\n")
    for p in c.m.procs():
        c.out(f"{p['pid']:5d} root     {p['cmd']}\n")
    return 0


def _top_count(args: list[str]) -> int | None:
    """top's -n COUNT (also -n1, -bn1): how many screens before it exits (None: until Ctrl-C)."""
    for i, a in enumerate(args):
        if a.startswith("-") and "n" in a:
            value = a[a.index("n") + 1:] or (args[i + 1] if i + 1 < len(args) else "")
            return int(value) if value.isdigit() else None
    return None


def top(c) -> int:
    count = _top_count(c.args)
    mem = c.m.memory()
    procs = c.m.procs()
    usr = c.m.cpu_percent()
    c.out(f"Mem: {mem['used'] // 1024}K used, {mem['free'] // 1024}K free, {mem['shared'] // 1024}K shrd, "
          f"0K buff, {mem['cache'] // 1024}K cached\n"
          f"CPU:{usr:4.0f}% usr   0% sys   0% nic{100 - usr:4.0f}% idle   0% io   0% irq   0% sirq\n"
          f"Load average: {c.m.load():.2f} {c.m.load():.2f} {c.m.load():.2f} 1/{len(procs)} {procs[-1]['pid']}\n"
          "  PID  PPID USER     STAT   VSZ %VSZ %CPU COMMAND\n")
    for p in procs:
        c.out(f"{p['pid']:5d} {p.get('ppid', 0):5d} root     {p.get('stat', 'S'):<4}{2268:6d}   0% "
              f"{p.get('cpu', 0):3.0f}% {p['cmd']}\n")
    if count is None or count > 1:
        raise RunsForever("idle")       # it redraws every few seconds until Ctrl-C (or its -n)
    return 0


# -- the kernel's views: mounts, disks, the network --------------------------------------------

def mount(c) -> int:
    if c.args:
        c.err("mount: permission denied (are you root?)\n")
        return 255
    for m in c.m.mounts():
        c.out(f"{m['source']} on {m['mountpoint']} type {m['fstype']} ({m['options']})\n")
    return 0


def df(c) -> int:
    flags, _ = _flags(c.args, "hkmT")
    c.out("Filesystem                Size      Used Available Use% Mounted on\n" if "h" in flags else
          "Filesystem           1K-blocks      Used Available Use% Mounted on\n")
    for m in c.m.mounts():
        if m["fstype"] not in ("overlay", "tmpfs", "ext4"):
            continue
        size, used = m.get("size", 64 << 20), m.get("used", 0)
        avail = size - used
        pct = f"{used * 100 // size if size else 0}%"
        if "h" in flags:
            c.out(f"{m['source']:<20} {_human(size):>9} {_human(used):>9} {_human(avail):>9} {pct:>4} "
                  f"{m['mountpoint']}\n")
        else:
            c.out(f"{m['source']:<20} {size // 1024:>9} {used // 1024:>9} {avail // 1024:>9} {pct:>4} "
                  f"{m['mountpoint']}\n")
    return 0


def ip(c) -> int:
    args = [a for a in c.args if a not in ("-4", "-6", "-o", "-br")]
    obj = args[0] if args else ""
    what = next((k for k in ("address", "link", "route") if obj and k.startswith(obj)), None)
    if obj in ("a", "addr"):
        what = "address"
    if what is None:
        c.err("Usage: ip [OPTIONS] address|route|link|neigh|rule [ARGS]\n" if obj else
              "BusyBox v1.35.0 multi-call binary.\n\nUsage: ip [OPTIONS] address|route|link|tunnel|neigh|rule [ARGS]\n")
        return 1
    if len(args) > 1 and args[1] not in ("show", "list", "ls", "s", "l"):
        c.err("ip: RTNETLINK answers: Operation not permitted\n")
        return 2
    if what == "route":
        for r in c.m.routes():
            if r["dst"] == "default":
                c.out(f"default via {r['gateway']} dev {r['dev']} \n")
            else:
                src = f"  src {r['src']}" if r.get("src") else ""
                c.out(f"{r['dst']} dev {r['dev']} scope link{src} \n")
        return 0
    for i in c.m.interfaces():
        lo = i["name"] == "lo"
        name = i["name"] + (f"@if{i['peer_ifindex']}" if i.get("peer_ifindex") else "")
        flags = "<LOOPBACK,UP,LOWER_UP>" if lo else \
            "<BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN>" if i.get("peer_ifindex") else "<BROADCAST,MULTICAST,UP,LOWER_UP>"
        mtu = 65536 if lo else 1500
        c.out(f"{i['ifindex']}: {name}: {flags} mtu {mtu} qdisc noqueue qlen 1000\n")
        kind = "loopback" if lo else "ether"
        brd = "00:00:00:00:00:00" if lo else "ff:ff:ff:ff:ff:ff"
        c.out(f"    link/{kind} {i['mac']} brd {brd}\n")
        if what == "address":
            for a in ([] if "-6" in c.args else i.get("addresses", [])):
                if lo:
                    c.out(f"    inet {a} scope host lo\n       valid_lft forever preferred_lft forever\n")
                else:
                    c.out(f"    inet {a} brd {_broadcast(a)} scope global {i['name']}\n"
                          "       valid_lft forever preferred_lft forever\n")
            # IPv6 is on in a container's netns too: ::1 on lo, a link-local fe80:: on each link.
            inet6 = "::1/128 scope host" if lo else f"{net.link_local(i['mac'])}/64 scope link"
            if "-4" not in c.args:
                c.out(f"    inet6 {inet6} \n       valid_lft forever preferred_lft forever\n")
    return 0


def _broadcast(cidr: str) -> str:
    import ipaddress
    return str(ipaddress.IPv4Interface(cidr).network.broadcast_address)


def ping(c) -> int:
    count, rest = 4, []
    args = list(c.args)
    while args:
        a = args.pop(0)
        if a == "-c" and args:
            count = int(args.pop(0))
        elif a in ("-W", "-w", "-i", "-s") and args:
            args.pop(0)
        elif not a.startswith("-"):
            rest.append(a)
    if not rest:
        c.err("BusyBox v1.35.0 multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n")
        return 1
    host = rest[0]
    address = c.m.resolve(host)
    if address is None:
        c.err(f"ping: bad address '{host}'\n")
        return 1
    c.out(f"PING {host} ({address}): 56 data bytes\n")
    rtt = c.m.ping(address)
    received = 0
    for seq_no in range(count):
        if rtt is None:
            c.m.sleep(1)
            continue
        c.out(f"64 bytes from {address}: seq={seq_no} ttl=64 time={rtt:.3f} ms\n")
        received += 1
        if seq_no < count - 1:
            c.m.sleep(1)
    loss = 100 - received * 100 // count
    c.out(f"\n--- {host} ping statistics ---\n{count} packets transmitted, {received} packets received, "
          f"{loss}% packet loss\n")
    if received:
        c.out(f"round-trip min/avg/max = {rtt:.3f}/{rtt:.3f}/{rtt:.3f} ms\n")
    return 0 if received else 1


REASONS = {200: "OK", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}


def wget(c) -> int:
    args = list(c.args)
    quiet, target, headers, urls, show_headers = False, None, {}, [], False
    while args:
        a = args.pop(0)
        if a in ("-T", "-t", "-Y", "-U", "-P", "--user-agent", "-e") and args:
            args.pop(0)                     # options with a value (timeout, tries, proxy...)
        elif a == "-S":
            show_headers = True
        elif a in ("-q", "-qO-"):
            quiet = True
            if a == "-qO-":
                target = "-"
        elif a == "-O" and args:
            target = args.pop(0)
        elif a.startswith("-O"):
            target = a[2:]
        elif a == "--header" and args:
            name, _, value = args.pop(0).partition(":")
            headers[name.strip().lower()] = value.strip()
        elif a.startswith("-"):
            continue
        else:
            urls.append(a)
    if not urls:
        c.err("BusyBox v1.35.0 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...\n")
        return 1
    url = urls[0]
    host = url.split("://", 1)[-1].split("/")[0]
    name, _, port = host.partition(":")
    address = c.m.resolve(name)
    if not quiet and address is not None:
        c.err(f"Connecting to {host} ({address}:{port or 80})\n")
    status, body, problem = c.m.http_get(url, headers)
    if problem:
        c.err(f"wget: {problem}\n")
        return 1
    if show_headers:
        c.err(f"  HTTP/1.1 {status} {REASONS.get(status, '')}\n")
    if status != 200:
        c.err(f"wget: server returned error: HTTP/1.1 {status} {REASONS.get(status, '')}\n")
        return 1
    saved = target or posixpath.basename(url.split("://", 1)[-1].partition("/")[2].rstrip("/")) or "index.html"
    if not quiet:
        c.err("writing to stdout\n" if saved == "-" else f"saving to '{saved}'\n")
    if saved == "-":
        c.out(body)
    else:
        c.fs.write(c.path(saved), body)
    if not quiet:                  # busybox's progress bar, finished at once, and its last word
        size = len(body.encode())
        c.err(f"{posixpath.basename(saved):<20} 100% |{'*' * 32}| {size:5d}  0:00:00 ETA\n"
              + ("written to stdout\n" if saved == "-" else f"'{saved}' saved\n"))
    return 0


def httpd(c) -> int:
    """busybox httpd: it listens on -p PORT (80) serving -h HOME (the current directory); with -f
    it serves in the foreground, so the container keeps running; without it, it forks into the
    background, and a container whose PID 1 it was ends (taking the server with it)."""
    from ..httpd import parse_args
    port, home, foreground = parse_args(list(c.args), c.sh.cwd)
    if foreground:
        c.m.listen(port, home)
        c.m.sleep(float("inf"))
        return 0
    try:
        c.m.spawn(["httpd", "-f", *c.args], "idle")
    except CantFork:
        c.err("httpd: fork: Resource temporarily unavailable\n")
        return 1
    c.m.listen(port, home)
    return 0


def sh(c) -> int:
    """sh -c 'script' [name args...], or sh reading a script from its input."""
    from .interp import Out
    args = list(c.args)
    if args and args[0] == "-c":
        if len(args) < 2:
            c.err("sh: -c requires an argument\n")
            return 2
        sub = c.sh._clone()
        sub.name = "sh"
        sub.positional = args[3:] if len(args) > 3 else []
        return sub.run(args[1], Out(sink=c.write), c.stdin)
    if args:
        text = _read(c, args[0])
        if text is None:
            return 127
        return c.sh._clone().run(text, Out(sink=c.write), c.stdin)
    return c.sh._clone().run(c.stdin, Out(sink=c.write), "")


def init(c) -> int:
    """busybox init as a container's PID 1 (a "system container", as LXC runs them): it reads
    /etc/inittab (``id:runlevel:action:process``), runs the sysinit/wait/once entries, starts
    every respawn entry in the background, and then waits for ever."""
    from .interp import Out
    table = c.fs.read(c.path("/etc/inittab")) or ""
    for line in table.splitlines():
        fields = line.split(":", 3)
        if line.lstrip().startswith("#") or len(fields) != 4 or not fields[3].strip():
            continue
        action, process = fields[2], fields[3].strip()
        script = f"{process} &" if action in ("respawn", "once", "askfirst") else process
        c.sh._clone().run(script, Out(sink=c.write), "")
    c.m.sleep(float("inf"))
    return 0


def nslookup(c) -> int:
    """busybox nslookup asks the DNS server of /etc/resolv.conf and never reads /etc/hosts, where
    onggi writes the names of a network's containers (lesson 9 says so): the simulated host's
    server knows none of them, nor any other name (a classroom may well be offline)."""
    import ipaddress
    names = [a for a in c.args if not a.startswith("-")]
    if not names:
        c.err("BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.\n\n"
              "Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n")
        return 1
    resolv = c.m.special_read("/etc/resolv.conf") or ""
    server = names[1] if len(names) > 1 else next(
        (line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver ")), "127.0.0.1")
    c.out(f"Server:\t\t{server}\nAddress:\t{server}:53\n\n")
    try:
        query, asked = ipaddress.ip_address(names[0]).reverse_pointer, 1       # a PTR query
    except ValueError:
        query, asked = names[0], 2                                             # A and AAAA
    c.out(f"** server can't find {query}: NXDOMAIN\n\n" * asked)
    return 1


def true_(c) -> int:
    return 0


def false_(c) -> int:
    return 1


APPLETS = {
    "cat": cat, "ls": ls, "readlink": readlink, "mkdir": mkdir, "rm": rm, "rmdir": rmdir, "touch": touch, "cp": cp,
    "mv": mv, "ln": ln, "head": head, "tail": tail, "wc": wc, "grep": grep, "egrep": grep,
    "fgrep": grep, "sort": sort, "uniq": uniq, "seq": seq, "yes": yes, "tee": tee, "dd": dd,
    "md5sum": md5sum, "sha1sum": sha1sum, "sha256sum": sha256sum, "sha512sum": sha512sum,
    "basename": basename, "dirname": dirname, "find": find, "du": du, "stat": stat,
    "hostname": hostname, "uname": uname, "id": id_, "whoami": whoami, "env": env,
    "printenv": printenv, "date": date, "which": which, "nproc": nproc, "uptime": uptime,
    "free": free, "ps": ps, "top": top, "mount": mount, "df": df, "ip": ip, "ifconfig": net.ifconfig, "route": net.route, "netstat": net.netstat,
    "ping": ping, "wget": wget, "httpd": httpd, "init": init, "sh": sh, "ash": sh, "nslookup": nslookup, "true": true_,
    "false": false_,
}
