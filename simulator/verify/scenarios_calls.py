"""The calls Alipay+ makes on the wallet: inquiryPayment, cancelPayment (expiry, merchant close,
late success), and the timeouts on both sides (spec §6 cases 10-14, 19)."""

from __future__ import annotations

from typing import Any

from simulator.verify import checks
from simulator.verify.scenario import Context, body, scenario

FIRST_POLL = 4.0  # seconds after the decode (spec §2.8)
NO_ANSWER_HOLD = {"userInitiatedPay": 12, "notifyPayment": 9}  # longer than the timeouts
WALLET_TIMEOUTS = {"userInitiatedPay": 8.0, "notifyPayment": 5.0}  # spec §2.8
TIMEOUT_SLACK = 2.5  # one back-off and a busy machine


def calls(ctx: Context, prid: str, api: str) -> list[dict[str, Any]]:
    """Alipay+'s calls of one API on the wallet about one payment, oldest first."""
    return [e for e in ctx.exchanges(prid, api) if e["direction"] == "outbound"]


def answered(ctx: Context, prid: str, api: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until Alipay+ has made `count` calls of `api` about `prid`; those calls."""
    ctx.wait(lambda: len(calls(ctx, prid, api)) >= count, f"Alipay+ calls {api} on the wallet")
    return calls(ctx, prid, api)


def result_of(exchange: dict[str, Any]) -> tuple[Any, Any]:
    """(resultStatus, resultCode) of the wallet's answer."""
    result = body(exchange, "responseBody").get("result", {})
    return result.get("resultStatus"), result.get("resultCode")


def decoded_and_left(ctx: Context, **order_params: Any) -> str:
    """An order the user opened and walked away from; its paymentRequestId."""
    order = ctx.order(**order_params)
    ctx.act(order["codeValue"], "abandon")
    return order["paymentRequestId"]


@scenario(
    "inquiry-while-processing",
    "inquiryPayment before the user confirms: result S, paymentResult U PAYMENT_IN_PROCESS",
    "§2.6a, §4.5; §6 case 11",
    virtual_clock=True,
    family="inquiry",
)
def inquiry_while_processing(ctx: Context) -> None:
    prid = decoded_and_left(ctx)
    ctx.advance(FIRST_POLL)
    inquiry = answered(ctx, prid, "inquiryPayment")[0]
    ctx.check(checks.trusted(inquiry), "the wallet answers inquiryPayment", inquiry["outcome"])
    payment_result = body(inquiry, "responseBody").get("paymentResult", {})
    ctx.check(
        result_of(inquiry) == ("S", "SUCCESS")
        and (payment_result.get("resultStatus"), payment_result.get("resultCode"))
        == ("U", "PAYMENT_IN_PROCESS"),
        "an open payment is reported result S + paymentResult U PAYMENT_IN_PROCESS (spec §4.5)",
        f"result {result_of(inquiry)}, paymentResult {payment_result}",
    )


@scenario(
    "inquiry-unknown-id",
    "inquiryPayment for a paymentRequestId the wallet never saw: F ORDER_NOT_EXIST",
    "§4.5; §6 case 11",
    virtual_clock=True,
    family="inquiry",
)
def inquiry_unknown_id(ctx: Context) -> None:
    prid = decoded_and_left(ctx)
    rule_id = ctx.rule(
        "inquiryPayment",
        {"kind": "unknown_inquiry"},
        direction="outbound",
        match={"paymentRequestId": prid},
        times=1,
    )
    ctx.advance(FIRST_POLL)
    marker = f"rule {rule_id} unknown_inquiry"
    found = [e for e in ctx.sim.journal(api="inquiryPayment") if marker in (e.get("note") or "")]
    ctx.check(found, "the unknown inquiry was sent", f"no journal entry noted {marker!r}")
    ctx.extra_ids.extend(e["id"] for e in found)
    status, code = found[-1].get("result_status"), found[-1].get("result_code")
    ctx.check(
        (status, code) == ("F", "ORDER_NOT_EXIST"),
        "an unknown paymentRequestId is answered F ORDER_NOT_EXIST (spec §4.5)",
        f"answered {status} {code}",
    )


@scenario(
    "inquiry-after-pay-agrees",
    "the notification is lost; inquiryPayment then says SUCCESS with the notified amounts and "
    "paymentId",
    "§4.4, §4.5; §6 case 10",
    virtual_clock=True,
    family="inquiry",
)
def inquiry_after_pay_agrees(ctx: Context) -> None:
    order = ctx.order()
    prid = order["paymentRequestId"]
    lost = {"kind": "result", "resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"}
    ctx.rule("notifyPayment", lost, match={"paymentRequestId": prid}, times=100)
    ctx.act(order["codeValue"], "confirm")
    ctx.wait(lambda: checks.notifications(ctx, prid), "the wallet notifies the payment")
    ctx.advance(FIRST_POLL)
    inquiry = answered(ctx, prid, "inquiryPayment")[0]
    answer = body(inquiry, "responseBody")
    notified = body(checks.notifications(ctx, prid)[0])
    ctx.check(
        answer.get("paymentResult", {}).get("resultStatus")
        == notified.get("paymentResult", {}).get("resultStatus"),
        "inquiryPayment reports the notified result (spec §2.6a: a final state never changes)",
        f"inquiry {answer.get('paymentResult')}, notified {notified.get('paymentResult')}",
    )
    for name in ("paymentId", "paymentAmount", "payToAmount"):
        ctx.check(
            answer.get(name) == notified.get(name),
            f"inquiryPayment {name} equals the notified one (spec §4.5)",
            f"inquiry {answer.get(name)}, notified {notified.get(name)}",
        )


@scenario(
    "expiry-cancel",
    "an order left open past paymentExpiryTime: cancelPayment answered S, the order is no "
    "longer payable",
    "§3.3, §4.6; §6 case 12",
    virtual_clock=True,
    family="cancel",
)
def expiry_cancel(ctx: Context) -> None:
    order = ctx.order(expirySeconds=30)
    prid = order["paymentRequestId"]
    ctx.act(order["codeValue"], "abandon")
    ctx.advance(31)
    cancel = answered(ctx, prid, "cancelPayment")[0]
    ctx.check(
        result_of(cancel) == ("S", "SUCCESS") and checks.trusted(cancel),
        "cancelPayment is answered S (spec §4.6)",
        cancel["outcome"],
    )
    ctx.act(order["codeValue"], "confirm")
    checks.no_success_notified(ctx, prid, "an expired order is never paid (spec §3.3)")


@scenario(
    "cancel-idempotent",
    "the same cancelPayment twice: both answered S, the same result",
    "§2.7, §4.6; §6 case 13",
    family="cancel",
)
def cancel_idempotent(ctx: Context) -> None:
    prid = decoded_and_left(ctx)
    ctx.rule(
        "cancelPayment",
        {"kind": "duplicate"},
        direction="outbound",
        match={"paymentRequestId": prid},
        times=1,
    )
    ctx.sim.cancel(prid, reason="aplus-sim verify: the same cancel twice")
    ctx.advance(0)
    outcomes = [result_of(e) for e in answered(ctx, prid, "cancelPayment", 2)]
    ctx.check(
        all(outcome == ("S", "SUCCESS") for outcome in outcomes),
        "a repeated cancelPayment gets the same S (spec §2.7: cancelPayment is idempotent)",
        f"answers {outcomes}",
    )


@scenario(
    "cancel-unknown-order",
    "cancelPayment for an order the wallet never saw (closed before the scan) is answered S",
    "§4.6, §10",
    family="cancel",
)
def cancel_unknown_order(ctx: Context) -> None:
    order = ctx.order()
    prid = order["paymentRequestId"]
    ctx.sim.cancel(prid, reason="aplus-sim verify: closed before the scan")
    ctx.advance(0)
    cancel = answered(ctx, prid, "cancelPayment")[0]
    ctx.check(
        result_of(cancel) == ("S", "SUCCESS"),
        "a cancel for an unknown order is answered S (spec §10: make every cancel succeed)",
        cancel["outcome"],
    )


@scenario(
    "late-success-reversed",
    "the wallet's success reaches Alipay+ after the order closed: the cancelPayment that "
    "follows is answered S and the payment never becomes SUCCESS",
    "§2.6a, §3.3, §4.6; §6 case 14",
    virtual_clock=True,
    family="cancel",
)
def late_success_reversed(ctx: Context) -> None:
    order = ctx.order()
    prid = order["paymentRequestId"]
    lost = {"kind": "result", "resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"}
    rule_id = ctx.rule("notifyPayment", lost, match={"paymentRequestId": prid}, times=100)
    ctx.act(order["codeValue"], "confirm")
    ctx.sim.cancel(prid, reason="aplus-sim verify: merchant closes before the result")
    ctx.advance(0)
    ctx.sim.delete_rule(rule_id)
    ctx.wait(
        lambda: ctx.sim.payment(prid)["reversal"]["status"] == "done",
        "the late success is reversed with a cancelPayment the wallet answers S (spec §3.3)",
        step=5.0,
        max_advance=300.0,
    )
    for cancel in calls(ctx, prid, "cancelPayment"):
        ctx.check(
            result_of(cancel)[0] in ("S", None), "cancelPayment answered S", cancel["outcome"]
        )
    ctx.check(ctx.sim.payment(prid)["status"] != "SUCCESS", "a closed order stays closed")


@scenario(
    "pay-after-expiry-refused",
    "the wallet itself refuses to pay after paymentExpiryTime, even before Alipay+'s cancel "
    "gets through",
    "§3.3, §4.3",
    virtual_clock=True,
    family="cancel",
)
def pay_after_expiry_refused(ctx: Context) -> None:
    order = ctx.order(expirySeconds=2)
    prid = order["paymentRequestId"]
    ctx.act(order["codeValue"], "abandon")
    ctx.rule(
        "cancelPayment",
        {"kind": "bad_signature"},
        direction="outbound",
        match={"paymentRequestId": prid},
        times=100,
    )
    ctx.advance(3)
    ctx.act(order["codeValue"], "confirm")
    checks.no_success_notified(ctx, prid, "no payment after paymentExpiryTime (spec §3.3)")


def _timeout(ctx: Context, api: str) -> None:
    """Alipay+ holds its answer past the wallet's timeout: the wallet gives up in time and
    sends the identical request again."""
    order = ctx.order()
    prid, code_value = order["paymentRequestId"], order["codeValue"]
    hold = NO_ANSWER_HOLD[api]
    match = {"codeValue": code_value} if api == "userInitiatedPay" else {"paymentRequestId": prid}
    ctx.rule(api, {"kind": "drop", "seconds": hold}, match=match, times=1)
    waited = ctx.act(code_value, "confirm")["seconds"]
    limit = WALLET_TIMEOUTS[api] + TIMEOUT_SLACK
    ctx.check(
        waited < limit,
        f"the wallet gives up on {api} after its {WALLET_TIMEOUTS[api]:g} s timeout (spec §2.8)",
        f"the hook took {waited:.1f} s (the answer was held {hold} s)",
    )
    if api == "userInitiatedPay":
        attempts = ctx.decodes(code_value)
    else:
        ctx.wait(
            lambda: len(checks.notifications(ctx, prid)) >= 2,
            "notifyPayment is resent after a timeout (spec §2.8)",
            step=5.0,
            max_advance=300.0,
        )
        attempts = checks.notifications(ctx, prid)
    ctx.check(len(attempts) >= 2, f"{api} is resent after a timeout (spec §2.8)", f"{attempts}")
    checks.identical(ctx, attempts, f"{api} is resent identically after a timeout (spec §2.8)")


@scenario(
    "decode-timeout-respected",
    "Alipay+ never answers the decode: the wallet gives up after 8 s and sends it again",
    "§2.8; §6 case 19",
    family="timeout",
)
def decode_timeout_respected(ctx: Context) -> None:
    _timeout(ctx, "userInitiatedPay")


@scenario(
    "notify-timeout-respected",
    "Alipay+ never acknowledges the notification: the hook returns within 5 s plus a margin, and "
    "the notification is sent again",
    "§2.8; §6 case 19",
    family="timeout",
)
def notify_timeout_respected(ctx: Context) -> None:
    _timeout(ctx, "notifyPayment")
