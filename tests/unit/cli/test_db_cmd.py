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


def _one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(cli, ["db", *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: database_url: "), result.output
    return lines[0]


def test_database_failures_are_one_line_without_the_password(tmp_path: Path) -> None:
    # A PostgreSQL server that is up, but no such database (and a password to hide).
    missing = "postgresql://postgres:hunter2pw@127.0.0.1:5432/btb_no_such_database_x"
    line = _one_line_error(["upgrade", "--database-url", missing])
    assert 'database "btb_no_such_database_x" does not exist' in line
    assert "hunter2pw" not in line and "postgres:***@" in line
    # Nothing listening on the port.
    line = _one_line_error(["current", "--database-url", "postgresql://u:pw9x@127.0.0.1:1/x"])
    assert "cannot connect to database" in line and "pw9x" not in line
    # A file that is not SQLite.
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    line = _one_line_error(["upgrade", "--database-url", f"sqlite:///{junk}"])
    assert line.endswith("file is not a database")


def test_unknown_revision_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    line = _one_line_error(["upgrade", "--database-url", url, "--revision", "9999"])
    assert "Can't locate revision identified by '9999'" in line
