"""Deterministic client order ids within both venues' rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from btb.exchange.order_ids import (
    derived_client_order_id,
    make_client_order_id,
    validate_client_order_id,
)

# Binance's documented newClientOrderId rule; Bybit: letters, digits, "-" and "_", <= 36.
BINANCE_RULE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
BYBIT_RULE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")

OPEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
BASE = ("ema-bot", "BTCUSDT", OPEN, "entry", 0)


def test_same_decision_same_id() -> None:
    assert make_client_order_id(*BASE) == make_client_order_id(*BASE)
    as_ms = make_client_order_id("ema-bot", "BTCUSDT", 1709294400000, "entry", 0)
    assert as_ms == make_client_order_id(*BASE)
    other_zone = OPEN.astimezone(timezone(timedelta(hours=2)))
    assert make_client_order_id("ema-bot", "BTCUSDT", other_zone, "entry") == make_client_order_id(
        *BASE
    )


@pytest.mark.parametrize(
    "changed",
    [("other-bot", "BTCUSDT", OPEN, "entry", 0), ("ema-bot", "ETHUSDT", OPEN, "entry", 0),
     ("ema-bot", "BTCUSDT", OPEN + timedelta(minutes=5), "entry", 0),
     ("ema-bot", "BTCUSDT", OPEN, "stop_loss", 0), ("ema-bot", "BTCUSDT", OPEN, "entry", 1)],
)  # fmt: skip
def test_any_part_of_the_decision_changes_the_id(changed: tuple) -> None:  # type: ignore[type-arg]
    assert make_client_order_id(*changed) != make_client_order_id(*BASE)


def test_fields_cannot_bleed_into_each_other() -> None:
    assert make_client_order_id("ab", "C", OPEN, "x") != make_client_order_id("a", "BC", OPEN, "x")


@given(
    bot=st.text(min_size=1, max_size=40),
    symbol=st.text(min_size=1, max_size=20),
    millis=st.integers(min_value=0, max_value=4_102_444_800_000),
    intent=st.text(min_size=1, max_size=20),
    sequence=st.integers(min_value=0, max_value=10_000),
)
def test_ids_always_meet_both_venues_rules(
    bot: str, symbol: str, millis: int, intent: str, sequence: int
) -> None:
    cid = make_client_order_id(bot, symbol, millis, intent, sequence)
    assert len(cid) == 36
    assert BINANCE_RULE.match(cid) and BYBIT_RULE.match(cid)
    assert validate_client_order_id(cid) == cid


def test_prefix_and_inputs_are_validated() -> None:
    assert make_client_order_id(*BASE, prefix="x1").startswith("x1-")
    with pytest.raises(ValueError, match="prefix"):
        make_client_order_id(*BASE, prefix="Bad!")
    with pytest.raises(ValueError, match="timezone-aware"):
        make_client_order_id("b", "S", datetime(2024, 1, 1), "entry")
    with pytest.raises(ValueError, match="sequence"):
        make_client_order_id("b", "S", OPEN, "entry", -1)


@pytest.mark.parametrize(
    "bad", ["", "x" * 37, "has space", "dot.not.bybit", "autoclose-123", "adl_autoclose"]
)
def test_validation_refuses_ids_a_venue_would_refuse(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_client_order_id(bad)


def test_derived_ids_keep_long_ids_apart() -> None:
    a, b = "grid-" + "0" * 30 + "1", "grid-" + "0" * 30 + "2"  # 36 characters, last differs
    derived = {derived_client_order_id(a, "sl"), derived_client_order_id(b, "sl")}
    assert len(derived) == 2
    assert all(validate_client_order_id(d) == d and d.endswith("-sl") for d in derived)
    assert derived_client_order_id("entry-1", "fx") == "entry-1-fx"  # short ids stay readable
    assert derived_client_order_id(a, "tp") == derived_client_order_id(a, "tp")  # deterministic
