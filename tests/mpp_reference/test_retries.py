"""The retry discipline: decode answered U or not at all, and the notifyPayment outbox."""

from __future__ import annotations

import json


def test_decode_answered_u_twice_then_s_debits_exactly_once(env):
    order = env.alipay.add_order()
    env.alipay.script["userInitiatedPay"] += ["UNKNOWN_EXCEPTION", "garbage"]
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["status"] == "SUCCESS"
    sent = env.alipay.received["userInitiatedPay"]
    assert len(sent) == 3
    assert sent[0]["raw"] == sent[1]["raw"] == sent[2]["raw"]  # the identical request
    assert env.clock.sleeps[:2] == [0.5, 1.0]  # back-off between attempts
    assert env.balance(user) == before - 9050
    assert len(env.wallet.ledger.entries(order["paymentRequestId"])) == 1


def test_decode_never_answered_gives_up_without_charging(env):
    order = env.alipay.add_order()
    env.alipay.script["userInitiatedPay"] += ["UNKNOWN_EXCEPTION"] * 4
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["problem"]["code"] == "UNKNOWN_EXCEPTION"
    assert state["attempts"] == 4
    assert env.balance(user) == before
    # The user tries again later: same code, same customer, decoded and paid once.
    assert env.driver(order["codeValue"], user)["status"] == "SUCCESS"
    assert env.balance(user) == before - 9050


def test_decode_timeout_is_an_unknown_outcome_and_is_retried(env):
    order = env.alipay.add_order()
    env.wallet.config.decode_timeout = 0.2  # the stub answers after 0.5 s
    env.alipay.script["userInitiatedPay"].append("slow")
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["status"] == "SUCCESS"
    sent = env.alipay.received["userInitiatedPay"]
    assert len(sent) == 2 and sent[0]["raw"] == sent[1]["raw"]
    assert env.balance(user) == before - 9050


def test_unsigned_success_is_not_trusted(env):
    order = env.alipay.add_order()
    env.alipay.script["userInitiatedPay"].append("unsigned-S")
    state = env.driver(order["codeValue"], env.rich_user())
    assert state["status"] == "SUCCESS"
    assert len(env.alipay.received["userInitiatedPay"]) == 2


def test_notify_answered_u_is_resent_identically_until_s(env):
    order = env.alipay.add_order()
    env.alipay.script["notifyPayment"] += ["UNKNOWN_EXCEPTION", "garbage"]
    user = env.rich_user()
    before = env.balance(user)
    state = env.driver(order["codeValue"], user)
    assert state["status"] == "SUCCESS"
    assert state["notification"]["status"] == "PENDING"
    assert env.wallet.outbox.run_due() == 0  # not due yet: back-off
    env.clock.advance(5)
    assert env.wallet.outbox.run_due() == 1
    assert env.wallet.outbox.get(order["paymentRequestId"])["status"] == "PENDING"
    env.clock.advance(30)
    assert env.wallet.outbox.run_due() == 1
    note = env.wallet.outbox.get(order["paymentRequestId"])
    assert note["status"] == "DONE"
    assert note["attempts"] == 3
    sent = env.alipay.received["notifyPayment"]
    assert len(sent) == 3
    assert sent[0]["raw"] == sent[1]["raw"] == sent[2]["raw"]
    assert json.loads(sent[0]["raw"])["paymentId"] == state["paymentId"]
    assert env.balance(user) == before - 9050
    assert len(env.wallet.ledger.entries(order["paymentRequestId"])) == 1


def test_notify_refused_with_f_is_kept_for_a_human(env):
    order = env.alipay.add_order()
    env.alipay.script["notifyPayment"].append("REPEAT_REQ_INCONSISTENT")
    env.driver(order["codeValue"], env.rich_user())
    note = env.wallet.outbox.get(order["paymentRequestId"])
    assert note["status"] == "FAILED"
    assert "REPEAT_REQ_INCONSISTENT" in note["last_outcome"]
    env.clock.advance(3600)
    assert env.wallet.outbox.run_due() == 0
    home = env.client.get("/").get_data(as_text=True)
    assert "need a human" in home and order["paymentRequestId"] in home


def test_outbox_survives_a_restart(env, tmp_path):
    from mpp_reference import create_app

    order = env.alipay.add_order()
    env.alipay.script["notifyPayment"].append("UNKNOWN_EXCEPTION")
    env.driver(order["codeValue"], env.rich_user())
    cfg = env.wallet.config
    again = create_app(
        {
            "data_dir": cfg.data_dir,
            "alipay_url": cfg.alipay_url,
            "alipay_public_key": env.alipay.public_key_base64,
            "run_outbox": False,
            "users_file": cfg.users_file,
        },
        clock=env.clock,
    ).extensions["mpp_reference"]
    env.clock.advance(5)
    assert again.outbox.run_due() == 1
    assert again.outbox.get(order["paymentRequestId"])["status"] == "DONE"
    sent = env.alipay.received["notifyPayment"]
    assert sent[0]["raw"] == sent[1]["raw"]
