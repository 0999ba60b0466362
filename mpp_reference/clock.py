"""The wallet's time: real by default; tests inject a clock that never really waits."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the wallet needs from a clock."""

    def now(self) -> datetime:
        """The current time, an aware UTC datetime."""

    def sleep(self, seconds: float) -> None:
        """Wait (between retries of a call to Alipay+)."""


class RealClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        """The current time."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Really wait (only production code paths between retries)."""
        time.sleep(max(0.0, seconds))


class FakeClock:
    """A clock for tests: moves only when told; `sleep` moves it instead of waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(UTC)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """The current fake time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds`."""
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        """Record the wait and move the clock instead of waiting."""
        self.sleeps.append(seconds)
        self.advance(seconds)


class RemoteClock(RealClock):
    """Another server's time (the simulator's `GET /_sim/clock`), e.g. its virtual clock.

    Used by `aplus-sim demo --clock virtual`, so the wallet's expiry checks follow the
    simulator's time; waits between retries are still real.
    """

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout

    def now(self) -> datetime:
        """The remote clock's time (real time if it cannot be read)."""
        import requests

        try:
            value = requests.get(self.url, timeout=self.timeout).json()["now"]
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return super().now()
