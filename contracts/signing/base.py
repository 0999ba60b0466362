"""Constants and errors shared by the signing modules (no imports from the rest of signing)."""

from __future__ import annotations

ALGORITHM = "RSA256"
DEFAULT_KEY_VERSION = "1"
CONTENT_TYPE = "application/json; charset=UTF-8"
KEY_SIZE = 2048


class SignatureError(ValueError):
    """A Signature header or signature that cannot be used, with a message a developer can act on."""


class KeyFormatError(ValueError):
    """Key text that is not an RSA key in any of the accepted encodings."""
