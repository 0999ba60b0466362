"""Applying an injection to an inbound call (a wallet calling an Alipay+ API).

A step of `simulator.protocol.serve`, after authentication and the contract checks: nothing is
injected into a request the pipeline refuses. `InboundFault.answer` replaces or wraps the API's
handler (delay, result, commit_then_result, processed or not); `InboundFault.respond` then
transforms the signed, journaled answer for transport effects (drop, reset, malformed,
http_error and the signature effects). Everything injected is journaled next to the exchange it
changed ("injected: rule 3 result U/UNKNOWN_EXCEPTION").
"""

from __future__ import annotations

import contextlib
import json
import select as io_select
import socket
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Request, Response

from contracts import catalogue, signing
from simulator.errors import ProtocolError, result
from simulator.exchange import Answer, Handler, Inbound
from simulator.faults.effects import NOT_JSON
from simulator.faults.rules import Injection
from simulator.state import Sim

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
# Effects that only change the answer's body; the others change how it travels.
_ANSWER_KINDS = ("delay", "result", "commit_then_result")


class InboundFault:
    """One injection applied to one inbound call: first the answer, then its transport."""

    def __init__(self, sim: Sim, api: str, injection: Injection) -> None:
        self.sim = sim
        self.api = api
        self.injection = injection
        self.kind: str = injection.effect["kind"]
        self._replayed: bool | None = None

    def answer(self, handler: Handler, inbound: Inbound) -> Answer:
        """The answer to sign: the handler's, an injected one, or "not processed"."""
        params, injection = self.injection.effect, self.injection
        if self.kind == "delay":
            seconds = params["seconds"]
            if isinstance(seconds, list):
                seconds = self.sim.ids.rng().uniform(seconds[0], seconds[1])
                injection.details.append(f"waited {seconds:.3f} s")
            self.sim.faults.shutdown.wait(seconds)
            out = self._processed(handler, inbound)
        elif self.kind == "result" and params["resultStatus"] == "S":
            injection.details.append("a SUCCESS needs the real answer: processed normally")
            out = self._processed(handler, inbound)
        elif self.kind == "result":
            out = self._injected_result()
        elif self.kind == "commit_then_result":
            out = self._commit_then_result(handler, inbound)
        elif self.kind == "commit_then_drop" or params.get("commit", False):
            out = self._processed(handler, inbound)
            self._replayed = _is_replay(inbound)
        else:
            injection.details.append("not processed")
            out = {"result": catalogue.result(self.api, "UNKNOWN_EXCEPTION", "not processed")}
        inbound.note = injection.note() + (f"; {inbound.note}" if inbound.note else "")
        return out

    def respond(self, response: Response, entry_id: int | None, req: Request) -> Response:
        """The answer as it travels: unchanged, or dropped, cut, spoiled or re-signed."""
        if self.kind in _ANSWER_KINDS:
            return response
        if self.injection.rule_id is None and self.kind == "commit_then_drop" and self._replayed:
            return response  # a magic value drops only the answer of the call that commits
        return _transform(self.sim, self.injection, response, entry_id, req)

    def _processed(self, handler: Handler, inbound: Inbound) -> Answer:
        """Run the real handler; its answer (a ProtocolError becomes its result object)."""
        try:
            return handler(inbound)
        except ProtocolError as exc:
            self.injection.details.append(f"processing answered {exc.code}")
            return {"result": result(self.api, exc.code, exc.message, exc.status)}

    def _injected_result(self) -> Answer:
        params = self.injection.effect
        return {
            "result": catalogue.result(self.api, params["resultCode"], params.get("resultMessage"))
        }

    def _commit_then_result(self, handler: Handler, inbound: Inbound) -> Answer:
        answer = self._processed(handler, inbound)
        if self.injection.rule_id is None and _is_replay(inbound):
            # A magic value (or header) loses only the answer of the call that commits:
            # the wallet's identical retry learns the outcome, as after a lost answer.
            self.injection.details.append("a replay of the committed call: answered normally")
            return answer
        code = _result_code(answer)
        self.injection.details.append(f"committed; the real answer was {code}")
        return self._injected_result()


