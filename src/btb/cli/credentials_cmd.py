"""``btb credentials``: add, list and remove exchange API keys in the encrypted store.

The secret is never taken from the command line (it would land in the shell history and the
process list): it is read from ``BTB_API_SECRET``, from the first line of standard input with
``--secret-stdin``, or asked for with hidden input. ``list`` shows no key and no secret, only
a fingerprint of the API key and whether the current master key opens it. The master key
comes from ``BTB_MASTER_KEY`` or the key file ``<data dir>/master.key`` (created, mode 0600,
by the first ``add``; ``list`` and ``remove`` never create one). Database failures are one
line (see :func:`btb.cli.db_cmd.database_errors`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from btb.cli.db_cmd import data_dir_of, run_on_database, with_database_options
from btb.database.credentials import (
    MASTER_KEY_ENV,
    Credential,
    CredentialInfo,
    CredentialStore,
    MasterKey,
    Secret,
    find_master_key,
    load_master_key,
)
from btb.database.manager import DatabaseManager
from btb.errors import ConfigError

SECRET_ENV = "BTB_API_SECRET"
T = TypeVar("T")


@click.group("credentials")
def credentials() -> None:
    """Manage exchange API credentials (encrypted at rest)."""


def _store_call(
    database_url: str | None,
    data_dir: str | None,
    config_path: str | None,
    action: Callable[[CredentialStore], Awaitable[T]],
    *,
    key: MasterKey | None,
) -> T:
    """Run ``action`` on the credential store of the selected database (upgraded first)."""

    async def _run(manager: DatabaseManager) -> T:
        await manager.initialize()
        return await action(CredentialStore(manager, key))

    return run_on_database(database_url, data_dir, config_path, _run)[1]


def _read_secret(from_stdin: bool) -> str:
    if from_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = os.environ.get(SECRET_ENV) or click.prompt(
            "API secret", hide_input=True, confirmation_prompt=True
        )
    if not secret:
        raise ConfigError("the API secret is empty", key_path=SECRET_ENV)
    return str(secret)


@credentials.command("add")
@click.argument("name")
@click.option("--exchange", required=True, help="Exchange id, e.g. bybit or binance.")
@click.option("--api-key", envvar="BTB_API_KEY", prompt="API key", help="API key (or BTB_API_KEY).")
@click.option("--secret-stdin", is_flag=True, help="Read the API secret from standard input.")
@click.option("--testnet", is_flag=True, help="Key for the exchange's demo/testnet environment.")
@click.option("--replace", is_flag=True, help="Overwrite a credential with the same name.")
@with_database_options
def add(
    name: str,
    exchange: str,
    api_key: str,
    secret_stdin: bool,
    testnet: bool,
    replace: bool,
    database_url: str | None,
    data_dir: str | None,
    config_path: str | None,
) -> None:
    """Store credential NAME (the secret is read from BTB_API_SECRET, stdin or a prompt)."""
    credential = Credential(
        name=name,
        exchange=exchange.lower(),
        api_key=Secret(api_key.strip()),
        api_secret=Secret(_read_secret(secret_stdin)),
        testnet=testnet,
    )

    async def _add(store: CredentialStore) -> None:
        await store.add(credential, replace=replace)

    key = load_master_key(data_dir_of(data_dir, config_path))
    _store_call(database_url, data_dir, config_path, _add, key=key)
    click.echo(f"stored {name} ({exchange}, key {credential.api_key_fingerprint})")


@credentials.command("list")
@with_database_options
def list_(database_url: str | None, data_dir: str | None, config_path: str | None) -> None:
    """List stored credentials: name, exchange, created, key fingerprint (no secrets).

    Fails (after listing) when the current master key cannot open some of them.
    """

    async def _list(store: CredentialStore) -> list[CredentialInfo]:
        return await store.list_credentials()

    key = find_master_key(data_dir_of(data_dir, config_path))
    rows = _store_call(database_url, data_dir, config_path, _list, key=key)
    if not rows:
        click.echo("no credentials stored")
        return
    header = f"{'NAME':20} {'EXCHANGE':10} {'NET':8} {'CREATED (UTC)':17} {'KEY FINGERPRINT':16}"
    click.echo(f"{header} MASTER KEY")
    for row in rows:
        net = "testnet" if row.testnet else "live"
        created = row.created_at.strftime("%Y-%m-%d %H:%M")
        usable = "ok" if key is not None and row.master_key_id == key.key_id else "OTHER KEY"
        click.echo(
            f"{row.name:20} {row.exchange:10} {net:8} {created:17} "
            f"{row.api_key_fingerprint:16} {usable}"
        )
    _check_key_opens(rows, key)


def _check_key_opens(rows: list[CredentialInfo], key: MasterKey | None) -> None:
    """ConfigError naming the credentials the current master key cannot decrypt."""
    if key is None:
        raise ConfigError(
            f"no master key ({MASTER_KEY_ENV} unset, no key file): these credentials cannot "
            "be decrypted",
            key_path=MASTER_KEY_ENV,
        )
    others = sorted({row.master_key_id for row in rows} - {key.key_id})
    if others:
        names = ", ".join(row.name for row in rows if row.master_key_id != key.key_id)
        raise ConfigError(
            f"wrong master key for {names}: encrypted with key id {', '.join(others)}, the "
            f"current key id is {key.key_id}; set {MASTER_KEY_ENV} or restore the key file",
            key_path=MASTER_KEY_ENV,
        )


@credentials.command("remove")
@click.argument("name")
@with_database_options
def remove(
    name: str, database_url: str | None, data_dir: str | None, config_path: str | None
) -> None:
    """Delete credential NAME."""

    async def _remove(store: CredentialStore) -> bool:
        return await store.remove(name)

    if not _store_call(database_url, data_dir, config_path, _remove, key=None):
        raise ConfigError(f"no credential named {name!r}", key_path="credentials")
    click.echo(f"removed {name}")
