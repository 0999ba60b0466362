"""A small scriptable wallet (MPP) for tests: serves inquiryPayment, cancelPayment and refund on
loopback, checks the simulator's signature on every call it receives, and answers from a script.

    stub = WalletStub()
    with stub.serving():
        put_participant(client, stub.participant(sim.keys.public_key_base64))
        stub.script("cancelPayment", stub.u(), stub.s())   # first U, then S
        ...
        assert [c.api for c in stub.calls] == [...]

A reply is a `Reply`: a body (dict, or a function of the request body), whether and how to sign
it, an HTTP status, and an optional delay (to exceed the simulator's timeout). When an API's
script runs out, its default reply is used (S/SUCCESS, with the fields each API answers).
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request

from contracts import signing
from tests.support.live_server import live_server

PATHS = {
    "inquiryPayment": "/aps/api/v1/payments/inquiryPayment",
    "cancelPayment": "/aps/api/v1/payments/cancelPayment",
    "refund": "/aps/api/v1/payments/refund",
}
_ids = itertools.count(1)


@functools.cache
def shared_key(name: str) -> Any:
    """An RSA key generated once per test process (key generation is the slow part of setup)."""
    return signing.generate_private_key()


def result(status: str = "S", code: str = "SUCCESS", message: str | None = None) -> dict:
    """A result object."""
    return {"resultCode": code, "resultStatus": status, "resultMessage": message or code.lower()}


@dataclass
class Reply:
    """One scripted answer."""

    body: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | str
    sign: str = "good"  # "good" | "none" | "bad" (signed with another key)
    http_status: int = 200
    delay: float = 0.0  # seconds to hold the answer (released early when the stub stops)
    before: Callable[[], Any] | None = None  # run before answering (e.g. the wallet notifies)

    def render(self, request_body: dict[str, Any]) -> str:
        """The answer's text for this request."""
        body = self.body(request_body) if callable(self.body) else self.body
        return body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))


@dataclass
class Call:
    """One request the stub received."""

    api: str
    path: str
    headers: dict[str, str]
    raw_body: str
    body: dict[str, Any]
    signature_ok: bool
    signature_error: str | None
    reply: Reply | None = None


