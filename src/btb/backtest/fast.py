"""The fast path: one compiled loop for signal strategies on one symbol.

It replays, over numpy arrays, exactly what the event path does for a signal strategy (the
engine's signal rule, sizing and protection; the venue's fills): the fill decisions are the
functions of :mod:`btb.core.matching` and the sizing those of :mod:`btb.engine.sizing`,
compiled here with numba, not re-implemented. A test asserts equal trades on real data.

Eligible: :meth:`BaseStrategy.is_signal_strategy`, one symbol, no funding. Anything else
runs on the event path. Quantities are whole lots (exact), money is float64 here (the event
path keeps Decimal), so fees and PnL agree to rounding, times and prices exactly.

Numba caches compiled code next to the sources; the kernel's cache does not notice edits to
the modules it calls, so :func:`_refresh_cache` drops it when any of them changed.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from btb.backtest.event import VenueSettings, signal_arrays
from btb.backtest.results import TRADE_COLUMNS, RunOutput
from btb.core import matching as m
from btb.core.enums import MarketType
from btb.core.instrument import Instrument
from btb.engine import sizing
from btb.engine.intents import EngineSettings
from btb.strategies.base import BaseStrategy

REASONS = ("signal", "stop_loss", "take_profit", "end_of_data", "liquidation")


def _refresh_cache() -> None:
    """Delete this module's numba cache when fast.py, matching.py or sizing.py changed."""
    sources = [Path(__file__), Path(m.__file__ or ""), Path(sizing.__file__ or "")]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    cache = Path(__file__).parent / "__pycache__"
    stamp = cache / "fast_kernel.stamp"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for f in cache.glob("fast.*.nb[ic]"):
            f.unlink()
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # read-only install: numba then compiles without caching
        pass


_refresh_cache()
_jit = njit(cache=True, nogil=True)
_phase = _jit(m.fill_phase)
_live = _jit(m.is_live)
_price = _jit(m.fill_price)
_priority = _jit(m.priority)
_sl_level = _jit(m.stop_loss_level)
_tp_level = _jit(m.take_profit_level)
_liq_level = _jit(m.liquidation_level)
_raw = _jit(sizing.raw_quantity)
_lots = _jit(sizing.entry_lots)

# order slots of the kernel (the venue's working orders for one symbol)
_SL, _TP, _EXIT, _ENTRY = 0, 1, 2, 3
# float parameters
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
# int parameters
I_SIZING, I_LINEAR, I_N = range(3)


@njit(cache=True, nogil=True)
def _close(st: Any, fl: Any, i: int, price: float, rate: float, reason: int, out: Any) -> None:
    """Close the whole position at ``price`` (venue fill + engine booking)."""
    pos, qty, avg = int(st[0]), st[1], st[2]
    fee = qty * price * rate
    if fl[2] > 0.0:  # linear: wallet += realised - fee
        st[3] += (price - avg) * qty * pos - fee
    else:  # spot: cash += sale (or - purchase) - fee
        st[3] += pos * qty * price - fee
    n = int(out[0, 0])
    out[n, 1] = i
    out[n, 3] = price
    out[n, 5] = out[n, 5] + fee
    out[n, 6] = (price - avg) * qty * pos
    out[n, 7] = reason
    out[0, 0] = n + 1
    _fill_row(out, i, -pos * qty, price, fee)
    st[0] = 0.0
    st[1] = 0.0
    st[2] = 0.0


@njit(cache=True, nogil=True)
def _fill_row(out: Any, i: int, signed: float, price: float, fee: float) -> None:
    k = int(out[0, 8])
    out[k, 9] = i
    out[k, 10] = signed
    out[k, 11] = price
    out[k, 12] = fee
    out[0, 8] = k + 1


