"""`btb credentials add|list|remove`: secrets never on the command line or in the output."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from btb.cli.main import cli
from btb.database.credentials import MasterKey, fingerprint
from db_fixtures import database_url  # noqa: F401  (fixture: both engines)

SECRET = "cli-secret-Vb83-never-shown"
API_KEY = "cli-api-key-77d1"


def _run(args: list[str], url: str, data_dir: Path, **kwargs: Any) -> Result:
    base = ["--database-url", url, "--data-dir", str(data_dir)]
    return CliRunner().invoke(cli, ["credentials", *args, *base], **kwargs)


def test_add_list_remove(database_url: str, tmp_path: Path) -> None:  # noqa: F811
    added = _run(
        ["add", "main", "--exchange", "bybit", "--api-key", API_KEY, "--secret-stdin", "--testnet"],
        database_url,
        tmp_path,
        input=SECRET + "\n",
        env={"BTB_MASTER_KEY": ""},
    )
    assert added.exit_code == 0, added.output
    key_file = tmp_path / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # created on first use

    listed = _run(["list"], database_url, tmp_path)
    out = listed.output
    assert listed.exit_code == 0, out
    assert "main" in out and "bybit" in out and "testnet" in out
    assert fingerprint(API_KEY) in out
    assert SECRET not in out and API_KEY not in out and SECRET not in added.output

    again = _run(
        ["add", "main", "--exchange", "bybit", "--api-key", "k"],
        database_url,
        tmp_path,
        env={"BTB_API_SECRET": "x"},
    )
    assert again.exit_code == 2
    assert "credential 'main' already exists" in again.output

    removed = _run(["remove", "main"], database_url, tmp_path)
    assert removed.exit_code == 0 and "removed main" in removed.output
    missing = _run(["remove", "main"], database_url, tmp_path)
    assert missing.exit_code == 2
    assert "no credential named 'main'" in missing.output
    assert "no credentials stored" in _run(["list"], database_url, tmp_path).output


def test_secret_from_hidden_prompt_and_key_from_env(tmp_path: Path) -> None:
    _key, text = MasterKey.generate()
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    result = _run(
        ["add", "p", "--exchange", "binance"],
        url,
        tmp_path,
        input=f"{API_KEY}\n{SECRET}\n{SECRET}\n",  # API key, secret, confirmation
        env={"BTB_MASTER_KEY": text, "BTB_API_SECRET": ""},
    )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output  # hidden input is not echoed
    assert not (tmp_path / "master.key").exists()


def test_wrong_key_file_permissions_are_a_one_line_error(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(MasterKey.generate()[1])
    key_file.chmod(0o644)
    result = _run(
        ["list"], f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", tmp_path, env={"BTB_MASTER_KEY": ""}
    )
    assert result.exit_code == 2
    assert "readable by other users" in result.output


def test_a_different_master_key_is_a_clear_error(database_url: str, tmp_path: Path) -> None:  # noqa: F811
    _, first_text = MasterKey.generate()
    _, second_text = MasterKey.generate()
    add = ["add", "main", "--exchange", "bybit", "--api-key", API_KEY, "--secret-stdin"]
    stored = _run(add, database_url, tmp_path, input=SECRET, env={"BTB_MASTER_KEY": first_text})
    assert stored.exit_code == 0, stored.output

    listed = _run(["list"], database_url, tmp_path, env={"BTB_MASTER_KEY": second_text})
    assert listed.exit_code == 2
    assert "main" in listed.output and "OTHER KEY" in listed.output  # still listed
    first_id = MasterKey.from_text(first_text, source="test").key_id
    second_id = MasterKey.from_text(second_text, source="test").key_id
    assert f"wrong master key for main: encrypted with key id {first_id}" in listed.output
    assert f"the current key id is {second_id}" in listed.output
    # Adding under the other key would leave a store no single key opens: refused.
    other = ["add", "spare", "--exchange", "bybit", "--api-key", "k2", "--secret-stdin"]
    refused = _run(other, database_url, tmp_path, input="s2", env={"BTB_MASTER_KEY": second_text})
    assert refused.exit_code == 2
    assert "'main' cannot be opened with the current master key" in refused.output
    # The right key lists cleanly.
    right = _run(["list"], database_url, tmp_path, env={"BTB_MASTER_KEY": first_text})
    assert right.exit_code == 0 and right.output.splitlines()[1].endswith(" ok")
    # No key at all: listed, then the error; and no key file is created by listing.
    keyless = _run(["list"], database_url, tmp_path, env={"BTB_MASTER_KEY": ""})
    assert keyless.exit_code == 2 and "no master key" in keyless.output
    assert not (tmp_path / "master.key").exists()
    for result in (stored, listed, refused, right, keyless):
        assert SECRET not in result.output and API_KEY not in result.output


def test_an_unusable_database_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = _run(["list"], f"sqlite+aiosqlite:///{junk}", tmp_path)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: database_url: cannot use database sqlite+aiosqlite:///{junk}: "
        "file is not a database"
    ]
