"""The ``btb`` click group.

Sub-commands live one module per command group under :mod:`btb.cli` and are imported
only when invoked, so ``btb --help`` and light commands start fast. User errors
(bad config, bad data, bad model file, rejected credentials) are printed as one line
on stderr with exit status 2, never as a traceback; other btb errors and OS errors (a
folder that cannot be written) as one line with exit status 1.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any, NoReturn

import click

from btb.errors import USER_ERRORS, BTBError, ExchangeError
from btb.utils.logging import redact, setup_logger

#: command name -> "module:attribute" of a click command, imported on first use.
COMMANDS: dict[str, str] = {
    "backtest": "btb.cli.backtest_cmd:backtest",
    "config": "btb.cli.config_cmd:config",
    "credentials": "btb.cli.credentials_cmd:credentials",
    "data": "btb.cli.data_cmd:data",
    "db": "btb.cli.db_cmd:db",
    "demo": "btb.cli.demo_cmd:demo",
    "train": "btb.cli.train_cmd:train",
    "sim": "btb.cli.sim_cmd:sim",
}

#: one-line help shown by ``btb --help`` without importing the command modules.
SHORT_HELP: dict[str, str] = {
    "backtest": "Run a backtest from a config and write its report.",
    "config": "Validate or show a configuration file.",
    "credentials": "Add, list or remove encrypted exchange credentials.",
    "data": "Import, list, check and download market data.",
    "db": "Create or upgrade the database.",
    "demo": "Run the offline demo on the shipped sample data.",
    "sim": "Run the local exchange simulator on 127.0.0.1.",
    "train": "Train and evaluate a price model.",
}

USER_ERROR_EXIT = 2


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on demand and whose errors are one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Importing every command module to read its help would pull in pandas, SQLAlchemy
        # and aiohttp just to print a list; the short help lives here instead.
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            _fail(f"error: {_text(exc)}", USER_ERROR_EXIT)
        except BTBError as exc:
            _fail(f"error ({type(exc).__name__}): {_text(exc)}", 1)
        except OSError as exc:
            # A folder that cannot be created, a full disk, a permission problem: the
            # message names the path; a traceback would not help the user.
            _fail(f"error: {exc}", 1)


def _text(exc: BaseException) -> str:
    """The message; an exchange's (which may echo a signed request) with credentials masked."""
    return redact(str(exc)) if isinstance(exc, ExchangeError) else str(exc)


def _fail(message: str, status: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(status)


@click.group(cls=LazyGroup)
@click.version_option(package_name="btb")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    envvar=["BTB_LOG_LEVEL", "LOG_LEVEL"],
    default="INFO",
    show_default=True,
    help="Level of the log lines written to stderr (secrets are always masked).",
)
def cli(log_level: str) -> None:
    """BestTradingBot command line interface."""
    setup_logger("btb", getattr(logging, log_level.upper()))


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
