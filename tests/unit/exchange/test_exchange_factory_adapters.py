"""create_exchange: which adapter, which environment (live, demo, a local host), no secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from btb.errors import ConfigError
from btb.exchange.binance import BinanceExchange
from btb.exchange.bybit import BybitExchange
from btb.exchange.direct import BybitDirectExchange
from btb.exchange.factory import DEFAULT_SIM_URL, create_exchange
from btb.exchange.retry import RetryPolicy
from btb.utils.config import load_config, override_config
from btb.utils.config_models import ExchangeConfig

CONFIG_YAML = """\
exchange:
  name: sim
  testnet: true
  base_url: http://127.0.0.1:9001
  ws_url: ws://127.0.0.1:9002/v5/public/linear
  poll_interval_s: 2.5
  timeout_s: 3
  recv_window_ms: 5000
  retry: {attempts: 7, base_delay: 0.25, max_delay: 2, max_rate_limit_wait: 9}
trading: {symbols: [BTCUSDT], timeframes: [1h], strategy: ema_cross}
risk: {}
data: {}
"""


def test_bybit_live_and_demo_hosts() -> None:
    live = create_exchange("bybit", {"testnet": False})
    demo = create_exchange("bybit", {"testnet": True})
    assert isinstance(live, BybitExchange)
    # Bybit's hosts: api.bybit.com (live) and api-demo.bybit.com (demo trading, paper money)
    assert (
        live.client.implode_hostname(live.client.urls["api"]["private"]) == "https://api.bybit.com"
    )
    assert (
        demo.client.implode_hostname(demo.client.urls["api"]["private"])
        == "https://api-demo.bybit.com"
    )


def test_binance_live_and_demo_hosts() -> None:
    live = create_exchange("binance", {"testnet": False})
    demo = create_exchange("binance", {"testnet": True})
    assert isinstance(live, BinanceExchange)
    assert live.client.urls["api"]["fapiPrivate"] == "https://fapi.binance.com/fapi/v1"
    assert demo.client.urls["api"]["fapiPrivate"] == "https://demo-fapi.binance.com/fapi/v1"


def test_base_url_replaces_every_host_and_keeps_paths() -> None:
    ex = create_exchange("binance", {"testnet": False, "base_url": "http://127.0.0.1:9999"})
    urls = ex.client.urls["api"]
    assert urls["fapiPrivateV3"] == "http://127.0.0.1:9999/fapi/v3"
    assert urls["sapi"] == "http://127.0.0.1:9999/sapi/v1"
    assert all(u.startswith("http://127.0.0.1:9999") for u in urls.values() if isinstance(u, str))


def test_sim_uses_the_direct_client_on_loopback_unless_told_otherwise() -> None:
    sim = create_exchange("sim", {})
    assert isinstance(sim, BybitDirectExchange)
    assert sim.client.base_url == DEFAULT_SIM_URL
    assert sim.ws_url == "ws://127.0.0.1:8765/v5/public/linear"
    via_ccxt = create_exchange("sim", {"client": "ccxt", "base_url": "http://127.0.0.1:9000"})
    assert isinstance(via_ccxt, BybitExchange)
    with pytest.raises(ConfigError) as err:
        create_exchange("sim", {"client": "pybit"})
    assert err.value.key_path == "exchange.client"


def test_typed_config_secrets_reach_the_client_but_no_repr() -> None:
    config = ExchangeConfig(
        name="bybit", testnet=True, api_key=SecretStr("the-key"), api_secret=SecretStr("the-secret")
    )
    ex = create_exchange(config["name"], config)
    assert (ex.client.apiKey, ex.client.secret) == ("the-key", "the-secret")
    assert "the-secret" not in repr(ex) and "the-key" not in repr(ex)


def test_bad_configs_name_the_key() -> None:
    with pytest.raises(ConfigError) as err:
        create_exchange("kraken", {})
    assert err.value.key_path == "exchange.name" and "kraken" in str(err.value)
    with pytest.raises(ConfigError) as err:
        create_exchange("bybit_direct", {"testnet": True})
    assert err.value.key_path == "exchange.api_key"
    with pytest.raises(ConfigError) as err:
        create_exchange("binance", {"testnet": True, "market_type": "spot"})
    assert err.value.key_path == "exchange.market_type"


def test_paper_trading_never_loads_ccxt() -> None:
    code = (
        "import sys\n"
        "from btb.exchange.factory import create_exchange\n"
        "create_exchange('sim', {})\n"
        "import btb.exchange.sim\n"
        "assert 'ccxt' not in sys.modules, 'ccxt was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_factory_reads_every_key_of_a_loaded_yaml_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_YAML)
    config = load_config(path, env={})
    direct = create_exchange(config.exchange.name, config.exchange)
    assert isinstance(direct, BybitDirectExchange)
    assert direct.retry_policy == RetryPolicy(
        attempts=7, base_delay=0.25, max_delay=2.0, max_rate_limit_wait=9.0
    )
    assert direct.client.base_url == "http://127.0.0.1:9001"
    assert direct.ws_url == "ws://127.0.0.1:9002/v5/public/linear"
    assert direct.candle_stream("BTCUSDT", "1h").poll_interval == 2.5
    http = direct.client._http
    assert (http.timeout, http.recv_window, http.policy) == (3.0, 5000, direct.retry_policy)

    via_ccxt = override_config(config, {"exchange.client": "ccxt"})
    bybit = create_exchange(via_ccxt.exchange.name, via_ccxt.exchange)
    assert isinstance(bybit, BybitExchange)
    assert bybit.retry_policy == direct.retry_policy
    assert bybit.ws_url == "ws://127.0.0.1:9002/v5/public/linear"
    assert bybit.client.urls["api"]["private"] == "http://127.0.0.1:9001"
    assert (bybit.client.timeout, bybit.client.options["recvWindow"]) == (3000, 5000)
    assert bybit.candle_stream("BTCUSDT", "1h").poll_interval == 2.5


def test_defaults_of_the_typed_config_reach_the_adapters() -> None:
    config = ExchangeConfig(name="binance", testnet=True)
    ex = create_exchange(config.name, config)
    assert isinstance(ex, BinanceExchange)
    assert ex.retry_policy == RetryPolicy()  # the same defaults as RetryConfig's
    assert ex.ws_url == "wss://fstream.binancefuture.com/market/ws"  # Binance demo streams
    live = create_exchange("binance", {"testnet": False})
    assert live.ws_url == "wss://fstream.binance.com/market/ws"  # the kline routing ccxt uses
    # Bybit demo trading has no public streams of its own: market data is mainnet's
    bybit = create_exchange("bybit", {"testnet": True})
    assert bybit.ws_url == "wss://stream.bybit.com/v5/public/linear"
    # an hourly candle is polled every 15 s (a quarter of it, at most 15 s) by default
    assert ex.candle_stream("BTCUSDT", "1h").poll_interval == 15.0
