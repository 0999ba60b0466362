"""Alipay+ message signing: content to sign, RSA256 sign/verify, the Signature header, keys, times.

The scheme, shared by every official Ant International SDK (see docs/signing.md):

    content  = "<METHOD> <path>\\n<Client-Id>.<Request-Time or Response-Time>.<raw body>"
    value    = base64(RSASSA-PKCS1-v1_5(SHA-256, content))      # standard alphabet, padded
    header   = "algorithm=RSA256,keyVersion=1,signature=" + urlencode(value)

We are tolerant where the real SDKs differ (time formats, header separators, key encodings)
and strict where they agree (the algorithm, the content layout, standard base64, and the
signature value always URL-decoded: a raw base64 value with `+` is refused unless the caller
asks for `lenient=True`).

The package is split by subject (keys, rsa256, signature_header, times, http_headers); every
public name is importable from `contracts.signing` itself.
"""

from __future__ import annotations

from contracts.signing.base import (
    ALGORITHM,
    CONTENT_TYPE,
    DEFAULT_KEY_VERSION,
    KEY_SIZE,
    KeyFormatError,
    SignatureError,
)
from contracts.signing.http_headers import (
    Signer,
    signed_request_headers,
    signed_response_headers,
    verify_headers,
)
from contracts.signing.keys import (
    RSAPrivateKey,
    RSAPublicKey,
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_base64,
    private_key_pem,
    public_key_base64,
    public_key_pem,
)
from contracts.signing.rsa256 import content_to_sign, sign, verify
from contracts.signing.signature_header import (
    SignatureHeader,
    format_signature_header,
    parse_signature_header,
)
from contracts.signing.times import format_time, parse_time

__all__ = [
    "ALGORITHM",
    "CONTENT_TYPE",
    "DEFAULT_KEY_VERSION",
    "KEY_SIZE",
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
