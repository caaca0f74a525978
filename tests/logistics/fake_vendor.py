"""A small threaded HTTP server on loopback for fake vendors: records every request, answers through the
subclass's ``handle(request) -> (status, headers, body)``, and can be told to fail the next matching requests
(``fail(match, status, body, headers)``) to play 401, 422, 429 and 5xx."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class Failure:
    match: str
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)


class FakeVendor:
    def __init__(self):
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self.lock = threading.Lock()
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers), self.rfile.read(length))
                with vendor.lock:
                    vendor.requests.append(request)
                    failure = next((f for f in vendor.failures if f.match in f"{self.command} {self.path}"), None)
                    if failure is not None:
                        vendor.failures.remove(failure)
                        status, headers, body = failure.status, failure.headers, failure.body
                    else:
                        status, headers, body = vendor.handle(request)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, match: str, status: int, body=b"", headers: dict | None = None, times: int = 1):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        for _ in range(times):
            self.failures.append(Failure(match, status, body, headers or {"Content-Type": "application/json"}))

    def handle(self, request: Request) -> tuple[int, dict, bytes]:  # pragma: no cover (subclasses answer)
        raise NotImplementedError

    def calls(self, match: str) -> list[Request]:
        return [r for r in self.requests if match in f"{r.method} {r.path}"]


def json_answer(status: int, data) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data, ensure_ascii=False).encode("utf-8")
