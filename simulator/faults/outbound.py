"""Applying an injection to a call of the simulator to a wallet (simulator.outbound asks for
it), and notes on the inbound exchange being answered (the outbound APIs' own effects)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g, has_request_context

from contracts import signing
from simulator.faults.effects import NOT_JSON
from simulator.faults.rules import Injection
from simulator.state import Sim


def spoil_outbound(
    sim: Sim,
    injection: Injection,
    client_id: str,
    path: str,
    payload: bytes,
    headers: dict[str, str],
    when: datetime,
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
            payload = payload[: len(payload) // 2] if params["style"] == "truncated" else NOT_JSON
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
    if has_request_context():
        g.setdefault("aplus_sim_notes", []).append(text)


def injected(sim: Sim, api: str, payment_request_id: str, kind: str) -> Injection | None:
    """The fault rule of `kind` that fires for this payment's `api` call, if any: the outbound
    APIs' own effects (early_cancel, skip_polling, unknown_inquiry), asked for by their modules."""
    if not sim.faults.has_rules(api, "outbound"):
        return None  # the usual case: one cheap read, no payment record to load
    record = sim.payments.get_record(payment_request_id)
    if record is None:
        return None
    return sim.faults.outbound(api, record["client_id"], payment_request_id, kinds=(kind,))
