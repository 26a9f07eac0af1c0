"""Exchange API credentials, encrypted at rest (seed 003's ``credentials`` table).

Each secret field is sealed with AES-256-GCM (authenticated: a changed byte or a wrong key
is detected, never decrypted into garbage). The associated data binds a ciphertext to its
credential name and field, so ciphertexts cannot be swapped between rows. Blob layout:
``version (1 byte) | nonce (12 bytes) | ciphertext+tag``.

The 32-byte master key comes from ``BTB_MASTER_KEY`` (base64) or from a key file, by
default ``<data_dir>/master.key``, created on first use with mode 0600 and refused if other
users can read it. Secrets are wrapped in :class:`Secret`, whose repr and str are masked, so
logging a credential, or an exception that mentions one, shows no secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from btb.database.engine import DEFAULT_DATA_DIR
from btb.database.tables import credentials
from btb.errors import ConfigError

if TYPE_CHECKING:
    from btb.database.base import DatabaseBase

log = logging.getLogger(__name__)

MASTER_KEY_ENV = "BTB_MASTER_KEY"
KEY_FILE_NAME = "master.key"
_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_BYTES = 32


class Secret:
    """A string that does not show itself: ``repr``/``str``/f-strings print ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it (request signing)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(fingerprint(self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def fingerprint(value: str) -> str:
    """A short, non-reversible identifier of a key (12 hex digits of its SHA-256)."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True, repr=False)
class Credential:
    """An exchange API key pair. Secrets are :class:`Secret`; call ``.reveal()`` to use them."""

    name: str
    exchange: str
    api_key: Secret
    api_secret: Secret
    passphrase: Secret | None = None
    testnet: bool = False
    created_at: datetime | None = None

    @property
    def api_key_fingerprint(self) -> str:
        return fingerprint(self.api_key.reveal())

    def __repr__(self) -> str:
        return (
            f"Credential(name={self.name!r}, exchange={self.exchange!r}, "
            f"testnet={self.testnet}, api_key_fingerprint={self.api_key_fingerprint!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """What may be shown about a stored credential: no key, no secret."""

    name: str
    exchange: str
    testnet: bool
    api_key_fingerprint: str
    master_key_id: str
    created_at: datetime


class MasterKey:
    """The AES-256-GCM key that seals credentials; ``key_id`` names it without revealing it."""

    __slots__ = ("_aead", "key_id")

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise ConfigError(f"master key must be {_KEY_BYTES} bytes", key_path=MASTER_KEY_ENV)
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"btb-master-key-id:" + key).hexdigest()[:12]

    @classmethod
    def generate(cls) -> tuple[MasterKey, str]:
        """A new random key and its base64 text (for a key file or ``BTB_MASTER_KEY``)."""
        key = AESGCM.generate_key(bit_length=256)
        return cls(key), base64.urlsafe_b64encode(key).decode()

    @classmethod
    def from_text(cls, text: str, *, source: str) -> MasterKey:
        """Decode a base64 (standard or URL-safe) key; ``source`` names where it came from."""
        cleaned = text.strip()
        try:
            key = base64.urlsafe_b64decode(cleaned.replace("+", "-").replace("/", "_"))
        except (binascii.Error, ValueError):
            raise ConfigError("master key is not valid base64", key_path=source) from None
        if len(key) != _KEY_BYTES:
            raise ConfigError(
                f"master key must decode to {_KEY_BYTES} bytes, got {len(key)}", key_path=source
            )
        return cls(key)

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"

    def seal(self, plaintext: str, *, context: str) -> bytes:
        """Encrypt ``plaintext`` bound to ``context`` (credential name and field)."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, blob: bytes, *, context: str) -> str:
        """Decrypt a sealed value; a wrong key or altered data raises ConfigError."""
        if blob[:1] != _VERSION:
            raise ConfigError(f"credential store: {context}: unknown encryption format")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode()).decode()
        except InvalidTag:
            raise ConfigError(
                f"credential store: cannot decrypt {context}: wrong master key or altered data"
            ) from None


def load_master_key(
    data_dir: str | Path = DEFAULT_DATA_DIR,
    *,
    key_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    create: bool = True,
) -> MasterKey:
    """The master key from ``BTB_MASTER_KEY``, else from the key file (created if missing)."""
    env = os.environ if environ is None else environ
    if env.get(MASTER_KEY_ENV):
        return MasterKey.from_text(env[MASTER_KEY_ENV], source=MASTER_KEY_ENV)
    path = Path(key_file) if key_file is not None else Path(data_dir) / KEY_FILE_NAME
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"key file {path} is readable by other users (mode {mode:04o}); chmod 600 it",
                key_path=MASTER_KEY_ENV,
            )
        return MasterKey.from_text(path.read_text(), source=str(path))
    if not create:
        raise ConfigError(f"no {MASTER_KEY_ENV} and no key file at {path}", key_path=MASTER_KEY_ENV)
    return _create_key_file(path)


def find_master_key(
    data_dir: str | Path = DEFAULT_DATA_DIR, *, environ: Mapping[str, str] | None = None
) -> MasterKey | None:
    """The configured master key (as :func:`load_master_key`), or None when there is none;
    never creates a key file."""
    env = os.environ if environ is None else environ
    if not env.get(MASTER_KEY_ENV) and not (Path(data_dir) / KEY_FILE_NAME).exists():
        return None
    return load_master_key(data_dir, environ=env, create=False)


