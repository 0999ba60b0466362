"""How the wallet reacts to what Alipay+ answers on its own calls (the QA channels' inbound
effects): U, no answer, committed-then-lost, broken or unsigned answers, and final F."""

from __future__ import annotations

from typing import Any

from simulator.verify import checks
from simulator.verify.scenario import Context, body, scenario

U_UNKNOWN = {"kind": "result", "resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"}
U_TRAFFIC = {"kind": "result", "resultStatus": "U", "resultCode": "REQUEST_TRAFFIC_EXCEED_LIMIT"}
# Short holds: the connection closes without an answer well inside the wallet's timeout, so
# the run stays fast (the timeout itself is judged by the *-timeout-respected scenarios).
DROP = {"kind": "drop", "seconds": 1}
COMMIT_THEN_U = {"kind": "commit_then_result"}
COMMIT_THEN_DROP = {"kind": "commit_then_drop", "seconds": 1}
BAD_SIGNATURE = {"kind": "bad_signature", "commit": False}
NO_SIGNATURE = {"kind": "no_signature", "commit": False}
HTTP_ERROR = {"kind": "http_error", "status": 503}

RETRY_SECTION = "§2.6a, §2.7, §2.8"
DECODE_REACTIONS: list[tuple[str, dict[str, Any], int, str]] = [
    ("decode-u-retry", U_UNKNOWN, 1, "answered U/UNKNOWN_EXCEPTION"),
    ("decode-traffic-limit-retry", U_TRAFFIC, 2, "answered U/REQUEST_TRAFFIC_EXCEED_LIMIT twice"),
    ("decode-no-answer-retry", DROP, 1, "not answered (connection closed, nothing committed)"),
    ("decode-commit-then-u", COMMIT_THEN_U, 1, "committed, then answered U"),
    ("decode-commit-then-drop", COMMIT_THEN_DROP, 1, "committed, then not answered"),
    ("decode-bad-signature-retry", BAD_SIGNATURE, 1, "answered with a signature that fails"),
    ("decode-unsigned-answer-retry", NO_SIGNATURE, 1, "answered without a signature"),
    ("decode-http-error-retry", HTTP_ERROR, 1, "answered HTTP 503 (an HTML page)"),
]
NOTIFY_REACTIONS: list[tuple[str, dict[str, Any], int, str]] = [
    ("notify-u-retry", U_UNKNOWN, 1, "answered U/UNKNOWN_EXCEPTION"),
    ("notify-traffic-limit-retry", U_TRAFFIC, 2, "answered U/REQUEST_TRAFFIC_EXCEED_LIMIT twice"),
    ("notify-dropped-retry", DROP, 1, "not answered (connection closed, nothing committed)"),
    ("notify-commit-then-u", COMMIT_THEN_U, 1, "committed, then answered U"),
    ("notify-commit-then-drop", COMMIT_THEN_DROP, 1, "committed, then not answered"),
    ("notify-bad-signature-retry", BAD_SIGNATURE, 1, "acknowledged with a signature that fails"),
    ("notify-http-error-retry", HTTP_ERROR, 1, "answered HTTP 503 (an HTML page)"),
]
DECODE_FAILURES = ["PROCESS_FAIL", "USER_AMOUNT_EXCEED_LIMIT", "ORDER_IS_CLOSED", "INVALID_CODE"]
# How far a virtual clock may be moved while waiting for a notification retry: past the
# usual back-offs (5 s, 30 s, 1 min, ...) but well inside the 10-minute order expiry.
NOTIFY_RETRY_HORIZON = 300.0


def _fired(ctx: Context, rule_id: int, times: int) -> None:
    fired = ctx.sim.rule(rule_id).get("fired", 0)
    ctx.check(fired >= 1, "the injected answer reached the wallet", f"rule fired {fired} times")


