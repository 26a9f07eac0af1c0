"""Bybit V5 websocket streams of the simulator.

* ``/v5/public/linear``: ``kline.<interval>.<symbol>`` topics (``confirm: true`` once the
  interval candle has closed, ``false`` while it forms).
* ``/v5/private``: ``auth`` with ``[api_key, expires, HMAC("GET/realtime" + expires)]``, then
  ``order``, ``execution``, ``position`` and ``wallet`` topics of that account.

Both answer ``ping`` ops; replies carry ``success``, ``ret_msg``, ``conn_id``, ``op`` and the
request's ``req_id`` as Bybit's do.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from btb.core.bar import Bar
from btb.exchange.sim import bybit_format as fmt
from btb.exchange.sim.accounts import Execution, SimAccount, SimOrder
from btb.exchange.sim.auth import AuthFailure
from btb.exchange.sim.market import Kline
from btb.exchange.sim.ws import StreamConn, StreamHub, interval_kline

_PRIVATE_TOPICS = frozenset({"order", "execution", "position", "wallet"})


def kline_message(topic: str, k: Kline, now: int) -> dict[str, Any]:
    """The ``kline.<interval>.<symbol>`` message for candle ``k`` as seen at ``now``."""
    interval = topic.split(".")[1]
    step = fmt.INTERVALS[interval] * 1000
    data = {
        "start": k.open_ms, "end": k.open_ms + step - 1, "interval": interval,
        "open": repr(k.open), "close": repr(k.close), "high": repr(k.high), "low": repr(k.low),
        "volume": repr(k.volume), "turnover": repr(round(k.turnover, 4)), "confirm": k.closed,
        "timestamp": now,
    }  # fmt: skip
    return {"topic": topic, "data": [data], "ts": now, "type": "snapshot"}


def _reply(
    conn: StreamConn, message: dict[str, Any], ok: bool, text: str = "", **extra: Any
) -> None:
    reply = {"success": ok, "ret_msg": text, "conn_id": conn.conn_id, "op": message.get("op", "")}
    if "req_id" in message:
        reply["req_id"] = message["req_id"]
    reply.update(extra)
    conn.send(reply)


class BybitPublicStream:
    """``/v5/public/linear``: kline topics."""

    def on_open(self, hub: StreamHub, conn: StreamConn, request: web.Request) -> None:
        return None

    def valid_topic(self, hub: StreamHub, conn: StreamConn, topic: str) -> bool:
        parts = topic.split(".")
        return (
            len(parts) == 3
            and parts[0] == "kline"
            and parts[1] in fmt.INTERVALS
            and hub.sim.venue.replay.has(parts[2])
        )

    def on_message(self, hub: StreamHub, conn: StreamConn, message: dict[str, Any]) -> None:
        op = message.get("op")
        args = [str(a) for a in message.get("args") or []]
        if message.get("invalid_json"):
            _reply(conn, message, False, "invalid json")
        elif op == "ping":
            _reply(conn, message, True, "pong")
        elif op == "subscribe":
            bad = [t for t in args if not self.valid_topic(hub, conn, t)]
            if bad:
                _reply(conn, message, False, f"error:handler not found,topic:{bad[0]}")
            else:
                conn.topics.update(args)
                _reply(conn, message, True)
        elif op == "unsubscribe":
            conn.topics.difference_update(args)
            _reply(conn, message, True)
        elif not self.on_other(hub, conn, message):
            _reply(conn, message, False, f"unknown op {op!r}")

    def on_other(self, hub: StreamHub, conn: StreamConn, message: dict[str, Any]) -> bool:
        """Ops only some streams know (``auth``); False when unknown."""
        return False

    def on_kline(self, hub: StreamHub, conn: StreamConn, bar: Bar, now: int) -> None:
        for topic in conn.topics:
            parts = topic.split(".")
            if len(parts) != 3 or parts[0] != "kline" or parts[2] != bar.symbol:
                continue
            k = interval_kline(hub.sim.venue.replay, bar, fmt.INTERVALS[parts[1]] * 1000)
            if k is not None:
                conn.send(kline_message(topic, k, now))

    def on_account_event(
        self, hub: StreamHub, conn: StreamConn, kind: str, account: SimAccount, obj: Any
    ) -> None:
        return None


class BybitPrivateStream(BybitPublicStream):
    """``/v5/private``: account topics after ``auth``."""

    def valid_topic(self, hub: StreamHub, conn: StreamConn, topic: str) -> bool:
        return conn.account is not None and topic in _PRIVATE_TOPICS

    def on_other(self, hub: StreamHub, conn: StreamConn, message: dict[str, Any]) -> bool:
        if message.get("op") != "auth":
            return False
        try:
            api_key, expires, signature = (str(a) for a in (message.get("args") or [])[:3])
            conn.account = hub.sim.auth.bybit_ws(api_key, expires, signature)
            _reply(conn, message, True, "", retCode=0, retMsg="")
        except (AuthFailure, ValueError) as exc:
            code = exc.code if isinstance(exc, AuthFailure) else 10001
            text = exc.message if isinstance(exc, AuthFailure) else "Params Error"
            _reply(conn, message, False, text, retCode=code, retMsg=text)
        return True

    def on_kline(self, hub: StreamHub, conn: StreamConn, bar: Bar, now: int) -> None:
        return None

    def on_account_event(
        self, hub: StreamHub, conn: StreamConn, kind: str, account: SimAccount, obj: Any
    ) -> None:
        venue = hub.sim.venue
        payload: dict[str, Any] | None = None
        if kind == "order" and isinstance(obj, SimOrder):
            payload = fmt.order(obj)
        elif kind == "execution" and isinstance(obj, Execution):
            payload = fmt.execution(obj)
        elif kind == "position":
            payload = fmt.position(account, str(obj), venue.price(str(obj)), venue.next_id())
        if payload is None:
            return
        for topic in [kind] + (["wallet"] if kind == "execution" else []):
            if topic not in conn.topics:
                continue
            data = payload if topic == kind else fmt.wallet(account, venue.marks())
            conn.send(
                {
                    "id": f"{conn.conn_id}-{hub.next_id()}",
                    "topic": topic,
                    "creationTime": venue.now_ms(),
                    "data": [data],
                }
            )
