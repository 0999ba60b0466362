"""The simulator's RSA key pair and the participants (MPPs) registered with it.

Files in `<data_dir>/keys/` (created on first start, never overwritten):

- `simulator_private_key.pem`, `simulator_public_key.pem`, `simulator_public_key.txt` — the
  key Alipay+ (this simulator) signs with; the `.txt` is bare base64 SubjectPublicKeyInfo, the
  form the official SDKs take as "alipay public key".
- `<clientId>/private_key.pem`, `<clientId>/private_key.txt`, `<clientId>/public_key.txt` — the
  default MPP's own key pair, so a newcomer can sign requests at once (`aplus-sim keys` prints
  them; `.txt` is bare base64 PKCS#8, what the SDKs take as "merchant private key").

In code: `sim.keys.default_mpp_private_key()` / `.default_mpp_private_key_base64()` give the
default MPP's key, `sim.keys.private_key` / `.public_key_base64` the simulator's.

Participants live in the database (table `participants`), so every worker process sees a
`PUT /_sim/participants/<clientId>` at once.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from sqlalchemy import Column, Engine, String, Table, Text, bindparam, select
from sqlalchemy.exc import IntegrityError

from contracts import signing
from simulator.db import FastRead, metadata, read

participants_table = Table(
    "participants",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("psp_id", String(64), nullable=False),
    Column("acquirer_id", String(64), nullable=False),
    Column("public_key", Text, nullable=True),  # bare base64 SubjectPublicKeyInfo
    Column("wallet_currency", String(3), nullable=False),
    Column("cashier_url", Text, nullable=False),
    Column("inquiry_payment_url", Text, nullable=False),
    Column("cancel_payment_url", Text, nullable=False),
    Column("refund_url", Text, nullable=False),
    Column("signature_mode", String(16), nullable=False),
)

# Built once: every request looks its participant up.
_BY_CLIENT_ID = select(participants_table).where(
    participants_table.c.client_id == bindparam("client_id")
)

# Binding field names (other tooling relies on them) -> column names.
FIELDS = {
    "pspId": "psp_id",
    "acquirerId": "acquirer_id",
    "publicKey": "public_key",
    "walletCurrency": "wallet_currency",
    "cashierUrl": "cashier_url",
    "inquiryPaymentUrl": "inquiry_payment_url",
    "cancelPaymentUrl": "cancel_payment_url",
    "refundUrl": "refund_url",
    "signatureMode": "signature_mode",
}
SIGNATURE_MODES = ("strict", "off")
DEFAULT_WALLET_CURRENCY = "KRW"
URL_FIELDS = ("cashierUrl", "inquiryPaymentUrl", "cancelPaymentUrl", "refundUrl")
WALLET_PATHS = {
    "cashierUrl": "/cashier",
    "inquiryPaymentUrl": "/aps/api/v1/payments/inquiryPayment",
    "cancelPaymentUrl": "/aps/api/v1/payments/cancelPayment",
    "refundUrl": "/aps/api/v1/payments/refund",
}


class ParticipantError(ValueError):
    """A participant registration that cannot be accepted (the message says why)."""


def _digits(prefix: str, client_id: str | None, total: int = 16) -> str:
    """An id of `total` digits starting with `prefix` (the sandbox's pspId/acquirerId shape).

    Derived from `client_id` when given, so a wallet keeps its ids across simulators and resets
    (and seeded runs repeat byte for byte); random otherwise.
    """
    rng: Any = random.Random(f"{prefix}:{client_id}") if client_id else secrets.SystemRandom()
    return prefix + "".join(rng.choice("0123456789") for _ in range(total - len(prefix)))


def new_psp_id(client_id: str | None = None) -> str:
    """A 16-digit pspId (stable for a given clientId)."""
    return _digits("1022172", client_id)


def new_acquirer_id(client_id: str | None = None) -> str:
    """A 16-digit acquirerId (stable for a given clientId)."""
    return _digits("1022188", client_id)


def _write_once(path: Path, text: str, private: bool = False) -> str:
    """Create `path` with `text` unless it exists (atomic across processes); return its text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    tmp.write_text(text)
    if private:
        tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # fails if another process got there first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text()


def _private_pem(key: RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _load_own_private_key(pem: str) -> RSAPrivateKey:
    """Load a key file this simulator wrote itself.

    The full RSA consistency check costs ~120 ms per key on every start; these are our own
    files, so it is skipped (keys from elsewhere go through `signing.load_private_key`).
    """
    key = serialization.load_pem_private_key(
        pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the key file does not hold an RSA private key")
    return key


def _load_or_create_key_pair(directory: Path, stem: str) -> RSAPrivateKey:
    """The key pair in `directory` (created on first use); returns the private key."""
    pem_path = directory / f"{stem}private_key.pem"
    if not pem_path.exists():
        generated = signing.generate_private_key()
        pem = _write_once(pem_path, _private_pem(generated), private=True)
        key = generated if pem == _private_pem(generated) else _load_own_private_key(pem)
    else:
        key = _load_own_private_key(pem_path.read_text())
    public = key.public_key()
    for name, text in (
        (f"{stem}public_key.pem", lambda: signing.public_key_pem(public)),
        (f"{stem}public_key.txt", lambda: signing.public_key_base64(public) + "\n"),
    ):
        if not (directory / name).exists():
            _write_once(directory / name, text())
    if stem == "" and not (directory / "private_key.txt").exists():
        _write_once(
            directory / "private_key.txt", signing.private_key_base64(key) + "\n", private=True
        )
    return key


def _check_url(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ParticipantError(f"{name} must be a non-empty URL string")
    parts = urlsplit(value)
    if not parts.scheme or (parts.scheme in ("http", "https") and not parts.netloc):
        raise ParticipantError(f"{name} must be an absolute URL, not {value!r}")
    return value


class KeyStore:
    """The simulator's key pair, the default MPP's key files and the participant registry."""

    def __init__(self, engine: Engine, data_dir: Path, default_client_id: str, wallet_url: str):
        self.engine = engine
        self.keys_dir = Path(data_dir) / "keys"
        self.default_client_id = default_client_id
        self.default_wallet_url = wallet_url.rstrip("/")
        self.private_key: RSAPrivateKey = _load_or_create_key_pair(self.keys_dir, "simulator_")
        self.public_key: RSAPublicKey = self.private_key.public_key()
        self.public_key_base64: str = signing.public_key_base64(self.public_key)
        self.public_key_pem: str = signing.public_key_pem(self.public_key)
        self._key_cache: dict[str, RSAPublicKey] = {}
        self._lock = threading.Lock()
        self._default_mpp_key: RSAPrivateKey | None = None
        self._by_client_id = FastRead(engine, _BY_CLIENT_ID)
        self.ensure_default_participant()

    # -- the default MPP ------------------------------------------------------------------

    @property
    def default_mpp_dir(self) -> Path:
        """Where the default MPP's key files are."""
        return self.keys_dir / self.default_client_id

    def default_mpp_private_key(self) -> RSAPrivateKey:
        """The default MPP's private key (created on first start)."""
        if self._default_mpp_key is None:
            self._default_mpp_key = _load_or_create_key_pair(self.default_mpp_dir, "")
        return self._default_mpp_key

    def default_mpp_private_key_base64(self) -> str:
        """The default MPP's private key as bare base64 PKCS#8 (what the SDKs take)."""
        return signing.private_key_base64(self.default_mpp_private_key())

    def ensure_default_participant(self) -> dict[str, Any]:
        """Register the default MPP with its own generated key, unless it exists already."""
        existing = self.participant(self.default_client_id)
        if existing is not None:
            return existing
        key = self.default_mpp_private_key()
        row = self._defaults(self.default_client_id)
        row["public_key"] = signing.public_key_base64(key.public_key())
        try:
            with self.engine.begin() as conn:
                conn.execute(participants_table.insert().values(**row))
        except IntegrityError:  # another worker registered it at the same moment
            pass
        return self.participant(self.default_client_id) or {}

    def _defaults(self, client_id: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "client_id": client_id,
            "psp_id": new_psp_id(client_id),
            "acquirer_id": new_acquirer_id(client_id),
            "public_key": None,
            "wallet_currency": DEFAULT_WALLET_CURRENCY,
            "signature_mode": "strict",
        }
        for name, path in WALLET_PATHS.items():
            row[FIELDS[name]] = self.default_wallet_url + path
        return row

    # -- participants -------------------------------------------------------------------

    def participant(self, client_id: str) -> dict[str, Any] | None:
        """The participant registered under `client_id` (binding field names), or None."""
        row = self._by_client_id.first(client_id=client_id)
        return None if row is None else self._as_dict(row)

    def participants(self) -> list[dict[str, Any]]:
        """Every registered participant."""
        with read(self.engine) as conn:
            rows = conn.execute(
                select(participants_table).order_by(participants_table.c.client_id)
            ).all()
        return [self._as_dict(row) for row in rows]

    @staticmethod
    def _as_dict(row: Any) -> dict[str, Any]:
        """A participants row (attribute access) in binding field names."""
        out: dict[str, Any] = {"clientId": row.client_id}
        for name, column in FIELDS.items():
            out[name] = getattr(row, column)
        return out

    def put_participant(self, client_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Create or update a participant; fields not given keep their value (or default)."""
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            raise ParticipantError("clientId must be 1 to 64 characters")
        if not isinstance(fields, dict):
            raise ParticipantError("the body must be a JSON object")
        unknown = sorted(set(fields) - set(FIELDS) - {"clientId"})
        if unknown:
            raise ParticipantError(f"unknown field(s) {unknown}; known: {sorted(FIELDS)}")
        if fields.get("clientId", client_id) != client_id:
            raise ParticipantError("clientId in the body differs from the one in the path")
        values = self._checked(fields)
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(participants_table.c.client_id).where(
                    participants_table.c.client_id == client_id
                )
            ).first()
            if exists:
                if values:
                    conn.execute(
                        participants_table.update()
                        .where(participants_table.c.client_id == client_id)
                        .values(**values)
                    )
            else:
                row = self._defaults(client_id)
                row.update(values)
                conn.execute(participants_table.insert().values(**row))
        return self.participant(client_id) or {}

    def _checked(self, fields: dict[str, Any]) -> dict[str, Any]:
        from contracts import money

        values: dict[str, Any] = {}
        for name in ("pspId", "acquirerId"):
            if name in fields:
                value = fields[name]
                if not isinstance(value, str) or not 0 < len(value) <= 64:
                    raise ParticipantError(f"{name} must be a string of 1 to 64 characters")
                values[FIELDS[name]] = value
        if "publicKey" in fields:
            text = fields["publicKey"]
            if text is None:
                values["public_key"] = None
            else:
                try:
                    key = signing.load_public_key(text)
                except Exception as exc:
                    raise ParticipantError(
                        "publicKey must be an RSA public key (PEM or bare base64, "
                        f"SubjectPublicKeyInfo or PKCS#1): {exc}"
                    ) from exc
                values["public_key"] = signing.public_key_base64(key)
        if "walletCurrency" in fields:
            currency = fields["walletCurrency"]
            try:
                money.exponent(currency)
            except (KeyError, TypeError) as exc:
                raise ParticipantError(
                    f"walletCurrency {currency!r} is not an ISO 4217 currency code"
                ) from exc
            values["wallet_currency"] = currency
        for name in URL_FIELDS:
            if name in fields:
                values[FIELDS[name]] = _check_url(name, fields[name])
        if "signatureMode" in fields:
            if fields["signatureMode"] not in SIGNATURE_MODES:
                raise ParticipantError(f"signatureMode must be one of {list(SIGNATURE_MODES)}")
            values["signature_mode"] = fields["signatureMode"]
        return values

    def participant_public_key(self, client_id: str) -> RSAPublicKey | None:
        """The participant's public key, loaded once per distinct key text (None if none)."""
        participant = self.participant(client_id)
        if participant is None or not participant["publicKey"]:
            return None
        return self.load_public_key(participant["publicKey"])

    def load_public_key(self, text: str) -> RSAPublicKey:
        """A loaded public key for `text`, cached (bounded) so verification stays cheap."""
        key = self._key_cache.get(text)
        if key is None:
            key = signing.load_public_key(text)
            with self._lock:
                if len(self._key_cache) >= 256:
                    self._key_cache.clear()
                self._key_cache[text] = key
        return key

    def delete_participants(self) -> None:
        """Forget every participant, then register the default MPP again (same key files)."""
        with self.engine.begin() as conn:
            conn.execute(participants_table.delete())
        self.ensure_default_participant()


def init_app(app):
    """Load (or create) the keys and the default MPP."""
    sim = app.extensions["aplus_sim"]
    sim.keys = KeyStore(
        sim.engine, sim.config.data_dir, sim.config.default_client_id, sim.config.default_wallet_url
    )
