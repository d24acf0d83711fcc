"""The verdict runner: runs the oracle tests inside the sandbox and reports each result
to the host over an authenticated channel. The host never imports this file; it sends
its source to a tiny bootstrap (``verdict.BOOTSTRAP``) on the sandboxed interpreter's
standard input, followed by the request, so nothing of it is in a file, argv or the
environment. Only the standard library and pytest are used.

Order of events, each step before any code of the repository is imported:

1. Read the request (the HMAC key, the run id, the files and their hashes) from fd 0,
   then point fd 0 at ``/dev/null``. The key lives only inside a suspended generator.
2. Keep the pipe to the host (fd 1) as a private, non-inheritable descriptor and point
   fd 1 at fd 2: whatever the code under test prints goes to stderr, never to the
   channel. Make the process non-dumpable, so no other process of the sandbox user
   can ptrace it or open its ``/proc/<pid>/mem``.
3. Check every protected file (tests, conftests, pytest configuration) against the
   host's hashes, and that no unlisted conftest, pytest configuration,
   ``sitecustomize``/``usercustomize``, ``.pth`` or byte-code file exists.
4. Import pytest and configure a session by hand (no plugin of ours registered),
   snapshot what tests rely on (builtins, ``pytest``, ``_pytest``, ``unittest`` and
   their classes, signal handlers), route ``signal.signal`` through a gate, and
   install an audit hook that refuses the escape hatches (``ctypes``, ``gc``
   introspection, tracing, other threads' frames, ``/proc/*/mem``) and judges frame
   access and code surgery by the frame that runs it.
5. Collect with pytest, then run each test in a loop of our own: fixtures through
   pytest's setup state, the test function called directly (no pluggy hook on the
   call path), after checking that it is the function compiled from the protected
   source. After every test, the integrity checks run again; any change is reported as
   tampering. Each result is signed by the generator, which only signs for this loop.
6. Write an end record and leave with ``os._exit``: no ``atexit`` hook, finalizer or
   buffered write of the code under test runs after the last record.
"""

# ruff: noqa: PLC0415 - imports are deliberately ordered against the code under test

from __future__ import annotations

from typing import Any, NamedTuple

#: Events always refused once the code under test may run.
DENIED_EVENTS = frozenset(
    {
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
        "sys.monitoring.register_callback",
        "sys.monitoring.use_tool_id",
    }
)
#: Attribute reads that hand out frames (audited as ``object.__getattr__``).
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
#: Library functions that hand the frames they take to their callers, as
#: (module, dotted attribute).
FRAME_HANDING_FUNCTIONS = (
    ("inspect", "currentframe"),
    ("inspect", "stack"),
    ("inspect", "trace"),
    ("inspect", "getouterframes"),
    ("inspect", "getinnerframes"),
    ("traceback", "walk_stack"),
    ("traceback", "walk_tb"),
    ("traceback", "_walk_tb_with_full_positions"),
    ("logging", "currentframe"),
    ("_pytest._code.code", "TracebackEntry.frame"),
    ("_pytest._code.code", "Frame.__init__"),
)
#: Function attributes the code under test may not set.
FROZEN_FUNCTION_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
#: Modules no code may import once tests can run: raw memory access (``ctypes``'
#: ``memmove`` is not audited), CPython's test helpers, and fresh copies of modules
#: whose originals are watched.
DENIED_IMPORTS = frozenset(
    {
        "ctypes",
        "_ctypes",
        "_testcapi",
        "_testinternalcapi",
        "_testmultiphase",
        "_testsinglephase",
        "_xxsubinterpreters",
        "_xxinterpchannels",
    }
)
#: Modules loaded before the run that no code may import again (a fresh copy of
#: ``_signal`` would bring back the unguarded ``signal``).
GUARDED_IMPORTS = frozenset({"_signal", "signal", "gc", "builtins"})
#: Names that configure pytest or the interpreter when they appear in the tree.
CONFIG_NAMES = frozenset(
    {
        "conftest.py",
        "pytest.ini",
        ".pytest.ini",
        "tox.ini",
        "setup.cfg",
        "pyproject.toml",
        "sitecustomize.py",
        "usercustomize.py",
        "pytest.py",
    }
)
MAX_MESSAGE = 500


def main(buffer: bytearray) -> None:
    """Entry point, called by the bootstrap with the request's bytes."""
    import json
    import os
    import sys

    request = json.loads(bytes(buffer))
    buffer[:] = bytes(len(buffer))
    signer = _signer(bytes.fromhex(request.pop("key")))
    next(signer)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    channel = os.dup(1)  # non-inheritable: no child process gets it
    os.dup2(2, 1)
    sys.stdin = None
    writer = _Writer.open(channel, request["run"], signer, os.write)
    _drive(request, writer)


