"""Money and time columns round-trip exactly on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from btb.database.manager import DatabaseManager
from btb.database.types import canonical, to_decimal

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _trade(trade_id: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "trade_id": trade_id,
        "order_id": "o-" + trade_id,
        "symbol": "BTCUSDT",
        "side": "sell",
        "quantity": Decimal("1"),
        "price": Decimal("1"),
        "timestamp": T0,
    }
    return base | values


async def _stored(db: DatabaseManager, trade_id: str) -> dict[str, object]:
    return next(t for t in await db.get_trades() if t["trade_id"] == trade_id)


async def test_decimals_round_trip_exactly(db: DatabaseManager) -> None:
    values = {
        "quantity": Decimal("0.00000001"),  # one satoshi: 8 decimals
        "price": Decimal("12345678901234567890.123456789012345678"),  # 20 + 18 digits
        "commission": Decimal("0.1") + Decimal("0.2"),
        "pnl": Decimal("-98765.43210987"),
    }
    await db.store_trade(_trade("exact", **values))
    stored = await _stored(db, "exact")
    for key, value in values.items():
        assert stored[key] == value, key
        assert isinstance(stored[key], Decimal)
    assert stored["commission"] == Decimal("0.3")  # a float column would give 0.30000000000000004


async def test_sum_of_tenths_is_exact(db: DatabaseManager) -> None:
    # Ten trades of 0.1: as floats the total is 0.9999999999999999.
    for i in range(10):
        await db.store_trade(_trade(f"tenth{i}", pnl=Decimal("0.1")))
    assert await db.get_daily_pnl(T0.date()) == Decimal("1")


async def test_float_inputs_of_seed_dicts_are_read_as_written(db: DatabaseManager) -> None:
    # Seed 002 passes floats; 0.1 must become Decimal('0.1'), not 0.1000000000000000055...
    await db.store_trade(_trade("flt", quantity=0.1, price=43210.12, pnl=0.7))
    stored = await _stored(db, "flt")
    assert (stored["quantity"], stored["price"], stored["pnl"]) == (
        Decimal("0.1"),
        Decimal("43210.12"),
        Decimal("0.7"),
    )


async def test_both_engines_round_to_the_same_18_places(db: DatabaseManager) -> None:
    third = Decimal(1) / Decimal(3)  # 28 significant digits in Decimal's default context
    await db.store_trade(_trade("third", pnl=third, commission=Decimal("2") / Decimal("3")))
    stored = await _stored(db, "third")
    assert stored["pnl"] == Decimal("0.333333333333333333")
    assert stored["commission"] == Decimal("0.666666666666666667")  # half-even, last digit up


async def test_too_many_integer_digits_is_refused(db: DatabaseManager) -> None:
    with pytest.raises(StatementError, match="more than 20 integer digits"):
        await db.store_trade(_trade("huge", price=Decimal("1" * 21)))
    assert await db.get_trades() == []


async def test_sqlite_keeps_money_as_text_not_float(tmp_path: object) -> None:
    db = DatabaseManager(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await db.initialize()
    try:
        await db.store_trade(_trade("t", pnl=Decimal("0.3")))
        async with db.reading() as conn:
            row = (await conn.execute(text("SELECT typeof(pnl), pnl FROM trades"))).one()
        assert tuple(row) == ("text", "0.3")
    finally:
        await db.close()


async def test_times_come_back_as_the_same_instant_in_utc(db: DatabaseManager) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 3, 2, 1, 30, 15, 123456, tzinfo=plus_two)
    await db.store_trade(_trade("tz", timestamp=local))
    stored = await _stored(db, "tz")
    assert stored["timestamp"] == local
    assert stored["timestamp"].tzinfo is UTC  # type: ignore[attr-defined]
    assert stored["timestamp"] == datetime(2024, 3, 1, 23, 30, 15, 123456, tzinfo=UTC)
    # ... and the trade counts for the UTC day, 1 March.
    await db.store_trade(_trade("tz2", timestamp=local, pnl=Decimal("5")))
    assert await db.get_daily_pnl(local.astimezone(UTC).date()) == Decimal("5")


async def test_naive_datetimes_are_refused_by_the_column(db: DatabaseManager) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await db.store_equity_point(datetime(2024, 1, 1), Decimal("1"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.500"), "1.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.000000000000000000499"), "0"),
        (Decimal("0.0000000000000000015"), "0.000000000000000002"),
    ],
)
def test_canonical_form(value: Decimal, expected: str) -> None:
    assert format(canonical(value), "f") == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", True, object()])
def test_to_decimal_refuses_non_numbers(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        to_decimal(bad)
