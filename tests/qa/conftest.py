"""Fixtures for the QA control plane's tests: the simulator's own (fresh app, signing wallet)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.pair import pair  # noqa: F401 - the simulator + reference wallet fixture
from tests.simulator.conftest import (  # noqa: F401 - fixtures re-exported for tests/qa
    Wallet,
    app,
    client,
    key_files,
    make_order,
    notify_body,
    server,
    sim,
    wallet,
)


@pytest.fixture
def add_rule(client):  # noqa: F811 - the re-exported fixture
    """POST /_sim/faults; returns the new rule's id."""

    def add(**rule: Any) -> int:
        response = client.post("/_sim/faults", json=rule)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return add
