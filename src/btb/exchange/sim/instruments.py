"""Instrument rules the simulator enforces (tick, lot step, minimums, leverage, fees).

Values for the pairs in the shipped data follow Bybit's and Binance's USDT perpetual listings
(tick size, quantity step, minimum quantity, 5 USDT minimum notional). Any other symbol gets
rules derived from its price level, so any candle file can be replayed.
"""

from __future__ import annotations

from decimal import Decimal

from btb.core.enums import MarketType
from btb.core.instrument import Instrument

D = Decimal

# symbol -> (tick size, qty step = min qty, max leverage)
KNOWN: dict[str, tuple[str, str, int]] = {
    "BTCUSDT": ("0.10", "0.001", 100),
    "ETHUSDT": ("0.01", "0.01", 100),
    "SOLUSDT": ("0.010", "0.1", 75),
    "XRPUSDT": ("0.0001", "1", 75),
    "DOGEUSDT": ("0.00001", "1", 75),
    "LTCUSDT": ("0.01", "0.1", 75),
    "LINKUSDT": ("0.001", "0.1", 75),
    "AVAXUSDT": ("0.001", "0.1", 75),
}
QUOTES = ("USDT", "USDC", "USD", "BTC", "ETH")
MIN_NOTIONAL = D("5")
MAKER_FEE = D("0.0002")
TAKER_FEE = D("0.00055")
MAINTENANCE_MARGIN_RATE = D("0.005")


def split_symbol(symbol: str) -> tuple[str, str]:
    """``"BTCUSDT"`` -> ``("BTC", "USDT")``."""
    for quote in QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    raise ValueError(f"cannot split {symbol!r} into base and quote (known quotes: {QUOTES})")


def _steps_for_price(price: float) -> tuple[str, str]:
    """Tick about 1e-5 of the price and a lot step worth about 1-10 quote units."""
    tick_exp = max(-8, min(2, int(f"{price * 1e-5:e}".split("e")[1])))
    lot_exp = max(-6, min(3, -int(f"{max(price, 1e-12):e}".split("e")[1])))
    return str(D(1).scaleb(tick_exp)), str(D(1).scaleb(lot_exp))


def make_instrument(
    symbol: str,
    *,
    reference_price: float | None = None,
    maker_fee: Decimal = MAKER_FEE,
    taker_fee: Decimal = TAKER_FEE,
) -> Instrument:
    """The linear-perpetual rules the simulator uses for ``symbol``."""
    base, quote = split_symbol(symbol)
    if symbol in KNOWN:
        tick, step, max_lev = KNOWN[symbol]
    else:
        tick, step = _steps_for_price(reference_price or 1.0)
        max_lev = 50
    return Instrument(
        symbol=symbol,
        base=base,
        quote=quote,
        market_type=MarketType.LINEAR,
        tick_size=D(tick),
        lot_step=D(step),
        min_qty=D(step),
        min_notional=MIN_NOTIONAL,
        max_qty=D(step) * 1_000_000,
        max_leverage=max_lev,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        maintenance_margin_rate=MAINTENANCE_MARGIN_RATE,
    )


def decimals(step: Decimal) -> int:
    """Number of decimals of a step (``0.001`` -> 3, ``1`` -> 0)."""
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]
