"""``onggi build``, simulated: a Dockerfile becomes an image, one step (and at most one layer) at a time.

The real parser reads the Dockerfile (``runtime.build.parser``) and the real build
context hashes the files COPY takes (``runtime.build.context``), so errors, line
numbers and the cache's notion of "the same" are the real ones. What differs:

* RUN runs its command in the tiny shell on the image's simulated filesystem
  (:mod:`.shell`); what it changed becomes the layer (``dd ... count=20`` makes a
  20 MiB file, ``rm`` leaves a whiteout, ``$(date)`` is now);
* COPY lays the context's files into a layer as data (text when small, else
  only the size);
* the cache lives in the world: a step with the same parent image, instruction,
  build arguments and copied content is reused, and a miss says why in the
  words of ``runtime/build/cache.py`` (``COPY hello.txt: content changed``).

Progress and events are the real ones: ``build.step`` when a step starts
(cached, or the reason it is not) and ends, ``image.built`` at the end.
"""
from __future__ import annotations

import json
import posixpath
import secrets
from pathlib import Path

from runtime import events
from runtime.build import instructions as ins
from runtime.build.builder import DEFAULT_PATH, DEFAULT_SHELL, Note, Output
from runtime.build.parser import parse
from runtime.build.substitution import expand, expand_all
from runtime.errors import BuildError, ImageNotFound, InvalidArgument, OnggiError
from runtime.image.digest import Digest
from runtime.image.manifest import derive_config, encode, host_platform, now_rfc3339

from .fs import FS, norm
from .machine import PlanMachine
from .shell.interp import ExitShell, Interp, Out, RunsForever

MAX_TEXT = 64 * 1024


class _State:
    """The image so far: its config and its layers' diff_ids."""

    def __init__(self, config: dict, diff_ids: list[str], args: dict | None = None):
        self.config, self.diff_ids, self.args = config, list(diff_ids), dict(args or {})
        self.cmd_set = False

    @property
    def image_id(self) -> str:
        return str(Digest.of(encode(self.config)))

    @property
    def settings(self) -> dict:
        return self.config.get("config") or {}

    def env(self) -> dict:
        return dict(e.partition("=")[::2] for e in self.settings.get("Env") or [])

    def subst(self) -> dict:
        return {**{k: v for k, v in self.args.items() if v is not None}, **self.env()}


def build(rt, context, *, tag: str | None = None, dockerfile="Dockerfile", build_args=None,
          no_cache: bool = False, target: str | None = None, progress=None):
    """Build the Dockerfile in CONTEXT (see ``runtime.build.builder.build``); the Image."""
    return _Builder(rt, Path(context), tag, dockerfile, dict(build_args or {}), no_cache, target,
                    progress or (lambda item: None)).run()


