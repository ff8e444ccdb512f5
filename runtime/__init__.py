"""onggi's container runtime: real namespaces, cgroups and overlay mounts, from Python.

The public API (imported lazily, so ``import runtime`` costs nothing)::

    from runtime import Runtime, Config, ContainerSpec
    rt = Runtime(Config.from_env())           # paths from ONGGI_ROOT, ONGGI_RUN...
    c = rt.create(ContainerSpec(image="busybox", cmd=("echo", "hi")))
    handle = c.start(attach=False)            # the monitor runs the launch steps
    handle.wait_started()
    c.wait(); c.logs(); c.remove()

Layering (dependencies point down only; nothing here imports ``web``)::

    cli/                 argument parsing and printing; calls the library
    core.Runtime         wires the subsystems for one Config
    container/           lifecycle, launch steps, monitor, exec
    image/ cgroups/ network/ rootfs/ inspect/   independent subsystems
    linux/               the only code that makes syscalls
    errors, events, config, eventlog           shared vocabulary
"""

_EXPORTS = {
    "Runtime": ("runtime.core", "Runtime"),
    "Config": ("runtime.config", "Config"),
    "ContainerSpec": ("runtime.container.spec", "ContainerSpec"),
    "Container": ("runtime.container.container", "Container"),
    "ImageStore": ("runtime.image.images", "ImageStore"),
    "EventLog": ("runtime.eventlog", "EventLog"),
    "events": ("runtime.events", None),
    "errors": ("runtime.errors", None),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    try:
        module_name, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}") from None
    import importlib
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)
