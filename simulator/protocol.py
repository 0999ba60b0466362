"""The inbound pipeline of the Alipay+ APIs: every request the wallet sends goes through `serve`.

Order of steps (the real gateway's order as far as the spec shows; see docs/simulator.md):
method -> media type -> Client-Id -> participant -> Request-Time -> signature -> JSON body ->
contract (schema + domain rules) -> injected faults -> the API's handler. Nothing is injected
into a request the pipeline refuses (authenticate first). Every outcome is HTTP 200 with a `result`, the
answer is signed as the SDKs expect (lower-case `signature`, `response-time`, `client-id`), and
the exchange is journaled with the signature verdict and the violations found on both sides.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import Request, Response, g, request

from contracts import signing, validate
from contracts.wire import dumps
from simulator.errors import (
    InvalidApi,
    InvalidClient,
    InvalidSignature,
    KeyNotFound,
    MediaTypeNotAcceptable,
    MethodNotSupported,
    ParamIllegal,
    ProtocolError,
    UnknownException,
    result,
)
from simulator.exchange import Answer, Handler, Inbound
from simulator.faults.effects import RuleError
from simulator.faults.inbound import InboundFault
from simulator.state import Sim, current

log = logging.getLogger(__name__)

# The server SDK fetches code rules with this fixed placeholder instead of a signature (spec §2.3).
PLACEHOLDER_SIGNATURE = "testing_signature"


# -- the pipeline ------------------------------------------------------------------------------


@dataclass
class _Exchange:
    api: str
    path: str
    client_id: str = ""
    signature: str = "not-checked"
    request_violations: list[dict[str, str]] = field(default_factory=list)
    payment_request_id: str | None = None
    error: str | None = None
    note: str | None = None


def check(api: str, kind: str, message: dict[str, Any]) -> list[dict[str, str]]:
    """The contract violations of `message` (contracts.validate), as journal dicts."""
    return [
        {"pointer": v.pointer, "rule": v.rule, "message": v.message}
        for v in validate(api, kind, message)
    ]


@lru_cache(maxsize=1024)
def _check_text(api: str, kind: str, text: str) -> tuple[dict[str, str], ...]:
    return tuple(check(api, kind, json.loads(text)))


def check_text(api: str, kind: str, text: str) -> list[dict[str, str]]:
    """`check` for a message given as its exact JSON text; identical texts (retries, replays,
    the code rules) are validated once (bounded cache)."""
    if len(text) > 65536:  # not worth keeping
        return check(api, kind, json.loads(text))
    return [dict(item) for item in _check_text(api, kind, text)]


def _request_uri(req: Request | None = None) -> str:
    req = req if req is not None else request
    query = req.query_string.decode("latin-1")
    return req.path + (f"?{query}" if query else "")


def _authenticate(sim: Sim, api: str, ex: _Exchange, raw: bytes, req: Request) -> dict[str, Any]:
    """Check method, media type, client, time and signature; return the participant."""
    headers = req.headers
    if req.method != "POST":
        raise MethodNotSupported(
            f"{req.method} is not supported; the Alipay+ APIs take POST with a JSON body"
        )
    content_type = headers.get("Content-Type")
    if content_type is not None and req.mimetype not in ("application/json", "text/json"):
        raise MediaTypeNotAcceptable(
            f"Content-Type {content_type!r} is not acceptable; send application/json; charset=UTF-8"
        )
    client_id = headers.get("Client-Id")
    if not client_id:
        raise ParamIllegal("header Client-Id is missing")
    ex.client_id = client_id
    participant = sim.keys.participant(client_id)
    if participant is None:
        raise InvalidClient(
            f"Client-Id {client_id!r} is not registered; register it with "
            f"PUT /_sim/participants/{client_id} or use {sim.config.default_client_id!r}"
        )
    request_time = headers.get("Request-Time")
    if request_time is not None:
        try:
            signing.parse_time(request_time)
        except ValueError as exc:
            raise ParamIllegal(
                f"header Request-Time {request_time!r} is not a valid time: {exc}"
            ) from exc
    if participant["signatureMode"] == "off":
        ex.signature = "not-checked"
        return participant
    header = headers.get("Signature")
    if not header:
        ex.signature = "missing"
        raise InvalidSignature("header Signature is missing")
    if request_time is None:
        raise ParamIllegal("header Request-Time is missing (it is part of the signed content)")
    if api == "inquiryCodeRules" and PLACEHOLDER_SIGNATURE in header:
        # The official server SDK never signs this call (FileDownloadUtils): accept it.
        ex.signature = "placeholder"
        return participant
    try:
        parsed = signing.parse_signature_header(header)
    except ValueError as exc:
        ex.signature = "invalid"
        raise InvalidSignature(f"header Signature is malformed: {exc}") from exc
    if not participant["publicKey"]:
        ex.signature = "invalid"
        raise KeyNotFound(
            f"no public key is registered for {client_id!r}; PUT /_sim/participants/"
            f"{client_id} with publicKey, or set signatureMode to off"
        )
    key = sim.keys.load_public_key(participant["publicKey"])
    if not signing.verify(
        key, "POST", _request_uri(req), client_id, request_time, raw, parsed.signature
    ):
        ex.signature = "invalid"
        raise InvalidSignature(
            "signature does not verify: sign 'POST <path>\\n<Client-Id>.<Request-Time>.<body>' "
            "over the exact bytes sent, with the key registered for this Client-Id"
        )
    ex.signature = "valid"
    return participant


def _parse_body(api: str, raw: bytes, ex: _Exchange) -> dict[str, Any]:
    if not raw.strip() and api == "inquiryCodeRules":
        return {}  # "no parameters" per the API page
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        ex.request_violations.append({"pointer": "", "rule": "json", "message": str(exc)})
        raise ParamIllegal(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        ex.request_violations.append(
            {"pointer": "", "rule": "type", "message": "the body must be a JSON object"}
        )
        raise ParamIllegal("the body must be a JSON object")
    return body


def _claimed_payment_request_id(raw: bytes) -> str | None:
    """The paymentRequestId a body names, read best-effort (for the journal only)."""
    if b"paymentRequestId" not in raw:
        return None
    try:
        value = json.loads(raw).get("paymentRequestId")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None


def serve(api: str, handler: Handler | None) -> Response:
    """Run one inbound request through the pipeline and answer it (never raises)."""
    started = time.perf_counter()
    sim = current()
    req = request._get_current_object()  # bound once: every proxy access costs a lookup
    raw = req.get_data(cache=True)
    ex = _Exchange(api=api, path=req.path, client_id=req.headers.get("Client-Id", ""))
    fault: InboundFault | None = None
    answer: Answer
    try:
        if handler is None:
            raise InvalidApi(f"{req.path} is not an Alipay+ API served here")
        inbound = _accept(sim, api, ex, raw, req)
        fault = _fault(sim, api, req, inbound)
        answer = handler(inbound) if fault is None else fault.answer(handler, inbound)
        ex.payment_request_id = inbound.payment_request_id or ex.payment_request_id
        ex.note = inbound.note
        extra = g.pop("aplus_sim_notes", None)  # e.g. a fault an event listener injected
        if extra:
            ex.note = "; ".join([*([ex.note] if ex.note else []), *extra])
    except ProtocolError as exc:
        answer = {"result": result(api, exc.code, exc.message, exc.status)}
        # A refused request still belongs on the timeline of the payment it names (the
        # signature verdict already says whether that claim can be trusted).
        ex.payment_request_id = ex.payment_request_id or _claimed_payment_request_id(raw)
    except Exception:
        ex.error = traceback.format_exc()
        log.exception("internal error in %s", api)
        answer = {
            "result": result(
                api,
                UnknownException.code,
                "internal error in the simulator; retry the identical request (the journal "
                "has the details)",
                "U",
            )
        }
    try:
        response, entry_id = _respond(sim, api, ex, raw, answer, started, req)
        return response if fault is None else fault.respond(response, entry_id, req)
    except Exception:  # last resort: still an answer in the protocol's terms, never a 500
        log.exception("answering a %s request failed", api)
        fallback = {"result": result(api, UnknownException.code, "internal error", "U")}
        return Response(dumps(fallback), status=200, mimetype="application/json")


def _accept(sim: Sim, api: str, ex: _Exchange, raw: bytes, req: Request) -> Inbound:
    """Authenticate, parse and check the contract; the request as the handler sees it."""
    participant = _authenticate(sim, api, ex, raw, req)
    body = _parse_body(api, raw, ex)
    if isinstance(body.get("paymentRequestId"), str):
        ex.payment_request_id = body["paymentRequestId"]
    try:
        text = raw.decode("utf-8") if raw.strip() else "{}"
    except UnicodeDecodeError:  # JSON in UTF-16/32: json.loads read it, so validate that
        text = dumps(body)
    ex.request_violations.extend(check_text(api, "request", text))
    if ex.request_violations:
        first = ex.request_violations[0]
        more = len(ex.request_violations) - 1
        raise ParamIllegal(
            f"{first['pointer'] or '(body)'}: {first['message']}"
            + (f" (and {more} more problem(s))" if more else "")
        )
    return Inbound(api, ex.client_id, participant, body, req.path)


def _fault(sim: Sim, api: str, req: Request, inbound: Inbound) -> InboundFault | None:
    """The faults step: the injection this accepted request gets (header, magic value, rule)."""
    try:
        injection = sim.faults.choose(api, inbound.client_id, req.headers, inbound.body)
    except RuleError as exc:
        raise ParamIllegal(f"bad injection request: {exc}") from exc
    return None if injection is None else InboundFault(sim, api, injection)


def _respond(
    sim: Sim,
    api: str,
    ex: _Exchange,
    raw: bytes,
    answer: Answer,
    started: float,
    req: Request,
) -> tuple[Response, int | None]:
    """Sign the answer, check it against the contract and journal the exchange."""
    if isinstance(answer, str):
        text, message = answer, json.loads(answer)
    else:
        text, message = dumps(answer), answer
    payload = text.encode()
    headers = signing.signed_response_headers(
        sim.keys.private_key, ex.client_id, _request_uri(req), payload, sim.clock.now()
    )
    response = Response(payload, status=200)
    for name, value in headers.items():
        response.headers.set(name, value)
    response_violations: list[dict[str, str]] = []
    if api != "unknown":
        try:
            response_violations = check_text(api, "response", text)
        except Exception:  # the validator must never break an answer
            log.exception("validating the %s response failed", api)
    if response_violations:
        log.warning("the simulator answered %s with violations: %s", api, response_violations)
    outcome = message.get("result") or {}
    entry_id = None
    try:
        entry_id = sim.journal.record(
            direction="inbound",
            api=api,
            client_id=ex.client_id,
            payment_request_id=ex.payment_request_id,
            method=req.method,
            path=ex.path,
            url=req.url,
            request_headers=dict(req.headers.items()),
            request_body=raw.decode("utf-8", "replace"),
            response_status=200,
            response_headers=dict(response.headers.items()),
            response_body=text,
            latency_ms=(time.perf_counter() - started) * 1000,
            signature=ex.signature,
            request_violations=ex.request_violations,
            response_violations=response_violations,
            result_status=outcome.get("resultStatus"),
            result_code=outcome.get("resultCode"),
            error=ex.error,
            note=ex.note,
        )
    except Exception:
        log.exception("journaling a %s exchange failed", api)
    return response, entry_id
