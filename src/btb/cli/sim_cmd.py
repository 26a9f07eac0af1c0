"""``btb sim``: run the local exchange simulator (Bybit V5 + Binance USDⓈ-M) on 127.0.0.1.

Paper trading points the bot at it (``exchange.name: sim``). It replays candles from
``--data`` (default: the sample shipped with btb) at ``--speed`` simulated seconds per wall
second (0 = stepped: advance with ``POST /_sim/step``). The API key and secret come from the
options, else ``BTB_SIM_API_KEY`` / ``BTB_SIM_API_SECRET``, else the paper defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from btb.errors import ConfigError

if TYPE_CHECKING:
    from btb.exchange.sim import SimServer


@click.command("sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--speed",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Simulated seconds per wall second; 0 = stepped.",
)
@click.option(
    "--data",
    "data",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Candle file or folder (default: the shipped sample).",
)
@click.option("--timeframe", default=None, help="Base candles to replay (default: shortest).")
@click.option("--symbols", default=None, help="Comma-separated symbols (default: all found).")
@click.option("--start", default=None, help="Start of the replay, ISO date/time UTC.")
@click.option("--balance", default="10000", show_default=True, help="Starting USDT balance.")
@click.option("--slippage-bps", default=0.0, show_default=True, type=float)
@click.option("--api-key", envvar="BTB_SIM_API_KEY", default=None, help="[env BTB_SIM_API_KEY]")
@click.option(
    "--api-secret", envvar="BTB_SIM_API_SECRET", default=None, help="[env BTB_SIM_API_SECRET]"
)
def sim(
    host: str,
    port: int,
    speed: float,
    data: Path | None,
    timeframe: str | None,
    symbols: str | None,
    start: str | None,
    balance: str,
    slippage_bps: float,
    api_key: str | None,
    api_secret: str | None,
) -> None:
    """Run the exchange simulator until Ctrl-C."""
    from btb.exchange.factory import SIM_API_KEY, SIM_API_SECRET
    from btb.exchange.sim import SimExchange, SimServer

    if data is None:
        from btb.data.sample import sample_dir

        data = sample_dir()
    key, secret = api_key or SIM_API_KEY, api_secret or SIM_API_SECRET
    exchange = SimExchange.from_data(
        data,
        timeframe=timeframe,
        symbols=[s.strip().upper() for s in symbols.split(",")] if symbols else None,
        speed=speed,
        start_ms=_start_ms(start),
        accounts={key: secret},
        balance=balance,
        slippage_bps=slippage_bps,
    )
    server = SimServer(exchange, host=host, port=port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(server, key))


def _start_ms(start: str | None) -> int | None:
    """``--start`` as epoch ms (a naive value is UTC); ConfigError naming the option if bad."""
    if start is None:
        return None
    try:
        parsed = datetime.fromisoformat(start)
    except ValueError:
        raise ConfigError(f"not an ISO date/time: {start!r}", key_path="--start") from None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp() * 1000)


async def _serve(server: SimServer, key: str) -> None:
    """Serve until cancelled, after saying where and what (never the secret)."""
    async with server:
        venue = server.sim.venue
        clock = datetime.fromtimestamp(venue.now_ms() / 1000, UTC)
        pace = "stepped (POST /_sim/step)" if venue.clock.stepped else f"x{venue.clock.speed:g}"
        click.echo(f"btb sim: {server.url} (Bybit /v5, Binance /fapi)")
        click.echo(f"  streams {server.ws_url}/v5/public/linear and /v5/private (Bybit),")
        click.echo(f"          {server.ws_url}/ws/<symbol>@kline_<interval> (Binance)")
        click.echo(f"  symbols {', '.join(venue.replay.symbols)}; clock {clock:%Y-%m-%d %H:%M} UTC")
        click.echo(f"  pace {pace}; api key {key}; Ctrl-C stops")
        await asyncio.Event().wait()
