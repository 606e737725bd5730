"""Serving helpers for the gateway tests: a free loopback port and uvicorn in a thread.

A module with a name of its own (not ``conftest``), so that test modules can import it
whichever other test directories run in the same session.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from _ports import free_port


class Served:
    """An ASGI app served by uvicorn in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
