"""Settings for the whole suite: Hypothesis profiles and the `slow` marker.

Hypothesis profiles (chosen once, here, instead of an example count in every test):

- `dev` (the default on a developer's machine): few examples, for a quick inner loop;
- `ci` (picked when CI=true, as CI runs `.ci/run`): more examples, derandomized so a run is
  repeatable, no example database, and the reproduction blob printed on a failure.

HYPOTHESIS_PROFILE=dev|ci overrides the choice. A test keeps its own `max_examples` only where
one example is expensive (a whole simulator per example) and says so in a comment.

`@pytest.mark.slow` marks the tests that take seconds each (the state machines, the money
properties, whole-process end-to-end runs); `make test-fast` leaves them out (with the browser
and SDK tests): `pytest -m "not slow and not browser and not sdk"`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=100,  # Hypothesis default: what CI ran before the profiles
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "")
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev"


settings.load_profile(_profile())


def pytest_configure(config: pytest.Config) -> None:
    """Register the `slow` marker (the suite runs with --strict-markers)."""
    config.addinivalue_line(
        "markers", "slow: takes seconds (state machines, money properties, whole processes)"
    )


# Slow tests in modules that do not import pytest (a state machine's TestCase cannot take a
# decorator): marked here by name, wherever the test module lives. Elsewhere use
# @pytest.mark.slow on the test itself.
SLOW_BY_NAME = {
    "TestPaymentMachine",  # the simulator's payment state machine
    "test_part2_state_machine",  # the same with wallet callbacks, timeouts and refunds
    "test_money_is_never_lost_or_made",  # the reference wallet's money properties
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests named in SLOW_BY_NAME as slow."""
    for item in items:
        parts = {part.split("[")[0] for part in item.nodeid.split("::")}
        if parts & SLOW_BY_NAME:
            item.add_marker(pytest.mark.slow)
