"""Images, builds, pulls and pushes, and the per-layer file views (thin views)."""
from __future__ import annotations

import tempfile

from flask import current_app, jsonify, request

from runtime.errors import InvalidArgument

from . import bp
from .routes import _arg_flag, _arg_int, _json_body


def _rt():
    return current_app.runtime


def _image_row(image) -> dict:
    return {"id": image.id, "short_id": image.short_id, "tags": list(image.tags),
            "created": image.created, "size": image.size, "layers": len(image.diff_ids)}


@bp.get("/images")
def images_list():
    """List images (every image once, with all its tags), newest first."""
    return jsonify([_image_row(i) for i in _rt().images.list()])


@bp.get("/images/<path:ref>/history")
def images_history(ref):
    """`onggi history REF`: one row per step that made the image, newest first."""
    return jsonify(_rt().images.history(ref))


@bp.post("/images/<path:ref>/tag")
def images_tag(ref):
    """Tag an image: {"target": "name:tag"}."""
    target = _json_body().get("target")
    if not isinstance(target, str) or not target:
        raise InvalidArgument("invalid request: 'target' is required, e.g. \"myimage:v1\"")
    return jsonify({"tagged": _rt().images.tag(ref, target)})


@bp.get("/images/<path:ref>")
def images_inspect(ref):
    """`onggi image inspect REF`."""
    return jsonify(_rt().images.inspect(ref))


@bp.delete("/images/<path:ref>")
def images_remove(ref):
    """`onggi rmi REF` (?force=1); refused while a container uses it."""
    rt = _rt()
    ids, layers = rt.images_in_use()
    lines = rt.images.remove(ref, force=_arg_flag("force"), in_use=ids, in_use_layers=layers)
    return jsonify({"removed": lines})


@bp.post("/images/pull")
def images_pull():
    """Pull an image from a registry: {"ref": "127.0.0.1:5000/busybox:latest"}."""
    ref = _ref(_json_body())
    image = _rt().pull(ref)
    return jsonify(_image_row(image)), 201


@bp.post("/images/push")
def images_push():
    """Push an image to its registry: {"ref": "127.0.0.1:5000/name:tag"}."""
    ref = _ref(_json_body())
    return jsonify({"ref": ref, "digest": _rt().push(ref)})


def _ref(body) -> str:
    ref = body.get("ref")
    if not isinstance(ref, str) or not ref:
        raise InvalidArgument("invalid request: 'ref' is required, e.g. \"127.0.0.1:5000/busybox:latest\"")
    return ref


@bp.post("/images/build")
def images_build():
    """Build an image from an uploaded context (a tar, field "context") or a Dockerfile text.

    Multipart form or JSON: dockerfile (text), tag, target, no_cache, build_args
    ({"K": "V"} in JSON, K=V lines in a form), file (the Dockerfile's name in the context).
    """
    form = request.form if request.files or request.form else _json_body()
    tag = form.get("tag") or None
    target = form.get("target") or None
    no_cache = str(form.get("no_cache", "")).lower() in ("1", "true", "yes", "on")
    dockerfile_name = form.get("file") or "Dockerfile"
    build_args = _build_args(form.get("build_args"))
    with tempfile.TemporaryDirectory(prefix="onggi-build-") as context:
        upload = request.files.get("context")
        if upload is not None:
            _extract_context(upload.stream, context)
        text = form.get("dockerfile")
        if text:
            import os
            with open(os.path.join(context, dockerfile_name), "w") as f:
                f.write(text)
        if upload is None and not text:
            raise InvalidArgument("invalid request: send a build context (tar) or a Dockerfile text")
        image = _rt().build(context, tag=tag, dockerfile=dockerfile_name, build_args=build_args,
                            no_cache=no_cache, target=target)
    return jsonify(_image_row(image)), 201


def _build_args(value) -> dict:
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    out = {}
    for line in str(value).splitlines():
        if line.strip():
            key, _, val = line.strip().partition("=")
            out[key] = val
    return out


