"""Content to sign, RSA256 (SHA256withRSA, PKCS#1 v1.5) sign and verify over the exact bytes."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from contracts.signing.keys import as_private_key, as_public_key

_PADDING = padding.PKCS1v15()
_HASH = hashes.SHA256()


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
    raw = as_private_key(private_key).sign(data, _PADDING, _HASH)
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
        as_public_key(public_key).verify(raw, data, _PADDING, _HASH)
    except InvalidSignature:
        return False
    return True
