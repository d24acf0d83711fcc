"""The JSON-over-HTTP handler shared by the project's loopback servers (the
OpenAI-compatible model server and the retrieval server), on the standard library."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["JsonHandler"]


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON and keeps no access log."""

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        """Send ``payload`` as a complete JSON response with ``status``."""
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: a trainer's log is not the place for each request."""
        del format, args
