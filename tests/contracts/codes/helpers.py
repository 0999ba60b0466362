"""Build real EMVCo payloads for tests, with a CRC computed independently of the library."""

from __future__ import annotations

import json
from collections.abc import Iterable


def crc16_ccitt_false(data: bytes) -> int:
    """Bit-by-bit CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), written from the definition."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def tlv(fields: Iterable[tuple[str, str]]) -> str:
    """TLV text: two-digit tag, two-digit length (characters), value."""
    return "".join(f"{tag}{len(value):02d}{value}" for tag, value in fields)


def with_crc(body: str) -> str:
    """Append tag 63 with the CRC over everything before it, as EMVCo requires."""
    body = body + "6304"
    return body + f"{crc16_ccitt_false(body.encode('utf-8')):04X}"


def emv(*fields: tuple[str, str], poi: str = "11") -> str:
    """An EMVCo payload: 00=01, 01=poi, then `fields` (templates given as tlv(...) text), CRC."""
    return with_crc(tlv([("00", "01"), ("01", poi), *fields]))


def merchant(tag: str, *sub: tuple[str, str]) -> tuple[str, str]:
    """A merchant-account template field (26-51 or 80-99) built from sub-fields."""
    return (tag, tlv(sub))


SG_ROOT = (("52", "5411"), ("53", "702"), ("58", "SG"), ("59", "NASI LEMAK"), ("60", "SINGAPORE"))


def rule(
    method: str,
    action: dict | None = None,
    priority: int | None = None,
    match_result: dict | None = None,
    match_pattern: dict | None = None,
    **pattern: object,
) -> dict:
    """A CodeRule in wire form (extendInfo as JSON text holding JSON texts)."""
    code_match_pattern: dict = {"matchMethod": method, **pattern}
    if priority is not None:
        code_match_pattern["priority"] = priority
    out: dict = {
        "codeMatchPattern": code_match_pattern,
        "postCodeMatchAction": action or {"postCodeMatchActionType": "DECODE"},
    }
    if match_result is not None or match_pattern is not None:
        info = {}
        if match_result is not None:
            info["matchResult"] = json.dumps(match_result)
        if match_pattern is not None:
            info["matchPattern"] = json.dumps(match_pattern)
        out["extendInfo"] = json.dumps(info)
    return out


def open_url(method: str, **extra: str) -> dict:
    """A postCodeMatchAction of type OPEN_URL."""
    return {"postCodeMatchActionType": "OPEN_URL", "urlConstructionMethod": method, **extra}


def body(*rules: dict, version: str = "v1") -> dict:
    """An inquiryCodeRules response body."""
    return {
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "version": version,
        "codeRules": list(rules),
    }
