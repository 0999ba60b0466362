"""The effects registry: effect kinds (`@effect`), their parameter checks, `describe`.

An effect is what an injection does to one call (a result, a delay, a dropped connection, a
bad signature...). Each kind registers itself with `@effect` (schemathesis' checks registry,
in small); its function validates and normalises the parameters for one API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts import catalogue

MAX_DELAY_SECONDS = 600.0


class RuleError(ValueError):
    """A rule (or seed) the control plane refuses; the message names the problem."""


# -- the effects registry ---------------------------------------------------------------------


@dataclass(frozen=True)
class EffectKind:
    """One registered effect: where it applies and how its parameters are checked."""

    name: str
    directions: tuple[str, ...]
    doc: str
    check: Callable[[str, dict[str, Any]], dict[str, Any]]
    apis: tuple[str, ...] | None = None  # None: every API of its directions


EFFECTS: dict[str, EffectKind] = {}


def effect(
    name: str, directions: tuple[str, ...] = ("inbound",), apis: tuple[str, ...] | None = None
) -> Callable[[Callable[[str, dict[str, Any]], dict[str, Any]]], Any]:
    """Register an effect kind; the decorated function validates its parameters for an API."""

    def decorate(check: Callable[[str, dict[str, Any]], dict[str, Any]]) -> Any:
        doc = (check.__doc__ or "").strip().splitlines()[0]
        EFFECTS[name] = EffectKind(name, directions, doc, check, apis)
        return check

    return decorate


def _only(params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - {"kind", *allowed})
    if unknown:
        raise RuleError(
            f"effect {params['kind']!r} has no parameter(s) {unknown}; "
            f"it takes {list(allowed) or 'none'}"
        )


def _commit_flag(params: dict[str, Any], default: bool = False) -> bool:
    value = params.get("commit", default)
    if not isinstance(value, bool):
        raise RuleError("effect.commit must be true or false")
    return value


def _result_params(api: str, params: dict[str, Any], default_code: str | None) -> dict[str, Any]:
    _only(params, ("resultStatus", "resultCode", "resultMessage"))
    code = params.get("resultCode", default_code)
    if not isinstance(code, str) or not code:
        raise RuleError(f"effect {params['kind']!r} needs a resultCode (e.g. UNKNOWN_EXCEPTION)")
    try:
        entry = catalogue.lookup(api, code)
    except KeyError as exc:
        raise RuleError(str(exc.args[0])) from None
    status = params.get("resultStatus", entry.status)
    if status != entry.status:
        raise RuleError(
            f"resultStatus {status!r} contradicts the catalogue: {code} is {entry.status} for {api}"
        )
    out = {"kind": params["kind"], "resultStatus": status, "resultCode": code}
    message = params.get("resultMessage")
    if message is not None:
        if not isinstance(message, str) or not 0 < len(message) <= 256:
            raise RuleError("resultMessage must be a string of 1 to 256 characters")
        out["resultMessage"] = message
    return out


@effect("result")
def _check_result(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Answer with the given result (any catalogued code of the API) without touching state."""
    return _result_params(api, params, None)


