"""The ``btb`` click group.

Sub-commands live one module per command group under :mod:`btb.cli` and are imported
only when invoked, so ``btb --help`` and light commands start fast. User errors
(bad config, bad data, bad model file, rejected credentials) are printed as one line
on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from btb.errors import USER_ERRORS, BTBError

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

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(USER_ERROR_EXIT)
        except BTBError as exc:
            click.echo(f"error ({type(exc).__name__}): {exc}", err=True)
            sys.exit(1)


@click.group(cls=LazyGroup)
@click.version_option(package_name="btb")
def cli() -> None:
    """BestTradingBot command line interface."""


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
