"""RiskManager: seed 002 checks and the engine gate approve(), with hand-computed numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btb.core import Instrument, MarketType, PositionSide, Side
from btb.errors import ConfigError, StateError
from btb.risk import AccountState, RiskManager
from btb.strategies.intents import OrderIntent
from btb.utils.config import parse_config
from btb.utils.config_models import RiskConfig

D = Decimal


def account(**kw: object) -> AccountState:
    base: dict[str, object] = dict(
        equity=D("10000"), available=D("10000"), day_start_equity=D("10000")
    )
    base.update(kw)
    return AccountState(**base)  # type: ignore[arg-type]


def linear(max_leverage: int = 5, market: MarketType = MarketType.LINEAR) -> Instrument:
    return Instrument(
        "BTCUSDT", "BTC", "USDT", market, tick_size=D("0.1"), lot_step=D("0.001"),
        min_qty=D("0.001"), min_notional=D("100"), max_leverage=max_leverage,
    )  # fmt: skip


PX = D("50000")  # last close: the price market entries are sized with
BUY = OrderIntent.enter("BTCUSDT", PositionSide.LONG)


# --- seed 002 API ------------------------------------------------------------------------
def test_calculate_position_size_seed_formula() -> None:
    rm = RiskManager()  # stop_loss_pct 0.02
    assert rm.calculate_position_size(10_000, 0.01, 50_000, 0.001) == pytest.approx(0.1)
    assert rm.calculate_position_size(10_000, 0.01, 50_000, 0.2) == 0.0  # 0.1 < min 0.2
    assert RiskManager({"stop_loss_pct": 0.05}).calculate_position_size(
        10_000, 0.01, 50_000, 0.001
    ) == pytest.approx(0.04)  # 100 / 2,500


def test_daily_loss_limit_boundary() -> None:
    rm = RiskManager()
    with pytest.raises(StateError, match="start_day"):
        rm.check_daily_loss_limit(-1.0)
    rm.start_day(10_000)  # 3 % -> 300
    assert rm.check_daily_loss_limit(50.0)
    assert rm.check_daily_loss_limit(-299.99)
    assert not rm.check_daily_loss_limit(-300.0)
    assert not rm.check_daily_loss_limit(-300.01)


def test_balance_and_open_position_limits() -> None:
    rm = RiskManager()
    assert rm.check_balance_threshold(10.0) and not rm.check_balance_threshold(9.99)
    assert rm.check_open_positions_limit(2) and not rm.check_open_positions_limit(3)


def test_validate_trade_parameters() -> None:
    rm = RiskManager()
    assert not rm.validate_trade_parameters("BUY", 0.9, 0.9)
    assert rm.last_rejection is not None and "account state unknown" in rm.last_rejection
    rm.start_day(1_000)
    assert rm.validate_trade_parameters("BUY", 0.3, 0.5)  # equal to the minimums passes
    assert rm.validate_trade_parameters("sell", 0.8, 0.9)
    for args, why in [
        (("BUY", 0.29, 0.9), "strength"),
        (("BUY", 0.9, 0.49), "confidence"),
        (("HOLD", 0.9, 0.9), "not BUY or SELL"),
        ((None, 0.9, 0.9), "not BUY or SELL"),
    ]:
        assert not rm.validate_trade_parameters(*args)  # type: ignore[arg-type]
        assert why in (rm.last_rejection or "")
    rm.update_state(balance=1_000, daily_pnl=-30)  # 3 % of 1,000
    assert not rm.validate_trade_parameters("BUY", 0.9, 0.9)
    assert "daily loss" in (rm.last_rejection or "")
    assert rm.validate_trade_parameters("BUY", 0.9, 0.9, balance=1_000, daily_pnl=-29)
    assert not rm.validate_trade_parameters("BUY", 0.9, 0.9, balance=9.5, daily_pnl=0)
    assert "min_balance_threshold" in (rm.last_rejection or "")


# --- config shapes -----------------------------------------------------------------------
def test_reads_whole_config_section_dict_and_seed_object() -> None:
    cfg = parse_config(
        {
            "exchange": {"name": "sim", "testnet": True},
            "trading": {
                "symbols": ["BTCUSDT"], "timeframes": ["1h"], "strategy": "ema_cross",
                "max_open_positions": 5, "leverage": 3,
            },
            "risk": {"risk_per_trade": 0.02, "stop_loss_pct": 0.03},
            "data": {},
        }
    )  # fmt: skip
    lim = RiskManager(cfg).limits
    assert (lim.risk_per_trade, lim.stop_loss_pct, lim.max_open_positions, lim.leverage) == (
        0.02, 0.03, 5, 3,
    )  # fmt: skip
    assert RiskManager(cfg.risk).limits.stop_loss_pct == 0.03
    assert RiskManager(RiskConfig(daily_max_loss_pct=0.05)).limits.daily_max_loss_pct == 0.05
    flat = RiskManager({"risk_per_trade": 0.005, "max_open_positions": 1}).limits
    assert (flat.risk_per_trade, flat.max_open_positions, flat.take_profit_pct) == (0.005, 1, 0.04)

    class SeedConfig:
        RISK_PER_TRADE = 0.01
        STOPLOSS_PCT = 0.05
        MAX_OPEN_POSITIONS = 2
        LEVERAGE = 5

    seed = RiskManager(SeedConfig()).limits
    assert (seed.stop_loss_pct, seed.max_open_positions, seed.leverage) == (0.05, 2, 5)


@pytest.mark.parametrize(
    "config,key",
    [
        ({"risk_per_trade": 0.10}, "risk.risk_per_trade"),  # the seed's 10 % is above 5 %
        ({"risk_per_trad": 0.01}, "risk.risk_per_trad"),
        ({"risk": {}, "trading": {"max_open_positions": 0}}, "trading.max_open_positions"),
        ({"risk": {}, "trading": {"leverage": 200}}, "trading.leverage"),
    ],
)
def test_bad_config_names_the_key(config: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        RiskManager(config)
    assert info.value.key_path == key


# --- approve() ---------------------------------------------------------------------------
def test_entry_without_quantity_is_risk_sized() -> None:
    rm = RiskManager()
    d = rm.approve(BUY, account(), price=PX)
    # 10,000 * 1 % / (50,000 * 2 %) = 0.1
    assert d.approved and d.quantity == D("0.1") and "risk-sized" in d.reason
    wide = OrderIntent.enter("BTCUSDT", PositionSide.LONG, stop_loss=0.05, take_profit=0.10)
    assert rm.approve(wide, account(), price=PX).quantity == D("0.04")  # 100 / 2,500
    short = OrderIntent.enter("BTCUSDT", PositionSide.SHORT, stop_loss=0.02)
    assert rm.approve(short, account(), price=PX).quantity == D("0.1")  # 100 / 1,000
    # a limit entry is sized at its own price: 100 / (40,000 * 2 %) = 0.125
    limit = OrderIntent.enter("BTCUSDT", PositionSide.LONG, price=40_000.0)
    assert rm.approve(limit, account()).quantity == D("0.125")


def test_explicit_quantity_passes_unchanged() -> None:
    intent = OrderIntent.enter("BTCUSDT", PositionSide.LONG, quantity=D("0.05"))
    d = RiskManager().approve(intent, account(), price=PX)
    assert d.approved and d.quantity == D("0.05") and not d.resized


def test_exposure_and_margin_caps() -> None:
    rm = RiskManager()  # max_exposure 1.0, leverage 1
    # 8,000 already out: room 2,000 -> 0.04 BTC instead of 0.1
    d = rm.approve(BUY, account(gross_exposure=D("8000")), price=PX)
    assert d.approved and d.quantity == D("0.04") and "exposure" in d.reason and d.resized is False
    d = rm.approve(BUY, account(available=D("1000")), price=PX)
    assert d.approved and d.quantity == D("0.02") and "margin" in d.reason
    d = rm.approve(BUY, account(gross_exposure=D("10000")), price=PX)
    assert not d.approved and "no room" in d.reason


def test_leverage_cap_uses_instrument_and_spot() -> None:
    rm = RiskManager({"risk": {"max_exposure": 3.0}, "trading": {"leverage": 5}})
    one_btc = OrderIntent.enter("BTCUSDT", PositionSide.LONG, quantity=D("1"))
    # exposure cap min(3, 5) * 10,000 = 30,000 -> 0.6 BTC; margin 30,000 / 5 fits 10,000.
    d = rm.approve(one_btc, account(), price=PX, instrument=linear(5))
    assert d.quantity == D("0.600") and d.resized
    # instrument allows only 2x: 20,000 -> 0.4 BTC
    assert rm.approve(one_btc, account(), price=PX, instrument=linear(2)).quantity == D("0.400")
    # spot: no leverage, 10,000 -> 0.2 BTC
    spot = linear(1, MarketType.SPOT)
    assert rm.approve(one_btc, account(), price=PX, instrument=spot).quantity == D("0.200")


def test_daily_loss_boundary_in_approve() -> None:
    rm = RiskManager()
    refused = rm.approve(BUY, account(daily_pnl=D("-300")), price=PX)  # 3 % of 10,000
    assert not refused.approved and "daily loss" in refused.reason
    assert rm.approve(BUY, account(daily_pnl=D("-299.99")), price=PX).approved
    # without daily_pnl the loss is equity - day start: 9,700 - 10,000 = -300
    assert not rm.approve(BUY, account(equity=D("9700")), price=PX).approved


def test_max_open_positions_counts_new_symbols_only() -> None:
    rm = RiskManager()
    full = account(open_symbols=frozenset({"ETHUSDT", "SOLUSDT", "XRPUSDT"}))
    d = rm.approve(BUY, full, price=PX)
    assert not d.approved and "max_open_positions 3" in d.reason
    add = OrderIntent.enter("ETHUSDT", PositionSide.LONG, quantity=D("1"))
    assert rm.approve(add, full, price=D("2000")).approved


def test_exits_always_pass() -> None:
    rm = RiskManager()
    rm.halt("kill switch")
    worst = account(
        equity=D("5"), balance=D("5"), daily_pnl=D("-9000"),
        open_symbols=frozenset({"A", "B", "C", "D"}),
    )  # fmt: skip
    part = OrderIntent.exit("BTCUSDT", PositionSide.LONG, quantity=D("0.5"))
    d = rm.approve(part, worst, price=PX)
    assert d.approved and d.quantity == D("0.5") and "exit" in d.reason
    close_all = rm.approve(OrderIntent.exit("BTCUSDT", PositionSide.SHORT), worst)
    assert close_all.approved and close_all.quantity is None
    assert not rm.approve(BUY, account(), price=PX).approved  # halted blocks entries
    rm.resume()
    assert rm.approve(BUY, account(), price=PX).approved


def test_min_balance_and_instrument_minimum() -> None:
    rm = RiskManager()
    low = rm.approve(BUY, account(balance=D("9.99")), price=PX)
    assert not low.approved and "min_balance_threshold" in low.reason
    # equity 400: 4 / 1,000 = 0.004 BTC = 200 notional >= 100 -> kept
    small_ok = account(equity=D("400"), day_start_equity=D("400"))
    assert rm.approve(BUY, small_ok, price=PX, instrument=linear()).quantity == D("0.004")
    # equity 150: 1.5 / 1,000 = 0.0015 -> 0.001 BTC = 50 notional < 100 -> refused
    small = account(equity=D("150"), day_start_equity=D("150"))
    d = rm.approve(BUY, small, price=PX, instrument=linear())
    assert not d.approved and "below instrument minimum" in d.reason


def test_reward_risk_rule() -> None:
    rm = RiskManager()  # min_risk_reward 1.5, defaults stop 2 % / take-profit 4 %
    poor = OrderIntent.enter("BTCUSDT", PositionSide.LONG, stop_loss=0.02, take_profit=0.02)
    d = rm.approve(poor, account(), price=PX)
    assert not d.approved and "reward/risk 1.00" in d.reason
    ok = OrderIntent.enter("BTCUSDT", PositionSide.LONG, stop_loss=0.02, take_profit=0.03)
    assert rm.approve(ok, account(), price=PX).quantity == D("0.1")  # exactly 1.5
    # a 5 % stop with the default 4 % target is 0.8:1
    wide = OrderIntent.enter("BTCUSDT", PositionSide.LONG, stop_loss=0.05)
    assert "reward/risk 0.80" in rm.approve(wide, account(), price=PX).reason
    # no bracket (protect=False): the rule does not apply, sized with the 2 % default
    bare = OrderIntent("BTCUSDT", Side.BUY, protect=False)
    assert rm.approve(bare, account(), price=PX).quantity == D("0.1")


def test_needs_a_price() -> None:
    rm = RiskManager()
    assert "no price" in rm.approve(BUY, account()).reason
    assert rm.approve(BUY, account(), price=PX).approved


def test_a_strategy_minimum_replaces_the_configs_reward_risk() -> None:
    rm = RiskManager()  # config min_risk_reward 1.5
    poor = OrderIntent.enter("BTCUSDT", PositionSide.LONG, stop_loss=0.08, take_profit=0.02)
    assert not rm.approve(poor, account(), price=PX)
    # exempt (0): sized as any entry, 10,000 * 1 % / (50,000 * 8 %) = 0.025
    d = rm.approve(poor, account(), price=PX, min_risk_reward=0.0)
    assert d.approved and d.quantity == D("0.025")
    # a stricter minimum refuses what the config's 1.5 lets through (2 % / 3 % is 1.5)
    ok = OrderIntent.enter("BTCUSDT", PositionSide.LONG, stop_loss=0.02, take_profit=0.03)
    assert rm.approve(ok, account(), price=PX)
    strict = rm.approve(ok, account(), price=PX, min_risk_reward=2.0)
    assert not strict and "below min_risk_reward 2.0" in strict.reason
    with pytest.raises(ValueError, match="min_risk_reward"):
        rm.approve(ok, account(), price=PX, min_risk_reward=-1.0)
