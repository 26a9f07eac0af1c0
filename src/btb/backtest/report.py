"""Backtest reports: a self-contained interactive HTML page, a static PNG, and result files.

The HTML page inlines plotly.js (it opens offline, from a file, with nothing else) and shows
price with entries and exits, equity, drawdown, the metrics and the trade table. Long
series are thinned for drawing (every k-th bar plus every bar with a trade); the numbers in
the tables and files are never thinned.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from btb.backtest.metrics import drawdown

MAX_POINTS = 20_000  # drawn points per line
MAX_MARKERS = 5_000  # drawn trades per symbol (the most recent)
MAX_TABLE_ROWS = 2_000  # trade rows in the HTML table (all of them are in trades.csv)
MAX_PRICE_PANELS = 4


def _thin(index: pd.DatetimeIndex, keep: pd.DatetimeIndex | None = None) -> np.ndarray[Any, Any]:
    """Positions to draw: every k-th bar, the last one, and the bars in ``keep``."""
    n = len(index)
    step = max(1, math.ceil(n / MAX_POINTS))
    picked = np.arange(0, n, step)
    extra = [n - 1] if n else []
    if keep is not None and len(keep):
        extra.extend(index.searchsorted(keep).tolist())
    return np.unique(np.clip(np.concatenate((picked, extra)).astype(np.int64), 0, max(n - 1, 0)))


def build_figure(
    data: Mapping[str, pd.DataFrame], trades: pd.DataFrame, equity: pd.Series, initial: float
) -> Any:
    """The plotly figure: a price panel per symbol (up to 4), equity, drawdown."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    symbols = list(data)[:MAX_PRICE_PANELS]
    rows = len(symbols) + 2
    heights = [0.5 / len(symbols)] * len(symbols) + [0.3, 0.2]
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=heights,
        subplot_titles=[*symbols, "equity", "drawdown"],
    )
    for row, symbol in enumerate(symbols, start=1):
        df = data[symbol]
        mine = trades[trades["symbol"] == symbol].tail(MAX_MARKERS)
        idx = pd.DatetimeIndex(df.index)
        keep = pd.DatetimeIndex(pd.concat([mine["entry_time"], mine["exit_time"]]))
        at = _thin(idx, keep)
        fig.add_trace(
            go.Scattergl(
                x=idx[at],
                y=df["close"].to_numpy()[at],
                name=f"{symbol} close",
                line={"width": 1, "color": "#555"},
            ),
            row=row,
            col=1,
        )
        for side, symbol_mark, color in (
            ("long", "triangle-up", "#1a9850"),
            ("short", "triangle-down", "#d73027"),
        ):
            t = mine[mine["side"] == side]
            if len(t):
                fig.add_trace(
                    go.Scattergl(
                        x=t["entry_time"],
                        y=t["entry_price"],
                        mode="markers",
                        name=f"{side} entry",
                        marker={"symbol": symbol_mark, "size": 9, "color": color},
                        text=[
                            f"{tid} {side} qty {q:.6g}"
                            for tid, q in zip(t["trade_id"], t["quantity"], strict=True)
                        ],
                    ),
                    row=row,
                    col=1,
                )
        if len(mine):
            fig.add_trace(
                go.Scattergl(
                    x=mine["exit_time"],
                    y=mine["exit_price"],
                    mode="markers",
                    name="exit",
                    marker={"symbol": "x", "size": 8, "color": "#4575b4"},
                    text=[
                        f"{tid} {r} pnl {p:.2f}"
                        for tid, r, p in zip(
                            mine["trade_id"], mine["exit_reason"], mine["net_pnl"], strict=True
                        )
                    ],
                ),
                row=row,
                col=1,
            )
    eidx = pd.DatetimeIndex(equity.index)
    at = _thin(eidx)
    dd = drawdown(equity, initial)
    fig.add_trace(
        go.Scattergl(x=eidx[at], y=equity.to_numpy()[at], name="equity", line={"color": "#2c7bb6"}),
        row=rows - 1,
        col=1,
    )
    fig.add_trace(
        go.Scattergl(
            x=eidx[at],
            y=-dd.to_numpy()[at] * 100,
            name="drawdown %",
            fill="tozeroy",
            line={"color": "#d7191c"},
        ),
        row=rows,
        col=1,
    )
    fig.update_layout(
        height=300 + 220 * rows,
        hovermode="x unified",
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 40, "b": 30},
    )
    return fig


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.6g}"
    return "" if value is None else str(value)


