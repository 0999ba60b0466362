"""The result-code catalogue (data in contracts/data/result_codes.json): look up and build results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("data") / "result_codes.json"


@dataclass(frozen=True)
class ResultCode:
    """One documented result code of one API."""

    api: str
    code: str
    status: str
    meaning: str
    action: str
    confidence: str


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
    try:
        return table[code]
    except KeyError:
        raise KeyError(
            f"{code!r} is not a documented result code of {api}; known codes: {', '.join(table)}"
        ) from None


def result(api: str, code: str, message: str | None = None) -> dict[str, str]:
    """A `result` object for `code` in `api`; the message defaults to the code's meaning."""
    entry = lookup(api, code)
    return {
        "resultCode": entry.code,
        "resultStatus": entry.status,
        "resultMessage": entry.meaning if message is None else message,
    }


def _api(api: str) -> dict[str, ResultCode]:
    catalogue = _catalogue()
    try:
        return catalogue[api]
    except KeyError:
        raise KeyError(
            f"{api!r} is not in the result-code catalogue; known APIs: {', '.join(catalogue)}"
        ) from None
