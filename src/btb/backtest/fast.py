"""The fast path: one compiled loop for signal strategies on one symbol.

It replays, over numpy arrays, exactly what the event path does for a signal strategy (the
engine's signal rule, sizing and protection; the venue's fills): the loop is
:mod:`btb.backtest.kernel`, whose fill decisions are the functions of :mod:`btb.core.matching`
and whose sizing is that of :mod:`btb.engine.sizing`, compiled with numba, not
re-implemented. A test asserts equal trades on real data.

Eligible: :meth:`BaseStrategy.is_signal_strategy`, one symbol, no funding. Anything else
runs on the event path. Quantities are whole lots (exact), money is float64 here (the event
path keeps Decimal), so fees and PnL agree to rounding, times and prices exactly.

How the loop is compiled (:func:`load_kernel`): once per change of its sources, numba builds
it ahead of time into a small extension module, cached in ``__pycache__`` next to this file
(or in ``~/.cache/btb`` where that is read-only), named after a digest of the sources and
toolchain so a stale build is never loaded. Loading that module takes milliseconds and no
numba or LLVM, which would otherwise add about 120 MB and half a second to every backtest
process. Where it cannot be built (no C compiler), numba's JIT runs the same source.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import logging
import os
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from btb.backtest.event import VenueSettings, signal_arrays
from btb.backtest.results import TRADE_COLUMNS, RunOutput
from btb.core import matching
from btb.core.enums import MarketType, PositionSide
from btb.core.instrument import Instrument
from btb.core.trade import round_trip_id
from btb.engine import sizing
from btb.engine.intents import EngineSettings
from btb.strategies.base import BaseStrategy

log = logging.getLogger(__name__)

REASONS = ("signal", "stop_loss", "take_profit", "end_of_data", "liquidation")

# float parameters of the kernel (slots of its ``fp`` array)
(
    F_CASH,
    F_SL,
    F_TP,
    F_NOTIONAL,
    F_FRACTION,
    F_RISK,
    F_LEV,
    F_TAKER,
    F_MAKER,
    F_SLIP,
    F_LOT,
    F_MIN_QTY,
    F_MIN_NOTIONAL,
    F_MMR,
    F_N,
) = range(15)
# int parameters (slots of ``ip``)
I_SIZING, I_LINEAR, I_N = range(3)

Kernel = Callable[..., Any]
_EXTENSION_PREFIX = "_btb_fast_"
_loaded: Kernel | None = None


def kernel_sources() -> list[Path]:
    """The files the compiled kernel is made of: a change to any of them means a rebuild."""
    here = Path(__file__)
    return [
        here.with_name("kernel.py"),
        here,
        Path(matching.__file__ or ""),
        Path(sizing.__file__ or ""),
    ]


def extension_name() -> str:
    """Module name of the ahead-of-time kernel for these sources, numba, numpy and Python."""
    digest = hashlib.sha256()
    for path in kernel_sources():
        digest.update(path.read_bytes())
    for dist in ("numba", "numpy"):
        try:
            digest.update(importlib.metadata.version(dist).encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(b"-")
    digest.update(sys.version.encode())
    return f"{_EXTENSION_PREFIX}{digest.hexdigest()[:20]}"


def cache_dirs() -> list[Path]:
    """Where the extension is looked for and built, in order of preference."""
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "btb"
    return [Path(__file__).parent / "__pycache__", user]


def load_kernel() -> Kernel:
    """The kernel: the ahead-of-time extension (built first if need be), else numba's JIT."""
    global _loaded
    if _loaded is None:
        _loaded = extension_kernel() or jit_kernel()
    return _loaded


def extension_kernel(folders: list[Path] | None = None) -> Kernel | None:
    """The kernel from the ahead-of-time extension module, building it when no folder of
    ``folders`` (default :func:`cache_dirs`) holds it yet; None when it cannot be built."""
    folders = cache_dirs() if folders is None else folders
    name = extension_name()
    file_name = name + importlib.machinery.EXTENSION_SUFFIXES[0]
    for folder in folders:
        path = folder / file_name
        if path.is_file():
            try:
                return _import_extension(name, path)
            except (ImportError, OSError) as exc:  # damaged: build it again below
                log.warning("ignoring the unloadable fast-path kernel %s: %s", path, exc)
                path.unlink(missing_ok=True)
    for folder in folders:
        try:
            from btb.backtest.kernel import build_extension

            log.info("compiling the fast-path kernel into %s (once per change)", folder)
            path = build_extension(name, folder)
        except Exception as exc:  # no compiler, read-only folder, pycc gone: next choice
            log.info("could not build the fast-path kernel in %s: %s", folder, exc)
            continue
        _remove_stale(folder, keep=path.name)
        return _import_extension(name, path)
    log.warning("no compiled fast-path kernel could be built; using numba's JIT")
    return None


def jit_kernel() -> Kernel:
    """The kernel through numba's JIT (compiled on first call, cached on disk)."""
    from btb.backtest.kernel import _kernel

    kernel: Kernel = _kernel
    return kernel


def _import_extension(name: str, path: Path) -> Kernel:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kernel: Kernel = module.kernel
    return kernel


def _remove_stale(folder: Path, keep: str) -> None:
    """Delete extensions built from older sources (one per edit would pile up)."""
    for old in folder.glob(f"{_EXTENSION_PREFIX}*"):
        if old.name != keep and old.is_file():
            old.unlink(missing_ok=True)


