"""The simulator's HTTP client towards wallets: inquiryPayment, cancelPayment and refund.

Each call is signed with the simulator's key (Client-Id = the wallet's own client id, as Alipay+
does, spec §2.3), sent with the per-API timeout, and its answer judged: the signature checked with
the participant's public key over the raw bytes, the body validated against the MPP-side schema.
Both directions go into the journal with direction "outbound". The outcome is classified so the
callers can decide: only a correctly signed JSON answer with a `result` is trusted; a timeout, a
refused connection, a 5xx, a non-JSON body or a bad signature count as "no answer yet" (U).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from contracts import signing
from contracts.wire import ALIPAY_TZ
from simulator.faults.outbound import spoil_outbound
from simulator.protocol import check as validation_report
from simulator.state import Sim

URL_FIELDS = {
    "inquiryPayment": "inquiryPaymentUrl",
    "cancelPayment": "cancelPaymentUrl",
    "refund": "refundUrl",
}
TIMEOUT_FIELDS = {
    "inquiryPayment": "inquiry_timeout",
    "cancelPayment": "cancel_timeout",
    "refund": "refund_timeout",
}


@dataclass
class WalletAnswer:
    """What one call to a wallet came to."""

    api: str
    url: str
    request_body: str
    http_status: int | None = None
    body: dict[str, Any] | None = None
    raw_body: str | None = None
    signature: str = "not-checked"
    violations: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    latency_ms: float = 0.0
    journal_id: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def trusted(self) -> bool:
        """A JSON answer with a result whose signature holds (or is not checked by choice)."""
        return self.error is None and self.body is not None

    @property
    def result(self) -> dict[str, Any]:
        """The answer's `result` object ({} when there is none to trust)."""
        if not self.trusted:
            return {}
        result = self.body.get("result") if self.body else None
        return result if isinstance(result, dict) else {}

    @property
    def status(self) -> str:
        """S, F or U; anything untrusted is U (the outcome is unknown, so ask or send again)."""
        value = self.result.get("resultStatus")
        return value if value in ("S", "F") else "U"

    @property
    def code(self) -> str | None:
        """The answer's resultCode, or why there is none (e.g. "timeout")."""
        return self.result.get("resultCode") or self.error

    def describe(self) -> str:
        """One line for logs and the order's history, e.g. "U timeout" or "S SUCCESS"."""
        return f"{self.status} {self.code}"


