"""The one clock: real or virtual, the virtual one shared through the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator import create_app

START = "2026-01-05T03:00:00+00:00"


def make(tmp_path, **extra):
    cfg = {"data_dir": tmp_path, "clock": "virtual", "clock_start": START, "run_scheduler": False}
    cfg.update(extra)
    return create_app(cfg).extensions["aplus_sim"]


def test_virtual_clock_starts_frozen_at_the_given_time(tmp_path):
    sim = make(tmp_path)
    assert sim.clock.now() == datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    assert sim.clock.now() == sim.clock.now()
    assert sim.clock.now().tzinfo is not None


def test_advance_and_set_move_forward_only(tmp_path):
    sim = make(tmp_path)
    assert sim.clock.advance(90.5) == datetime(2026, 1, 5, 3, 1, 30, 500000, tzinfo=UTC)
    target = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert sim.clock.set(target) == target
    assert sim.clock.now() == target
    with pytest.raises(ValueError, match="never goes back"):
        sim.clock.set(target - timedelta(seconds=1))
    with pytest.raises(ValueError, match="negative"):
        sim.clock.advance(-1)
    with pytest.raises(ValueError, match="UTC offset"):
        sim.clock.set(datetime(2026, 2, 1))


def test_virtual_time_is_shared_by_every_app_on_the_database(tmp_path):
    first = make(tmp_path)
    second = make(tmp_path, clock_start="")  # a second worker: no start time, keeps the stored one
    first.clock.advance(3600)
    assert second.clock.now() == datetime(2026, 1, 5, 4, 0, tzinfo=UTC)


def test_real_clock_follows_the_wall_and_refuses_to_move(tmp_path):
    sim = make(tmp_path, clock="real", clock_start="")
    assert abs(sim.clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(ValueError, match="--clock virtual"):
        sim.clock.advance(10)


def test_a_restart_never_moves_the_virtual_clock_back(tmp_path):
    first = make(tmp_path)
    first.clock.advance(7200)
    again = make(tmp_path)  # the same --clock-start again (a respawned worker): time is kept
    assert again.clock.now() == datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
    later = make(tmp_path, clock_start="2026-02-01T00:00:00+00:00")  # a later start moves it
    assert later.clock.now() == datetime(2026, 2, 1, tzinfo=UTC)
