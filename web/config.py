"""The web app's settings: Flask config keys, one class per situation.

``create_app(config)`` takes one of these (or a dict). Everything the app needs
from outside comes from here: the token, which onggi to drive (a
``runtime.config.Config``, from ONGGI_* variables when None), the origins
Socket.IO accepts, and whether to follow the events log.
"""
from __future__ import annotations

import os


class Config:
    # The token every page, API call and Socket.IO connection must carry. None
    # refuses everything (serve always sets one).
    ONGGI_TOKEN: str | None = None
    # runtime.config.Config of the onggi to drive; None: Config.from_env().
    ONGGI_RUNTIME = None
    # Origins Socket.IO accepts (the served one); None: the Host header's own.
    ONGGI_ORIGINS: list[str] | None = None
    # Follow the events log and push diagrams in background tasks.
    ONGGI_LIVE = True
    # What --network means when the API is not told (the CLI's default too).
    ONGGI_DEFAULT_NETWORK = os.environ.get("ONGGI_DEFAULT_NETWORK", "none")
    # Seconds between re-reads of the gauges (cgroup usage changes without events).
    ONGGI_GAUGE_INTERVAL = 1.0
    # The CLI that browser terminals run (onggi exec -it / run -it).
    ONGGI_CLI: str | None = None
    MAX_CONTENT_LENGTH = 512 * 1024 * 1024      # build contexts


class TestConfig(Config):
    TESTING = True
    ONGGI_TOKEN = "test-token"
    ONGGI_LIVE = False
