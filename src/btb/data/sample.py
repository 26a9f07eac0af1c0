"""The sample candles shipped inside the package (for ``btb demo``, docs and tests).

Real Binance spot BTC/USDT and ETH/USDT candles, 1h and 5m, 2024-01-01 to 2024-09-06, as
gzip CSV (``timestamp,open,high,low,close,volume``, ms open times, UTC). Provenance and
licence: ``btb/sample_data/binance_spot/ATTRIBUTION.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from btb.data.ingest import ImportResult, import_file, parse_dataset_name
from btb.data.store import OHLCVStore
from btb.errors import DataError

SAMPLE_FOLDER = ("sample_data", "binance_spot")
SAMPLE_EXCHANGE = "binance"
SAMPLE_SYMBOLS = ("BTCUSDT", "ETHUSDT")
SAMPLE_TIMEFRAMES = ("5m", "1h")


@dataclass(frozen=True)
class SampleFile:
    """One shipped file and the dataset it holds."""

    symbol: str
    timeframe: str
    path: Path


def sample_dir() -> Path:
    """Folder of the shipped sample files (a real folder: the package is not zipped)."""
    folder = resources.files("btb").joinpath(*SAMPLE_FOLDER)
    path = Path(str(folder))
    if not path.is_dir():
        raise DataError(f"shipped sample data not found at {path} (broken installation?)")
    return path


def demo_config_path() -> Path:
    """The configuration ``btb demo`` runs with (simulator, paper mode, no keys)."""
    path = sample_dir().parent / "demo.yaml"
    if not path.is_file():
        raise DataError(f"shipped demo config not found at {path} (broken installation?)")
    return path


def attribution_path() -> Path:
    """The provenance and licence note that travels with the sample."""
    return sample_dir() / "ATTRIBUTION.md"


def sample_files() -> list[SampleFile]:
    """Every shipped candle file, BTC before ETH, short timeframe first."""
    files = []
    for path in sorted(sample_dir().glob("*.csv.gz")):
        name = parse_dataset_name(path)
        if name is not None:
            files.append(SampleFile(name.symbol, name.timeframe, path))
    order = {tf: i for i, tf in enumerate(SAMPLE_TIMEFRAMES)}
    return sorted(files, key=lambda f: (f.symbol, order.get(f.timeframe, 99)))


def sample_path(symbol: str, timeframe: str) -> Path:
    """Path of one shipped file, e.g. ``sample_path("BTCUSDT", "1h")``."""
    for item in sample_files():
        if item.symbol == symbol and item.timeframe == timeframe:
            return item.path
    raise DataError(f"no shipped sample for {symbol} {timeframe} in {sample_dir()}")


def import_sample(
    data_dir: str | os.PathLike[str], exchange: str = SAMPLE_EXCHANGE
) -> list[ImportResult]:
    """Import every shipped file into the store at ``data_dir`` (idempotent)."""
    store = OHLCVStore(data_dir)
    return [import_file(store, item.path, exchange=exchange) for item in sample_files()]
