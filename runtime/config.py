"""Where onggi keeps things: every on-disk and kernel path is a value here.

Nothing in the runtime hard-codes ``/var/lib/onggi`` or ``/sys/fs/cgroup``; it asks a
:class:`Config`. Tests build one over ``tmp_path`` with their own cgroup parent and
bridge names, so a running onggi on the same host is never touched.

Layout under ``root`` (ONGGI_ROOT, persistent)::

    image/            OCI image layout: oci-layout, index.json, blobs/sha256/...
    layers/<hex>/     one unpacked directory per layer (named by its diff_id)
    containers/<id>/  config.json (OCI runtime spec), state.json, upper/, work/,
                      merged/ (the overlay mount point), container.log
    names/<name>      symlink -> container id (atomic name reservation)
    networks/         (networking)
    trash/<id>/       a removed container's directory, renamed here, deleted just after
    lessons.sqlite    (lesson progress)

Layout under ``run`` (ONGGI_RUN, volatile)::

    events.log        one JSON object per line, appended by every process
    containers/<id>/  monitor.lock (held for the monitor's whole life), monitor.pid
    locks/            flock files
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Config:
    root: Path = Path("/var/lib/onggi")
    run: Path = Path("/run/onggi")
    cgroup_root: Path = Path("/sys/fs/cgroup")
    cgroup_parent: str = "onggi"
    # Networking: the default bridge's name and subnet, and the prefix of bridges
    # that user-defined networks get. Tests use their own.
    bridge_name: str = "onggi0"
    # Not Docker's 172.17/16, podman's 10.88/16, libvirt's 192.168.122/24 or the
    # usual Kubernetes ranges, so onggi can live beside all of them.
    bridge_subnet: str = "10.213.0.0/16"
    bridge_prefix: str = "onggi"
    nft_table: str = "onggi"
    proc: Path = Path("/proc")
    # Extra settings read by parts that need them (e.g. insecure registries).
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_env(cls, environ=None) -> "Config":
        """The default config, overridden by ONGGI_* environment variables."""
        env = os.environ if environ is None else environ
        kw = {}
        for key, name, conv in (
            ("root", "ONGGI_ROOT", Path), ("run", "ONGGI_RUN", Path),
            ("cgroup_root", "ONGGI_CGROUP_ROOT", Path),
            ("cgroup_parent", "ONGGI_CGROUP_PARENT", str),
            ("bridge_name", "ONGGI_BRIDGE", str),
            ("bridge_subnet", "ONGGI_BRIDGE_SUBNET", str),
            ("bridge_prefix", "ONGGI_BRIDGE_PREFIX", str),
            ("nft_table", "ONGGI_NFT_TABLE", str),
        ):
            if env.get(name):
                kw[key] = conv(env[name])
        return cls(**kw)

    def with_(self, **changes) -> "Config":
        return replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """The environment that makes a child onggi process see this same config."""
        return {
            "ONGGI_ROOT": str(self.root), "ONGGI_RUN": str(self.run),
            "ONGGI_CGROUP_ROOT": str(self.cgroup_root),
            "ONGGI_CGROUP_PARENT": self.cgroup_parent,
            "ONGGI_BRIDGE": self.bridge_name, "ONGGI_BRIDGE_SUBNET": self.bridge_subnet,
            "ONGGI_BRIDGE_PREFIX": self.bridge_prefix, "ONGGI_NFT_TABLE": self.nft_table,
        }

    # -- derived paths (no I/O) ------------------------------------------------
    @property
    def image_dir(self) -> Path:
        return self.root / "image"

    @property
    def layers_dir(self) -> Path:
        return self.root / "layers"

    @property
    def containers_dir(self) -> Path:
        return self.root / "containers"

    @property
    def trash_dir(self) -> Path:
        """Removed containers' directories, renamed here to be deleted a moment later."""
        return self.root / "trash"

    @property
    def names_dir(self) -> Path:
        return self.root / "names"

    @property
    def networks_dir(self) -> Path:
        return self.root / "networks"

    @property
    def events_log(self) -> Path:
        return self.run / "events.log"

    @property
    def run_containers_dir(self) -> Path:
        return self.run / "containers"

    @property
    def locks_dir(self) -> Path:
        return self.run / "locks"
