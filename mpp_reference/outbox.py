"""The notifyPayment outbox: written in the same transaction as the payment, sent until S or F."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

import mpp_reference.defects as defects
from contracts import signing
from mpp_reference.alipay_client import AlipayPlusClient, CallOutcome
from mpp_reference.clock import Clock
from mpp_reference.config import WalletConfig
from mpp_reference.db import iso, outbox
from mpp_reference.payment import new_id
from mpp_reference.results import result

log = logging.getLogger("mpp_reference.outbox")

CLAIM_SECONDS = 60.0  # a claimed message is left alone by other workers for this long


class Outbox:
    """Persisted notifications; each attempt sends the identical body (fresh time and signature)."""

    def __init__(
        self,
        engine: Engine,
        client: AlipayPlusClient,
        clock: Clock,
        timeout: float,
        backoff: tuple[float, ...],
        give_up_seconds: float,
        config: WalletConfig | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.timeout = timeout
        self.backoff = backoff
        self.give_up_seconds = give_up_seconds
        self.config = config or WalletConfig()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(self, conn: Connection, payment_request_id: str, url: str, body: dict) -> None:
        """Add a notification inside the caller's transaction (one per payment, never replaced)."""
        exists = conn.execute(
            select(outbox.c.id).where(outbox.c.payment_request_id == payment_request_id)
        ).first()
        if exists:
            return
        now = iso(self.clock.now())
        conn.execute(
            outbox.insert().values(
                payment_request_id=payment_request_id,
                url=url,
                body=AlipayPlusClient.encode(body).decode("utf-8"),
                status="PENDING",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )

    def _claim(self, payment_request_id: str, now: datetime, due_only: bool) -> Any:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(outbox).where(outbox.c.payment_request_id == payment_request_id)
            ).first()
            if row is None or row.status != "PENDING":
                return None
            if due_only and row.next_attempt_at > iso(now):
                return None
            if row.claimed_until and row.claimed_until > iso(now):
                return None
            conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(claimed_until=iso(now + timedelta(seconds=CLAIM_SECONDS)))
            )
            return row

    def deliver(self, payment_request_id: str, due_only: bool = False) -> CallOutcome | None:
        """Send one pending notification now; None if there is none or another worker has it."""
        now = self.clock.now()
        row = self._claim(payment_request_id, now, due_only)
        if row is None:
            return None
        outcome = self.client.send(row.url, self._body(row, now), self.timeout)
        self._record(row, outcome)
        return outcome

    def _body(self, row: Any, now: datetime) -> bytes:
        """The stored bytes: every attempt sends exactly what the first one sent."""
        if row.attempts == 0:
            return row.body.encode("utf-8")
        body = json.loads(row.body)
        # DEFECT: retry_changed_body -- a resend carries new ids.
        if defects.active(self.config, "retry_changed_body") and body.get("paymentId"):
            body["paymentId"] = new_id("MPP", now)
            body["paymentTime"] = signing.format_time(now)
        # DEFECT: notify_retry_other_result -- a resend reports the opposite result.
        if defects.active(self.config, "notify_retry_other_result"):
            flipped = "SUCCESS" if body["paymentResult"]["resultStatus"] != "S" else "PROCESS_FAIL"
            body["paymentResult"] = result("paymentResult", flipped)
        return AlipayPlusClient.encode(body) if body != json.loads(row.body) else row.body.encode()

    def _record(self, row: Any, outcome: CallOutcome) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "claimed_until": None,
            "last_outcome": outcome.describe(),
            "updated_at": iso(now),
        }
        if outcome.status == "S":
            values["status"] = "DONE"
        elif outcome.status == "F":
            # Alipay+ refused it for good: a human has to look (shown on the wallet's home page).
            values["status"] = "FAILED"
            log.error("notifyPayment %s refused: %s", row.payment_request_id, outcome.describe())
        else:
            age = (now - datetime.fromisoformat(row.created_at)).total_seconds()
            # DEFECT: notify_never_retried / u_treated_as_f -- no second attempt after a U.
            if age >= self.give_up_seconds or self._no_retry():
                values["status"] = "GAVE_UP"
            wait = self.backoff[min(attempts - 1, len(self.backoff) - 1)]
            values["next_attempt_at"] = iso(now + timedelta(seconds=wait))
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == row.id).values(**values))

    def _no_retry(self) -> bool:
        return defects.active(self.config, "notify_never_retried") or defects.active(
            self.config, "u_treated_as_f"
        )

    def run_due(self) -> int:
        """Attempt every pending notification that is due; returns how many were attempted."""
        now = self.clock.now()
        with self.engine.connect() as conn:
            due = (
                conn.execute(
                    select(outbox.c.payment_request_id)
                    .where(outbox.c.status == "PENDING", outbox.c.next_attempt_at <= iso(now))
                    .order_by(outbox.c.next_attempt_at)
                )
                .scalars()
                .all()
            )
        return sum(1 for prid in due if self.deliver(prid, due_only=True) is not None)

    def get(self, payment_request_id: str) -> dict[str, Any] | None:
        """The outbox row for a payment, with its body parsed."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(outbox).where(outbox.c.payment_request_id == payment_request_id)
            ).first()
        if row is None:
            return None
        item = dict(row._mapping)
        item["message"] = json.loads(item["body"])
        return item

    def rows(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest notifications."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def start(self, interval: float = 1.0) -> None:
        """Deliver due notifications from a daemon thread (served wallet only)."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.run_due()
                except Exception:  # keep the worker alive; the row stays PENDING
                    log.exception("outbox run failed")

        self._thread = threading.Thread(target=loop, name="mpp-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
