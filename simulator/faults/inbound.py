"""Applying an injection to an inbound call (a wallet calling an Alipay+ API).

Inbound calls are intercepted before Flask dispatches them (`_intercept`) and run through
`simulator.protocol.serve` with a substitute handler, so authentication, contract checks,
signing and the journal stay those of every other call; transport effects (drop, reset,
malformed, http_error, signatures) then transform the answer (`_transform`). Everything
injected is journaled next to the exchange it changed ("injected: rule 3 result
U/UNKNOWN_EXCEPTION").
"""

from __future__ import annotations

import contextlib
import json
import select as io_select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import request

from contracts import catalogue, signing
from simulator.faults.effects import _NOT_JSON, RuleError
from simulator.state import current

if TYPE_CHECKING:
    from simulator.faults.rules import Injection

# How long `drop` holds a connection unless the rule says otherwise (seconds).
DEFAULT_DROP_SECONDS = 30.0

# -- applying an injection to an inbound call ------------------------------------------------------

_HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body>"
    "<h1>{status} {reason}</h1><p>The upstream server failed (injected by aplus-sim).</p>"
    "</body></html>"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _inbound_paths() -> dict[str, str]:
    from simulator import aps

    return {
        aps.INQUIRY_CODE_RULES: "inquiryCodeRules",
        aps.USER_INITIATED_PAY: "userInitiatedPay",
        aps.NOTIFY_PAYMENT: "notifyPayment",
    }


def _handlers() -> dict[str, Callable[[Any], Any]]:
    from simulator import aps

    return {
        "inquiryCodeRules": aps._inquiry_code_rules,
        "userInitiatedPay": aps._user_initiated_pay,
        "notifyPayment": aps._notify_payment,
    }


def _lenient_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _intercept() -> Any:
    """before_request: give an inbound Alipay+ call its injection, if it has one."""
    if not _PATHS:
        _PATHS.update(_inbound_paths())
    api = _PATHS.get(request.path)
    if api is None or request.method != "POST":
        return None
    sim = current()
    body = _lenient_json(request.get_data(cache=True))
    client_id = request.headers.get("Client-Id", "")
    from simulator import protocol

    try:
        injection = sim.faults.choose(api, client_id, request.headers, body)
    except RuleError as exc:
        message = f"bad injection request: {exc}"

        def refuse(inbound: Any) -> Any:
            raise protocol.ParamIllegal(message)

        return protocol.serve(api, refuse)
    if injection is None:
        return None
    return apply_inbound(sim, api, injection)


_PATHS: dict[str, str] = {}