def _drive(request: dict[str, Any], writer: _Writer) -> None:
    """Check the tree, then run pytest; this frame owns the signer from the start, so
    no frame the code under test creates later can take it over."""
    import os

    # Who may emit: this frame, ``_run`` called by it, ``_test_loop`` called by that.
    writer.bind((_test_loop.__code__, _run.__code__))
    dumpable = not _make_undumpable()
    problems = _check_tree(request)
    writer.emit("start", dumpable=dumpable)
    for problem in problems:
        writer.emit("tamper", what=problem)
    if problems:
        writer.emit("end", tests=0)
        os._exit(0)
    state = _run(request, writer)
    if not state.finished:
        writer.emit("tamper", what="the test loop never finished")
        writer.emit("end", tests=state.count)
    os._exit(0)


# ---- the signer: the key never sits in a frame that is on the stack ----------------


def _signer(key: bytes) -> Any:
    """A generator that numbers and signs records, but only for the owner's code.

    It is sent a record's JSON body without its number; it returns the whole line
    (signature, space, numbered body), or ``None`` when the sender is not
    ``_Writer.emit`` called by one of the owner's functions with the owner's frame on
    the stack. The key and the counter live only in this generator's frame, which no
    code under test can reach (``gi_frame`` is refused by the guard)."""
    import sys

    try:
        import _hashlib

        mac = _hashlib.hmac_new(key, digestmod="sha256")
    except (ImportError, AttributeError):  # pragma: no cover - OpenSSL-less builds
        import hmac

        mac = hmac.new(key, digestmod="sha256")
    del key
    getframe = sys._getframe
    owner, chain, emit = yield None  # sent once by ``_Writer.bind``
    seq = 0
    body = yield None
    while True:
        # The sender must be ``_Writer.emit`` itself (a signal handler that calls
        # ``send`` while the loop's frame is the interrupted one is refused), and
        # emit's caller must sit on the runner's own call chain: the owner's frame,
        # or a frame of ``chain[i]`` whose callers down to the owner are
        # ``chain[i+1:]``. A copy of the loop called from anywhere else is refused.
        try:
            sender = getframe(1)
        except RuntimeError:  # the guard refused: the sender is code under test
            body = yield None
            continue
        frame = sender.f_back if sender.f_code is emit else None
        allowed, position = frame is not None, 0
        while allowed and frame is not owner:
            while position < len(chain) and frame.f_code is not chain[position]:
                position += 1
            allowed = position < len(chain) and frame.f_back is not None
            frame, position = frame.f_back, position + 1
        if not allowed or type(body) is not bytes or body[:1] != b"{":
            body = yield None  # not ours: refuse
            continue
        numbered = b'{"seq":' + str(seq).encode() + b"," + body[1:]
        seq += 1
        signature = mac.copy()
        signature.update(numbered)
        body = yield signature.hexdigest().encode() + b" " + numbered + b"\n"


class _Writer(NamedTuple):
    """Signed, numbered records on the channel. A tuple: nothing it holds (the
    channel, the signer, the quoting function) can be swapped."""

    channel: int
    run: str
    signer: Any
    write: Any
    quote: Any  # json's C string encoder, taken before the code under test runs

    @classmethod
    def open(cls, channel: int, run: str, signer: Any, write: Any) -> _Writer:
        from json.encoder import encode_basestring_ascii

        return cls(channel, run, signer, write, encode_basestring_ascii)

    def bind(self, chain: tuple[Any, ...]) -> None:
        """Make the caller's frame the owner, and ``chain`` (code objects, innermost
        first) the calls above it that may emit (the signer accepts this once)."""
        import sys

        self.signer.send((sys._getframe(1), chain, _Writer.emit.__code__))

    def emit(self, kind: str, **fields: Any) -> None:
        body = _encode({"run": self.run, "kind": kind, **fields}, self.quote)
        line = self.signer.send(body.encode())
        if line is not None:
            self.write(self.channel, line)


def _encode(record: dict[str, Any], quote: Any) -> str:
    """A flat JSON object of str, int, bool and None values, quoted by the C encoder
    taken before the code under test ran (it could patch the json module)."""
    parts = []
    for name in sorted(record):
        value = record[name]
        if value is None:
            text = "null"
        elif value is True or value is False:
            text = "true" if value else "false"
        elif type(value) is int:
            text = str(value)
        else:
            text = quote(str(value))
        parts.append(quote(name) + ":" + text)
    return "{" + ",".join(parts) + "}"


# ---- before any project code --------------------------------------------------------


def _make_undumpable() -> bool:
    """``prctl(PR_SET_DUMPABLE, 0)``: other processes of this uid cannot ptrace us.

    ``ctypes`` is dropped from ``sys.modules`` afterwards, so the code under test can
    only reach it by importing it, which the guard refuses."""
    import sys

    before = set(sys.modules)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        done = libc.prctl(4, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        done = False
    for name in set(sys.modules) - before:
        del sys.modules[name]
    return done


def _check_tree(request: dict[str, Any]) -> list[str]:
    """Protected files as the host wrote them; no configuration the host did not."""
    import hashlib
    import os

    root = request["root"]
    problems = []
    protected = request["protected"]
    for path, digest in sorted(protected.items()):
        full = os.path.join(root, path)
        try:
            if os.path.islink(full):
                problems.append(f"protected file is a symlink: {path}")
                continue
            with open(full, "rb") as handle:
                data = handle.read()
        except OSError as err:
            problems.append(f"protected file unreadable: {path} ({err.strerror})")
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"protected file changed: {path}")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames + [
            d for d in dirnames if d in ("__pycache__", "_pytest")
        ]:
            path = os.path.relpath(os.path.join(dirpath, name), root)
            suspicious = (
                name in CONFIG_NAMES
                or name.endswith((".pth", ".pyc", ".pyo"))
                or name in ("__pycache__", "_pytest")
            )
            if suspicious and path not in protected:
                problems.append(f"unexpected file in the tree: {path}")
    return problems


