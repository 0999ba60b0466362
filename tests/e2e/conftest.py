"""Fixtures of the end-to-end tests (defined in tests/e2e/pair.py, shared with tests/browser)."""

from __future__ import annotations

from tests.e2e.pair import pair  # noqa: F401
