"""The :class:`Image` value: one image as the store knows it, read-only."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Image:
    """An image: its manifest, its config and the tags that point at it.

    ``id`` is the config's digest ("sha256:..."), as Docker's IMAGE ID;
    ``manifest_digest`` names the manifest (what a registry calls the image);
    ``tags`` are familiar names ("busybox:latest"), empty for a dangling image.
    The dicts are the parsed documents; do not change them.
    """

    id: str
    manifest_digest: str
    manifest: dict = field(repr=False)
    config: dict = field(repr=False)
    tags: list[str] = field(default_factory=list)

    # dataclass would hash the dicts (and fail); an image is known by its digests.
    def __hash__(self) -> int:
        return hash((self.id, self.manifest_digest))

    @property
    def short_id(self) -> str:
        return self.id.partition(":")[2][:12]

    @property
    def diff_ids(self) -> list[str]:
        """The uncompressed layer digests, lowest layer first."""
        return list((self.config.get("rootfs") or {}).get("diff_ids") or [])

    @property
    def layers(self) -> list[dict]:
        """The manifest's layer descriptors, lowest first (parallel to :attr:`diff_ids`)."""
        return list(self.manifest.get("layers") or [])

    @property
    def created(self) -> str:
        return self.config.get("created") or ""

    @property
    def size(self) -> int:
        """Bytes of layer content as stored (uncompressed for local layers)."""
        return sum(int(layer.get("size", 0)) for layer in self.layers)

    @property
    def settings(self) -> dict:
        """config["config"]: Env, Cmd, Entrypoint, WorkingDir, User... (may be empty)."""
        return self.config.get("config") or {}