# ---- the run ------------------------------------------------------------------------


def _run(request: dict[str, Any], writer: _Writer) -> _RunState:
    """Drive pytest by hand: configure, start the session, collect, then our loop.

    No object of the runner is registered with pytest, so nothing the code under
    test can reach from pytest's modules (the config, the plugin manager) leads to
    the runner."""
    import os
    import sys

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sys.dont_write_bytecode = True
    import _pytest.outcomes
    import pytest  # noqa: F401 - the host's, before the working copy is on sys.path
    from _pytest.config import _prepareconfig
    from _pytest.main import Session

    root = request["root"]
    state = _RunState(_Trust.build(root, request), _pytest.outcomes)
    sys.path.insert(0, root)
    os.chdir(root)
    args = [
        *request["options"],
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
        "-p",
        "no:faulthandler",
        "--assert=plain",
        "-s",
        "-q",
        f"--rootdir={root}",
        *request["files"],
    ]
    config = _prepareconfig(args)
    config._do_configure()
    session = Session.from_config(config)
    config.hook.pytest_sessionstart(session=session)
    _forget_config()
    state.start(session)  # from here on, collection imports the code under test
    try:
        config.hook.pytest_collection(session=session)
    except BaseException as err:  # noqa: BLE001 - the collection crashed
        writer.emit("tamper", what=f"the collection raised {_describe(err)}")
        os._exit(0)  # no end record: the host treats the run as cut short
    _test_loop(session, state, writer)
    return state


def _forget_config() -> None:
    """Drop pytest's module-level references to the live config (used by assertion
    rewriting, marker checks at decoration time and ``--pdb``, none of which the
    verdict uses): the code under test cannot reach the session and its items."""
    import _pytest.assertion.util
    import _pytest.debugging
    import _pytest.mark.structures

    _pytest.assertion.util._config = None
    _pytest.mark.structures.MARK_GEN._config = None
    _pytest.debugging.pytestPDB._config = None
    _pytest.debugging.pytestPDB._pluginmanager = None


def _trusted_modules(modules: dict[str, Any]) -> dict[str, Any]:
    """Every module loaded before the code under test, by name."""
    return {
        name: module for name, module in list(modules.items()) if module is not None
    }


def _describe(err: BaseException) -> str:
    try:
        text = f"{type(err).__name__}: {err}"
    except Exception:  # noqa: BLE001 - a hostile __str__
        text = type(err).__name__
    return text[:MAX_MESSAGE]


class _Trust(NamedTuple):
    """Which code is trusted: the interpreter's libraries, the protected files (tests,
    conftests, whose exact sources are known) and the runner's own frames. A tuple,
    so nothing can be reassigned once it is built."""

    prefixes: tuple[str, ...]
    root: str
    protected: frozenset[str]
    repository_files: frozenset[str]
    codes: frozenset[Any]

    @classmethod
    def build(cls, root: str, request: dict[str, Any]) -> _Trust:
        import os
        import sys
        import sysconfig

        prefixes = set()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            path = sysconfig.get_paths().get(key)
            if path:
                prefixes.add(os.path.realpath(path) + os.sep)
                prefixes.add(path.rstrip(os.sep) + os.sep)
        for path in sys.path:
            if path and os.path.isdir(path) and not path.startswith(root):
                prefixes.add(os.path.realpath(path) + os.sep)
                prefixes.add(path.rstrip(os.sep) + os.sep)
        # The bootstrap's frames (compiled from argv, named "<string>") are ours.
        frame, codes = sys._getframe(1), set()
        while frame is not None:
            codes.add(frame.f_code)
            frame = frame.f_back
        return cls(
            prefixes=tuple(sorted(p for p in prefixes if p != os.sep)),
            root=root.rstrip(os.sep) + os.sep,
            protected=frozenset(os.path.join(root, p) for p in request["protected"]),
            repository_files=frozenset(request["sources"]),
            codes=frozenset(codes),
        )

    def file(self, filename: str) -> bool:
        """Whether code from ``filename`` is trusted."""
        if filename in self.protected or filename == "<selfplay-verdict>":
            return True
        if filename.startswith("<frozen "):
            return True
        return filename.startswith(self.prefixes) and not filename.startswith(self.root)


