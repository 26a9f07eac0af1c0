"""The fast path's loop: one kernel that replays the event path for a signal strategy.

This is the one source of the compiled loop. Its fill decisions are the functions of
:mod:`btb.core.matching` and its sizing those of :mod:`btb.engine.sizing`, compiled here with
numba, not re-implemented. :mod:`btb.backtest.fast` runs it either as an ahead-of-time
compiled extension module built from this file (:func:`build_extension`; loading it needs
neither numba nor LLVM, which keeps a backtest process small and quick to start) or, where no
extension can be built, through numba's JIT (``_kernel`` below, cached on disk).

Numba caches JIT code next to the sources; the kernel's cache does not notice edits to the
modules it calls, so :func:`_refresh_cache` drops it when any of them changed.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from btb.backtest.fast import (
    F_CASH,
    F_FRACTION,
    F_LEV,
    F_LOT,
    F_MAKER,
    F_MIN_NOTIONAL,
    F_MIN_QTY,
    F_MMR,
    F_NOTIONAL,
    F_RISK,
    F_SL,
    F_SLIP,
    F_TAKER,
    F_TP,
    I_LINEAR,
    I_SIZING,
    kernel_sources,
)
from btb.core import matching as m
from btb.engine import sizing

#: numba signature of the kernel: every array C-contiguous (the caller makes sure)
SIGNATURE = "f8[:,::1](f8[::1],f8[::1],f8[::1],f8[::1],b1[:,::1],f8[:,::1],f8[::1],i8[::1],i8)"


def _refresh_cache() -> None:
    """Delete this module's numba cache when any of :func:`kernel_sources` changed."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in kernel_sources())).hexdigest()
    cache = Path(__file__).parent / "__pycache__"
    stamp = cache / "kernel.stamp"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for f in cache.glob("kernel.*.nb[ic]"):
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
    fee_max = max(fp[F_TAKER], fp[F_MAKER])  # as EngineSettings.entry_fee_rate and the venue
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
                if notional / lev + notional * fee_max > free:
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
            raw,
            free,
            c[i],
            lev,
            fee_max,
            slip * 1e-4,
            fp[F_LOT],
            fp[F_MIN_QTY],
            fp[F_MIN_NOTIONAL],
        )
        if lots[0] <= 0.0:
            continue
        counter += 1
        active[_ENTRY], sign[_ENTRY], seq[_ENTRY], born[_ENTRY] = True, target, counter, 0
        frac[0], frac[1] = sl, tp
    if int(st[0]) != 0:  # end of data: cancel everything, close at the last close
        _close(st, fl, n - 1, c[n - 1], fp[F_TAKER], 3, out)
    return out


def build_extension(name: str, folder: Path) -> Path:
    """Compile :func:`_kernel` ahead of time into the extension module ``name`` (its one
    function: ``kernel``) in ``folder``; returns the file. Needs numba's ``pycc`` and a C
    compiler; the build goes to a temporary folder first, so a reader never sees half a file
    and concurrent builds do not collide."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc is "pending deprecation" (numba 0.57+)
        from numba.pycc import CC

        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
        try:
            cc = CC(name)
            cc.output_dir = str(tmp)
            cc.verbose = False
            cc.export("kernel", SIGNATURE)(_kernel.py_func)
            cc.compile()
            (built,) = tmp.glob(f"{name}.*")
            target = folder / built.name
            built.replace(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
