"""The tool-call syntax, the file tools, the working copy, and JUnit parsing."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from selfplay_envs.core.parsing import InvalidReason
from selfplay_envs.games.bug_repair.report import Outcome, TestReport
from selfplay_envs.games.bug_repair.tools import (
    ToolCall,
    ToolName,
    format_tool_call,
    parse_tool_call,
    run_file_tool,
    truncate_middle,
)
from selfplay_envs.games.bug_repair.workspace import Workspace, WorkspaceError

# ---- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ('<tool name="shell">ls -la</tool>', ToolName.SHELL, {"command": "ls -la"}),
        (
            "I will look.\n<tool name='read_file' path='a/b.py'/>",
            ToolName.READ_FILE,
            {"path": "a/b.py"},
        ),
        (
            '<tool name="read_file">pkg/x.py</tool>',
            ToolName.READ_FILE,
            {"path": "pkg/x.py"},
        ),
        (
            '<tool name="write_file" path="x.py">\nprint(1)\n</tool>',
            ToolName.WRITE_FILE,
            {"path": "x.py", "content": "print(1)\n"},
        ),
        (
            '<tool name="write_file" path="x.py">\n```python\nprint(1)\n```\n</tool>',
            ToolName.WRITE_FILE,
            {"path": "x.py", "content": "print(1)\n"},
        ),
        ('<TOOL NAME="Shell">pwd</TOOL>', ToolName.SHELL, {"command": "pwd"}),
        (
            '<tool>{"name": "shell", "args": {"command": "ls"}}</tool>',
            ToolName.SHELL,
            {"command": "ls"},
        ),
        ('<tool name="submit"/>', ToolName.SUBMIT, {}),
        (
            '<tool name="submit">{"test_files": ["t.py"]}</tool>',
            ToolName.SUBMIT,
            {"test_files": ["t.py"]},
        ),
        (
            '<tool name="shell" timeout="5">sleep 1</tool>',
            ToolName.SHELL,
            {"command": "sleep 1", "timeout": "5"},
        ),
    ],
)
def test_tool_calls_parse(text: str, name: ToolName, args: dict) -> None:
    result = parse_tool_call(text)
    assert result.ok, result.message
    assert result.action.name is name
    assert result.action.args == args


def test_the_last_call_counts_and_think_blocks_are_ignored() -> None:
    text = '<think><tool name="shell">rm -rf /</tool></think><tool name="shell">ls</tool> then <tool name="read_file" path="a.py"/>'
    result = parse_tool_call(text)
    assert result.action == ToolCall(name=ToolName.READ_FILE, args={"path": "a.py"})


def test_body_may_contain_tags() -> None:
    text = '<tool name="write_file" path="t.html">\n<b>bold</b>\n</tool>'
    assert parse_tool_call(text).action.args["content"] == "<b>bold</b>\n"


@pytest.mark.parametrize(
    ("text", "reason", "fragment"),
    [
        ("just prose", InvalidReason.NO_ACTION_TAG, "no <tool"),
        ("", InvalidReason.NO_ACTION_TAG, "no <tool"),
        ('<tool name="shell">ls', InvalidReason.UNPARSABLE, "never closed"),
        ('<tool name="fly">x</tool>', InvalidReason.UNPARSABLE, "unknown tool"),
        ('<tool name="pass"/>', InvalidReason.UNPARSABLE, "not a tool"),
        ('<tool name="shell"></tool>', InvalidReason.UNPARSABLE, "needs a command"),
        ('<tool name="read_file"/>', InvalidReason.UNPARSABLE, "needs path"),
        (
            '<tool name="read_file" path="../../etc/passwd"/>',
            InvalidReason.ILLEGAL,
            "leaves",
        ),
        (
            '<tool name="write_file" path="/etc/x">y</tool>',
            InvalidReason.ILLEGAL,
            "absolute",
        ),
        ('<tool>{"name": 3}</tool>', InvalidReason.UNPARSABLE, "JSON"),
        ("<tool>not json</tool>", InvalidReason.UNPARSABLE, "JSON"),
        ("<tool name=shell>ls</tool>", InvalidReason.UNPARSABLE, "attribute"),
        ('<tool name="apply_patch"></tool>', InvalidReason.UNPARSABLE, "unified diff"),
        (
            '<tool name="shell" timeout="soon">ls</tool>',
            InvalidReason.UNPARSABLE,
            "timeout",
        ),
        ('<tool name="submit">[1, 2]</tool>', InvalidReason.UNPARSABLE, "JSON object"),
        # json.loads raises RecursionError and ValueError here, not JSONDecodeError
        ("<tool>" + "[" * 100_000 + "</tool>", InvalidReason.UNPARSABLE, "deeply"),
        (
            '<tool name="submit">' + '{"a": ' * 5_000 + "</tool>",
            InvalidReason.UNPARSABLE,
            "deeply",
        ),
        (
            '<tool>{"name": "shell", "args": {"timeout": ' + "1" * 5_000 + "}}</tool>",
            InvalidReason.UNPARSABLE,
            "4300 digits",
        ),
    ],
)
def test_malformed_calls_are_invalid_with_a_reason(
    text: str, reason: InvalidReason, fragment: str
) -> None:
    result = parse_tool_call(text)
    assert not result.ok
    assert result.reason is reason
    assert fragment in result.message


def test_non_text_is_invalid() -> None:
    assert not parse_tool_call(None).ok  # type: ignore[arg-type]


def test_junk_is_rejected_fast() -> None:
    import time

    junk = "<" * 30000 + "tool" * 5000 + '"' * 10000
    start = time.perf_counter()
    assert not parse_tool_call(junk).ok
    assert time.perf_counter() - start < 1.0


def test_format_shortens_long_bodies() -> None:
    call = ToolCall(
        name=ToolName.WRITE_FILE, args={"path": "a.py", "content": "x" * 5000}
    )
    text = format_tool_call(call)
    assert text.startswith('<tool name="write_file" path="a.py">') and len(text) < 600
    assert parse_tool_call(
        format_tool_call(ToolCall(name=ToolName.SHELL, args={"command": "ls"}))
    ).ok


def test_truncate_middle_keeps_head_and_tail() -> None:
    text = "HEAD" + "x" * 10000 + "TAIL"
    cut = truncate_middle(text, 300)
    assert cut.startswith("HEAD") and cut.endswith("TAIL") and "omitted" in cut
    assert len(cut) < 400


# ---- the working copy and the file tools ----------------------------------------------


@pytest.fixture
def workspace() -> Workspace:
    ws = Workspace()
    ws.load({"pkg/a.py": b"x = 1\n", "README.md": b"hi\n"})
    yield ws
    ws.cleanup()


def _call(text: str) -> ToolCall:
    result = parse_tool_call(text)
    assert result.ok, result.message
    return result.action


def test_file_tools(workspace: Workspace) -> None:
    read = run_file_tool(
        _call('<tool name="read_file" path="pkg/a.py"/>'), workspace, 1000
    )
    assert read.ok and read.data["content"] == "x = 1\n" and "1 lines" in read.output
    wrote = run_file_tool(
        _call('<tool name="write_file" path="new/dir/b.py">\ny = 2\n</tool>'),
        workspace,
        1000,
    )
    assert wrote.ok and (workspace.path / "new/dir/b.py").read_text() == "y = 2\n"
    diff = "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 5\n"
    patched = run_file_tool(
        _call(f'<tool name="apply_patch">\n{diff}</tool>'), workspace, 1000
    )
    assert patched.ok and patched.data["changed"] == ["pkg/a.py"]
    assert (workspace.path / "pkg/a.py").read_text() == "x = 5\n"


def test_file_tool_errors_are_observations(workspace: Workspace) -> None:
    missing = run_file_tool(
        _call('<tool name="read_file" path="nope.py"/>'), workspace, 1000
    )
    assert not missing.ok and "no such file" in missing.output
    bad = run_file_tool(
        _call(
            '<tool name="apply_patch">\n--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -1 +1 @@\n-zzz\n+y\n</tool>'
        ),
        workspace,
        1000,
    )
    assert not bad.ok and "does not apply" in bad.output
    assert (workspace.path / "pkg/a.py").read_text() == "x = 1\n"


def test_symlinks_are_never_followed_by_the_host(
    workspace: Workspace, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    os.symlink(secret, workspace.path / "leak")
    os.symlink(tmp_path, workspace.path / "leakdir")
    with pytest.raises(WorkspaceError, match="symbolic link"):
        workspace.read_bytes("leak")
    with pytest.raises(WorkspaceError):
        workspace.read_bytes("leakdir/secret.txt")
    with pytest.raises(WorkspaceError):
        workspace.write_bytes("leakdir/secret.txt", b"overwritten")
    workspace.write_bytes("leak", b"replaced the link")
    assert secret.read_text() == "host secret"
    assert not (workspace.path / "leak").is_symlink()
    assert "leak" not in {k for k in workspace.snapshot() if k.startswith("leakdir")}


def test_snapshot_skips_links_caches_and_special_files(workspace: Workspace) -> None:
    (workspace.path / "pkg/__pycache__").mkdir()
    (workspace.path / "pkg/__pycache__/a.pyc").write_bytes(b"\0")
    os.symlink("/etc/hostname", workspace.path / "host")
    os.mkfifo(workspace.path / "fifo")
    assert sorted(workspace.snapshot()) == ["README.md", "pkg/a.py"]


def test_load_replaces_everything(workspace: Workspace) -> None:
    (workspace.path / "pkg/extra.txt").write_text("x")
    os.chmod(workspace.path / "pkg", 0o000)  # untrusted code may lock a directory
    workspace.load({"only.txt": b"1"})
    assert workspace.snapshot() == {"only.txt": b"1"}


def test_workspace_pickles_as_its_files(workspace: Workspace) -> None:
    clone = pickle.loads(pickle.dumps(workspace))
    try:
        assert clone.path != workspace.path
        assert clone.snapshot() == workspace.snapshot()
    finally:
        clone.cleanup()


def test_cleanup_removes_the_directory() -> None:
    ws = Workspace()
    path = ws.path
    ws.write_bytes("a.txt", b"x")
    ws.cleanup()
    assert not path.exists() and not ws.alive
    ws.cleanup()  # idempotent


def test_garbage_collection_removes_the_directory() -> None:
    ws = Workspace()
    base = ws.path.parent
    del ws
    import gc

    gc.collect()
    assert not base.exists()


# ---- test reports ---------------------------------------------------------------------


def test_a_report_counts_missing_tests_as_not_passing() -> None:
    report = TestReport(
        outcomes={
            "test_mix.py::test_ok": Outcome.PASSED,
            "test_mix.py::test_bad": Outcome.FAILED,
            "test_mix.py::test_skip": Outcome.SKIPPED,
            "test_mix.py::test_error": Outcome.ERROR,
        }
    )
    assert report.failing == {"test_mix.py::test_bad", "test_mix.py::test_error"}
    assert report.not_passing(["test_mix.py::test_ok", "test_mix.py::gone"]) == {
        "test_mix.py::gone"
    }
    assert "1 passed" in report.summary()


def test_a_tampered_report_passes_nothing() -> None:
    report = TestReport(
        outcomes={"test_mix.py::test_ok": Outcome.PASSED}, tampering=("forged line",)
    )
    assert not report.passed
    assert report.not_passing(["test_mix.py::test_ok"]) == {"test_mix.py::test_ok"}
    assert "TAMPERING" in report.summary()
