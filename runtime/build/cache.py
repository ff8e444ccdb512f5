"""The build cache: when a step may be reused, and why it could not be.

A step is reused when everything it depends on is the same as when it last ran.
Its :class:`StepKey` says what that is:

* ``parent``: the image ID (config digest) the step starts from. Every earlier
  step, the base image and every ENV/WORKDIR/USER so far are inside it, so a
  change anywhere above a step changes its parent;
* ``instruction``: the instruction as written (``COPY hello.txt /app/``);
* ``args``: the values of the build arguments it uses (every ARG in scope for a
  RUN, which sees them as environment variables; the ones it names for others);
* ``content``: for COPY and ADD, the hash of what is copied (see
  :func:`context.content_hash`); ``source``: for ``COPY --from``, the image ID
  of the stage it copies from.

Where it lives: one small JSON file per step under ``config.root/buildcache/``,
named by the key's sha256. It holds the parts of the key (to explain misses), the
resulting image config (as the exact bytes, so a hit gives the same image ID), and
the descriptor of the layer the step made, if any. The layer itself is a blob in
the image store. A hit costs one file read and one stat: the config is kept in
the entry because ``onggi image prune`` collects blobs no tagged image holds, and
a step's own config is rarely one of those; its layer is, once it is part of the
built image. An entry whose layer blob was pruned is a miss ("was pruned").

Why a miss happened is worked out by comparing the key with the entries already
there, newest first: same parent and instruction but other content means
"content changed" (naming the files), other build arguments "ARG X changed";
the same instruction only under another parent means "parent layer changed".
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from runtime.image.digest import Digest
from runtime.files import write_json
from runtime.image.store import BlobStore

SCRATCH = "scratch"


@dataclass(frozen=True)
class StepKey:
    parent: str
    instruction: str
    args: tuple[tuple[str, str], ...] = ()
    content: str | None = None
    source: str | None = None
    files: dict = field(default_factory=dict, compare=False, hash=False)  # for reasons only

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper()

    def digest(self) -> str:
        """The cache key: sha256 over the parts that decide reuse (files excluded: content covers them)."""
        doc = {"parent": self.parent, "instruction": self.instruction,
               "args": [list(a) for a in self.args], "content": self.content, "source": self.source}
        return Digest.of(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hex


@dataclass(frozen=True)
class Entry:
    key: StepKey
    config: bytes               # the image config after the step, byte for byte
    layer: dict | None          # descriptor of the layer the step added, or None
    created: float = 0.0


class BuildCache:
    def __init__(self, root: Path, blobs: BlobStore):
        self.root = Path(root)
        self.blobs = blobs

    def _path(self, key: StepKey) -> Path:
        return self.root / f"{key.digest()}.json"

    def get(self, key: StepKey) -> Entry | None:
        """The entry for ``key`` if it exists and its layer blob is still there."""
        try:
            entry = _decode(json.loads(self._path(key).read_bytes()))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        if entry.layer is not None and not self.blobs.has(entry.layer["digest"]):
            return None
        return entry

    def put(self, key: StepKey, config: bytes, layer: dict | None) -> Entry:
        entry = Entry(key, config, layer, time.time())
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(self._path(key), _encode(entry), indent=None)
        return entry

    def entries(self) -> list[Entry]:
        """Every readable entry, newest first."""
        out = []
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return out
        for name in names:
            if not name.endswith(".json") or name.startswith("."):
                continue
            try:
                out.append(_decode(json.loads((self.root / name).read_bytes())))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        out.sort(key=lambda e: e.created, reverse=True)
        return out

    def why(self, key: StepKey, shown_source: str | None = None) -> str:
        """Why ``key`` is not in the cache, in a learner's words: ``COPY hello.txt: content changed``."""
        kw = key.keyword
        entries = self.entries()
        exact = [e for e in entries if e.key.digest() == key.digest()]
        if exact:
            return f"{kw}: its cached layer was pruned"
        same = [e for e in entries if e.key.parent == key.parent and e.key.instruction == key.instruction]
        if same:
            last = same[0].key
            changed_args = _changed(dict(last.args), dict(key.args))
            if changed_args:
                return f"ARG {', '.join(changed_args)} changed"
            if last.source != key.source:
                return f"{kw} --from={shown_source or '?'}: the stage it copies from changed"
            if last.content != key.content:
                names = _changed(last.files, key.files)
                what = " ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
                return f"{kw} {what}: content changed" if what else f"{kw}: content changed"
            return f"{kw}: not cached"
        if any(e.key.instruction == key.instruction for e in entries):
            return f"{kw}: parent layer changed"
        if any(e.key.parent == key.parent for e in entries):
            return f"{kw}: new or changed instruction"
        return f"{kw}: not built before"


def _changed(old: dict, new: dict) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _encode(entry: Entry) -> dict:
    k = entry.key
    return {"parent": k.parent, "instruction": k.instruction, "args": [list(a) for a in k.args],
            "content": k.content, "source": k.source, "files": k.files,
            "config": entry.config.decode("utf-8"), "layer": entry.layer, "created": entry.created}


def _decode(d: dict) -> Entry:
    key = StepKey(d["parent"], d["instruction"], tuple(tuple(a) for a in d["args"]), d["content"],
                  d["source"], d.get("files") or {})
    return Entry(key, d["config"].encode("utf-8"), d["layer"], d.get("created", 0.0))
