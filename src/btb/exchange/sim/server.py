"""The simulator as an aiohttp application on the loopback interface.

:class:`SimExchange` bundles the venue, request authentication, fault injection and the
websocket hub; :func:`create_app` exposes it over HTTP (Bybit V5 under ``/v5``, Binance
USDⓈ-M under ``/fapi``, streams under ``/v5/public/linear`` and ``/v5/private``, and a small
control API under ``/_sim`` for stepping the clock and injecting faults from outside);
:class:`SimServer` runs it on ``127.0.0.1`` (port 0 picks a free one) and, unless the clock is
stepped, wakes at every candle close so streams push on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from btb.errors import ConfigError
from btb.exchange.sim import binance_routes, bybit_routes, control
from btb.exchange.sim.auth import Authenticator
from btb.exchange.sim.clock import SimClock
from btb.exchange.sim.faults import FaultInjector
from btb.exchange.sim.limits import Allowance
from btb.exchange.sim.market import MarketReplay, load_replay
from btb.exchange.sim.venue import SimVenue
from btb.exchange.sim.ws import StreamHub

logger = logging.getLogger("btb.exchange.sim")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SIM_KEY: web.AppKey[SimExchange] = web.AppKey("btb_sim")


class SimExchange:
    """One simulated exchange: venue (accounts, orders, matching), auth, faults, streams."""

    def __init__(
        self,
        venue: SimVenue,
        *,
        faults: FaultInjector | None = None,
        rate_limit_reset_ms: int = 1000,
    ) -> None:
        self.venue = venue
        self.auth = Authenticator(venue.accounts)
        self.faults = faults or FaultInjector()
        self.rate_limit_reset_ms = rate_limit_reset_ms
        #: request allowances by protocol ("bybit", "binance"); none by default
        #: (see :mod:`btb.exchange.sim.limits`)
        self.allowances: dict[str, Allowance] = {}
        self.over_limit = 0  # requests refused for exceeding an allowance
        self.requests = 0
        self.streams = StreamHub(self)

    @classmethod
    def from_replay(
        cls,
        replay: MarketReplay,
        *,
        speed: float = 0.0,
        start_ms: int | None = None,
        warmup_candles: int = 200,
        accounts: Mapping[str, str] | None = None,
        balance: Any = "10000",
        slippage_bps: float = 0.0,
        fault_seed: int = 0,
    ) -> SimExchange:
        """A simulator over ``replay``: the clock starts after ``warmup_candles`` of history
        (so indicators have data) unless ``start_ms`` says otherwise; ``accounts`` maps API
        keys to secrets, each starting with ``balance`` USDT."""
        if start_ms is None:
            span = replay.end_ms - replay.start_ms
            start_ms = replay.start_ms + min(warmup_candles * replay.base_ms, span - replay.base_ms)
        venue = SimVenue(replay, SimClock(start_ms, speed=speed), slippage_bps=slippage_bps)
        for key, secret in (accounts or {}).items():
            venue.add_account(key, secret, {"USDT": balance})
        return cls(venue, faults=FaultInjector(fault_seed))

    @classmethod
    def from_data(
        cls,
        path: str | Path,
        *,
        timeframe: str | None = None,
        symbols: list[str] | None = None,
        **kwargs: Any,
    ) -> SimExchange:
        """A simulator over the candle files at ``path`` (see :func:`load_replay`)."""
        return cls.from_replay(load_replay(path, timeframe=timeframe, symbols=symbols), **kwargs)

    def step(self, candles: int = 1) -> int:
        """Advance the clock ``candles`` base candles, match orders, push stream updates."""
        return self.venue.step(candles)


def create_app(sim: SimExchange) -> web.Application:
    """The aiohttp application serving ``sim``."""
    app = web.Application()
    app[SIM_KEY] = sim
    bybit_routes.add_routes(app, sim)
    binance_routes.add_routes(app, sim)
    sim.streams.add_routes(app)
    control.add_routes(app, sim)
    return app


class SimServer:
    """Runs a :class:`SimExchange` on the loopback interface (use ``async with``)."""

    def __init__(self, sim: SimExchange, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK:
            raise ConfigError(
                f"the simulator binds loopback only, not {host!r}", key_path="sim.host"
            )
        self.sim = sim
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Base URL of the REST API, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> str:
        app = create_app(self.sim)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # the port the OS picked
            self.port = int(self._runner.addresses[0][1])
        if not self.sim.venue.clock.stepped:
            self._ticker = asyncio.create_task(self._tick(), name="btb-sim-ticker")
        logger.info("simulator listening on %s", self.url)
        return self.url

    async def _tick(self) -> None:
        """Running clocks: match and push at every candle close, in wall time."""
        venue = self.sim.venue
        base = venue.replay.base_ms
        while True:
            next_close = (venue.now_ms() // base + 1) * base
            wait = venue.clock.wall_seconds_until(next_close)
            await asyncio.sleep(min(wait if wait is not None else 0.5, 0.5) + 0.001)
            venue.sync()

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.sim.streams.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
