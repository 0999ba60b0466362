"""Each deliberate defect (mpp_reference/defects.py) changes exactly the behaviour it names,
and without it the wallet is correct: every test runs the same story on a clean wallet and on
the broken one and asserts the difference a harness would see."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contracts import signing, validate
from mpp_reference.config import WalletConfig
from mpp_reference.defects import DEFECTS, active

INQUIRY = "/aps/api/v1/payments/inquiryPayment"
CANCEL = "/aps/api/v1/payments/cancelPayment"
REFUND = "/aps/api/v1/payments/refund"
SOURCE = Path(__file__).resolve().parents[2] / "mpp_reference"


def _ids(prid: str) -> dict[str, str]:
    return {
        "acquirerId": "1022188000000000001",
        "pspId": "1022172000000000001",
        "paymentRequestId": prid,
    }


def _pay(env, **order) -> dict:
    placed = env.alipay.add_order(**order)
    return env.driver(placed["codeValue"], env.rich_user(), "confirm")


def _call(env, path: str, body: dict):
    answer = env.alipay.signed_call(env.client, path, body)
    assert answer.status_code == 200
    return answer


def _refund_body(state: dict, rrid: str, value: int, from_value: int) -> dict:
    return {
        **_ids(state["paymentRequestId"]),
        "paymentId": state["paymentId"],
        "refundRequestId": rrid,
        "refundAmount": {"currency": "JPY", "value": str(value)},
        "refundFromAmount": {"currency": "KRW", "value": str(from_value)},
    }


def _notify_retry(env) -> list[dict]:
    """A paid order whose first notification is answered U, then the outbox's next round."""
    env.alipay.script["notifyPayment"] = ["UNKNOWN_EXCEPTION"]
    _pay(env)
    env.clock.advance(10)
    env.wallet.outbox.run_due()
    return [sent["body"] for sent in env.alipay.received["notifyPayment"]]


# -- the registry -----------------------------------------------------------------------------


def test_at_least_14_defects_each_marked_in_the_code_and_tested_here():
    assert len(DEFECTS) >= 14
    code = "\n".join(p.read_text() for p in SOURCE.glob("*.py"))
    marked = set(re.findall(r"# DEFECT: ([a-z_]+(?: / [a-z_]+)*)", code))
    names = {name for mark in marked for name in mark.split(" / ")}
    assert names == set(DEFECTS), "every defect has a marked deviation point, and only those"
    here = Path(__file__).read_text()
    for name in DEFECTS:
        assert f'"{name}"' in here.split("# -- the defects", 1)[1], f"no test for {name}"


def test_defect_comes_from_config_or_env(monkeypatch):
    monkeypatch.setenv("APLUS_MPP_DEFECT", "unsigned_answers")
    config = WalletConfig.from_any({})
    assert active(config, "unsigned_answers") and not active(config, "refund_above_paid")
    assert WalletConfig.from_any({"defect": "refund_above_paid"}).defect == "refund_above_paid"
    monkeypatch.delenv("APLUS_MPP_DEFECT")
    assert WalletConfig.from_any({}).defect == ""
    with pytest.raises(ValueError, match="unknown defect nope"):
        WalletConfig.from_any({"defect": "nope"})


