"""The dashboard under /_sim/ui: orders and their state, one order's timeline, the journal.

Server-rendered Jinja (templates in simulator/templates/ui/), no JavaScript. Everything shown
comes from the payment engine (`sim.payments`) and the journal (`sim.journal`); bodies and
headers are untrusted and always escaped (Jinja autoescaping; nothing is marked safe).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request, url_for

from contracts import catalogue, money
from simulator import journal as journal_area
from simulator.state import current

bp = Blueprint("ui", __name__, url_prefix="/_sim/ui")

_OVERVIEW_ORDERS = 25
_OVERVIEW_PROBLEMS = 8
_RECENT_WINDOW = 200


@dataclass(frozen=True)
class Reason:
    """One reason an exchange went wrong, in words a wallet developer can act on."""

    kind: str  # signature | contract | result | http | error
    title: str
    detail: str = ""
    action: str = ""
    items: tuple[str, ...] = ()


def _catalogue_entry(api: str, code: str | None) -> Any:
    """The catalogue entry for a result code, or None for an undocumented one."""
    if not code:
        return None
    try:
        return catalogue.lookup(api, code)
    except KeyError:
        return None


def _result_message(body: str | None) -> str | None:
    """result.resultMessage from a JSON body, if there is one."""
    try:
        result = json.loads(body or "").get("result") or {}
    except (ValueError, AttributeError):
        return None
    message = result.get("resultMessage") if isinstance(result, dict) else None
    return str(message) if message else None


def _violation_lines(violations: list[dict[str, Any]]) -> tuple[str, ...]:
    lines = []
    for v in violations:
        pointer, message = v.get("pointer") or "(whole message)", v.get("message", "")
        # contracts.validate's messages usually start with the pointer already
        text = message if message.startswith(pointer) else f"{pointer}: {message}"
        lines.append(f"{text} [{v.get('rule', '')}]")
    return tuple(lines)


def short_error(error: str | None, width: int = 60) -> str:
    """The first line of an error, cut to `width` characters (for badges and headings)."""
    if not error:
        return ""
    line = error.strip().splitlines()[0] if error.strip() else error
    return line if len(line) <= width else line[: width - 1] + "…"


def explain(entry: dict[str, Any]) -> list[Reason]:
    """Why an exchange is a problem, first reason first; empty for a clean exchange."""
    inbound = entry["direction"] == "inbound"
    api, client_id, path = entry["api"], entry.get("client_id") or "?", entry["path"]
    reasons: list[Reason] = []
    time_header = "Request-Time" if inbound else "Response-Time"
    content = f"POST {path}\\n{client_id}.<{time_header}>.<body>"
    if entry["signature"] == "invalid":
        whose = f"your {api} request" if inbound else f"your wallet's answer to {api}"
        reasons.append(
            Reason(
                "signature",
                "The signature does not verify",
                f"The Signature header of {whose} does not verify with the public key registered "
                f"for clientId {client_id}.",
                f"Sign exactly the bytes you send: {content}, RSA256 (SHA256withRSA) with the "
                "private key whose public half is registered (see /_sim/participants/"
                f"{client_id}); put the URL-encoded base64 in "
                "algorithm=RSA256,keyVersion=1,signature=...",
            )
        )
    elif entry["signature"] == "missing":
        whose = f"Your {api} request" if inbound else f"Your wallet's answer to {api}"
        reasons.append(
            Reason(
                "signature",
                "The signature is missing",
                f"{whose} carries no usable Signature header.",
                f"Sign {content} and send Signature: algorithm=RSA256,keyVersion=1,signature=...",
            )
        )
    mine, theirs = (
        (entry["request_violations"], entry["response_violations"])
        if inbound
        else (entry["response_violations"], entry["request_violations"])
    )
    if mine:
        what = f"your {api} request" if inbound else f"your wallet's answer to {api}"
        reasons.append(
            Reason(
                "contract",
                f"{len(mine)} contract violation(s) in {what}",
                "Checked against the Alipay+ message schema and domain rules.",
                "Fix each field below (the pointer is a JSON Pointer into the body).",
                _violation_lines(mine),
            )
        )
    if theirs:
        reasons.append(
            Reason(
                "contract",
                f"The simulator's own {'answer' if inbound else 'request'} broke the contract",
                "This is a bug in the simulator, not in your wallet.",
                "Please report it with this journal entry.",
                _violation_lines(theirs),
            )
        )
    if entry.get("result_status") in ("F", "U"):
        code = entry.get("result_code") or "(no code)"
        known = _catalogue_entry(api, entry.get("result_code"))
        who = "Alipay+ (the simulator) answered" if inbound else "Your wallet answered"
        message = _result_message(entry.get("response_body"))
        detail = known.meaning if known else f"{code} is not a documented result code of {api}."
        if message:
            detail = f"{detail} resultMessage: {message}"
        action = known.action if known else ""
        if entry["result_status"] == "U" and not inbound:
            action = action or "Alipay+ treats U as unknown and will ask again."
        reasons.append(Reason("result", f"{who} {code} ({entry['result_status']})", detail, action))
    status = entry.get("response_status")
    if status is not None and status != 200:
        reasons.append(
            Reason(
                "http",
                f"HTTP {status}",
                "Alipay+ messages are answered with HTTP 200 and a result object; any other "
                "status is treated as an unknown outcome.",
                "Answer HTTP 200 with a result object, even for failures." if not inbound else "",
            )
        )
    error = entry.get("error")
    if error and not _already_explained(error, status):
        first_line = short_error(error)
        if inbound:
            reasons.append(
                Reason(
                    "error",
                    "The simulator failed internally (UNKNOWN_EXCEPTION)",
                    error,
                    "Retry the identical request; if it keeps failing, report this entry.",
                )
            )
        else:
            reasons.append(
                Reason(
                    "error",
                    f"Calling your wallet failed: {first_line}",
                    " ".join(
                        part
                        for part in (
                            _error_hint(error, entry.get("url") or path),
                            # the whole error, unless the heading already shows all of it
                            error if first_line != error.strip() else "",
                        )
                        if part
                    ),
                    "Alipay+ retries on its schedule; make the endpoint answer promptly with "
                    "HTTP 200 and a signed JSON object carrying a result.",
                )
            )
    if not error and status is None and entry.get("response_body") is None:
        reasons.append(Reason("http", "No answer was received"))
    return reasons


def _already_explained(error: str, status: int | None) -> bool:
    """Whether an outbound error only repeats the HTTP status or the signature verdict."""
    text = error.strip().lower()
    return (text.startswith("http ") and status not in (None, 200)) or text.endswith(
        "signature on the answer"
    )


def _error_hint(error: str, url: str) -> str:
    text = error.strip().lower()
    if text.startswith("timeout"):
        return "Your wallet did not answer within the timeout Alipay+ applies."
    if text.startswith("connection refused"):
        return f"Nothing is listening at {url}."
    if text.startswith("connection error"):
        return (
            f"The simulator could not reach {url}; check the wallet's URLs with "
            "GET /_sim/participants/<clientId>."
        )
    if "json" in text or "result object" in text:
        return "Alipay+ needs a JSON object with a result object in every answer."
    return ""


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _show_time(value: Any) -> str:
    """A time as UTC to the millisecond (times of several offsets line up when compared)."""
    parsed = value if isinstance(value, datetime) else _parse_time(value)
    if parsed is None:
        return str(value or "")
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _pretty(body: str | None) -> str:
    """A body for reading: indented if it is JSON, as received otherwise."""
    if body is None:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _amount(amount: Any) -> str:
    """{"currency": "USD", "value": "1050"} as "10.50 USD" (the value is in minor units)."""
    if not isinstance(amount, dict) or "value" not in amount:
        return ""
    currency, value = amount.get("currency", ""), amount.get("value", "")
    try:
        return money.format_major(int(value), currency)
    except (KeyError, ValueError, TypeError):
        return f"{value} {currency} (minor units)"


def _decorate(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry plus what the templates show: reasons, readable bodies, display time."""
    return {
        **entry,
        "reasons": explain(entry) if entry["problem"] else [],
        "error_short": short_error(entry.get("error"), 40),
        "shown_time": _show_time(entry["time"]),
        "request_pretty": _pretty(entry["request_body"]),
        "response_pretty": _pretty(entry.get("response_body")),
    }