@njit(cache=True, nogil=True)
def _kernel(  # one loop on purpose: numba compiles it to one tight machine loop
    o: Any, h: Any, lo: Any, c: Any, sig: Any, brk: Any, fp: Any, ip: Any, cap: int
) -> Any:
    n = len(o)
    # out: row 0 holds counters; rows 1.. trades (cols 0-7) and fills (cols 9-12)
    out = np.zeros((cap + 2, 13))
    out[0, 0] = 1.0
    out[0, 8] = 1.0
    st = np.zeros(4)  # pos sign, qty, avg entry, cash (spot) / wallet (linear)
    st[3] = fp[F_CASH]
    fl = np.zeros(3)
    fl[2] = 1.0 if ip[I_LINEAR] == 1 else 0.0
    active = np.zeros(4, dtype=np.bool_)
    kind = np.array([m.KIND_STOP, m.KIND_TAKE_PROFIT, m.KIND_MARKET, m.KIND_MARKET])
    sign = np.zeros(4, dtype=np.int64)
    level = np.full(4, np.nan)
    seq = np.zeros(4, dtype=np.int64)
    born = np.zeros(4, dtype=np.int64)
    ref = np.full(4, np.nan)
    lots = np.zeros(1)
    frac = np.full(2, np.nan)  # pending entry's stop / take fractions
    counter = 0
    lev, mmr, slip = fp[F_LEV], fp[F_MMR], fp[F_SLIP]
    for i in range(n):
        pos = int(st[0])
        if active.any() or (pos != 0 and fl[2] > 0.0):
            b_born, b_ref = m.BORN_BEFORE, o[i]
            for _guard in range(64):
                best, best_phase = -1, m.NO_FILL
                best_key = (m.NO_FILL, 0.0, 0)
                for k in range(4):
                    if not active[k] or not _live(kind[k], born[k]):
                        continue
                    r = o[i] if born[k] == m.BORN_BEFORE else ref[k]
                    ph = _phase(kind[k], sign[k], level[k], r, h[i], lo[i])
                    if ph == m.NO_FILL:
                        continue
                    key = _priority(ph, kind[k], sign[k], level[k], seq[k])
                    if best < 0 or key < best_key:
                        best, best_phase, best_key = k, ph, key
                pos = int(st[0])
                if pos != 0 and fl[2] > 0.0:
                    lv = _liq_level(st[2], pos, lev, mmr)
                    r = o[i] if b_born == m.BORN_BEFORE else b_ref
                    ph = _phase(m.KIND_LIQUIDATION, -pos, lv, r, h[i], lo[i])
                    if ph != m.NO_FILL:
                        key = _priority(ph, m.KIND_LIQUIDATION, -pos, lv, m.LIQUIDATION_SEQ)
                        if best < 0 or key < best_key:
                            price = _price(m.KIND_LIQUIDATION, -pos, lv, r, ph, slip)
                            _close(st, fl, i, price, fp[F_TAKER], 4, out)
                            active[_SL] = active[_TP] = active[_EXIT] = False
                            b_born, b_ref = m.BORN_INTRABAR, price
                            continue
                if best < 0:
                    break
                r = o[i] if born[best] == m.BORN_BEFORE else ref[best]
                price = _price(kind[best], sign[best], level[best], r, best_phase, slip)
                b_born = m.BORN_AT_OPEN if best_phase == m.PHASE_OPEN else m.BORN_INTRABAR
                b_ref = price
                active[best] = False
                if best != _ENTRY:  # reduce-only: cancelled when nothing to reduce
                    if pos != 0 and pos != sign[best]:
                        _close(st, fl, i, price, fp[F_TAKER], (1, 2, 0, 0)[best], out)
                        active[_SL] = active[_TP] = active[_EXIT] = False
                    continue
                q = lots[0] * fp[F_LOT]
                notional = q * price
                free = st[3]  # flat here: spot cash, or the whole wallet
                if notional / lev + notional * max(fp[F_TAKER], fp[F_MAKER]) > free:
                    continue  # rejected: insufficient funds
                fee = notional * fp[F_TAKER]
                st[3] -= (sign[best] * notional + fee) if fl[2] == 0.0 else fee
                st[0], st[1], st[2] = sign[best], q, price
                t = int(out[0, 0])
                out[t, 0], out[t, 2], out[t, 4], out[t, 5] = i, price, sign[best] * lots[0], fee
                _fill_row(out, i, sign[best] * q, price, fee)
                # the engine places the stop-loss, then the take-profit (that order: seq)
                for k in (_SL, _TP):
                    if math.isnan(frac[k]):
                        continue
                    if k == _SL:
                        lv = _sl_level(price, sign[best], frac[k])
                    else:
                        lv = _tp_level(price, sign[best], frac[k])
                    counter += 1
                    active[k], sign[k], level[k], seq[k] = True, -sign[best], lv, counter
                    born[k], ref[k] = b_born, b_ref
            for k in range(4):
                born[k] = m.BORN_BEFORE
        # ---- the decision at this bar's close (engine + BaseStrategy.intents_from_signal)
        el, xl, es, xs = sig[0, i], sig[1, i], sig[2, i], sig[3, i]
        if not (el or xl or es or xs):
            continue
        pos = int(st[0])
        side = pos
        if (pos > 0 and xl) or (pos < 0 and xs):
            counter += 1
            active[_EXIT], sign[_EXIT], seq[_EXIT], born[_EXIT] = True, -pos, counter, 0
            side = 0
        if side != 0:
            continue
        target = 0
        if el and not xl and not es:
            target = 1
        elif es and not xs and not el:
            target = -1
        if target == 0 or (target < 0 and fl[2] == 0.0):
            continue
        j = i if brk.shape[1] > 1 else 0
        sl = brk[0, j] if not math.isnan(brk[0, j]) else fp[F_SL]
        tp = brk[1, j] if not math.isnan(brk[1, j]) else fp[F_TP]
        equity = st[3] + pos * st[1] * (c[i] if fl[2] == 0.0 else c[i] - st[2])
        free = st[3] if fl[2] == 0.0 else equity - st[1] * st[2] / lev
        raw = _raw(ip[I_SIZING], equity, c[i], sl, fp[F_NOTIONAL], fp[F_FRACTION], fp[F_RISK], lev)
        lots[0] = _lots(
            raw, free, c[i], lev, fp[F_TAKER], fp[F_LOT], fp[F_MIN_QTY], fp[F_MIN_NOTIONAL]
        )
        if lots[0] <= 0.0:
            continue
        counter += 1
        active[_ENTRY], sign[_ENTRY], seq[_ENTRY], born[_ENTRY] = True, target, counter, 0
        frac[0], frac[1] = sl, tp
    if int(st[0]) != 0:  # end of data: cancel everything, close at the last close
        _close(st, fl, n - 1, c[n - 1], fp[F_TAKER], 3, out)
    return out


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
    sig = signal_arrays(strategy, df)
    signals = np.vstack(
        [sig["enter_long"], sig["exit_long"], sig["enter_short"], sig["exit_short"]]
    )
    n = len(df)
    if "stop_loss" in sig or "take_profit" in sig:
        brackets = np.vstack([sig.get(c, np.full(n, np.nan)) for c in ("stop_loss", "take_profit")])
    else:  # no per-bar distances: one NaN column stands for every bar (saves 16 bytes a bar)
        brackets = np.full((2, 1), np.nan)
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
    cap = 2 * int(np.count_nonzero(signals[0] | signals[2])) + 4
    cols = [df[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")]
    kernel: Any = _kernel  # a numba dispatcher: its typing stubs do not know the signature
    out = kernel(*cols, signals, brackets, fp, ip, cap)
    return _output(symbol, pd.DatetimeIndex(df.index), out, instrument.lot_step)


def _output(symbol: str, index: pd.DatetimeIndex, out: Any, lot_step: Decimal) -> RunOutput:
    n_trades, n_fills = int(out[0, 0]) - 1, int(out[0, 8]) - 1
    t = out[1 : n_trades + 1]
    entry_i, exit_i = t[:, 0].astype(np.int64), t[:, 1].astype(np.int64)
    qty = np.array([float(Decimal(int(abs(x))) * lot_step) for x in t[:, 4]])
    gross, fees = t[:, 6], t[:, 5]
    net = gross - fees
    trades = pd.DataFrame(
        {
            "trade_id": [f"{symbol}-{k + 1}" for k in range(n_trades)],
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
