"""``btb data``: import, list, check and download market data in the local store.

The store folder comes from ``--data-dir``, else from ``-c CONFIG`` (``data.data_dir``), else
``user_data/data``; the exchange folder from ``--exchange``, else ``data.exchange``, else
``binance``. Bad data is one ``error: ...`` report on stderr with exit status 2 (nothing is
stored); ``btb data check`` exits 1 when it finds defects that block an import.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from btb.data.ingest import import_path, parse_dataset_name, read_ohlcv_file
from btb.data.loader import DEFAULT_DATA_DIR, DEFAULT_EXCHANGE
from btb.data.store import OHLCVStore
from btb.data.validate import DataReport, check_ohlcv
from btb.errors import DataError

DEFECTS_FOUND_EXIT = 1


def _settings(config_path: str | None) -> Any:
    """The ``data`` section of the config file, or an empty mapping without one."""
    if not config_path:
        return {}
    from btb.utils.config import load_config

    return load_config(config_path)["data"]


def resolve_store(data_dir: str | None, config_path: str | None) -> tuple[OHLCVStore, str]:
    """Store and default exchange from the options, the config file, or the defaults."""
    section = _settings(config_path)
    folder = data_dir or section.get("data_dir") or DEFAULT_DATA_DIR
    return OHLCVStore(Path(str(folder))), str(section.get("exchange") or DEFAULT_EXCHANGE)


def _fmt(ts: Any) -> str:
    return "-" if ts is None else ts.strftime("%Y-%m-%d %H:%M")


_data_dir_option = click.option(
    "--data-dir", default=None, help="Store folder (default: data.data_dir or user_data/data)."
)
_config_option = click.option(
    "--config", "-c", "config_path", default=None, help="YAML config (for data.data_dir)."
)
_exchange_option = click.option(
    "--exchange", default=None, help="Exchange folder in the store (default: data.exchange)."
)


@click.group("data")
def data() -> None:
    """Import, list, check and download candles (local Parquet store)."""


@data.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@_exchange_option
@click.option("--symbol", default=None, help="Symbol (default: from the file name).")
@click.option("--timeframe", default=None, help="Timeframe (default: from the file name).")
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "csv", "feather", "json"]), default="auto"
)
@click.option("--repair-sort", is_flag=True, help="Sort rows that are out of time order.")
@click.option("--drop-duplicates", is_flag=True, help="Drop rows repeating an identical candle.")
@click.option(
    "--on-conflict",
    type=click.Choice(["error", "replace", "keep"]),
    default="error",
    show_default=True,
    help="Candles already stored with other values: refuse, take the file's, or keep stored.",
)
@_data_dir_option
@_config_option
def import_cmd(
    path: Path,
    exchange: str | None,
    symbol: str | None,
    timeframe: str | None,
    fmt: Any,
    repair_sort: bool,
    drop_duplicates: bool,
    on_conflict: Any,
    data_dir: str | None,
    config_path: str | None,
) -> None:
    """Import a CSV/feather/JSON file or a freqtrade data folder into the store."""
    store, default_exchange = resolve_store(data_dir, config_path)
    results = import_path(
        store, path, exchange=exchange or default_exchange, symbol=symbol, timeframe=timeframe,
        fmt=fmt, repair_sort=repair_sort, drop_duplicates=drop_duplicates,
        on_conflict=on_conflict,
    )  # fmt: skip
    for res in results:
        replaced = f", {res.replaced} replaced" if res.replaced else ""
        click.echo(
            f"imported {res.source} -> {res.store_path}: {res.rows_read} rows read, "
            f"{res.added} new{replaced}, {res.total} stored ({res.time_format})"
        )
        # Warnings (gaps) already reach the log; repaired issues are said here, once.
        for issue in res.report.repairable:
            click.echo(f"  {issue.line()}")


@data.command("list")
@_data_dir_option
@_config_option
def list_cmd(data_dir: str | None, config_path: str | None) -> None:
    """List stored datasets with row counts and first/last candle (UTC open times)."""
    store, _ = resolve_store(data_dir, config_path)
    infos = store.list_datasets()
    if not infos:
        click.echo(f"no datasets in {store.data_dir}")
        return
    click.echo(f"{'exchange':<18} {'symbol':<12} {'tf':<4} {'rows':>8}  {'first':<16}  last")
    for info in infos:
        click.echo(
            f"{info.exchange:<18} {info.symbol:<12} {info.timeframe:<4} {info.rows:>8}  "
            f"{_fmt(info.first):<16}  {_fmt(info.last)}"
        )


def _check_file(path: Path, timeframe: str | None) -> DataReport:
    if not path.exists():
        raise DataError(
            f"{path}: no such file (a stored dataset is checked with SYMBOL TIMEFRAME, "
            "e.g. btb data check BTCUSDT 1h)"
        )
    name = parse_dataset_name(path)
    tf = timeframe or (name.timeframe if name else None)
    if tf is None:
        raise DataError(f"{path}: cannot tell the timeframe from the file name; pass --timeframe")
    frame, _ = read_ohlcv_file(path)
    return check_ohlcv(frame, tf, source=str(path))


@data.command("check")
@click.argument("target", nargs=-1)
@_exchange_option
@click.option("--timeframe", default=None, help="Timeframe of a file given as PATH.")
@_data_dir_option
@_config_option
def check_cmd(
    target: tuple[str, ...],
    exchange: str | None,
    timeframe: str | None,
    data_dir: str | None,
    config_path: str | None,
) -> None:
    """Check data: SYMBOL TF (stored), PATH (a file), or nothing (every stored dataset).

    Prints a report per dataset (defects with counts and first timestamps; gaps as
    warnings). Exits 1 if any dataset has defects other than gaps.
    """
    store, default_exchange = resolve_store(data_dir, config_path)
    ex = exchange or default_exchange
    if len(target) == 1:
        reports = [_check_file(Path(target[0]), timeframe)]
    elif len(target) == 2:
        symbol, tf = target
        reports = [check_ohlcv(store.read(ex, symbol, tf), tf, str(store.path(ex, symbol, tf)))]
    elif not target:
        infos = store.list_datasets()
        if not infos:
            click.echo(f"no datasets in {store.data_dir}")
        reports = [
            check_ohlcv(store.read(i.exchange, i.symbol, i.timeframe), i.timeframe, str(i.path))
            for i in infos
        ]
    else:
        raise click.UsageError("give SYMBOL TIMEFRAME, a PATH, or nothing")
    for report in reports:
        click.echo(report.text())
    if any(r.errors or r.repairable for r in reports):
        sys.exit(DEFECTS_FOUND_EXIT)


@data.command("download")
@click.option("--exchange", required=True, help="ccxt exchange id, e.g. bybit or binance.")
@click.option("--symbol", required=True, help="e.g. BTCUSDT or BTC/USDT.")
@click.option("--timeframe", required=True, help="e.g. 1h.")
@click.option("--since", default=None, help="First open time (ISO, UTC) if nothing is stored.")
@click.option("--until", default=None, help="Stop before this open time (ISO, UTC).")
@click.option("--market", default="spot", show_default=True, help="spot, linear, swap...")
@click.option("--base-url", default=None, help="Send requests to this URL (proxy or test).")
@click.option("--limit", "page_limit", default=1000, show_default=True, help="Candles per page.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_data_dir_option
@_config_option
def download_cmd(
    exchange: str,
    symbol: str,
    timeframe: str,
    since: str | None,
    until: str | None,
    market: str,
    base_url: str | None,
    page_limit: int,
    quiet: bool,
    data_dir: str | None,
    config_path: str | None,
) -> None:
    """Download candles with ccxt into the store, resuming after the last stored candle."""
    from btb.data.download import download

    store, _ = resolve_store(data_dir, config_path)
    res = download(
        store, exchange, symbol, timeframe, since, until, market_type=market,
        base_url=base_url, page_limit=page_limit, quiet=quiet,
    )  # fmt: skip
    click.echo(
        f"{res.exchange} {res.symbol} {res.timeframe}: {res.pages} page(s), {res.added} new "
        f"candle(s), {res.total} stored, last {_fmt(res.last)} -> {res.path}"
    )
