"""Scenarios: a small registry (`@scenario(...)`) and the context each one runs in.

A scenario drives one payment (or a few) through the wallet's hook, provokes one reaction
through the simulator's QA channels (rules scoped to this wallet and this payment), and judges
what the wallet did from the journal. `ctx.check(...)` names the rule a failure breaks; the
exchanges it looked at become the evidence in the reports.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.verify.client import ControlError, Hook, SimClient

# Signature verdicts of the journal that make an exchange untrusted: its result counts as no
# answer, whatever the result columns say (an unsigned "S" proves nothing).
UNTRUSTED_SIGNATURES = ("invalid", "missing")
POLL_SECONDS = 0.1  # how often the journal is read while waiting
# After moving a virtual clock, how long a wallet gets (real time) to notice and retry before
# the clock moves again: the reference wallet's outbox looks every second.
SETTLE_SECONDS = 1.2


class ScenarioFailed(AssertionError):
    """A rule the wallet broke, with the detail that shows it."""

    def __init__(self, rule: str, detail: str = "") -> None:
        self.rule, self.detail = rule, detail
        super().__init__(f"{rule}: {detail}" if detail else rule)


class ScenarioSkipped(Exception):
    """The scenario cannot run here (a real clock, a simulator capability that is missing)."""


@dataclass(frozen=True)
class Scenario:
    """One entry of the catalogue."""

    name: str
    checks: str  # what it checks, one sentence
    section: str  # the spec section(s) it rests on
    run: Callable[[Context], None]
    virtual_clock: bool = False  # needs `--clock virtual` (moves time)
    family: str = "acceptance"


CATALOGUE: dict[str, Scenario] = {}


def scenario(
    name: str, checks: str, section: str, *, virtual_clock: bool = False, family: str = "acceptance"
) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register a scenario function under `name` (the catalogue keeps the module order)."""

    def register(run: Callable[[Context], None]) -> Callable[[Context], None]:
        if name in CATALOGUE:
            raise ValueError(f"scenario {name!r} registered twice")
        CATALOGUE[name] = Scenario(name, checks, section, run, virtual_clock, family)
        return run

    return register


