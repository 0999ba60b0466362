"""The control plane under /_sim/: health, reset, participants, orders, payments, keys, rules.

Plain JSON (not the Alipay+ protocol): bad input answers HTTP 400 `{"error", "code"}`, an
unknown id 404 `{"error"}`. It is not journaled (the journal records protocol exchanges only).
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, jsonify, request

import simulator
from simulator import faults
from simulator.control_io import control_error, request_json
from simulator.db import metadata
from simulator.keys import ParticipantError
from simulator.payments import OrderError
from simulator.state import current

bp = Blueprint("control", __name__, url_prefix="/_sim")

# Tables a reset keeps: registered wallets (unless asked) and the virtual clock's time.
# The seed (POST /_sim/seed) is kept too, its draws counted from 0 again: after a reset the
# same scenario gets the same ids.
KEPT_BY_RESET = {"participants", "sim_clock", "sim_seed"}


@bp.get("/health")
def health():
    """Liveness, version and the storage in use."""
    sim = current()
    return jsonify(
        {
            "status": "ok",
            "version": simulator.__version__,
            "storage": sim.engine.url.render_as_string(hide_password=True),
            "clock": sim.config.clock,
            "defaultClientId": sim.config.default_client_id,
        }
    )


@bp.post("/reset")
def reset():
    """Wipe payments, journal, jobs and rules; keep keys and participants unless told.

    `?clientId=` wipes only that wallet's payments, refunds, jobs, journal entries and rules.
    """
    sim = current()
    try:
        body = request_json()
    except ValueError as exc:
        return control_error(str(exc))
    client_id = request.args.get("clientId")
    if client_id:
        if sim.keys.participant(client_id) is None:
            return control_error(f"no participant {client_id!r}", 404)
        deleted = faults.reset_client(sim, client_id)
        return jsonify({"status": "reset", "clientId": client_id, "deleted": deleted})
    wipe_participants = bool(isinstance(body, dict) and body.get("participants"))
    with sim.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEPT_BY_RESET:
                conn.execute(table.delete())
    if wipe_participants:
        sim.keys.delete_participants()
    sim.ids.restart()
    return jsonify({"status": "reset", "participants": "reset" if wipe_participants else "kept"})


@bp.get("/participants")
def participants():
    """Every registered participant."""
    return jsonify({"participants": current().keys.participants()})


@bp.get("/participants/<client_id>")
def get_participant(client_id: str):
    """One participant with the binding field names."""
    found = current().keys.participant(client_id)
    if found is None:
        return control_error(f"no participant {client_id!r}", 404)
    return jsonify(found)


@bp.put("/participants/<client_id>")
def put_participant(client_id: str):
    """Register or update a participant (fields not given keep their value or default)."""
    try:
        body = request_json()
        return jsonify(current().keys.put_participant(client_id, body))
    except (ValueError, ParticipantError) as exc:
        return control_error(str(exc), code="PARAM_ILLEGAL")


@bp.post("/orders")
def create_order():
    """The merchant front door: create a cashier order for a wallet."""
    try:
        body = request_json()
        return jsonify(current().payments.create_order(body)), 201
    except OrderError as exc:
        return control_error(str(exc), code=exc.code)
    except ValueError as exc:
        return control_error(str(exc), code="PARAM_ILLEGAL")


@bp.get("/orders/<payment_request_id>/qr.svg")
def order_qr(payment_request_id: str):
    """The order's code value as a QR code (SVG)."""
    import segno

    record = current().payments.get_record(payment_request_id)
    if record is None:
        return control_error(f"no payment {payment_request_id!r}", 404)
    out = io.BytesIO()
    segno.make(record["code_value"], error="m").save(out, kind="svg", scale=6, border=2)
    return Response(out.getvalue(), mimetype="image/svg+xml")


@bp.get("/payments")
def list_payments():
    """Recent payments, newest first (?limit=&clientId=)."""
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        return control_error("limit must be a whole number")
    if not 0 < limit <= 1000:
        return control_error("limit must be between 1 and 1000")
    items = current().payments.list(limit=limit, client_id=request.args.get("clientId"))
    return jsonify({"payments": items})


@bp.get("/payments/<payment_request_id>")
def get_payment(payment_request_id: str):
    """One payment: state, amounts and every exchange about it."""
    view = current().payments.get_view(payment_request_id)
    if view is None:
        return control_error(f"no payment {payment_request_id!r}", 404)
    return jsonify(view)


@bp.get("/keys")
def keys():
    """The simulator's public key (what a wallet verifies answers and calls with)."""
    sim = current()
    return jsonify(
        {
            "publicKey": sim.keys.public_key_base64,
            "publicKeyPem": sim.keys.public_key_pem,
            "algorithm": "RSA256",
            "keyVersion": "1",
            "defaultClientId": sim.config.default_client_id,
            "defaultMppKeyDir": str(sim.keys.default_mpp_dir.resolve()),
        }
    )


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of the Alipay+ APIs served here (built from the schemas)."""
    try:
        from contracts import openapi as builder
    except ImportError:  # pragma: no cover - contracts.openapi is another engineer's module
        return control_error("contracts.openapi is not available", 501)
    return jsonify(builder.build("alipayplus"))


@bp.get("/code-rules")
def get_code_rules():
    """The code rules inquiryCodeRules serves now."""
    return jsonify(current().payments.code_rules.current())


@bp.put("/code-rules")
def put_code_rules():
    """Replace the code rules (a new version: given, or generated)."""
    try:
        body = request_json()
        if not isinstance(body, dict) or "codeRules" not in body:
            raise ValueError('send {"codeRules": [...], "version": "optional"}')
        return jsonify(
            current().payments.code_rules.replace(body["codeRules"], body.get("version"))
        )
    except ValueError as exc:
        return control_error(str(exc), code="PARAM_ILLEGAL")


def init_app(app):
    """Register the control plane."""
    app.register_blueprint(bp)
