"""What the project's loopback servers share (the OpenAI-compatible model server in
``selfplay_agents.serve`` and the retrieval server of ``games.search_qa.search.server``).

Standard library only, and nothing here imports ``agents``: a game's server uses it
as the model server does.
"""
