"""The result-code catalogue (data in contracts/data/result_codes.json): look up and build results.

Alipay+ adds codes over time, so a code outside the catalogue is not an error on the wire: with an
explicit status it can still be built (`result(api, code, status=...)` or `outside(...)`) and
recognised (`known(api, code)` is False), e.g. to answer `F/SOME_NEW_CODE` and journal it as
"outside the catalogue".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("data") / "result_codes.json"
STATUSES = ("S", "F", "U")
# The shape of every documented code: upper-case words joined by underscores, at most 64 long.
CODE_SHAPE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


@dataclass(frozen=True)
class ResultCode:
    """One documented result code of one API."""

    api: str
    code: str
    status: str
    meaning: str
    action: str
    confidence: str
    source: str = ""


@cache
def _catalogue() -> dict[str, dict[str, ResultCode]]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return {
        api: {row["code"]: ResultCode(api=api, **row) for row in rows}
        for api, rows in data["apis"].items()
    }


def apis() -> list[str]:
    """The APIs in the catalogue (including 'paymentResult'), in catalogue order."""
    return list(_catalogue())


def codes(api: str) -> list[ResultCode]:
    """Every documented code of `api`; KeyError naming the known APIs if `api` is unknown."""
    return list(_api(api).values())


def lookup(api: str, code: str) -> ResultCode:
    """The catalogue entry for `code` in `api`; KeyError with the valid codes if unknown."""
    table = _api(api)
    if code not in table:
        raise _unknown_code(api, code, table)
    return table[code]


def _unknown_code(api: str, code: str, table: dict[str, ResultCode]) -> KeyError:
    return KeyError(
        f"{code!r} is not a documented result code of {api}; known codes: {', '.join(table)} "
        "(a code outside the catalogue needs an explicit status, e.g. F/SOME_NEW_CODE)"
    )


def known(api: str, code: str) -> bool:
    """Whether `code` is a catalogued code of `api` (KeyError if `api` itself is unknown)."""
    return code in _api(api)


def result(
    api: str, code: str, message: str | None = None, *, status: str | None = None
) -> dict[str, str]:
    """A `result` object for `code` in `api`; the message defaults to the code's meaning.

    A catalogued code takes its documented status (a different explicit `status` is a
    ValueError). A code outside the catalogue needs an explicit `status` (KeyError naming the
    known codes without one) and is built by `outside`.
    """
    table = _api(api)
    entry = table.get(code)
    if entry is None:
        if status is None:
            raise _unknown_code(api, code, table)
        return outside(api, code, status, message)
    if status is not None and status != entry.status:
        raise ValueError(f"{code} is documented with status {entry.status} for {api}, not {status}")
    return {
        "resultCode": entry.code,
        "resultStatus": entry.status,
        "resultMessage": entry.meaning if message is None else message,
    }


def outside(api: str, code: str, status: str, message: str | None = None) -> dict[str, str]:
    """A `result` object for a code that is NOT in the catalogue of `api`, with its status.

    ValueError if the code is catalogued for `api` (use `result`), if `status` is not S, F or
    U, or if the code does not look like an Alipay+ code (upper case, digits, '_', <= 64).
    """
    table = _api(api)
    if code in table:
        raise ValueError(f"{code} is in the catalogue of {api}; use catalogue.result")
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of S, F, U")
    if not isinstance(code, str) or not CODE_SHAPE.fullmatch(code):
        raise ValueError(
            f"result code {code!r} is not upper-case letters, digits and '_' (at most 64)"
        )
    text = message if message is not None else f"{code} (outside the catalogue of {api})"
    return {"resultCode": code, "resultStatus": status, "resultMessage": text[:256]}


def _api(api: str) -> dict[str, ResultCode]:
    catalogue = _catalogue()
    try:
        return catalogue[api]
    except KeyError:
        raise KeyError(
            f"{api!r} is not in the result-code catalogue; known APIs: {', '.join(catalogue)}"
        ) from None
