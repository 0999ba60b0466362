"""Placeholder until its owner fills it in (see docs/ARCHITECTURE.md)."""

from __future__ import annotations


def register(subparsers):
    """Add this module's subcommands."""