def exchange_view(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry as evidence: who called what, what came back, and the verdicts."""
    untrusted = entry.get("signature") in UNTRUSTED_SIGNATURES
    if entry.get("response_status") is None or entry.get("error"):
        outcome = f"no answer ({entry.get('error') or 'none'})"
    elif untrusted:
        outcome = f"no answer (signature {entry['signature']})"
    else:
        outcome = f"{entry.get('result_status')} {entry.get('result_code')}"
    return {
        "id": entry.get("id"),
        "time": entry.get("time"),
        "direction": entry.get("direction"),
        "api": entry.get("api"),
        "paymentRequestId": entry.get("payment_request_id"),
        "refundRequestId": entry.get("refund_request_id"),
        "outcome": outcome,
        "signature": entry.get("signature"),
        "httpStatus": entry.get("response_status"),
        "latencyMs": round(entry.get("latency_ms") or 0.0, 1),
        "requestViolations": entry.get("request_violations") or [],
        "responseViolations": entry.get("response_violations") or [],
        "note": entry.get("note"),
        "requestBody": entry.get("request_body"),
        "responseBody": entry.get("response_body"),
        "responseHeaders": entry.get("response_headers") or {},
    }


def body(exchange: dict[str, Any], which: str = "requestBody") -> dict[str, Any]:
    """A request or response body of an exchange as JSON ({} when it is not JSON)."""
    try:
        parsed = json.loads(exchange.get(which) or "")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@dataclass
class Context:
    """What a scenario works with; it remembers what to clean up and what to show."""

    sim: SimClient
    hook: Hook
    virtual: bool
    rng: random.Random
    currency: str = "KRW"  # the wallet's currency (orders default to it)
    patience: float = 20.0  # real seconds to wait for a wallet's own retries
    rules: list[int] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    extra_ids: list[int] = field(default_factory=list)  # journal ids shown besides payments

    # -- actions ---------------------------------------------------------------------------

    def order(self, value: int | None = None, currency: str | None = None, **params: Any) -> dict:
        """A fresh cashier order for this wallet; watched for evidence and cleaned up."""
        value = value if value is not None else self.rng.randrange(100, 900) * 10
        amount = {"currency": currency or self.currency, "value": str(value)}
        created = self.sim.order(amount=amount, **params)
        self.payments.append(created["paymentRequestId"])
        self.codes.append(created["codeValue"])
        return created

    def act(self, code_value: str, action: str = "confirm") -> dict[str, Any]:
        """The wallet's user does `action` on the code (the hook); HTTP 200 is required."""
        answer = self.hook.act(code_value, action)
        self.check(
            answer["httpStatus"] == 200,
            "the hook answers 200 to a valid action (docs/verify.md)",
            f"HTTP {answer['httpStatus']}: {answer}",
        )
        return answer

    def rule(self, api: str, effect: dict[str, Any], **scope: Any) -> int:
        """A fault rule scoped to this wallet (deleted at the end of the scenario)."""
        rule_id = self.sim.add_rule({"api": api, "effect": effect, **scope})
        self.rules.append(rule_id)
        return rule_id

    def advance(self, seconds: float) -> None:
        """Move the virtual clock (due jobs run); on a real clock let the scheduler work."""
        if self.virtual:
            self.sim.advance(seconds)

    def run_due(self, done: Callable[[], bool], what: str) -> None:
        """Let jobs due now run (virtual: advance 0) and wait until `done()`."""
        self.advance(0)
        self.wait(done, what)

    def wait(
        self, done: Callable[[], bool], what: str, step: float = 0.0, max_advance: float = 0.0
    ) -> None:
        """Poll `done()` until it holds, bounded by `patience` real seconds.

        With `step`, a virtual clock is also moved, `step` seconds at first and then in growing
        steps (at most `max_advance` in all), each followed by a short real-time window in which
        a wallet that follows the simulator's time makes its retry. A wallet on real time
        retries on its own schedule while we poll.
        """
        deadline = time.monotonic() + self.patience
        advanced, settle_until = 0.0, 0.0
        while not done():
            now = time.monotonic()
            if now > deadline:
                raise ScenarioFailed(what, f"not seen within {self.patience:g} s")
            if step and self.virtual and now >= settle_until and advanced < max_advance:
                move = min(step, max_advance - advanced)
                self.sim.advance(move)
                advanced += move
                step = min(step * 2, 60.0)
                settle_until = time.monotonic() + SETTLE_SECONDS
                continue
            time.sleep(POLL_SECONDS)  # polling interval, not a wait for behaviour

    def cleanup(self) -> None:
        """Delete this scenario's rules; close its payments that are still open."""
        for rule_id in self.rules:
            self.sim.delete_rule(rule_id)
        for payment_request_id in self.payments:
            try:
                if self.sim.payment(payment_request_id)["status"] in ("CREATED", "DECODED"):
                    self.sim.cancel(payment_request_id, reason="aplus-sim verify: clean-up")
            except ControlError:
                continue
        self.advance(0)

    # -- what happened ----------------------------------------------------------------------

    def exchanges(self, payment_request_id: str, api: str | None = None) -> list[dict]:
        """Every exchange about one payment, oldest first, optionally of one API."""
        entries = self.sim.journal(paymentRequestId=payment_request_id)
        return [exchange_view(e) for e in entries if api is None or e["api"] == api]

    def decodes(self, code_value: str) -> list[dict[str, Any]]:
        """The wallet's userInitiatedPay calls for one code, oldest first (answered or not)."""
        entries = self.sim.journal(api="userInitiatedPay")
        return [
            exchange_view(e)
            for e in entries
            if body(exchange_view(e)).get("codeValue") == code_value
        ]

    def evidence(self) -> list[dict[str, Any]]:
        """The exchanges this scenario touched, oldest first (payments, codes, extra ids)."""
        seen: dict[int, dict[str, Any]] = {}
        for payment_request_id in self.payments:
            for exchange in self.exchanges(payment_request_id):
                seen[exchange["id"]] = exchange
        for code_value in self.codes:
            for exchange in self.decodes(code_value):
                seen[exchange["id"]] = exchange
        for entry_id in self.extra_ids:
            try:
                seen[entry_id] = exchange_view(self.sim.call("GET", f"/_sim/journal/{entry_id}"))
            except ControlError:
                continue
        return [seen[key] for key in sorted(seen)]

    # -- judging ----------------------------------------------------------------------------

    @staticmethod
    def check(condition: Any, rule: str, detail: str = "") -> None:
        """Fail the scenario with `rule` unless `condition` holds."""
        if not condition:
            raise ScenarioFailed(rule, detail)

    @staticmethod
    def skip(reason: str) -> None:
        """Report the scenario skipped, with the reason."""
        raise ScenarioSkipped(reason)