class WalletClient:
    """Signs, sends, verifies and journals calls from the simulator to a wallet."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # loopback wallets: never through an environment proxy
            self._local.session = session
        return session

    def call(
        self,
        api: str,
        client_id: str,
        body: str,
        *,
        payment_request_id: str | None = None,
        refund_request_id: str | None = None,
        note: str | Callable[[WalletAnswer], str] | None = None,
    ) -> WalletAnswer:
        """POST the exact JSON text `body` to the participant's URL for `api` and judge the answer.

        `note` (text, or a function of the answer) goes into the journal entry, e.g. "poll 3 of 8".
        """
        sim = self.sim
        # Not found (deleted by a reset?): the call fails like an unreachable wallet, journaled.
        participant = sim.keys.participant(client_id) or {}
        url = participant.get(URL_FIELDS[api]) or ""
        timeout = float(getattr(sim.config, TIMEOUT_FIELDS[api]))  # e.g. config.refund_timeout
        answer = WalletAnswer(api=api, url=url, request_body=body)
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        payload = body.encode("utf-8")
        when = sim.clock.now().astimezone(ALIPAY_TZ)
        headers = signing.signed_request_headers(
            sim.keys.private_key, client_id, path, payload, when
        )
        sends = 1
        injection = sim.faults.outbound(api, client_id, payment_request_id, refund_request_id)
        if injection is not None:
            payload, headers, sends = spoil_outbound(
                sim, injection, client_id, path, payload, headers, when
            )
            answer.request_body = payload.decode("utf-8", errors="replace")
        for number in range(1, sends + 1):
            if number > 1:  # a duplicate: the same bytes again, the last answer counts
                answer = WalletAnswer(api=api, url=url, request_body=answer.request_body)
            self._send(answer, participant, client_id, path, payload, headers, timeout)
            text = note(answer) if callable(note) else note
            if injection is not None:
                marker = injection.note() + (f" (call {number} of {sends})" if sends > 1 else "")
                text = f"{marker}; {text}" if text else marker
            answer.journal_id = self._journal(
                answer,
                client_id=client_id,
                path=path,
                request_headers=headers,
                response_headers=answer.response_headers,
                payment_request_id=payment_request_id,
                refund_request_id=refund_request_id,
                note=text,
            )
        return answer

    def _send(
        self,
        answer: WalletAnswer,
        participant: dict[str, Any],
        client_id: str,
        path: str,
        payload: bytes,
        headers: dict[str, str],
        timeout: float,
    ) -> None:
        """POST once and fill in `answer` (HTTP status, body, verdicts or the error)."""
        url, api = answer.url, answer.api
        parts = urlsplit(url)
        started = time.perf_counter()
        try:
            if not participant:
                raise requests.exceptions.InvalidURL(f"no participant {client_id!r} is registered")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise requests.exceptions.InvalidURL(f"{api} URL {url!r} is not an http(s) URL")
            response = self._session().post(
                url, data=payload, headers=headers, timeout=timeout, allow_redirects=False
            )
            answer.http_status = response.status_code
            answer.raw_body = response.content.decode("utf-8", errors="replace")
            answer.response_headers = dict(response.headers)
            self._judge(answer, participant, client_id, path, response)
        except requests.exceptions.Timeout:
            answer.error = f"timeout (no answer within {timeout:g} s)"
        except requests.exceptions.ConnectionError as exc:
            answer.error = "connection refused" if _refused(exc) else f"connection error: {exc}"
        except requests.exceptions.RequestException as exc:
            answer.error = f"request failed: {exc}"
        answer.latency_ms = (time.perf_counter() - started) * 1000

    def _judge(
        self,
        answer: WalletAnswer,
        participant: dict[str, Any],
        client_id: str,
        path: str,
        response: requests.Response,
    ) -> None:
        try:
            parsed = json.loads(response.content)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            answer.violations = validation_report(answer.api, "response", parsed)
        if response.status_code >= 500:
            answer.error = f"HTTP {response.status_code}"
        elif not isinstance(parsed, dict):
            answer.error = "non-JSON answer" if parsed is None else "answer is not a JSON object"
        elif not isinstance(parsed.get("result"), dict):
            answer.error = "answer has no result object"
        answer.signature = self._verdict(participant, client_id, path, response)
        if answer.error is None and answer.signature in ("missing", "invalid"):
            answer.error = f"{answer.signature} signature on the answer"
        if answer.error is None:
            answer.body = parsed

    def _verdict(
        self, participant: dict[str, Any], client_id: str, path: str, response: requests.Response
    ) -> str:
        if str(participant.get("signatureMode", "strict")).lower() == "off":
            return "not-checked"
        if "signature" not in response.headers:
            return "missing"
        public_key = self.sim.keys.participant_public_key(client_id)
        if public_key is None:  # nothing to check with: the answer cannot be trusted
            return "invalid"
        try:
            signing.verify_headers(
                public_key,
                path,
                response.headers,
                response.content,
                time_header="Response-Time",
            )
        except (signing.SignatureError, ValueError):
            return "invalid"
        return "valid"

    def _journal(self, answer: WalletAnswer, **fields: Any) -> int | None:
        try:
            request_json = json.loads(answer.request_body)
        except ValueError:
            request_json = None
        request_violations = (
            validation_report(answer.api, "request", request_json)
            if isinstance(request_json, dict)
            else []
        )
        trusted_result = answer.result
        raw_result = {}
        if answer.raw_body:
            try:
                loaded = json.loads(answer.raw_body)
                if isinstance(loaded, dict) and isinstance(loaded.get("result"), dict):
                    raw_result = loaded["result"]
            except ValueError:
                pass
        result = trusted_result or raw_result
        return self.sim.journal.record(
            direction="outbound",
            api=answer.api,
            method="POST",
            url=answer.url,
            request_body=answer.request_body,
            response_status=answer.http_status,
            response_body=answer.raw_body,
            latency_ms=round(answer.latency_ms, 3),
            signature=answer.signature,
            request_violations=request_violations,
            response_violations=answer.violations,
            result_status=result.get("resultStatus"),
            result_code=result.get("resultCode"),
            error=answer.error,
            **fields,
        )


def _refused(exc: Exception) -> bool:
    text = repr(exc)
    return "Connection refused" in text or "Errno 111" in text
