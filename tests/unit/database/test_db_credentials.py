"""Encrypted credential store: AES-GCM at rest, key handling, and no secret in any output."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, update

from btb.database.credentials import (
    Credential,
    CredentialStore,
    MasterKey,
    Secret,
    load_master_key,
)
from btb.database.manager import DatabaseManager
from btb.database.tables import credentials
from btb.errors import ConfigError

API_KEY = "AKIA-test-key-4f9c2e"
API_SECRET = "s3cr3t-Zq8w-do-not-leak-91b7"
PASSPHRASE = "pass-phrase-x72"


def _credential(name: str = "main") -> Credential:
    return Credential(name, "bybit", Secret(API_KEY), Secret(API_SECRET), Secret(PASSPHRASE), True)


def _contains_secret(text: str) -> bool:
    return any(s in text for s in (API_KEY, API_SECRET, PASSPHRASE))


# --- the cipher ---------------------------------------------------------------------------


def test_seal_and_open_round_trip_with_fresh_nonces() -> None:
    key, _text = MasterKey.generate()
    first = key.seal(API_SECRET, context="main/api_secret")
    second = key.seal(API_SECRET, context="main/api_secret")
    assert first != second  # random nonce: equal secrets do not look equal at rest
    assert API_SECRET.encode() not in first
    assert key.open(first, context="main/api_secret") == API_SECRET


def test_wrong_key_altered_data_or_swapped_row_are_clear_errors() -> None:
    key, _ = MasterKey.generate()
    other, _ = MasterKey.generate()
    blob = key.seal(API_SECRET, context="main/api_secret")
    with pytest.raises(ConfigError, match="wrong master key or altered data") as wrong:
        other.open(blob, context="main/api_secret")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ConfigError, match="altered data"):
        key.open(flipped, context="main/api_secret")
    with pytest.raises(ConfigError):  # bound to name and field: cannot move to another row
        key.open(blob, context="spare/api_secret")
    assert not _contains_secret(str(wrong.value))
    assert wrong.value.__cause__ is None and wrong.value.__suppress_context__


# --- the master key -----------------------------------------------------------------------


def test_key_file_is_created_with_mode_0600_and_reused(tmp_path: Path) -> None:
    key = load_master_key(tmp_path / "data", environ={})
    path = tmp_path / "data" / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.urlsafe_b64decode(path.read_text().strip())) == 32
    assert load_master_key(tmp_path / "data", environ={}).key_id == key.key_id


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_master_key(tmp_path, environ={})
    os.chmod(tmp_path / "master.key", 0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        load_master_key(tmp_path, environ={})


def test_environment_key_wins_and_is_validated(tmp_path: Path) -> None:
    _key, text = MasterKey.generate()
    from_env = load_master_key(tmp_path, environ={"BTB_MASTER_KEY": text})
    assert from_env.key_id == MasterKey.from_text(text, source="x").key_id
    assert not (tmp_path / "master.key").exists()  # no key file when the env var is set
    standard = base64.b64encode(base64.urlsafe_b64decode(text)).decode()
    assert MasterKey.from_text(standard, source="x").key_id == from_env.key_id
    with pytest.raises(ConfigError, match="BTB_MASTER_KEY: master key must decode to 32 bytes"):
        load_master_key(tmp_path, environ={"BTB_MASTER_KEY": base64.b64encode(b"short").decode()})
    with pytest.raises(ConfigError, match="BTB_MASTER_KEY: master key is not valid base64"):
        load_master_key(tmp_path, environ={"BTB_MASTER_KEY": "not base64 !"})
    with pytest.raises(ConfigError, match="no BTB_MASTER_KEY and no key file"):
        load_master_key(tmp_path / "empty", environ={}, create=False)


# --- no secret in reprs, logs or errors ---------------------------------------------------


def test_reprs_strs_and_formatting_hide_secrets() -> None:
    credential = _credential()
    key, _ = MasterKey.generate()
    shown = [
        repr(credential),
        str(credential),
        f"{credential}",
        repr(credential.api_secret),
        f"{credential.api_secret}",
        f"{credential.api_key!s}",
        format(credential.passphrase, ">40"),
        repr(key),
    ]
    for text in shown:
        assert not _contains_secret(text), text
    assert credential.api_secret.reveal() == API_SECRET
    assert credential.api_key_fingerprint in repr(credential)


def test_logging_a_credential_or_an_error_about_it_shows_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    credential = _credential()
    logger = logging.getLogger("btb.test")
    with caplog.at_level(logging.DEBUG, logger="btb.test"):
        logger.info("using %s / %r / %s", credential, credential, credential.api_secret)
        try:
            raise ConfigError(f"exchange refused {credential} with {credential.api_secret}")
        except ConfigError:
            logger.exception("failed")
    assert len(caplog.records) == 2
    assert credential.api_key_fingerprint in caplog.text  # the fingerprint identifies it
    assert not _contains_secret(caplog.text)


def test_a_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(API_SECRET))


# --- the store on both engines ------------------------------------------------------------


async def test_store_add_get_list_remove(db: DatabaseManager, tmp_path: Path) -> None:
    store = CredentialStore(db, load_master_key(tmp_path, environ={}))
    await store.add(_credential("main"))
    await store.add(Credential("spare", "binance", Secret("k2"), Secret("s2")))

    loaded = await store.get("main")
    assert (loaded.api_key.reveal(), loaded.api_secret.reveal()) == (API_KEY, API_SECRET)
    assert loaded.passphrase is not None and loaded.passphrase.reveal() == PASSPHRASE
    assert (loaded.exchange, loaded.testnet) == ("bybit", True)

    listed = await store.list_credentials()
    assert [(c.name, c.exchange, c.testnet) for c in listed] == [
        ("main", "bybit", True),
        ("spare", "binance", False),
    ]
    assert not _contains_secret(repr(listed))

    with pytest.raises(ConfigError, match="credential 'main' already exists"):
        await store.add(_credential("main"))
    await store.add(
        Credential("main", "bybit", Secret("new-key"), Secret("new-secret")), replace=True
    )
    assert (await store.get("main")).api_secret.reveal() == "new-secret"

    assert await store.remove("spare") is True
    assert await store.remove("spare") is False
    with pytest.raises(ConfigError, match="no credential named 'spare'"):
        await store.get("spare")


async def test_secrets_are_not_in_the_database_in_clear(
    db: DatabaseManager, tmp_path: Path
) -> None:
    await CredentialStore(db, load_master_key(tmp_path, environ={})).add(_credential())
    async with db.reading() as conn:
        row = (await conn.execute(select(credentials))).one()
    assert not _contains_secret(repr(tuple(row)))
    for value in row:
        if isinstance(value, bytes):
            assert API_SECRET.encode() not in value and API_KEY.encode() not in value


async def test_wrong_master_key_is_a_clear_error(db: DatabaseManager, tmp_path: Path) -> None:
    await CredentialStore(db, load_master_key(tmp_path / "a", environ={})).add(_credential())
    other = CredentialStore(db, load_master_key(tmp_path / "b", environ={}))
    with pytest.raises(ConfigError, match="wrong master key for 'main'") as error:
        await other.get("main")
    assert not _contains_secret(str(error.value))
    assert not _contains_secret(repr(other))


async def test_altered_ciphertext_is_detected(db: DatabaseManager, tmp_path: Path) -> None:
    store = CredentialStore(db, load_master_key(tmp_path, environ={}))
    await store.add(_credential())
    async with db.transaction() as conn:
        blob = (await conn.execute(select(credentials.c.api_secret_enc))).scalar_one()
        tampered = blob[:20] + bytes([blob[20] ^ 0xFF]) + blob[21:]
        await conn.execute(update(credentials).values(api_secret_enc=tampered))
    with pytest.raises(ConfigError, match="cannot decrypt main/api_secret"):
        await store.get("main")