def _is_replay(inbound: Inbound) -> bool:
    return (inbound.note or "").startswith("replay")


def _result_code(answer: Answer) -> Any:
    if isinstance(answer, str):
        answer = _lenient_json(answer.encode())
    outcome = answer.get("result")
    return outcome.get("resultCode") if isinstance(outcome, dict) else None


def _lenient_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


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
    sim: Sim, injection: Injection, response: Response, entry_id: int | None, req: Request
) -> Response:
    kind = injection.effect["kind"]
    amend: dict[str, Any] = {}
    if kind in ("drop", "commit_then_drop"):
        out = _drop(sim, injection, entry_id, req)
        entry_id = None  # amended before and after the wait
    elif kind == "reset":
        payload = response.get_data()
        part = payload[: len(payload) // 2]
        out = Response(_cut(part, req.environ), status=200)
        for name, value in response.headers.items():
            out.headers.set(name, value)
        out.headers["Content-Length"] = str(len(payload))
        injection.details.append(f"connection closed after {len(part)} of {len(payload)} bytes")
        amend = {"response_body": part.decode("utf-8", "replace")}
    elif kind == "malformed":
        payload = response.get_data()
        style = injection.effect["style"]
        body = payload[: len(payload) // 2] if style == "truncated" else NOT_JSON
        response.set_data(body)
        if style == "not_json":
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
        amend = {"response_body": body.decode("utf-8", "replace")}
        out = response
    elif kind == "http_error":
        status = injection.effect["status"]
        html = _HTML_ERROR.format(status=status, reason=_REASONS[status])
        out = Response(html, status=status, mimetype="text/html")
        amend = {"response_status": status, "response_body": html}
    else:
        out = _resign(sim, injection, response, req)
    if entry_id is not None:
        if "response_headers" not in amend:
            amend["response_headers"] = dict(out.headers.items())
        amend["note"] = injection.note()
        sim.journal.amend(entry_id, **amend)
    return out


def _drop(sim: Sim, injection: Injection, entry_id: int | None, req: Request) -> Response:
    """Hold the connection, answering nothing; then drop it."""
    seconds = float(injection.effect.get("seconds", sim.config.drop_seconds))
    injection.details.append(f"no answer sent; the connection is held up to {seconds:g} s")
    if entry_id is not None:  # journaled before the wait
        sim.journal.amend(
            entry_id,
            response_status=None,
            response_headers={},
            response_body=None,
            note=injection.note(),
        )
    # Wait here, before any byte (even the status line) goes out: the client sees silence
    # until its own timeout; the wait ends early when the client hangs up or the server
    # shuts down.
    ended = _hold_until_client_leaves(seconds, sim.faults.shutdown, req.environ)
    if entry_id is not None:
        injection.details.append(ended)
        sim.journal.amend(entry_id, note=injection.note())
    return Response(_hold(req.environ), status=200)


def _resign(sim: Sim, injection: Injection, response: Response, req: Request) -> Response:
    """bad_signature, no_signature, stale_time: the same body under other signature headers."""
    kind = injection.effect["kind"]
    query = req.query_string.decode("latin-1")
    path = req.path + (f"?{query}" if query else "")
    when = sim.clock.now()
    if kind == "stale_time":
        when = when - timedelta(seconds=injection.effect["seconds"])
    signed = signing.signed_response_headers(
        sim.keys.private_key,
        req.headers.get("Client-Id", ""),
        path,
        response.get_data() + (b" " if kind == "bad_signature" else b""),
        when,
    )
    for name, value in signed.items():
        response.headers.set(name, value)
    if kind == "no_signature":
        del response.headers["signature"]
    return response
