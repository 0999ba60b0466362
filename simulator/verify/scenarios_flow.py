"""The cashier flow's acceptance cases (spec §6 cases 1-8 and 20), judged from the journal."""

from __future__ import annotations

from simulator.verify import checks
from simulator.verify.scenario import Context, body, scenario

# Far above what a test user holds (and outside the reserved magic range 4040000-4040999).
UNPAYABLE_VALUE = 999_999_999


@scenario(
    "code-rules-fetched",
    "the wallet fetches the code rules with a signed inquiryCodeRules and gets S",
    "§4.1, §4.2; §6 case 1",
)
def code_rules_fetched(ctx: Context) -> None:
    order = ctx.order()
    ctx.act(order["codeValue"], "abandon")
    entries = ctx.sim.journal(api="inquiryCodeRules")[-3:]
    ctx.extra_ids.extend(e["id"] for e in entries)
    ctx.check(
        entries,
        "the wallet calls inquiryCodeRules before identifying codes (spec §4.1)",
        "no inquiryCodeRules from this wallet in the journal",
    )
    ctx.check(
        entries[-1]["result_status"] == "S",
        "the wallet's inquiryCodeRules is accepted (spec §4.1)",
        f"last answer {entries[-1]['result_status']} {entries[-1]['result_code']}",
    )


@scenario(
    "identify-unsupported-code",
    "a code no rule matches is not supported: the wallet calls nothing (no userInitiatedPay)",
    "§4.2; §6 case 2",
)
def identify_unsupported_code(ctx: Context) -> None:
    code_value = f"hello-aplus-sim-{ctx.rng.randrange(10**9)}"
    ctx.codes.append(code_value)
    answer = ctx.act(code_value, "confirm")
    ctx.check(
        answer.get("paymentRequestId") is None,
        "an unsupported code starts no payment (spec §4.2: isSupported=false)",
        f"hook answered paymentRequestId {answer.get('paymentRequestId')!r}",
    )
    ctx.check(
        not ctx.decodes(code_value),
        "an unsupported code is not decoded (spec §4.2)",
        "userInitiatedPay was called with it",
    )


@scenario(
    "decode-success",
    "the user opens an order code: one signed userInitiatedPay, answered S, same paymentRequestId",
    "§4.3; §6 case 3",
)
def decode_success(ctx: Context) -> None:
    order = ctx.order()
    answer = ctx.act(order["codeValue"], "abandon")
    decodes = ctx.decodes(order["codeValue"])
    ctx.check(decodes, "the wallet decodes an order code (spec §4.3)", "no userInitiatedPay")
    ctx.check(
        decodes[0]["outcome"].startswith("S "),
        "the decode is accepted (spec §4.3)",
        f"answered {decodes[0]['outcome']}",
    )
    ctx.check(
        answer.get("paymentRequestId") == order["paymentRequestId"],
        "the hook reports the decoded paymentRequestId (docs/verify.md)",
        f"{answer.get('paymentRequestId')!r} != {order['paymentRequestId']!r}",
    )
    checks.no_success_notified(
        ctx, order["paymentRequestId"], "a user who walked away has not paid (spec §3.1)"
    )


@scenario(
    "decode-replay-same-user",
    "opening the same code again continues the same payment: one paymentRequestId, one debit",
    "§2.7, §4.3; §6 case 4",
)
def decode_replay_same_user(ctx: Context) -> None:
    order = ctx.order()
    first = ctx.act(order["codeValue"], "abandon")
    second = ctx.act(order["codeValue"], "confirm")
    prid = order["paymentRequestId"]
    ctx.check(
        first.get("paymentRequestId") == second.get("paymentRequestId") == prid,
        "a replayed decode gives the same payment (spec §2.7)",
        f"{first.get('paymentRequestId')!r}, {second.get('paymentRequestId')!r}",
    )
    checks.identical(
        ctx, ctx.decodes(order["codeValue"]), "repeated decodes are identical (spec §2.7)"
    )
    ctx.wait(lambda: checks.final_ack(checks.notifications(ctx, prid)), "the payment is notified")
    checks.one_payment(ctx, prid)


def _not_payable(ctx: Context, code_value: str, prid: str) -> None:
    """After the order closed: the user cannot pay, an F decode is not retried."""
    ctx.act(code_value, "confirm")
    checks.no_success_notified(ctx, prid, "a closed or expired order is never paid (spec §3.3)")
    refused = [e for e in ctx.decodes(code_value) if e["outcome"].startswith("F ")]
    ctx.check(
        len(refused) <= 1,
        "a decode answered F is not retried (spec §2.6a)",
        f"{len(refused)} decodes answered F",
    )


