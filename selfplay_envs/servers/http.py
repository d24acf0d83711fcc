"""The JSON-over-HTTP handler shared by the project's loopback servers (the
OpenAI-compatible model server and the retrieval server), on the standard library."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

__all__ = ["JsonHandler", "serve_until_interrupted"]


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


def serve_until_interrupted(httpd: HTTPServer, banner: str) -> None:
    """Print ``banner``, serve in this thread until Ctrl-C, then release the port.

    The banner is the first line on stdout: a parent process reads from it where to
    connect.
    """
    sys.stdout.write(f"{banner}\n")
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
