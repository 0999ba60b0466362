"""The wallet's Alipay+ client: signs requests, verifies answers, applies timeouts and retries."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from contracts import signing
from mpp_reference.clock import Clock

log = logging.getLogger("mpp_reference.alipay")

USER_INITIATED_PAY = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY_PAYMENT = "/aps/api/v1/payments/notifyPayment"
INQUIRY_CODE_RULES = "/aps/api/v1/codes/inquiryCodeRules"


@dataclass
class CallOutcome:
    """What one call to Alipay+ came to: the `result` status, or U when nothing usable came back."""

    status: str  # S | F | U
    code: str
    message: str = ""
    body: dict[str, Any] | None = None
    http_status: int | None = None
    signature: str = "missing"  # valid | invalid | missing
    error: str | None = None  # timeout, connection error, non-JSON, bad signature ...
    attempts: int = 1
    history: list[str] = field(default_factory=list)

    @property
    def final(self) -> bool:
        """S or F: the caller must not send the same request again."""
        return self.status in ("S", "F")

    def describe(self) -> str:
        """One line for logs and pages."""
        text = f"{self.status}/{self.code}"
        if self.error:
            text += f" ({self.error})"
        return text


def _unknown(error: str, http_status: int | None = None, signature: str = "missing") -> CallOutcome:
    return CallOutcome("U", "UNKNOWN_EXCEPTION", error, None, http_status, signature, error)


class AlipayPlusClient:
    """Signed calls from the wallet (client id, private key) to Alipay+ (its public key)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        private_key: Any,
        alipay_public_key: Callable[[], Any],
        clock: Clock,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.private_key = private_key
        self._alipay_public_key = alipay_public_key
        self.clock = clock

    @staticmethod
    def encode(body: dict[str, Any]) -> bytes:
        """The exact bytes sent (and re-sent on every retry)."""
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def url_for(self, path_or_url: str) -> str:
        """An absolute URL for an API path, or the URL itself."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + path_or_url

    def send(self, url: str, body: bytes, timeout: float) -> CallOutcome:
        """One signed POST; never raises for transport or protocol problems."""
        url = self.url_for(url)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = signing.signed_request_headers(
            self.private_key, self.client_id, path, body, self.clock.now()
        )
        headers["Content-Type"] = "application/json; charset=UTF-8"
        try:
            response = requests.post(url, data=body, headers=headers, timeout=timeout)
        except requests.Timeout:
            return _unknown(f"no answer within {timeout:g} s (timeout)")
        except requests.RequestException as exc:
            return _unknown(f"connection error: {type(exc).__name__}")
        raw = response.content
        try:
            parsed = json.loads(raw)
            result = parsed["result"]
            status, code = str(result["resultStatus"]), str(result["resultCode"])
        except (ValueError, KeyError, TypeError):
            return _unknown(
                f"HTTP {response.status_code} without a JSON result object", response.status_code
            )
        verdict = self._verify(path, response, raw)
        if verdict == "invalid":
            # An answer we cannot trust is no answer: the outcome is unknown.
            return _unknown("the answer's signature does not verify", response.status_code, verdict)
        if verdict == "missing" and status == "S":
            # The official SDKs reject an unsigned success; so do we.
            return _unknown("an unsigned S answer", response.status_code, verdict)
        if status not in ("S", "F", "U"):
            return _unknown(f"resultStatus {status!r}", response.status_code, verdict)
        return CallOutcome(
            status,
            code,
            str(result.get("resultMessage") or ""),
            parsed,
            response.status_code,
            verdict,
        )

    def _verify(self, path: str, response: requests.Response, raw: bytes) -> str:
        header = response.headers.get("signature")
        when = response.headers.get("response-time")
        client_id = response.headers.get("client-id") or self.client_id
        if not header or not when:
            return "missing"
        try:
            parsed = signing.parse_signature_header(header)
            ok = signing.verify(
                self._alipay_public_key(), "POST", path, client_id, when, raw, parsed.signature
            )
        except Exception:
            return "invalid"
        return "valid" if ok else "invalid"

    def rules_fetcher(self, timeout: float) -> Callable[[], dict[str, Any]]:
        """A fetch() for the rules cache: a signed inquiryCodeRules call (no retry: the cache
        keeps its rules and tries again later)."""

        def fetch() -> dict[str, Any]:
            outcome = self.call(INQUIRY_CODE_RULES, {}, timeout)
            if outcome.status != "S" or outcome.body is None:
                raise RuntimeError(f"inquiryCodeRules answered {outcome.describe()}")
            return outcome.body

        return fetch

    def call(
        self,
        url: str,
        body: dict[str, Any],
        timeout: float,
        backoff: tuple[float, ...] = (),
    ) -> CallOutcome:
        """Send; on U or no answer send the identical body again after each wait in `backoff`."""
        raw = self.encode(body)
        history: list[str] = []
        outcome = self.send(url, raw, timeout)
        history.append(outcome.describe())
        for wait in backoff:
            if outcome.final:
                break
            log.info("%s answered %s; again in %.1f s", url, outcome.describe(), wait)
            self.clock.sleep(wait)
            outcome = self.send(url, raw, timeout)
            history.append(outcome.describe())
        outcome.attempts = len(history)
        outcome.history = history
        return outcome