@dataclass
class WalletStub:
    """A wallet on loopback with its own key pair and per-API scripts of answers."""

    client_id: str = "STUB_WALLET_01"
    wallet_currency: str = "KRW"
    simulator_public_key: str | None = None
    private_key: Any = field(default_factory=lambda: shared_key("wallet"))
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._scripts: dict[str, deque[Reply]] = {api: deque() for api in PATHS}
        self._defaults: dict[str, Reply] = {}
        # The merchant's notifyUrl lives here too: POST /merchant/notify, answered from a script
        # of HTTP statuses (200 when empty).
        self.merchant_notifications: list[dict[str, Any]] = []
        self._merchant_statuses: deque[int] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._release = threading.Event()
        self.url = ""
        self.app = self._make_app()

    # -- scripting -----------------------------------------------------------------------------

    def script(self, api: str, *replies: Reply) -> None:
        """Queue answers for `api`, used in order, one per call."""
        with self._lock:
            self._scripts[api].extend(replies)

    def reset(self) -> None:
        """Forget every script, default and received call."""
        with self._lock:
            for queue in self._scripts.values():
                queue.clear()
            self._defaults.clear()
            self.calls.clear()
            self.merchant_notifications.clear()
            self._merchant_statuses.clear()

    def set_default(self, api: str, reply: Reply) -> None:
        """Answer `api` with `reply` whenever its script is empty."""
        self._defaults[api] = reply

    def script_merchant(self, *statuses: int) -> None:
        """HTTP statuses for the next calls to the merchant's notifyUrl."""
        self._merchant_statuses.extend(statuses)

    def default_reply(self, api: str) -> Reply:
        """The answer when the script is empty: success with the fields the API answers."""
        if api in self._defaults:
            return self._defaults[api]
        if api == "inquiryPayment":
            return self.paid()
        if api == "refund":
            return self.refund_ok()
        return self.s()

    @staticmethod
    def s(**fields: Any) -> Reply:
        """S/SUCCESS (plus `fields`)."""
        return Reply({"result": result(), **fields})

    @staticmethod
    def f(code: str = "PROCESS_FAIL") -> Reply:
        """A failure with `code`."""
        return Reply({"result": result("F", code)})

    @staticmethod
    def u(code: str = "UNKNOWN_EXCEPTION") -> Reply:
        """An unknown outcome (the caller must try again)."""
        return Reply({"result": result("U", code)})

    @staticmethod
    def timeout(seconds: float = 5.0) -> Reply:
        """An answer held back longer than the simulator waits."""
        return Reply({"result": result("U", "UNKNOWN_EXCEPTION")}, delay=seconds)

    @staticmethod
    def unsigned(reply: Reply) -> Reply:
        """The same answer without a signature."""
        return Reply(reply.body, sign="none", http_status=reply.http_status)

    @staticmethod
    def badly_signed(reply: Reply) -> Reply:
        """The same answer signed with a key the simulator does not know."""
        return Reply(reply.body, sign="bad", http_status=reply.http_status)

    @staticmethod
    def not_json() -> Reply:
        """An HTML error page, as a misconfigured proxy would answer."""
        return Reply("<html><body>Bad Gateway</body></html>", sign="none", http_status=200)

    @staticmethod
    def server_error() -> Reply:
        """HTTP 503 with a JSON body."""
        return Reply({"result": result("U", "UNKNOWN_EXCEPTION")}, http_status=503)

    @staticmethod
    def in_process() -> Reply:
        """inquiryPayment: the user is still on the cashier page."""
        return Reply({"result": result(), "paymentResult": result("U", "PAYMENT_IN_PROCESS")})

    @staticmethod
    def order_not_exist() -> Reply:
        """inquiryPayment: the wallet has never seen the order (the user did not open it)."""
        return Reply({"result": result("F", "ORDER_NOT_EXIST")})

    @staticmethod
    def payment_failed(code: str = "USER_BALANCE_NOT_ENOUGH") -> Reply:
        """inquiryPayment: the payment failed."""
        return Reply({"result": result(), "paymentResult": result("F", code)})

    def paid(self, payment_id: str | None = None, amounts: dict[str, Any] | None = None) -> Reply:
        """inquiryPayment: the payment succeeded (amounts echoed from `amounts` if given)."""
        pid = payment_id or f"STUBPAY{next(_ids):08d}"

        def body(req: dict[str, Any]) -> dict[str, Any]:
            out = {
                "result": result(),
                "paymentResult": result(),
                "paymentId": pid,
                "paymentTime": datetime.now(UTC).isoformat(timespec="seconds"),
                "customerId": "stub-user-1",
            }
            out.update(amounts or {})
            return out

        return Reply(body)

    @staticmethod
    def refund_ok() -> Reply:
        """refund: S with refundId and refundTime."""

        def body(req: dict[str, Any]) -> dict[str, Any]:
            return {
                "result": result(),
                "refundId": f"STUBREF{next(_ids):08d}",
                "refundTime": datetime.now(UTC).isoformat(timespec="seconds"),
            }

        return Reply(body)

    # -- looking at what arrived -----------------------------------------------------------------

    def wait_for(self, api: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `count` calls to `api` have arrived (a readiness check, not a sleep).

        Returns as soon as they have (every recorded call notifies the condition); after
        `timeout` seconds it returns what arrived, for the caller's assertion to report.
        """
        with self._arrived:
            self._arrived.wait_for(
                lambda: sum(1 for call in self.calls if call.api == api) >= count, timeout
            )
        return self.calls_to(api)

    def calls_to(self, api: str) -> list[Call]:
        """The calls received for `api`, in order."""
        with self._lock:
            return [call for call in self.calls if call.api == api]

    def participant(self, simulator_public_key: str, **overrides: Any) -> dict[str, Any]:
        """The body for PUT /_sim/participants/<clientId> pointing at this stub."""
        self.simulator_public_key = simulator_public_key
        body = {
            "pspId": "1022172000000000099",
            "publicKey": signing.public_key_base64(self.private_key.public_key()),
            "walletCurrency": self.wallet_currency,
            "cashierUrl": self.url + "/cashier",
            "inquiryPaymentUrl": self.url + PATHS["inquiryPayment"],
            "cancelPaymentUrl": self.url + PATHS["cancelPayment"],
            "refundUrl": self.url + PATHS["refund"],
            "signatureMode": "strict",
        }
        body.update(overrides)
        return body

    # -- serving -----------------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[WalletStub]:
        """Serve on 127.0.0.1 (port 0) for the duration of the block."""
        self._release.clear()
        with live_server(self.app) as server:
            self.url = server.url
            try:
                yield self
            finally:
                self._release.set()  # let held-back answers go so the server can stop

    def _make_app(self) -> Flask:
        app = Flask("wallet_stub")
        other_key = shared_key("stranger")

        def handle(api: str) -> Response:
            raw = request.get_data()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            ok, error = True, None
            if self.simulator_public_key:
                try:
                    signing.verify_headers(
                        self.simulator_public_key, request.path, request.headers, raw
                    )
                except signing.SignatureError as exc:
                    ok, error = False, str(exc)
            with self._lock:
                reply = self._scripts[api].popleft() if self._scripts[api] else None
            reply = reply or self.default_reply(api)
            with self._lock:
                self.calls.append(
                    Call(
                        api,
                        request.path,
                        dict(request.headers),
                        raw.decode(),
                        body,
                        ok,
                        error,
                        reply,
                    )
                )
                self._arrived.notify_all()  # wake every wait_for: a call was recorded
            if reply.before is not None:
                reply.before()
            if reply.delay:
                self._release.wait(reply.delay)
            text = reply.render(body)
            headers: dict[str, str] = {"content-type": signing.CONTENT_TYPE}
            if reply.sign != "none":
                key = self.private_key if reply.sign == "good" else other_key
                headers = signing.signed_response_headers(
                    key, self.client_id, request.path, text.encode(), datetime.now(UTC)
                )
            return Response(text, status=reply.http_status, headers=headers)

        for api, path in PATHS.items():
            app.add_url_rule(path, api, (lambda api=api: handle(api)), methods=["POST"])

        @app.post("/merchant/notify")
        def merchant_notify() -> Response:
            with self._lock:
                status = self._merchant_statuses.popleft() if self._merchant_statuses else 200
                self.merchant_notifications.append(
                    {"status": status, "body": request.get_json(silent=True)}
                )
                self._arrived.notify_all()
            return Response("ok", status=status)

        return app
