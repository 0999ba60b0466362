"""Scenarios in which Alipay+ itself misbehaves on purpose, to judge the wallet's own guards.

They need the simulator to send what it normally refuses to: a refund above what was paid, a
refund for an order the wallet never saw, a replayed refundRequestId with another amount, a
cancel for an unknown id. They ask the control plane with `"force": true`; a simulator that
does not know `force` refuses with a 4xx, and the scenario is reported skipped with that reason.
"""

from __future__ import annotations

from typing import Any

from simulator.verify import checks
from simulator.verify.client import ControlError
from simulator.verify.scenario import Context, scenario
from simulator.verify.scenarios_calls import answered, result_of

LACKS_REFUNDS = "simulator lacks forced refunds (POST /_sim/payments/<id>/refunds with force)"
LACKS_CANCELS = "simulator lacks forced cancels (POST /_sim/payments/<id>/cancel with force)"


def forced(ctx: Context, call: Any, lacks: str, *args: Any, **body: Any) -> dict[str, Any]:
    """A control-plane call with `force`; skip the scenario when the simulator refuses it."""
    try:
        return call(*args, force=True, **body)
    except ControlError as exc:
        if 400 <= exc.status < 500:
            ctx.skip(f"{lacks}: HTTP {exc.status} {exc.body}")
        raise


def wallet_answer(ctx: Context, prid: str, api: str, count: int = 1) -> tuple[Any, Any]:
    """Run due jobs, then the wallet's answer to the `count`-th call of `api` about `prid`."""
    ctx.advance(0)
    return result_of(answered(ctx, prid, api, count)[count - 1])


@scenario(
    "refund-above-paid-refused",
    "a refund above what was paid is refused F REFUND_AMOUNT_EXCEED",
    "§4.7; §6 case 16",
    family="forced",
)
def refund_above_paid_refused(ctx: Context) -> None:
    order, _ = checks.pay(ctx, value=1000)
    prid = order["paymentRequestId"]
    amount = {"currency": order["order"]["orderAmount"]["currency"], "value": "1500"}
    forced(ctx, ctx.sim.refund, LACKS_REFUNDS, prid, amount=amount)
    answer = wallet_answer(ctx, prid, "refund")
    ctx.check(
        answer == ("F", "REFUND_AMOUNT_EXCEED"),
        "a refund above the paid amount is refused F REFUND_AMOUNT_EXCEED (spec §4.7)",
        f"answered {answer}",
    )


@scenario(
    "refund-unknown-payment-refused",
    "a refund for an order the wallet never saw is refused F ORDER_NOT_EXIST",
    "§4.7",
    family="forced",
)
def refund_unknown_payment_refused(ctx: Context) -> None:
    order = ctx.order()
    prid = order["paymentRequestId"]
    forced(ctx, ctx.sim.refund, LACKS_REFUNDS, prid, amount=order["order"]["orderAmount"])
    answer = wallet_answer(ctx, prid, "refund")
    ctx.check(
        answer == ("F", "ORDER_NOT_EXIST"),
        "a refund for an unknown payment is refused F ORDER_NOT_EXIST (spec §4.7)",
        f"answered {answer}",
    )


@scenario(
    "refund-replay-changed-amount-refused",
    "a replayed refundRequestId with another amount is refused F REPEAT_REQ_INCONSISTENT",
    "§2.7, §4.7; §6 case 17",
    family="forced",
)
def refund_replay_changed_amount_refused(ctx: Context) -> None:
    order, _ = checks.pay(ctx, value=1000)
    prid = order["paymentRequestId"]
    currency = order["order"]["orderAmount"]["currency"]
    first = ctx.sim.refund(prid, amount={"currency": currency, "value": "300"})
    wallet_answer(ctx, prid, "refund")
    forced(
        ctx,
        ctx.sim.refund,
        LACKS_REFUNDS,
        prid,
        amount={"currency": currency, "value": "400"},
        refundRequestId=first["refundRequestId"],
    )
    answer = wallet_answer(ctx, prid, "refund", 2)
    ctx.check(
        answer == ("F", "REPEAT_REQ_INCONSISTENT"),
        "a refund replay with a changed amount is refused F REPEAT_REQ_INCONSISTENT (spec §2.7)",
        f"answered {answer}",
    )


@scenario(
    "cancel-unknown-id-accepted",
    "a cancelPayment for a paymentRequestId that exists nowhere is answered S",
    "§4.6, §10",
    family="forced",
)
def cancel_unknown_id_accepted(ctx: Context) -> None:
    prid = f"2099010100000000{ctx.rng.randrange(10**14):014d}"
    forced(ctx, ctx.sim.cancel, LACKS_CANCELS, prid)
    ctx.payments.append(prid)
    answer = wallet_answer(ctx, prid, "cancelPayment")
    ctx.check(
        answer == ("S", "SUCCESS"),
        "a cancel for an unknown order is answered S (spec §10)",
        f"answered {answer}",
    )
