"""The persisted job table: time order, atomic claims, cancellation, restarts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from simulator import create_app
from simulator.scheduler import jobs_table

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def make(tmp_path, **extra):
    cfg = {
        "data_dir": tmp_path,
        "clock": "virtual",
        "clock_start": T0.isoformat(),
        "run_scheduler": False,
    }
    cfg.update(extra)
    return create_app(cfg).extensions["aplus_sim"]


def recorder(sim, seen):
    def handle(sim_, job):
        seen.append((job.payload["name"], sim_.clock.now()))

    sim.scheduler.register("record", handle)


def test_advancing_runs_due_jobs_in_time_order_at_their_due_time(tmp_path):
    sim = make(tmp_path)
    seen: list = []
    recorder(sim, seen)
    for name, offset in (("c", 30), ("a", 4), ("late", 120), ("b", 8)):
        sim.scheduler.enqueue("record", {"name": name}, T0 + timedelta(seconds=offset))
    sim.clock.advance(60)
    assert seen == [
        ("a", T0 + timedelta(seconds=4)),
        ("b", T0 + timedelta(seconds=8)),
        ("c", T0 + timedelta(seconds=30)),
    ]
    assert sim.clock.now() == T0 + timedelta(seconds=60)
    assert [job["payload"]["name"] for job in sim.scheduler.pending()] == ["late"]


def test_jobs_scheduled_by_jobs_run_in_the_same_advance(tmp_path):
    sim = make(tmp_path)
    times: list = []

    def chain(sim_, job):
        times.append(sim_.clock.now())
        if job.payload["left"]:
            sim_.scheduler.enqueue(
                "chain", {"left": job.payload["left"] - 1}, sim_.clock.now() + timedelta(seconds=10)
            )

    sim.scheduler.register("chain", chain)
    sim.scheduler.enqueue("chain", {"left": 3}, T0 + timedelta(seconds=5))
    sim.clock.advance(100)
    assert times == [T0 + timedelta(seconds=s) for s in (5, 15, 25, 35)]


def test_cancel_and_replace_by_key(tmp_path):
    sim = make(tmp_path)
    seen: list = []
    recorder(sim, seen)
    sim.scheduler.enqueue("record", {"name": "first"}, T0 + timedelta(seconds=5), key="k")
    sim.scheduler.enqueue("record", {"name": "second"}, T0 + timedelta(seconds=6), key="k")
    sim.scheduler.enqueue("record", {"name": "gone"}, T0 + timedelta(seconds=7), key="other")
    assert sim.scheduler.cancel("other") == 1
    sim.clock.advance(10)
    assert [name for name, _ in seen] == ["second"]


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(tmp_path):
    sim = make(tmp_path)
    seen: list = []
    recorder(sim, seen)

    def boom(sim_, job):
        raise RuntimeError("wallet exploded")

    sim.scheduler.register("boom", boom)
    sim.scheduler.enqueue("boom", {}, T0 + timedelta(seconds=1))
    sim.scheduler.enqueue("record", {"name": "after"}, T0 + timedelta(seconds=2))
    sim.scheduler.enqueue("nobody-handles-this", {}, T0 + timedelta(seconds=3))
    sim.clock.advance(5)
    assert [name for name, _ in seen] == ["after"]
    by_kind = {job["kind"]: job for job in sim.scheduler.jobs()}
    assert by_kind["boom"]["status"] == "failed"
    assert "wallet exploded" in by_kind["boom"]["error"]
    assert by_kind["nobody-handles-this"]["status"] == "failed"
    assert by_kind["record"]["status"] == "done"


def test_jobs_survive_a_restart(tmp_path):
    first = make(tmp_path)
    first.scheduler.enqueue("record", {"name": "persisted"}, T0 + timedelta(seconds=30))
    second = make(tmp_path, clock_start="")  # a new process on the same data dir
    seen: list = []
    recorder(second, seen)
    second.clock.advance(31)
    assert seen == [("persisted", T0 + timedelta(seconds=30))]


def test_two_workers_never_run_a_job_twice(tmp_path):
    workers = [make(tmp_path, clock_start="") for _ in range(2)]
    runs: list[int] = []
    lock = threading.Lock()

    def count(sim_, job):
        with lock:
            runs.append(job.payload["n"])

    for sim in workers:
        sim.scheduler.register("count", count)
    for n in range(60):
        workers[0].scheduler.enqueue("count", {"n": n}, T0)
    barrier = threading.Barrier(2)

    def drain(sim):
        barrier.wait()
        sim.scheduler.run_due(T0)

    threads = [threading.Thread(target=drain, args=(sim,)) for sim in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(runs) == list(range(60))


def test_a_claim_left_by_a_dead_worker_is_taken_over(tmp_path):
    sim = make(tmp_path)
    seen: list = []
    recorder(sim, seen)
    job_id = sim.scheduler.enqueue("record", {"name": "orphan"}, T0)
    with sim.engine.begin() as conn:  # a worker claimed it, then died: its lease has run out
        conn.execute(
            jobs_table.update()
            .where(jobs_table.c.id == job_id)
            .values(status="running", claimed_by="dead", lease_until=1.0)
        )
    assert sim.scheduler.run_due(T0) == 1
    assert seen == [("orphan", T0)]


def test_real_clock_runs_due_jobs_in_the_background(tmp_path):
    sim = make(tmp_path, clock="real", clock_start="", run_scheduler=True)
    done = threading.Event()
    sim.scheduler.register("ping", lambda sim_, job: done.set())
    try:
        sim.scheduler.enqueue("ping", {}, sim.clock.now())
        assert done.wait(timeout=10)
    finally:
        sim.scheduler.stop()
