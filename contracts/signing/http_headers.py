"""Whole header sets: signed request and response headers, checking a signed message, Signer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from contracts.signing.base import CONTENT_TYPE, DEFAULT_KEY_VERSION, SignatureError
from contracts.signing.keys import RSAPrivateKey, RSAPublicKey, load_private_key
from contracts.signing.rsa256 import sign, verify
from contracts.signing.signature_header import (
    SignatureHeader,
    format_signature_header,
    parse_signature_header,
)
from contracts.signing.times import format_time


def signed_request_headers(
    private_key: RSAPrivateKey | str | bytes,
    client_id: str,
    path: str,
    body: bytes | str,
    when: datetime,
    key_version: str = DEFAULT_KEY_VERSION,
) -> dict[str, str]:
    """Headers for a signed POST: Content-Type, Client-Id, Request-Time, Signature."""
    names = ("Content-Type", "Client-Id", "Request-Time", "Signature")
    return _signed(names, private_key, client_id, path, body, when, key_version)


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
    names = ("content-type", "client-id", "response-time", "signature")
    return _signed(names, private_key, client_id, path, body, when, key_version)


def _signed(
    names: tuple[str, str, str, str],
    private_key: RSAPrivateKey | str | bytes,
    client_id: str,
    path: str,
    body: bytes | str,
    when: datetime,
    key_version: str,
) -> dict[str, str]:
    """The four headers under `names` (content type, client id, time, signature)."""
    time_str = format_time(when)
    value = sign(private_key, "POST", path, client_id, time_str, body)
    values = (CONTENT_TYPE, client_id, time_str, format_signature_header(value, key_version))
    return dict(zip(names, values, strict=True))


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
