"""Download candles from an exchange with ccxt into the store, page by page, resumably.

The download starts after the newest stored candle (or at ``since`` when nothing is stored),
asks ccxt's async ``fetch_ohlcv`` for one page at a time and appends each page to the store
atomically, so an interrupted download keeps every page it finished and the next run
carries on from there. It stops at ``until`` or when a page brings no new closed candles.
Candles that have not closed yet (open time + timeframe after now) are never stored.

ccxt is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from btb.data.store import OHLCVStore, normalize_symbol, store_exchange_name
from btb.data.validate import DateLike, canonical_frame, parse_date, timeframe_delta, validate_frame
from btb.errors import (
    AuthenticationError,
    BTBError,
    DataError,
    ExchangeAPIError,
    NetworkError,
    RateLimitError,
)

logger = logging.getLogger(__name__)

#: Exchanges whose ccxt class takes ``options.fetchMarkets.types``: loading only the wanted
#: market type saves several requests per run.
_MARKET_TYPE_OPTION = frozenset({"bybit", "binance"})


@dataclass(frozen=True)
class DownloadResult:
    """What one :func:`download_ohlcv` run did."""

    exchange: str
    symbol: str
    timeframe: str
    pages: int
    added: int
    total: int
    first_new: pd.Timestamp | None
    last: pd.Timestamp | None
    path: Path


def _map_ccxt_error(exc: Exception, what: str) -> BTBError:
    """One ccxt exception as the btb error that says what to do next."""
    import ccxt

    message = f"{what}: {type(exc).__name__}: {exc}"
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimitError(message)
    if isinstance(exc, ccxt.NetworkError):
        return NetworkError(message)
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
        return AuthenticationError(message)
    if isinstance(exc, ccxt.BadSymbol):
        return DataError(message)
    return ExchangeAPIError(message)


async def _call(what: str, func: Any, *args: Any, retries: int, delay: float) -> Any:
    """Await ``func(*args)``, retrying transient failures with exponential back-off."""
    import ccxt

    for attempt in range(retries + 1):
        try:
            return await func(*args)
        except ccxt.BaseError as exc:
            error = _map_ccxt_error(exc, what)
            if not error.retryable or attempt == retries:
                raise error from exc
            wait = delay * 2**attempt
            logger.warning("%s (retry %d/%d in %.1fs)", error, attempt + 1, retries, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises


def _make_exchange(
    exchange_id: str, market_type: str, base_url: str | None, options: Mapping[str, Any] | None
) -> Any:
    import ccxt.async_support as ccxt_async

    cls = getattr(ccxt_async, exchange_id, None)
    if exchange_id not in ccxt_async.exchanges or cls is None:
        raise DataError(f"unknown exchange {exchange_id!r} (a ccxt exchange id such as bybit)")
    opts: dict[str, Any] = {}
    if exchange_id in _MARKET_TYPE_OPTION:
        opts["fetchMarkets"] = {"types": [market_type]}
    opts.update(options or {})
    exchange = cls({"enableRateLimit": True, "options": opts})
    if base_url:
        api = exchange.urls.get("api")
        if isinstance(api, dict):
            exchange.urls["api"] = {k: rebase_url(str(v), base_url) for k, v in api.items()}
        else:
            exchange.urls["api"] = rebase_url(str(api), base_url)
    return exchange


def rebase_url(url: str, base_url: str) -> str:
    """``url`` with its scheme and host replaced by ``base_url``, keeping its path.

    ``https://api.binance.com/api/v3`` with ``http://127.0.0.1:8080`` becomes
    ``http://127.0.0.1:8080/api/v3``, so every API family keeps its own prefix.
    """
    from urllib.parse import urlsplit

    path = urlsplit(url.replace("{hostname}", "hostname.invalid")).path
    return base_url.rstrip("/") + path


def _resolve_market(exchange: Any, symbol: str, market_type: str) -> str:
    """ccxt's unified symbol for ``symbol`` ("BTCUSDT", "BTC/USDT") of ``market_type``."""
    if "/" in symbol and symbol in exchange.markets:
        return str(symbol)
    wanted = normalize_symbol(symbol)
    for market in exchange.markets.values():
        same = normalize_symbol(str(market["id"])) == wanted or (
            normalize_symbol(str(market["symbol"])) == wanted
        )
        if same and (market.get("type") == market_type or market.get(market_type) is True):
            return str(market["symbol"])
    raise DataError(f"{exchange.id}: no {market_type} market {symbol!r}")


