"""Download with the real, unmodified ccxt ``bybit`` client against a local Bybit V5 server.

The server answers the only two endpoints ccxt needs for a spot download (found by logging
its requests): ``/v5/market/instruments-info`` (the recorded Bybit payload from the shared
exchange fixtures) and ``/v5/market/kline``, serving real Binance BTC/USDT 5m candles in
Bybit's response shape (strings, newest first, as in the recorded ``fetchOHLCV`` response).
When a request gives both ``start`` and ``end`` and more candles match than ``limit``, the
server returns the newest ``limit`` (anchored at ``end``); without ``end`` it returns the
oldest from ``start``. The downloader must work either way. Like Bybit, it never returns
more than 1000 candles per request, whatever ``limit`` asks for.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiohttp import web
from click.testing import CliRunner

from btb.cli.main import cli
from btb.data.download import download, download_ohlcv
from btb.data.store import OHLCVStore
from btb.errors import NetworkError

FIVE_MIN_MS = 300_000
INSTRUMENTS = "nautilus_trader/crates/adapters/bybit/test_data/http_get_instruments_spot.json"


def _source_candles(ohlcv_dir: Path, rows: int) -> pd.DataFrame:
    """The first ``rows`` real BTC/USDT 5m candles, read independently of btb."""
    raw = pd.read_csv(ohlcv_dir / "binance_spot" / "BTC_USDT-5m.csv.gz", nrows=rows)
    raw.index = pd.DatetimeIndex(pd.to_datetime(raw.pop("timestamp"), unit="ms", utc=True))
    raw.index.name = "timestamp"
    return raw.astype("float64")


class FakeBybit:
    """A Bybit V5 REST server on 127.0.0.1 (free port) in a background thread."""

    def __init__(self, candles: pd.DataFrame, instruments: dict[str, Any]) -> None:
        self.candles = candles
        self.instruments = instruments
        self.visible = len(candles)  # candles "published" so far (moves forward in tests)
        self.fail_klines: set[int] = set()  # 0-based kline request numbers answered with 500
        self.max_limit = 1000  # Bybit's documented maximum for /v5/market/kline
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._sock = sock
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/v5/market/instruments-info", self._instruments)
        app.router.add_get("/v5/market/kline", self._kline)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    @property
    def klines(self) -> list[dict[str, str]]:
        return [query for path, query in self.requests if path == "/v5/market/kline"]

    async def _instruments(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        assert request.query["category"] == "spot"
        return web.json_response(self.instruments)

    async def _kline(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        number = len(self.klines)
        self.requests.append((request.path, query))
        if number in self.fail_klines:
            return web.Response(status=500, text="upstream unavailable")
        assert (query["category"], query["symbol"], query["interval"]) == ("spot", "BTCUSDT", "5")
        ms = self.candles.index[: self.visible].asi8 // 1000
        chosen = self.candles.iloc[: self.visible][ms >= int(query["start"])]
        limit = min(int(query.get("limit", 200)), self.max_limit)
        if "end" in query:
            chosen = chosen[chosen.index.asi8 // 1000 <= int(query["end"])].iloc[-limit:]
        else:
            chosen = chosen.iloc[:limit]
        rows = [
            [str(ts.value // 1_000_000), *(repr(float(x)) for x in row), repr(row[3] * row[4])]
            for ts, row in zip(chosen.index, chosen.to_numpy(), strict=True)
        ]
        body = {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"symbol": "BTCUSDT", "category": "spot", "list": rows[::-1]},
            "retExtInfo": {},
            "time": 1725600000000,
        }
        return web.json_response(body)


@pytest.fixture
def candles(ohlcv_dir: Path) -> pd.DataFrame:
    return _source_candles(ohlcv_dir, 600)


@pytest.fixture
def bybit(candles: pd.DataFrame, fixtures_dir: Path) -> Iterator[FakeBybit]:
    instruments = json.loads((fixtures_dir / INSTRUMENTS).read_text())
    server = FakeBybit(candles, instruments)
    server.start()
    yield server
    server.stop()


def _run(store: OHLCVStore, server: FakeBybit, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "since": "2024-01-01", "base_url": server.url, "page_limit": 200, "quiet": True,
        "retry_delay": 0.0,
    }  # fmt: skip
    options.update(kwargs)
    return download(store, "bybit", "BTCUSDT", "5m", **options)


def _starts(server: FakeBybit, first: int = 0) -> list[int]:
    return [int(q["start"]) for q in server.klines[first:]]


def test_download_pages_through_range_and_stores_exact_candles(
    tmp_path: Path, bybit: FakeBybit, candles: pd.DataFrame
) -> None:
    bybit.visible = 450
    store = OHLCVStore(tmp_path)
    result = _run(store, bybit)
    t0 = candles.index[0].value // 1_000_000
    # 450 candles in pages of 200: 200, 200, 50; then two empty windows end the run.
    assert (result.pages, result.added, result.total) == (3, 450, 450)
    assert _starts(bybit)[:3] == [t0, t0 + 200 * FIVE_MIN_MS, t0 + 400 * FIVE_MIN_MS]
    assert len(bybit.klines) == 5
    assert all(q["limit"] == "200" for q in bybit.klines)
    stored = store.read("bybit", "BTCUSDT", "5m")
    pd.testing.assert_frame_equal(stored, candles.iloc[:450], check_index_type=False)
    assert result.path == tmp_path / "bybit" / "BTCUSDT-5m.parquet"


def test_page_limit_above_the_exchange_maximum_leaves_no_hole(
    tmp_path: Path, ohlcv_dir: Path, fixtures_dir: Path
) -> None:
    # 2500 candles asked for 2500 at a time: Bybit would answer the newest 1000 of each
    # window, so the downloader must ask for windows of at most 1000 (ccxt's advertised cap).
    many = _source_candles(ohlcv_dir, 2500)
    server = FakeBybit(many, json.loads((fixtures_dir / INSTRUMENTS).read_text()))
    server.start()
    try:
        store = OHLCVStore(tmp_path)
        result = _run(store, server, page_limit=2500)
    finally:
        server.stop()
    assert (result.pages, result.added) == (3, 2500)  # 1000 + 1000 + 500
    assert {q["limit"] for q in server.klines} == {"1000"}
    pd.testing.assert_frame_equal(
        store.read("bybit", "BTCUSDT", "5m"), many, check_index_type=False
    )


def test_download_stops_at_until_exclusive(
    tmp_path: Path, bybit: FakeBybit, candles: pd.DataFrame
) -> None:
    store = OHLCVStore(tmp_path)
    result = _run(store, bybit, until=candles.index[300].isoformat())
    assert (result.pages, result.added) == (2, 300)
    assert len(bybit.klines) == 2  # reached `until`: no further request
    assert int(bybit.klines[-1]["end"]) == candles.index[300].value // 1_000_000 - 1
    assert store.read("bybit", "BTCUSDT", "5m").index[-1] == candles.index[299]


def test_second_run_resumes_and_downloads_only_new_candles(
    tmp_path: Path, bybit: FakeBybit, candles: pd.DataFrame
) -> None:
    store = OHLCVStore(tmp_path)
    bybit.visible = 450
    _run(store, bybit)
    before = store.read("bybit", "BTCUSDT", "5m")
    bybit.visible = 600  # time passes: 150 new candles published
    requests_before = len(bybit.klines)
    result = _run(store, bybit)
    assert _starts(bybit, requests_before)[0] == candles.index[450].value // 1_000_000
    assert (result.added, result.total) == (150, 600)
    assert result.first_new == candles.index[450]
    after = store.read("bybit", "BTCUSDT", "5m")
    pd.testing.assert_frame_equal(after.iloc[:450], before)
    pd.testing.assert_frame_equal(after, candles, check_index_type=False)


def test_interrupted_download_keeps_finished_pages_then_resumes(
    tmp_path: Path, bybit: FakeBybit, candles: pd.DataFrame
) -> None:
    store = OHLCVStore(tmp_path)
    bybit.fail_klines = {2, 3}  # third page fails, and its one retry too
    with pytest.raises(NetworkError, match="ExchangeNotAvailable"):
        _run(store, bybit, retries=1)
    kept = store.read("bybit", "BTCUSDT", "5m")
    pd.testing.assert_frame_equal(kept, candles.iloc[:400], check_index_type=False)
    bybit.fail_klines = set()
    first_resumed = len(bybit.klines)
    result = _run(store, bybit)
    assert _starts(bybit, first_resumed)[0] == candles.index[400].value // 1_000_000
    assert result.added == 200
    pd.testing.assert_frame_equal(
        store.read("bybit", "BTCUSDT", "5m"), candles, check_index_type=False
    )


def test_transient_error_is_retried(tmp_path: Path, bybit: FakeBybit) -> None:
    store = OHLCVStore(tmp_path)
    bybit.fail_klines = {1}
    result = _run(store, bybit, retries=2)
    assert result.total == 600
    assert _starts(bybit)[1] == _starts(bybit)[2]  # the failed page was asked for again


def test_unclosed_candle_is_not_stored(
    tmp_path: Path, bybit: FakeBybit, candles: pd.DataFrame
) -> None:
    store = OHLCVStore(tmp_path)
    # At "now" candle 449 has been open for 2 minutes: it is still forming.
    now = candles.index[449] + pd.Timedelta(minutes=2)
    result = _run(store, bybit, now=now.isoformat())
    assert result.total == 449
    assert store.read("bybit", "BTCUSDT", "5m").index[-1] == candles.index[448]


async def test_async_download_in_running_loop(tmp_path: Path, bybit: FakeBybit) -> None:
    bybit.visible = 250
    store = OHLCVStore(tmp_path)
    result = await download_ohlcv(
        store, "bybit", "BTC/USDT", "5m", "2024-01-01", base_url=bybit.url, quiet=True
    )
    assert (result.pages, result.total) == (1, 250)


def test_cli_download_against_base_url(
    tmp_path: Path, bybit: FakeBybit, candles: pd.DataFrame
) -> None:
    bybit.visible = 300
    args = [
        "data", "download", "--exchange", "bybit", "--symbol", "BTCUSDT", "--timeframe", "5m",
        "--since", "2024-01-01", "--base-url", bybit.url, "--data-dir", str(tmp_path), "--quiet",
    ]  # fmt: skip
    outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == 0, outcome.output
    assert "300 new candle(s)" in outcome.output
    stored = OHLCVStore(tmp_path).read("bybit", "BTCUSDT", "5m")
    pd.testing.assert_frame_equal(stored, candles.iloc[:300], check_index_type=False)


async def test_base_url_keeps_each_api_path_prefix() -> None:
    import ccxt.async_support as ccxt_async

    from btb.data.download import rebase_url

    binance = ccxt_async.binance()
    try:
        public = binance.urls["api"]["public"]  # https://api.binance.com/api/v3
        assert rebase_url(public, "http://127.0.0.1:8080/") == "http://127.0.0.1:8080/api/v3"
    finally:
        await binance.close()
    assert rebase_url("https://api.{hostname}", "http://127.0.0.1:1") == "http://127.0.0.1:1"
