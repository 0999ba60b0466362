"""Alipay+ message signing: content to sign, RSA256 sign/verify, the Signature header, keys, times.

The scheme, shared by every official Ant International SDK (see docs/signing.md):

    content  = "<METHOD> <path>\\n<Client-Id>.<Request-Time or Response-Time>.<raw body>"
    value    = base64(RSASSA-PKCS1-v1_5(SHA-256, content))      # standard alphabet, padded
    header   = "algorithm=RSA256,keyVersion=1,signature=" + urlencode(value)

We are tolerant where the real SDKs differ (time formats, header separators, key encodings,
URL-encoded or raw base64) and strict where they agree (the algorithm, the content layout,
standard base64).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote_plus, unquote

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "ALGORITHM",
    "CONTENT_TYPE",
    "DEFAULT_KEY_VERSION",
    "KeyFormatError",
    "RSAPrivateKey",
    "RSAPublicKey",
    "SignatureError",
    "SignatureHeader",
    "Signer",
    "content_to_sign",
    "format_signature_header",
    "format_time",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "parse_signature_header",
    "parse_time",
    "private_key_base64",
    "private_key_pem",
    "public_key_base64",
    "public_key_pem",
    "sign",
    "signed_request_headers",
    "signed_response_headers",
    "verify",
    "verify_headers",
]

ALGORITHM = "RSA256"
DEFAULT_KEY_VERSION = "1"
CONTENT_TYPE = "application/json; charset=UTF-8"
KEY_SIZE = 2048

_PADDING = padding.PKCS1v15()
_HASH = hashes.SHA256()
_KEY_CACHE_SIZE = 256


class SignatureError(ValueError):
    """A Signature header or signature that cannot be used, with a message a developer can act on."""


class KeyFormatError(ValueError):
    """Key text that is not an RSA key in any of the accepted encodings."""


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def generate_private_key() -> RSAPrivateKey:
    """A fresh RSA-2048 private key (public exponent 65537)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _key_text(text: str | bytes, what: str) -> str:
    """Key text as str, with escaped newlines (as stored in env files) turned into real ones."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            raise KeyFormatError(f"{what} is not text: expected PEM or base64") from None
    if not isinstance(text, str):
        raise TypeError(f"{what} must be str or bytes, not {type(text).__name__}")
    text = text.strip().replace("\\n", "\n")
    if not text:
        raise KeyFormatError(f"{what} is empty")
    return text


def _bare_base64_der(text: str, what: str) -> bytes:
    """Decode bare base64 key text (line breaks and spaces allowed) into DER bytes."""
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(
            f"{what} is neither PEM (-----BEGIN ...-----) nor valid base64"
        ) from None


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _load_private_key_cached(text: str) -> RSAPrivateKey:
    what = "private key"
    if "PUBLIC KEY" in text:
        raise KeyFormatError("this is a public key; a private key was expected")
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        else:
            key = serialization.load_der_private_key(_bare_base64_der(text, what), password=None)
    except KeyFormatError:
        raise
    except TypeError:
        raise KeyFormatError("the private key is encrypted; give an unencrypted key") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(
            "could not read the private key: expected RSA in PKCS#1 or PKCS#8, "
            f"as PEM or bare base64 ({exc})"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise KeyFormatError(f"the private key is {type(key).__name__}, not RSA")
    return key


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _load_public_key_cached(text: str) -> RSAPublicKey:
    what = "public key"
    if "PRIVATE KEY" in text:
        raise KeyFormatError("this is a private key; a public key was expected")
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = serialization.load_der_public_key(_bare_base64_der(text, what))
    except KeyFormatError:
        raise
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(
            "could not read the public key: expected RSA as SubjectPublicKeyInfo or PKCS#1, "
            f"PEM or bare base64 ({exc})"
        ) from None
    if not isinstance(key, RSAPublicKey):
        raise KeyFormatError(f"the public key is {type(key).__name__}, not RSA")
    return key


def load_private_key(text: str | bytes) -> RSAPrivateKey:
    """Read an RSA private key: PEM or bare base64, PKCS#1 or PKCS#8 (cached by text)."""
    return _load_private_key_cached(_key_text(text, "private key"))


