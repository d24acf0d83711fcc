"""Tool calls: the text syntax agents use, its parser, and the tools themselves.

One reply holds one tool call in a ``<tool>`` tag (the last one counts; ``<think>``
blocks are ignored). Attributes carry short arguments, the body carries long ones
verbatim (one newline right after the opening tag is dropped)::

    <tool name="shell">python -m pytest -q tests/test_parser.py</tool>
    <tool name="read_file" path="inifile/parser.py"/>
    <tool name="write_file" path="notes.txt">
    file contents, verbatim
    </tool>
    <tool name="apply_patch">
    --- a/inifile/parser.py
    +++ b/inifile/parser.py
    @@ -10,3 +10,3 @@
    ...
    </tool>
    <tool name="submit"/>

The same call may be written as JSON in the body of a bare tag:
``<tool>{"name": "read_file", "args": {"path": "a.py"}}</tool>``. A body wrapped in a
Markdown code fence is unwrapped. Text that holds no well-formed call is an invalid
move with a reason; a call that fails when run (a missing file, a diff that does not
apply, a failing command) is a valid turn whose observation says what went wrong.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from typing import Any

from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.games.bug_repair.patches import (
    PatchError,
    apply_patch,
    normalise_path,
    parse_patch,
)
from selfplay_envs.games.bug_repair.sandbox.base import CommandResult, Sandbox
from selfplay_envs.games.bug_repair.workspace import Workspace, WorkspaceError

__all__ = [
    "ToolName",
    "ToolCall",
    "ToolResult",
    "parse_tool_call",
    "format_tool_call",
    "run_file_tool",
    "run_shell",
    "truncate_middle",
    "SYNTAX_HELP",
]

MAX_COMMAND_CHARS = 16_384
MAX_WRITE_BYTES = 1024 * 1024
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_OPEN = re.compile(r"<tool\b([^<>]*?)(/?)>", re.IGNORECASE | re.DOTALL)
_CLOSE = re.compile(r"</tool\s*>", re.IGNORECASE)
_ATTR = re.compile(r"""\s*([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n?```\s*$", re.DOTALL)


class ToolName(str, enum.Enum):
    """The tools an agent may call."""

    SHELL = "shell"
    READ_FILE = "read_file"
    WRITE_FILE = "write_file"
    APPLY_PATCH = "apply_patch"
    SUBMIT = "submit"
    PASS = "pass"  # played by the env for an invalid move under the penalty policy


# Which argument the tag body fills, per tool.
_BODY_ARG = {
    ToolName.SHELL: "command",
    ToolName.READ_FILE: "path",
    ToolName.WRITE_FILE: "content",
    ToolName.APPLY_PATCH: "patch",
}

SYNTAX_HELP = """\
Call exactly one tool per reply, in a <tool> tag (the last tag in your reply counts):
  <tool name="shell">COMMAND</tool>                  run COMMAND with sh in the repository root
  <tool name="read_file" path="PATH"/>               show a file
  <tool name="write_file" path="PATH">CONTENT</tool>  create or overwrite a file
  <tool name="apply_patch">UNIFIED DIFF</tool>       apply a diff (paths relative to the root)
  <tool name="submit">...</tool>                     finish (see your task above)
Bodies are taken verbatim (a newline right after the opening tag is dropped). Paths are
relative to the repository root. JSON also works: <tool>{"name": "shell", "args": {"command": "ls"}}</tool>"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToolCall:
    """A parsed tool call: the tool and its string (or list) arguments."""

    name: ToolName
    args: dict[str, Any] = dataclasses.field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """An argument, or ``default``."""
        return self.args.get(key, default)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToolResult:
    """What a tool call did: the observation text and structured data for infos."""

    tool: str
    ok: bool
    output: str
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"tool": self.tool, "ok": self.ok, "output": self.output, **self.data}


# ---- parsing ------------------------------------------------------------------------


def _invalid(reason: InvalidReason, detail: str) -> ParseResult:
    return ParseResult.invalid(reason, detail)


def parse_tool_call(text: Any) -> ParseResult:
    """Parse the last tool call of ``text`` into a ``ToolCall`` (never raises)."""
    if not isinstance(text, str):
        return _invalid(InvalidReason.UNPARSABLE, "expected text")
    visible = _THINK.sub(lambda m: " " * len(m.group(0)), text)
    opens = list(_OPEN.finditer(visible))
    if not opens:
        return _invalid(InvalidReason.NO_ACTION_TAG, 'no <tool name="..."> call found')
    tag = opens[-1]
    attrs, error = _attributes(tag.group(1))
    if error:
        return _invalid(InvalidReason.UNPARSABLE, error)
    if tag.group(2) == "/":
        body = None
    else:
        closes = [m for m in _CLOSE.finditer(visible, tag.end())]
        if not closes:
            return _invalid(
                InvalidReason.UNPARSABLE, "the last <tool> tag is never closed"
            )
        body = text[tag.end() : closes[-1].start()]
        if body.startswith("\r\n"):
            body = body[2:]
        elif body.startswith("\n"):
            body = body[1:]
    if "name" not in attrs:
        return _from_json(body)
    return _build(attrs.pop("name"), attrs, body)


def _attributes(raw: str) -> tuple[dict[str, str], str]:
    attrs: dict[str, str] = {}
    position = 0
    raw = raw.rstrip()
    while position < len(raw):
        match = _ATTR.match(raw, position)
        if match is None:
            return {}, f'bad attribute syntax in <tool{raw[:60]}>: use key="value"'
        attrs[match.group(1).lower()] = (
            match.group(2) if match.group(2) is not None else match.group(3)
        )
        position = match.end()
    return attrs, ""


def _from_json(body: str | None) -> ParseResult:
    if not body or not body.strip():
        return _invalid(
            InvalidReason.UNPARSABLE, '<tool> needs name="..." or a JSON body'
        )
    data, error = _load_json(body)
    if error:
        return _invalid(InvalidReason.UNPARSABLE, f"tool JSON does not parse: {error}")
    if not isinstance(data, dict):
        return _invalid(InvalidReason.UNPARSABLE, "tool JSON must be an object")
    name = data.get("name", data.get("tool"))
    args = data.get("args", data.get("arguments", {}))
    if not isinstance(name, str) or not isinstance(args, dict):
        return _invalid(
            InvalidReason.UNPARSABLE, 'tool JSON needs {"name": str, "args": {...}}'
        )
    return _build(name, dict(args), None)


def _load_json(body: str) -> tuple[Any, str]:
    """``json.loads`` of a (possibly fenced) body, or the reason it fails. Besides
    syntax errors, JSON nested deeper than the recursion limit and integers of more
    than 4300 digits raise (RecursionError, ValueError): model text, not a bug."""
    try:
        return json.loads(_unfence(body)), ""
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as err:  # json.JSONDecodeError included
        return None, str(err)


def _unfence(body: str) -> str:
    match = _FENCE.match(body)
    return match.group(1) + "\n" if match else body


def _build(name: str, args: dict[str, Any], body: str | None) -> ParseResult:
    try:
        tool = ToolName(name.strip().lower())
    except ValueError:
        known = ", ".join(t.value for t in ToolName if t is not ToolName.PASS)
        return _invalid(
            InvalidReason.UNPARSABLE, f"unknown tool {name[:40]!r}; tools: {known}"
        )
    if tool is ToolName.PASS:
        return _invalid(
            InvalidReason.UNPARSABLE, "'pass' is not a tool agents can call"
        )
    if body is not None and body.strip():
        if tool is ToolName.SUBMIT:
            merged, error = _submit_body(body)
            if error:
                return _invalid(InvalidReason.UNPARSABLE, error)
            args = {**merged, **args}
        elif tool in _BODY_ARG:
            args.setdefault(
                _BODY_ARG[tool],
                _unfence(body) if tool is not ToolName.READ_FILE else body.strip(),
            )
    return _check(ToolCall(name=tool, args=args))


def _submit_body(body: str) -> tuple[dict[str, Any], str]:
    data, error = _load_json(body)
    if error:
        return {}, f"submit body must be a JSON object: {error}"
    if not isinstance(data, dict):
        return {}, "submit body must be a JSON object"
    return data, ""


def _check(call: ToolCall) -> ParseResult:
    args = call.args
    if call.name is ToolName.SHELL:
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            return _invalid(InvalidReason.UNPARSABLE, "shell needs a command")
        if len(command) > MAX_COMMAND_CHARS:
            return _invalid(
                InvalidReason.UNPARSABLE,
                f"command longer than {MAX_COMMAND_CHARS} characters",
            )
        if "timeout" in args and not _is_number(args["timeout"]):
            return _invalid(
                InvalidReason.UNPARSABLE, "shell timeout must be a number of seconds"
            )
    elif call.name in (ToolName.READ_FILE, ToolName.WRITE_FILE):
        path = args.get("path")
        if not isinstance(path, str) or not path.strip():
            return _invalid(
                InvalidReason.UNPARSABLE, f'{call.name.value} needs path="..."'
            )
        try:
            args["path"] = normalise_path(path.strip())
        except PatchError as err:
            return _invalid(InvalidReason.ILLEGAL, str(err))
        if call.name is ToolName.WRITE_FILE:
            content = args.get("content", "")
            if not isinstance(content, str):
                return _invalid(
                    InvalidReason.UNPARSABLE, "write_file content must be text"
                )
            if len(content.encode("utf-8", "surrogatepass")) > MAX_WRITE_BYTES:
                return _invalid(
                    InvalidReason.UNPARSABLE,
                    f"file content over {MAX_WRITE_BYTES} bytes",
                )
            args["content"] = content
    elif call.name is ToolName.APPLY_PATCH:
        patch = args.get("patch")
        if not isinstance(patch, str) or not patch.strip():
            return _invalid(
                InvalidReason.UNPARSABLE, "apply_patch needs a unified diff in its body"
            )
    return ParseResult.legal(call)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def format_tool_call(call: ToolCall, limit: int = 400) -> str:
    """Canonical one-tag text of a call (long bodies shortened), for records."""
    args = dict(call.args)
    body_key = _BODY_ARG.get(call.name)
    body = (
        args.pop(body_key, None)
        if body_key and call.name is not ToolName.READ_FILE
        else None
    )
    attrs = "".join(
        f' {k}="{_short(v, 80)}"'
        for k, v in sorted(args.items())
        if not isinstance(v, (dict, list))
    )
    lists = {k: v for k, v in args.items() if isinstance(v, (dict, list))}
    if call.name is ToolName.SUBMIT and lists:
        attrs += f" {json.dumps(lists)[:200]}"
    if body is None:
        return f'<tool name="{call.name.value}"{attrs}/>'
    return f'<tool name="{call.name.value}"{attrs}>{_short(str(body), limit)}</tool>'


def _short(text: Any, limit: int) -> str:
    text = str(text)
    return (
        text if len(text) <= limit else text[: limit - 15] + f"...[{len(text)} chars]"
    )


def truncate_middle(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = max(limit - head - 40, 0)
    omitted = len(text) - head - tail
    return f"{text[:head]}\n[... {omitted} characters omitted ...]\n{text[len(text) - tail :]}"


# ---- running ------------------------------------------------------------------------


def run_shell(
    call: ToolCall, sandbox: Sandbox, max_timeout: float, max_chars: int
) -> ToolResult:
    """Run a shell command in the sandbox."""
    timeout = min(float(call.get("timeout", max_timeout)), max_timeout)
    result = sandbox.run(call.args["command"], timeout=max(timeout, 1.0))
    return ToolResult(
        tool=call.name.value,
        ok=result.ok,
        output=format_command_output(result, max_chars),
        # Programs get the whole captured output (the sandbox caps it); the prompt
        # gets ``max_chars``.
        data={
            "exit_code": result.exit_code,
            "timed_out": result.timed_out,
            "output_killed": result.output_killed,
            "stdout": result.stdout,
            "stderr": result.stderr,
        },
    )


def format_command_output(result: CommandResult, max_chars: int) -> str:
    """The observation text of a command: status line, stdout, stderr."""
    parts = [f"[{result.describe()}]"]
    if result.stdout:
        parts.append(truncate_middle(result.stdout, max_chars))
    if result.stderr:
        parts.append("[stderr]\n" + truncate_middle(result.stderr, max_chars // 2))
    if not result.stdout and not result.stderr:
        parts.append("(no output)")
    return "\n".join(parts)


def run_file_tool(call: ToolCall, workspace: Workspace, max_chars: int) -> ToolResult:
    """``read_file``, ``write_file`` or ``apply_patch`` on the working copy."""
    try:
        if call.name is ToolName.READ_FILE:
            return _read(call, workspace, max_chars)
        if call.name is ToolName.WRITE_FILE:
            data = call.args["content"].encode("utf-8", "surrogatepass")
            workspace.write_bytes(call.args["path"], data)
            return ToolResult(
                tool="write_file",
                ok=True,
                output=f"wrote {len(data)} bytes to {call.args['path']}",
            )
        return _patch(call, workspace)
    except (WorkspaceError, PatchError) as err:
        return ToolResult(
            tool=call.name.value,
            ok=False,
            output=f"error: {err}",
            data={"error": str(err)},
        )


def _read(call: ToolCall, workspace: Workspace, max_chars: int) -> ToolResult:
    data = workspace.read_bytes(call.args["path"])
    text = data.decode("utf-8", "replace")
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    header = f"{call.args['path']} ({lines} lines, {len(data)} bytes)"
    return ToolResult(
        tool="read_file",
        ok=True,
        output=f"{header}\n{truncate_middle(text, max_chars)}",
        data={"path": call.args["path"], "content": text},
    )


def _patch(call: ToolCall, workspace: Workspace) -> ToolResult:
    patches = parse_patch(call.args["patch"])
    touched = {p.old_path for p in patches if p.old_path} | {
        p.new_path for p in patches if p.new_path
    }
    before = {}
    for path in sorted(touched):
        try:
            before[path] = workspace.read_bytes(path)
        except WorkspaceError as err:
            if "no such file" not in str(err):
                raise
    after = apply_patch(before, patches)
    for path in sorted(set(before) - set(after)):
        workspace.delete(path)
    for path, data in after.items():
        if before.get(path) != data:
            workspace.write_bytes(path, data)
    changed = sorted(
        p for p in set(before) | set(after) if before.get(p) != after.get(p)
    )
    return ToolResult(
        tool="apply_patch",
        ok=True,
        output="applied; changed: " + (", ".join(changed) or "nothing"),
        data={"changed": changed},
    )
