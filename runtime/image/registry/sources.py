"""Which repositories are known to hold a blob: what lets a push mount instead of upload.

Docker keeps the same memory ("v2 metadata"): every blob pulled from or pushed to
``host/repo`` is noted, and a later push of that blob to another repository of the
same host first asks the registry to *mount* it from there (``POST
.../blobs/uploads/?mount=DIGEST&from=REPO``), which links it without sending a byte.

``config.root/distribution.json``: ``{"sha256:...": ["127.0.0.1:5000/app", ...]}``,
a few repositories per blob, newest first. Written under a lock, replaced by rename.
"""
from __future__ import annotations

import json
from pathlib import Path

_KEEP = 5


class Sources:
    def __init__(self, path: Path):
        self.path = Path(path)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def repos(self, host: str, digest: str) -> list[str]:
        """Repositories of ``host`` known to hold ``digest`` (paths, without the host)."""
        prefix = host + "/"
        return [r[len(prefix):] for r in self._read().get(digest, []) if r.startswith(prefix)]

    def add(self, host: str, repo: str, digests) -> None:
        from runtime.files import locked, write_json
        with locked(self.path.with_name(self.path.name + ".lock")):
            data = self._read()
            name = f"{host}/{repo}"
            for digest in digests:
                data[digest] = ([name] + [r for r in data.get(digest, []) if r != name])[:_KEEP]
            write_json(self.path, data, indent=None)
