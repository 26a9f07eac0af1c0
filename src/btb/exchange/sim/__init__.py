"""btb's local exchange simulator: Bybit V5 and Binance USDⓈ-M on 127.0.0.1.

It verifies keys and signatures like the exchanges, keeps balances, orders and positions per
account, matches orders against replayed candles with the backtest's fill rules, runs its own
clock (real time, accelerated or stepped) and injects faults on request. Start it with
``btb sim`` or, in tests, ``async with SimServer(SimExchange.from_data(...)) as server``.
"""

from btb.exchange.sim.clock import SimClock
from btb.exchange.sim.faults import FaultInjector, FaultRule
from btb.exchange.sim.market import MarketReplay, load_replay
from btb.exchange.sim.server import SimExchange, SimServer, create_app
from btb.exchange.sim.venue import OrderRequest, SimVenue, VenueError

__all__ = [
    "FaultInjector",
    "FaultRule",
    "MarketReplay",
    "OrderRequest",
    "SimClock",
    "SimExchange",
    "SimServer",
    "SimVenue",
    "VenueError",
    "create_app",
    "load_replay",
]
