"""Exchange payloads (Bybit V5, Binance USDⓈ-M and spot) -> btb domain objects and snapshots."""