class _Guard(NamedTuple):
    """The audit hook, installed when collection starts: from then on it refuses the
    escape hatches. A tuple with no flag to flip: its own calls are told apart by
    their code objects, not by state the code under test could change."""

    trust: _Trust
    getframe: Any
    realpath: Any
    own_codes: frozenset[Any]
    #: What was refused, reported as tampering by the run loop (evidence only: the
    #: refusal itself is what stops the attempt).
    denials: list[str]
    handing_codes: frozenset[Any]

    @classmethod
    def build(cls, trust: _Trust) -> _Guard:
        import os
        import sys

        own = frozenset(
            f.__code__
            for f in (
                cls.__call__,
                cls._decide,
                cls._origin,
                cls._check_direct,
                cls._check_bytecode,
                cls._check_open,
                cls._check_compile,
            )
        )
        return cls(trust, sys._getframe, os.path.realpath, own, [], _handing_codes())

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        try:
            self._decide(event, args)
        except RuntimeError as err:
            if len(self.denials) < 100:
                self.denials.append(str(err))
            raise

    def _decide(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "sys._getframe":
            # The event carries the frame handed out; our own calls are let through.
            frame = args[0] if args else None
            if frame is not None and frame.f_code in self.own_codes:
                return
            self._check_direct(event, self._origin(), ("_getframe",), caller=True)
            return
        if event in DENIED_EVENTS or event.startswith("ctypes."):
            raise RuntimeError(f"selfplay verdict: {event} is not allowed in tests")
        if event == "open":
            self._check_open(args)
        elif event == "object.__getattr__":
            if len(args) > 1 and args[1] in FRAME_ATTRIBUTES:
                origin = self._origin()
                self._check_direct(
                    f"reading {args[1]}", origin, (args[1],), caller=True
                )
        elif event == "object.__setattr__":
            if len(args) > 1 and args[1] in FROZEN_FUNCTION_ATTRIBUTES:
                # ``unittest.mock`` sets them on its own functions; the code under
                # test may not (and a test function's code is checked before it runs).
                origin = self._origin()
                self._check_direct(f"setting {args[1]}", origin, (args[1],))
        elif event == "import":
            name = args[0] if args else ""
            if name in DENIED_IMPORTS or str(name).startswith("ctypes."):
                raise RuntimeError(f"selfplay verdict: import {name} is not allowed")
            if name in GUARDED_IMPORTS:  # loaded before the run: a fresh copy only
                raise RuntimeError(
                    f"selfplay verdict: re-importing {name} is not allowed"
                )
        elif event in ("code.__new__", "function.__new__"):
            # The library builds code objects (``unittest.mock``, ``dataclasses``);
            # code under test must not: one could claim any file name.
            origin = self._origin()
            names = ("replace", "CodeType", "FunctionType", "_create_fn", "exec")
            self._check_direct(event, origin, names)
        elif event == "compile":
            self._check_compile(args)
        elif event in ("marshal.loads", "marshal.load"):
            self._check_bytecode(self._origin())

    def _origin(self) -> Any:
        """The frame whose operation raised the event (above ``__call__``). Depth 0
        only: the frame handed out is then our own, which the hook lets through."""
        return self.getframe().f_back.f_back.f_back

    def _check_direct(
        self, event: str, origin: Any, names: tuple[str, ...], *, caller: bool = False
    ) -> None:
        """``origin`` (the frame running the operation) must be trusted code: the
        runner, the library, or the protected tests. Code under test may use library
        code that takes frames for itself (``namedtuple``, ``logging``), never
        frames of its own.

        The operation must be written in the code that runs it: a C callable
        (``map(sys._getframe, ...)``, a ``partial``) run by a library dispatcher
        such as ``weakref.finalize`` would otherwise act with a trusted stack.

        With ``caller``, a frame taken by a library function that hands frames to its
        caller (``FRAME_HANDING_FUNCTIONS``) must stay in that function's package:
        ``logging``'s ``currentframe`` for ``findCaller``, ``traceback``'s walkers
        for its own summaries. Other library code (a ``namedtuple`` reading its
        caller's module name, ``traceback.extract_stack``) uses the frame itself."""
        if origin is None:
            raise RuntimeError(f"selfplay verdict: {event} from nowhere")
        code = origin.f_code
        if _package(code.co_filename, self.trust) == "<selfplay-verdict>" or (
            code in self.trust.codes
        ):
            return
        if not self.trust.file(code.co_filename):
            raise RuntimeError(
                f"selfplay verdict: {event} is not allowed from code under test "
                f"({code.co_filename})"
            )
        if not any(name in code.co_names for name in names):
            raise RuntimeError(
                f"selfplay verdict: {event} run on behalf of other code by "
                f"{code.co_filename}:{code.co_name}"
            )
        home = _package(code.co_filename, self.trust)
        if caller and code in self.handing_codes:
            consumer = origin.f_back
            if (
                consumer is None
                or _package(consumer.f_code.co_filename, self.trust) != home
            ):
                raise RuntimeError(
                    f"selfplay verdict: {event} leaves {home} for "
                    f"{consumer.f_code.co_filename if consumer else 'nowhere'}"
                )

    def _check_bytecode(self, caller: Any) -> None:
        """Byte code may only come from the library's own caches, loaded by the import
        system: a hand-made code object could claim any file name."""
        path = None
        if caller is not None and caller.f_code.co_name == "_compile_bytecode":
            path = caller.f_locals.get("bytecode_path")
        if not (
            isinstance(path, str)
            and path.startswith(self.trust.prefixes)
            and not path.startswith(self.trust.root)
        ):
            raise RuntimeError("selfplay verdict: loading byte code is not allowed")

    def _check_open(self, args: tuple[Any, ...]) -> None:
        path = args[0] if args else None
        if isinstance(path, bytes):
            path = path.decode("utf-8", "replace")
        if not isinstance(path, str):
            return
        name = path.rstrip("/").rsplit("/", 1)[-1]
        real = self.realpath(path)
        if name == "mem" or real.endswith("/mem") or real.startswith("/proc/kcore"):
            raise RuntimeError("selfplay verdict: process memory is not readable")

    def _check_compile(self, args: tuple[Any, ...]) -> None:
        """Code may not claim to come from a trusted file unless it is that file."""
        if len(args) < 2 or not isinstance(args[1], str):
            return
        filename = args[1]
        if not (
            filename in self.trust.protected
            or filename == "<selfplay-verdict>"
            or filename.startswith(self.trust.prefixes)
        ):
            return
        source = args[0]
        if isinstance(source, str):
            source = source.encode("utf-8")
        if not isinstance(source, (bytes, bytearray)):
            raise RuntimeError(f"selfplay verdict: compiling an AST as {filename}")
        try:
            with open(filename, "rb") as handle:
                same = handle.read() == bytes(source)
        except OSError:
            same = False
        if not same:
            raise RuntimeError(f"selfplay verdict: code claims to be from {filename}")


def _handing_codes() -> frozenset[Any]:
    """The code objects of ``FRAME_HANDING_FUNCTIONS`` (those this Python has)."""
    import importlib

    codes = set()
    for module_name, dotted in FRAME_HANDING_FUNCTIONS:
        try:
            value: Any = importlib.import_module(module_name)
            for part in dotted.split("."):
                value = getattr(value, part)
        except (ImportError, AttributeError):
            continue
        value = getattr(value, "fget", value)  # a property
        code = getattr(value, "__code__", None)
        if code is not None:
            codes.add(code)
    return frozenset(codes)


def _package(filename: str, trust: _Trust) -> str:
    """The library package (or runner) a file belongs to: ``logging``, ``_pytest``,
    ``traceback.py``; the file name itself for anything else."""
    if filename in ("<selfplay-verdict>",) or filename.startswith("<frozen "):
        return "<selfplay-verdict>" if filename == "<selfplay-verdict>" else "<frozen>"
    best = ""
    for prefix in trust.prefixes:
        if filename.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    if not best or filename.startswith(trust.root):
        return filename
    return filename[len(best) :].split("/", 1)[0]


class _Baseline(NamedTuple):
    """Identities of everything the tests rely on, taken before the code under test."""

    builtins: tuple[Any, ...]
    modules: tuple[Any, ...]
    classes: tuple[Any, ...]
    module_ids: tuple[Any, ...]
    handlers: tuple[Any, ...]

    @classmethod
    def take(cls, builtins_module: Any, trusted: dict[str, Any]) -> _Baseline:
        watched = {
            name: module
            for name, module in trusted.items()
            if name in ("pytest", "unittest", "builtins", "json", "json.encoder")
            or name.startswith(("_pytest.", "unittest.", "pluggy"))
        }
        builtins_view = tuple(vars(builtins_module).items())
        modules = tuple((name, tuple(vars(m).items())) for name, m in watched.items())
        classes = []
        for module in watched.values():
            for value in list(vars(module).values()):
                if isinstance(value, type) and value.__module__ == module.__name__:
                    classes.append((value, tuple(vars(value).items())))
        module_ids = tuple(trusted.items())
        return cls(builtins_view, modules, tuple(classes), module_ids, _handlers())

    def changes(self, builtins_module: Any, modules: dict[str, Any]) -> list[str]:
        """What differs from the baseline now (empty when nothing does)."""
        found = []
        found += _dict_changes("builtins", self.builtins, vars(builtins_module))
        for name, items in self.modules:
            module = modules.get(name)
            if module is None:
                continue
            found += _dict_changes(f"module {name}", items, vars(module))
        for klass, items in self.classes:
            found += _dict_changes(
                f"class {klass.__module__}.{klass.__qualname__}", items, vars(klass)
            )
        for name, module in self.module_ids:
            now = modules.get(name)
            if now is not None and now is not module:
                found.append(f"sys.modules[{name!r}] was replaced")
        for (number, handler), (_, now) in zip(
            self.handlers, _handlers(), strict=False
        ):
            if now is not handler:
                found.append(f"a Python handler was installed for signal {number}")
        return found


def _handlers() -> tuple[tuple[int, Any], ...]:
    """The Python-level handler of every signal (a handler receives the interrupted
    frame without an audit event, so a new one is reported)."""
    import signal

    found = []
    for number in range(1, signal.NSIG):
        try:
            found.append((number, signal.getsignal(number)))
        except (ValueError, OSError):
            continue
    return tuple(found)


def _dict_changes(label: str, items: tuple[Any, ...], now: Any) -> list[str]:
    found = []
    seen = 0
    for key, value in items:
        if key in ("__warningregistry__", "_"):
            continue
        if key not in now:
            found.append(f"{label}: {key} was deleted")
        elif now[key] is not value:
            found.append(f"{label}: {key} was replaced")
        seen += 1
    if len(now) != len(items):
        # Added data (pytest's own flags) changes no behaviour; an added callable or
        # descriptor could shadow one (a method, a builtin, an imported name).
        known = {key for key, _ in items} | {"__warningregistry__", "_"}
        extra = [
            key
            for key in list(now)
            if key not in known
            and (callable(now[key]) or hasattr(type(now[key]), "__get__"))
        ]
        found += [f"{label}: {key} was added" for key in sorted(map(str, extra))[:5]]
    return found[:5]


class _RunState:
    """What the run loop needs, built before the code under test runs."""

    def __init__(self, trust: _Trust, outcomes: Any):
        from _pytest.tmpdir import tmppath_result_key
        from _pytest.unittest import TestCaseFunction

        self.trust = trust
        self.outcomes = outcomes
        self.baseline: _Baseline | None = None
        self.reference: _ReferenceCode | None = None
        self.guard: _Guard | None = None
        self.finished = False
        self.count = 0
        self.plugins_before: tuple[Any, ...] = ()
        self.tmp_path_key = tmppath_result_key
        self.unittest_item = TestCaseFunction

    def start(self, session: Any) -> None:
        """Snapshots and the guard, just before collection."""
        import builtins
        import sys

        self.plugins_before = tuple(session.config.pluginmanager.get_plugins())
        self.guard = _Guard.build(self.trust)
        _guard_signals(self.trust, self.guard.denials)
        self.baseline = _Baseline.take(builtins, _trusted_modules(sys.modules))
        self.reference = _ReferenceCode.build(self.trust)
        sys.addaudithook(self.guard)


def _guard_signals(trust: _Trust, denials: list[str]) -> None:
    """Route ``signal.signal`` through a gate: a Python handler receives the
    interrupted frame with no audit event, so only the library may install one, with
    a library function as the handler, from code that calls ``signal`` itself.

    SIGINT is set to its default first, so ``asyncio.run`` (which installs its own
    handler only over Python's default one) does not need to."""
    import _signal

    _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    gate = _signal_gate(trust, _signal.signal, denials)
    next(gate)

    def signal(signalnum: Any, handler: Any, _send: Any = gate.send) -> Any:
        verdict = _send((signalnum, handler))
        if type(verdict) is str:
            raise RuntimeError(verdict)
        return verdict[0]

    gate.send(signal.__code__)
    _signal.signal = signal


def _signal_gate(trust: _Trust, install: Any, denials: list[str]) -> Any:
    """A generator that holds the real ``signal.signal``; it is sent
    ``(signalnum, handler)`` by the gate function and answers ``(previous,)`` or a
    refusal. Nothing outside this frame holds the original."""
    import sys
    import types

    getframe = sys._getframe
    gate_code = yield None
    request = yield None
    while True:
        try:
            sender = getframe(1)  # the guard refuses it from code under test
        except RuntimeError as err:
            request = yield f"selfplay verdict: installing a signal handler: {err}"
            continue
        asker = sender.f_back
        if asker is not None and asker.f_code.co_filename.endswith("/signal.py"):
            asker = asker.f_back  # signal.signal's own wrapper
        handler = request[1] if type(request) is tuple and len(request) == 2 else None
        function = getattr(handler, "__func__", handler)
        refusal = ""
        if sender.f_code is not gate_code:
            refusal = "the gate was called directly"
        elif asker is None or "signal" not in asker.f_code.co_names:
            refusal = "a signal handler installed on behalf of other code"
        elif not (trust.file(asker.f_code.co_filename) or asker.f_code in trust.codes):
            refusal = f"a signal handler installed by {asker.f_code.co_filename}"
        elif not (
            isinstance(handler, int)
            or handler is None
            or (
                type(function) is types.FunctionType
                and trust.file(function.__code__.co_filename)
                and function.__code__.co_filename != "<selfplay-verdict>"
            )
        ):
            refusal = "a signal handler that is not library code"
        if refusal:
            if len(denials) < 100:
                denials.append(f"selfplay verdict: {refusal}")
            request = yield f"selfplay verdict: {refusal}"
            continue
        request = yield (install(*request),)


def _test_loop(session: Any, state: _RunState, writer: _Writer) -> None:
    """Run every collected test; sign each result."""
    import builtins
    import sys

    modules = sys.modules
    baseline = state.baseline
    skipped_type = state.outcomes.Skipped
    emit = writer.emit
    items = tuple(session.items)
    emit("collected", tests=len(items), errors=int(session.testsfailed))
    problems = _collection_problems(session, state)
    reference = state.reference
    modules_state = _module_state(items, state.trust, modules)
    problems += modules_state.problems
    reported = [0]
    problems += _new_denials(state.guard, reported)
    for problem in problems:
        emit("tamper", what=problem)
    setup_state = session._setupstate
    unittest_item = state.unittest_item
    result_key = state.tmp_path_key
    for index, item in enumerate(items):
        nextitem = items[index + 1] if index + 1 < len(items) else None
        outcome, message = "passed", ""
        try:
            setup_state.setup(item)
        except skipped_type:
            outcome, message = "skipped", "skipped in setup"
        except BaseException as err:  # noqa: BLE001 - any setup failure is an error
            outcome, message = "error", _describe(err)
        if outcome == "passed":
            function, problem = reference.check(item)
            if problem:
                outcome, message = "error", problem
                emit("tamper", what=f"{item.nodeid}: {problem}")
            else:
                try:
                    if isinstance(item, unittest_item):
                        outcome, message = _call_unittest(item, skipped_type)
                    else:
                        _call(item, function)
                except skipped_type:
                    outcome, message = "skipped", "skipped"
                except BaseException as err:  # noqa: BLE001 - a failing test
                    outcome, message = "failed", _describe(err)
        # What pytest's report hook would have stashed (tmp_path's teardown reads it).
        item.stash.setdefault(result_key, {}).update(
            setup=outcome != "error", call=outcome == "passed"
        )
        try:
            setup_state.teardown_exact(nextitem)
        except BaseException as err:  # noqa: BLE001 - a teardown error fails the test
            if outcome == "passed":
                outcome, message = "error", "teardown: " + _describe(err)
        changes = baseline.changes(builtins, modules) + modules_state.changes(modules)
        changes += _new_denials(state.guard, reported)
        for change in changes[:10]:
            emit("tamper", what=f"after {item.nodeid}: {change}")
        if changes and outcome == "passed":
            outcome, message = "error", "the test environment was tampered with"
        emit("test", id=item.nodeid, outcome=outcome, message=message[:MAX_MESSAGE])
        state.count += 1
    for problem in _collection_problems(session, state) + _new_denials(
        state.guard, reported
    ):
        emit("tamper", what=f"at the end: {problem}")
    state.finished = True
    emit("end", tests=state.count)


def _new_denials(guard: _Guard | None, reported: list[int]) -> list[str]:
    """The guard's refusals since the last call (``reported`` counts those seen)."""
    if guard is None:
        return []
    found = guard.denials[reported[0] :]
    reported[0] = len(guard.denials)
    return [f"refused: {text}" for text in found]


def _call_unittest(item: Any, skipped_type: type) -> tuple[str, str]:
    """A ``unittest.TestCase`` method: unittest runs it (setUp, the method, tearDown)
    and reports to the item, as under pytest; the first recorded error decides."""
    item.runtest()
    errors = getattr(item, "_excinfo", None) or []
    if not errors:
        return "passed", ""
    error = errors[0].value
    if isinstance(error, skipped_type):
        return "skipped", _describe(error)
    return "failed", _describe(error)


def _call(item: Any, function: Any) -> None:
    """Call the test function as pytest's ``pytest_pyfunc_call`` does, without hooks."""
    import inspect

    names = item._fixtureinfo.argnames
    kwargs = {name: item.funcargs[name] for name in names}
    result = function(**kwargs)
    if inspect.isawaitable(result) or inspect.isgenerator(result):
        raise TypeError("async and generator tests are not supported by the verdict")


def _collection_problems(session: Any, state: _RunState) -> list[str]:
    """Plugins the code under test registered (a conftest that is not protected)."""
    import os

    problems = []
    before = state.plugins_before
    protected = state.trust.protected
    for candidate in session.config.pluginmanager.get_plugins():
        if any(candidate is p for p in before):
            continue
        filename = getattr(candidate, "__file__", None)
        if filename and (
            filename in protected or os.path.realpath(filename) in protected
        ):
            continue
        problems.append(
            f"a plugin was registered during collection: {filename or candidate!r}"
        )
    return problems


class _ReferenceCode(NamedTuple):
    """Code objects compiled from the protected sources (read before any code under
    test ran), by file and qualified name, behind a read-only view."""

    trust: _Trust
    codes: Any

    @classmethod
    def build(cls, trust: _Trust) -> _ReferenceCode:
        import types

        codes = {}
        for filename in sorted(trust.protected):
            if not filename.endswith(".py"):
                continue
            with open(filename, "rb") as handle:
                source = handle.read()
            try:
                stack = [compile(source, filename, "exec", dont_inherit=True)]
            except SyntaxError:
                continue  # pytest reports it as a collection error
            while stack:
                code = stack.pop()
                codes[(filename, _qualname(code))] = code
                stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        return cls(trust, types.MappingProxyType(codes))

    def check(self, item: Any) -> tuple[Any, str]:
        """The test function to call, or a reason it is not the protected one.

        A test may be wrapped by library decorators (``unittest.skip``,
        ``mock.patch``, ``functools.wraps``): every function reachable from it through
        closures and ``__wrapped__`` must be library code or protected code, no
        builtin may stand in for one, and the protected function the test id names
        must be among them."""
        import types

        function = getattr(item, "obj", None)
        raw = getattr(function, "__func__", function)
        if type(raw) is not types.FunctionType:
            return None, f"the test is not a plain function ({type(raw).__name__})"
        path, _, rest = item.nodeid.partition("::")
        qualname = ".".join(part.split("[", 1)[0] for part in rest.split("::"))
        if not hasattr(raw.__code__, "co_qualname"):  # Python 3.10: names only
            qualname = qualname.rsplit(".", 1)[-1]
        module = getattr(item, "module", None)
        found = False
        stack, seen = [raw], set()
        while stack:
            current = stack.pop()
            if id(current) in seen or len(seen) > 64:
                continue
            seen.add(id(current))
            if type(current) is types.FunctionType:
                problem, named = self._function(current, qualname, path, module)
                if problem:
                    return None, problem
                found = found or named
                cells = current.__closure__ or ()
                stack.extend(cell.cell_contents for cell in cells if _filled(cell))
                wrapped = vars(current).get("__wrapped__")
                if wrapped is not None:
                    stack.append(wrapped)
            elif (
                isinstance(
                    current,
                    (
                        types.BuiltinFunctionType,
                        types.MethodType,
                        types.MethodWrapperType,
                        types.WrapperDescriptorType,
                    ),
                )
                or type(current).__name__ == "partial"
            ):
                return None, f"a {type(current).__name__} stands in the test's place"
        if not found:
            return None, "the test id does not name its protected function"
        return function, ""

    def _function(
        self, function: Any, qualname: str, path: str, module: Any
    ) -> tuple[str, bool]:
        """``(problem, is_the_named_test)`` for one function of the test's chain."""
        code = function.__code__
        filename = code.co_filename
        if filename not in self.trust.protected:
            if self.trust.file(filename) and filename not in ("<selfplay-verdict>",):
                return "", False  # a library decorator's wrapper
            return f"the test's code comes from {filename}", False
        expected = self.codes.get((filename, _qualname(code)))
        if expected is None or expected != code:
            return "the test function's code is not the protected source", False
        if module is not None and function.__globals__ is not vars(module):
            return "the test function runs with foreign globals", False
        named = _qualname(code) == qualname and filename.endswith("/" + path)
        return "", named


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _qualname(code: Any) -> str:
    """A code object's qualified name (its bare name before Python 3.11)."""
    return getattr(code, "co_qualname", None) or code.co_name


class _ModuleState:
    """The protected modules' namespaces after collection, and their problems."""

    def __init__(self, snapshots: Any, problems: list[str]):
        self.snapshots = snapshots
        self.problems = problems

    def changes(self, modules: dict[str, Any]) -> list[str]:
        found = []
        for label, namespace, items in self.snapshots:
            found += _dict_changes(label, items, namespace)
        return found


def _module_state(
    items: list[Any], trust: _Trust, modules: dict[str, Any]
) -> _ModuleState:
    """Check the protected modules' imports and snapshot their namespaces."""
    import ast
    import builtins
    import os

    seen = {}
    for module in list(modules.values()):
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and filename in trust.protected:
            seen[filename] = module
    problems = []
    snapshots = []
    for filename, module in sorted(seen.items()):
        namespace = vars(module)
        own_builtins = namespace.get("__builtins__")
        if own_builtins is not builtins and own_builtins is not vars(builtins):
            problems.append(f"{filename}: __builtins__ was replaced")
        with open(filename, "rb") as handle:
            tree = ast.parse(handle.read(), filename)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    problems += _import_problems(alias.name, trust, modules, filename)
                    bound = alias.asname or alias.name.split(".")[0]
                    target = alias.name if alias.asname else alias.name.split(".")[0]
                    if bound in namespace and namespace[bound] is not modules.get(
                        target
                    ):
                        problems.append(
                            f"{filename}: {bound} is not the module {target}"
                        )
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                problems += _import_problems(node.module, trust, modules, filename)
        snapshots.append(
            (
                f"namespace of {os.path.basename(filename)}",
                namespace,
                tuple(namespace.items()),
            )
        )
    return _ModuleState(tuple(snapshots), problems)


def _import_problems(
    name: str, trust: _Trust, modules: dict[str, Any], where: str
) -> list[str]:
    """A module a protected file imports must be the library's, or the repository's
    own (a file the host listed): nothing may shadow the standard library."""
    import os

    problems = []
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        module = modules.get(".".join(parts[:depth]))
        filename = getattr(module, "__file__", None)
        if not isinstance(filename, str):
            continue
        real = os.path.realpath(filename)
        if trust.file(real) or trust.file(filename):
            continue
        relative = os.path.relpath(real, trust.root)
        if real.startswith(trust.root) and relative in trust.repository_files:
            continue
        problems.append(f"{os.path.basename(where)} imports {name} from {filename}")
    return problems
