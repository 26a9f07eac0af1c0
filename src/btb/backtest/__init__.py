"""btb.backtest."""
