"""A stream of closed candles: websocket when there is one, REST polling when there is not.

The stream yields each closed candle of one symbol and timeframe exactly once, in order:

* it starts after the newest candle that is already closed (history is
  :meth:`BaseExchange.get_market_data`'s job);
* with a websocket it yields the candles the venue marks closed; when the socket drops it polls
  REST until a reconnect (with exponential backoff) succeeds;
* whenever a candle arrives that is not the next one, the missing ones are fetched over REST
  first, so a dropped connection never leaves a gap.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from btb.core.bar import Bar, timeframe_seconds
from btb.errors import RETRYABLE_ERRORS, NetworkError

if TYPE_CHECKING:
    from btb.exchange.base import BaseExchange

log = logging.getLogger("btb.exchange.streams")
#: what ends a websocket session (the stream then polls and reconnects)
_WS_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    ConnectionError,
    *RETRYABLE_ERRORS,
)


class CandleStream:
    """Closed candles of ``symbol``/``timeframe`` from ``exchange``, without gaps or repeats."""

    def __init__(
        self,
        exchange: BaseExchange,
        symbol: str,
        timeframe: str,
        *,
        poll_interval: float | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.timeframe = timeframe
        self.step_ms = timeframe_seconds(timeframe) * 1000
        # Poll a few times per candle by default, never faster than twice a second.
        self.poll_interval = poll_interval or max(0.5, min(self.step_ms / 4000, 15.0))
        self.max_backoff = max_backoff
        self.last_open_ms: int | None = None
        self.reconnects = 0

    async def run(self) -> AsyncIterator[Bar]:
        """The endless stream (cancel the consuming task, or break, to stop it)."""
        latest = await self.exchange.get_market_data(self.symbol, self.timeframe, limit=1)
        if len(latest):
            self.last_open_ms = int(latest.index[-1].timestamp() * 1000)
        backoff = 1.0
        while True:
            ws = self.exchange._ws_klines(self.symbol, self.timeframe)
            if ws is not None:
                try:
                    async for bar in self._from_ws(ws):
                        backoff = 1.0
                        yield bar
                except _WS_ERRORS as exc:
                    log.warning(
                        "candle websocket %s %s dropped: %s", self.symbol, self.timeframe, exc
                    )
                self.reconnects += 1
            deadline = asyncio.get_running_loop().time() + (
                backoff if ws is not None else float("inf")
            )
            async for bar in self._poll_until(deadline):
                yield bar
            backoff = min(backoff * 2, self.max_backoff)

    async def _from_ws(self, ws: AsyncIterator[tuple[Bar, bool]]) -> AsyncIterator[Bar]:
        synced = False
        async for bar, closed in ws:
            if not synced:
                # Subscribed: a candle that closed after the last REST poll but before the
                # subscription took effect has no message coming; fetch it now rather than
                # one candle later, when the next close would reveal the gap.
                synced = True
                async for out in self._catch_up():
                    yield out
            if closed:
                async for out in self._accept(bar):
                    yield out
        raise ConnectionError("websocket closed by the venue")

    async def _poll_until(self, deadline: float) -> AsyncIterator[Bar]:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            try:
                async for bar in self._catch_up():
                    yield bar
            except RETRYABLE_ERRORS as exc:  # the next poll tries again
                log.warning("candle poll %s %s failed: %s", self.symbol, self.timeframe, exc)
            await asyncio.sleep(min(self.poll_interval, max(deadline - loop.time(), 0.0)))

    async def _catch_up(self) -> AsyncIterator[Bar]:
        """Every closed candle after the last one yielded, from REST."""
        since = None if self.last_open_ms is None else self.last_open_ms + self.step_ms
        frame = await self.exchange.get_market_data(
            self.symbol, self.timeframe, since=since, limit=1000
        )
        for ts, row in frame.iterrows():
            bar = Bar(
                symbol=self.symbol,
                timeframe=self.timeframe,
                open_time=_as_datetime(ts),
                open=float(row["open"]),
                high=float(row["high"]),
                low=float(row["low"]),
                close=float(row["close"]),
                volume=float(row["volume"]),
            )
            if self._is_new(bar):
                self.last_open_ms = _ms(bar)
                yield bar

    async def _accept(self, bar: Bar) -> AsyncIterator[Bar]:
        """Yield ``bar`` after any candles missing before it; drop repeats."""
        if not self._is_new(bar):
            return
        if self.last_open_ms is not None and _ms(bar) > self.last_open_ms + self.step_ms:
            async for missing in self._catch_up():
                yield missing
            if not self._is_new(bar):
                return
        self.last_open_ms = _ms(bar)
        yield bar

    def _is_new(self, bar: Bar) -> bool:
        return self.last_open_ms is None or _ms(bar) > self.last_open_ms


def ws_url_for(base_url: str, path: str) -> str:
    """The stream endpoint ``path`` on the host of REST ``base_url`` (http(s) -> ws(s))."""
    text = str(base_url).rstrip("/")
    return text.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + path


#: one websocket message -> the (bar, closed) pairs it carries (raises for a refusal)
KlineParser = Callable[[Mapping[str, Any]], list[tuple[Bar, bool]]]


async def websocket_klines(
    url: str,
    parse: KlineParser,
    *,
    name: str,
    subscribe: Mapping[str, Any] | None = None,
    ping_every: float = 20.0,
) -> AsyncIterator[tuple[Bar, bool]]:
    """A venue's kline websocket as (bar, closed) pairs, for :class:`CandleStream`.

    Connects to ``url``, sends ``subscribe`` (when the venue subscribes by message), and
    yields what ``parse`` finds in each text message. Ends with NetworkError when the
    connection fails or drops (the caller polls REST and reconnects).
    """
    import aiohttp

    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, heartbeat=ping_every) as ws,
        ):
            if subscribe is not None:
                await ws.send_str(json.dumps(subscribe))
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                for pair in parse(json.loads(msg.data)):
                    yield pair
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise NetworkError(f"{name}: {exc}") from exc
    raise NetworkError(f"{name} closed")


def _ms(bar: Bar) -> int:
    return int(bar.open_time.timestamp() * 1000)


def _as_datetime(ts: object) -> datetime:
    to_py = getattr(ts, "to_pydatetime", None)
    if callable(to_py):
        result = to_py()
        assert isinstance(result, datetime)
        return result
    assert isinstance(ts, datetime)
    return ts
