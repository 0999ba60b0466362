"""What a wallet reads to talk to the simulator: /_sim/keys, /_sim/openapi.json, /_sim/code-rules."""

from __future__ import annotations

from flask import Blueprint, jsonify

from simulator.control.errors import ControlError, request_json
from simulator.state import current

bp = Blueprint("reference", __name__)


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
    from contracts import openapi as builder  # ~0.2 s of imports: not on the start-up path

    return jsonify(builder.build("alipayplus"))


@bp.get("/code-rules")
def get_code_rules():
    """The code rules inquiryCodeRules serves now."""
    return jsonify(current().payments.code_rules.current())


@bp.put("/code-rules")
def put_code_rules():
    """Replace the code rules (a new version: given, or generated).

    A refusal is the rule book's ValueError (400 PARAM_ILLEGAL).
    """
    body = request_json()
    if not isinstance(body, dict) or "codeRules" not in body:
        raise ControlError.bad('send {"codeRules": [...], "version": "optional"}', "codeRules")
    return jsonify(current().payments.code_rules.replace(body["codeRules"], body.get("version")))
