"""The payment engine: orders, decoding, notifications, the state machine and idempotency.

States (spec §7): CREATED (code issued) -> DECODED (userInitiatedPay done) -> SUCCESS | FAILED |
CLOSED. A final state never changes; a success that arrives for a CLOSED or FAILED payment is
acknowledged and marked for an Alipay+-initiated cancellation (the reversal), which engineer F's
callbacks send. Every state change is one database transaction (BEGIN IMMEDIATE on SQLite, row
locks elsewhere), committed before the answer goes out; hooks run after the commit.
"""

from __future__ import annotations

import json
import logging
import random
import string
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Boolean, Column, Integer, String, Table, Text, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from contracts.wire import dumps, loads, random_text, request_id, wire_time
from simulator import pricing
from simulator.db import FastRead, Prepared, metadata, read, stamp, unstamp, write
from simulator.protocol import (
    AccessDenied,
    ExpiredCode,
    Inbound,
    InvalidCode,
    OrderIsClosed,
    OrderNotExist,
    ParamIllegal,
    RepeatReqInconsistent,
    success,
)
from simulator.state import Sim

log = logging.getLogger(__name__)

STATUSES = ("CREATED", "DECODED", "SUCCESS", "FAILED", "CLOSED")
OPEN = ("CREATED", "DECODED")
# Cashier Payment: 10 minutes by default, and a longer merchant request is capped there (§3.3).
MAX_EXPIRY_SECONDS = 600
CODE_PREFIXES = {
    "production": "https://qr.alipayplus.com/28166613",
    "sandbox": "28166604",
}
NOTIFY_PATH = "/aps/api/v1/payments/notifyPayment"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEFAULT_CODE_RULES = FIXTURES / "code_rules" / "default.json"
# notifyPayment fields compared on a replay (spec §2.7).
NOTIFY_COMPARED = (
    "paymentAmount",
    "paymentResult",
    "paymentId",
    "payToAmount",
    "customerId",
    "customsDeclarationAmount",
)

