"""A local webhook receiver on 127.0.0.1 for alert-delivery tests: records each POST, de-duplicates on the
Idempotency-Key header and can simulate an outage (HTTP 503), any other status code with a reason in the
body, a dropped connection, or a slow drip (one header line every 0.5 s, never finishing the headers)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self):
        self.requests: list[dict] = []  # every POST that reached the handler
        self.accepted: dict[str, dict] = {}  # idempotency key -> payload, first delivery only
        self.duplicates = 0
        # "up" | "503" | "drop" (closes the connection without an answer) | "drip" | an int: that status
        self.mode: str | int = "up"
        self.drip_seconds = 8.0  # how long a drip lasts at most (bounded, so a hung client fails its test)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key")
                receiver.requests.append({"key": key, "mode": receiver.mode})
                if receiver.mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if receiver.mode == "drip":
                    self._drip()
                    return
                if isinstance(receiver.mode, int):
                    reason = b"payload rejected: schema mismatch"
                    self.send_response(receiver.mode)
                    self.send_header("Content-Length", str(len(reason)))
                    self.end_headers()
                    self.wfile.write(reason)
                    return
                if receiver.mode == "503":
                    self.send_response(503)
                    self.end_headers()
                    return
                if key in receiver.accepted:
                    receiver.duplicates += 1
                else:
                    receiver.accepted[key] = json.loads(body)
                self.send_response(202)
                self.end_headers()

            def _drip(self):
                self.close_connection = True
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    end = time.monotonic() + receiver.drip_seconds
                    while time.monotonic() < end:
                        self.wfile.write(b"X-Drip: still here\r\n")
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:  # the client gave up and closed the connection
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