def run_fast(
    symbol: str,
    df: pd.DataFrame,
    strategy: BaseStrategy,
    *,
    settings: EngineSettings,
    venue_settings: VenueSettings,
    instrument: Instrument,
) -> RunOutput:
    """Run a signal strategy over one symbol's frame on the compiled path."""
    args = kernel_args(df, strategy, settings, venue_settings, instrument)
    out = load_kernel()(*args)
    return _output(symbol, pd.DatetimeIndex(df.index), out, instrument.lot_step)


def kernel_args(
    df: pd.DataFrame,
    strategy: BaseStrategy,
    settings: EngineSettings,
    venue_settings: VenueSettings,
    instrument: Instrument,
) -> tuple[Any, ...]:
    """The kernel's arguments for ``strategy`` on ``df``, every array C-contiguous as its
    compiled signature (:data:`btb.backtest.kernel.SIGNATURE`) requires."""
    sig = signal_arrays(strategy, df)
    signals = np.vstack(
        [sig["enter_long"], sig["exit_long"], sig["enter_short"], sig["exit_short"]]
    )
    n = len(df)
    if "stop_loss" in sig or "take_profit" in sig:
        brackets = np.vstack([sig.get(c, np.full(n, np.nan)) for c in ("stop_loss", "take_profit")])
    else:  # no per-bar distances: one NaN column stands for every bar (saves 16 bytes a bar)
        brackets = np.full((2, 1), np.nan)
    fp, ip = _parameters(strategy, settings, venue_settings, instrument)
    cap = 2 * int(np.count_nonzero(signals[0] | signals[2])) + 4
    # A frame's 2-D block gives strided columns (copied here); the store's frames have
    # contiguous ones, passed as they are.
    cols = [
        np.ascontiguousarray(df[c].to_numpy(dtype=np.float64))
        for c in ("open", "high", "low", "close")
    ]
    return (*cols, signals, np.ascontiguousarray(brackets), fp, ip, cap)


def _parameters(
    strategy: BaseStrategy,
    settings: EngineSettings,
    venue_settings: VenueSettings,
    instrument: Instrument,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The kernel's float (``F_*``) and int (``I_*``) parameters."""
    default_sl, default_tp = strategy.default_brackets()
    sl = default_sl if default_sl is not None else settings.stop_loss_pct
    tp = default_tp if default_tp is not None else settings.take_profit_pct
    vs = venue_settings
    fp = np.zeros(F_N)
    fp[[F_CASH, F_NOTIONAL, F_FRACTION, F_RISK, F_LEV]] = (
        vs.initial_cash,
        settings.fixed_notional,
        settings.equity_fraction,
        settings.risk_per_trade,
        settings.leverage,
    )
    fp[[F_SL, F_TP]] = (sl if sl is not None else np.nan, tp if tp is not None else np.nan)
    fp[[F_TAKER, F_MAKER, F_SLIP]] = (vs.taker_fee, vs.maker_fee, vs.slippage_bps)
    fp[[F_LOT, F_MIN_QTY, F_MIN_NOTIONAL, F_MMR]] = (
        float(instrument.lot_step),
        float(instrument.min_qty),
        float(instrument.min_notional),
        float(instrument.maintenance_margin_rate),
    )
    ip = np.array([settings.sizing_mode, settings.market_type is MarketType.LINEAR], np.int64)
    return fp, ip


def _output(symbol: str, index: pd.DatetimeIndex, out: Any, lot_step: Decimal) -> RunOutput:
    n_trades, n_fills = int(out[0, 0]) - 1, int(out[0, 8]) - 1
    t = out[1 : n_trades + 1]
    entry_i, exit_i = t[:, 0].astype(np.int64), t[:, 1].astype(np.int64)
    qty_dec = [Decimal(int(abs(x))) * lot_step for x in t[:, 4]]
    qty = np.array([float(q) for q in qty_dec])
    sides = [PositionSide.LONG if x > 0 else PositionSide.SHORT for x in t[:, 4]]
    gross, fees = t[:, 6], t[:, 5]
    net = gross - fees
    trades = pd.DataFrame(
        {
            "trade_id": [
                round_trip_id(symbol, side, e, q, p)
                for side, e, q, p in zip(
                    sides, index[entry_i].to_pydatetime(), qty_dec, t[:, 2].tolist(), strict=True
                )
            ],
            "symbol": symbol,
            "side": np.where(t[:, 4] > 0, "long", "short"),
            "quantity": qty,
            "entry_time": index[entry_i],
            "entry_price": t[:, 2],
            "exit_time": index[exit_i],
            "exit_price": t[:, 3],
            "gross_pnl": gross,
            "fees": fees,
            "net_pnl": net,
            "return_pct": net / (qty * t[:, 2]) * 100.0,
            "exit_reason": np.asarray(REASONS, dtype=object)[t[:, 7].astype(np.int64)],
            "bars": exit_i - entry_i,
        },
        columns=list(TRADE_COLUMNS),
    )
    f = out[1 : n_fills + 1]
    fills = pd.DataFrame(
        {
            "symbol": symbol,
            "time": index[f[:, 9].astype(np.int64)],
            "signed_qty": f[:, 10],
            "price": f[:, 11],
            "fee": f[:, 12],
        }
    )
    funding = pd.DataFrame({"symbol": [], "time": pd.DatetimeIndex([], tz="UTC"), "amount": []})
    return RunOutput(path="fast", trades=trades, fills=fills, funding=funding)
