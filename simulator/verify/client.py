"""What `aplus-sim verify` talks to, over HTTP only: the simulator's control plane and the
wallet's test hook (the binding contract in docs/verify.md).

Nothing here imports the simulator's internals: the kit judges a wallet from the outside, as
a CI job on another machine would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests

# A control-plane call that takes longer than this is a broken simulator, not a slow one
# (advancing the clock runs due jobs, each bounded by Alipay+'s own 8 s timeouts).
CONTROL_TIMEOUT = 120.0
# The hook answers once its synchronous part is done: identify, decode with its retries
# (8 s timeout each), pay and the first notification (5 s).
HOOK_TIMEOUT = 60.0


class SetupError(Exception):
    """The run cannot start: unreachable simulator, unknown client, hook not answering."""


class ControlError(Exception):
    """A control-plane call answered an error (HTTP 4xx/5xx); `status` and `body` say which."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status, self.body = status, body
        message = body.get("error") if isinstance(body, dict) else str(body)[:300]
        super().__init__(f"{method} {path} answered HTTP {status}: {message}")


@dataclass
class SimClient:
    """The simulator's /_sim control plane, for one wallet (clientId)."""

    base_url: str
    client_id: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """One control-plane call; the JSON answer, or ControlError."""
        url = f"{self.base_url.rstrip('/')}{path}"
        response = self.session.request(
            method, url, json=body, params=params or None, timeout=CONTROL_TIMEOUT
        )
        try:
            answer = response.json()
        except ValueError:
            answer = response.text[:500]
        if response.status_code >= 400:
            raise ControlError(method, path, response.status_code, answer)
        return answer

    def health(self) -> dict[str, Any]:
        """GET /_sim/health."""
        return self.call("GET", "/_sim/health")

    def participant(self) -> dict[str, Any]:
        """GET /_sim/participants/<clientId>."""
        return self.call("GET", f"/_sim/participants/{self.client_id}")

    def clock(self) -> dict[str, Any]:
        """GET /_sim/clock: mode (real | virtual) and now."""
        return self.call("GET", "/_sim/clock")

    def advance(self, seconds: float) -> dict[str, Any]:
        """POST /_sim/clock/advance: due jobs (polls, cancels, refunds) run before it returns."""
        return self.call("POST", "/_sim/clock/advance", {"seconds": seconds})

    def order(self, **params: Any) -> dict[str, Any]:
        """POST /_sim/orders for this wallet."""
        return self.call("POST", "/_sim/orders", {"clientId": self.client_id, **params})

    def payment(self, payment_request_id: str) -> dict[str, Any]:
        """GET /_sim/payments/<id> (state, amounts, refunds, reversal, exchanges)."""
        return self.call("GET", f"/_sim/payments/{payment_request_id}")

    def cancel(self, payment_request_id: str, **body: Any) -> dict[str, Any]:
        """POST /_sim/payments/<id>/cancel (the merchant closes the order)."""
        return self.call("POST", f"/_sim/payments/{payment_request_id}/cancel", body)

    def refund(self, payment_request_id: str, **body: Any) -> dict[str, Any]:
        """POST /_sim/payments/<id>/refunds (the merchant refunds)."""
        return self.call("POST", f"/_sim/payments/{payment_request_id}/refunds", body)

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """GET /_sim/journal for this wallet, oldest first (up to 1000 entries)."""
        params = {"clientId": self.client_id, "limit": 1000, **filters}
        return list(reversed(self.call("GET", "/_sim/journal", **params)["entries"]))

    def add_rule(self, rule: dict[str, Any]) -> int:
        """POST /_sim/faults, scoped to this wallet; the rule's id."""
        return self.call("POST", "/_sim/faults", {"clientId": self.client_id, **rule})["id"]

    def rule(self, rule_id: int) -> dict[str, Any]:
        """GET /_sim/faults/<id> (with its matched and fired counts)."""
        return self.call("GET", f"/_sim/faults/{rule_id}")

    def delete_rule(self, rule_id: int) -> None:
        """DELETE /_sim/faults/<id>; a rule already gone is fine."""
        try:
            self.call("DELETE", f"/_sim/faults/{rule_id}")
        except ControlError as exc:
            if exc.status != 404:
                raise


@dataclass
class Hook:
    """The wallet's test hook: `POST <url> {"codeValue", "action", "customerId"?}`."""

    url: str
    customer_id: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def act(self, code_value: str, action: str = "confirm") -> dict[str, Any]:
        """Drive one user action; the hook's JSON answer plus `httpStatus` and `seconds`."""
        body: dict[str, Any] = {"codeValue": code_value, "action": action}
        if self.customer_id:
            body["customerId"] = self.customer_id
        started = time.monotonic()
        response = self.session.post(self.url, json=body, timeout=HOOK_TIMEOUT)
        try:
            answer = response.json()
        except ValueError:
            answer = {"body": response.text[:500]}
        if not isinstance(answer, dict):
            answer = {"body": answer}
        answer["httpStatus"] = response.status_code
        answer["seconds"] = round(time.monotonic() - started, 3)
        return answer

    def probe(self) -> int:
        """POST an empty object: a hook that follows the contract answers 400."""
        return self.session.post(self.url, json={}, timeout=10).status_code


def check_setup(sim: SimClient, hook: Hook) -> dict[str, Any]:
    """Health, registration and the hook answering; the simulator's clock. Raises SetupError."""
    try:
        sim.health()
    except requests.RequestException as exc:
        raise SetupError(f"cannot reach the simulator at {sim.base_url}: {_reason(exc)}") from None
    except ControlError as exc:
        raise SetupError(f"{sim.base_url} is not an aplus-sim simulator: {exc}") from None
    try:
        sim.participant()
    except ControlError as exc:
        raise SetupError(
            f"client {sim.client_id!r} is not registered at {sim.base_url} "
            f"(register it first: PUT /_sim/participants/{sim.client_id}): HTTP {exc.status}"
        ) from None
    try:
        status = hook.probe()
    except requests.RequestException as exc:
        raise SetupError(
            f"the wallet's hook at {hook.url} does not answer: {_reason(exc)}"
        ) from None
    if status in (404, 405) or status >= 500:
        raise SetupError(
            f"the wallet's hook at {hook.url} answered HTTP {status} to a bad request "
            "(expected 400 with an error): is the URL right?"
        )
    return sim.clock()


def _reason(exc: Exception) -> str:
    """The last line of a requests exception, without the urllib3 noise."""
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return text.splitlines()[-1][:200] if text else type(exc).__name__
