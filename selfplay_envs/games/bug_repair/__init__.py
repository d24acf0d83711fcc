"""Bug injection vs bug repair in real repositories (Self-play SWE-RL)."""
