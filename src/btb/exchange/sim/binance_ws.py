"""Binance USDⓈ-M market streams of the simulator: ``<symbol>@kline_<interval>``.

As at ``wss://fstream.binance.com`` (under ``/market`` too): ``/ws/<stream>`` is a raw
stream (bare events),
``/stream?streams=<a>/<b>`` a combined one (``{"stream": name, "data": event}``), and on either
``{"method": "SUBSCRIBE" | "UNSUBSCRIBE" | "LIST_SUBSCRIPTIONS", "params": [...], "id": n}``
changes the subscriptions (answer ``{"result": null, "id": n}``). Kline events have the shape
of Binance's recorded ``kline`` payloads: ``{"e": "kline", "E", "s", "k": {"t", "T", "s",
"i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"}}``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from btb.core.bar import Bar
from btb.exchange.sim import binance_format as fmt
from btb.exchange.sim.accounts import SimAccount
from btb.exchange.sim.market import Kline
from btb.exchange.sim.ws import StreamConn, StreamHub, interval_kline

_KLINE = re.compile(r"^([a-z0-9]+)@kline_(\w+)$")


def kline_event(symbol: str, interval: str, k: Kline, now: int) -> dict[str, Any]:
    """A ``kline`` event for candle ``k`` of ``symbol`` as the stream sees it at ``now``."""
    step = fmt.INTERVALS[interval] * 1000
    return {
        "e": "kline",
        "E": now,
        "s": symbol,
        "k": {
            "t": k.open_ms, "T": k.open_ms + step - 1, "s": symbol, "i": interval,
            "f": -1, "L": -1,  # no individual trades are replayed
            "o": repr(k.open), "c": repr(k.close), "h": repr(k.high), "l": repr(k.low),
            "v": repr(k.volume), "n": 0, "x": k.closed, "q": repr(round(k.turnover, 4)),
            "V": "0", "Q": "0", "B": "0",
        },
    }  # fmt: skip


class BinanceMarketStream:
    """``/ws``, ``/ws/<streams>`` and ``/stream?streams=``: public kline streams."""

    def __init__(self, *, combined: bool = False) -> None:
        self.combined = combined

    def _symbol_interval(self, hub: StreamHub, stream: str) -> tuple[str, str] | None:
        match = _KLINE.match(stream)
        if match is None or match.group(2) not in fmt.INTERVALS:
            return None
        symbol = match.group(1).upper()
        return (symbol, match.group(2)) if hub.sim.venue.replay.has(symbol) else None

    def on_open(self, hub: StreamHub, conn: StreamConn, request: web.Request) -> None:
        conn.combined = self.combined
        raw = request.match_info.get("streams") or request.query.get("streams") or ""
        # Names the venue does not know subscribe to nothing (ccxt opens ".../ws/0" and
        # then SUBSCRIBEs); the connection stays open for SUBSCRIBE either way.
        conn.topics.update(s for s in raw.split("/") if self._symbol_interval(hub, s))

    def on_message(self, hub: StreamHub, conn: StreamConn, message: dict[str, Any]) -> None:
        method, ident = message.get("method"), message.get("id")
        params = message.get("params") or []
        if message.get("invalid_json"):
            conn.send({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
        elif method == "SUBSCRIBE":
            bad = [p for p in params if self._symbol_interval(hub, str(p)) is None]
            if bad:
                msg = f"Invalid request: invalid stream name {bad[0]!r}"
                conn.send({"error": {"code": 2, "msg": msg}, "id": ident})
                return
            conn.topics.update(str(p) for p in params)
            conn.send({"result": None, "id": ident})
        elif method == "UNSUBSCRIBE":
            conn.topics.difference_update(str(p) for p in params)
            conn.send({"result": None, "id": ident})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.topics), "id": ident})
        else:
            msg = f"Invalid request: unknown variant {method!r}"
            conn.send({"error": {"code": 2, "msg": msg}, "id": ident})

    def on_kline(self, hub: StreamHub, conn: StreamConn, bar: Bar, now: int) -> None:
        for stream in sorted(conn.topics):
            parsed = self._symbol_interval(hub, stream)
            if parsed is None or parsed[0] != bar.symbol:
                continue
            k = interval_kline(hub.sim.venue.replay, bar, fmt.INTERVALS[parsed[1]] * 1000)
            if k is None:
                continue
            event = kline_event(bar.symbol, parsed[1], k, now)
            conn.send({"stream": stream, "data": event} if conn.combined else event)

    def on_account_event(
        self, hub: StreamHub, conn: StreamConn, kind: str, account: SimAccount, obj: Any
    ) -> None:
        return None  # market streams carry no account data
