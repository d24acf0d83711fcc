"""Wrappers: single-agent Gymnasium view, batched env."""
