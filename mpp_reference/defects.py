"""Deliberate mistakes the reference wallet can make on request, to mutation-test a harness.

`python -m mpp_reference --defect NAME` (or `APLUS_MPP_DEFECT=NAME`, or the config field
`defect`; several names may be given, comma-separated) switches one on. Each is a small
deviation at the places marked `# DEFECT: <name>` in the code; without a defect the wallet is
correct. `aplus-sim verify` must catch every one of them.
"""

from __future__ import annotations

from typing import Any

DEFECTS: dict[str, str] = {
    "no_retry_on_u": "userInitiatedPay answered U (or not answered) is not sent again",
    "retry_changed_body": "a resent notifyPayment carries a new paymentId and paymentTime",
    "notify_never_retried": "notifyPayment answered U (or not answered) is never sent again",
    "notify_retry_other_result": "a resent notifyPayment reports the opposite result (S <-> F)",
    "inquiry_success_unknown_id": "inquiryPayment answers SUCCESS for an id the wallet never saw",
    "skip_signature_verification": "requests from Alipay+ are accepted without checking the signature",
    "unsigned_answers": "answers to inquiryPayment/cancelPayment/refund carry no signature header",
    "cancel_not_idempotent": "every repeated cancelPayment gives the money back again",
    "refund_above_paid": "refunds adding up to more than was paid are accepted",
    "refund_replay_twice": "a replayed refundRequestId refunds again, with a new refundId",
    "pays_after_expiry": "the user can pay after paymentExpiryTime",
    "notify_wrong_amount": "notifyPayment reports a payToAmount one minor unit above the decoded one",
    "u_treated_as_f": "a U or missing answer is final: decode stops, notify gives up and reverses",
    "inquiry_disagrees": "inquiryPayment answers another result than the one notified",
    "bad_answer_signature": "answers are signed over a wrong request path",
    "answer_schema_violation": "inquiryPayment answers amounts with a number value, not a string",
}


def parse(value: Any) -> frozenset[str]:
    """The defect names in a config value ('' or None: none); unknown names raise ValueError."""
    if not value:
        return frozenset()
    names = value.split(",") if isinstance(value, str) else list(value)
    chosen = frozenset(name.strip() for name in names if name and name.strip())
    unknown = sorted(chosen - DEFECTS.keys())
    if unknown:
        raise ValueError(f"unknown defect {', '.join(unknown)}; known: {', '.join(DEFECTS)}")
    return chosen


def active(config: Any, name: str) -> bool:
    """Whether the wallet built from `config` makes the mistake `name`."""
    if name not in DEFECTS:
        raise KeyError(f"no defect {name!r}")
    return name in parse(getattr(config, "defect", ""))


def listing() -> str:
    """`--defect list`: one line per defect."""
    width = max(len(name) for name in DEFECTS)
    return "\n".join(f"{name:<{width}}  {text}" for name, text in DEFECTS.items())
