"""Applying an injection to a call of the simulator to a wallet (simulator.outbound and
simulator.callbacks ask for it), and notes on the inbound exchange being answered."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from contracts import signing
from simulator.faults.effects import _NOT_JSON

if TYPE_CHECKING:
    from simulator.faults.rules import Injection

# -- applying an injection to a call of the simulator to a wallet --------------------------------


def outbound_fields(
    sim: Any, payment_request_id: str | None, refund_request_id: str | None
) -> dict[str, Any]:
    """The fields a rule can match in a call to a wallet (from the payment it is about)."""
    fields: dict[str, Any] = {
        "paymentRequestId": payment_request_id,
        "refundRequestId": refund_request_id,
    }
    record = sim.payments.get_record(payment_request_id) if payment_request_id else None
    if record is not None:
        amount = record["order"].get("orderAmount") or {}
        fields.update(
            codeValue=record["code_value"],
            customerId=record["customer_id"],
            amount=amount.get("value"),
            currency=amount.get("currency"),
        )
    return fields


def spoil_outbound(
    sim: Any,
    injection: Injection,
    client_id: str,
    path: str,
    payload: bytes,
    headers: dict[str, str],
    when: Any,
) -> tuple[bytes, dict[str, str], int]:
    """Apply a transport effect to a call to a wallet: (payload, headers, how many sends)."""
    params = injection.effect
    kind = params["kind"]
    sends = 1
    if kind == "delay":
        seconds = params["seconds"]
        if isinstance(seconds, list):
            seconds = sim.ids.rng().uniform(seconds[0], seconds[1])
        sim.faults.shutdown.wait(seconds)
    elif kind == "duplicate":
        sends = 2
    elif kind == "no_signature":
        headers = {k: v for k, v in headers.items() if k.lower() != "signature"}
    else:
        signed_payload = payload
        if kind == "malformed":
            payload = payload[: len(payload) // 2] if params["style"] == "truncated" else _NOT_JSON
            signed_payload = payload
        elif kind == "bad_signature":
            signed_payload = payload + b" "
        elif kind == "stale_time":
            when = when - timedelta(seconds=params["seconds"])
        headers = signing.signed_request_headers(
            sim.keys.private_key, client_id, path, signed_payload, when
        )
    return payload, headers, sends


def note_for_exchange(text: str) -> None:
    """Add `text` to the journal note of the inbound exchange being answered (if any)."""
    from flask import g, has_request_context

    if has_request_context():
        g.setdefault("aplus_sim_notes", []).append(text)
