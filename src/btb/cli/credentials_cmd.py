"""``btb credentials``: add, list and remove exchange API keys in the encrypted store.

The secret is never taken from the command line (it would land in the shell history and the
process list): it is read from ``BTB_API_SECRET``, from the first line of standard input with
``--secret-stdin``, or asked for with hidden input. ``list`` shows no key and no secret, only
a fingerprint of the API key. The master key comes from ``BTB_MASTER_KEY`` or the key file
``<data dir>/master.key`` (created, mode 0600, on first use).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import click

from btb.cli.db_cmd import data_dir_of, open_database, with_database_options
from btb.database.credentials import Credential, CredentialStore, Secret, load_master_key
from btb.errors import ConfigError

SECRET_ENV = "BTB_API_SECRET"


@click.group("credentials")
def credentials() -> None:
    """Manage exchange API credentials (encrypted at rest)."""


def _store_call(
    database_url: str | None, data_dir: str | None, config_path: str | None, action: Any
) -> Any:
    manager = open_database(database_url, data_dir, config_path)
    key = load_master_key(data_dir_of(data_dir, config_path))

    async def _run() -> Any:
        try:
            await manager.initialize()
            return await action(CredentialStore(manager, key))
        finally:
            await manager.close()

    return asyncio.run(_run())


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

    _store_call(database_url, data_dir, config_path, _add)
    click.echo(f"stored {name} ({exchange}, key {credential.api_key_fingerprint})")


@credentials.command("list")
@with_database_options
def list_(database_url: str | None, data_dir: str | None, config_path: str | None) -> None:
    """List stored credentials: name, exchange, created, key fingerprint (no secrets)."""

    async def _list(store: CredentialStore) -> Any:
        return await store.list_credentials()

    rows = _store_call(database_url, data_dir, config_path, _list)
    if not rows:
        click.echo("no credentials stored")
        return
    click.echo(f"{'NAME':20} {'EXCHANGE':10} {'NET':8} {'CREATED (UTC)':17} KEY FINGERPRINT")
    for row in rows:
        net = "testnet" if row.testnet else "live"
        created = row.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{row.name:20} {row.exchange:10} {net:8} {created:17} {row.api_key_fingerprint}"
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

    if not _store_call(database_url, data_dir, config_path, _remove):
        raise ConfigError(f"no credential named {name!r}", key_path="credentials")
    click.echo(f"removed {name}")
