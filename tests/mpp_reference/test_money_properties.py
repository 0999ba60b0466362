"""Property test: whatever order Pay, user cancel, cancelPayment, refunds and replays come in,
the wallet never takes more than the payment, never gives back more than it took, and every
answer agrees with the ledger."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)


def _ids(prid: str) -> dict[str, str]:
    return {
        "acquirerId": "1022188000000000001",
        "pspId": "1022172000000000001",
        "paymentRequestId": prid,
    }


def test_money_is_never_lost_or_made(env):
    wallet = env.wallet
    user = env.rich_user()

    class Machine(RuleBasedStateMachine):
        payments = Bundle("payments")

        def __init__(self) -> None:
            super().__init__()
            self.opened: dict[str, dict] = {}
            self.refunds: dict[str, tuple[str, int]] = {}  # refundRequestId -> (prid, value)
            self.cancelled: set[str] = set()

        @rule(target=payments, value=st.integers(min_value=1, max_value=50_000))
        def open_order(self, value):
            order = env.alipay.add_order(amount=("KRW", value), pay_to=("KRW", value))
            state = env.driver(order["codeValue"], user, "abandon")
            assert state["status"] == "DECODED"
            self.opened[order["paymentRequestId"]] = order
            return order["paymentRequestId"]

        @rule(prid=payments)
        def pay(self, prid):
            wallet.confirm(prid, user)

        @rule(prid=payments)
        def user_cancel(self, prid):
            wallet.user_cancel(prid, user)

        @rule(prid=payments)
        def cancel_payment(self, prid):
            answer = wallet.cancel_payment(_ids(prid))
            assert answer["result"]["resultStatus"] == "S"
            self.cancelled.add(prid)

        @rule(prid=payments, value=st.integers(min_value=1, max_value=60_000), replay=st.booleans())
        def refund(self, prid, value, replay):
            payment = wallet.payment(prid)
            earlier = [r for r, (p, _) in self.refunds.items() if p == prid]
            rrid = earlier[0] if replay and earlier else f"R{len(self.refunds) + 1}-{prid[-6:]}"
            if rrid in self.refunds:
                value = self.refunds[rrid][1]
            body = {
                **_ids(prid),
                "paymentId": payment.payment_id,
                "refundRequestId": rrid,
                "refundAmount": {"currency": "KRW", "value": str(value)},
                "refundFromAmount": {"currency": "KRW", "value": str(value)},
            }
            before = wallet.ledger.user(user).balance
            try:
                answer = wallet.refund(body)
                code = answer["result"]["resultCode"]
            except Exception as exc:  # the endpoint turns these into `result` objects
                code = getattr(exc, "code", type(exc).__name__)
            refunded_before = sum(v for r, (p, v) in self.refunds.items() if p == prid)
            paid = int(self.opened[prid]["payToAmount"]["value"])
            if code == "SUCCESS" and rrid not in self.refunds:
                assert payment.status == "SUCCESS"
                assert refunded_before + value <= paid
                self.refunds[rrid] = (prid, value)
                assert wallet.ledger.user(user).balance == before + value
            elif code == "SUCCESS":
                assert wallet.ledger.user(user).balance == before  # a replay moves nothing
            else:
                assert wallet.ledger.user(user).balance == before
                if payment.status == "SUCCESS" and rrid not in self.refunds:
                    assert code == "REFUND_AMOUNT_EXCEED"
                    assert refunded_before + value > paid

        @invariant()
        def ledger_agrees_with_states(self):
            for prid, order in self.opened.items():
                paid = int(order["payToAmount"]["value"])
                entries = wallet.ledger.entries(prid)
                net = sum(e["amount"] for e in entries)
                payment = wallet.payment(prid)
                assert -paid <= net <= 0
                debits = [e for e in entries if e["kind"] == "PAYMENT"]
                assert len(debits) <= 1
                if payment.status == "DECODED":
                    assert entries == []
                if prid in self.cancelled:
                    assert payment.status == "CLOSED"
                    assert net == 0
                answer = wallet.inquiry_payment(_ids(prid))
                code = answer["paymentResult"]["resultCode"]
                expected = {
                    "DECODED": "PAYMENT_IN_PROCESS",
                    "SUCCESS": "SUCCESS",
                    "CLOSED": "ORDER_IS_CLOSED",
                    "FAILED": payment.result_code,
                }[payment.status]
                assert code == expected

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=15,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
