"""`btb db upgrade|current` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from btb.cli.main import cli
from btb.database.migrate import head_revision
from db_fixtures import database_url  # noqa: F401  (fixture: both engines)


def test_upgrade_creates_the_schema_and_current_reports_it(database_url: str) -> None:  # noqa: F811
    runner = CliRunner()
    before = runner.invoke(cli, ["db", "current", "--database-url", database_url])
    assert before.exit_code == 0, before.output
    assert "revision none (empty)" in before.output and "needs `btb db upgrade`" in before.output

    first = runner.invoke(
        cli, ["db", "upgrade", "--database-url", database_url, "--revision", "0001"]
    )
    assert first.exit_code == 0, first.output
    assert first.output.strip().endswith("at revision 0001")

    done = runner.invoke(cli, ["db", "upgrade", "--database-url", database_url])
    assert done.exit_code == 0, done.output
    assert done.output.strip().endswith(f"at revision {head_revision()}")
    after = runner.invoke(cli, ["db", "current"], env={"BTB_DATABASE_URL": database_url})
    assert f"revision {head_revision()}" in after.output and "up to date" in after.output


def test_default_database_is_btb_db_in_the_data_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "btb.db").is_file()


def test_unsupported_database_is_a_one_line_error() -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", "mysql://u@h/db"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: database_url: unsupported database 'mysql'; use sqlite or postgresql"
    )
