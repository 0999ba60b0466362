"""The Alipay+ Cashier Payment APIs, one row each: the single table everything else asks.

For each message: its path, its direction (a wallet calling Alipay+, or Alipay+ calling the
wallet), its request and response schemas (contracts/schemas/), its key in the result-code
catalogue (contracts/data/result_codes.json), the fields that make a resend "the same request"
(the idempotency key) and the fields compared to tell an identical resend from an inconsistent
one (spec §2.7, §2.8). The OpenAPI documents (contracts/openapi.py) and the simulator's routes,
fault rules and outbound calls are built from this table.

The merchant's result notification (the simulator POSTing to an order's notifyUrl) is not an
Alipay+ message: it has no schema or result codes, so it is not in this table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APIS",
    "INBOUND",
    "INBOUND_APIS",
    "OUTBOUND",
    "OUTBOUND_APIS",
    "Api",
    "by_path",
    "get",
]

INBOUND = "inbound"  # a wallet (MPP) calls Alipay+
OUTBOUND = "outbound"  # Alipay+ calls the wallet


@dataclass(frozen=True)
class Api:
    """One Alipay+ API: where it lives, who calls it, and what makes a resend the same."""

    name: str
    path: str
    direction: str
    summary: str
    notes: str
    # The fields naming "this request": a resend with the same key is a replay.
    idempotency_key: tuple[str, ...] = ()
    # The fields a replay must repeat exactly; another value is REPEAT_REQ_INCONSISTENT.
    compared: tuple[str, ...] = ()
    # Whether the answer (or request) carries a paymentResult with its own codes.
    payment_result: bool = False

    @property
    def request_schema(self) -> str:
        """The request's schema file in contracts/schemas/."""
        return f"{self.name}.request.json"

    @property
    def response_schema(self) -> str:
        """The response's schema file in contracts/schemas/."""
        return f"{self.name}.response.json"

    @property
    def catalogue_key(self) -> str:
        """The API's key in the result-code catalogue (contracts.catalogue)."""
        return self.name

    @property
    def caller(self) -> str:
        """Who sends the request: "the wallet" or "Alipay+"."""
        return "the wallet" if self.direction == INBOUND else "Alipay+"


# The paths are the binding ones of DESIGN.md; the notes come from the spec (§2.7, §2.8).
_TABLE = (
    Api(
        name="inquiryCodeRules",
        path="/aps/api/v1/codes/inquiryCodeRules",
        direction=INBOUND,
        summary="Fetch the Alipay+ code rules and their version (wallet -> Alipay+).",
        notes="Read-only; refresh at least once a day and keep the cache when the version is "
        "unchanged. The official server SDK sends a placeholder signature "
        "(signature=testing_signature), which is accepted on this path only. "
        "Wallet timeout: 5 s.",
    ),
    Api(
        name="userInitiatedPay",
        path="/aps/api/v1/payments/userInitiatedPay",
        direction=INBOUND,
        summary="Decode an order code into the payment to show on the cashier (wallet -> Alipay+).",
        notes="Idempotent on codeValue within the code's validity: the same codeValue and "
        "customerId get the same answer, another customerId gets REPEAT_REQ_INCONSISTENT. "
        "Wallet timeout: 8 s; on timeout resend the same request.",
        idempotency_key=("codeValue",),
        compared=("customerId",),
    ),
    Api(
        name="notifyPayment",
        path="/aps/api/v1/payments/notifyPayment",
        direction=INBOUND,
        summary="Report the final result of a payment (wallet -> Alipay+).",
        notes="Only final results (S or F). Idempotent on paymentRequestId; a resend with other "
        "amounts, result, paymentId or customerId gets REPEAT_REQ_INCONSISTENT. "
        "Wallet timeout: 5 s; on U or timeout resend the identical body.",
        idempotency_key=("paymentRequestId",),
        compared=(
            "paymentAmount",
            "paymentResult",
            "paymentId",
            "payToAmount",
            "customerId",
            "customsDeclarationAmount",
        ),
        payment_result=True,
    ),
    Api(
        name="inquiryPayment",
        path="/aps/api/v1/payments/inquiryPayment",
        direction=OUTBOUND,
        summary="Alipay+ asks the wallet for the state of a payment it has no final result for.",
        notes="result describes the inquiry call, paymentResult the payment: unknown order F / "
        "ORDER_NOT_EXIST; paid S + S/SUCCESS; still open S + U/PAYMENT_IN_PROCESS; "
        "cancelled S + F/ORDER_IS_CLOSED. Alipay+ waits 5 s and polls at 4 s, 4 s, 30 s, "
        "60 s, 60 s, 60 s, 5 min, 5 min.",
        payment_result=True,
    ),
    Api(
        name="cancelPayment",
        path="/aps/api/v1/payments/cancelPayment",
        direction=OUTBOUND,
        summary="Alipay+ cancels a payment (expiry, merchant close, late success); must succeed.",
        notes="Must succeed whatever the payment's state, returning any debited funds; an unknown "
        "paymentRequestId is also S. Idempotent on paymentRequestId. Alipay+ waits 8 s and "
        "retries on U or no answer.",
        idempotency_key=("paymentRequestId",),
    ),
    Api(
        name="refund",
        path="/aps/api/v1/payments/refund",
        direction=OUTBOUND,
        summary="Alipay+ refunds (part of) a successful payment; idempotent on refundRequestId.",
        notes="Full, partial and multiple partial refunds up to the amount paid, at the payment's "
        "rate. Idempotent on refundRequestId (refundAmount, refundFromAmount, "
        "refundPromoInfo, surchargeInfo compared). Alipay+ waits 8 s and retries on U or "
        "no answer.",
        idempotency_key=("refundRequestId",),
        compared=("refundAmount", "refundFromAmount", "refundPromoInfo", "surchargeInfo"),
    ),
)

APIS: dict[str, Api] = {api.name: api for api in _TABLE}
INBOUND_APIS: tuple[str, ...] = tuple(api.name for api in _TABLE if api.direction == INBOUND)
OUTBOUND_APIS: tuple[str, ...] = tuple(api.name for api in _TABLE if api.direction == OUTBOUND)
_BY_PATH = {api.path: api for api in _TABLE}


def get(name: str) -> Api:
    """The API called `name`; KeyError naming the known APIs if there is none."""
    try:
        return APIS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not an Alipay+ API; known: {', '.join(APIS)}") from None


def by_path(path: str) -> Api | None:
    """The API served at `path` (either side), or None."""
    return _BY_PATH.get(path)
