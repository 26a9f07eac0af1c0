"""Child process for the database concurrency and crash tests (a script, not a test module).

python db_writer.py orders URL BOT N READY_FILE GO_FILE
    store N orders, N trades and N bot-state updates, each its own transaction,
    starting only once GO_FILE exists (so that two writers really overlap);
python db_writer.py fills URL BOT
    record fills for ever (order + fill + position + bot state in one transaction per
    fill), continuing from the stored state; prints the fill count after each commit.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from btb.core import Fill, Order, OrderType, Position, Side
from btb.core.order import OrderAccepted, OrderFilled, OrderSubmitted
from btb.database.manager import DatabaseManager


async def write_orders(url: str, bot: str, count: int, ready: Path, go: Path) -> None:
    db = DatabaseManager(url, bot_name=bot)
    await db.initialize()  # both writers migrate the same fresh database at once
    ready.touch()
    while not go.exists():
        time.sleep(0.005)
    now = datetime.now(UTC)
    for i in range(count):
        await db.store_order(
            {
                "order_id": f"{bot}-{i}",
                "symbol": "BTCUSDT",
                "side": "buy",
                "order_type": "limit",
                "quantity": Decimal("0.001") * (i + 1),
                "price": Decimal("60000.5"),
                "status": "new",
                "timestamp": now,
            }
        )
        await db.store_trade(
            {
                "trade_id": f"{bot}-t{i}",
                "order_id": f"{bot}-{i}",
                "symbol": "BTCUSDT",
                "side": "sell",
                "quantity": Decimal("0.001"),
                "price": Decimal("60010"),
                "pnl": Decimal("0.01"),
                "timestamp": now,
            }
        )
        await db.update_bot_state({"count": i + 1, "last": f"{bot}-{i}"})
    await db.close()


async def record_fills(url: str, bot: str) -> None:
    db = DatabaseManager(url, bot_name=bot)
    await db.initialize()
    done = int((await db.get_bot_state()).get("fills", 0))
    stored = await db.get_positions(include_flat=True)
    position = stored[0] if stored else Position("BTCUSDT")
    while True:
        now = datetime.now(UTC)
        side = Side.SELL if done % 3 == 2 else Side.BUY
        qty = Decimal("0.001") * (done % 7 + 1)
        order = Order(f"{bot}-{done}", "BTCUSDT", side, OrderType.MARKET, qty, created_at=now)
        order.apply(OrderSubmitted(now))
        order.apply(OrderAccepted(now, f"x-{done}"))
        fill = Fill(
            order.client_order_id,
            "BTCUSDT",
            side,
            qty,
            Decimal("60000") + done,
            Decimal("0.01"),
            now,
            trade_id=f"f-{bot}-{done}",
        )
        order.apply(OrderFilled(fill))
        position.apply(fill)
        done += 1
        state = {"fills": done, "position_qty": position.quantity}
        await db.record_fill(order, fill, position, state=state)
        print(done, flush=True)


def main() -> None:
    mode, url, bot = sys.argv[1:4]
    if mode == "orders":
        count, ready, go = int(sys.argv[4]), Path(sys.argv[5]), Path(sys.argv[6])
        asyncio.run(write_orders(url, bot, count, ready, go))
    else:
        asyncio.run(record_fills(url, bot))


if __name__ == "__main__":
    main()
