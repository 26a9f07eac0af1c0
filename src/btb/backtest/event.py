"""The event-driven backtest shell: candles -> :class:`SimulatedVenue` and :class:`Engine`.

For every candle time (all symbols merged in time order) the venue first lets each symbol's
candle trade against the working orders (fills at the open and inside the candle), then the
engine decides on each closed candle. After the last candle every open position is closed at
its last close (``end_of_data``).

Signal strategies' signals are computed once over the whole frame (they may not look ahead,
which ``--check-lookahead`` verifies) and the engine is asked to decide only on candles that
carry a signal: the inherited ``on_bar`` returns nothing on the others, so skipping them
changes nothing. Stateful strategies are asked on every candle.
"""

from __future__ import annotations

import gc
import math
import sys
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from btb.backtest.results import RunOutput, fills_frame, funding_frame, trades_frame
from btb.core.bar import Bar
from btb.core.enums import ExitReason, MarketType
from btb.core.instrument import Instrument
from btb.engine.engine import Engine
from btb.engine.intents import EngineSettings
from btb.engine.venue import SimulatedVenue
from btb.strategies.base import BaseStrategy
from btb.strategies.context import BRACKET_COLUMNS, SIGNAL_COLUMNS, SignalRow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class VenueSettings:
    """Money and costs of the simulated venue."""

    initial_cash: float = 10_000.0
    taker_fee: float = 0.001
    maker_fee: float = 0.001
    slippage_bps: float = 0.0
    funding_rate: float | None = None  # per 8 h on linear futures; None = no funding


