"""``onggi build``: a Dockerfile becomes an image, one step (and at most one layer) at a time.

How a step runs, so a learner can follow every layer:

* FROM starts a stage from an image in the store (pulled if missing), from an
  earlier stage, or from ``scratch``.
* RUN runs its command in a real container of this runtime (no network), made
  from the image as it is so far; what the command changed is the container's
  overlay upper directory, and that becomes the step's layer. The container is
  removed afterwards, whatever happened.
* COPY and ADD lay the files out in a staging directory (:mod:`copy`) that
  becomes the layer; no container is needed.
* WORKDIR adds a layer only when the directory does not exist yet.
* ENV, LABEL, CMD, ENTRYPOINT, USER, EXPOSE, VOLUME, SHELL, STOPSIGNAL,
  HEALTHCHECK and MAINTAINER change only the image config: their history entry
  says ``empty_layer`` and ``history`` shows 0 B.
* ARG declares a build argument; it changes nothing in the image.

Every step but FROM and ARG goes through the cache (:mod:`cache`): a hit reuses
the config and layer of last time, so a rebuild with nothing changed makes the
same image, with the same ID. A miss says why. Progress goes to ``progress``
(:class:`BuildStep` events when a step starts and ends, :class:`Output` for what
a RUN prints, :class:`Note` for the rest) and the step events also to the
events log.

A failing step raises :class:`BuildError` with the Dockerfile's name and the
instruction's line; the images of earlier steps stay in the cache, nothing is
tagged, and a failed RUN's container is removed.
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from runtime import events
from runtime.build import instructions as ins
from runtime.build.cache import BuildCache, StepKey
from runtime.build.parser import Dockerfile, Stage, parse
from runtime.build.substitution import expand, expand_all
from runtime.errors import BuildError, ImageNotFound, InvalidArgument, OnggiError
from runtime.image.digest import Digest
from runtime.image.manifest import OCI_LAYER, derive_config, descriptor, encode, host_platform, now_rfc3339
from runtime.image.model import Image

DEFAULT_SHELL = ("/bin/sh", "-c")
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


@dataclass(frozen=True)
class Output:
    """Bytes a RUN step's container wrote (stream "stdout" or "stderr")."""
    stream: str
    data: bytes


@dataclass(frozen=True)
class Note:
    """Anything else worth telling: a pull, an ARG, a warning."""
    text: str


Progress = Callable[[object], None]


def build(rt, context, *, tag: str | None = None, dockerfile: str | Path = "Dockerfile",
          build_args: dict[str, str] | None = None, no_cache: bool = False,
          target: str | None = None, progress: Progress | None = None) -> Image:
    """Build the Dockerfile in ``context`` (a relative ``dockerfile`` is read from the context).

    ``tag`` names the result (untagged if None); ``build_args`` are ``--build-arg``
    values; ``target`` builds that stage (and what it needs) instead of the last.
    Returns the built :class:`Image`. Publishes ``build.step`` and ``image.built``.
    """
    return _Builder(rt, Path(context), tag=tag, dockerfile=dockerfile,
                    build_args=dict(build_args or {}), no_cache=no_cache, target=target,
                    progress=progress or (lambda item: None)).run()


@dataclass
class State:
    """The image as it is after some steps of a stage, and the stage's build arguments."""
    config: dict
    config_bytes: bytes
    layers: list[dict]
    args: dict[str, str | None] = field(default_factory=dict)
    cmd_set: bool = False

    @classmethod
    def of(cls, config_bytes: bytes, layers: list[dict]) -> "State":
        return cls(json.loads(config_bytes), config_bytes, list(layers))

    @property
    def image_id(self) -> str:
        return str(Digest.of(self.config_bytes))

    @property
    def settings(self) -> dict:
        return self.config.get("config") or {}

    def env(self) -> dict[str, str]:
        return dict(e.partition("=")[::2] for e in self.settings.get("Env") or [])

    def substitution_env(self) -> dict[str, str]:
        """What ``$VAR`` sees: build arguments, overridden by ENV (Docker's precedence)."""
        return {**{k: v for k, v in self.args.items() if v is not None}, **self.env()}

    def image(self) -> Image:
        return Image(id=self.image_id, manifest_digest="", manifest={"layers": self.layers},
                     config=self.config)

    def after(self, config_bytes: bytes, layer: dict | None) -> "State":
        return State(json.loads(config_bytes), config_bytes,
                     self.layers + ([layer] if layer else []), dict(self.args), self.cmd_set)


