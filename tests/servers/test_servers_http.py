"""selfplay_envs.servers.http: the JSON handler both loopback servers build on."""

from __future__ import annotations

import ast
import io
import json
import threading
import urllib.error
import urllib.request
from contextlib import redirect_stdout
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from selfplay_envs.servers.http import JsonHandler, serve_until_interrupted

REPO = Path(__file__).resolve().parents[2]


class _Echo(JsonHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length))
        if body.get("fail"):
            self.send_json(400, {"error": "asked to fail"})
            return
        self.send_json(200, {"echo": body})


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _post(url: str, payload: dict) -> urllib.request.Request:
    return urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")


def test_send_json_answers_a_complete_json_response(server):
    with urllib.request.urlopen(_post(server, {"q": "é", "k": 3}), timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "application/json"
        data = r.read()
        assert int(r.headers["Content-Length"]) == len(data)
    assert json.loads(data) == {"echo": {"q": "é", "k": 3}}


def test_send_json_carries_the_status_of_an_error(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(_post(server, {"fail": True}), timeout=5)
    assert err.value.code == 400
    assert json.loads(err.value.read()) == {"error": "asked to fail"}


def test_requests_are_not_logged(server, capsys):
    urllib.request.urlopen(_post(server, {}), timeout=5).close()
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_serve_until_interrupted_prints_the_banner_first_and_releases_the_port():
    class Interrupting(ThreadingHTTPServer):
        closed = False

        def serve_forever(self, poll_interval: float = 0.5) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            Interrupting.closed = True
            super().server_close()

    httpd = Interrupting(("127.0.0.1", 0), _Echo)
    out = io.StringIO()
    with redirect_stdout(out):
        serve_until_interrupted(httpd, "serving http://127.0.0.1:1")
    assert out.getvalue() == "serving http://127.0.0.1:1\n"
    assert Interrupting.closed


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_both_servers_use_it_and_the_envs_side_never_imports_agents():
    search = REPO / "selfplay_envs/games/search_qa/search/server.py"
    assert "selfplay_envs.servers.http" in _imports(search)
    assert "selfplay_envs.servers.http" in _imports(REPO / "agents/serve.py")
    for path in (REPO / "selfplay_envs/servers").glob("*.py"):
        assert not any(
            name.split(".")[0] in ("agents", "selfplay_agents")
            for name in _imports(path)
        ), path
    assert not (REPO / "selfplay_envs/core/http.py").exists()