def _page_cap(exchange: Any, symbol: str) -> int | None:
    """The most candles one ``fetch_ohlcv`` call returns for this market, as ccxt says.

    Asking for more is not safe: an exchange that clamps the limit and fills a page from
    the end of the window (Bybit) would silently leave a hole at its start.
    """
    market = exchange.market(symbol)
    node = (getattr(exchange, "features", None) or {}).get(market.get("type"))
    if isinstance(node, dict) and not node.get("fetchOHLCV"):
        node = node.get("linear" if market.get("linear") else "inverse")  # swap / future
    ohlcv = node.get("fetchOHLCV") if isinstance(node, dict) else None
    limit = ohlcv.get("limit") if isinstance(ohlcv, dict) else None
    return limit if isinstance(limit, int) and limit > 0 else None


def _page_frame(rows: list[list[Any]], source: str, timeframe: str) -> pd.DataFrame:
    array = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    index = pd.DatetimeIndex(pd.to_datetime(array[:, 0].astype(np.int64), unit="ms", utc=True))
    frame = canonical_frame(index, array[:, 1:])
    # Order and repeated identical candles are harmless at a page boundary; all else raises.
    clean, _ = validate_frame(frame, timeframe, source, sort=True, drop_exact_duplicates=True)
    return clean


def _progress(total: int | None, quiet: bool, desc: str) -> Any:
    from tqdm import tqdm

    disabled = quiet or not sys.stderr.isatty()
    return tqdm(total=total, unit="candle", desc=desc, file=sys.stderr, disable=disabled)


def _to_ms(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000)


async def download_ohlcv(
    store: OHLCVStore,
    exchange_id: str,
    symbol: str,
    timeframe: str,
    since: DateLike = None,
    until: DateLike = None,
    *,
    market_type: str = "spot",
    base_url: str | None = None,
    page_limit: int = 1000,
    quiet: bool = False,
    retries: int = 3,
    retry_delay: float = 1.0,
    now: DateLike = None,
    max_empty_pages: int = 2,
    exchange_options: Mapping[str, Any] | None = None,
) -> DownloadResult:
    """Download closed candles ``[since, until)`` into ``store``, resuming after stored data.

    Args:
        store: where candles go (``<exchange>`` folder, ``<exchange>_futures`` for non-spot).
        exchange_id: ccxt exchange id, e.g. ``"bybit"``.
        symbol: ``"BTCUSDT"`` or ccxt's ``"BTC/USDT"``.
        timeframe: e.g. ``"1h"``.
        since: first open time wanted (ISO, UTC); needed unless data is already stored.
            When data is stored, the download starts after the newest stored candle
            (earlier history is not back-filled).
        until: stop before this open time (exclusive); None: up to the last closed candle.
        market_type: ``spot`` (default), ``linear``, ``swap``...
        base_url: send every request to this URL instead of the exchange (tests, proxies).
        page_limit: candles per request (lowered to the exchange's maximum per request).
        quiet: no progress bar (it is also off when stderr is not a terminal).
        retries, retry_delay: transient errors (network, rate limit) are retried this many
            times, waiting ``retry_delay * 2**attempt`` seconds.
        now: the current time (default: the clock); candles closing after it are dropped.
        max_empty_pages: stop after this many consecutive empty pages (one page-long gap
            in the exchange's history is crossed with the default 2).
        exchange_options: extra ccxt ``options``.
    """
    if page_limit < 1:
        raise DataError(f"page limit must be at least 1, got {page_limit}")
    step = timeframe_delta(timeframe)
    target = store_exchange_name(exchange_id, market_type)
    last = store.last_timestamp(target, symbol, timeframe)
    start = parse_date(since, "since")
    if last is not None:
        if start is not None and start <= last:
            logger.info("resuming after stored %s (earlier history is not back-filled)", last)
        start = last + step if start is None else max(start, last + step)
    if start is None:
        raise DataError(f"nothing stored for {normalize_symbol(symbol)} {timeframe}: give since")
    end = parse_date(until, "until")
    now_ms = _to_ms(parse_date(now, "now") or pd.Timestamp.now(tz="UTC"))
    step_ms = int(step.total_seconds() * 1000)
    # Only closed candles: open time + step <= now.
    stop = now_ms - step_ms + 1 if end is None else min(_to_ms(end), now_ms - step_ms + 1)
    job = _Job(
        store, target, symbol, timeframe, market_type, step_ms, _to_ms(start), stop,
        max(1, max_empty_pages),
    )  # fmt: skip
    exchange = _make_exchange(exchange_id, market_type, base_url, exchange_options)
    try:
        return await _download_pages(exchange, job, page_limit, quiet, retries, retry_delay)
    finally:
        await exchange.close()