def _refresh_seconds() -> int | None:
    """?refresh=N reloads the page every N seconds (2 to 3600), for watching a test run."""
    raw = request.args.get("refresh", "")
    return min(max(int(raw), 2), 3600) if raw.isdigit() else None


def _sim_context() -> dict[str, Any]:
    sim = current()
    clock = sim.clock
    args = {k: v for k, v in request.args.items() if k != "refresh"}
    refresh = _refresh_seconds()
    toggle = {} if refresh else {"refresh": 5}
    return {
        "now": _show_time(clock.now()) if clock is not None else "",
        "clock_mode": getattr(clock, "mode", "real"),
        "refresh": refresh,
        "refresh_toggle_url": url_for(
            request.endpoint, **(request.view_args or {}), **args, **toggle
        ),
    }


@bp.app_template_filter("ui_amount")
def _amount_filter(amount: Any) -> str:
    return _amount(amount)


@bp.app_template_filter("ui_utc")
def _utc_filter(value: Any) -> str:
    return _show_time(value)


@bp.get("")
@bp.get("/")
def overview():
    """Recent orders with their state, the last request's verdict, recent problems."""
    sim = current()
    # ?clientId=... narrows everything to one wallet (several can share a simulator)
    client_id = request.args.get("clientId") or None
    last_inbound, last_outbound = (
        sim.journal.latest(d, client_id=client_id) for d in ("inbound", "outbound")
    )
    problems = [
        _decorate(e)
        for e in sim.journal.query(
            client_id=client_id, problems_only=True, limit=_OVERVIEW_PROBLEMS
        )
    ]
    orders = (
        sim.payments.list(limit=_OVERVIEW_ORDERS, client_id=client_id)
        if sim.payments is not None
        else []
    )
    problem_counts = Counter(
        e["payment_request_id"]
        for e in sim.journal.query(client_id=client_id, problems_only=True, limit=_RECENT_WINDOW)
        if e.get("payment_request_id")
    )
    return render_template(
        "ui/overview.html",
        last_inbound=_decorate(last_inbound) if last_inbound else None,
        last_outbound=_decorate(last_outbound) if last_outbound else None,
        problems=problems,
        orders=orders,
        problem_counts=problem_counts,
        engine_ready=sim.payments is not None,
        client_id=client_id,
        **_sim_context(),
    )


