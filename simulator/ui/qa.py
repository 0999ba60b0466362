"""The tester's pages: injection rules (/_sim/ui/faults) and the report (/_sim/ui/report)."""

from __future__ import annotations

import json
from typing import Any

from flask import render_template, request

from contracts import magic
from simulator import faults, report
from simulator.state import current
from simulator.ui.common import bp, sim_context


def _rule_from_form(form: Any) -> dict[str, Any]:
    """The rule JSON of the faults page's form (RuleError if it does not make one)."""
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
        **sim_context(),
    )
    return page, status


@bp.get("/report")
def report_page():
    """What the wallet did about the results and faults it was shown (simulator.report)."""
    sim = current()
    client_id = request.args.get("clientId") or None
    return render_template(
        "qa/report.html",
        report=report.build(sim, client_id),
        client_id=client_id or "",
        participants=sim.keys.participants() if sim.keys is not None else [],
        **sim_context(),
    )