@dataclass
class _Plan:
    """A step's cache key and how to run it: run() -> (config changes, layer or None, created_by)."""
    key: StepKey
    run: Callable[[], tuple[dict, dict | None, str]]
    source: str | None = None           # COPY --from: how the user named it
    author: str | None = None


class _Builder:
    def __init__(self, rt, context: Path, *, tag, dockerfile, build_args, no_cache, target, progress):
        self.rt, self.store = rt, rt.images
        self.context = context
        self.tag, self.dockerfile_arg = tag, dockerfile
        self.build_args, self.no_cache, self.target = build_args, no_cache, target
        self.progress = progress
        self.id = secrets.token_hex(8)
        self.cache = BuildCache(rt.config.root / "buildcache", self.store.blobs)
        self.scratch = rt.config.root / "buildcache" / "tmp"
        self.consumed: set[str] = set()
        self.n = self.total = 0
        self.stage_name = ""
        self._global: dict[str, str | None] = {}
        self.file = "Dockerfile"
        self.escape = "\\"
        self._context = None

    # -- the whole build ------------------------------------------------------------------
    def run(self) -> Image:
        from runtime.image import reference
        from runtime.image.ingest_image import index_image, put_image_bytes
        name = reference.parse(self.tag).familiar if self.tag else None
        if self.tag and reference.parse(self.tag).digest:
            raise InvalidArgument(f"invalid tag {self.tag!r}: a tag cannot include a digest")
        df = self._read()
        self.escape = df.escape
        global_args = self._global_args(df)
        target = df.stages[-1] if self.target is None else df.stage(self.target)
        if target is None:
            raise BuildError(f"target stage {self.target!r} could not be found", file=self.file,
                             hint="name a stage with 'FROM IMAGE AS NAME'")
        stages = self._needed(df, target, global_args)
        self.total = sum(1 + sum(not isinstance(i, ins.Arg) for i in s.instructions) for s in stages)
        states: dict[int, State] = {}
        for stage in stages:
            states[stage.index] = self._stage(df, stage, states, global_args, multi=len(df.stages) > 1)
        final = states[target.index]
        manifest = put_image_bytes(self.store.blobs, final.config_bytes, final.layers)
        image = index_image(self.store, manifest, name)
        unused = sorted(set(self.build_args) - self.consumed)
        if unused:
            self.progress(Note(f"[Warning] One or more build-args {unused} were not consumed"))
        self.rt.publisher.publish(events.ImageBuilt(id=image.id, name=name or ""))
        return image

    def _read(self) -> Dockerfile:
        if not self.context.is_dir():
            raise InvalidArgument(f"unable to prepare context: path {str(self.context)!r} not found",
                                  hint="give the build context directory, e.g. 'onggi build -t app .'")
        path = Path(self.dockerfile_arg)
        self.file = str(self.dockerfile_arg) if not path.is_absolute() else path.name
        if not path.is_absolute():
            path = self.context / path
        try:
            text = path.read_text()
        except (FileNotFoundError, IsADirectoryError):
            raise InvalidArgument(f"unable to read {self.file}: {path} does not exist",
                                  hint="put a Dockerfile in the context or name one with -f") from None
        return parse(text, file=self.file)

    def _global_args(self, df: Dockerfile) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for inst in df.global_args:
            for name, default in inst.pairs:
                values[name] = self._arg_value(name, default, values, inst)
        return values

    def _arg_value(self, name, default, env, inst) -> str | None:
        if name in self.build_args:
            self.consumed.add(name)
            return self.build_args[name]
        if default is None:
            return None
        return self._expand1(default, {k: v for k, v in env.items() if v is not None}, inst)

    def _needed(self, df: Dockerfile, target: Stage, global_args) -> list[Stage]:
        """The target and the stages it uses (FROM a stage, COPY --from), in file order."""
        env = {k: v for k, v in global_args.items() if v is not None}
        needed: set[int] = set()
        todo = [target]
        while todo:
            stage = todo.pop()
            if stage.index in needed:
                continue
            needed.add(stage.index)
            base = self._stage_named(df, self._expand1(stage.from_.image, env, stage.from_), stage.index)
            if base is not None:
                todo.append(base)
            for inst in stage.instructions:
                if isinstance(inst, ins.Copy) and inst.from_:
                    dep = self._stage_ref(df, self._expand1(inst.from_, env, inst), stage.index)
                    if dep is not None:
                        todo.append(dep)
        return [s for s in df.stages if s.index in needed]

    @staticmethod
    def _stage_named(df: Dockerfile, name: str, before: int) -> Stage | None:
        return next((s for s in df.stages[:before] if s.name and s.name == name.lower()), None)

    def _stage_ref(self, df: Dockerfile, ref: str, before: int) -> Stage | None:
        stage = self._stage_named(df, ref, before)
        if stage is None and ref.isdigit():
            if int(ref) >= before:
                return None
            stage = df.stages[int(ref)]
        return stage

    # -- one stage ----------------------------------------------------------------------------
    def _stage(self, df, stage: Stage, states, global_args, multi: bool) -> State:
        self.stage_name = stage.shown if multi else ""
        inst = stage.from_
        self.n += 1
        base = self._expand1(inst.image, {k: v for k, v in global_args.items() if v is not None}, inst)
        self._publish(inst, phase="start")
        earlier = self._stage_named(df, base, stage.index)
        if base.lower() == "scratch":
            state = _scratch()
        elif earlier is not None:
            parent = states[earlier.index]
            state = State(parent.config, parent.config_bytes, list(parent.layers))
        else:
            image = self._image(base, inst)
            state = State.of(self.store.blobs.get(image.id), image.layers)
        state.args = {}
        self._global = global_args
        self._publish(inst, phase="done")
        for inst in stage.instructions:
            if isinstance(inst, ins.Arg):
                self._declare(state, inst)
                continue
            self.n += 1
            try:
                state = self._step(df, state, inst, states)
            except BuildError:
                raise
            except OnggiError as e:
                raise BuildError(f"{_short(inst.text)}: {e}", file=self.file, line=inst.line,
                                 hint=e.hint or None) from None
        return state

    def _image(self, ref: str, inst) -> Image:
        """An image from the store, pulled from its registry when it is not there."""
        if not ref:
            raise BuildError(f"{_short(inst.text)}: base name should not be blank", file=self.file,
                             line=inst.line, hint="give the ARG it names a default or a --build-arg")
        try:
            return self.store.resolve(ref)
        except ImageNotFound:
            pass
        except OnggiError as e:       # a name that is no reference ("busybox:" from an empty ARG)
            raise BuildError(f"{_short(inst.text)}: {e}", file=self.file, line=inst.line,
                             hint=e.hint or None) from None
        from runtime.image.registry.pull import pull
        self.progress(Note(f"pulling {ref}: not in the image store"))
        try:
            return pull(self.rt, ref, progress=lambda item: isinstance(item, str) and
                        self.progress(Note(item)))
        except OnggiError as e:
            raise BuildError(f"{_short(inst.text)}: {ref} is not in the image store and pulling it "
                             f"failed: {e}", file=self.file, line=inst.line, hint=e.hint or None) from None

    def _declare(self, state: State, inst: ins.Arg) -> None:
        for name, default in inst.pairs:
            if name in self.build_args or default is not None:
                value = self._arg_value(name, default, state.substitution_env(), inst)
            else:
                value = self._global.get(name)
            state.args[name] = value
            shown = f"{name}={value}" if value is not None else f"{name} (no value)"
            self.progress(Note(f"ARG {shown}: a build argument, no layer"))

    # -- one step ---------------------------------------------------------------------------------
    def _step(self, df, state: State, inst, states) -> State:
        plan = self._plan(df, state, inst, states)
        entry = None if self.no_cache else self.cache.get(plan.key)
        if entry is not None:
            self._publish(inst, phase="start", cached=True)
            new = state.after(entry.config, entry.layer)
            self._publish(inst, phase="done", cached=True, layer=entry.layer)
        else:
            reason = "--no-cache" if self.no_cache else self.cache.why(plan.key, plan.source)
            self._publish(inst, phase="start", reason=reason)
            changes, layer, created_by = plan.run()
            history = {"created": now_rfc3339(), "created_by": created_by}
            author = plan.author if plan.author is not None else state.config.get("author", "")
            config = derive_config(state.config, layer["digest"] if layer else None, history,
                                   changes, author)
            config_bytes = encode(config)
            self.cache.put(plan.key, config_bytes, layer)
            new = state.after(config_bytes, layer)
            self._publish(inst, phase="done", reason=reason, layer=layer)
        if isinstance(inst, ins.Cmd):
            new.cmd_set = True
        return new

    def _publish(self, inst, *, phase: str, cached: bool = False, reason: str = "",
                 layer: dict | None = None) -> None:
        event = events.BuildStep(id=self.id, n=self.n, total=self.total, instruction=inst.text,
                                 cached=cached, reason=reason, layer=(layer or {}).get("digest", ""),
                                 size=int((layer or {}).get("size", 0)), phase=phase,
                                 stage=self.stage_name)
        self.rt.publisher.publish(event)
        self.progress(event)

    def _key(self, state: State, inst, used=frozenset(), **kw) -> StepKey:
        return StepKey(state.image_id, inst.text, self._args_used(state, used), **kw)

    def _args_used(self, state: State, names) -> tuple[tuple[str, str], ...]:
        env = state.env()
        return tuple(sorted((n, state.args.get(n) or "") for n in names
                            if n in state.args and n not in env))

    def _plan(self, df, state: State, inst, states) -> _Plan:
        handler = getattr(self, "_plan_" + inst.keyword.lower())
        return handler(df, state, inst, states)

    # -- expansion ------------------------------------------------------------------------------
    def _expand1(self, word: str, env: dict, inst) -> str:
        try:
            return expand(word, env, self.escape).text
        except OnggiError as e:
            raise BuildError(f"{_short(inst.text)}: {e}", file=self.file, line=inst.line) from None

    def _expand(self, state: State, inst, words) -> tuple[list[str], frozenset]:
        try:
            return expand_all(words, state.substitution_env(), self.escape)
        except OnggiError as e:
            raise BuildError(f"{_short(inst.text)}: {e}", file=self.file, line=inst.line) from None

    # -- metadata-only instructions --------------------------------------------------------------
    def _meta(self, state, inst, used, changes, created_by, author=None) -> _Plan:
        return _Plan(self._key(state, inst, used), lambda: (changes, None, created_by), author=author)

    def _plan_env(self, df, state, inst, states):
        names, used1 = self._expand(state, inst, [k for k, _ in inst.pairs])
        values, used2 = self._expand(state, inst, [v for _, v in inst.pairs])
        pairs = [f"{k}={v}" for k, v in zip(names, values)]
        return self._meta(state, inst, used1 | used2, {"Env": pairs}, "ENV " + " ".join(pairs))

    def _plan_label(self, df, state, inst, states):
        names, used1 = self._expand(state, inst, [k for k, _ in inst.pairs])
        values, used2 = self._expand(state, inst, [v for _, v in inst.pairs])
        labels = dict(zip(names, values))
        shown = " ".join(f"{k}={v}" for k, v in labels.items())
        return self._meta(state, inst, used1 | used2, {"Labels": labels}, "LABEL " + shown)

    def _plan_expose(self, df, state, inst, states):
        ports, used = self._expand(state, inst, inst.ports)
        exposed = {}
        for p in ports:
            exposed.update({k: {} for k in _ports(p)})
        return self._meta(state, inst, used, {"ExposedPorts": exposed}, "EXPOSE " + " ".join(exposed))

    def _plan_user(self, df, state, inst, states):
        (user,), used = self._expand(state, inst, [inst.user])
        return self._meta(state, inst, used, {"User": user}, f"USER {user}")

    def _plan_volume(self, df, state, inst, states):
        paths, used = self._expand(state, inst, inst.paths)
        return self._meta(state, inst, used, {"Volumes": {p: {} for p in paths}},
                          "VOLUME " + json.dumps(paths))

    def _plan_stopsignal(self, df, state, inst, states):
        from runtime.container.container import parse_signal
        (sig,), used = self._expand(state, inst, [inst.signal])
        parse_signal(sig)
        return self._meta(state, inst, used, {"StopSignal": sig}, f"STOPSIGNAL {sig}")

    def _plan_shell(self, df, state, inst, states):
        return self._meta(state, inst, (), {"Shell": list(inst.command)},
                          "SHELL " + json.dumps(list(inst.command)))

    def _shell_of(self, state) -> list[str]:
        return list(state.settings.get("Shell") or DEFAULT_SHELL)

    def _argv(self, state, command, shell_form) -> list[str]:
        return self._shell_of(state) + [command[0]] if shell_form else list(command)

    def _plan_cmd(self, df, state, inst, states):
        argv = self._argv(state, inst.command, inst.shell_form)
        return self._meta(state, inst, (), {"Cmd": argv}, "CMD " + json.dumps(argv))

    def _plan_entrypoint(self, df, state, inst, states):
        argv = self._argv(state, inst.command, inst.shell_form)
        changes = {"Entrypoint": argv}
        if not state.cmd_set:
            changes["Cmd"] = None      # Docker: a new ENTRYPOINT resets the base image's CMD
        return self._meta(state, inst, (), changes, "ENTRYPOINT " + json.dumps(argv))

    def _plan_healthcheck(self, df, state, inst, states):
        if inst.command is None:
            check = {"Test": ["NONE"]}
        else:
            test = ["CMD-SHELL", inst.command[0]] if inst.shell_form else ["CMD", *inst.command]
            check = {"Test": test}
            for key, value in (("Interval", inst.interval), ("Timeout", inst.timeout),
                               ("StartPeriod", inst.start_period),
                               ("StartInterval", inst.start_interval)):
                if value is not None:
                    check[key] = _duration(value)
            if inst.retries is not None:
                if not inst.retries.isdigit():
                    raise InvalidArgument(f"invalid --retries {inst.retries!r}: use a whole number")
                check["Retries"] = int(inst.retries)
        return self._meta(state, inst, (), {"Healthcheck": check},
                          "HEALTHCHECK " + json.dumps(check))

    def _plan_maintainer(self, df, state, inst, states):
        return self._meta(state, inst, (), {}, f"MAINTAINER {inst.name}", author=inst.name)

    # -- WORKDIR ------------------------------------------------------------------------------------
    def _plan_workdir(self, df, state, inst, states):
        (path,), used = self._expand(state, inst, [inst.path])
        current = state.settings.get("WorkingDir") or "/"
        path = posixpath.normpath(posixpath.join(current, path))

        def run():
            from runtime.build.copy import resolve_owner
            stack = self._stack(state)
            real = stack.resolve(path)        # through the image's symlinks, never over them
            layer = None
            if not stack.is_dir(real):
                # Docker makes the directory even if no later step uses it, owned (with
                # the parents it makes) by the USER so far, as BuildKit does: a non-root
                # USER must be able to write in its own WORKDIR.
                owner = resolve_owner(state.settings.get("User") or None, stack)
                with self._staging(stack, owner, None) as staging:
                    staging.ensure_dir(real)
                    layer = self.write_layer(staging.root)
            return {"WorkingDir": path}, layer, f"WORKDIR {path}"
        return _Plan(self._key(state, inst, used), run)

    # -- RUN ------------------------------------------------------------------------------------------
    def _plan_run(self, df, state, inst, states):
        argv = self._argv(state, inst.command, inst.shell_form)
        env = state.env()
        args = {k: v for k, v in state.args.items() if v is not None and k not in env}
        key = StepKey(state.image_id, inst.text, tuple(sorted(args.items())))
        prefix = f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in sorted(args.items())) + " " if args else ""
        created_by = "RUN " + prefix + " ".join(argv)

        def run():
            from runtime.build.run import run_step
            layer = run_step(self, state, argv, [f"{k}={v}" for k, v in sorted(args.items())], inst)
            return {}, layer, created_by
        return _Plan(key, run)

    # -- COPY and ADD ---------------------------------------------------------------------------------
    def _plan_copy(self, df, state, inst, states):
        return self._plan_copy_or_add(df, state, inst, states)

    def _plan_add(self, df, state, inst, states):
        return self._plan_copy_or_add(df, state, inst, states)

    def _plan_copy_or_add(self, df, state, inst, states):
        from runtime.build.context import BuildContext, content_hash
        words = [*inst.sources, inst.dest] + ([inst.chown] if inst.chown else [])
        expanded, used = self._expand(state, inst, words)
        sources, dest = expanded[:len(inst.sources)], expanded[len(inst.sources)]
        chown = expanded[-1] if inst.chown else None
        from_ = getattr(inst, "from_", None)
        if isinstance(inst, ins.Add):
            for s in sources:
                if re.match(r"^[a-z][a-z0-9+.-]*://", s, re.I) or s.startswith("git@"):
                    raise BuildError(f"ADD {s}: downloading a URL needs the network, and onggi "
                                     "builds offline", file=self.file, line=inst.line,
                                     hint="download the file into the build context and COPY it")
        if from_:
            (ref,), used_from = self._expand(state, inst, [from_])
            used |= used_from
            source_state = self._copy_source(df, ref, states, inst)
            key = self._key(state, inst, used, source=source_state.image_id)

            def run():
                from runtime.build.dockerignore import Matcher
                from runtime.build.layerfs import merged_view
                dirs = self.store.layer_dirs(source_state.image())
                with merged_view(dirs, self.rt.syscalls, self.scratch) as root:
                    found = BuildContext(root, Matcher([])).sources(sources)
                    return self._copy_run(state, inst, found, dest, chown)
            return _Plan(key, run, source=ref)
        if self._context is None:
            from runtime.build import dockerignore
            self._context = BuildContext(self.context, dockerignore.load(self.context))
        found = self._context.sources(sources)
        digest, files = content_hash(found)
        key = self._key(state, inst, used, content=digest, files=files)
        return _Plan(key, lambda: self._copy_run(state, inst, found, dest, chown))

    def _copy_source(self, df, ref: str, states, inst) -> State:
        stage = self._stage_ref(df, ref, len(df.stages))
        if stage is not None:
            if stage.index not in states:
                raise BuildError(f"{_short(inst.text)}: stage {ref!r} is not built before this one",
                                 file=self.file, line=inst.line,
                                 hint="COPY --from can only use a stage defined above it")
            return states[stage.index]
        image = self._image(ref, inst)
        return State.of(self.store.blobs.get(image.id), image.layers)

    def _copy_run(self, state: State, inst, found, dest: str, chown: str | None):
        from runtime.build.copy import is_archive, parse_chmod, resolve_owner
        stack = self._stack(state)
        owner = resolve_owner(chown, stack)
        workdir = state.settings.get("WorkingDir") or "/"
        with self._staging(stack, owner, parse_chmod(inst.chmod)) as staging:
            plain = []
            for source in found:
                if isinstance(inst, ins.Add) and not source.is_dir and source.items[0].kind == "file" \
                        and is_archive(source.items[0].path):
                    staging.extract(source.items[0].path, dest, workdir, self.rt.syscalls)
                else:
                    plain.append(source)
            if plain:
                staging.copy_sources(plain, dest, workdir, inst.keyword)
            layer = self.write_layer(staging.root)
        return {}, layer, inst.text

    # -- helpers ------------------------------------------------------------------------------------
    def _stack(self, state: State):
        from runtime.build.layerfs import LayerStack
        return LayerStack(self.store.layer_dirs(state.image()), self.rt.syscalls)

    def _staging(self, stack, owner, chmod):
        from contextlib import contextmanager

        from runtime.build.copy import Staging

        @contextmanager
        def staged():
            self.scratch.mkdir(parents=True, exist_ok=True)
            root = Path(tempfile.mkdtemp(prefix="copy-", dir=self.scratch))
            try:
                yield Staging(root, stack, owner, chmod)
            finally:
                shutil.rmtree(root, ignore_errors=True)
        return staged()

    def write_layer(self, directory: Path) -> dict | None:
        """The directory's contents as a layer blob; None when there is nothing in it."""
        from runtime.image.layers import write_layer
        if not any(os.scandir(directory)):
            return None
        with self.store.blobs.writer() as w:
            write_layer(Path(directory), w, self.rt.syscalls)
            digest, size = w.commit()
        return descriptor(OCI_LAYER, digest, size)


def _scratch() -> State:
    config = {**host_platform(), "config": {"Env": [DEFAULT_PATH]},
              "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
    return State.of(encode(config), [])


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _ports(text: str) -> list[str]:
    port, _, proto = text.partition("/")
    proto = (proto or "tcp").lower()
    low, dash, high = port.partition("-")
    if proto not in ("tcp", "udp", "sctp") or not low.isdigit() or (dash and not high.isdigit()):
        raise InvalidArgument(f"invalid port {text!r}: use PORT[/tcp|/udp] or FROM-TO[/PROTO]")
    first, last = int(low), int(high) if dash else int(low)
    if not (0 < first <= last < 65536):
        raise InvalidArgument(f"invalid port {text!r}: ports are 1 to 65535")
    return [f"{p}/{proto}" for p in range(first, last + 1)]


def _duration(text: str) -> int:
    """A Go duration ("30s", "1m30s", "500ms") in nanoseconds, as Docker stores them."""
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _NS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise InvalidArgument(f"invalid duration {text!r}: use e.g. 30s, 1m30s or 500ms")
    return int(total)
