"""The Signature header: `algorithm=RSA256,keyVersion=1,signature=<URL-encoded base64>`.

Strict as the gateway and every official SDK: the signature value is always URL-decoded, then
base64-decoded (Python `unquote_plus`, Java `URLDecoder`). A raw base64 value that contains `+`
therefore cannot work (URL-decoding turns `+` into a space) and is refused with a message that
says the value must be URL-encoded. `lenient=True` keeps accepting it (and URL-safe base64),
and says so in `SignatureHeader.warning`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import quote_plus, unquote, unquote_plus

from contracts.signing.base import ALGORITHM, DEFAULT_KEY_VERSION, SignatureError


@dataclass(frozen=True)
class SignatureHeader:
    """A parsed Signature header; `signature` is standard base64 (URL-decoded).

    `warning` is None for a value every SDK accepts; in lenient mode it says what was tolerated
    (a raw, not URL-encoded value with `+`, or URL-safe base64).
    """

    algorithm: str
    key_version: str
    signature: str
    warning: str | None = None


_HEADER_KEYS = {"algorithm": "algorithm", "keyversion": "keyVersion", "signature": "signature"}
_B64_RE = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_URLSAFE_B64_RE = re.compile(r"[A-Za-z0-9_\-]+={0,2}")

RAW_PLUS_MESSAGE = (
    "the signature value must be URL-encoded: raw base64 with '+' turns '+' into a space when "
    "URL-decoded, as Alipay+ and the SDKs do (send + as %2B, / as %2F, = as %3D)"
)
RAW_WARNING = "signature value was raw base64 with '+' (not URL-encoded); Alipay+ refuses it"
URLSAFE_WARNING = "signature value was URL-safe base64; Alipay+ uses standard base64"


def _header_parts(value: str) -> dict[str, str]:
    """The known name=value parts of a header (names case-insensitive, unknown ones ignored)."""
    parts: dict[str, str] = {}
    for raw_part in value.split(","):
        part = raw_part.strip()
        if not part:
            continue
        name, sep, part_value = part.partition("=")
        if not sep:
            raise SignatureError(
                f"Signature header part {part!r} is not name=value "
                "(expected algorithm=RSA256,keyVersion=1,signature=...)"
            )
        key = _HEADER_KEYS.get(name.strip().lower())
        if key is None:
            continue  # unknown parts are ignored, as the SDKs' own parsers do
        if key in parts:
            raise SignatureError(f"Signature header has '{key}=' more than once")
        parts[key] = part_value.strip()
    return parts


def parse_signature_header(value: str | bytes, *, lenient: bool = False) -> SignatureHeader:
    """Parse `algorithm=RSA256,keyVersion=1,signature=...` in any order, with or without spaces.

    The signature value is URL-decoded (upper- or lower-case escapes), then must be padded
    standard base64. A raw value containing `+` raises SignatureError saying it must be
    URL-encoded. A missing keyVersion means the SDK default "1". With lenient=True a raw `+`
    value and URL-safe base64 without padding (a community-code deviation) are accepted,
    normalised to standard base64, and named in the result's `warning`.
    """
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("latin-1")
    if value is None or not str(value).strip():
        raise SignatureError("Signature header is empty")
    parts = _header_parts(str(value))
    if "signature" not in parts:
        if ";" in str(value):
            raise SignatureError(
                "Signature header parts are separated by commas, not semicolons "
                "(algorithm=RSA256,keyVersion=1,signature=...)"
            )
        raise SignatureError("Signature header has no 'signature=' part")
    if "algorithm" not in parts:
        raise SignatureError(
            "Signature header has no 'algorithm=' part (expected algorithm=RSA256)"
        )
    algorithm = parts["algorithm"]
    if algorithm.upper() != ALGORITHM:
        raise SignatureError(
            f"Signature header says algorithm={algorithm}; only {ALGORITHM} (SHA256withRSA) is used"
        )
    key_version = parts.get("keyVersion", DEFAULT_KEY_VERSION)
    if not key_version:
        raise SignatureError("Signature header has an empty 'keyVersion='")
    signature, warning = _normalise_signature(parts["signature"], lenient=lenient)
    return SignatureHeader(ALGORITHM, key_version, signature, warning)


def _url_decode(text: str, *, lenient: bool) -> tuple[str, str | None]:
    """The URL-decoded value, as the SDKs decode it; a raw '+' is an error unless lenient."""
    if "+" not in text:
        return unquote_plus(text), None
    if not lenient:
        raise SignatureError(RAW_PLUS_MESSAGE)
    return unquote(text), RAW_WARNING


def _normalise_signature(text: str, *, lenient: bool) -> tuple[str, str | None]:
    if not text:
        raise SignatureError("Signature header has an empty 'signature='")
    decoded, warning = _url_decode(text, lenient=lenient)
    preview = decoded if len(decoded) <= 24 else decoded[:20] + "..."
    if _B64_RE.fullmatch(decoded):
        if len(decoded) % 4 == 0:
            return decoded, warning
        if not lenient:
            raise SignatureError(
                f"Signature value {preview!r} is not padded base64 (length {len(decoded)} is "
                "not a multiple of 4); send standard base64 with its = padding, URL-encoded"
            )
    if lenient and _URLSAFE_B64_RE.fullmatch(decoded):
        standard = decoded.rstrip("=").replace("-", "+").replace("_", "/")
        standard += "=" * (-len(standard) % 4)
        try:
            base64.b64decode(standard, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(f"Signature value {preview!r} is not base64") from None
        return standard, URLSAFE_WARNING
    raise SignatureError(_not_base64(decoded, preview))


def _not_base64(decoded: str, preview: str) -> str:
    """The most helpful explanation of a value that is not standard base64."""
    if " " in decoded and _B64_RE.fullmatch(decoded.replace(" ", "+")):
        return (
            "Signature value has spaces where base64 has '+': it was form-decoded; "
            "URL-encode the base64 signature (+ as %2B)"
        )
    if _URLSAFE_B64_RE.fullmatch(decoded):
        return (
            f"Signature value {preview!r} has '-' or '_' (URL-safe base64?); "
            "Alipay+ uses standard base64 (+ / =), URL-encoded"
        )
    return f"Signature value {preview!r} is not base64 (expected URL-encoded standard base64)"


def format_signature_header(signature_b64: str, key_version: str = DEFAULT_KEY_VERSION) -> str:
    """`algorithm=RSA256,keyVersion=<n>,signature=<base64 URL-encoded as Java's URLEncoder does>`."""
    return f"algorithm={ALGORITHM},keyVersion={key_version},signature={quote_plus(signature_b64, safe='')}"
