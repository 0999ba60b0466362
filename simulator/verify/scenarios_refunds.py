"""Refunds (spec §6 cases 15-17) and the wallet's signatures in both directions (case 18)."""

from __future__ import annotations

from typing import Any

from simulator.verify import checks
from simulator.verify.scenario import Context, body, scenario
from simulator.verify.scenarios_calls import answered, calls, decoded_and_left, result_of

# Alipay+'s own back-off before it repeats a cancel or refund that was not answered S.
FIRST_RESEND = 10.0


def refund(ctx: Context, prid: str, value: int | None = None) -> dict[str, Any]:
    """The merchant refunds `value` (minor units; None: what remains); waits for the answer."""
    payment = ctx.sim.payment(prid)
    params: dict[str, Any] = {"reason": "aplus-sim verify"}
    if value is not None:
        params["amount"] = {"currency": payment["orderAmount"]["currency"], "value": str(value)}
    created = ctx.sim.refund(prid, **params)
    refund_request_id = created["refundRequestId"]

    def settled() -> bool:
        found = [
            r for r in ctx.sim.payment(prid)["refunds"] if r["refundRequestId"] == refund_request_id
        ]
        return bool(found) and found[0]["status"] in ("SUCCESS", "FAILED")

    ctx.run_due(settled, "the refund is answered (spec §4.7)")
    return next(
        r for r in ctx.sim.payment(prid)["refunds"] if r["refundRequestId"] == refund_request_id
    )


def _refund_ok(ctx: Context, done: dict[str, Any]) -> None:
    ctx.check(
        done["status"] == "SUCCESS" and done.get("refundId") and done.get("refundTime"),
        "a refund within the paid amount is answered S with refundId and refundTime (spec §4.7)",
        f"refund {done['refundRequestId']}: {done['status']} {done.get('resultCode')}",
    )


@scenario(
    "refund-full",
    "a full refund is answered S with refundId and refundTime",
    "§4.7; §6 case 15",
    family="refund",
)
def refund_full(ctx: Context) -> None:
    order, _ = checks.pay(ctx)
    _refund_ok(ctx, refund(ctx, order["paymentRequestId"]))


@scenario(
    "refund-partial-multiple",
    "partial refunds adding up to the paid amount: each answered S with its own refundId",
    "§4.7; §6 case 16",
    family="refund",
)
def refund_partial_multiple(ctx: Context) -> None:
    order, _ = checks.pay(ctx, value=1000)
    prid = order["paymentRequestId"]
    parts = [refund(ctx, prid, 300), refund(ctx, prid, 300), refund(ctx, prid)]
    for done in parts:
        _refund_ok(ctx, done)
    ids = {done.get("refundId") for done in parts}
    ctx.check(len(ids) == 3, "each refund has its own refundId (spec §4.7)", f"{sorted(ids)}")


@scenario(
    "refund-replay-same-refund-id",
    "the same refund request twice (its answer lost): the same answer, the same refundId",
    "§2.7, §4.7; §6 case 17",
    family="refund",
)
def refund_replay_same_refund_id(ctx: Context) -> None:
    order, _ = checks.pay(ctx)
    prid = order["paymentRequestId"]
    ctx.rule(
        "refund", {"kind": "duplicate"}, direction="outbound", match={"paymentRequestId": prid}
    )
    refund(ctx, prid, 100)
    sent = answered(ctx, prid, "refund", 2)
    refund_ids = {body(e, "responseBody").get("refundId") for e in sent}
    ctx.check(
        all(result_of(e) == ("S", "SUCCESS") for e in sent) and len(refund_ids) == 1,
        "a replayed refundRequestId gets the same answer and refundId (spec §2.7)",
        f"answers {[result_of(e) for e in sent]}, refundIds {sorted(map(str, refund_ids))}",
    )


def _refused(ctx: Context, exchange: dict[str, Any], api: str, effect: str) -> None:
    ctx.check(
        result_of(exchange) == ("F", "INVALID_SIGNATURE"),
        f"a {api} request whose signature {'is missing' if effect == 'no_signature' else 'fails'}"
        " is refused F INVALID_SIGNATURE (spec §2.3; §6 case 18)",
        f"#{exchange['id']} answered {exchange['outcome']}",
    )


