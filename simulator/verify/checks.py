"""Judgements shared by the scenarios: what a wallet's exchanges must look like."""

from __future__ import annotations

from typing import Any

from simulator.verify.scenario import Context, body

# Alipay+'s timeouts on its calls to the wallet (spec §2.8), in milliseconds.
CALL_TIMEOUTS_MS = {"inquiryPayment": 5000, "cancelPayment": 8000, "refund": 8000}
# A little room for loopback and scheduling noise on a busy CI machine.
TIMEOUT_MARGIN_MS = 500


def trusted(exchange: dict[str, Any]) -> bool:
    """An answer that arrived, correctly signed (or not checked), with a result."""
    return not exchange["outcome"].startswith("no answer")


def wallet_messages_conform(ctx: Context, exchanges: list[dict[str, Any]]) -> None:
    """Every message the wallet wrote is signed correctly and meets the contract (§2.3, §4)."""
    for exchange in exchanges:
        what = f"#{exchange['id']} {exchange['direction']} {exchange['api']}"
        if exchange["direction"] == "inbound":  # the wallet's request
            ctx.check(
                exchange["signature"] in ("valid", "not-checked"),
                "the wallet signs its requests (spec §2.3)",
                f"{what}: signature {exchange['signature']}",
            )
            ctx.check(
                not exchange["requestViolations"],
                "every wallet request validates against the contract (spec §4)",
                f"{what}: {exchange['requestViolations']}",
            )
        elif exchange["httpStatus"] is not None and not _spoiled_by_us(exchange):
            ctx.check(
                not exchange["responseViolations"],
                "every wallet answer validates against the contract (spec §4)",
                f"{what}: {exchange['responseViolations']}",
            )


def _spoiled_by_us(exchange: dict[str, Any]) -> bool:
    """An outbound call the simulator broke on purpose (the wallet's answer is judged apart)."""
    note = exchange.get("note") or ""
    return "injected" in note and any(
        kind in note for kind in ("malformed", "bad_signature", "no_signature", "stale_time")
    )


def identical(ctx: Context, exchanges: list[dict[str, Any]], rule: str) -> None:
    """Every retry carries byte-for-byte the same body as the first attempt (spec §2.7, §2.8)."""
    bodies = {exchange["requestBody"] for exchange in exchanges}
    ctx.check(
        len(bodies) == 1,
        rule,
        f"{len(exchanges)} attempts with {len(bodies)} different bodies: "
        + " | ".join(sorted(b or "" for b in bodies))[:1500],
    )


def notifications(ctx: Context, payment_request_id: str) -> list[dict[str, Any]]:
    """The wallet's notifyPayment calls for one payment, oldest first."""
    return ctx.exchanges(payment_request_id, "notifyPayment")


def final_ack(exchanges: list[dict[str, Any]]) -> bool:
    """Whether Alipay+ has acknowledged one of these notifications with a trusted S."""
    return any(trusted(e) and e["outcome"].startswith("S ") for e in exchanges)


def pay(ctx: Context, **order_params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A paid order: create it, confirm at the wallet, wait for the acknowledged success."""
    order = ctx.order(**order_params)
    ctx.act(order["codeValue"], "confirm")
    prid = order["paymentRequestId"]
    ctx.wait(
        lambda: ctx.sim.payment(prid)["status"] == "SUCCESS",
        "a confirmed payment reaches SUCCESS at Alipay+ (spec §4.4)",
    )
    return order, ctx.sim.payment(prid)


def one_payment(ctx: Context, payment_request_id: str) -> list[dict[str, Any]]:
    """The wallet reported one outcome only: identical notifications, one paymentId (§2.7)."""
    sent = notifications(ctx, payment_request_id)
    if sent:
        identical(ctx, sent, "notifyPayment retries are identical (spec §2.7, §2.8)")
    payment_ids = {body(e).get("paymentId") for e in sent}
    ctx.check(
        len(payment_ids) <= 1,
        "one payment, one paymentId: no double debit (spec §2.7)",
        f"paymentIds {sorted(str(p) for p in payment_ids)}",
    )
    return sent


def amounts_as_decoded(ctx: Context, payment_request_id: str) -> None:
    """Notified amounts equal the decoded ones (spec §4.4; §6 case 20)."""
    decoded = [
        body(e, "responseBody")
        for e in ctx.exchanges(payment_request_id, "userInitiatedPay")
        if e["outcome"].startswith("S ")
    ]
    ctx.check(decoded, "the payment was decoded (spec §4.3)", "no successful decode")
    for sent in notifications(ctx, payment_request_id):
        message = body(sent)
        if message.get("paymentResult", {}).get("resultStatus") != "S":
            continue
        for name in ("paymentAmount", "payToAmount"):
            ctx.check(
                message.get(name) == decoded[0].get(name),
                f"notifyPayment {name} equals the decoded {name} (spec §4.4)",
                f"notified {message.get(name)}, decoded {decoded[0].get(name)}",
            )


def no_success_notified(ctx: Context, payment_request_id: str, rule: str) -> None:
    """The wallet never reported S for this payment."""
    for sent in notifications(ctx, payment_request_id):
        status = body(sent).get("paymentResult", {}).get("resultStatus")
        ctx.check(status != "S", rule, f"#{sent['id']} notified paymentResult S")


def answers_in_time(ctx: Context, exchanges: list[dict[str, Any]]) -> None:
    """The wallet answered Alipay+'s calls within Alipay+'s timeouts (spec §2.8)."""
    for exchange in exchanges:
        limit = CALL_TIMEOUTS_MS.get(exchange["api"])
        if exchange["direction"] != "outbound" or limit is None or exchange["httpStatus"] is None:
            continue
        if "delay" in (exchange.get("note") or ""):
            continue
        ctx.check(
            exchange["latencyMs"] <= limit + TIMEOUT_MARGIN_MS,
            f"the wallet answers {exchange['api']} within {limit // 1000} s (spec §2.8)",
            f"#{exchange['id']} took {exchange['latencyMs']} ms",
        )
