"""The wallet's key pair (generated once, kept in its data dir) and Alipay+'s public key."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any

import requests

from contracts import signing


def load_or_create_private_key(data_dir: Path, configured: str = "") -> Any:
    """The configured private key, else the one saved in data_dir/keys, else a new saved one."""
    if configured:
        return signing.load_private_key(configured)
    path = data_dir / "keys" / "wallet_private_key.pem"
    if path.exists():
        return signing.load_private_key(path.read_bytes())
    key = signing.generate_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(signing.private_key_pem(key), encoding="utf-8")
    path.chmod(0o600)
    (path.parent / "wallet_public_key.pem").write_text(
        signing.public_key_pem(key.public_key()), encoding="utf-8"
    )
    return key


def session_secret(data_dir: Path, configured: str = "") -> str:
    """The configured session secret, else one generated once and saved in data_dir/keys."""
    if configured:
        return configured
    path = data_dir / "keys" / "session_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


class AlipayPublicKey:
    """Alipay+'s public key: configured, or fetched once from the simulator's GET /_sim/keys."""

    def __init__(self, configured: str, alipay_url: str, timeout: float = 5.0) -> None:
        self._key = signing.load_public_key(configured) if configured else None
        self._url = alipay_url.rstrip("/") + "/_sim/keys"
        self._timeout = timeout
        self._lock = threading.Lock()

    def set(self, text: str) -> None:
        """Replace the key (PEM or bare base64)."""
        with self._lock:
            self._key = signing.load_public_key(text)

    @property
    def known(self) -> bool:
        """Whether the key is loaded."""
        return self._key is not None

    def __call__(self) -> Any:
        """The loaded key; fetches it on first use when not configured."""
        with self._lock:
            if self._key is None:
                answer = requests.get(self._url, timeout=self._timeout)
                answer.raise_for_status()
                data = answer.json()
                text = data.get("publicKey") or data.get("publicKeyPem") or data.get("pem")
                if not text:
                    raise ValueError(f"{self._url} did not answer a publicKey")
                self._key = signing.load_public_key(text)
            return self._key
