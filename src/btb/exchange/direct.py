"""BybitDirectExchange: the BaseExchange interface over :class:`ByBitDirectClient` (no ccxt).

The direct client signs its own requests, retries reads and resolves duplicate order ids
itself, so this adapter does not add a second retry layer; it only maps the client's answers
to the snapshots every adapter returns. It is what ``create_exchange("sim", ...)`` uses for
paper trading against ``btb sim`` (light to start: ccxt is never imported).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from btb.core.bar import Bar
from btb.core.enums import OrderType
from btb.core.instrument import Instrument
from btb.exchange.base import BaseExchange, require_credentials
from btb.exchange.bybit import bybit_kline_stream, public_ws_url
from btb.exchange.order_intent import OrderIntent
from btb.exchange.parsing.values import (
    AssetBalance,
    OrderSnapshot,
    PositionSnapshot,
    Ticker,
    WalletSnapshot,
)

T = TypeVar("T")


class BybitDirectExchange(BaseExchange):
    """Bybit V5 through btb's own client (``btb.exchange.bybit_direct``)."""

    name: ClassVar[str] = "bybit_direct"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        from btb.exchange.bybit_direct import ByBitDirectClient

        key, secret = require_credentials(config, self.name)
        base_url = config.get("base_url")
        self.client = ByBitDirectClient(
            key,
            secret,
            testnet=self.testnet,
            market_type=str(config.get("market_type", "linear")),
            base_url=str(base_url) if base_url else None,
            recv_window=int(config.get("recv_window_ms", 10_000)),
            timeout=float(config.get("timeout_s", 10.0)),
            retry_policy=self.retry_policy,
        )
        self.ws_url = str(config.get("ws_url") or public_ws_url(base_url, self.client.market_type))

        self._opened = False

    async def _open(self) -> None:
        if not self._opened:
            await self.client.initialize(load_markets=False)
            self._opened = True

    async def close(self) -> None:
        if self._opened:
            await self.client.close()
            self._opened = False

    async def _retry(self, operation: str, func: Callable[[], Awaitable[T]]) -> T:
        return await func()  # the client applies the retry policy itself

    async def _fetch_instruments(self) -> list[Instrument]:
        await self._open()
        return list((await self.client.fetch_markets()).values())

    async def _fetch_server_time_ms(self) -> int:
        return int((await self.client.fetch_server_time()).timestamp() * 1000)

    async def _fetch_klines(
        self, symbol: str, timeframe: str, since: int | None, limit: int
    ) -> list[Bar]:
        bars: list[Bar] = await self.client.fetch_klines(
            symbol, timeframe, min(limit, 1000), start=since
        )
        return bars

    async def _fetch_ticker(self, symbol: str) -> Ticker:
        t = await self.client.fetch_ticker(symbol)
        return Ticker(
            symbol=symbol,
            last=float(t["last"]),
            bid=t.get("bid"),
            ask=t.get("ask"),
            mark=t.get("mark"),
            index=t.get("index"),
            high_24h=t.get("high"),
            low_24h=t.get("low"),
            volume_24h=t.get("volume"),
            ts=t.get("timestamp"),
        )

    async def _fetch_balance(self) -> WalletSnapshot:
        raw = await self.client.fetch_balance()
        assets = {
            name: AssetBalance(name, Decimal(v["total"]), Decimal(v["free"]), Decimal(v["used"]))
            for name, v in raw.items()
            if isinstance(v, Mapping) and {"free", "used", "total"} <= set(v)
        }
        return WalletSnapshot(ts=raw.get("timestamp"), assets=assets, account=raw.get("account"))

    async def _fetch_positions(self, symbols: list[str] | None) -> list[PositionSnapshot]:
        symbol = symbols[0] if symbols and len(symbols) == 1 else None
        positions: list[PositionSnapshot] = await self.client.fetch_positions(symbol)
        return positions

    async def _set_leverage(self, symbol: str, leverage: Decimal) -> None:
        await self.client.set_leverage(symbol, leverage)

    async def _submit_order(self, intent: OrderIntent) -> OrderSnapshot:
        conditional = intent.trigger_price is not None
        result = await self.client.create_order(
            intent.symbol,
            intent.side,
            "limit" if intent.order_type is OrderType.LIMIT else "market",
            intent.quantity,
            intent.price,
            reduce_only=intent.reduce_only,
            stop_loss=intent.stop_loss,
            take_profit=intent.take_profit,
            order_link_id=intent.client_order_id,
            time_in_force=intent.time_in_force,
            reference_price=intent.reference_price,
            trigger_price=intent.trigger_price,
            trigger_direction=("rise" if intent.trigger_rises else "fall") if conditional else None,
        )
        return await self._found(intent.symbol, str(result["id"]), "accepted")

    async def _find_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot | None:
        if order_id:
            found: OrderSnapshot | None = await self.client.fetch_order(symbol, order_id)
        else:
            found = await self.client.fetch_order(symbol, order_link_id=client_order_id)
        return found

    async def _cancel_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot:
        canceled = await self.client.cancel_order(order_id, symbol, order_link_id=client_order_id)
        return await self._found(symbol, str(canceled["id"]), "cancelled")

    async def _fetch_open_orders(self, symbol: str | None) -> list[OrderSnapshot]:
        orders: list[OrderSnapshot] = await self.client.fetch_open_orders(symbol)
        return orders

    def _ws_klines(self, symbol: str, timeframe: str) -> AsyncIterator[tuple[Bar, bool]] | None:
        return bybit_kline_stream(self.ws_url, symbol, timeframe)