def _extract_context(stream, dest: str) -> None:
    """Unpack an uploaded tar (optionally compressed) into the empty directory dest.

    Every member is vetted first with the rules image layers obey (runtime/image/
    tarsafe.py: no absolute or ``..`` names, nothing through a symlink, no escaping
    hard links, no devices), so nothing is written unless all of it is safe; and
    tarfile's own 'data' filter applies too where this Python has it (3.11.4+).
    """
    import tarfile
    from runtime.errors import UnsafeLayer
    from runtime.image.tarsafe import MemberChecker
    hint = "upload a tar of the directory, e.g. 'tar -cf ctx.tar -C dir .'"
    try:
        with tarfile.open(fileobj=stream, mode="r:*") as tar:
            members = tar.getmembers()
            checker = MemberChecker()
            for member in members:
                checker.check(member)
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(dest, members=members, **safe)
    except UnsafeLayer as exc:
        raise InvalidArgument("invalid build context: " + exc.message.replace("refusing layer: ", ""),
                              hint=hint) from None
    except (tarfile.TarError, OSError) as exc:
        raise InvalidArgument(f"invalid build context: {exc}", hint=hint) from None


# -- layers ----------------------------------------------------------------------------------

def _stack():
    from ..diagrams.layers import stack_for
    image = request.args.get("image")
    container = request.args.get("container")
    if not image and not container:
        raise InvalidArgument("say which layers: ?image=REF or ?container=NAME")
    return stack_for(_rt(), current_app.scans, image=image, container=container)


@bp.get("/layers")
def layers_overview():
    """Each layer of ?image= or ?container= (its upper dir on top): size, made by, A/M/D counts, waste."""
    stack = _stack()
    rows = []
    for info, report in zip(stack.layers, stack.reports):
        rows.append(info | report.to_dict(changes=False))
    return jsonify({"title": stack.title, "layers": rows,
                    "wasted_bytes": sum(r.wasted_bytes for r in stack.reports),
                    "size": sum(r.size for r in stack.reports)})


LIST_LIMIT = 5000


@bp.get("/layers/<int:index>")
def layers_one(index):
    """One layer's files added, modified and deleted, and the bytes it wastes and why."""
    stack = _stack()
    if not 0 <= index < len(stack.reports):
        raise InvalidArgument(f"invalid layer {index}: there are layers 0..{len(stack.reports) - 1}")
    report = stack.reports[index].to_dict()
    changes = report["changes"]
    report["truncated"] = len(changes) > LIST_LIMIT
    report["changes"] = changes[:LIST_LIMIT]
    return jsonify(stack.layers[index] | report)


@bp.get("/layers/file")
def layers_file():
    """A file's content as one layer stores it (?layer=N&path=/etc/passwd)."""
    from runtime.inspect.layers import read_file
    stack = _stack()
    index = _arg_int("layer", None)
    if index is None or not 0 <= index < len(stack.layers):
        raise InvalidArgument("invalid request: ?layer= must name one of the layers")
    info = read_file(stack.layers[index]["dir"], request.args.get("path", ""))
    content = info.pop("content", None)
    if content is not None:
        if b"\0" in content:
            info["binary"] = True
            info["text"] = content[:1024].hex(" ", 1)
        else:
            info["binary"] = False
            info["text"] = content.decode(errors="replace")
    return jsonify(info)


@bp.get("/layers/diff")
def layers_diff():
    """What layers ?from=..?to= change together over the layers below them."""
    from runtime.inspect.layers import diff_range
    stack = _stack()
    lo, hi = _arg_int("from", 0), _arg_int("to", len(stack.entries) - 1)
    changes = diff_range(stack.entries, lo, hi)
    return jsonify({"from": lo, "to": hi, "truncated": len(changes) > LIST_LIMIT,
                    "changes": [c.__dict__ for c in changes[:LIST_LIMIT]]})
