"""Backtester (seed 000 API): run(), calculate_metrics(), plot_results(), save_results().

A backtest runs the strategy of ``trading.strategy`` with ``strategy_params`` over the
first timeframe of ``trading.timeframes`` for every symbol of ``trading.symbols``, with
the money and costs of the ``backtest`` section, the limits of ``risk`` and ``trading``.
Signal strategies on one symbol take the compiled fast path (:mod:`btb.backtest.fast`);
everything else the event path (:mod:`btb.backtest.event`). Both give the same trades.

Instruments default to a permissive spec (tick and lot step 1e-8, no minimum notional,
maintenance margin 0.5 %); pass ``instruments=`` to use exchange rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from btb.backtest.event import VenueSettings, run_event
from btb.backtest.metrics import calculate_metrics
from btb.backtest.results import RunOutput, equity_curve
from btb.core.enums import MarketType
from btb.core.instrument import Instrument
from btb.engine.intents import EngineSettings
from btb.errors import ConfigError, DataError, StateError
from btb.strategies.base import BaseStrategy
from btb.strategies.factory import create_strategy
from btb.utils.config import parse_config
from btb.utils.config_models import BTBConfig

log = logging.getLogger(__name__)

PATHS = ("auto", "event", "fast")
DEFAULT_FUNDING_RATE = 0.0001  # per 8 h: the usual baseline rate of USDT perpetuals
_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD", "EUR", "BTC", "ETH", "BNB")


def default_instrument(
    symbol: str, market_type: MarketType, taker: float, maker: float
) -> Instrument:
    """A permissive instrument for backtests (see module docstring)."""
    quote = next((q for q in _QUOTES if symbol.endswith(q) and len(symbol) > len(q)), "USDT")
    step = Decimal("1e-8")
    return Instrument(
        symbol=symbol,
        base=symbol[: -len(quote)] if symbol.endswith(quote) else symbol,
        quote=quote,
        market_type=market_type,
        tick_size=step,
        lot_step=step,
        min_qty=step,
        max_leverage=125,
        taker_fee=Decimal(repr(taker)),
        maker_fee=Decimal(repr(maker)),
    )


def fast_path_reason(strategy: BaseStrategy, n_symbols: int, funding: bool) -> str | None:
    """Why the fast path cannot run a backtest (None when it can)."""
    if not strategy.is_signal_strategy():
        return f"{type(strategy).__name__} is not a pure signal strategy"
    if n_symbols != 1:
        return "more than one symbol (shared capital needs the event path)"
    if funding:
        return "funding is simulated on the event path only"
    return None


class Backtester:
    """Backtesting engine for trading strategies (seed 000)."""

    def __init__(
        self,
        config: BTBConfig | Mapping[str, Any],
        data: Mapping[str, pd.DataFrame] | None = None,
        *,
        strategy: BaseStrategy | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        path: str = "auto",
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``data`` maps symbol (or loader key ``"BTCUSDT_5m"``) to OHLCV frames; without
        it the data is loaded with :class:`btb.data.loader.DataLoader`."""
        self.config = config if isinstance(config, BTBConfig) else parse_config(config)
        if path not in PATHS:
            raise ConfigError(f"path must be one of {PATHS}, got {path!r}")
        self.path = path
        self.progress = progress
        self.symbols = list(self.config.trading.symbols)
        self.timeframe = self.config.trading.timeframes[0]
        self.settings = self._engine_settings()
        self.venue_settings = self._venue_settings()
        self.strategy = strategy if strategy is not None else self._init_strategy()
        self.data = self._frames(data) if data is not None else self._load_data()
        bt = self.config.backtest
        self.instruments = dict(instruments or {})
        for symbol in self.symbols:
            self.instruments.setdefault(
                symbol,
                default_instrument(symbol, self.settings.market_type, bt.taker_fee, bt.maker_fee),
            )
        self.output: RunOutput | None = None
        self.results: dict[str, Any] | None = None

    # ---- set-up -----------------------------------------------------------------------

    def _init_strategy(self) -> BaseStrategy:
        """Initialize trading strategy."""
        return create_strategy(self.config.trading.strategy, dict(self.config.strategy_params))

    def _load_data(self) -> dict[str, pd.DataFrame]:
        """Load historical data for backtesting (the first configured timeframe)."""
        from btb.data.loader import DataLoader

        loaded = DataLoader(self.config).load_data(self.symbols, [self.timeframe])
        return self._frames(loaded)

    def _frames(self, data: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        frames = {}
        for symbol in self.symbols:
            frame = data.get(symbol, data.get(f"{symbol}_{self.timeframe}"))
            if frame is None:
                raise DataError(f"no {symbol} {self.timeframe} candles given to the backtester")
            if len(frame) == 0:
                raise DataError(f"{symbol} {self.timeframe}: no candles")
            frames[symbol] = frame
        return frames

    def _engine_settings(self) -> EngineSettings:
        c = self.config
        market = MarketType(c.backtest.market_type)
        if market is MarketType.SPOT and c.trading.leverage != 1:
            raise ConfigError(
                "spot backtests cannot use leverage (set backtest.market_type: linear)",
                key_path="trading.leverage",
            )
        return EngineSettings(
            sizing=c.backtest.sizing,
            fixed_notional=c.backtest.fixed_notional or 0.0,
            equity_fraction=c.backtest.equity_fraction,
            risk_per_trade=c.risk.risk_per_trade,
            stop_loss_pct=c.risk.stop_loss_pct,
            take_profit_pct=c.risk.take_profit_pct,
            max_open_positions=c.trading.max_open_positions,
            market_type=market,
            leverage=c.trading.leverage,
            taker_fee=c.backtest.taker_fee,
            maker_fee=c.backtest.maker_fee,
            slippage_bps=c.backtest.slippage_bps,
        )

    def _venue_settings(self) -> VenueSettings:
        bt = self.config.backtest
        linear = bt.market_type == "linear"
        return VenueSettings(
            initial_cash=bt.initial_capital,
            taker_fee=bt.taker_fee,
            maker_fee=bt.maker_fee,
            slippage_bps=bt.slippage_bps,
            funding_rate=DEFAULT_FUNDING_RATE if bt.funding and linear else None,
        )

    # ---- seed API -----------------------------------------------------------------------

    def chosen_path(self) -> str:
        """``fast`` or ``event``: what :meth:`run` will use."""
        reason = fast_path_reason(
            self.strategy, len(self.symbols), self.venue_settings.funding_rate is not None
        )
        if self.path == "fast" and reason:
            raise ConfigError(f"the fast path cannot run this backtest: {reason}")
        return "fast" if self.path != "event" and reason is None else "event"

    def run(self) -> dict[str, Any]:
        """Run the backtest; returns ``{"path", "trades", "equity", "fills", "metrics"}``."""
        path = self.chosen_path()
        if path == "fast":
            from btb.backtest.fast import run_fast

            ((symbol, frame),) = self.data.items()
            out = run_fast(
                symbol,
                frame,
                self.strategy,
                settings=self.settings,
                venue_settings=self.venue_settings,
                instrument=self.instruments[symbol],
            )
        else:
            out = run_event(
                self.data,
                self.strategy,
                timeframe=self.timeframe,
                settings=self.settings,
                venue_settings=self.venue_settings,
                instruments=self.instruments,
                progress=self.progress,
            )
        closes = {s: df["close"] for s, df in self.data.items()}
        equity = equity_curve(closes, out.fills, out.funding, self.venue_settings.initial_cash)
        self.output = out
        self.results = {
            "path": out.path,
            "trades": out.trades,
            "equity": equity,
            "fills": out.fills,
            "funding": out.funding,
        }
        self.results["metrics"] = self.calculate_metrics()
        return self.results

    def calculate_metrics(self) -> dict[str, Any]:
        """Performance metrics (definitions in :mod:`btb.backtest.metrics`)."""
        results = self._require_results()
        return calculate_metrics(
            results["equity"],
            results["trades"],
            initial=self.venue_settings.initial_cash,
            timeframe=self.timeframe,
        )

    def plot_results(self, filename: str | None = None) -> Any:
        """Write the report: interactive self-contained HTML, or a PNG when ``filename``
        ends in ``.png``. Without a filename, return the plotly figure."""
        from btb.backtest.report import build_figure, write_report

        results = self._require_results()
        if filename is None:
            return build_figure(
                self.data, results["trades"], results["equity"], self.venue_settings.initial_cash
            )
        return write_report(
            Path(filename),
            self.data,
            results,
            initial=self.venue_settings.initial_cash,
            title=f"btb backtest: {self.strategy.strategy_type} {', '.join(self.symbols)} "
            f"{self.timeframe}",
        )

    def save_results(self, path: str) -> None:
        """Write ``summary.json``, ``trades.csv``, ``equity.csv`` and ``config.yaml``
        (secrets redacted) into the folder ``path``."""
        from btb.backtest.report import save_results

        results = self._require_results()
        save_results(Path(path), results, self.config.to_dict(redact=True), strategy=self.strategy)

    def _require_results(self) -> dict[str, Any]:
        if self.results is None:
            raise StateError("call Backtester.run() first")
        return self.results
