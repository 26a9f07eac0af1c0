"""Websocket streams of the simulator: one hub, one protocol object per kind of stream.

* Bybit V5 (:mod:`btb.exchange.sim.bybit_ws`): ``/v5/public/linear`` kline topics and the
  authenticated ``/v5/private`` order, execution, position and wallet topics.
* Binance USDⓈ-M market streams (:mod:`btb.exchange.sim.binance_ws`): ``/ws/<stream>``,
  ``/stream?streams=<a>/<b>`` and SUBSCRIBE (also under ``/market`` and ``/public``), with
  ``<symbol>@kline_<interval>`` streams.

At every base-candle close each subscribed kline stream gets its interval's candle as of that
close (closed once the interval has ended, forming before). An injected ``drop_ws`` fault
closes every open stream, which is what a client's reconnect logic has to survive.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import WSMsgType, web

from btb.core.bar import Bar
from btb.exchange.sim.accounts import SimAccount
from btb.exchange.sim.market import Kline, MarketReplay

if TYPE_CHECKING:
    from btb.exchange.sim.server import SimExchange

logger = logging.getLogger("btb.exchange.sim")


@dataclass(eq=False)
class StreamConn:
    """One open websocket: its protocol, subscriptions and outgoing queue."""

    ws: web.WebSocketResponse
    protocol: StreamProtocol
    conn_id: str
    account: SimAccount | None = None
    topics: set[str] = field(default_factory=set)
    combined: bool = False  # Binance /stream: events wrapped as {"stream", "data"}
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    def send(self, message: dict[str, Any]) -> None:
        self.queue.put_nowait(message)


class StreamProtocol(Protocol):
    """What differs between the exchanges' streams."""

    def on_open(self, hub: StreamHub, conn: StreamConn, request: web.Request) -> None:
        """Subscriptions named by the URL (may raise web.HTTPException to refuse)."""

    def on_message(self, hub: StreamHub, conn: StreamConn, message: dict[str, Any]) -> None:
        """A client request (subscribe, auth, ping ...)."""

    def on_kline(self, hub: StreamHub, conn: StreamConn, bar: Bar, now: int) -> None:
        """A base candle closed: push the subscribed klines of ``bar.symbol``."""

    def on_account_event(
        self, hub: StreamHub, conn: StreamConn, kind: str, account: SimAccount, obj: Any
    ) -> None:
        """An order, execution or position change of ``account``."""


def interval_kline(replay: MarketReplay, bar: Bar, interval_ms: int) -> Kline | None:
    """The ``interval_ms`` candle containing base candle ``bar``, as of ``bar``'s close."""
    bar_open = int(bar.open_time.timestamp() * 1000)
    as_of = int(bar.close_time.timestamp() * 1000)
    start = (bar_open // interval_ms) * interval_ms
    rows = replay.klines(bar.symbol, interval_ms, as_of, start_ms=start, limit=1)
    return rows[0] if rows else None


class StreamHub:
    """Open stream connections and the venue events they are subscribed to."""

    def __init__(self, sim: SimExchange) -> None:
        self.sim = sim
        self.conns: set[StreamConn] = set()
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dropped_generation = sim.faults.ws_drop_generation
        sim.venue.subscribe(self._on_event)
        sim.faults.on_drop_ws.append(self.check_drop)

    def next_id(self) -> int:
        return next(self._ids)

    def add_routes(self, app: web.Application) -> None:
        from btb.exchange.sim.binance_ws import BinanceMarketStream
        from btb.exchange.sim.bybit_ws import BybitPrivateStream, BybitPublicStream

        routes: dict[str, StreamProtocol] = {
            "/v5/public/linear": BybitPublicStream(),
            "/v5/private": BybitPrivateStream(),
        }
        # Binance: the legacy paths and the /market and /public routing (ccxt uses /market)
        for prefix in ("", "/market", "/public"):
            routes[f"{prefix}/ws"] = BinanceMarketStream()
            routes[f"{prefix}/ws/{{streams:.+}}"] = BinanceMarketStream()
            routes[f"{prefix}/stream"] = BinanceMarketStream(combined=True)
        for path, protocol in routes.items():
            app.router.add_get(path, self._handler(protocol))

    def _handler(self, protocol: StreamProtocol) -> Any:
        async def handle(request: web.Request) -> web.WebSocketResponse:
            return await self._serve(request, protocol)

        return handle

    async def _serve(self, request: web.Request, protocol: StreamProtocol) -> web.WebSocketResponse:
        conn = StreamConn(web.WebSocketResponse(autoping=True), protocol, f"sim-{self.next_id()}")
        protocol.on_open(self, conn, request)  # before the upgrade: bad streams get HTTP 400
        await conn.ws.prepare(request)
        self.conns.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        try:
            async for msg in conn.ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(msg.data)
                except json.JSONDecodeError:
                    message = {"invalid_json": True}
                if isinstance(message, dict):
                    self.check_drop()
                    protocol.on_message(self, conn, message)
        finally:
            self.conns.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return conn.ws

    async def _writer(self, conn: StreamConn) -> None:
        while True:
            message = await conn.queue.get()
            if conn.ws.closed:
                return
            await conn.ws.send_str(json.dumps(message))

    def _on_event(self, kind: str, account: SimAccount | None, obj: Any) -> None:
        self.check_drop()
        if not self.conns:
            return
        if kind == "kline":
            assert isinstance(obj, Bar)
            now = self.sim.venue.now_ms()
            for conn in list(self.conns):
                conn.protocol.on_kline(self, conn, obj, now)
            return
        if account is None:
            return
        for conn in list(self.conns):
            if conn.account is account:
                conn.protocol.on_account_event(self, conn, kind, account, obj)

    def check_drop(self) -> None:
        """Close every stream if a ``drop_ws`` fault was injected since the last check."""
        generation = self.sim.faults.ws_drop_generation
        if generation != self._dropped_generation:
            self._dropped_generation = generation
            for conn in list(self.conns):
                task = asyncio.get_running_loop().create_task(conn.ws.close())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def close_all(self) -> None:
        for conn in list(self.conns):
            await conn.ws.close()
