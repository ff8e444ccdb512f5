"""Containers on disk: one directory each, names reserved atomically, state guarded.

``ONGGI_ROOT/containers/<id>/``::

    container.json   written once at create: name, image, spec, resolved process
    config.json      the OCI runtime spec (for people to read; see spec.to_oci)
    state.json       status, pid, exit code, times; replaced atomically (rename)
    init/            Docker's "init layer": empty mount points (etc/hosts, proc...)
                     stacked on the image, so that they never show in diff or commit
    upper/ work/     the overlay's writable layer and its scratch dir
    merged/          the overlay mount point while running
    container.log    the output, one JSON object per line (Docker's json-file)
    hostname hosts resolv.conf   bind-mounted into the container's /etc

A name is reserved by creating the symlink ``names/<name> -> <id>``: symlink(2)
fails if it exists, so two CLIs can never take the same name, with no lock.
The monitor holds ``ONGGI_RUN/containers/<id>/monitor.lock`` (flock) for its whole
life: a free lock means no monitor, whatever state.json says.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import secrets
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import ContainerNotFound, InvalidArgument, NameInUse
from ..files import locked, write_json
from .spec import ContainerSpec, Process
from .state import State, Status

NAME_MAX = 255           # a file name's limit: each name is a symlink in names/
_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass
class Record:
    id: str
    name: str
    created: str
    image: str           # as the user named it
    image_id: str
    spec: ContainerSpec
    process: Process
    layers: list[str]    # unpacked layer dirs, lowest first
    dir: Path
    run_dir: Path

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def init(self) -> Path:
        return self.dir / "init"

    @property
    def lower_dirs(self) -> list[str]:
        """The overlay's lower layers, lowest first: the image's, then the init layer."""
        return list(self.layers) + [str(self.init)]

    @property
    def upper(self) -> Path:
        return self.dir / "upper"

    @property
    def work(self) -> Path:
        return self.dir / "work"

    @property
    def merged(self) -> Path:
        return self.dir / "merged"

    @property
    def log_path(self) -> Path:
        return self.dir / "container.log"

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    @property
    def monitor_lock(self) -> Path:
        return self.run_dir / "monitor.lock"

    # -- state -------------------------------------------------------------------
    def load_state(self) -> State:
        try:
            return State.from_dict(json.loads(self.state_path.read_text()))
        except FileNotFoundError:
            return State(status=Status.REMOVING)
        except ValueError:
            return State(status=Status.EXITED, exit_code=255, error="state.json is unreadable")

    def save_state(self, state: State) -> None:
        write_json(self.state_path, state.to_dict())

    def monitor_alive(self) -> bool:
        """True while a monitor holds monitor.lock (a shared probe never blocks it for long)."""
        try:
            fd = os.open(self.monitor_lock, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def current_state(self) -> State:
        """state.json, corrected by the truth: 'running' with no monitor is not running."""
        state = self.load_state()
        if state.status is Status.RUNNING and not self.monitor_alive():
            state.status = Status.EXITED
            if state.exit_code is None:
                state.exit_code = 255
                state.error = state.error or "its monitor died (killed?); run 'onggi rm -f' to clean up"
        return state

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "created": self.created, "image": self.image,
                "image_id": self.image_id, "spec": self.spec.to_dict(),
                "process": {"args": list(self.process.args), "env": list(self.process.env),
                            "cwd": self.process.cwd, "user": self.process.user,
                            "hostname": self.process.hostname, "tty": self.process.tty},
                "layers": list(self.layers)}


class ContainerStore:
    """Finds, creates and removes container records. No kernel objects here."""

    def __init__(self, config: Config):
        self.config = config

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(32)

    def create(self, record_fields: dict, *, name: str | None, oci_config: dict,
               etc_files: dict[str, str]) -> Record:
        """Reserve the name, then make the directory; undo both if anything fails."""
        cid = record_fields["id"]
        name = name or self._random_name()
        if not set(name) <= _NAME_OK or not name[0].isalnum():
            raise InvalidArgument(f"invalid container name '{name}': use letters, digits, _ . -, "
                                  "starting with a letter or digit")
        if len(name) > NAME_MAX:
            # The name is a file under names/: longer than a file name may be, it
            # would fail as an unexpected OSError after the id was chosen.
            raise InvalidArgument(f"invalid container name '{name[:20]}…': longer than {NAME_MAX} "
                                  "characters", hint="choose a shorter --name")
        self.config.names_dir.mkdir(parents=True, exist_ok=True)
        link = self.config.names_dir / name
        try:
            os.symlink(cid, link)
        except FileExistsError:
            other = os.readlink(link)
            raise NameInUse(f'the container name "/{name}" is already in use by container '
                            f'"{other[:12]}"') from None
        cdir = self.config.containers_dir / cid
        try:
            record = Record(name=name, dir=cdir, run_dir=self.config.run_containers_dir / cid,
                            **record_fields)
            os.makedirs(cdir)
            for sub in ("upper", "work", "merged"):
                os.mkdir(cdir / sub)
            _make_init_layer(cdir / "init", etc_files)
            for fname, text in etc_files.items():
                (cdir / fname).write_text(text)
            write_json(cdir / "config.json", oci_config)
            write_json(cdir / "container.json", record.to_dict())
            record.save_state(State(status=Status.CREATED))
            return record
        except BaseException:
            shutil.rmtree(cdir, ignore_errors=True)
            link.unlink(missing_ok=True)
            raise

    def load(self, cid: str) -> Record:
        cdir = self.config.containers_dir / cid
        try:
            d = json.loads((cdir / "container.json").read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise ContainerNotFound(f"no such container: {cid}") from None
        p = d["process"]
        return Record(id=d["id"], name=d["name"], created=d["created"], image=d["image"],
                      image_id=d["image_id"], spec=ContainerSpec.from_dict(d["spec"]),
                      process=Process(args=tuple(p["args"]), env=tuple(p["env"]), cwd=p["cwd"],
                                      user=p["user"], hostname=p["hostname"], tty=p.get("tty", False)),
                      layers=d["layers"], dir=cdir, run_dir=self.config.run_containers_dir / d["id"])

    def get(self, ref: str) -> Record:
        """By name, full id, or a unique id prefix (Docker's rules)."""
        if not ref:
            raise InvalidArgument("a container name or id is required")
        ref = ref.lstrip("/")
        try:
            return self.load(os.readlink(self.config.names_dir / ref))
        except (FileNotFoundError, ContainerNotFound, OSError):
            pass
        if len(ref) == 64:
            return self.load(ref)
        matches = [i for i in self.ids() if i.startswith(ref)] if all(c in "0123456789abcdef" for c in ref) else []
        if len(matches) == 1:
            return self.load(matches[0])
        if len(matches) > 1:
            raise InvalidArgument(f"multiple containers match '{ref}': use more of the id")
        raise ContainerNotFound(f"no such container: {ref}")

    def ids(self) -> list[str]:
        try:
            return [e for e in os.listdir(self.config.containers_dir) if len(e) == 64]
        except FileNotFoundError:
            return []

    def list(self) -> list[Record]:
        out = []
        for cid in self.ids():
            try:
                out.append(self.load(cid))
            except ContainerNotFound:
                continue          # half-made or being removed: prune handles it
        out.sort(key=lambda r: r.created, reverse=True)
        return out

    def remove(self, record: Record, *, purge: bool = True) -> Path | None:
        """Delete the record's files and name. Kernel objects must be gone already.

        The record's directory is first renamed into the trash, so the container
        is gone for everyone at once (one rename), whatever deleting its files
        then costs. With purge=False that deletion is left to the caller: it gets
        the trash path for :meth:`purge` (the monitor purges after it has told
        the starter the container is gone). ``system prune`` empties leftovers.
        """
        trash = self.config.trash_dir / record.id
        try:
            trash.parent.mkdir(exist_ok=True)
            os.rename(record.dir, trash)
        except FileNotFoundError:
            trash = None                      # never made, or removed already
        except OSError:
            shutil.rmtree(record.dir, ignore_errors=True)
            trash = None
        shutil.rmtree(record.run_dir, ignore_errors=True)
        link = self.config.names_dir / record.name
        try:
            if os.readlink(link) == record.id:
                link.unlink()
        except OSError:
            pass
        lock = self.config.locks_dir / f"{record.id}.lock"
        lock.unlink(missing_ok=True)
        if purge:
            self.purge(trash)
            return None
        return trash

    @staticmethod
    def purge(trash: Path | None) -> None:
        """Delete a removed record's directory from the trash."""
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)

    @contextmanager
    def lock(self, cid: str):
        """Serialise state changes of one container across processes (flock)."""
        with locked(self.config.locks_dir / f"{cid}.lock"):
            yield

    def _random_name(self) -> str:
        from .names import random_name
        for _ in range(20):
            name = random_name()
            if not os.path.lexists(self.config.names_dir / name):
                return name
        return random_name() + "_" + secrets.token_hex(2)


def _make_init_layer(init: Path, etc_files) -> None:
    for sub in ("etc", "proc", "sys", "dev"):
        os.makedirs(init / sub, mode=0o755)
    for name in etc_files:
        (init / "etc" / name).touch(0o644)





def is_missing(exc: OSError) -> bool:
    return exc.errno in (errno.ENOENT, errno.ESRCH)
