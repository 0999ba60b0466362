"""Why an exchange went wrong, in words a wallet developer can act on (the dashboard's hints)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from contracts import catalogue


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
