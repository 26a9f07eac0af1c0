"""Direct Bybit V5 REST client (aiohttp, HMAC-SHA256), independent of ccxt."""

from btb.exchange.bybit_direct.client import ByBitDirectClient
from btb.exchange.bybit_direct.public import DEMO_URL, MAINNET_URL

__all__ = ["DEMO_URL", "MAINNET_URL", "ByBitDirectClient"]
