"""Direct Bybit V5 REST client (aiohttp, HMAC-SHA256), independent of ccxt."""

from btb.exchange.bybit_direct.client import DEMO_URL, MAINNET_URL, ByBitDirectClient

__all__ = ["DEMO_URL", "MAINNET_URL", "ByBitDirectClient"]
