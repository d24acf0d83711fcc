"""Package list for setuptools; everything else is in pyproject.toml.

The ``agents/`` folder is installed as the import package ``selfplay_agents``. The
openai-agents SDK ships a top-level ``agents`` package, and two distributions that own
the same top-level name overwrite each other's files on install without a warning. The
folder keeps its name in the repository; only the import name differs.

Core War's MARS has a C engine (``selfplay_envs/games/core_war/_mars.c``), built with
the system compiler. It is optional: where it does not compile the install still
succeeds (with setuptools' warning) and the game falls back to its numba engine.
search_qa's BM25 query kernel (``selfplay_envs/games/search_qa/search/_bm25.c``) is
built and falls back the same way.
"""

from setuptools import Extension, find_packages, setup

ENVS = find_packages(include=["selfplay_envs", "selfplay_envs.*"])
AGENTS = [
    "selfplay_agents" + name[len("agents") :]
    for name in find_packages(include=["agents", "agents.*"])
]

MARS_C = Extension(
    "selfplay_envs.games.core_war._mars",
    ["selfplay_envs/games/core_war/_mars.c"],
    optional=True,  # a failed compile is a warning: numba is the fallback
    extra_compile_args=["-O3"],
)

# search_qa's BM25 query kernel (same fallback: its numba kernel). Scores must round
# as the numba kernel's do: no fused multiply-add, no fast-math.
BM25_C = Extension(
    "selfplay_envs.games.search_qa.search._bm25",
    ["selfplay_envs/games/search_qa/search/_bm25.c"],
    optional=True,
    extra_compile_args=["-O3", "-ffp-contract=off"],
)

setup(
    packages=ENVS + AGENTS,
    package_dir={"selfplay_agents": "agents"},
    ext_modules=[MARS_C, BM25_C],
)