def _create_key_file(path: Path) -> MasterKey:
    key, text = MasterKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key another process just wrote; 0600 from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    log.warning("created master key file %s (key id %s); back it up", path, key.key_id)
    return key


class CredentialStore:
    """Add, read, list and remove encrypted credentials in the database.

    Listing and removing need no key (``key`` may be None); adding and reading do. Every
    credential of a store is sealed with one master key: adding one while others were sealed
    with a different key is refused (it would leave a store no single key can open).
    """

    def __init__(self, db: DatabaseBase, key: MasterKey | None) -> None:
        self._db = db
        self._master = key

    def __repr__(self) -> str:
        key_id = self._master.key_id if self._master is not None else None
        return f"CredentialStore({self._db.url!r}, key_id={key_id!r})"

    @property
    def key_id(self) -> str | None:
        """The id of the master key in use (None without one)."""
        return self._master.key_id if self._master is not None else None

    @property
    def _key(self) -> MasterKey:
        if self._master is None:
            raise ConfigError(
                f"no master key: set {MASTER_KEY_ENV} or provide the key file",
                key_path=MASTER_KEY_ENV,
            )
        return self._master

    async def sealed_with_other_keys(self, *, except_name: str | None = None) -> list[str]:
        """Names of stored credentials the current master key cannot open (by key id)."""
        where = credentials.c.master_key_id != self._key.key_id
        if except_name is not None:
            where &= credentials.c.name != except_name
        async with self._db.reading() as conn:
            stmt = select(credentials.c.name).where(where).order_by(credentials.c.name)
            return list((await conn.execute(stmt)).scalars())

    async def add(self, credential: Credential, *, replace: bool = False) -> None:
        """Store ``credential``; an existing name is a ConfigError unless ``replace``, and so
        is a store whose other credentials were sealed with another master key."""
        name = credential.name
        foreign = await self.sealed_with_other_keys(except_name=name if replace else None)
        if foreign:
            raise ConfigError(
                f"credential store: {', '.join(map(repr, foreign))} cannot be opened with the "
                f"current master key (key id {self._key.key_id}); set {MASTER_KEY_ENV} or "
                "restore the key file they were added with (or remove them) before adding more",
                key_path=MASTER_KEY_ENV,
            )
        values = self._sealed_row(credential)
        async with self._db.transaction() as conn:
            where = credentials.c.name == name
            exists = (await conn.execute(select(credentials.c.id).where(where))).first()
            if exists and not replace:
                raise ConfigError(f"credential {name!r} already exists", key_path="credentials")
            if exists:
                await conn.execute(credentials.update().where(where).values(values))
            else:
                await conn.execute(credentials.insert(), values)

    def _sealed_row(self, credential: Credential) -> dict[str, Any]:
        """The ``credentials`` row of ``credential``: each secret sealed to its name/field."""
        name, key = credential.name, self._key
        now = datetime.now(UTC)
        passphrase = credential.passphrase
        return {
            "name": name,
            "exchange": credential.exchange,
            "testnet": credential.testnet,
            "api_key_enc": key.seal(credential.api_key.reveal(), context=f"{name}/api_key"),
            "api_secret_enc": key.seal(
                credential.api_secret.reveal(), context=f"{name}/api_secret"
            ),
            "passphrase_enc": None
            if passphrase is None
            else key.seal(passphrase.reveal(), context=f"{name}/passphrase"),
            "api_key_fingerprint": credential.api_key_fingerprint,
            "master_key_id": key.key_id,
            "created_at": credential.created_at or now,
            "updated_at": now,
        }

    async def get(self, name: str) -> Credential:
        """The decrypted credential ``name``; ConfigError if missing or the key is wrong."""
        async with self._db.reading() as conn:
            stmt = select(credentials).where(credentials.c.name == name)
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise ConfigError(f"no credential named {name!r}", key_path="credentials")
        if row["master_key_id"] != self._key.key_id:
            raise ConfigError(
                f"credential store: wrong master key for {name!r}: it was encrypted with key "
                f"id {row['master_key_id']}, the current key id is {self._key.key_id} "
                f"(check {MASTER_KEY_ENV} or the key file)"
            )
        passphrase = row["passphrase_enc"]
        return Credential(
            name=name,
            exchange=row["exchange"],
            api_key=Secret(self._key.open(row["api_key_enc"], context=f"{name}/api_key")),
            api_secret=Secret(self._key.open(row["api_secret_enc"], context=f"{name}/api_secret")),
            passphrase=Secret(self._key.open(passphrase, context=f"{name}/passphrase"))
            if passphrase is not None
            else None,
            testnet=bool(row["testnet"]),
            created_at=row["created_at"],
        )

    async def list_credentials(self) -> list[CredentialInfo]:
        """Every stored credential's public facts, by name (nothing is decrypted)."""
        fields = ("name", "exchange", "testnet", "api_key_fingerprint", "master_key_id")
        stmt = select(*(credentials.c[f] for f in fields), credentials.c.created_at)
        async with self._db.reading() as conn:
            rows = (await conn.execute(stmt.order_by(credentials.c.name))).mappings().all()
        return [CredentialInfo(**{**row, "testnet": bool(row["testnet"])}) for row in rows]

    async def remove(self, name: str) -> bool:
        """Delete credential ``name``; False if there was none."""
        async with self._db.transaction() as conn:
            result = await conn.execute(credentials.delete().where(credentials.c.name == name))
            return bool(result.rowcount)
