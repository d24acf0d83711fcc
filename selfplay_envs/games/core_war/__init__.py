"""Core War: an exact pMARS 0.9.4 assembler and MARS, and the game ``core_war_v0``.

Modules: ``assembler`` (Redcode to warriors, load files), ``mars`` (battles; imports
numba), ``rules`` and ``env`` (the game), ``cli`` (``selfplay corewar``). Nothing is
imported here, so that using the assembler never loads numba.
"""