def signature_refused(ctx: Context, api: str, effect: str) -> None:
    """Alipay+'s call arrives tampered or unsigned: the wallet refuses it, acts on nothing."""
    spoiled = {"kind": effect, "commit": False}
    if api == "inquiryPayment":
        prid = decoded_and_left(ctx)
        ctx.rule(api, spoiled, direction="outbound", match={"paymentRequestId": prid}, times=1)
        ctx.advance(4)
        _refused(ctx, answered(ctx, prid, api)[0], api, effect)
        return
    if api == "cancelPayment":
        prid = decoded_and_left(ctx)
        ctx.rule(api, spoiled, direction="outbound", match={"paymentRequestId": prid}, times=1)
        ctx.sim.cancel(prid, reason="aplus-sim verify: a spoiled cancel")
        ctx.advance(0)
    else:
        order, _ = checks.pay(ctx)
        prid = order["paymentRequestId"]
        ctx.rule(api, spoiled, direction="outbound", match={"paymentRequestId": prid}, times=1)
        ctx.sim.refund(prid, amount=order["order"]["orderAmount"], reason="aplus-sim verify")
        ctx.advance(0)
    _refused(ctx, answered(ctx, prid, api)[0], api, effect)
    if api == "cancelPayment" and ctx.virtual:
        # Alipay+ resends the same cancel, correctly signed: now it goes through. (A refund
        # answered F is final for Alipay+: it is not resent.)
        ctx.advance(FIRST_RESEND)
        resent = answered(ctx, prid, api, 2)[1]
        ctx.check(
            result_of(resent) == ("S", "SUCCESS"),
            f"the same {api}, correctly signed, is then accepted (spec §2.7)",
            f"#{resent['id']} answered {resent['outcome']}",
        )


@scenario(
    "wallet-signs-answers",
    "every answer the wallet gives Alipay+ is signed (lower-case signature, response-time and "
    "client-id headers; URL-encoded signature over the request path) and validates",
    "§2.2, §2.3; §6 case 18",
    family="signature",
)
def wallet_signs_answers(ctx: Context) -> None:
    if ctx.sim.participant().get("signatureMode") == "off":
        ctx.skip("the wallet is registered with signatureMode off")
    order, _ = checks.pay(ctx)
    prid = order["paymentRequestId"]
    refund(ctx, prid, 100)
    other = decoded_and_left(ctx)
    ctx.sim.cancel(other, reason="aplus-sim verify")
    ctx.advance(0)
    answered(ctx, other, "cancelPayment")
    for exchange in calls(ctx, prid, "refund") + calls(ctx, other, "cancelPayment"):
        what = f"#{exchange['id']} {exchange['api']}"
        ctx.check(
            exchange["signature"] == "valid",
            "the wallet's answers carry a signature that verifies (spec §2.3)",
            f"{what}: signature {exchange['signature']}",
        )
        names = set(exchange["responseHeaders"])
        for header in ("signature", "response-time", "client-id"):
            ctx.check(
                header in names,
                f"the answer has a lower-case {header!r} header (spec §2.2, sdk-interop)",
                f"{what}: headers {sorted(names)}",
            )
        value = exchange["responseHeaders"].get("signature", "")
        signature = value.split("signature=", 1)[-1]
        ctx.check(
            not any(ch in signature for ch in "+/="),
            "the signature value is URL-encoded base64 (spec §2.3)",
            f"{what}: {value[:80]}",
        )


def _register() -> None:
    for api in ("inquiryPayment", "cancelPayment", "refund"):
        for effect, word in (("bad_signature", "tampered"), ("no_signature", "unsigned")):
            short = {"inquiryPayment": "inquiry", "cancelPayment": "cancel"}.get(api, api)
            scenario(
                f"{short}-{word}-refused",
                f"a {word} {api} from Alipay+ is refused F INVALID_SIGNATURE",
                "§2.3; §6 case 18",
                virtual_clock=api == "inquiryPayment",
                family="signature",
            )(lambda ctx, api=api, effect=effect: signature_refused(ctx, api, effect))


_register()
