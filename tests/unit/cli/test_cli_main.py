"""The btb command group: every listed command exists, help is cheap, logging is set up."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from btb.cli.main import COMMANDS, SHORT_HELP, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_imports_and_has_short_help(name: str) -> None:
    module_name, attr = COMMANDS[name].split(":")
    command = getattr(importlib.import_module(module_name), attr)
    assert isinstance(command, click.Command)
    assert SHORT_HELP[name], f"btb --help would show no help for {name}"


def test_help_lists_commands_without_importing_heavy_modules() -> None:
    code = (
        "import sys, json\n"
        "from click.testing import CliRunner\n"
        "from btb.cli.main import cli\n"
        "out = CliRunner().invoke(cli, ['--help']).output\n"
        "mods = ('pandas', 'sqlalchemy', 'aiohttp', 'ccxt', 'torch')\n"
        "heavy = [m for m in mods if m in sys.modules]\n"
        "print(json.dumps({'out': out, 'heavy': heavy}))\n"
    )
    result = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)  # fmt: skip
    assert result["heavy"] == []
    for name in COMMANDS:
        assert name in result["out"]


def test_log_level_option_rejects_unknown_levels() -> None:
    result = CliRunner().invoke(cli, ["--log-level", "LOUD", "config", "--help"])
    assert result.exit_code == 2
    assert "LOUD" in result.output
