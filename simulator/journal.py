"""Placeholder until its owner fills it in (see docs/ARCHITECTURE.md)."""

from __future__ import annotations


def init_app(app):
    """Register this area with the app."""
