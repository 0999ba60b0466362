"""What the wallet did about the results and faults it was shown: GET /_sim/report.

Served as JSON at GET /_sim/report (simulator/control/report.py) and as a page at
/_sim/ui/report (simulator/ui/).

Derived from the journal only. For the calls a wallet makes, exchanges are grouped by the
call's idempotency key (codeValue for userInitiatedPay, paymentRequestId for notifyPayment, the
wallet itself for inquiryCodeRules); every answer that was not a plain success (an F or U
result, or an injected fault) is an *exposure*, judged by what the wallet sent next with the
same key:

- after an unknown outcome (U, timeout, dropped or broken answer, 5xx, bad signature): the
  identical request again is good; a changed body is bad; silence on notifyPayment means the
  final result was never reported (bad), on the other APIs the wallet gave up (a warning);
- after an F: stopping is good; sending the same key again is bad.

For the simulator's own calls to the wallet (inquiryPayment, cancelPayment, refund) the report
counts what the wallet answered. This is the first piece of the conformance report.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any

INBOUND_KEYS = {
    "userInitiatedPay": "codeValue",
    "notifyPayment": "paymentRequestId",
    "inquiryCodeRules": None,  # no key: every call of the wallet is the same request
}
# Effects after which the wallet cannot know the outcome (it must retry identically or ask).
UNKNOWN_EFFECTS = {
    "commit_then_result",
    "commit_then_drop",
    "drop",
    "delay",
    "reset",
    "malformed",
    "http_error",
    "bad_signature",
    "no_signature",
    "stale_time",
}
VERDICTS = {
    "retried identically": "good",
    "retried with a changed body": "bad",
    "stopped": "good",
    "kept retrying an F": "bad",
    "never reported a final result": "bad",
    "gave up after an unknown outcome": "warning",
    "answered": "info",
}
_INJECTED = re.compile(
    r"^injected: (?P<source>rule \d+|magic \S+ \S+|header \S+) (?P<kind>\w+)"
    r"(?: (?P<status>[SFU])/(?P<code>\w+))?"
)


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def exposure(entry: dict[str, Any]) -> dict[str, Any] | None:
    """What a wallet was shown by one inbound exchange, if it was not a plain success.

    {"shown": "U UNKNOWN_EXCEPTION" | "fault drop" | ..., "class": "unknown" | "F",
     "injected": "rule 3" | None}
    """
    injected = _INJECTED.match(entry.get("note") or "")
    if injected:
        kind = injected["kind"]
        if kind in ("result", "commit_then_result"):
            status, code = injected["status"], injected["code"]
            if status == "S":
                return None
            label = f"{status} {code}" + (" (committed)" if kind == "commit_then_result" else "")
            return {
                "shown": label,
                "class": "F" if status == "F" else "unknown",
                "injected": injected["source"],
            }
        return {"shown": f"fault {kind}", "class": "unknown", "injected": injected["source"]}
    status = entry.get("result_status")
    if status in ("F", "U"):
        return {
            "shown": f"{status} {entry.get('result_code')}",
            "class": status if status == "F" else "unknown",
            "injected": None,
        }
    return None


def _key(api: str, entry: dict[str, Any]) -> str:
    field = INBOUND_KEYS.get(api)
    if field is None:
        return entry.get("client_id") or ""
    body = _json(entry.get("request_body"))
    value = body.get(field) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def _then(api: str, shown: dict[str, Any], current_body: Any, following: Any) -> str:
    if shown["class"] == "F":
        return "stopped" if following is None else "kept retrying an F"
    if following is None:
        if api == "notifyPayment":
            return "never reported a final result"
        return "gave up after an unknown outcome"
    return (
        "retried identically"
        if _json(following["request_body"]) == current_body
        else "retried with a changed body"
    )


def build(sim: Any, client_id: str | None = None, limit: int = 10_000) -> dict[str, Any]:
    """The report for one wallet (or every wallet), from the newest `limit` journal entries."""
    entries = sorted(sim.journal.query(client_id=client_id, limit=limit), key=lambda e: e["id"])
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    outbound: dict[str, Counter[str]] = defaultdict(Counter)
    outbound_injected: dict[str, Counter[str]] = defaultdict(Counter)
    calls: Counter[str] = Counter()
    for entry in entries:
        api = entry["api"]
        calls[api] += 1
        if entry["direction"] == "inbound" and api in INBOUND_KEYS:
            groups[(api, _key(api, entry))].append(entry)
        elif entry["direction"] == "outbound":
            if entry.get("error"):
                answer = f"no answer: {entry['error'].splitlines()[0][:60]}"
            else:
                answer = f"{entry.get('result_status')} {entry.get('result_code')}"
            outbound[api][answer] += 1
            injected = _INJECTED.match(entry.get("note") or "")
            if injected:
                outbound_injected[api][f"{injected['kind']} -> {answer}"] += 1
    apis: dict[str, Any] = {}
    findings: list[dict[str, Any]] = []
    for (api, key), group in groups.items():
        view = apis.setdefault(api, {"calls": 0, "exposures": {}})
        for index, entry in enumerate(group):
            shown = exposure(entry)
            if shown is None:
                continue
            following = group[index + 1] if index + 1 < len(group) else None
            if shown["shown"] == "fault delay" and following is None:
                continue  # answered late, but no retry: the answer arrived in time
            then = _then(api, shown, _json(entry["request_body"]), following)
            verdict = VERDICTS[then]
            slot = view["exposures"].setdefault(shown["shown"], Counter())
            slot[then] += 1
            findings.append(
                {
                    "api": api,
                    "key": key,
                    "shown": shown["shown"],
                    "injected": shown["injected"],
                    "then": then,
                    "verdict": verdict,
                    "journalIds": [entry["id"]] + ([following["id"]] if following else []),
                }
            )
    for api, view in apis.items():
        view["calls"] = calls[api]
        view["exposures"] = {
            shown: [
                {"then": then, "verdict": VERDICTS[then], "count": count}
                for then, count in sorted(counter.items())
            ]
            for shown, counter in sorted(view["exposures"].items())
        }
    for api, answers in outbound.items():
        apis[api] = {
            "calls": calls[api],
            "direction": "outbound",
            "walletAnswers": dict(sorted(answers.items())),
            "injected": dict(sorted(outbound_injected[api].items())),
        }
    decoded_seen = {
        entry["payment_request_id"]
        for entry in entries
        if entry["api"] == "userInitiatedPay"
        and entry["direction"] == "inbound"
        and entry.get("result_status") == "S"
        and exposure(entry) is None
    }
    payments = _payments(sim, client_id, decoded_seen)
    for item in payments["neverReported"]:
        findings.append(
            {
                "api": "notifyPayment",
                "key": item,
                "shown": "a decoded payment",
                "injected": None,
                "then": "never reported a final result",
                "verdict": "bad",
                "journalIds": [],
            }
        )
    summary = Counter(f["verdict"] for f in findings)
    return {
        "clientId": client_id,
        "entries": len(entries),
        "summary": {name: summary.get(name, 0) for name in ("good", "bad", "warning")},
        "apis": dict(sorted(apis.items())),
        "payments": payments["counts"],
        "findings": findings,
    }


def _payments(sim: Any, client_id: str | None, decoded_seen: set[str]) -> dict[str, Any]:
    """How each decoded payment's final result reached Alipay+ (or did not).

    A payment whose decode answer the wallet received (`decoded_seen`) but that closed without
    a notifyPayment or a final inquiryPayment answer: the wallet never reported its result
    (bad). If the wallet never learned of the decode (every answer lost), it had nothing to
    report: that shows as the decode's own exposure.
    """
    from sqlalchemy import select

    from simulator.db import read
    from simulator.payments import payments_table

    table = payments_table
    stmt = select(
        table.c.payment_request_id,
        table.c.status,
        table.c.final_source,
        table.c.notify_json,
        table.c.decoded_at,
    ).where(table.c.decoded_at.is_not(None))
    if client_id:
        stmt = stmt.where(table.c.client_id == client_id)
    with read(sim.engine) as conn:
        rows = conn.execute(stmt).all()
    counts: Counter[str] = Counter()
    never: list[str] = []
    for row in rows:
        if row.notify_json is not None:
            counts["reported by notifyPayment"] += 1
        elif row.final_source == "inquiryPayment":
            counts["learned by inquiryPayment"] += 1
        elif row.status in ("CREATED", "DECODED"):
            counts["still open"] += 1
        elif row.payment_request_id not in decoded_seen:
            counts["closed, the wallet never got the decode answer"] += 1
        else:
            counts["never reported (closed without a result)"] += 1
            never.append(row.payment_request_id)
    return {"counts": dict(sorted(counts.items())), "neverReported": never}


def render_text(report: dict[str, Any]) -> str:
    """The report as plain text (for the CLI and the bench script)."""
    lines = [
        f"conformance report for {report['clientId'] or 'every wallet'} "
        f"({report['entries']} exchanges): "
        + ", ".join(f"{count} {name}" for name, count in report["summary"].items())
    ]
    if report.get("payments"):
        lines.append(
            "decoded payments: "
            + ", ".join(f"{count} {name}" for name, count in report["payments"].items())
        )
    for api, view in report["apis"].items():
        lines.append(f"\n{api} ({view['calls']} calls)")
        for shown, outcomes in view.get("exposures", {}).items():
            for outcome in outcomes:
                lines.append(
                    f"  shown {shown:<38} then {outcome['then']:<32} x{outcome['count']:<3} "
                    f"{outcome['verdict'].upper()}"
                )
        for answer, count in view.get("walletAnswers", {}).items():
            lines.append(f"  wallet answered {answer:<44} x{count}")
        for what, count in view.get("injected", {}).items():
            lines.append(f"  injected {what:<51} x{count}")
    return "\n".join(lines)