payments_table = Table(
    "payments",
    metadata,
    Column("payment_request_id", String(64), primary_key=True),
    Column("code_value", String(512), nullable=False, unique=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("psp_id", String(64), nullable=False),
    Column("acquirer_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("order_json", Text, nullable=False),
    Column("payment_amount", Text, nullable=False),
    Column("pay_to_amount", Text, nullable=False),
    Column("payment_quote", Text),
    Column("payment_promo_info", Text),
    Column("redirect_url", Text, nullable=False),
    Column("notify_url", Text),
    Column("merchant_id", String(64), nullable=False),
    Column("created_at", String(40), nullable=False, index=True),
    Column("expiry_at", String(40), nullable=False),
    Column("customer_id", String(64)),
    Column("decoded_at", String(40)),
    Column("decode_response", Text),
    Column("pass_through_info", Text),
    Column("notify_json", Text),
    Column("payment_result", Text),
    Column("payment_id", String(64)),
    Column("payment_time", String(64)),
    Column("final_at", String(40)),
    Column("final_source", String(32)),
    Column("close_reason", Text),
    Column("late_result", Text),
    Column("reversal_required", Boolean, nullable=False, default=False),
    Column("reversal_reason", Text),
    Column("reversal_status", String(32)),
)

code_rules_table = Table(
    "code_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("version", String(16), nullable=False),
    Column("rules_json", Text, nullable=False),
)


# Built once: every decode looks its payment up by code value.
_BY_CODE = select(payments_table).where(payments_table.c.code_value == bindparam("code_value"))
_BY_ID = select(payments_table).where(
    payments_table.c.payment_request_id == bindparam("payment_request_id")
)

_MARK_DECODED = (
    payments_table.update()
    .where(payments_table.c.payment_request_id == bindparam("b_payment_request_id"))
    .where(payments_table.c.status == "CREATED")
    .values(
        status="DECODED",
        customer_id=bindparam("b_customer_id"),
        decoded_at=bindparam("b_decoded_at"),
        decode_response=bindparam("b_decode_response"),
        pass_through_info=bindparam("b_pass_through_info"),
    )
)


class OrderError(ValueError):
    """An order the merchant front door refuses; `code` is the protocol's name for why."""

    def __init__(self, message: str, code: str = "PARAM_ILLEGAL") -> None:
        super().__init__(message)
        self.code = code


def new_code_value(style: str, rng: random.Random | None = None) -> str:
    """An order code value that the served rules DECODE (prefix + 18 random characters)."""
    return CODE_PREFIXES[style] + random_text(string.ascii_letters + string.digits, 18, rng)


def cashier_url(base: str, code_value: str) -> str:
    """The MPP's cashier URL with `codeValue=` (URL-encoded) appended."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}codeValue={quote(code_value, safe='')}"


def _call_hook(sim: Sim, name: str, *args: Any) -> None:
    """Call engineer F's hook `simulator.callbacks.<name>(sim, ...)` if it exists."""
    from simulator import callbacks

    hook = getattr(callbacks, name, None)
    if hook is None:
        return
    try:
        hook(sim, *args)
    except Exception:  # a hook must never undo or hide an answer already committed
        log.exception("hook %s failed for %s", name, args[:1])


class CodeRuleStore:
    """The code rules inquiryCodeRules serves; replaced as a whole, each time a new version."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim

    def _default(self) -> tuple[str, list[Any]]:
        if DEFAULT_CODE_RULES.exists():
            data = json.loads(DEFAULT_CODE_RULES.read_text(encoding="utf-8"))
            return str(data.get("version") or "1"), list(data.get("codeRules") or [])
        return "0", []

    def current(self) -> dict[str, Any]:
        """{"version", "codeRules"} as served now (the default set until replaced)."""
        with read(self.sim.engine) as conn:
            row = conn.execute(select(code_rules_table).where(code_rules_table.c.id == 1)).first()
        if row is None:
            version, rules = self._default()
            return {"version": version, "codeRules": rules}
        return {"version": row.version, "codeRules": json.loads(row.rules_json)}

    def replace(self, rules: Any, version: Any = None) -> dict[str, Any]:
        """Serve `rules` from now on under `version` (or the next generated one)."""
        from contracts import validate

        if not isinstance(rules, list):
            raise ValueError("codeRules must be a JSON array of CodeRule objects")
        if version is not None and (not isinstance(version, str) or not 0 < len(version) <= 16):
            raise ValueError("version must be a string of 1 to 16 characters")
        probe = {"result": success("inquiryCodeRules"), "codeRules": rules, "version": "probe"}
        problems = validate("inquiryCodeRules", "response", probe)
        if problems:
            raise ValueError(
                "; ".join(f"{p.pointer or '(root)'}: {p.message}" for p in problems[:5])
            )
        with self.sim.engine.begin() as conn:
            row = conn.execute(select(code_rules_table).where(code_rules_table.c.id == 1)).first()
            old_version = row.version if row else self._default()[0]
            generation = (row.generation if row else 0) + 1
            new_version = version or f"sim_{generation}"
            if new_version == old_version:
                raise ValueError(
                    f"version {new_version!r} is the one served now; a new rule set needs a "
                    "new version (or leave it out to get one)"
                )
            values = {"generation": generation, "version": new_version, "rules_json": dumps(rules)}
            if row is None:
                conn.execute(code_rules_table.insert().values(id=1, **values))
            else:
                conn.execute(
                    code_rules_table.update().where(code_rules_table.c.id == 1).values(**values)
                )
        return {"version": new_version, "codeRules": rules}


class PaymentEngine:
    """Orders, decode (userInitiatedPay), notifications and the payment state machine."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.code_rules = CodeRuleStore(sim)
        # The plain reads every decode and notifyPayment start with (replays end there).
        self._read_by_code = FastRead(sim.engine, _BY_CODE)
        self._read_by_id = FastRead(sim.engine, _BY_ID)
        # A first decode: the row again under the write lock, then CREATED -> DECODED.
        self._lock_by_code = Prepared(sim.engine, _BY_CODE.with_for_update())
        self._mark_decoded = Prepared(sim.engine, _MARK_DECODED)

    # -- the merchant front door ------------------------------------------------------------

    def create_order(self, params: dict[str, Any]) -> dict[str, Any]:
        """Create a cashier order; returns paymentRequestId, codeValue, cashierUrl, expiry..."""
        sim = self.sim
        if not isinstance(params, dict):
            raise OrderError("the order must be a JSON object")
        client_id = params.get("clientId") or sim.config.default_client_id
        participant = sim.keys.participant(client_id)
        if participant is None:
            raise OrderError(
                f"clientId {client_id!r} is not a registered participant "
                f"(PUT /_sim/participants/{client_id} first)",
                "INVALID_CLIENT",
            )
        amount = params.get("amount")
        if not isinstance(amount, dict):
            raise OrderError('amount is required: {"currency": "JPY", "value": "1000"}')
        currency, value = amount.get("currency"), amount.get("value")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        from contracts import money

        if not isinstance(currency, str) or not money.is_currency(currency):
            raise OrderError(f"amount.currency {currency!r} is not an ISO 4217 currency code")
        if not money.is_valid_value(currency, value):
            raise OrderError(
                f"amount.value {value!r} is not a positive whole number of {currency} minor "
                f"units (exponent {money.exponent(currency)}), e.g. "
                f'"{10 ** money.exponent(currency) * 10}" for 10 {currency}'
            )
        order_amount = {"currency": currency, "value": value}
        expiry_seconds = params.get("expirySeconds", MAX_EXPIRY_SECONDS)
        try:
            expiry_seconds = int(expiry_seconds)
        except (TypeError, ValueError):
            raise OrderError(f"expirySeconds {expiry_seconds!r} is not a number") from None
        if expiry_seconds <= 0:
            raise OrderError("expirySeconds must be positive")
        expiry_seconds = min(expiry_seconds, MAX_EXPIRY_SECONDS)
        style = params.get("codeStyle", "production")
        if style not in CODE_PREFIXES:
            raise OrderError(f"codeStyle must be one of {sorted(CODE_PREFIXES)}")
        merchant = pricing.merchant(params.get("merchantId"))
        if merchant is None:
            raise OrderError(
                f"merchantId {params.get('merchantId')!r} is not one of the demo merchants "
                f"{pricing.merchant_ids()}"
            )
        promotion = pricing.promotion(params.get("promoId"), params.get("promotion"))
        for name in ("description", "redirectUrl", "notifyUrl", "referenceOrderId"):
            if params.get(name) is not None and (
                not isinstance(params[name], str) or not params[name]
            ):
                raise OrderError(f"{name} must be a non-empty string when given")
        try:
            priced = pricing.price(
                order_amount, participant["walletCurrency"], promotion, sim.clock.now()
            )
        except pricing.PricingError as exc:
            raise OrderError(str(exc), exc.code) from exc

        now = sim.clock.now()
        expiry = now.replace(microsecond=0) + timedelta(seconds=expiry_seconds)
        rng = sim.ids.rng() if getattr(sim, "ids", None) is not None else None
        payment_request_id = request_id(now, rng)
        code_value = new_code_value(style, rng)
        description = params.get("description") or f"Order at {merchant['merchantName']}"
        order = {
            "referenceOrderId": params.get("referenceOrderId") or f"ORD-{payment_request_id[-12:]}",
            "orderDescription": description,
            "orderAmount": order_amount,
            "merchant": pricing.order_merchant(merchant),
        }
        redirect_url = params.get("redirectUrl") or (
            f"{sim.config.base_url.rstrip('/')}/_sim/ui/payments/{payment_request_id}"
        )
        row = {
            "payment_request_id": payment_request_id,
            "code_value": code_value,
            "client_id": client_id,
            "psp_id": participant["pspId"],
            "acquirer_id": params.get("acquirerId") or participant["acquirerId"],
            "status": "CREATED",
            "order_json": dumps(order),
            "payment_amount": dumps(priced.payment_amount),
            "pay_to_amount": dumps(priced.pay_to_amount),
            "payment_quote": None if priced.quote is None else dumps(priced.quote),
            "payment_promo_info": None if priced.promo_info is None else dumps(priced.promo_info),
            "redirect_url": redirect_url,
            "notify_url": params.get("notifyUrl"),
            "merchant_id": merchant["referenceMerchantId"],
            "created_at": stamp(now),
            "expiry_at": stamp(expiry),
            "reversal_required": False,
        }
        try:
            with sim.engine.begin() as conn:
                conn.execute(payments_table.insert().values(**row))
        except IntegrityError:  # a collision of random ids: astronomically rare, try once more
            row["payment_request_id"] = payment_request_id = request_id(now, rng)
            row["code_value"] = code_value = new_code_value(style, rng)
            with sim.engine.begin() as conn:
                conn.execute(payments_table.insert().values(**row))
        _call_hook(sim, "on_order_created", payment_request_id)
        return {
            "paymentRequestId": payment_request_id,
            "codeValue": code_value,
            "cashierUrl": cashier_url(participant["cashierUrl"], code_value),
            "qrCodeUrl": f"{sim.config.base_url.rstrip('/')}/_sim/orders/"
            f"{payment_request_id}/qr.svg",
            "paymentExpiryTime": wire_time(expiry),
            "clientId": client_id,
            "status": "CREATED",
            "order": order,
            "paymentAmount": priced.payment_amount,
            "payToAmount": priced.pay_to_amount,
            "paymentQuote": priced.quote,
            "paymentPromoInfo": priced.promo_info,
        }

    # -- userInitiatedPay --------------------------------------------------------------------

    def decode(self, inbound: Inbound) -> str:
        """Decode an order code for a wallet user; the exact body of the answer (idempotent)."""
        sim = self.sim
        code_value = inbound.body["codeValue"]
        now = sim.clock.now()
        # Most calls are answered from a plain read (replays, refusals): only a first decode
        # takes the write lock, and then checks the state again under it.
        row = self._read_by_code.first(code_value=code_value)
        answer = self._decode_answer(row, inbound, now)
        if answer is not None:
            return answer
        with write(sim.engine) as conn:
            row = self._lock_by_code.first(conn, code_value=code_value)
            answer = self._decode_answer(row, inbound, now)
            if answer is not None:
                return answer
            response = self._decode_response(row)
            text = dumps(response)
            updated = self._mark_decoded.rowcount(
                conn,
                b_payment_request_id=row.payment_request_id,
                b_customer_id=inbound.body["customerId"],
                b_decoded_at=stamp(now),
                b_decode_response=text,
                b_pass_through_info=inbound.body.get("passThroughInfo"),
            )
            if updated != 1:  # pragma: no cover - the write lock makes this impossible
                raise RuntimeError("the payment changed state during decode")
        _call_hook(sim, "on_decoded", row.payment_request_id)
        return text

    def _decode_answer(self, row: Any, inbound: Inbound, now: datetime) -> str | None:
        """The answer for a code that is not decoded now (None: go on and decode it)."""
        code_value = inbound.body["codeValue"]
        if row is None:
            raise InvalidCode(f"codeValue {code_value!r} is not an order code Alipay+ issued")
        inbound.payment_request_id = row.payment_request_id
        if row.client_id != inbound.client_id:
            raise AccessDenied(
                f"this order code was issued for the wallet {row.client_id!r}, "
                f"not for {inbound.client_id!r}"
            )
        expiry = unstamp(row.expiry_at)
        if row.status == "CLOSED":
            if now >= expiry:
                raise ExpiredCode(f"the code expired at {wire_time(expiry)}")
            raise OrderIsClosed(f"the order was closed ({row.close_reason})")
        if row.status == "SUCCESS":
            raise OrderIsClosed("the order has already been paid")
        if row.status == "FAILED":
            raise OrderIsClosed("the order has already failed")
        if now >= expiry:
            raise ExpiredCode(f"the code expired at {wire_time(expiry)}")
        if row.status == "DECODED":
            if row.customer_id != inbound.body["customerId"]:
                raise RepeatReqInconsistent(
                    "this code was already decoded for another customerId; the same "
                    "codeValue may only be decoded again with the same customerId"
                )
            inbound.note = "replay: the same answer as the first decode"
            return row.decode_response
        return None

    def _decode_response(self, row: Any) -> dict[str, Any]:
        base = self.sim.config.base_url.rstrip("/")
        response: dict[str, Any] = {
            "result": success("userInitiatedPay"),
            "acquirerId": row.acquirer_id,
            "pspId": row.psp_id,  # as at order creation: the callbacks send this one too
            "codeType": "ORDER_CODE",
            "paymentRequestId": row.payment_request_id,
            "order": json.loads(row.order_json),
            "paymentAmount": json.loads(row.payment_amount),
            "payToAmount": json.loads(row.pay_to_amount),
        }
        if row.payment_quote:
            response["paymentQuote"] = json.loads(row.payment_quote)
        response["paymentFactor"] = {"isCashierPayment": "true"}
        if row.payment_promo_info:
            response["paymentPromoInfo"] = json.loads(row.payment_promo_info)
        response["paymentExpiryTime"] = wire_time(unstamp(row.expiry_at))
        response["paymentNotifyUrl"] = base + NOTIFY_PATH
        response["paymentRedirectUrl"] = row.redirect_url
        return response

    # -- notifyPayment -----------------------------------------------------------------------

    def notify(self, inbound: Inbound) -> dict[str, Any]:
        """Record the wallet's final result; the answer's body."""
        sim = self.sim
        body = inbound.body
        payment_request_id = body["paymentRequestId"]
        payment_result = body["paymentResult"]
        status = payment_result.get("resultStatus")
        if status not in ("S", "F"):
            raise ParamIllegal(
                f"paymentResult.resultStatus must be S or F in notifyPayment, not {status!r} "
                "(send the notification once the payment is final)"
            )
        compared = {name: body.get(name) for name in NOTIFY_COMPARED}
        compared["paymentResult"] = {
            "resultStatus": status,
            "resultCode": payment_result.get("resultCode"),
        }
        now = sim.clock.now()
        by_id = _BY_ID.params(payment_request_id=payment_request_id)
        # An identical replay (the usual retry) is answered from a plain read, without the lock.
        seen = self._read_by_id.first(payment_request_id=payment_request_id)
        if (
            seen is not None
            and seen.notify_json is not None
            and seen.client_id == inbound.client_id
            and json.loads(seen.notify_json) == compared
        ):
            inbound.note = "replay: identical to the notification already recorded"
            return {"result": success("notifyPayment")}
        hook: tuple[str, ...] | None = None
        late_reason = None
        with sim.engine.begin() as conn:
            row = conn.execute(by_id.with_for_update()).first()
            if row is None or row.status == "CREATED":
                raise OrderNotExist(
                    f"no decoded payment has paymentRequestId {payment_request_id!r}"
                    + (" (the code was never decoded with userInitiatedPay)" if row else "")
                )
            if row.client_id != inbound.client_id:
                raise AccessDenied(
                    f"payment {payment_request_id} belongs to the wallet {row.client_id!r}"
                )
            where = payments_table.c.payment_request_id == payment_request_id
            if row.notify_json is not None:
                first = json.loads(row.notify_json)
                differing = [name for name in NOTIFY_COMPARED if first.get(name) != compared[name]]
                if not differing:
                    inbound.note = "replay: identical to the notification already recorded"
                    return {"result": success("notifyPayment")}
                if (
                    status == "S"
                    and first["paymentResult"]["resultStatus"] == "F"
                    and not row.reversal_required
                ):
                    # Trigger 4 of the late-success rule: F first, S later -> reverse it.
                    late_reason = "success notified after a failure was notified"
                    conn.execute(
                        payments_table.update()
                        .where(where)
                        .values(
                            late_result=dumps(compared),
                            reversal_required=True,
                            reversal_reason=late_reason,
                            reversal_status="pending",
                        )
                    )
                if late_reason is None:
                    raise RepeatReqInconsistent(
                        "paymentRequestId already notified with other values for: "
                        + ", ".join(differing)
                    )
            else:
                self._check_against_decode(row, body)
                values: dict[str, Any] = {"notify_json": dumps(compared)}
                if row.status == "DECODED":
                    values.update(
                        status="SUCCESS" if status == "S" else "FAILED",
                        payment_result=dumps(payment_result),
                        payment_id=body.get("paymentId"),
                        payment_time=body.get("paymentTime"),
                        final_at=stamp(now),
                        final_source="notifyPayment",
                    )
                    hook = ("on_final", payment_request_id)
                elif row.status == "SUCCESS":
                    if status == "F" or (
                        row.payment_id and body.get("paymentId") != row.payment_id
                    ):
                        raise RepeatReqInconsistent(
                            "the payment is already successful (learned from inquiryPayment) "
                            f"with paymentId {row.payment_id!r}"
                        )
                elif status == "S" and not row.reversal_required:
                    late_reason = (
                        f"success arrived after the order was closed ({row.close_reason})"
                        if row.status == "CLOSED"
                        else "success arrived after the payment had failed"
                    )
                    values.update(
                        late_result=dumps(compared),
                        reversal_required=True,
                        reversal_reason=late_reason,
                        reversal_status="pending",
                    )
                conn.execute(payments_table.update().where(where).values(**values))
        if late_reason is not None:
            inbound.note = f"late success: {late_reason}; a reversing cancelPayment follows"
            _call_hook(sim, "on_late_success", payment_request_id, late_reason)
            if row.notify_json is not None:
                raise RepeatReqInconsistent(
                    "paymentRequestId was already notified as failed; this success will be "
                    "reversed by an Alipay+-initiated cancelPayment"
                )
        if hook is not None:
            _call_hook(sim, *hook)
        return {"result": success("notifyPayment")}

    @staticmethod
    def _check_against_decode(row: Any, body: dict[str, Any]) -> None:
        """Amounts and customer must be what was decoded; the message names the field."""
        expected = {
            "paymentAmount": json.loads(row.payment_amount),
            "payToAmount": json.loads(row.pay_to_amount),
            "customerId": row.customer_id,
        }
        for name, value in expected.items():
            sent = body.get(name)
            if sent is not None and sent != value:
                raise ParamIllegal(
                    f"{name} {dumps(sent)} differs from what was decoded ({dumps(value)}); "
                    "echo the userInitiatedPay values exactly"
                )
        promo = body.get("paymentPromoInfo")
        if (
            promo is not None
            and row.payment_promo_info
            and promo != json.loads(row.payment_promo_info)
        ):
            raise ParamIllegal(
                "paymentPromoInfo differs from the promotion that was decoded "
                f"({row.payment_promo_info})"
            )

    # -- interface for the callbacks (engineer F) and the control plane -------------------

    def get_record(self, payment_request_id: str) -> dict[str, Any] | None:
        """The internal row as a dict (amounts parsed), or None."""
        with read(self.sim.engine) as conn:
            row = conn.execute(_BY_ID, {"payment_request_id": payment_request_id}).first()
        if row is None:
            return None
        record = dict(row._mapping)
        for name in ("payment_amount", "pay_to_amount", "payment_quote", "payment_promo_info"):
            record[name] = loads(record[name])
        record["order"] = json.loads(record.pop("order_json"))
        record["payment_result"] = loads(record["payment_result"])
        record["late_result"] = loads(record["late_result"])
        record["expiry"] = unstamp(record["expiry_at"])
        record["created"] = unstamp(record["created_at"])
        return record

    def get_view(self, payment_request_id: str) -> dict[str, Any] | None:
        """What GET /_sim/payments/<id> answers: state, amounts and every exchange."""
        record = self.get_record(payment_request_id)
        if record is None:
            return None
        from simulator import callbacks

        refunds_for = getattr(callbacks, "refunds_for", None)
        exchanges: list[dict[str, Any]] = []
        if self.sim.journal is not None:
            exchanges = list(
                reversed(self.sim.journal.query(payment_request_id=payment_request_id, limit=1000))
            )
        view = self._summary(record)
        view.update(
            {
                "codeValue": record["code_value"],
                "order": record["order"],
                "paymentQuote": record["payment_quote"],
                "paymentPromoInfo": record["payment_promo_info"],
                "paymentId": record["payment_id"],
                "paymentTime": record["payment_time"],
                "paymentResult": record["payment_result"],
                "closeReason": record["close_reason"],
                "reversal": {
                    "required": bool(record["reversal_required"]),
                    "reason": record["reversal_reason"],
                    "status": record["reversal_status"],
                },
                "refunds": refunds_for(self.sim, payment_request_id) if refunds_for else [],
                "exchanges": exchanges,
            }
        )
        return view

    @staticmethod
    def _summary(record: dict[str, Any]) -> dict[str, Any]:
        return {
            "paymentRequestId": record["payment_request_id"],
            "clientId": record["client_id"],
            "status": record["status"],
            "merchantName": record["order"].get("merchant", {}).get("merchantName"),
            "orderDescription": record["order"].get("orderDescription"),
            "orderAmount": record["order"].get("orderAmount"),
            "paymentAmount": record["payment_amount"],
            "payToAmount": record["pay_to_amount"],
            "customerId": record["customer_id"],
            "createdTime": wire_time(record["created"]),
            "paymentExpiryTime": wire_time(record["expiry"]),
            "reversalRequired": bool(record["reversal_required"]),
        }

    def list(self, limit: int = 50, client_id: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the most recent payments, newest first."""
        query = select(payments_table).order_by(payments_table.c.created_at.desc()).limit(limit)
        if client_id:
            query = query.where(payments_table.c.client_id == client_id)
        with read(self.sim.engine) as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            record = dict(row._mapping)
            for name in ("payment_amount", "pay_to_amount"):
                record[name] = json.loads(record[name])
            record["order"] = json.loads(record["order_json"])
            record["expiry"] = unstamp(record["expiry_at"])
            record["created"] = unstamp(record["created_at"])
            out.append(self._summary(record))
        return out

    def count(self) -> int:
        """How many payments exist."""
        with read(self.sim.engine) as conn:
            return conn.execute(select(func.count()).select_from(payments_table)).scalar_one()

    def close(self, payment_request_id: str, reason: str) -> bool:
        """CREATED/DECODED -> CLOSED with `reason`; False if the payment is already final."""
        now = self.sim.clock.now()
        with self.sim.engine.begin() as conn:
            updated = conn.execute(
                payments_table.update()
                .where(payments_table.c.payment_request_id == payment_request_id)
                .where(payments_table.c.status.in_(OPEN))
                .values(
                    status="CLOSED",
                    close_reason=reason,
                    final_at=stamp(now),
                    final_source="close",
                )
            )
        if updated.rowcount != 1:
            return False
        _call_hook(self.sim, "on_final", payment_request_id)
        return True

    def apply_wallet_result(
        self,
        payment_request_id: str,
        payment_result: dict[str, Any],
        fields: dict[str, Any],
        source: str,
    ) -> str:
        """Apply a final paymentResult learned from the wallet (e.g. inquiryPayment).

        Returns "applied" (open -> SUCCESS/FAILED; on_final is called), "late_success" (a
        success for a CLOSED/FAILED payment: reversal required; on_late_success is called) or
        "ignored" (not final, unknown payment, or nothing changes).
        """
        status = (payment_result or {}).get("resultStatus")
        if status not in ("S", "F"):
            return "ignored"
        now = self.sim.clock.now()
        where = payments_table.c.payment_request_id == payment_request_id
        with self.sim.engine.begin() as conn:
            row = conn.execute(select(payments_table).where(where).with_for_update()).first()
            if row is None:
                return "ignored"
            if row.status in OPEN:
                conn.execute(
                    payments_table.update()
                    .where(where)
                    .values(
                        status="SUCCESS" if status == "S" else "FAILED",
                        payment_result=dumps(payment_result),
                        payment_id=fields.get("paymentId"),
                        payment_time=fields.get("paymentTime"),
                        customer_id=row.customer_id or fields.get("customerId"),
                        final_at=stamp(now),
                        final_source=source,
                    )
                )
                outcome = "applied"
            elif status == "S" and row.status in ("CLOSED", "FAILED") and not row.reversal_required:
                reason = (
                    f"success reported by {source} after the order was closed ({row.close_reason})"
                    if row.status == "CLOSED"
                    else f"success reported by {source} after the payment had failed"
                )
                conn.execute(
                    payments_table.update()
                    .where(where)
                    .values(
                        late_result=dumps({"paymentResult": payment_result, **fields}),
                        reversal_required=True,
                        reversal_reason=reason,
                        reversal_status="pending",
                    )
                )
                outcome = "late_success"
            else:
                return "ignored"
        if outcome == "applied":
            _call_hook(self.sim, "on_final", payment_request_id)
        else:
            _call_hook(self.sim, "on_late_success", payment_request_id, reason)
        return outcome

    def set_reversal_status(self, payment_request_id: str, status: str) -> None:
        """Record how the reversing cancelPayment stands (e.g. pending, sent, done, failed)."""
        with self.sim.engine.begin() as conn:
            conn.execute(
                payments_table.update()
                .where(payments_table.c.payment_request_id == payment_request_id)
                .values(reversal_status=status)
            )


def init_app(app):
    """Give the app its payment engine."""
    sim = app.extensions["aplus_sim"]
    sim.payments = PaymentEngine(sim)