@dataclass(frozen=True)
class _Job:
    store: OHLCVStore
    target: str
    symbol: str
    timeframe: str
    market_type: str
    step_ms: int
    start_ms: int
    stop_ms: int  # exclusive bound on open times
    max_empty_pages: int


async def _download_pages(
    exchange: Any, job: _Job, page_limit: int, quiet: bool, retries: int, delay: float
) -> DownloadResult:
    what = f"{exchange.id} {job.symbol} {job.timeframe}"
    await _call(f"{what} load markets", exchange.load_markets, retries=retries, delay=delay)
    market = _resolve_market(exchange, job.symbol, job.market_type)
    cap = _page_cap(exchange, market)
    if cap is not None and page_limit > cap:
        logger.info("%s: %d candles per request at most; page limit %d -> %d", what, cap,
                    page_limit, cap)  # fmt: skip
        page_limit = cap
    cursor, pages, added, empty = job.start_ms, 0, 0, 0
    first_new: pd.Timestamp | None = None
    with _progress(max(0, (job.stop_ms - cursor) // job.step_ms), quiet, what) as bar:
        while cursor < job.stop_ms:
            # Ask for a window holding at most `page_limit` candles: then it does not matter
            # whether the exchange fills a page from its start or from its end.
            window_end = min(cursor + page_limit * job.step_ms, job.stop_ms)
            rows = await _call(
                f"{what} candles from {pd.Timestamp(cursor, unit='ms', tz='UTC')}",
                exchange.fetch_ohlcv, market, job.timeframe, cursor, page_limit,
                {"until": window_end - 1}, retries=retries, delay=delay,
            )  # fmt: skip
            rows = [r for r in rows if cursor <= r[0] < window_end]
            if not rows:
                empty += 1
                if empty >= job.max_empty_pages:
                    break  # no new candles (the market may list later or have stopped)
                cursor = window_end
                continue
            frame = _page_frame(rows, f"{what} page {pages + 1}", job.timeframe)
            result = job.store.append(job.target, job.symbol, job.timeframe, frame)
            pages, added, empty = pages + 1, added + result.added, 0
            first_new = first_new if first_new is not None else frame.index[0]
            cursor = _to_ms(frame.index[-1]) + job.step_ms
            bar.update(len(frame))
    if cursor < job.stop_ms:
        logger.warning(
            "%s: no candles from %s on; stopped", what, pd.Timestamp(cursor, unit="ms", tz="UTC")
        )
    return _summary(job, pages, added, first_new)


def _summary(job: _Job, pages: int, added: int, first_new: pd.Timestamp | None) -> DownloadResult:
    path = job.store.path(job.target, job.symbol, job.timeframe)
    info = job.store.info(job.target, job.symbol, job.timeframe)
    total, last = (info.rows, info.last) if info else (0, None)
    logger.info("%s %s: %d page(s), %d new candle(s) -> %s", job.symbol, job.timeframe, pages,
                added, path)  # fmt: skip
    sym = normalize_symbol(job.symbol)
    return DownloadResult(
        job.target, sym, job.timeframe, pages, added, total, first_new, last, path
    )


def download(*args: Any, **kwargs: Any) -> DownloadResult:
    """Synchronous :func:`download_ohlcv` (runs its own event loop)."""
    return asyncio.run(download_ohlcv(*args, **kwargs))