def apply_inbound(sim: Any, api: str, injection: Injection) -> Any:
    """Answer the current inbound call as `injection` says (through protocol.serve)."""
    from flask import g

    from simulator import protocol

    real = _handlers()[api]
    params = injection.effect
    kind = params["kind"]

    def processed(inbound: Any) -> Any:
        """Run the real handler; its answer (a ProtocolError becomes its result object)."""
        try:
            return real(inbound)
        except protocol.ProtocolError as exc:
            injection.details.append(f"processing answered {exc.code}")
            return {"result": protocol.result(api, exc.code, exc.message, exc.status)}

    def noted(answer: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def handler(inbound: Any) -> Any:
            out = answer(inbound)
            inbound.note = injection.note() + (f"; {inbound.note}" if inbound.note else "")
            return out

        return handler

    def injected_result(inbound: Any) -> Any:
        return {"result": catalogue.result(api, params["resultCode"], params.get("resultMessage"))}

    if kind == "delay":
        seconds = params["seconds"]
        if isinstance(seconds, list):
            seconds = sim.ids.rng().uniform(seconds[0], seconds[1])
            injection.details.append(f"waited {seconds:.3f} s")
        sim.faults.shutdown.wait(seconds)
        return protocol.serve(api, noted(processed))
    if kind == "result":
        if params["resultStatus"] == "S":
            injection.details.append("a SUCCESS needs the real answer: processed normally")
            return protocol.serve(api, noted(processed))
        return protocol.serve(api, noted(injected_result))
    if kind == "commit_then_result":

        def commit_then_result(inbound: Any) -> Any:
            answer = processed(inbound)
            if injection.rule_id is None and (inbound.note or "").startswith("replay"):
                # A magic value (or header) loses only the answer of the call that commits:
                # the wallet's identical retry learns the outcome, as after a lost answer.
                injection.details.append("a replay of the committed call: answered normally")
                return answer
            text = answer if isinstance(answer, str) else json.dumps(answer)
            status = (_lenient_json(text.encode()).get("result") or {}).get("resultCode")
            injection.details.append(f"committed; the real answer was {status}")
            return injected_result(inbound)

        return protocol.serve(api, noted(commit_then_result))

    commit = kind == "commit_then_drop" or params.get("commit", False)

    def unprocessed(inbound: Any) -> Any:
        injection.details.append("not processed")
        return {"result": catalogue.result(api, "UNKNOWN_EXCEPTION", "not processed")}

    replayed: list[bool] = []

    def committing(inbound: Any) -> Any:
        answer = processed(inbound)
        replayed.append((inbound.note or "").startswith("replay"))
        return answer

    g.aplus_sim_journal_ids = []
    response = protocol.serve(api, noted(committing if commit else unprocessed))
    if injection.rule_id is None and kind == "commit_then_drop" and replayed and replayed[0]:
        g.pop("aplus_sim_journal_ids", None)
        return response  # a magic value drops only the answer of the call that commits
    entry_ids = list(g.pop("aplus_sim_journal_ids", []))
    return _transform(sim, api, injection, response, entry_ids[-1] if entry_ids else None)


def _close(environ: Mapping[str, Any]) -> None:
    """Close the client's connection now (werkzeug exposes the socket; granian closes it when
    the body raises, below)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _client_left(sock: Any) -> bool:
    """Whether the peer closed its side of `sock` (readable, and a peek reads nothing)."""
    try:
        readable, _, _ = io_select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _hold_until_client_leaves(seconds: float, stop: threading.Event, environ: Any) -> str:
    """Hold for up to `seconds`; sooner if the client hangs up (werkzeug gives us its socket;
    under granian the full time) or `stop` is set. Says how it ended."""
    sock = environ.get("werkzeug.socket")
    started = time.monotonic()
    deadline = started + seconds
    while (left := deadline - time.monotonic()) > 0:
        if stop.wait(min(left, 0.05) if sock is not None else left):
            return "the server shut down"
        if sock is not None and _client_left(sock):
            return f"the client hung up after {time.monotonic() - started:.2f} s"
    return f"held {seconds:g} s, then closed"


def _hold(environ: Mapping[str, Any]) -> Any:
    """A WSGI body that drops the connection without sending anything more."""
    _close(environ)
    # A ConnectionError from the body is a dropped connection to the server: nothing more is
    # sent (werkzeug logs it as such; granian logs the error and closes the connection).
    raise ConnectionAbortedError("dropped by aplus-sim")
    yield b""  # pragma: no cover - makes this a generator


def _cut(part: bytes, environ: Mapping[str, Any]) -> Any:
    """A WSGI body that sends `part` of the declared length, then closes the connection."""
    yield part
    _close(environ)
    raise ConnectionResetError("reset by aplus-sim")


def _transform(
    sim: Any, api: str, injection: Injection, response: Any, entry_id: int | None
) -> Any:
    from flask import Response

    params = injection.effect
    kind = params["kind"]
    payload = response.get_data()
    amend: dict[str, Any] = {}
    if kind in ("drop", "commit_then_drop"):
        seconds = float(
            params.get("seconds", getattr(sim.config, "drop_seconds", DEFAULT_DROP_SECONDS))
        )
        injection.details.append(f"no answer sent; the connection is held up to {seconds:g} s")
        held_entry, entry_id = entry_id, None
        if held_entry is not None and sim.journal is not None:  # journaled before the wait
            sim.journal.amend(
                held_entry,
                response_status=None,
                response_headers={},
                response_body=None,
                note=injection.note(),
            )
        # Wait here, before any byte (even the status line) goes out: the client sees silence
        # until its own timeout; the wait ends early when the client hangs up or the server
        # shuts down.
        ended = _hold_until_client_leaves(seconds, sim.faults.shutdown, request.environ)
        if held_entry is not None and sim.journal is not None:
            injection.details.append(ended)
            sim.journal.amend(held_entry, note=injection.note())
        out = Response(_hold(request.environ), status=200)
    elif kind == "reset":
        part = payload[: len(payload) // 2]
        out = Response(_cut(part, request.environ), status=200)
        for name, value in response.headers.items():
            out.headers.set(name, value)
        out.headers["Content-Length"] = str(len(payload))
        injection.details.append(f"connection closed after {len(part)} of {len(payload)} bytes")
        amend = {"response_body": part.decode("utf-8", "replace")}
    elif kind == "malformed":
        body = payload[: len(payload) // 2] if params["style"] == "truncated" else _NOT_JSON
        response.set_data(body)
        if params["style"] == "not_json":
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
        amend = {"response_body": body.decode("utf-8", "replace")}
        out = response
    elif kind == "http_error":
        status = params["status"]
        html = _HTML_ERROR.format(status=status, reason=_REASONS[status])
        out = Response(html, status=status, mimetype="text/html")
        amend = {"response_status": status, "response_body": html}
    else:
        path = request.path + (
            f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
        )
        when = sim.clock.now()
        if kind == "stale_time":
            when = when - timedelta(seconds=params["seconds"])
        signed = signing.signed_response_headers(
            sim.keys.private_key,
            request.headers.get("Client-Id", ""),
            path,
            payload + (b" " if kind == "bad_signature" else b""),
            when,
        )
        for name, value in signed.items():
            response.headers.set(name, value)
        if kind == "no_signature":
            del response.headers["signature"]
        out = response
    if entry_id is not None and sim.journal is not None:
        if "response_headers" not in amend:
            amend["response_headers"] = dict(out.headers.items())
        amend["note"] = injection.note()
        sim.journal.amend(entry_id, **amend)
    return out
