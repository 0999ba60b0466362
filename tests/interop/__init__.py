"""Interoperability with the official Ant International SDK (run in .venv-sdk)."""
