"""A RUN step: its command in a real container, its changes taken as the step's layer.

The container is made from the image as it is so far (indexed only while it is
created: build steps live in the cache, not among ``onggi images``), with no
network, the stage's ENV plus the build arguments in scope, and the image's
WORKDIR and USER. Its output is read from the container's log as it is written
and handed to the build's progress. When the command exits 0, the container's
overlay upper directory, which holds exactly what the command added, changed or
deleted (whiteouts), is written as a layer tar. The container's /etc/hosts,
/etc/hostname, /etc/resolv.conf, /proc, /sys and /dev live in its init layer and
in mounts, never in the upper directory, so they are not part of the layer.

Whatever happens (non-zero exit, a command that does not exist, Ctrl-C) the
container is removed before this returns.
"""
from __future__ import annotations

from runtime.errors import BuildError, OnggiError


def run_step(builder, state, argv: list[str], env: list[str], inst) -> dict | None:
    """Run ``argv`` in a container from ``state``; the descriptor of the layer it made, or None."""
    from runtime.build.builder import Output
    from runtime.container.spec import ContainerSpec
    from runtime.image.ingest_image import put_image_bytes, temporarily_indexed
    store = builder.store
    manifest = put_image_bytes(store.blobs, state.config_bytes, state.layers)
    with temporarily_indexed(store, manifest) as image:
        container = builder.rt.create(ContainerSpec(image=image.id, cmd=tuple(argv), entrypoint=(),
                                                    env=tuple(env), network="none"))
    shown = " ".join(argv)
    try:
        handle = container.start(attach=False)
        try:
            try:
                handle.wait_started()
            except OnggiError as e:
                raise BuildError(f"{inst.text}: process \"{shown}\" did not start: {e} "
                                 f"(exit code {e.exit_code})", file=builder.file, line=inst.line,
                                 hint=e.hint or None) from None
            for stream, data, _ in container.logs(follow=True):
                builder.progress(Output(stream, data))
            code = container.wait()
        finally:
            handle.close()
        if code != 0:
            raise BuildError(f"{inst.text}: process \"{shown}\" did not complete successfully: "
                             f"exit code: {code}", file=builder.file, line=inst.line,
                             hint="the command's output is above; fix the command and build again")
        return builder.write_layer(container.record.upper)
    finally:
        container.remove(force=True)