@effect("commit_then_result")
def _check_commit_then_result(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Process the call (state changes are committed), then answer this result (default U)."""
    return _result_params(api, params, "UNKNOWN_EXCEPTION")


def _seconds(value: Any, name: str, low: float = 0.0, high: float = MAX_DELAY_SECONDS) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise RuleError(f"{name} must be a number of seconds between {low:g} and {high:g}")
    return float(value)


@effect("delay", directions=("inbound", "outbound"))
def _check_delay(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Wait `seconds` (or a random time in [min, max]) before processing the call."""
    _only(params, ("seconds",))
    seconds = params.get("seconds")
    if isinstance(seconds, list):
        if len(seconds) != 2:
            raise RuleError("seconds as a range is [min, max]")
        low, high = (_seconds(s, "seconds") for s in seconds)
        if low > high:
            raise RuleError("seconds range [min, max] needs min <= max")
        return {"kind": "delay", "seconds": [low, high]}
    return {"kind": "delay", "seconds": _seconds(seconds, "seconds")}


def _drop_params(params: dict[str, Any], kind: str) -> dict[str, Any]:
    _only(params, ("seconds", "commit") if kind == "drop" else ("seconds",))
    out: dict[str, Any] = {"kind": kind}
    if "seconds" in params:
        out["seconds"] = _seconds(params["seconds"], "seconds", 0.0, 3600.0)
    if kind == "drop":
        out["commit"] = _commit_flag(params)
    return out


@effect("drop")
def _check_drop(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Hold the connection, answering nothing, until the client gives up (at most `seconds`)."""
    return _drop_params(params, "drop")


@effect("commit_then_drop")
def _check_commit_then_drop(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Process the call (committed), then hold the connection and never answer."""
    return _drop_params(params, "commit_then_drop")


def _transport(
    params: dict[str, Any], extra: tuple[str, ...] = (), commit: bool = True
) -> dict[str, Any]:
    """Parameters of a transport effect; `commit` says whether the call is processed first
    (default: yes for effects that spoil an answer that exists, no for a gateway error)."""
    _only(params, ("commit", *extra))
    return {"kind": params["kind"], "commit": _commit_flag(params, commit)}


@effect("reset")
def _check_reset(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Close the connection in the middle of the answer (the client sees a broken connection)."""
    return _transport(params)


@effect("malformed", directions=("inbound", "outbound"))
def _check_malformed(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """A body that is not JSON: `style` "truncated" (half the JSON) or "not_json" (plain text)."""
    out = _transport(params, ("style",))
    style = params.get("style", "truncated")
    if style not in ("truncated", "not_json"):
        raise RuleError('malformed style must be "truncated" or "not_json"')
    out["style"] = style
    return out


# The body of a `malformed` answer or call with style "not_json" (either direction).
NOT_JSON = b"Service busy, please try again later\n"


@effect("http_error")
def _check_http_error(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """An HTTP 5xx with an HTML page instead of a result (`status`: 500, 502, 503 or 504)."""
    out = _transport(params, ("status",), commit=False)
    status = params.get("status", 502)
    if status not in (500, 502, 503, 504):
        raise RuleError("http_error status must be 500, 502, 503 or 504")
    out["status"] = status
    return out


@effect("bad_signature", directions=("inbound", "outbound"))
def _check_bad_signature(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """A well-formed Signature header that does not verify."""
    return _transport(params)


@effect("no_signature", directions=("inbound", "outbound"))
def _check_no_signature(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """No signature header at all."""
    return _transport(params)


@effect("stale_time", directions=("inbound", "outbound"))
def _check_stale_time(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Signed correctly, but stamped `seconds` (default 3600) in the past."""
    out = _transport(params, ("seconds",))
    out["seconds"] = _seconds(params.get("seconds", 3600), "seconds", 1.0, 10 * 365 * 86400.0)
    return out


@effect("duplicate", directions=("outbound",))
def _check_duplicate(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Send the same call twice, byte for byte (the wallet must be idempotent)."""
    _only(params, ())
    return {"kind": "duplicate"}


@effect("early_cancel", directions=("outbound",), apis=("cancelPayment",))
def _check_early_cancel(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Close the order and send cancelPayment right after the decode, long before expiry."""
    _only(params, ())
    return {"kind": "early_cancel"}


@effect("skip_polling", directions=("outbound",), apis=("inquiryPayment",))
def _check_skip_polling(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Never send inquiryPayment for the payment (the wallet must notify on its own)."""
    _only(params, ())
    return {"kind": "skip_polling"}


@effect("unknown_inquiry", directions=("outbound",), apis=("inquiryPayment",))
def _check_unknown_inquiry(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """Send inquiryPayment for a paymentRequestId the wallet has never seen."""
    _only(params, ())
    return {"kind": "unknown_inquiry"}


def check_effect(api: str, direction: str, params: Any) -> dict[str, Any]:
    """Validate an effect object for `api` in `direction`; its normalised form."""
    if isinstance(params, str):
        params = {"kind": params}
    if not isinstance(params, dict) or not isinstance(params.get("kind"), str):
        raise RuleError(f"effect must be an object with a kind, one of {sorted(EFFECTS)}")
    kind = EFFECTS.get(params["kind"])
    if kind is None:
        raise RuleError(f"unknown effect kind {params['kind']!r}; known: {sorted(EFFECTS)}")
    if direction not in kind.directions:
        raise RuleError(f"effect {kind.name!r} applies to {'/'.join(kind.directions)} calls only")
    if kind.apis is not None and api not in kind.apis:
        raise RuleError(f"effect {kind.name!r} applies to {', '.join(kind.apis)} only")
    return kind.check(api, dict(params))


def describe(effect_params: Mapping[str, Any]) -> str:
    """A short text of an effect, e.g. "result U/UNKNOWN_EXCEPTION" or "delay 9s"."""
    kind = effect_params["kind"]
    if "resultCode" in effect_params:
        return f"{kind} {effect_params['resultStatus']}/{effect_params['resultCode']}"
    extras = [f"{name}={value}" for name, value in effect_params.items() if name != "kind"]
    return " ".join([kind, *extras])