def to_datetime(ns: int) -> datetime:
    """Epoch nanoseconds -> aware UTC datetime (microsecond precision)."""
    return _EPOCH + _MICROSECOND * (ns // 1000)  # exact, and cheaper than timedelta()


def signal_arrays(strategy: BaseStrategy, df: pd.DataFrame) -> dict[str, np.ndarray[Any, Any]]:
    """``strategy.signals(df)`` as numpy arrays, checked against the contract."""
    frame = strategy.signals(df)
    missing = [c for c in SIGNAL_COLUMNS if c not in frame]
    if missing or len(frame) != len(df):
        raise ValueError(
            f"{type(strategy).__name__}.signals() must return {len(df)} rows with columns "
            f"{list(SIGNAL_COLUMNS)} (missing {missing})"
        )
    out = {c: frame[c].to_numpy(dtype=bool) for c in SIGNAL_COLUMNS}
    for c in BRACKET_COLUMNS:  # optional: absent means "the strategy's defaults" on every bar
        if c in frame:
            out[c] = frame[c].to_numpy(dtype=np.float64)
    return out


class _Feed:
    """History and precomputed signals, positioned at each symbol's current candle."""

    def __init__(
        self,
        frames: Mapping[str, pd.DataFrame],
        signals: Mapping[str, dict[str, np.ndarray[Any, Any]]],
    ) -> None:
        self.frames = frames
        self.signals = signals
        self.pos: dict[str, int] = dict.fromkeys(frames, -1)
        # Python lists: reading them per bar is much cheaper than numpy scalars.
        self._flags: dict[str, list[list[bool]]] = {
            s: [sig[c].tolist() for c in SIGNAL_COLUMNS] for s, sig in signals.items()
        }
        self._brackets: dict[str, list[list[float] | None]] = {
            s: [sig[c].tolist() if c in sig else None for c in BRACKET_COLUMNS]
            for s, sig in signals.items()
        }

    def history(self, symbol: str) -> pd.DataFrame:
        return self.frames[symbol].iloc[: self.pos[symbol] + 1]

    def signal(self, symbol: str) -> SignalRow | None:
        flags = self._flags.get(symbol)
        if flags is None:
            return None
        i = self.pos[symbol]
        el, xl, es, xs = flags
        sl, tp = self._brackets[symbol]
        return SignalRow(
            el[i],
            xl[i],
            es[i],
            xs[i],
            sl[i] if sl is not None else math.nan,
            tp[i] if tp is not None else math.nan,
        )


def run_event(
    frames: Mapping[str, pd.DataFrame],
    strategy: BaseStrategy,
    *,
    timeframe: str,
    settings: EngineSettings,
    venue_settings: VenueSettings,
    instruments: Mapping[str, Instrument],
    progress: Progress | None = None,
) -> RunOutput:
    """Run ``strategy`` over ``frames`` (symbol -> canonical OHLCV frame) on the event path."""
    vs = venue_settings
    linear = settings.market_type is MarketType.LINEAR
    venue = SimulatedVenue(
        instruments,
        initial_cash=Decimal(repr(vs.initial_cash)),
        market_type=settings.market_type,
        leverage=Decimal(settings.leverage),
        taker_fee=Decimal(repr(vs.taker_fee)),
        maker_fee=Decimal(repr(vs.maker_fee)),
        slippage_bps=vs.slippage_bps,
        funding_rate=Decimal(repr(vs.funding_rate)) if linear and vs.funding_rate else None,
    )
    is_signal = strategy.is_signal_strategy()
    signals = {s: signal_arrays(strategy, df) for s, df in frames.items()} if is_signal else {}
    feed = _Feed(frames, signals)
    engine = Engine(
        strategy,
        venue,
        feed,
        instruments=instruments,
        settings=settings,
        initial_cash=Decimal(repr(vs.initial_cash)),
        timeframe=timeframe,
    )
    # The loop allocates many short-lived objects and keeps every order, fill and trade: the
    # cyclic garbage collector would rescan that growing heap again and again (about a fifth
    # of the run time) while finding nothing. Reference counting frees everything: the only
    # cycles (engine <-> venue, engine <-> strategy contexts) are cut when the run is over,
    # so the whole run is freed on return instead of waiting for (and slowing) a collection.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _drive(frames, engine, venue, feed, timeframe, progress)
        _finish(frames, engine, venue, timeframe)
        index_of = {s: pd.DatetimeIndex(df.index) for s, df in frames.items()}
        return RunOutput(
            path="event",
            trades=trades_frame(engine.portfolio.trades, index_of),
            fills=fills_frame(engine.portfolio.fills),
            funding=funding_frame(engine.portfolio.funding),
            trade_objects=list(engine.portfolio.trades),
        )
    finally:
        venue.unbind()
        engine.close()
        if collecting:
            gc.enable()


def _drive(
    frames: Mapping[str, pd.DataFrame],
    engine: Engine,
    venue: SimulatedVenue,
    feed: _Feed,
    timeframe: str,
    progress: Progress | None,
) -> None:
    """Feed every candle, in time order, first to the venue, then to the engine.

    The venue is skipped for a candle it cannot fill anything in (no working order or
    position, or no order level inside the candle: :attr:`SimulatedVenue.quiet`), and the
    engine for a signal strategy's candle without a signal; neither changes the outcome.
    """
    if len(frames) == 1:
        ((symbol, frame),) = frames.items()
        _drive_one(symbol, frame, engine, venue, feed, timeframe, progress)
        return
    columns = {s: _columns(df) for s, df in frames.items()}
    wants = {
        s: (
            np.ones(len(df), dtype=bool) if s not in feed.signals else _any_signal(feed, s)
        ).tolist()
        for s, df in frames.items()
    }
    order, rows, starts = _merge(frames)
    symbols = list(frames)
    several = len(symbols) > 1
    active, quiet = venue.active, venue.quiet
    every_bar = venue.funding_rate is not None  # funding is charged on quiet candles too
    process = venue.process_bar
    total = len(starts) - 1
    for step in range(total):
        group = range(starts[step], starts[step + 1])
        for k in group:
            symbol = symbols[order[k]]
            if symbol in active:
                i = rows[k]
                ns, o, h, lo = (col[i] for col in columns[symbol][:4])
                b = quiet.get(symbol)
                if every_bar or b is None or lo <= b[0] or h >= b[1]:
                    process(symbol, ns, o, h, lo)
        for k in group:
            symbol, i = symbols[order[k]], rows[k]
            col = columns[symbol]
            if wants[symbol][i]:
                feed.pos[symbol] = i
                bar = Bar(
                    symbol,
                    timeframe,
                    to_datetime(col[0][i]),
                    col[1][i],
                    col[2][i],
                    col[3][i],
                    col[4][i],
                    col[5][i],
                )
                engine.on_bar(bar, i)
            elif several:
                engine.mark(symbol, col[4][i])
        if progress is not None and step % 65_536 == 0:
            progress(step, total)
    if progress is not None:
        progress(total, total)


def _wanted(feed: _Feed, symbol: str, n: int) -> list[bool]:
    """Candles the engine must decide on: all of them, or a signal strategy's signal bars."""
    if symbol not in feed.signals:
        return [True] * n
    return _any_signal(feed, symbol).tolist()


_CHUNK = 65_536  # candles between progress reports
_State = tuple[bool, bool, float, float]  # see _Replay.fillable


class _Replay:
    """One symbol's candles driven through the venue and the engine (:func:`_drive_one`).

    Lists hold what every candle reads (indexing them is several times faster than numpy
    scalars); arrays the rest, which only the candles the venue or the engine see need.
    """

    def __init__(
        self,
        symbol: str,
        frame: pd.DataFrame,
        engine: Engine,
        venue: SimulatedVenue,
        feed: _Feed,
        timeframe: str,
    ) -> None:
        self.symbol, self.timeframe, self.positions = symbol, timeframe, feed.pos
        self.on_bar, self.process = engine.on_bar, venue.process_bar
        self.high, self.low = (
            frame[c].to_numpy(dtype=np.float64).tolist() for c in ("high", "low")
        )
        self.ns = pd.DatetimeIndex(frame.index).as_unit("ns").asi8
        self.open, self.close = (frame[c].to_numpy(dtype=np.float64) for c in ("open", "close"))
        self.volume = _volume(frame)
        self.n = len(self.high)
        self.want = _wanted(feed, symbol, self.n)
        signals = feed.signals.get(symbol)
        # a sorted Python list: bisect on it costs a tenth of numpy's searchsorted per jump
        self.decisions: list[int] | None = (
            None if signals is None else _any_signal(feed, symbol).nonzero()[0].tolist()
        )
        self.every_bar = venue.funding_rate is not None  # funding is charged on quiet candles
        self.active, self.quiet, self.bounds = venue.active, venue.quiet, venue.bounds

    def fillable(self) -> _State:
        """(venue active, every candle, down, up): a candle may fill when the venue is
        active and ``every candle or not (low > down and high < up)``."""
        if self.symbol not in self.active:
            return False, False, -math.inf, math.inf
        if self.every_bar:
            return True, True, math.inf, -math.inf
        down, up = self.quiet.get(self.symbol) or self.bounds(self.symbol)  # bounds() caches
        return True, False, down, up

    def decide(self, i: int) -> _State:
        """The engine decides on candle ``i``; returns the venue's state after it."""
        self.positions[self.symbol] = i
        v = self.volume
        bar = Bar(
            self.symbol,
            self.timeframe,
            to_datetime(int(self.ns[i])),
            float(self.open[i]),
            self.high[i],
            self.low[i],
            float(self.close[i]),
            float(v[i]) if v is not None else math.nan,
        )
        self.on_bar(bar, i)
        return self.fillable()

    def run(self, i: int, stop: int, state: _State) -> _State:
        """Candles ``i`` to ``stop`` (exclusive), starting in venue state ``state``."""
        symbol, high, low, ns, open_, want = (
            self.symbol,
            self.high,
            self.low,
            self.ns,
            self.open,
            self.want,
        )
        process, fillable, decide = self.process, self.fillable, self.decide
        act, always, down, up = state
        while i < stop:
            if not act:  # nothing can fill before the engine decides again: go there
                i = _next_decision(self.decisions, i)
                if i >= stop:
                    break
                act, always, down, up = decide(i)
                i += 1
                continue
            for i in range(i, stop):  # noqa: B020 - picks up where the jump left off
                if always or not (low[i] > down and high[i] < up):
                    process(symbol, int(ns[i]), float(open_[i]), high[i], low[i])
                    act, always, down, up = fillable()
                if want[i]:
                    act, always, down, up = decide(i)
                if not act:
                    break
            i += 1
        return act, always, down, up


def _drive_one(
    symbol: str,
    frame: pd.DataFrame,
    engine: Engine,
    venue: SimulatedVenue,
    feed: _Feed,
    timeframe: str,
    progress: Progress | None,
) -> None:
    """:func:`_drive` for one symbol, without the merging (the common, long case).

    Only the venue and the engine change what the venue may fill, so the driver reads
    :attr:`SimulatedVenue.active` and :meth:`SimulatedVenue.bounds` once after each call into
    them, not on every candle, and jumps from one decision candle to the next while the
    venue has nothing (no order, no position). A candle is skipped exactly when
    :meth:`SimulatedVenue.process_bar` would return at once: inactive, or no level inside.
    """
    replay = _Replay(symbol, frame, engine, venue, feed, timeframe)
    state = replay.fillable()
    n = replay.n
    for start in range(0, n, _CHUNK):
        if progress is not None:
            progress(start, n)
        state = replay.run(start, min(n, start + _CHUNK), state)
    if progress is not None:
        progress(n, n)


def _next_decision(decisions: list[int] | None, i: int) -> int:
    """The first decision candle at or after ``i`` (every candle when ``decisions`` is None;
    past the end when there is none)."""
    if decisions is None:
        return i
    k = bisect_left(decisions, i)
    return decisions[k] if k < len(decisions) else sys.maxsize


def _finish(
    frames: Mapping[str, pd.DataFrame], engine: Engine, venue: SimulatedVenue, timeframe: str
) -> None:
    """Close everything at each symbol's last close, marked end_of_data (rule 9)."""
    lasts = {s: df.index[-1].to_pydatetime() for s, df in frames.items() if len(df)}
    if not lasts:
        return
    step = Bar("X", timeframe, max(lasts.values()), 1.0, 1.0, 1.0, 1.0, 0.0).close_time
    for symbol, df in frames.items():
        if len(df):
            engine.mark(symbol, float(df["close"].iloc[-1]))
    engine.close_all(ExitReason.END_OF_DATA, step)
    for symbol, last in lasts.items():
        venue.settle(symbol, last, float(frames[symbol]["close"].iloc[-1]))


def _columns(df: pd.DataFrame) -> tuple[list[Any], ...]:
    # Python lists: indexing them is several times faster than numpy scalars in a loop.
    ns = pd.DatetimeIndex(df.index).as_unit("ns").asi8.tolist()
    cols = [df[c].to_numpy(dtype=np.float64).tolist() for c in ("open", "high", "low", "close")]
    v = _volume(df)
    vol = v.tolist() if v is not None else [math.nan] * len(ns)
    return (ns, *cols, vol)


def _volume(df: pd.DataFrame) -> np.ndarray[Any, Any] | None:
    """The volume column (None when the frame has none: bars then carry NaN)."""
    if "volume" not in df:
        return None
    return df["volume"].to_numpy(dtype=np.float64)


def _any_signal(feed: _Feed, symbol: str) -> np.ndarray[Any, Any]:
    s = feed.signals[symbol]
    return s["enter_long"] | s["exit_long"] | s["enter_short"] | s["exit_short"]


def _merge(frames: Mapping[str, pd.DataFrame]) -> tuple[list[int], list[int], list[int]]:
    """All candles in time order: (symbol number, row) per candle and group start offsets
    (candles with the same open time form one group; symbols keep their config order)."""
    times = [pd.DatetimeIndex(df.index).as_unit("ns").asi8 for df in frames.values()]
    sym = np.concatenate([np.full(len(t), k, dtype=np.int64) for k, t in enumerate(times)])
    row = np.concatenate([np.arange(len(t), dtype=np.int64) for t in times])
    ns = np.concatenate(times)
    order = np.lexsort((sym, ns))
    ns = ns[order]
    starts = np.flatnonzero(np.concatenate(([True], ns[1:] != ns[:-1], [True])))
    return sym[order].tolist(), row[order].tolist(), starts.tolist()
