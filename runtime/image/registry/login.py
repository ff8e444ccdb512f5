"""``onggi login`` / ``onggi logout``: check credentials against a registry, keep or forget them."""
from __future__ import annotations

from runtime.image.registry.auth import Credentials, normalize_registry


def login(rt, registry: str, user: str, password: str) -> str:
    """Log in to ``registry`` (checked with the registry first); the host the login is kept for.

    Raises :class:`AuthenticationRequired` when the registry refuses the
    credentials; nothing is stored then.
    """
    from runtime.image.registry.client import Registry, insecure_registries
    host = normalize_registry(registry)
    client = Registry(host, credentials=(user, password), insecure_names=insecure_registries(rt.config))
    try:
        client.check_login()
    finally:
        client.close()
    Credentials(rt.config.root / "auth.json").set(host, user, password)
    return host


def logout(rt, registry: str) -> bool:
    """Forget the login for ``registry``; False if there was none."""
    return Credentials(rt.config.root / "auth.json").remove(registry)
