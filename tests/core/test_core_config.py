"""Declared parameters (``selfplay_envs.core.config``): every game's and ``make()``'s.

Every parameter of every game is walked with wrong types and out-of-range values
generated from its declaration; each must be refused by ``make()`` with a
``ConfigError`` that names the parameter and shows the value, before the game's own
constructor runs and with nothing created on disk. The doc pages' tables and
``selfplay list`` must be the ones generated from the same declarations.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import traceback
from pathlib import Path
from typing import Any

import pytest

import selfplay_envs
from selfplay_envs.core import config as cfg
from selfplay_envs.core.adapter import ENV_OPTIONS
from selfplay_envs.core.config_docs import DOCS, docs_tables, page_block
from selfplay_envs.core.episode import INVALID_MOVE_OPTIONS, InvalidMovePolicy
from selfplay_envs.core.errors import ConfigError, ConfigTypeError, Error

ENV_IDS = selfplay_envs.list_envs()


def _game_class(env_id: str) -> type:
    return selfplay_envs.spec(env_id).load()


def _params(env_id: str) -> cfg.Params:
    params = _game_class(env_id).parameters
    assert params is not None, f"{env_id} declares no parameters"
    return params


# ---- wrong values, generated from a declaration ----------------------------------------


def _wrong(kind: cfg.Kind) -> list[Any]:
    """Values ``kind`` must refuse: wrong types first, then out-of-range ones."""
    if isinstance(kind, cfg.Int):
        values: list[Any] = ["5", True, 1.5, b"5", [1]]
        if kind.min is not None:
            values.append(kind.min - 1)
        if kind.max is not None:
            values.append(kind.max + 1)
        if kind.even:
            values.append((kind.min or 0) + 1)
        return values
    if isinstance(kind, cfg.Float):
        values = ["0.5", True, float("nan"), float("inf")]
        if kind.min is not None:
            values.append(kind.min if kind.min_open else kind.min - 1)
        if kind.max is not None:
            values.append(kind.max if kind.max_open else kind.max + 0.5)
        return values
    if isinstance(kind, cfg.Bool):
        return [1, 0, "True", "yes"]
    if isinstance(kind, cfg.Str):
        values = [5, b"x", ["x"]]
        if kind.min_len >= 1:
            values.append("")
        if kind.max_len is not None:
            values.append("a" * (kind.max_len + 1))
        if kind.pattern is not None:
            values.append("not a valid one!")
        return values
    if isinstance(kind, cfg.Choice):
        return ["__no_such_choice__", 5, kind.choices[0].upper() + "X", True]
    if isinstance(kind, cfg.PathArg):
        values = [5, b"/tmp", ""]
        if kind.kind is not None:
            values.append("/no/such/path/anywhere")
        if kind.parent_exists:
            values.append("/no/such/parent/cache")
        return values
    if isinstance(kind, cfg.Url):
        return [5, "localhost:8000", "ftp://example.org", "http://", "http://h:99999"]
    if isinstance(kind, cfg.Seq):
        values = ["ab", 5, {"a": 1}]
        values += [[bad] * max(kind.min_len, 1) for bad in _wrong(kind.item)[:2]]
        if kind.min_len > 0:
            values.append([])
        if kind.max_len is not None:
            good = _good(kind.item)
            if good is not None:
                values.append([good] * (kind.max_len + 1))
        return values
    if isinstance(kind, cfg.Pair):
        good = _good(kind.first)
        return [5, "ab", [good], [good, good, good], [_wrong(kind.first)[0], good]]
    if isinstance(kind, cfg.Dict):
        return [5, ["A", "b"], {5: "x"}, {"A": 5}]
    if isinstance(kind, cfg.Instance):
        return [object(), 5, "x"]
    if isinstance(kind, cfg.Func):
        return [5, "f"]
    if isinstance(kind, cfg.OneOf):
        values = [v for k in kind.kinds for v in _wrong(k)]
        return [v for v in values if _refused(kind, v)]
    if isinstance(kind, cfg.Where):
        return [v for v in _wrong(kind.kind) if _refused(kind, v)]
    return []


def _good(kind: cfg.Kind) -> Any:
    """One value ``kind`` accepts, when one is easy to name."""
    if isinstance(kind, cfg.Int):
        return kind.min if kind.min is not None else 0
    if isinstance(kind, cfg.Float):
        return kind.max if kind.max is not None and not kind.max_open else 0.5
    if isinstance(kind, cfg.Choice):
        return kind.choices[0]
    if isinstance(kind, cfg.Str):
        return "A" * max(kind.min_len, 1)
    if isinstance(kind, cfg.OneOf):
        return _good(kind.kinds[0])
    return None


def _refused(kind: cfg.Kind, value: Any) -> bool:
    try:
        kind.check(value)
    except cfg.Reject:
        return True
    return False


def _cases() -> list[Any]:
    cases = []
    for env_id in ENV_IDS:
        for param in _params(env_id):
            for n, value in enumerate(_wrong(param.kind)):
                cases.append(
                    pytest.param(
                        env_id, param.name, value, id=f"{env_id}-{param.name}-{n}"
                    )
                )
    return cases


def _entered_constructor(err: BaseException, game: type) -> bool:
    """Whether the traceback went through the game's own ``__init__``."""
    own = getattr(game.__init__, "__unchecked_init__", None)
    code = getattr(own, "__code__", None)
    frames = traceback.walk_tb(err.__traceback__)
    return code is not None and any(f.f_code is code for f, _ in frames)