def decode_reaction(ctx: Context, effect: dict[str, Any], times: int) -> None:
    """A spoiled decode answer: the wallet resends the identical decode, then pays once."""
    order = ctx.order()
    prid, code_value = order["paymentRequestId"], order["codeValue"]
    rule_id = ctx.rule("userInitiatedPay", effect, match={"codeValue": code_value}, times=times)
    ctx.act(code_value, "confirm")
    _fired(ctx, rule_id, times)
    decodes = ctx.decodes(code_value)
    ctx.check(
        len(decodes) > times,
        "a decode without a final answer is sent again (spec §2.8: same request after U or "
        "timeout)",
        f"{len(decodes)} decode attempt(s) for {times} spoiled answer(s)",
    )
    checks.identical(ctx, decodes, "decode retries are identical (spec §2.7, §2.8)")
    ids = {body(e, "responseBody").get("paymentRequestId") for e in decodes if checks.trusted(e)}
    ids.discard(None)
    ctx.check(ids <= {prid}, "every decode answer names the same payment", f"{sorted(ids)}")
    ctx.wait(lambda: checks.final_ack(checks.notifications(ctx, prid)), "the payment is notified")
    checks.one_payment(ctx, prid)
    checks.amounts_as_decoded(ctx, prid)


def notify_reaction(ctx: Context, effect: dict[str, Any], times: int) -> None:
    """A spoiled notifyPayment ack: identical resends until S, never another result/amount."""
    order = ctx.order()
    prid = order["paymentRequestId"]
    rule_id = ctx.rule("notifyPayment", effect, match={"paymentRequestId": prid}, times=times)
    ctx.act(order["codeValue"], "confirm")
    ctx.wait(
        lambda: checks.final_ack(checks.notifications(ctx, prid)),
        "notifyPayment is sent again until Alipay+ acknowledges it with S (spec §2.8, §4.4)",
        step=5.0,
        max_advance=NOTIFY_RETRY_HORIZON,
    )
    _fired(ctx, rule_id, times)
    sent = checks.one_payment(ctx, prid)
    ctx.check(
        len(sent) > times,
        "an unacknowledged notification is resent (spec §2.8)",
        f"{len(sent)} notification(s) for {times} spoiled ack(s)",
    )
    checks.amounts_as_decoded(ctx, prid)


def decode_failure(ctx: Context, code: str) -> None:
    """A final F decode: the wallet stops (no retry of that decode, no payment, no notify)."""
    order = ctx.order()
    prid, code_value = order["paymentRequestId"], order["codeValue"]
    effect = {"kind": "result", "resultStatus": "F", "resultCode": code}
    rule_id = ctx.rule("userInitiatedPay", effect, match={"codeValue": code_value}, times=1)
    ctx.act(code_value, "confirm")
    _fired(ctx, rule_id, 1)
    decodes = ctx.decodes(code_value)
    ctx.check(
        len(decodes) == 1,
        f"a decode answered F {code} is final: not retried (spec §2.6a)",
        f"{len(decodes)} decode attempts",
    )
    ctx.check(
        not checks.notifications(ctx, prid),
        "nothing is notified for an order that was never decoded (spec §4.4)",
        "notifyPayment was sent",
    )


def _register() -> None:
    for name, effect, times, what in DECODE_REACTIONS:
        scenario(
            name,
            f"decode {what}: the identical decode again, the same paymentRequestId, one payment",
            f"{RETRY_SECTION}, §4.3; §6 case 3",
            family="decode",
        )(lambda ctx, effect=effect, times=times: decode_reaction(ctx, effect, times))
    for code in DECODE_FAILURES:
        scenario(
            f"decode-f-{code.lower().replace('_', '-')}",
            f"decode answered F {code}: the wallet stops, pays nothing, notifies nothing",
            "§2.6a, §4.3, §5.2; §6 case 5",
            family="decode",
        )(lambda ctx, code=code: decode_failure(ctx, code))
    for name, effect, times, what in NOTIFY_REACTIONS:
        scenario(
            name,
            f"notification {what}: identical resends until S, never another result or amount",
            f"{RETRY_SECTION}, §4.4; §6 cases 9, 10",
            family="notify",
        )(lambda ctx, effect=effect, times=times: notify_reaction(ctx, effect, times))


_register()