def load_public_key(text: str | bytes) -> RSAPublicKey:
    """Read an RSA public key: PEM or bare base64, SubjectPublicKeyInfo or PKCS#1 (cached by text)."""
    return _load_public_key_cached(_key_text(text, "public key"))


def _private(key: RSAPrivateKey | str | bytes) -> RSAPrivateKey:
    return key if isinstance(key, RSAPrivateKey) else load_private_key(key)


def _public(key: RSAPublicKey | RSAPrivateKey | str | bytes) -> RSAPublicKey:
    if isinstance(key, RSAPublicKey):
        return key
    if isinstance(key, RSAPrivateKey):
        return key.public_key()
    return load_public_key(key)


def private_key_base64(key: RSAPrivateKey) -> str:
    """Bare base64 PKCS#8 DER, one line: the form every official SDK takes."""
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.b64encode(der).decode("ascii")


def private_key_pem(key: RSAPrivateKey, *, pkcs1: bool = False) -> str:
    """PEM text, PKCS#8 (`BEGIN PRIVATE KEY`) or with pkcs1=True `BEGIN RSA PRIVATE KEY`."""
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if pkcs1
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode(
        "ascii"
    )


def public_key_base64(key: RSAPublicKey | RSAPrivateKey) -> str:
    """Bare base64 SubjectPublicKeyInfo DER, one line (what the Alipay+ portal shows)."""
    der = _public(key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def public_key_pem(key: RSAPublicKey | RSAPrivateKey) -> str:
    """PEM text of the SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`)."""
    return (
        _public(key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


# --------------------------------------------------------------------------------------------
# Content to sign, sign, verify
# --------------------------------------------------------------------------------------------


def content_to_sign(
    method: str, path: str, client_id: str, time_str: str, body: bytes | str
) -> bytes:
    """The exact bytes signed: `<METHOD> <path>\\n<clientId>.<time>.<raw body>` (UTF-8, no trailer)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    head = f"{method} {path}\n{client_id}.{time_str}."
    return head.encode("utf-8") + bytes(body)


def sign(
    private_key: RSAPrivateKey | str | bytes,
    method: str,
    path: str,
    client_id: str,
    time_str: str,
    body: bytes | str,
) -> str:
    """RSA256 signature of the message as standard base64 (not yet URL-encoded)."""
    data = content_to_sign(method, path, client_id, time_str, body)
    raw = _private(private_key).sign(data, _PADDING, _HASH)
    return base64.b64encode(raw).decode("ascii")


def _signature_bytes(signature_b64: str) -> bytes | None:
    """Decode a standard (optionally URL-encoded) base64 signature; None if it is not one."""
    if "%" in signature_b64:
        signature_b64 = unquote(signature_b64)
    try:
        return base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify(
    public_key: RSAPublicKey | str | bytes,
    method: str,
    path: str,
    client_id: str,
    time_str: str,
    body: bytes | str,
    signature_b64: str,
) -> bool:
    """True if signature_b64 (standard base64, URL-encoded or not) signs this message."""
    raw = _signature_bytes(signature_b64)
    if not raw:
        return False
    data = content_to_sign(method, path, client_id, time_str, body)
    try:
        _public(public_key).verify(raw, data, _PADDING, _HASH)
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------------------------
# The Signature header
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureHeader:
    """A parsed Signature header; `signature` is standard base64 (URL-decoded)."""

    algorithm: str
    key_version: str
    signature: str


_HEADER_KEYS = {"algorithm": "algorithm", "keyversion": "keyVersion", "signature": "signature"}
_B64_RE = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_URLSAFE_B64_RE = re.compile(r"[A-Za-z0-9_\-]+={0,2}")


def parse_signature_header(value: str | bytes, *, lenient: bool = False) -> SignatureHeader:
    """Parse `algorithm=RSA256,keyVersion=1,signature=...` in any order, with or without spaces.

    The signature may be URL-encoded (upper- or lower-case escapes) or raw standard base64.
    A missing keyVersion means the SDK default "1". With lenient=True, URL-safe base64 without
    padding (a community-code deviation) is also accepted and normalised to standard base64.
    """
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("latin-1")
    if value is None or not str(value).strip():
        raise SignatureError("Signature header is empty")
    parts: dict[str, str] = {}
    for raw_part in str(value).split(","):
        part = raw_part.strip()
        if not part:
            continue
        name, sep, part_value = part.partition("=")
        name = name.strip()
        if not sep:
            raise SignatureError(
                f"Signature header part {part!r} is not name=value "
                "(expected algorithm=RSA256,keyVersion=1,signature=...)"
            )
        key = _HEADER_KEYS.get(name.lower())
        if key is None:
            continue  # unknown parts are ignored, as the SDKs' own parsers do
        if key in parts:
            raise SignatureError(f"Signature header has '{key}=' more than once")
        parts[key] = part_value.strip()
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
    signature = _normalise_signature(parts["signature"], lenient=lenient)
    return SignatureHeader(algorithm=ALGORITHM, key_version=key_version, signature=signature)


def _normalise_signature(text: str, *, lenient: bool) -> str:
    if not text:
        raise SignatureError("Signature header has an empty 'signature='")
    decoded = unquote(text) if "%" in text else text
    preview = decoded if len(decoded) <= 24 else decoded[:20] + "..."
    if _B64_RE.fullmatch(decoded):
        if len(decoded) % 4 == 0:
            return decoded
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
        return standard
    if " " in decoded and _B64_RE.fullmatch(decoded.replace(" ", "+")):
        raise SignatureError(
            "Signature value has spaces where base64 has '+': it was form-decoded; "
            "URL-encode the base64 signature (+ as %2B)"
        )
    if _URLSAFE_B64_RE.fullmatch(decoded):
        raise SignatureError(
            f"Signature value {preview!r} has '-' or '_' (URL-safe base64?); "
            "Alipay+ uses standard base64 (+ / =), URL-encoded"
        )
    raise SignatureError(
        f"Signature value {preview!r} is not base64 (expected URL-encoded standard base64)"
    )


def format_signature_header(signature_b64: str, key_version: str = DEFAULT_KEY_VERSION) -> str:
    """`algorithm=RSA256,keyVersion=<n>,signature=<base64 URL-encoded as Java's URLEncoder does>`."""
    return f"algorithm={ALGORITHM},keyVersion={key_version},signature={quote_plus(signature_b64, safe='')}"


# --------------------------------------------------------------------------------------------
# Request-Time / Response-Time
# --------------------------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:[.,](?P<frac>\d{1,9}))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:?\d{2})"
)
_EPOCH_MS_RE = re.compile(r"\d{12,14}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: str) -> datetime:
    """Parse a Request-Time/Response-Time as any SDK sends it; returns an aware datetime.

    Accepts ISO 8601 with an offset (`+08:00`, `+0000`, `Z`) and 0 to 9 fractional digits
    (beyond microseconds is truncated), or epoch milliseconds (12 to 14 digits).
    """
    if not isinstance(value, str):
        raise ValueError(f"time must be a string, not {type(value).__name__}")
    text = value.strip()
    if _EPOCH_MS_RE.fullmatch(text):
        return _EPOCH + timedelta(milliseconds=int(text))
    match = _ISO_RE.fullmatch(text)
    if not match:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?", text):
            raise ValueError(f"time {value!r} has no UTC offset (add Z or +08:00, for example)")
        raise ValueError(
            f"time {value!r} is neither ISO 8601 with an offset "
            "(2025-01-01T12:00:00+08:00) nor epoch milliseconds"
        )
    tz_text = match["tz"]
    if tz_text in ("Z", "z"):
        tz = UTC
    else:
        sign_ = -1 if tz_text[0] == "-" else 1
        digits = tz_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ValueError(f"time {value!r} has an impossible UTC offset {tz_text}")
        tz = timezone(sign_ * timedelta(hours=hours, minutes=minutes))
    micro = int((match["frac"] or "0").ljust(6, "0")[:6])
    try:
        return datetime.fromisoformat(
            f"{match['date']}T{match['h']}:{match['m']}:{match['s']}"
        ).replace(microsecond=micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"time {value!r} is not a real date and time ({exc})") from None


def format_time(dt: datetime) -> str:
    """ISO 8601 to the second with the datetime's own offset, e.g. 2025-01-01T12:00:00+08:00."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_time needs an aware datetime (with a UTC offset)")
    return dt.isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# Whole header sets
# --------------------------------------------------------------------------------------------


def signed_request_headers(
    private_key: RSAPrivateKey | str | bytes,
    client_id: str,
    path: str,
    body: bytes | str,
    when: datetime,
    key_version: str = DEFAULT_KEY_VERSION,
) -> dict[str, str]:
    """Headers for a signed POST: Content-Type, Client-Id, Request-Time, Signature."""
    time_str = format_time(when)
    value = sign(private_key, "POST", path, client_id, time_str, body)
    return {
        "Content-Type": CONTENT_TYPE,
        "Client-Id": client_id,
        "Request-Time": time_str,
        "Signature": format_signature_header(value, key_version),
    }


def signed_response_headers(
    private_key: RSAPrivateKey | str | bytes,
    client_id: str,
    path: str,
    body: bytes | str,
    when: datetime,
    key_version: str = DEFAULT_KEY_VERSION,
) -> dict[str, str]:
    """Headers for a signed response, lower-case as the Python SDK needs them.

    The signed content uses POST, the request's path and the Response-Time.
    """
    time_str = format_time(when)
    value = sign(private_key, "POST", path, client_id, time_str, body)
    return {
        "content-type": CONTENT_TYPE,
        "client-id": client_id,
        "response-time": time_str,
        "signature": format_signature_header(value, key_version),
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, item in headers.items():
        if key.lower() == lowered:
            return item
    return None


def verify_headers(
    public_key: RSAPublicKey | str | bytes,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    method: str = "POST",
    time_header: str = "Request-Time",
    client_id: str | None = None,
    lenient: bool = False,
) -> SignatureHeader:
    """Check a signed message's headers (case-insensitive names); raise SignatureError if bad.

    `time_header` is "Request-Time" for requests and "Response-Time" for responses; `client_id`
    overrides the Client-Id header (for example the one the caller expects).
    """
    raw_signature = _header(headers, "Signature")
    if raw_signature is None:
        raise SignatureError("message has no Signature header")
    parsed = parse_signature_header(raw_signature, lenient=lenient)
    time_str = _header(headers, time_header)
    if time_str is None:
        raise SignatureError(f"message has no {time_header} header, which is part of the signature")
    if client_id is None:
        client_id = _header(headers, "Client-Id")
        if client_id is None:
            raise SignatureError("message has no Client-Id header, which is part of the signature")
    if not verify(public_key, method, path, client_id, time_str, body, parsed.signature):
        raise SignatureError(
            f"signature does not verify over '{method} {path}', Client-Id {client_id!r}, "
            f"{time_header} {time_str!r} and the raw body ({len(body)} bytes) "
            "with the expected public key"
        )
    return parsed


@dataclass(frozen=True)
class Signer:
    """A private key with its client id and key version: signs requests and responses."""

    private_key: RSAPrivateKey
    client_id: str
    key_version: str = DEFAULT_KEY_VERSION

    @classmethod
    def from_text(
        cls, private_key: str | bytes, client_id: str, key_version: str = DEFAULT_KEY_VERSION
    ) -> Signer:
        """A Signer from key text in any accepted format."""
        return cls(load_private_key(private_key), client_id, key_version)

    def request_headers(self, path: str, body: bytes | str, when: datetime) -> dict[str, str]:
        """Signed request headers for POST `path` with `body`."""
        return signed_request_headers(
            self.private_key, self.client_id, path, body, when, self.key_version
        )

    def response_headers(self, path: str, body: bytes | str, when: datetime) -> dict[str, str]:
        """Signed lower-case response headers for a request to `path`."""
        return signed_response_headers(
            self.private_key, self.client_id, path, body, when, self.key_version
        )
