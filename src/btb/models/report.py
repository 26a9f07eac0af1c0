"""The walk-forward report as one self-contained HTML page (plotly inlined, works offline).

:func:`render_html` turns :meth:`WalkForwardReport.to_dict` output into a page with the headline
table (model vs baselines, 95 % intervals), accuracy by confidence bucket with its intervals, and
accuracy per fold. It returns text; the caller writes it. plotly is imported only here.
"""

from __future__ import annotations

import html
import json
from typing import Any


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _ci(stats: dict[str, Any]) -> str:
    if stats.get("ci_low") is None:
        return "n/a"
    return f"{_pct(stats['ci_low'])} – {_pct(stats['ci_high'])}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6f}"


def _table(report: dict[str, Any]) -> str:
    base = report["baselines"]
    rows = [
        ("model (all test rows)", report["model"], report["model"]),
        (f"model, confidence > {report['confident']['threshold']}", report["confident"], {}),
        ("baseline: always up", base["always_up"], {}),
        ("baseline: last direction", base["last_direction"], base["last_direction"]),
        ("baseline: zero return", {}, base["zero_return"]),
    ]
    cells = []
    for name, acc, err in rows:
        cells.append(
            "<tr>"
            f"<td>{html.escape(name)}</td><td>{_pct(acc.get('accuracy'))}</td>"
            f"<td>{_ci(acc)}</td><td>{acc.get('n', '')}</td>"
            f"<td>{_num(err.get('rmse'))}</td><td>{_num(err.get('mae'))}</td>"
            "</tr>"
        )
    head = (
        "<tr><th></th><th>direction accuracy</th><th>95% interval</th><th>rows</th>"
        "<th>RMSE</th><th>MAE</th></tr>"
    )
    return f"<table>{head}{''.join(cells)}</table>"


def _bucket_figure(report: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    buckets = [b for b in report["buckets"] if b["n"]]
    labels = [f"({b['low']:.2f}, {b['high']:.2f}]<br>n={b['n']}" for b in buckets]
    acc = [b["accuracy"] for b in buckets]
    upper = [(b["ci_high"] or b["accuracy"]) - b["accuracy"] for b in buckets]
    lower = [b["accuracy"] - (b["ci_low"] or b["accuracy"]) for b in buckets]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=acc,
            name="model accuracy",
            error_y={"type": "data", "array": upper, "arrayminus": lower},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[b["mean_confidence"] for b in buckets],
            mode="markers",
            name="mean confidence (perfect calibration)",
        )
    )
    up = report["baselines"]["always_up"]["accuracy"]
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="coin flip")
    if up is not None:
        fig.add_hline(y=up, line_dash="dash", annotation_text="always up")
    fig.update_layout(
        title="Direction accuracy by confidence bucket (95% intervals)",
        yaxis={"title": "accuracy", "tickformat": ".0%"},
        xaxis={"title": "confidence bucket"},
    )
    return fig


def _fold_figure(report: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    folds = report["folds"]
    x = [f"fold {f['fold'] + 1}<br>{str(f['test'][0])[:10]}" for f in folds]
    fig = go.Figure(go.Bar(x=x, y=[f["accuracy"] for f in folds], name="model"))
    fig.add_trace(go.Bar(x=x, y=[f["always_up"] for f in folds], name="always up"))
    fig.update_layout(
        title="Direction accuracy per walk-forward fold",
        yaxis={"title": "accuracy", "tickformat": ".0%"},
        barmode="group",
    )
    return fig


def render_html(report: dict[str, Any], title: str = "btb walk-forward report") -> str:
    """The report page (self-contained: plotly.js is inlined once)."""
    bucket_html = _bucket_figure(report).to_html(full_html=False, include_plotlyjs=True)
    fold_html = _fold_figure(report).to_html(full_html=False, include_plotlyjs=False)
    setup = html.escape(json.dumps(report["setup"], indent=2, default=str))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>Purged walk-forward: every figure comes from rows the model was not trained on, tested in
time order after a purge and embargo gap. Crypto direction at short horizons is close to a coin
flip; compare the model with the baselines and read the intervals before trusting it.</p>
{_table(report)}
{bucket_html}
{fold_html}
<h2>Setup</h2><pre>{setup}</pre>
</body></html>
"""
