"""RSA keys in every encoding the official SDKs use: PEM or bare base64, PKCS#1 or PKCS#8 / SPKI."""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from contracts.signing.base import KEY_SIZE, KeyFormatError

_KEY_CACHE_SIZE = 256


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


def as_private_key(key: RSAPrivateKey | str | bytes) -> RSAPrivateKey:
    return key if isinstance(key, RSAPrivateKey) else load_private_key(key)


def as_public_key(key: RSAPublicKey | RSAPrivateKey | str | bytes) -> RSAPublicKey:
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
    der = as_public_key(key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def public_key_pem(key: RSAPublicKey | RSAPrivateKey) -> str:
    """PEM text of the SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`)."""
    return (
        as_public_key(key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
