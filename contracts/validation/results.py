"""Domain rules on result objects: status letters as catalogued, final notifications."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contracts import catalogue
from contracts.validation.domain import Scan, domain_rule
from contracts.validation.violations import Violation


@domain_rule()
def _result_status(api: str, kind: str, message: dict[str, Any], scan: Scan) -> Iterator[Violation]:
    checks = []
    if kind == "response":
        checks.append(("result", api))
    if api in ("notifyPayment", "inquiryPayment"):
        checks.append(("paymentResult", "paymentResult"))
    for name, table in checks:
        result = message.get(name)
        if not isinstance(result, dict):
            continue
        code, status = result.get("resultCode"), result.get("resultStatus")
        if not isinstance(code, str) or status not in ("S", "F", "U"):
            continue
        try:
            known = catalogue.lookup(table, code)
        except KeyError:
            continue  # Alipay+ adds codes over time; an unknown code is not an error
        if known.status != status:
            yield Violation(
                f"/{name}/resultStatus",
                "result.status-mismatch",
                f"/{name}/resultStatus: {code} is documented with status {known.status}, "
                f"not {status}",
            )


@domain_rule(("notifyPayment", "request"))
def _notify_is_final(
    api: str, kind: str, message: dict[str, Any], scan: Scan
) -> Iterator[Violation]:
    result = message.get("paymentResult")
    if isinstance(result, dict) and result.get("resultStatus") == "U":
        yield Violation(
            "/paymentResult/resultStatus",
            "notify.final-result",
            "/paymentResult/resultStatus: notifyPayment reports only final results (S or F); "
            "a payment still in process (U) is not notified - Alipay+ will inquire",
        )


@domain_rule(("inquiryPayment", "response"))
def _inquiry_payment_result(
    api: str, kind: str, message: dict[str, Any], scan: Scan
) -> Iterator[Violation]:
    result = message.get("paymentResult")
    if (
        isinstance(result, dict)
        and result.get("resultStatus") == "U"
        and result.get("resultCode") not in (None, "PAYMENT_IN_PROCESS")
    ):
        yield Violation(
            "/paymentResult/resultCode",
            "inquiry.in-process-code",
            "/paymentResult/resultCode: a payment that is not final is reported as "
            f"U / PAYMENT_IN_PROCESS, not U / {result.get('resultCode')}",
        )
