"""What the outbound APIs share: the base of their requests and the retry series.

cancelPayment and refund (and the merchant's notification) resend the identical request until a
final answer or a deadline: the body is stored once, in the series' row, and resent byte for
byte; attempt n+1 is due `retry_backoff[n]` seconds after attempt n was due (the last gap
repeats). See docs/time-and-callbacks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from simulator.outbound import WalletAnswer, WalletClient
from simulator.scheduler import Job
from simulator.state import Sim


def base_request(record: dict[str, Any]) -> dict[str, str]:
    """The fields every call about a payment starts with."""
    return {
        "acquirerId": record["acquirer_id"],
        "pspId": record["psp_id"],
        "paymentRequestId": record["payment_request_id"],
    }


def give_up_after(sim: Sim) -> timedelta:
    """How long a refund (or merchant notification) nobody answers is retried."""
    return timedelta(seconds=float(sim.config.give_up_seconds))


class RetrySeries:
    """One attempt of a series that sends the identical request again until a final answer.

    `attempt` counts from 1; `retry()` says whether another attempt fits before `deadline`
    (and when it is due), `again()` schedules it as the same job.
    """

    def __init__(self, sim: Sim, job: Job, attempts_made: int, deadline: datetime) -> None:
        self.sim = sim
        self.job = job
        self.attempt = attempts_made + 1
        self.deadline = deadline
        self.now = sim.clock.now()
        self.due: datetime | None = None

    def retry(self) -> bool:
        """Plan the next attempt: the back-off counted from this job's due time, so the schedule
        does not drift with how late a job ran (several workers moving one virtual clock); with
        a real clock never in the past, so a backlog does not turn into a burst. False: the
        next attempt would come after the deadline (give up)."""
        gaps = tuple(self.sim.config.retry_backoff)
        due = self.job.due_at + timedelta(seconds=float(gaps[min(self.attempt, len(gaps)) - 1]))
        due = due if self.sim.clock.virtual else max(due, self.now)
        if due > self.deadline:
            return False
        self.due = due
        return True

    def send(
        self,
        api: str,
        client_id: str,
        body: str,
        decide: Callable[[WalletAnswer], str],
        **ids: str | None,
    ) -> WalletAnswer:
        """Send this attempt; `decide(answer)` plans what follows and is the journal's note."""
        return WalletClient(self.sim).call(api, client_id, body, note=decide, **ids)

    def again(self, payload: dict[str, Any] | None = None) -> None:
        """Schedule the planned attempt (the same job, or with `payload`)."""
        if self.due is not None:
            self.sim.scheduler.enqueue(
                self.job.kind, payload or self.job.payload, self.due, key=self.job.key
            )
