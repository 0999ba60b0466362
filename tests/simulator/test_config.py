"""SimConfig: every setting a module reads can be given as a dict entry or an APLUS_SIM_* variable."""

from __future__ import annotations

import pytest

from simulator.config import SimConfig


def test_settings_from_a_dict_are_typed():
    cfg = SimConfig.from_any(
        {"retry_backoff": [1, 2], "give_up_seconds": "60", "scheduler_threads": "2"}
    )
    assert cfg.retry_backoff == (1, 2)
    assert cfg.give_up_seconds == 60.0
    assert cfg.scheduler_threads == 2


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("APLUS_SIM_RETRY_BACKOFF", "5,15,45")
    monkeypatch.setenv("APLUS_SIM_INQUIRY_SCHEDULE", "1,2")
    monkeypatch.setenv("APLUS_SIM_DROP_SECONDS", "2.5")
    monkeypatch.setenv("APLUS_SIM_RUN_SCHEDULER", "false")
    cfg = SimConfig.from_any(None)
    assert cfg.retry_backoff == (5, 15, 45)
    assert cfg.inquiry_schedule == (1, 2)
    assert cfg.drop_seconds == 2.5
    assert cfg.run_scheduler is False


def test_an_unknown_setting_is_refused_by_name():
    with pytest.raises(ValueError, match="retry_backof"):
        SimConfig.from_any({"retry_backof": [1]})