@scenario(
    "decode-expired-code",
    "a code whose order expired is not paid; its F decode is not retried",
    "§3.3, §4.3; §6 case 5",
    virtual_clock=True,
)
def decode_expired_code(ctx: Context) -> None:
    order = ctx.order(expirySeconds=30)
    ctx.advance(31)
    _not_payable(ctx, order["codeValue"], order["paymentRequestId"])


@scenario(
    "decode-closed-order",
    "a code whose order the merchant closed is not paid; its F decode is not retried",
    "§3.3, §4.3, §4.6; §6 case 5",
)
def decode_closed_order(ctx: Context) -> None:
    order = ctx.order()
    ctx.sim.cancel(order["paymentRequestId"], reason="aplus-sim verify: closed before the scan")
    ctx.advance(0)
    _not_payable(ctx, order["codeValue"], order["paymentRequestId"])


@scenario(
    "pay-success-notify",
    "a confirmed payment is notified S/SUCCESS with paymentId, paymentTime, customerId and the "
    "decoded amounts",
    "§3.1, §4.4; §6 case 6",
)
def pay_success_notify(ctx: Context) -> None:
    order, payment = checks.pay(ctx)
    prid = order["paymentRequestId"]
    sent = checks.one_payment(ctx, prid)
    message = body(sent[-1])
    for name in ("paymentId", "paymentTime", "customerId"):
        ctx.check(message.get(name), f"a successful notifyPayment carries {name} (spec §4.4)")
    checks.amounts_as_decoded(ctx, prid)
    ctx.check(
        payment["paymentId"] == message.get("paymentId"),
        "Alipay+ records the notified paymentId",
        f"{payment['paymentId']!r} != {message.get('paymentId')!r}",
    )


@scenario(
    "pay-insufficient-balance",
    "a user who cannot pay: notifyPayment F/USER_BALANCE_NOT_ENOUGH, no success",
    "§4.4, §5.1; §6 case 7",
)
def pay_insufficient_balance(ctx: Context) -> None:
    order = ctx.order(value=UNPAYABLE_VALUE)
    prid = order["paymentRequestId"]
    ctx.act(order["codeValue"], "confirm")
    ctx.wait(
        lambda: checks.final_ack(checks.notifications(ctx, prid)),
        "the failure is notified and acknowledged (spec §4.4)",
    )
    result = body(checks.notifications(ctx, prid)[-1]).get("paymentResult", {})
    ctx.check(
        (result.get("resultStatus"), result.get("resultCode")) == ("F", "USER_BALANCE_NOT_ENOUGH"),
        "an unaffordable payment is notified F USER_BALANCE_NOT_ENOUGH (spec §5.1)",
        f"notified {result}",
    )
    checks.one_payment(ctx, prid)


@scenario(
    "user-cancels",
    "a user who cancels on the cashier is never charged; a notification says F ORDER_IS_CLOSED",
    "§3.3; §6 case 8",
)
def user_cancels(ctx: Context) -> None:
    order = ctx.order()
    prid = order["paymentRequestId"]
    ctx.act(order["codeValue"], "cancel")
    checks.no_success_notified(ctx, prid, "a cancelled payment is never reported S (spec §3.3)")
    for sent in checks.notifications(ctx, prid):
        code = body(sent).get("paymentResult", {}).get("resultCode")
        ctx.check(
            code == "ORDER_IS_CLOSED",
            "a user cancel is notified F ORDER_IS_CLOSED (spec §6 case 8)",
            f"#{sent['id']} notified {code}",
        )


@scenario(
    "cross-currency-promo",
    "an order in another currency with a promotion: the wallet debits and notifies exactly the "
    "decoded paymentAmount and payToAmount",
    "§2.9, §4.3, §4.4; §6 case 20",
)
def cross_currency_promo(ctx: Context) -> None:
    if ctx.currency == "JPY":
        order, _ = checks.pay(ctx, value=20, currency="USD")
    else:
        order, _ = checks.pay(ctx, value=2000, currency="JPY", promoId="PROMO-JPY-100")
    checks.amounts_as_decoded(ctx, order["paymentRequestId"])
    checks.one_payment(ctx, order["paymentRequestId"])