def test_cli_lists_the_defects_and_refuses_unknown_ones():
    listing = subprocess.run(
        [sys.executable, "-m", "mpp_reference", "--defect", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == list(DEFECTS)
    wrong = subprocess.run(
        [sys.executable, "-m", "mpp_reference", "--defect", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 2
    assert "unknown defect nope" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_health_says_when_a_defect_is_on(make_env):
    assert make_env().client.get("/_mpp/health").get_json()["defect"] is None
    broken = make_env(defect="refund_above_paid")
    assert broken.client.get("/_mpp/health").get_json()["defect"] == "refund_above_paid"


# -- the defects ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["no_retry_on_u", "u_treated_as_f"])
def test_decode_answered_u_is_not_retried(make_env, name):
    for defect, attempts, status in (("", 2, "SUCCESS"), (name, 1, "DECODE_FAILED")):
        env = make_env(defect=defect)
        env.alipay.script["userInitiatedPay"] = ["UNKNOWN_EXCEPTION"]
        order = env.alipay.add_order()
        state = env.driver(order["codeValue"], env.rich_user())
        assert len(env.alipay.received["userInitiatedPay"]) == attempts
        assert state["status"] == status


def test_retry_changed_body(make_env):
    first, again = _notify_retry(make_env())
    assert again == first
    first, again = _notify_retry(make_env(defect="retry_changed_body"))
    assert again["paymentId"] != first["paymentId"]
    assert again["paymentResult"] == first["paymentResult"]


def test_notify_never_retried(make_env):
    assert len(_notify_retry(make_env())) == 2
    env = make_env(defect="notify_never_retried")
    assert len(_notify_retry(env)) == 1
    env.clock.advance(3600)
    assert env.wallet.outbox.run_due() == 0


def test_notify_retry_other_result(make_env):
    first, again = _notify_retry(make_env())
    assert again["paymentResult"]["resultStatus"] == first["paymentResult"]["resultStatus"] == "S"
    first, again = _notify_retry(make_env(defect="notify_retry_other_result"))
    assert first["paymentResult"]["resultStatus"] == "S"
    assert again["paymentResult"]["resultStatus"] == "F"


def test_u_treated_as_f_gives_up_a_notification_and_reverses_the_debit(make_env):
    for defect in ("", "u_treated_as_f"):
        env = make_env(defect=defect)
        user = env.rich_user()
        before = env.balance(user)
        sent = _notify_retry(env)
        state = env.client.get(
            f"/_mpp/payments/{env.alipay.received['notifyPayment'][0]['body']['paymentRequestId']}"
        ).get_json()
        inquiry = _call(env, INQUIRY, _ids(state["paymentRequestId"])).get_json()
        if defect:
            assert len(sent) == 1 and env.balance(user) == before
            assert inquiry["paymentResult"]["resultStatus"] == "F"
        else:
            assert len(sent) == 2 and env.balance(user) == before - 9050
            assert inquiry["paymentResult"]["resultCode"] == "SUCCESS"


def test_inquiry_success_unknown_id(make_env):
    clean = _call(make_env(), INQUIRY, _ids("NEVER-SEEN-1")).get_json()
    assert clean["result"]["resultCode"] == "ORDER_NOT_EXIST"
    broken = _call(make_env(defect="inquiry_success_unknown_id"), INQUIRY, _ids("NEVER-SEEN-1"))
    assert broken.get_json()["paymentResult"]["resultCode"] == "SUCCESS"


def test_skip_signature_verification(make_env):
    for defect, code in (("", "INVALID_SIGNATURE"), ("skip_signature_verification", "SUCCESS")):
        env = make_env(defect=defect)
        raw = json.dumps(_ids("X1")).encode()
        headers = signing.signed_request_headers(
            signing.generate_private_key(), env.alipay.client_id, CANCEL, raw, env.clock.now()
        )
        answer = env.client.post(CANCEL, data=raw, headers=headers).get_json()
        assert answer["result"]["resultCode"] == code


def test_unsigned_answers(make_env):
    clean = _call(make_env(), INQUIRY, _ids("X1"))
    assert "signature" in {name.lower() for name, _ in clean.headers.items()}
    broken = _call(make_env(defect="unsigned_answers"), INQUIRY, _ids("X1"))
    assert "signature" not in {name.lower() for name, _ in broken.headers.items()}


def test_bad_answer_signature(make_env):
    env = make_env()
    assert env.alipay.verify_answer(INQUIRY, _call(env, INQUIRY, _ids("X1")))
    env = make_env(defect="bad_answer_signature")
    assert not env.alipay.verify_answer(INQUIRY, _call(env, INQUIRY, _ids("X1")))


def test_answer_schema_violation(make_env):
    for defect, valid in (("", True), ("answer_schema_violation", False)):
        env = make_env(defect=defect)
        state = _pay(env)
        answer = _call(env, INQUIRY, _ids(state["paymentRequestId"])).get_json()
        assert (validate("inquiryPayment", "response", answer) == []) is valid


def test_cancel_not_idempotent(make_env):
    for defect, credits in (("", 1), ("cancel_not_idempotent", 2)):
        env = make_env(defect=defect)
        user = env.rich_user()
        before = env.balance(user)
        state = _pay(env)
        for _ in range(2):
            answer = _call(env, CANCEL, _ids(state["paymentRequestId"])).get_json()
            assert answer["result"]["resultStatus"] == "S"
        assert env.balance(user) == before - 9050 + credits * 9050


def test_refund_above_paid(make_env):
    for defect, code in (("", "REFUND_AMOUNT_EXCEED"), ("refund_above_paid", "SUCCESS")):
        env = make_env(defect=defect)
        state = _pay(env)
        body = _refund_body(state, "R-1", 1001, 9051)
        assert _call(env, REFUND, body).get_json()["result"]["resultCode"] == code


def test_refund_replay_twice(make_env):
    for defect in ("", "refund_replay_twice"):
        env = make_env(defect=defect)
        user = env.rich_user()
        state = _pay(env)
        paid = env.balance(user)
        body = _refund_body(state, "R-1", 100, 905)
        first = _call(env, REFUND, body).get_json()
        again = _call(env, REFUND, body).get_json()
        if defect:
            assert again["refundId"] != first["refundId"]
            assert env.balance(user) == paid + 2 * 905
        else:
            assert again == first
            assert env.balance(user) == paid + 905


def test_pays_after_expiry(make_env):
    for defect, status in (("", "CLOSED"), ("pays_after_expiry", "SUCCESS")):
        env = make_env(defect=defect)
        user = env.rich_user()
        before = env.balance(user)
        order = env.alipay.add_order(expiry_seconds=60)
        env.driver(order["codeValue"], user, "abandon")
        env.clock.advance(61)
        state = env.driver(order["codeValue"], user, "confirm")
        assert state["status"] == status
        assert env.balance(user) == (before if not defect else before - 9050)


def test_notify_wrong_amount(make_env):
    for defect, value in (("", "9050"), ("notify_wrong_amount", "9051")):
        env = make_env(defect=defect)
        _pay(env)
        assert env.alipay.received["notifyPayment"][0]["body"]["payToAmount"]["value"] == value


def test_inquiry_disagrees(make_env):
    for defect, code in (("", "SUCCESS"), ("inquiry_disagrees", "PROCESS_FAIL")):
        env = make_env(defect=defect)
        state = _pay(env)
        notified = env.alipay.received["notifyPayment"][0]["body"]["paymentResult"]
        assert notified["resultCode"] == "SUCCESS"
        answer = _call(env, INQUIRY, _ids(state["paymentRequestId"])).get_json()
        assert answer["paymentResult"]["resultCode"] == code
