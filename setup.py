"""Package list for setuptools; everything else is in pyproject.toml.

The ``agents/`` folder is installed as the import package ``selfplay_agents``. The
openai-agents SDK ships a top-level ``agents`` package, and two distributions that own
the same top-level name overwrite each other's files on install without a warning. The
folder keeps its name in the repository; only the import name differs.
"""

from setuptools import find_packages, setup

ENVS = find_packages(include=["selfplay_envs", "selfplay_envs.*"])
AGENTS = [
    "selfplay_agents" + name[len("agents") :]
    for name in find_packages(include=["agents", "agents.*"])
]

setup(packages=ENVS + AGENTS, package_dir={"selfplay_agents": "agents"})
