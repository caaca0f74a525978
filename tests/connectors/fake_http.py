"""What the fake channels' HTTP servers share (fake_shopify_server.py, fake_woocommerce.py): a threading server
on 127.0.0.1 at a free port, started and stopped by ``with``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    """``with Fake() as fake:`` serves ``handler`` on 127.0.0.1 at ``fake.base_url``; ``state`` (e.g. ``shop=...``)
    becomes attributes of the handler's class, so each request sees the fake's state."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], **state):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (handler,), state))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