class _Builder:
    def __init__(self, rt, context, tag, dockerfile, build_args, no_cache, target, progress):
        self.rt, self.context, self.tag = rt, context, tag
        self.dockerfile, self.build_args, self.no_cache = dockerfile, build_args, no_cache
        self.target, self.progress = target, progress
        self.id = secrets.token_hex(8)
        self.n = self.total = 0
        self.file = "Dockerfile"
        self.stage_name = ""
        self._context = None

    def run(self):
        from runtime.image import reference
        name = reference.parse(self.tag).familiar if self.tag else None
        if self.tag and reference.parse(self.tag).digest:
            raise InvalidArgument(f"invalid tag {self.tag!r}: a tag cannot include a digest")
        df = self._read()
        self.escape = df.escape
        global_args = {}
        for inst in df.global_args:
            for k, default in inst.pairs:
                global_args[k] = self.build_args.get(k, default)
        target = df.stages[-1] if self.target is None else df.stage(self.target)
        if target is None:
            raise BuildError(f"target stage {self.target!r} could not be found", file=self.file,
                             hint="name a stage with 'FROM IMAGE AS NAME'")
        stages = [s for s in df.stages if s.index <= target.index]
        self.total = sum(1 + sum(not isinstance(i, ins.Arg) for i in s.instructions) for s in stages)
        states: dict[int, _State] = {}
        for stage in stages:
            states[stage.index] = self._stage(df, stage, states, global_args, multi=len(df.stages) > 1)
        final = states[target.index]
        with self.rt.world.edit() as world:
            image = self.rt.images.add(world, final.config, final.diff_ids, name)
        self.rt.publisher.publish(events.ImageBuilt(id=image.id, name=name or ""))
        return image

    def _read(self):
        if not self.context.is_dir():
            raise InvalidArgument(f"unable to prepare context: path {str(self.context)!r} not found",
                                  hint="give the build context directory, e.g. 'onggi build -t app .'")
        path = Path(self.dockerfile)
        self.file = str(self.dockerfile) if not path.is_absolute() else path.name
        path = path if path.is_absolute() else self.context / path
        try:
            text = path.read_text()
        except (FileNotFoundError, IsADirectoryError):
            raise InvalidArgument(f"unable to read {self.file}: {path} does not exist",
                                  hint="put a Dockerfile in the context or name one with -f") from None
        return parse(text, file=self.file)

    # -- stages and steps ---------------------------------------------------------------------
    def _stage(self, df, stage, states, global_args, multi: bool) -> _State:
        self.stage_name = stage.shown if multi else ""
        inst = stage.from_
        self.n += 1
        self._publish(inst, phase="start")
        base = self._expand1(inst.image, {k: v for k, v in global_args.items() if v is not None}, inst)
        earlier = next((s for s in df.stages[:stage.index] if s.name and s.name == base.lower()), None)
        if base.lower() == "scratch":
            state = _State({**host_platform(), "config": {"Env": [DEFAULT_PATH]},
                            "rootfs": {"type": "layers", "diff_ids": []}, "history": []}, [])
        elif earlier is not None:
            parent = states[earlier.index]
            state = _State(parent.config, parent.diff_ids)
        else:
            try:
                image = self.rt.image(base)
            except ImageNotFound as e:
                raise BuildError(f"{inst.text}: {base} is not in the image store: {e}", file=self.file,
                                 line=inst.line, hint="pull it first (simulated mode has the classroom registry)")
            state = _State(image.config, image.diff_ids)
        self._publish(inst, phase="done")
        for inst in stage.instructions:
            if isinstance(inst, ins.Arg):
                for k, default in inst.pairs:
                    state.args[k] = self.build_args.get(k, default if default is not None else global_args.get(k))
                    self.progress(Note(f"ARG {k}: a build argument, no layer"))
                continue
            self.n += 1
            try:
                state = self._step(df, state, inst, states)
            except BuildError:
                raise
            except OnggiError as e:
                raise BuildError(f"{inst.text}: {e}", file=self.file, line=inst.line, hint=e.hint or None) from None
        return state

    def _step(self, df, state: _State, inst, states) -> _State:
        key, run = self._plan(df, state, inst, states)
        key_id = str(Digest.of(encode(key)))
        cache = self.rt.snapshot().get("build_cache", {})
        hit = None if self.no_cache else cache.get(key_id)
        if hit is not None:
            self._publish(inst, phase="start", cached=True)
            new = _State(hit["config"], state.diff_ids + ([hit["layer"]] if hit["layer"] else []), state.args)
            self._publish(inst, phase="done", cached=True, layer=hit["layer"], size=hit.get("size", 0))
        else:
            reason = "--no-cache" if self.no_cache else self._why(key, cache)
            self._publish(inst, phase="start", reason=reason)
            changes, files, created_by = run()
            with self.rt.world.edit() as world:
                diff_id = self.rt.images.put_layer(world, files) if files else None
                config = derive_config(state.config, diff_id, {"created": now_rfc3339(), "created_by": created_by},
                                       changes)
                size = sum(e.get("s", 0) for e in files.values() if "h" not in e) if files else 0
                world.setdefault("build_cache", {})[key_id] = {**key, "config": config, "layer": diff_id,
                                                               "size": size}
            new = _State(config, state.diff_ids + ([diff_id] if diff_id else []), state.args)
            self._publish(inst, phase="done", reason=reason, layer=diff_id, size=size)
        new.cmd_set = state.cmd_set or isinstance(inst, ins.Cmd)
        return new

    def _why(self, key: dict, cache: dict) -> str:
        """Why KEY is not in the cache, in runtime/build/cache.py's words."""
        kw = key["instruction"].split(None, 1)[0].upper()
        entries = list(cache.values())
        same = [e for e in entries if e["parent"] == key["parent"] and e["instruction"] == key["instruction"]]
        if same:
            last = same[-1]
            changed = sorted(k for k in set(last["args"]) | set(key["args"])
                             if last["args"].get(k) != key["args"].get(k))
            if changed:
                return f"ARG {', '.join(changed)} changed"
            if last["content"] != key["content"]:
                names = sorted(k for k in set(last["files"]) | set(key["files"])
                               if last["files"].get(k) != key["files"].get(k))
                what = " ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
                return f"{kw} {what}: content changed" if what else f"{kw}: content changed"
            return f"{kw}: not cached"
        if any(e["instruction"] == key["instruction"] for e in entries):
            return f"{kw}: parent layer changed"
        if any(e["parent"] == key["parent"] for e in entries):
            return f"{kw}: new or changed instruction"
        return f"{kw}: not built before"

    def _publish(self, inst, *, phase, cached=False, reason="", layer=None, size=0) -> None:
        event = events.BuildStep(id=self.id, n=self.n, total=self.total, instruction=inst.text, cached=cached,
                                 reason=reason, layer=layer or "", size=int(size), phase=phase,
                                 stage=self.stage_name)
        self.rt.publisher.publish(event)
        self.progress(event)

    # -- what each instruction does ---------------------------------------------------------------
    def _plan(self, df, state: _State, inst, states):
        """(cache key, run() -> (config changes, layer files or None, created_by))."""
        key = {"parent": state.image_id, "instruction": inst.text, "args": {}, "content": "", "files": {},
               "source": ""}
        env = state.subst()
        if isinstance(inst, ins.Run):
            key["args"] = {k: v for k, v in state.args.items() if v is not None and k not in state.env()}
            argv = list(state.settings.get("Shell") or DEFAULT_SHELL) + [inst.command[0]] if inst.shell_form \
                else list(inst.command)
            return key, lambda: ({}, self._run(state, argv, inst), "RUN " + " ".join(argv))
        if isinstance(inst, (ins.Copy, ins.Add)):
            return self._plan_copy(df, state, inst, states, key, env)
        if isinstance(inst, ins.Workdir):
            path = posixpath.normpath(posixpath.join(state.settings.get("WorkingDir") or "/",
                                                     self._expand1(inst.path, env, inst)))

            def workdir():
                fs = self._fs(state)
                if fs.is_dir(path):
                    return {"WorkingDir": path}, None, f"WORKDIR {path}"
                fs.mkdir(path)
                return {"WorkingDir": path}, fs.upper, f"WORKDIR {path}"
            return key, workdir
        changes, shown = self._meta(state, inst, env)
        return key, lambda: (changes, None, shown)

    def _meta(self, state, inst, env) -> tuple[dict, str]:
        if isinstance(inst, (ins.Env, ins.Label)):
            names, _ = self._expand(inst, [k for k, _ in inst.pairs], env)
            values, _ = self._expand(inst, [v for _, v in inst.pairs], env)
            if isinstance(inst, ins.Env):
                pairs = [f"{k}={v}" for k, v in zip(names, values)]
                return {"Env": pairs}, "ENV " + " ".join(pairs)
            labels = dict(zip(names, values))
            return {"Labels": labels}, "LABEL " + " ".join(f"{k}={v}" for k, v in labels.items())
        if isinstance(inst, (ins.Cmd, ins.Entrypoint)):
            argv = list(state.settings.get("Shell") or DEFAULT_SHELL) + [inst.command[0]] if inst.shell_form \
                else list(inst.command)
            if isinstance(inst, ins.Cmd):
                return {"Cmd": argv}, "CMD " + json.dumps(argv)
            changes = {"Entrypoint": argv}
            if not state.cmd_set:
                changes["Cmd"] = None
            return changes, "ENTRYPOINT " + json.dumps(argv)
        if isinstance(inst, ins.User):
            (user,), _ = self._expand(inst, [inst.user], env)
            return {"User": user}, f"USER {user}"
        if isinstance(inst, ins.Expose):
            ports, _ = self._expand(inst, list(inst.ports), env)
            exposed = {p if "/" in p else f"{p}/tcp": {} for p in ports}
            return {"ExposedPorts": exposed}, "EXPOSE " + " ".join(exposed)
        if isinstance(inst, ins.Volume):
            paths, _ = self._expand(inst, list(inst.paths), env)
            return {"Volumes": {p: {} for p in paths}}, "VOLUME " + json.dumps(paths)
        if isinstance(inst, ins.StopSignal):
            return {"StopSignal": inst.signal}, f"STOPSIGNAL {inst.signal}"
        if isinstance(inst, ins.Shell):
            return {"Shell": list(inst.command)}, "SHELL " + json.dumps(list(inst.command))
        if isinstance(inst, ins.Maintainer):
            return {}, f"MAINTAINER {inst.name}"
        return {}, inst.text

    def _plan_copy(self, df, state, inst, states, key, env):
        from runtime.build import dockerignore
        from runtime.build.context import BuildContext, content_hash
        words, _ = self._expand(inst, [*inst.sources, inst.dest], env)
        sources, dest = words[:-1], words[-1]
        from_ = getattr(inst, "from_", None)
        if from_:
            stage = df.stage(from_)
            if stage is None or stage.index not in states:
                raise BuildError(f"{inst.text}: stage {from_!r} is not built before this one", file=self.file,
                                 line=inst.line, hint="COPY --from can only use a stage defined above it")
            source = states[stage.index]
            key["source"] = source.image_id

            def copy_from():
                src_fs, fs = self._fs(source), self._fs(state)
                for s in sources:
                    path = norm(s, source.settings.get("WorkingDir") or "/")
                    entry = src_fs.lookup(path)
                    if entry is None:
                        raise BuildError(f"{inst.text}: {s} not found in stage {from_}", file=self.file,
                                         line=inst.line)
                    target = self._dest(state, dest, posixpath.basename(path), len(sources) > 1 or src_fs.is_dir(path))
                    for p in [path] + (src_fs.walk(path) if src_fs.is_dir(path) else []):
                        e = src_fs.lookup(p)
                        q = target if p == path else norm(p[len(path) + 1:], target)
                        if e["k"] == "d":
                            fs.mkdir(q, e.get("m", 0o755))
                        else:
                            fs.write(q, e.get("d"), size=e.get("s"), mode=e.get("m"))
                return {}, fs.upper, inst.text
            return key, copy_from
        if self._context is None:
            self._context = BuildContext(self.context, dockerignore.load(self.context))
        found = self._context.sources(sources)
        key["content"], key["files"] = content_hash(found)

        def copy():
            fs = self._fs(state)
            many = len(found) > 1 or dest.endswith("/")
            for source in found:
                for item in source.items:
                    if source.is_dir:
                        rel = item.rel[len(source.name):].lstrip("/") if source.name != "." else item.rel
                        base = self._dest(state, dest, "", True)
                        target = norm(rel, base) if rel else base
                    else:
                        target = self._dest(state, dest, posixpath.basename(item.rel), many)
                    if item.kind == "dir":
                        fs.mkdir(target, item.mode or 0o755)
                    elif item.kind == "file":
                        data, size = _content(item.path)
                        fs.write(target, data, size=size, mode=item.mode or 0o644)
            return {}, fs.upper, inst.text
        return key, copy

    @staticmethod
    def _dest(state, dest: str, name: str, into_dir: bool) -> str:
        base = norm(dest, state.settings.get("WorkingDir") or "/")
        return norm(name, base) if (into_dir or dest.endswith("/")) and name else base

    def _fs(self, state: _State) -> FS:
        world = self.rt.snapshot()
        return FS([world["layers"].get(Digest.parse(d).hex, {}) for d in state.diff_ids], {})

    def _run(self, state: _State, argv: list[str], inst) -> dict | None:
        fs = self._fs(state)
        record = {"id": "build-" + self.id, "name": "build", "process": {"hostname": secrets.token_hex(6)},
                  "spec": {"network": "none"}, "procs": [], "layers": []}
        machine = PlanMachine(self.rt, self.rt.snapshot(), record, fs, pids_max=None)
        env = {**state.env(), **{k: v for k, v in state.args.items() if v is not None}}
        env.setdefault("PATH", DEFAULT_PATH.partition("=")[2])
        sh = Interp(machine, env, cwd=state.settings.get("WorkingDir") or "/", pid=1)
        out = Out(sink=lambda fd, t: self.progress(Output("stdout" if fd == 1 else "stderr", t.encode())))
        shown = " ".join(argv)
        try:
            code = sh.call(argv, "", out.write)
        except ExitShell as exc:
            code = exc.code
        except RunsForever:
            raise BuildError(f"{inst.text}: process \"{shown}\" never ends (in simulated mode it was stopped)",
                             file=self.file, line=inst.line, hint="a RUN step must finish") from None
        if code == 127 and sh.find_program(argv[0]) is None:
            raise BuildError(f"{inst.text}: process \"{shown}\" did not start: exec: \"{argv[0]}\": "
                             "executable file not found in $PATH (exit code 127)", file=self.file, line=inst.line)
        if code != 0:
            raise BuildError(f"{inst.text}: process \"{shown}\" did not complete successfully: exit code: {code}",
                             file=self.file, line=inst.line,
                             hint="the command's output is above; fix the command and build again")
        return fs.upper or None

    def _expand1(self, word: str, env: dict, inst) -> str:
        try:
            return expand(word, env, self.escape).text
        except OnggiError as e:
            raise BuildError(f"{inst.text}: {e}", file=self.file, line=inst.line) from None

    def _expand(self, inst, words, env):
        try:
            return expand_all(words, env, self.escape)
        except OnggiError as e:
            raise BuildError(f"{inst.text}: {e}", file=self.file, line=inst.line) from None


def _content(path: Path) -> tuple[str | None, int]:
    """A context file as a layer keeps it: its text when small and text, else only its size."""
    size = path.stat().st_size
    if size > MAX_TEXT:
        return None, size
    data = path.read_bytes()
    try:
        return data.decode(), size
    except UnicodeDecodeError:
        return None, size
