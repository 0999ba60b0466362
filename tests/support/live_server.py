"""Real HTTP servers for tests: a WSGI app on 127.0.0.1, port 0, in a thread, shut down cleanly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


class LiveServer:
    """A running server; `url` is its base URL (http://127.0.0.1:PORT)."""

    def __init__(self, app) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def live_server(app) -> Iterator[LiveServer]:
    """Serve `app` on loopback for the duration of the block (the socket is bound before use)."""
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()
