"""A small control API under ``/_sim`` for driving a simulator from another process.

``GET /_sim/state``; ``POST /_sim/step`` ``{"candles": n}`` (advance the clock and match);
``POST /_sim/faults`` with :class:`~btb.exchange.sim.faults.FaultRule` fields;
``DELETE /_sim/faults``. The server listens on loopback only; these endpoints are for tests
and for ``btb sim`` users on the same machine.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from btb.exchange.sim.faults import FaultRule

if TYPE_CHECKING:
    from btb.exchange.sim.server import SimExchange

_RULE_FIELDS = {f.name for f in dataclasses.fields(FaultRule)} - {"fired"}


class ControlAPI:
    """The ``/_sim`` handlers of one simulator."""

    def __init__(self, sim: SimExchange) -> None:
        self.sim = sim

    async def state(self, request: web.Request) -> web.Response:
        sim, venue = self.sim, self.sim.venue
        return web.json_response(
            {
                "time": venue.now_ms(), "speed": venue.clock.speed,
                "stepped": venue.clock.stepped, "base_ms": venue.replay.base_ms,
                "symbols": venue.replay.symbols, "data_end": venue.replay.end_ms,
                "requests": sim.requests, "faults_injected": dict(sim.faults.injected),
                "over_limit": sim.over_limit, "accounts": len(venue.accounts),
            }
        )  # fmt: skip

    async def step(self, request: web.Request) -> web.Response:
        body = await _json(request)
        candles = int(body.get("candles", 1))
        if candles < 1:
            return web.json_response({"error": "candles must be >= 1"}, status=400)
        processed = self.sim.step(candles)
        return web.json_response({"time": self.sim.venue.now_ms(), "processed": processed})

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await _json(request)
        unknown = set(body) - _RULE_FIELDS
        if unknown:
            return web.json_response({"error": f"unknown fields {sorted(unknown)}"}, status=400)
        try:
            self.sim.faults.add(FaultRule(**body))
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sim.faults.clear()
        return web.json_response({"ok": True})


def add_routes(app: web.Application, sim: SimExchange) -> None:
    """Register the control endpoints of ``sim`` on ``app``."""
    api = ControlAPI(sim)
    app.router.add_get("/_sim/state", api.state)
    app.router.add_post("/_sim/step", api.step)
    app.router.add_post("/_sim/faults", api.add_fault)
    app.router.add_delete("/_sim/faults", api.clear_faults)


async def _json(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    if not text.strip():
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return value