def _timeline(view: dict[str, Any], record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """States and exchanges of one order in time order.

    At equal times the order's creation comes first and any other state change after the
    exchange that caused it (with a virtual clock, both carry the same time).
    """
    events: list[tuple[datetime, int, int, dict[str, Any]]] = []

    def state(when: Any, status: str, text: str) -> None:
        at = when if isinstance(when, datetime) else _parse_time(when)
        if at is not None:
            rank = -1 if status == "CREATED" else 1
            events.append(
                (at, rank, len(events), {"kind": "state", "status": status, "text": text})
            )

    record = record or {}
    state(record.get("created") or view.get("createdTime"), "CREATED", "Order created")
    if record.get("decoded_at"):
        state(record["decoded_at"], "DECODED", "Order code decoded by the wallet")
    final_at = record.get("final_at")
    status = view.get("status")
    if status in ("SUCCESS", "FAILED", "CLOSED"):
        source = record.get("final_source")
        text = {
            "SUCCESS": "Payment succeeded",
            "FAILED": "Payment failed",
            "CLOSED": f"Order closed: {view.get('closeReason') or 'closed'}",
        }[status]
        if source:
            text = f"{text} (learned from {source})"
        state(final_at or (view.get("paymentTime") if status == "SUCCESS" else None), status, text)
    for refund in view.get("refunds") or []:
        state(
            refund.get("createdTime"),
            "REFUND",
            f"Merchant asked for refund {refund.get('refundRequestId')} of "
            f"{_amount(refund.get('refundAmount'))}",
        )
    for entry in view.get("exchanges") or []:
        at = _parse_time(entry["time"])
        if at is not None:
            events.append((at, 0, entry["id"], {"kind": "exchange", "entry": _decorate(entry)}))
    events.sort(key=lambda item: (item[0], item[1], item[2]))
    start = events[0][0] if events else None
    timeline = []
    for at, _, _, event in events:
        event["shown_time"] = _show_time(at)
        event["offset"] = f"+{(at - start).total_seconds():.1f} s" if start else ""
        timeline.append(event)
    return timeline


@bp.get("/payments/<payment_request_id>")
def payment(payment_request_id: str):
    """One order: its state, amounts, and the timeline of states and exchanges."""
    sim = current()
    view = sim.payments.get_view(payment_request_id) if sim.payments is not None else None
    if view is None:
        return render_template(
            "ui/not_found.html",
            what=f"No payment {payment_request_id}",
            hint="It may never have existed, or the simulator was reset.",
            **_sim_context(),
        ), 404
    get_record = getattr(sim.payments, "get_record", None)
    record = get_record(payment_request_id) if get_record else None
    timeline = _timeline(view, record)
    problems = sum(1 for e in timeline if e["kind"] == "exchange" and e["entry"]["problem"])
    return render_template(
        "ui/payment.html",
        view=view,
        timeline=timeline,
        problems=problems,
        view_json=json.dumps(
            {k: v for k, v in view.items() if k != "exchanges"}, indent=2, ensure_ascii=False
        ),
        **_sim_context(),
    )


@bp.get("/journal")
def journal_page():
    """The journal as a table, filterable like GET /_sim/journal, problems highlighted."""
    sim = current()
    try:
        params = journal_area.parse_query({k: v for k, v in request.args.items() if k != "refresh"})
    except journal_area.BadQuery as exc:
        return render_template(
            "ui/journal.html",
            entries=[],
            next_before=None,
            error=str(exc),
            args=request.args,
            apis=_known_apis(),
            **_sim_context(),
        ), 400
    entries, next_before = journal_area.page(sim.journal, params)
    return render_template(
        "ui/journal.html",
        entries=[_decorate(e) for e in entries],
        next_before=next_before,
        error=None,
        args=request.args,
        apis=_known_apis(),
        **_sim_context(),
    )


@bp.get("/journal/<int:entry_id>")
def journal_entry(entry_id: int):
    """One exchange in full: headers, bodies, verdicts and what to do about them."""
    entry = current().journal.get(entry_id)
    if entry is None:
        return render_template(
            "ui/not_found.html",
            what=f"No journal entry {entry_id}",
            hint="The journal keeps only the newest entries, and a reset clears it.",
            **_sim_context(),
        ), 404
    return render_template("ui/entry.html", entry=_decorate(entry), **_sim_context())


def _rule_from_form(form: Any) -> dict[str, Any]:
    """The rule JSON of the faults page's form (RuleError if it does not make one)."""
    from simulator import faults

    api = form.get("api", "")
    rule: dict[str, Any] = {
        "api": api,
        "direction": "outbound" if api in faults.OUTBOUND_APIS else "inbound",
    }
    if form.get("clientId", "").strip():
        rule["clientId"] = form["clientId"].strip()
    match: dict[str, str] = {}
    for line in form.get("match", "").splitlines():
        if line.strip():
            name, sep, value = line.partition("=")
            if not sep:
                raise faults.RuleError(f"match line {line.strip()!r} is not field=value")
            match[name.strip()] = value.strip()
    if match:
        rule["match"] = match
    effect: dict[str, Any] = {"kind": form.get("kind", "")}
    if form.get("params", "").strip():
        try:
            extra = json.loads(form["params"])
        except ValueError:
            raise faults.RuleError("parameters must be a JSON object") from None
        if not isinstance(extra, dict):
            raise faults.RuleError("parameters must be a JSON object")
        effect.update(extra)
    if form.get("result", "").strip():
        status, _, code = form["result"].strip().rpartition("/")
        effect["resultCode"] = code
        if status:
            effect["resultStatus"] = status
    rule["effect"] = effect
    for name, cast in (("times", int), ("probability", float)):
        raw = form.get(name, "").strip()
        if raw:
            try:
                rule[name] = cast(raw)
            except ValueError:
                raise faults.RuleError(f"{name} must be a number") from None
    return rule


@bp.route("/faults", methods=["GET", "POST"])
def faults_page():
    """Add and remove injection rules; the rules with fire counts; effects; magic values."""
    from contracts import magic
    from simulator import faults

    sim = current()
    error = message = None
    status = 200
    form: dict[str, str] = {}
    if request.method == "POST":
        form = request.form.to_dict()
        action = form.get("action")
        try:
            if action == "add":
                added = sim.faults.add(_rule_from_form(form))
                message, form = f"rule {added['id']} added: {faults.describe(added['effect'])}", {}
            elif action == "delete" and form.get("id", "").isdigit():
                gone = sim.faults.delete(int(form["id"]))
                message = f"rule {form['id']} removed" if gone else f"no rule {form['id']}"
            elif action == "clear":
                message = f"{sim.faults.clear()} rule(s) removed"
            else:
                raise faults.RuleError("unknown action")
        except faults.RuleError as exc:
            error, status = str(exc), 400
    rules = [{**rule, "effect_text": faults.describe(rule["effect"])} for rule in sim.faults.list()]
    magic_values = [
        {
            "api": v.api,
            "field": v.field,
            "value": v.value,
            "text": faults.describe(v.effect),
        }
        for v in magic.values()
    ]
    effects = [
        {"kind": k.name, "directions": k.directions, "apis": k.apis, "doc": k.doc}
        for k in faults.EFFECTS.values()
    ]
    page = render_template(
        "qa/faults.html",
        rules=rules,
        effects=effects,
        magic=magic.table(),
        magic_values=magic_values,
        apis=list(faults.INBOUND_APIS + faults.OUTBOUND_APIS),
        form=form,
        error=error,
        message=message,
        **_sim_context(),
    )
    return page, status


@bp.get("/report")
def report_page():
    """What the wallet did about the results and faults it was shown (simulator.report)."""
    from simulator import report

    sim = current()
    client_id = request.args.get("clientId") or None
    return render_template(
        "qa/report.html",
        report=report.build(sim, client_id),
        client_id=client_id or "",
        participants=sim.keys.participants() if sim.keys is not None else [],
        **_sim_context(),
    )


def _known_apis() -> list[str]:
    return [api for api in catalogue.apis() if api != "paymentResult"]


def init_app(app):
    """Register the dashboard."""
    app.register_blueprint(bp)