@pytest.fixture
def quiet_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory, home and cache that must stay empty."""
    for name in ("home", "cache", "work"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SELFPLAY_ENVS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(("env_id", "name", "value"), _cases())
def test_every_bad_value_of_every_parameter_is_refused_at_make(
    env_id: str, name: str, value: Any, quiet_disk: Path
) -> None:
    before = _files(quiet_disk)
    with pytest.raises(ConfigError) as info:
        selfplay_envs.make(env_id, **{name: value})
    err = info.value
    assert isinstance(err, Error) and isinstance(err, ValueError)
    assert err.param == name
    message = str(err)
    assert message.startswith(f"{env_id}"), message
    assert f" {name}" in message and cfg.show(value) in message, message
    assert err.expected and err.expected in message, message
    if isinstance(err, ConfigTypeError):
        assert isinstance(err, TypeError)
    assert not _entered_constructor(err, _game_class(env_id)), message
    assert _files(quiet_disk) == before


def test_the_walk_covers_every_parameter_with_several_values() -> None:
    for env_id in ENV_IDS:
        for param in _params(env_id):
            if not isinstance(param.kind, cfg.Anything):
                assert len(_wrong(param.kind)) >= 2, (env_id, param.name)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_unknown_name_gets_the_closest_valid_one(env_id: str) -> None:
    params = list(_params(env_id))
    with pytest.raises(ConfigTypeError, match="got 'no_such_parameter_at_all'"):
        selfplay_envs.make(env_id, no_such_parameter_at_all=1)
    if not params:
        return
    name = params[0].name
    typo = name[:-1] if len(name) > 3 else name + "x"
    with pytest.raises(ConfigTypeError) as info:
        selfplay_envs.make(env_id, **{typo: params[0].default})
    assert f"did you mean {name!r}?" in str(info.value)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


# ---- the declarations match the constructors -----------------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_declarations_match_the_constructor_signature(env_id: str) -> None:
    game = _game_class(env_id)
    init = getattr(game.__init__, "__unchecked_init__", game.__init__)
    if init is object.__init__:
        assert len(_params(env_id)) == 0
        return
    signature = inspect.signature(init)
    declared = _params(env_id)
    named = {
        n: p.default
        for n, p in signature.parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    for name, default in named.items():
        assert name in declared, f"{env_id}: {name} is not declared"
        assert declared[name].default == default, name
    extra = [n for n in declared.params if n not in named]
    if extra:  # only a **rules constructor may take more than it names
        assert any(
            p.kind is inspect.Parameter.VAR_KEYWORD
            for p in signature.parameters.values()
        ), extra


def test_search_qa_rule_parameters_are_the_config_fields() -> None:
    from selfplay_envs.games.search_qa.params import resolve_preset
    from selfplay_envs.games.search_qa.rules import SearchQAConfig

    declared = _params("search_qa_v0")
    # A preset point defaults to None ("the preset's, else today's"): compare what it
    # resolves to without a preset.
    resolved = resolve_preset(declared.defaults())
    for field in dataclasses.fields(SearchQAConfig):
        assert resolved[field.name] == field.default, field.name


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_default_is_accepted_by_its_declaration(env_id: str) -> None:
    params = _params(env_id)
    params.check(params.defaults())
    for param in params:
        if param.default is not None:
            param.kind.check(param.default)


# ---- make()'s own options --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "name", "shown"),
    [
        ({"view": "txt"}, "view", "'txt'"),
        ({"view": 1}, "view", "1"),
        ({"invalid_move": "lose"}, "invalid_move", "'lose'"),
        ({"invalid_move": 3}, "invalid_move", "3"),
        ({"invalid_move": {"mode": "lose"}}, "invalid_move.mode", "'lose'"),
        ({"invalid_move": {"max_retries": -1}}, "invalid_move.max_retries", "-1"),
        ({"invalid_move": {"max_retries": "2"}}, "invalid_move.max_retries", "'2'"),
        (
            {"invalid_move": {"format_penalty": "x"}},
            "invalid_move.format_penalty",
            "'x'",
        ),
        (
            {"invalid_move": {"format_penalty": 0.5}},
            "invalid_move.format_penalty",
            "0.5",
        ),
        ({"invalid_move": {"max_retry": 1}}, "invalid_move.max_retry", "max_retry"),
        ({"max_attempts": -1}, "max_attempts", "-1"),
        ({"max_attempts": 0}, "max_attempts", "0"),
        ({"max_attempts": "5"}, "max_attempts", "'5'"),
        ({"max_attempts": True}, "max_attempts", "True"),
        ({"render_mode": "rgb_array"}, "render_mode", "'rgb_array'"),
    ],
)
@pytest.mark.parametrize("maker", [selfplay_envs.make, selfplay_envs.make_parallel])
def test_make_options_are_refused_naming_them(
    maker: Any, options: dict[str, Any], name: str, shown: str
) -> None:
    with pytest.raises(ConfigError) as info:
        maker("tic_tac_toe_v0", **options)
    assert info.value.param == name
    assert name in str(info.value) and shown in str(info.value)


def test_a_choice_error_lists_the_choices() -> None:
    for options, choices in (
        ({"view": "txt"}, ("'text'", "'numeric'")),
        ({"invalid_move": {"mode": "x"}}, ("'retry'", "'loss'", "'penalty'")),
        ({"render_mode": "x"}, ("'ansi'", "'human'")),
    ):
        with pytest.raises(ConfigError) as info:
            selfplay_envs.make("tic_tac_toe_v0", **options)
        assert all(c in str(info.value) for c in choices), str(info.value)


def test_invalid_move_takes_a_mode_name_and_max_attempts_is_kept() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", invalid_move="loss", max_attempts=1)
    assert env.invalid_move == InvalidMovePolicy(mode="loss")
    assert env.max_attempts == 1
    env.reset(seed=0)
    env.step("\\boxed{4}")
    assert all(env.truncations.values())  # one attempt, as asked


def test_invalid_move_policy_checks_its_own_fields() -> None:
    with pytest.raises(ConfigError, match="format_penalty: expected a number <= 0"):
        InvalidMovePolicy(format_penalty=1.0)
    with pytest.raises(ConfigTypeError, match="max_retries: expected an int >= 0"):
        InvalidMovePolicy(max_retries=1.0)


def test_numeric_view_of_a_text_only_game_names_the_view() -> None:
    with pytest.raises(ConfigError, match="view: expected a game with a finite"):
        selfplay_envs.make("search_qa_v0", view="numeric")


# ---- kinds ------------------------------------------------------------------------------


def test_kinds_never_coerce() -> None:
    import numpy as np

    cfg.Int(1, 10).check(np.int64(3))  # numpy integers are ints
    for value in ("5", True, np.bool_(True), 5.0, None):
        assert _refused(cfg.Int(1, 10), value), value
    assert _refused(cfg.Float(), True) and _refused(cfg.Float(), math.inf)
    assert _refused(cfg.Bool(), 1) and _refused(cfg.Choice("a"), ["a"])
    assert _refused(cfg.Seq(cfg.Int()), "12") and _refused(cfg.Seq(cfg.Int()), (1, "2"))


def test_path_checks_only_look(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert _refused(cfg.PathArg("file", nonempty=True), str(empty))
    assert _refused(cfg.PathArg("file"), str(tmp_path))
    assert _refused(cfg.PathArg("dir"), str(empty))
    deep = tmp_path / "a" / "b" / "c"
    assert _refused(cfg.PathArg(parent_exists=True), str(deep))
    cfg.PathArg(parent_exists=True).check(tmp_path / "cache")
    assert os.listdir(tmp_path) == ["empty.jsonl"]


def test_url_checks_make_no_connection() -> None:
    cfg.Url().check("http://127.0.0.1:9/retrieve")
    cfg.Url().check("https://example.invalid")
    for bad in ("localhost:8000", "http://", "http://h:99999", "http://a b", "ftp://x"):
        assert _refused(cfg.Url(), bad), bad


def test_a_declaration_is_checked_when_the_class_is_built_directly() -> None:
    from selfplay_envs.games.kuhn_poker.env import MAX_HANDS, KuhnPokerGame

    with pytest.raises(ConfigError, match="num_hands"):
        KuhnPokerGame(num_hands=MAX_HANDS + 1)
    assert KuhnPokerGame(num_hands=MAX_HANDS).num_hands == MAX_HANDS


def test_a_subclass_declaration_replaces_the_parents() -> None:
    from selfplay_envs.games.kuhn_poker.env import KuhnPokerGame

    class Wider(KuhnPokerGame):
        parameters = cfg.Params(
            *KuhnPokerGame.parameters,
            cfg.Param("label", cfg.Str(), "x", "a name"),
            game="wider",
        )

        def __init__(self, *, label: str = "x", **config: Any):
            super().__init__(**config)
            self.label = label

    assert Wider(label="y", num_hands=2).label == "y"
    with pytest.raises(ConfigError, match="wider parameter label"):
        Wider(label="")


# ---- the same declarations make the docs and `selfplay list` ---------------------------


def test_doc_pages_hold_the_generated_tables() -> None:
    tables = docs_tables()
    assert {f"games/{e.rsplit('_v', 1)[0]}.md" for e in ENV_IDS} <= set(tables)
    for relative, block in tables.items():
        page = (DOCS / relative).read_text()
        assert page_block(page) == block, (
            f"docs/{relative} differs from the declarations: run "
            "`python -m selfplay_envs.core.config_docs --write`"
        )


def test_doc_tables_name_every_parameter_and_its_range() -> None:
    tables = docs_tables()
    for env_id in ENV_IDS:
        block = tables[f"games/{env_id.rsplit('_v', 1)[0]}.md"]
        for param in _params(env_id):
            assert f"| `{param.name}` |" in block
    concepts = tables["concepts.md"]
    for param in [*ENV_OPTIONS, *INVALID_MOVE_OPTIONS]:
        assert f"| `{param.name}` |" in concepts


def test_selfplay_list_prints_every_parameter(capsys: pytest.CaptureFixture) -> None:
    from selfplay_agents.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for env_id in ENV_IDS:
        for line in _params(env_id).lines():
            assert line in out
    for line in ENV_OPTIONS.lines():
        assert line in out


# ---- the prober's cases (benchmarks/probe_configs.py) ----------------------------------


def _probe() -> Any:
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "probe_configs.py"
    spec = importlib.util.spec_from_file_location("probe_configs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_probed_bad_config_is_refused_clearly_at_make(quiet_disk: Path) -> None:
    probe = _probe()
    tmp = quiet_disk / "probe"
    tmp.mkdir()
    cases = probe.cases(tmp)
    assert len(cases) >= 98
    made = _files(tmp)
    for case in cases:
        with pytest.raises(ConfigError) as info:
            selfplay_envs.make(case.env_id, **case.config)
        assert not _entered_constructor(info.value, _game_class(case.env_id)), case
        category, message = probe.classify(case)
        assert category == "clear", (case, message)
    assert _files(tmp) == made  # the deep cache_dir, above all, was not created
    assert _files(quiet_disk / "cache") == [] and _files(quiet_disk / "home") == []


def test_doc_tables_cover_only_this_projects_games(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An installed plug-in's game documents itself: no page here is expected."""
    from selfplay_envs.core import config_docs, registry

    spec = registry.spec("tic_tac_toe_v0")
    plugin = dataclasses.replace(
        spec, id="outside_game_v0", entry_point="outside_pkg.env:OutsideGame"
    )
    monkeypatch.setitem(registry._REGISTRY, "outside_game_v0", plugin)
    tables = config_docs.docs_tables()
    assert "games/outside_game.md" not in tables
    assert "games/tic_tac_toe.md" in tables
