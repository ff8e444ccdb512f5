"""A registry on this machine: Debian's ``docker-registry`` (the CNCF Distribution registry).

``onggi serve`` runs one for the classroom on 127.0.0.1:5000 with its storage under
the onggi root; the tests run their own on a free port. We run the real registry
binary rather than a Python imitation: pushing to it and pulling from it is then
exactly what talking to any registry is (the same one Docker Hub grew from).

    with LocalRegistry(tmp / "registry", port=free_port()) as reg:
        push(rt, f"{reg.address}/hello:1")

It writes the registry's ``config.yml`` beside the storage directory, starts the
binary in its own session (so a terminal's Ctrl-C does not reach it), waits until
``GET /v2/`` answers, and stops it (SIGTERM, then SIGKILL) on :meth:`stop`.
Authentication, when asked for: ``htpasswd`` (a file of bcrypt hashes: Basic
auth) or ``token`` (``{"realm", "service", "issuer", "rootcertbundle"}``: Bearer
tokens from a token service whose signing certificate is in the bundle).
"""
from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from runtime.errors import PortInUse, RegistryError, Unsupported

BINARY = "docker-registry"


class LocalRegistry:
    def __init__(self, storage: Path, host: str = "127.0.0.1", port: int = 5000,
                 htpasswd: Path | None = None, token: dict | None = None):
        self.storage = Path(storage)
        self.host, self.port = host, port
        self.htpasswd, self.token = htpasswd, token
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        """``127.0.0.1:5000``: the registry part of image references."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def config_path(self) -> Path:
        return self.storage.parent / f"{self.storage.name}.config.yml"

    @property
    def log_path(self) -> Path:
        return self.storage.parent / f"{self.storage.name}.log"

    def config(self) -> dict:
        """The registry's configuration (its ``config.yml``), as a dict."""
        cfg = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)},
                        "delete": {"enabled": True}},
            "http": {"addr": self.address, "secret": secrets.token_hex(16)},
            "health": {"storagedriver": {"enabled": False}},
        }
        if self.htpasswd is not None:
            cfg["auth"] = {"htpasswd": {"realm": "onggi", "path": str(self.htpasswd)}}
        elif self.token is not None:
            cfg["auth"] = {"token": dict(self.token)}
        return cfg

    def start(self, timeout: float = 10.0) -> "LocalRegistry":
        import yaml
        binary = shutil.which(BINARY)
        if binary is None:
            raise Unsupported("cannot start the local registry: docker-registry is not installed",
                              hint="install Debian's docker-registry (apt-get install docker-registry)")
        # Something already answering there (another onggi's registry, say) would pass the
        # start-up check below, "GET /v2/ answers", before ours failed to bind: we would
        # then hand out, and push to, someone else's registry.
        if not port_free(self.host, self.port):
            raise PortInUse(f"cannot start the local registry: {self.host}:{self.port} is already in use",
                            hint="choose another port, or stop what listens there")
        self.storage.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen([binary, "serve", str(self.config_path)], stdout=log,
                                            stderr=log, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RegistryError(f"the local registry exited at start ({self.process.returncode}): "
                                    f"{self._log_tail()}", hint=f"see {self.log_path}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RegistryError(f"the local registry did not answer on {self.url} within {timeout:g}s",
                            hint=f"see {self.log_path}")

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=1)
        try:
            conn.request("GET", "/v2/")
            return conn.getresponse().status in (200, 401)
        except OSError:
            return False
        finally:
            conn.close()

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> "LocalRegistry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def port_free(host: str, port: int) -> bool:
    """Whether HOST:PORT can be bound now (SO_REUSEADDR: a port in TIME_WAIT is free,
    one with a listener is not)."""
    import socket
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# -- the classroom registry: where it is, what it holds -----------------------------------

ANNOUNCED = "registry.address"          # under ONGGI_RUN: the address `onggi serve`'s registry has


def announce(run_dir: Path, address: str | None) -> None:
    """Say (or, with None, unsay) where the classroom registry runs, for the views and lessons."""
    path = Path(run_dir) / ANNOUNCED
    if address is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(address + "\n")
    os.replace(tmp, path)


def announced(run_dir: Path) -> str | None:
    """The classroom registry's address (``127.0.0.1:5000``), or None when none was announced."""
    try:
        return (Path(run_dir) / ANNOUNCED).read_text().strip() or None
    except OSError:
        return None


def catalog(address: str, *, timeout: float = 1.0) -> list[str] | None:
    """The repositories the registry at ADDRESS holds (``GET /v2/_catalog``, plain HTTP: a
    loopback registry such as the classroom's), or None when it does not answer."""
    import json
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/v2/_catalog")
        response = conn.getresponse()
        if response.status != 200:
            return None
        return sorted(json.loads(response.read()).get("repositories") or [])
    except (OSError, ValueError):
        return None
    finally:
        conn.close()