def _metrics_html(metrics: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>"
        for k, v in metrics.items()
        if k != "per_symbol"
    )
    per = metrics.get("per_symbol") or {}
    sym = pd.DataFrame(per).T
    sym_html = sym.to_html(float_format=lambda x: f"{x:.6g}") if len(sym) else ""
    return f"<table class='m'>{rows}</table><h3>per symbol</h3>{sym_html}"


def write_report(
    path: Path,
    data: Mapping[str, pd.DataFrame],
    results: Mapping[str, Any],
    *,
    initial: float,
    title: str,
) -> Path:
    """Write ``path``: a PNG (matplotlib) when it ends in .png, else a self-contained HTML."""
    path.parent.mkdir(parents=True, exist_ok=True)
    trades, equity = results["trades"], results["equity"]
    if path.suffix.lower() == ".png":
        _write_png(path, data, trades, equity, initial, title)
        return path
    fig = build_figure(data, trades, equity, initial)
    plot = fig.to_html(full_html=False, include_plotlyjs=True)
    table = trades.tail(MAX_TABLE_ROWS).to_html(index=False, float_format=lambda x: f"{x:.8g}")
    note = (
        f"<p>last {MAX_TABLE_ROWS} of {len(trades)} trades (all in trades.csv)</p>"
        if len(trades) > MAX_TABLE_ROWS
        else ""
    )
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:20px}} table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>path: {html.escape(str(results.get("path", "")))}; generated
{datetime.now(UTC).isoformat(timespec="seconds")}</p>
{plot}
<h2>metrics</h2>{_metrics_html(results.get("metrics", {}))}
<h2>trades</h2>{note}{table}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def _write_png(
    path: Path,
    data: Mapping[str, pd.DataFrame],
    trades: pd.DataFrame,
    equity: pd.Series,
    initial: float,
    title: str,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    symbol = next(iter(data))
    df = data[symbol]
    fig, axes = plt.subplots(
        3, 1, figsize=(12, 9), sharex=True, gridspec_kw={"height_ratios": [3, 2, 1]}
    )
    idx = pd.DatetimeIndex(df.index)
    at = _thin(idx)
    axes[0].plot(idx[at], df["close"].to_numpy()[at], lw=0.8, color="#555")
    mine = trades[trades["symbol"] == symbol].tail(MAX_MARKERS)
    for side, marker, color in (("long", "^", "#1a9850"), ("short", "v", "#d73027")):
        t = mine[mine["side"] == side]
        axes[0].scatter(t["entry_time"], t["entry_price"], marker=marker, color=color, s=18)
    axes[0].scatter(mine["exit_time"], mine["exit_price"], marker="x", color="#4575b4", s=14)
    axes[0].set_title(f"{title} ({symbol})")
    eidx = pd.DatetimeIndex(equity.index)
    at = _thin(eidx)
    axes[1].plot(eidx[at], equity.to_numpy()[at], color="#2c7bb6")
    axes[1].set_ylabel("equity")
    axes[2].fill_between(eidx[at], -drawdown(equity, initial).to_numpy()[at] * 100, color="#d7191c")
    axes[2].set_ylabel("drawdown %")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return "inf" if math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return value


def save_results(
    folder: Path, results: Mapping[str, Any], config: Mapping[str, Any], *, strategy: Any
) -> None:
    """``summary.json`` (metrics, path, strategy), ``trades.csv``, ``equity.csv``,
    ``config.yaml`` (the config used, secrets redacted) in ``folder``."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    summary = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "path": results.get("path"),
        "strategy": {"name": strategy.strategy_type, "params": dict(strategy.params)},
        "metrics": results.get("metrics", {}),
    }
    (folder / "summary.json").write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
    results["trades"].to_csv(folder / "trades.csv", index=False)
    equity = results["equity"]
    frame = pd.DataFrame({"equity": equity})
    frame.index.name = "timestamp"
    frame.to_csv(folder / "equity.csv")
    (folder / "config.yaml").write_text(yaml.safe_dump(_jsonable(dict(config)), sort_keys=False))
