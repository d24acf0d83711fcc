"""Glue between our envs and other libraries (MARL libraries, LLM trainers, Ray).

Nothing here is imported by ``agents`` itself; each module imports its library lazily
or only needs PettingZoo.
"""
